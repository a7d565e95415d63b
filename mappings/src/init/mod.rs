//! A first mapping file from a sample payload, for a person to finish:
//! the payload's format and where its records are (`sample`), each unified
//! field with the path whose values fit it best (`fit`), and the file
//! written with a test case taken from the sample (`write`).

mod fit;
mod sample;
mod write;

pub use sample::Sample;
pub use write::first_mapping;

#[cfg(test)]
mod tests;
