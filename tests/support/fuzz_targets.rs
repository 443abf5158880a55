//! The bodies of the fuzz targets, shared by the cargo-fuzz crate (`fuzz/`,
//! which includes this file by path) and the stable random-mutation test
//! (`tests/fuzz_stable.rs`), so both check exactly the same properties:
//!
//! - no input panics or hangs;
//! - decoding input fed in pieces of any size gives what decoding it whole
//!   gives (the decoders are incremental);
//! - the typed client over a stream that plays back the input ends every
//!   call, with an answer or an error.
//!
//! Each body reads its setup (which requests, how to split) from the first
//! bytes of the input and treats the rest as what the peer sent.

#![allow(dead_code)]

use std::collections::VecDeque;
use std::io;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Waker};

use bytes::BytesMut;
use futures_lite::io::{AsyncRead, AsyncWrite};
use memclient::proto::server::{Decoded, RequestDecoder};
use memclient::proto::{encode_request, ResponseDecoder};
use memclient::{Client, ClientOptions, Connection, Error, LruCrawler, Request, Response};

/// Request lines the client decoder is fed replies for, decoded by the
/// server decoder so that they are exactly the requests the client sends.
const REQUESTS: &[&[u8]] = &[
    b"get a\r\n",
    b"get a b c\r\n",
    b"gets a b\r\n",
    b"gat 10 a b\r\n",
    b"set a 0 0 1\r\nx\r\n",
    b"set a 0 0 1 noreply\r\nx\r\n",
    b"cas a 0 0 1 5\r\nx\r\n",
    b"delete a\r\n",
    b"incr a 1\r\n",
    b"touch a 10\r\n",
    b"stats\r\n",
    b"stats items\r\n",
    b"version\r\n",
    b"flush_all\r\n",
    b"verbosity 1\r\n",
    b"mg a v f c k t s\r\n",
    b"mg a v q k\r\n",
    b"ms a 1 T0 F3\r\nx\r\n",
    b"md a q\r\n",
    b"mn\r\n",
    b"ma a v N0 J5\r\n",
    b"me a\r\n",
    b"lru_crawler metadump all\r\n",
    b"mg YQ== b k v\r\n",
];

/// A small deterministic generator for the split points.
struct Splitter(u64);

