#![no_main]
//! A GraphQL document as any caller may send it, through the checks it
//! passes before the schema reads it: its bounds (operations, variables,
//! directives, selections with fragments expanded, depth), the operation
//! it runs, and the plan of its answer's order. Whatever the text, they
//! answer, within the time and memory of a small document: a fragment
//! spread twice at each of many levels must not be expanded.

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let limits = passerelle::config::Limits::default();
    let _ = passerelle::graphql::check_document(text, None, &limits);
});
