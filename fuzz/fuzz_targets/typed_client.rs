//! The typed client over a stream that plays back the input: every call ends, nothing panics.
#![no_main]

#[path = "../../tests/support/fuzz_targets.rs"]
mod bodies;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    bodies::typed_client(data);
});
