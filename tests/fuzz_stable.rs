//! The fuzz targets of `fuzz/` on stable Rust: seeded random mutations of
//! well-formed inputs, a bounded number per target (`MEMCLIENT_FUZZ_INPUTS`,
//! default 50,000), through the same bodies (tests/support/fuzz_targets.rs).
//! No input may panic or hang; split decoding must agree with whole decoding.

#[path = "support/fuzz_targets.rs"]
mod targets;

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::mpsc;
use std::time::Duration;

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

/// An input that takes longer than this hangs.
const HANG: Duration = Duration::from_secs(10);

/// Replies a server sends, whole.
const REPLIES: &[&[u8]] = &[
    b"VALUE a 0 1\r\nx\r\nEND\r\n",
    b"VALUE a 5 3 77\r\nxyz\r\nVALUE b 0 0 78\r\n\r\nEND\r\n",
    b"END\r\n",
    b"STORED\r\n",
    b"NOT_STORED\r\n",
    b"EXISTS\r\n",
    b"NOT_FOUND\r\n",
    b"DELETED\r\n",
    b"TOUCHED\r\n",
    b"OK\r\n",
    b"42\r\n",
    b"VERSION 1.6.18\r\n",
    b"STAT pid 1\r\nSTAT uptime 5\r\nEND\r\n",
    b"ERROR\r\n",
    b"CLIENT_ERROR bad command line format\r\n",
    b"SERVER_ERROR object too large for cache\r\n",
    b"VA 1 f0 c5 t-1 s1 k a\r\nx\r\n",
    b"VA 2 b k YQ==\r\nhi\r\n",
    b"HD\r\n",
    b"HD c7\r\n",
    b"NS\r\n",
    b"EX\r\n",
    b"NF\r\n",
    b"EN\r\n",
    b"MN\r\n",
    b"ME a exp=-1 la=1 cas=2 fetch=no cls=1 size=63\r\n",
    b"key=a exp=-1 la=1 cas=2 fetch=no cls=1 size=63\r\nEND\r\n",
];

/// Requests a client sends, whole.
const REQUEST_LINES: &[&[u8]] = &[
    b"get a b c\r\n",
    b"gets a\r\n",
    b"gat 10 a\r\n",
    b"set a 0 0 1\r\nx\r\n",
    b"cas a 1 2 3 4 noreply\r\nxyz\r\n",
    b"append a 0 0 2\r\nxy\r\n",
    b"incr a 5\r\n",
    b"decr a 5 noreply\r\n",
    b"delete a\r\n",
    b"touch a 5\r\n",
    b"stats slabs\r\n",
    b"flush_all 10\r\n",
    b"version\r\n",
    b"mg a v f c t k O123 q\r\n",
    b"ms a 3 T10 F5 MS I\r\nabc\r\n",
    b"md a I T30 q\r\n",
    b"ma a N0 J1 D5 MI v\r\n",
    b"mn\r\n",
    b"me a\r\n",
    b"lru_crawler metadump all\r\n",
    b"quit\r\n",
];

/// Pieces that steer mutations toward the interesting corners.
const TOKENS: &[&[u8]] = &[
    b"\r\n",
    b"\n",
    b" ",
    b"VALUE ",
    b"END\r\n",
    b"STAT ",
    b"VA ",
    b"MN\r\n",
    b"1000000000",
    b"18446744073709551616",
    b"-1",
    b"noreply",
    b" q",
    b"\0",
    b"\xff",
];

fn inputs_per_target() -> usize {
    std::env::var("MEMCLIENT_FUZZ_INPUTS")
        .ok()
        .and_then(|n| n.replace(['_', ','], "").parse().ok())
        .unwrap_or(50_000)
}

