#![no_main]
//! A mapping file, as an operator writes it: parsed, then its test cases
//! run through the engine.

use libfuzzer_sys::fuzz_target;
use passerelle_mappings::Mapping;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(mapping) = Mapping::parse("fuzz.toml", text) {
        let _ = mapping.run_tests();
    }
});
