//! The client decoder over arbitrary replies to arbitrary requests: no panic, and split decoding agrees with whole decoding.
#![no_main]

#[path = "../../tests/support/fuzz_targets.rs"]
mod bodies;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    bodies::client_decoder(data);
});
