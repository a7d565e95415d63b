//! The GraphQL API: one schema over every partner.
//!
//! Its rooms, each using only those before it (checked by
//! `gateway/tests/rooms.rs`), so that a resolver sits beside its types:
//! `common` (errors, identifiers, scalars, inputs, places, the page shape,
//! the state resolvers reach), then what the API serves — `occupations`
//! (the ROME referential and its search), `programmes`,
//! `events`, `mobility`, `offers`, `partners`, `public_sector`, `cfas`,
//! `region`, `campaign`, `alerts`, `entities` (Relay's `node` and
//! Federation's `_entities`) — then `documents` (what a request's document
//! costs, how its answer is ordered, what introspection answers), `schema`
//! (the roots gathered and the SDL), `reference` (the book's page of it)
//! and `transports` (GraphQL over HTTP,
//! graphql-ws and Server-Sent Events, behind one admission).

pub mod common;

mod occupations;

mod programmes;

mod events;

mod mobility;

mod offers;

mod partners;

mod public_sector;

mod cfas;

mod region;

mod campaign;

pub mod alerts;

mod entities;

pub mod documents;

mod schema;

pub mod reference;

pub mod transports;

pub use common::errors::ErrorCode;
pub use common::ids::GlobalId;
pub use common::{notices, ApiState};
pub use documents::introspection;
pub use entities::EntityMemo;
pub use schema::{
    build_schema, check_document, federation_sdl, sdl, subgraph_sdl, PasserelleSchema, Query,
};