/// Typed calls (their number in the typed target) and a reply that answers them.
const TYPED: &[(u8, &[u8])] = &[
    (0, b"VALUE a 16 1\r\nx\r\nEND\r\n"),
    (1, b"VALUE a 0 1\r\nx\r\nVALUE c 0 1\r\nz\r\nEND\r\n"),
    (2, b"VALUE a 0 1 9\r\nx\r\nEND\r\n"),
    (3, b"STORED\r\n"),
    (4, b"42\r\n"),
    (5, b"DELETED\r\n"),
    (6, b"TOUCHED\r\n"),
    (7, b"STAT pid 1\r\nSTAT uptime 5\r\nEND\r\n"),
    (8, b"VERSION 1.6.18\r\n"),
    (9, b"VA 1 f0 c5 t-1 ka\r\nx\r\n"),
    (10, b"HD\r\n"),
    (11, b"HD\r\n"),
    (12, b"HD\r\n"),
    (
        13,
        b"key=a exp=-1 la=1 cas=2 fetch=no cls=1 size=63\r\nEND\r\n",
    ),
    (14, b"VALUE a 0 1 9\r\nx\r\nEND\r\n"),
    (15, b"OK\r\n"),
];

/// Requests (their number in the client-decoder target) and a reply to each.
const CLIENT: &[(u8, &[u8])] = &[
    (0, b"VALUE a 0 1\r\nx\r\nEND\r\n"),
    (1, b"VALUE a 0 1\r\nx\r\nVALUE c 3 2\r\nzz\r\nEND\r\n"),
    (2, b"VALUE b 0 1 7\r\nx\r\nEND\r\n"),
    (3, b"END\r\n"),
    (4, b"STORED\r\n"),
    (5, b""),
    (6, b"EXISTS\r\n"),
    (7, b"NOT_FOUND\r\n"),
    (8, b"42\r\n"),
    (9, b"TOUCHED\r\n"),
    (10, b"STAT pid 1\r\nSTAT uptime 5\r\nEND\r\n"),
    (11, b"STAT items:1:number 1\r\nEND\r\n"),
    (12, b"VERSION 1.6.18\r\n"),
    (13, b"OK\r\n"),
    (14, b"OK\r\n"),
    (15, b"VA 1 f0 c5 ka t-1 s1\r\nx\r\n"),
    (16, b"VA 1 ka\r\nx\r\n"),
    (17, b"HD\r\n"),
    (18, b"NF\r\n"),
    (19, b"MN\r\n"),
    (20, b"VA 2\r\n42\r\n"),
    (21, b"ME a exp=-1 la=1 cas=2 fetch=no cls=1 size=63\r\n"),
    (
        22,
        b"key=a exp=-1 la=1 cas=2 fetch=no cls=1 size=63\r\nEND\r\n",
    ),
    (23, b"VA 1 b kYQ==\r\nx\r\n"),
    (10, b"SERVER_ERROR out of memory\r\n"),
    (0, b"CLIENT_ERROR bad command line format\r\n"),
];

/// A seed of a target that starts with a call count and picks: one to
/// four of `table`'s entries, a split seed, their replies in order.
fn paired_seed(rng: &mut StdRng, table: &[(u8, &[u8])]) -> Vec<u8> {
    let calls: Vec<&(u8, &[u8])> = (0..rng.gen_range(1..=4))
        .map(|_| &table[rng.gen_range(0..table.len())])
        .collect();
    let mut input = vec![calls.len() as u8 - 1];
    input.extend(calls.iter().map(|(pick, _)| pick));
    input.push(rng.gen());
    for (_, reply) in calls {
        input.extend_from_slice(reply);
    }
    input
}

fn client_seed(rng: &mut StdRng, _: usize, _: &[&[u8]]) -> Vec<u8> {
    paired_seed(rng, CLIENT)
}

/// A seed input: `setup` random bytes, then one to three pieces.
fn seed(rng: &mut StdRng, setup: usize, pieces: &[&[u8]]) -> Vec<u8> {
    let mut input: Vec<u8> = (0..setup).map(|_| rng.gen()).collect();
    for _ in 0..rng.gen_range(1..=3) {
        input.extend_from_slice(pieces[rng.gen_range(0..pieces.len())]);
    }
    input
}

/// A typed-client seed: one to four calls (text keys) and their replies.
fn typed_seed(rng: &mut StdRng, _: usize, _: &[&[u8]]) -> Vec<u8> {
    paired_seed(rng, TYPED)
}