impl Splitter {
    fn new(seed: u8) -> Splitter {
        Splitter(u64::from(seed).wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }

    /// The next piece length, 1 to 16 bytes, now and then larger.
    fn next(&mut self) -> usize {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        match self.0 % 8 {
            0 => 1 + (self.0 >> 8) as usize % 512,
            _ => 1 + (self.0 >> 8) as usize % 16,
        }
    }
}

/// One request decoded from its line.
fn request(line: &[u8]) -> Request {
    let mut buf = BytesMut::from(line);
    match RequestDecoder::new().decode(&mut buf) {
        Some(Decoded::Request(request)) => request,
        other => panic!(
            "{:?} is no request: {other:?}",
            line.escape_ascii().to_string()
        ),
    }
}

/// The requests an input asks for: its first byte gives how many (1 to 4),
/// the next ones which. Two `mg ... q` in a row make a meta batch.
fn requests(data: &[u8]) -> (Vec<Request>, &[u8]) {
    let Some((&count, rest)) = data.split_first() else {
        return (Vec::new(), data);
    };
    let count = 1 + usize::from(count % 4);
    let picks = &rest[..count.min(rest.len())];
    let mut requests: Vec<Request> = Vec::new();
    for &pick in picks {
        let chosen = request(REQUESTS[usize::from(pick) % REQUESTS.len()]);
        if pick & 0x80 != 0 {
            if let (Request::Meta(meta), Some(Request::Meta(last))) =
                (&chosen, requests.last().cloned())
            {
                *requests.last_mut().unwrap() = Request::MetaBatch(vec![last, meta.clone()]);
                continue;
            }
        }
        requests.push(chosen);
    }
    (requests, &rest[picks.len()..])
}

/// How one step of client decoding ended, protocol errors compared by kind
/// (their message quotes what was buffered, which depends on the split).
#[derive(Debug, PartialEq)]
enum Step {
    Reply(Result<Response, Error>),
    Incomplete,
    Broken,
}

fn client_steps(requests: &[Request], input: &[u8], splitter: Option<&mut Splitter>) -> Vec<Step> {
    let mut decoder = ResponseDecoder::new();
    let mut buf = BytesMut::new();
    let mut steps = Vec::new();
    let mut fed = 0;
    let mut splitter = splitter;
    let mut next = 0;
    loop {
        let Some(request) = requests.get(next) else {
            return steps;
        };
        match decoder.decode(request, &mut buf) {
            Ok(Some(reply)) => {
                steps.push(Step::Reply(reply));
                next += 1;
            }
            Ok(None) if fed < input.len() => {
                let take = match splitter.as_deref_mut() {
                    Some(splitter) => splitter.next().min(input.len() - fed),
                    None => input.len() - fed,
                };
                buf.extend_from_slice(&input[fed..fed + take]);
                fed += take;
            }
            Ok(None) => {
                steps.push(Step::Incomplete);
                return steps;
            }
            Err(Error::Protocol(_)) => {
                steps.push(Step::Broken);
                return steps;
            }
            Err(other) => panic!("the decoder failed with a non-protocol error: {other}"),
        }
    }
}

/// The client decoder over arbitrary replies to arbitrary requests.
/// Returns how many replies decoded (to show the input reached the decoder).
pub fn client_decoder(data: &[u8]) -> usize {
    let (requests, rest) = requests(data);
    let Some((&seed, input)) = rest.split_first() else {
        return 0;
    };
    let whole = client_steps(&requests, input, None);
    let split = client_steps(&requests, input, Some(&mut Splitter::new(seed)));
    assert_eq!(whole, split, "split decoding differs from whole decoding");
    whole
        .iter()
        .filter(|step| matches!(step, Step::Reply(_)))
        .count()
}

fn server_steps(input: &[u8], splitter: Option<&mut Splitter>) -> Vec<Decoded> {
    let mut decoder = RequestDecoder::new();
    let mut buf = BytesMut::new();
    let mut steps = Vec::new();
    let mut fed = 0;
    let mut splitter = splitter;
    loop {
        match decoder.decode(&mut buf) {
            Some(Decoded::Close) => {
                steps.push(Decoded::Close);
                return steps;
            }
            Some(decoded) => {
                if let Decoded::Request(request) = &decoded {
                    // Encoding what was decoded must not panic either.
                    encode_request(request, &mut BytesMut::new());
                }
                steps.push(decoded);
            }
            None if fed < input.len() => {
                let take = match splitter.as_deref_mut() {
                    Some(splitter) => splitter.next().min(input.len() - fed),
                    None => input.len() - fed,
                };
                buf.extend_from_slice(&input[fed..fed + take]);
                fed += take;
            }
            None => return steps,
        }
    }
}

/// The server decoder (the mock's) over arbitrary requests. Returns how
/// many requests decoded.
pub fn server_decoder(data: &[u8]) -> usize {
    let Some((&seed, input)) = data.split_first() else {
        return 0;
    };
    let whole = server_steps(input, None);
    let split = server_steps(input, Some(&mut Splitter::new(seed)));
    // One difference is memcached's own: a line over 2048 bytes that has
    // no line end *yet* closes the connection (unless it is a `get`), so a
    // long line that arrives in pieces closes where the whole line does not.
    // Up to that close, both decode the same.
    if split.last() == Some(&Decoded::Close) && whole != split {
        assert!(
            whole.starts_with(&split[..split.len() - 1]),
            "split decoding differs from whole decoding before it closed:\n whole: {whole:?}\n split: {split:?}"
        );
    } else {
        assert_eq!(whole, split, "split decoding differs from whole decoding");
    }
    whole
        .iter()
        .filter(|step| matches!(step, Decoded::Request(_)))
        .count()
}

/// A stream that plays back the server's side from the fuzzer's bytes, in
/// pieces, once the client has written something (or has gone).
struct Playback {
    state: Arc<Mutex<PlaybackState>>,
}

struct PlaybackState {
    replies: VecDeque<u8>,
    splitter: Splitter,
    /// The client wrote a request, or will write no more.
    released: bool,
    reader: Option<Waker>,
}

impl PlaybackState {
    fn release(&mut self) {
        self.released = true;
        if let Some(waker) = self.reader.take() {
            waker.wake();
        }
    }
}

impl AsyncRead for Playback {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        out: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        let mut state = self.state.lock().unwrap();
        if !state.released {
            state.reader = Some(cx.waker().clone());
            return Poll::Pending;
        }
        let take = state
            .splitter
            .next()
            .min(out.len())
            .min(state.replies.len());
        for (slot, byte) in out.iter_mut().zip(state.replies.drain(..take)) {
            *slot = byte;
        }
        Poll::Ready(Ok(take))
    }
}

