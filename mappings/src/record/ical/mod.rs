//! iCalendar payloads read into records. The document is unfolded as
//! octets (`unfold`); when some of its lines cannot be read, they are
//! mended so that each refuses its component alone (`mend`); each
//! component of the name asked is read as a record (`records`), its TEXT
//! values unescaped once (`text`) and its dates given in UTC in the zones
//! its `TZID`s name (`zones`).

mod mend;
mod records;
#[cfg(test)]
mod tests;
mod text;
mod unfold;
mod zones;

pub use records::ical_records;
pub use unfold::{ical_decode, IcalText};