/// One to four random edits of `input`.
fn mutate(rng: &mut StdRng, mut input: Vec<u8>, pieces: &[&[u8]]) -> Vec<u8> {
    for _ in 0..rng.gen_range(1..=4) {
        let at = rng.gen_range(0..=input.len());
        match rng.gen_range(0..7) {
            0 if !input.is_empty() => {
                let i = rng.gen_range(0..input.len());
                input[i] ^= 1 << rng.gen_range(0..8);
            }
            1 if !input.is_empty() => {
                let i = rng.gen_range(0..input.len());
                input[i] = rng.gen();
            }
            2 => {
                let token = TOKENS[rng.gen_range(0..TOKENS.len())];
                input.splice(at..at, token.iter().copied());
            }
            3 if at < input.len() => {
                let end = rng.gen_range(at..=input.len().min(at + 16));
                input.drain(at..end);
            }
            4 if at < input.len() => {
                let end = rng.gen_range(at..=input.len().min(at + 64));
                let copy = input[at..end].to_vec();
                input.splice(at..at, copy);
            }
            5 => {
                let piece = pieces[rng.gen_range(0..pieces.len())];
                input.splice(at..at, piece.iter().copied());
            }
            _ => input.truncate(at),
        }
    }
    input
}

/// Runs `body` over seeded mutations, on a thread watched for hangs; a
/// failure names the input.
type Seeder = fn(&mut StdRng, usize, &[&[u8]]) -> Vec<u8>;

fn fuzz(
    name: &'static str,
    body: fn(&[u8]) -> usize,
    (seed, setup): (Seeder, usize),
    pieces: &'static [&'static [u8]],
) {
    let inputs = inputs_per_target();
    let (beat, heartbeat) = mpsc::channel::<()>();
    let worker = std::thread::spawn(move || {
        let mut rng = StdRng::seed_from_u64(0x5EED ^ name.len() as u64);
        let mut decoded = 0;
        for n in 0..inputs {
            let input = seed(&mut rng, setup, pieces);
            let input = if n % 8 == 0 {
                input
            } else {
                mutate(&mut rng, input, pieces)
            };
            match catch_unwind(AssertUnwindSafe(|| body(&input))) {
                Ok(count) => decoded += usize::from(count > 0),
                Err(panic) => {
                    eprintln!(
                        "{name}: input {n} failed: {:?}",
                        input.escape_ascii().to_string()
                    );
                    std::panic::resume_unwind(panic);
                }
            }
            let _ = beat.send(());
        }
        decoded
    });
    loop {
        match heartbeat.recv_timeout(HANG) {
            Ok(()) => {}
            Err(mpsc::RecvTimeoutError::Disconnected) => break,
            Err(mpsc::RecvTimeoutError::Timeout) => {
                panic!("{name}: an input ran for over {HANG:?}: a hang")
            }
        }
    }
    let decoded = worker
        .join()
        .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
    eprintln!("{name}: {inputs} inputs, {decoded} gave at least one answer");
    // Inputs that never reach a decoded answer would test only the error paths.
    assert!(
        decoded * 10 >= inputs,
        "{name}: only {decoded} of {inputs} inputs gave an answer: the inputs miss the decoder"
    );
}

#[test]
fn client_decoder_takes_any_reply_and_splits_agree() {
    fuzz(
        "client_decoder",
        targets::client_decoder,
        (client_seed, 0),
        REPLIES,
    );
}

#[test]
fn server_decoder_takes_any_request_and_splits_agree() {
    fuzz(
        "server_decoder",
        targets::server_decoder,
        (seed, 1),
        REQUEST_LINES,
    );
}

#[test]
fn typed_client_over_a_playback_stream_ends_every_call() {
    fuzz(
        "typed_client",
        targets::typed_client,
        (typed_seed, 0),
        REPLIES,
    );
}

/// Found by libFuzzer: a long line in pieces closes the connection (as
/// memcached does) where the whole line is answered `ERROR`; both must agree
/// on everything before.
#[test]
fn server_decoder_closes_on_a_long_line_in_pieces_only() {
    let mut input = vec![7u8];
    input.extend_from_slice(b"get a\r\n");
    input.extend(std::iter::repeat(b'x').take(3000));
    input.extend_from_slice(b"\r\nget e\r\n");
    assert_eq!(
        targets::server_decoder(&input),
        2,
        "whole: both gets decode"
    );
}