impl AsyncWrite for Playback {
    fn poll_write(
        self: Pin<&mut Self>,
        _: &mut Context<'_>,
        bytes: &[u8],
    ) -> Poll<io::Result<usize>> {
        self.state.lock().unwrap().release();
        Poll::Ready(Ok(bytes.len()))
    }

    fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_close(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}

/// Runs typed call number `pick` on `client`; every outcome but a panic is
/// fine. True when it answered without an error.
async fn typed_call<B: memclient::Backend>(client: &Client<B>, pick: u8) -> bool {
    let outcome = match pick % 16 {
        0 => client.get("a").await.map(drop),
        1 => client.get_many(["a", "b", "c"]).await.map(drop),
        2 => client.gets("a").await.map(drop),
        3 => client.set("a", "x").await.map(drop),
        4 => client.incr("a", 1).await.map(drop),
        5 => client.delete("a").await.map(drop),
        6 => client
            .touch("a", std::time::Duration::from_secs(10))
            .await
            .map(drop),
        7 => client.stats::<&str>([]).await.map(drop),
        8 => client.version().await.map(drop),
        9 => client
            .meta_get("a")
            .cas()
            .ttl()
            .return_key()
            .await
            .map(drop),
        10 => client.meta_set("a", "x").await.map(drop),
        11 => client.meta_delete("a").await.map(drop),
        12 => client.meta_arithmetic("a").await.map(drop),
        13 => client
            .lru_crawler(LruCrawler::Metadump("all".into()))
            .await
            .map(drop),
        14 => client.gets_many(["a", "b"]).await.map(drop),
        _ => client.flush_all().await.map(drop),
    };
    outcome.is_ok()
}

/// The typed client over a connection whose server side plays back the
/// input: its first byte gives the calls (1 to 4, concurrent) and whether
/// keys are binary (sent as meta), the next ones which calls, then the seed
/// of the read sizes, then the server's bytes. Returns how many calls
/// answered without an error.
pub fn typed_client(data: &[u8]) -> usize {
    let Some((&setup, rest)) = data.split_first() else {
        return 0;
    };
    let count = 1 + usize::from(setup % 4);
    let picks = &rest[..count.min(rest.len())];
    let rest = &rest[picks.len()..];
    let Some((&seed, replies)) = rest.split_first() else {
        return 0;
    };
    let state = Arc::new(Mutex::new(PlaybackState {
        replies: replies.iter().copied().collect(),
        splitter: Splitter::new(seed),
        released: false,
        reader: None,
    }));
    let (connection, driver) = Connection::from_stream(Playback {
        state: state.clone(),
    });
    let options = ClientOptions::new().binary_keys(setup & 0x80 != 0);
    let client = Client::with_options(connection, memclient::serde::PyFlags, options)
        .expect("valid options");
    let (answered, ()) = futures_lite::future::block_on(futures_lite::future::zip(
        async {
            let answered =
                futures_util::future::join_all(picks.iter().map(|&pick| typed_call(&client, pick)))
                    .await;
            drop(client);
            state.lock().unwrap().release();
            answered.into_iter().filter(|&ok| ok).count()
        },
        driver,
    ));
    answered
}
