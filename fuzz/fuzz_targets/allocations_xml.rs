#![no_main]
//! An allocation upload in Xml, read to its end.

use libfuzzer_sys::fuzz_target;
use passerelle_mappings::allocations::Format;

fuzz_target!(|data: &[u8]| {
    passerelle_fuzz::read_upload(Format::Xml, data);
});
