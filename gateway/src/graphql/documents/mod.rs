//! What a request's document is before anything runs: its bounds and the
//! operation it runs (`shape`), the order of its answer (`order`), and
//! what introspection answers as this gateway means it (`introspection`).

pub mod introspection;
pub mod order;
pub mod shape;
