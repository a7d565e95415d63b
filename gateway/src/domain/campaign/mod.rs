//! The taxe d'apprentissage campaign: allocations that OPCOs push, stored
//! durably and idempotently, and the figures the Région reads.

pub mod figures;
pub mod ingest;
pub use passerelle_mappings::allocations as formats;

mod push;
mod upload;

pub use formats::{Format, FormatError};
pub use ingest::{begin, Begun, IngestError, IngestReport};
pub use push::{campaign_year, push, pushing_opco, BatchError, WRITE_SCOPE};
pub use upload::ingest_upload;
