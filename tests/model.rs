//! Model tests: the same random command sequences, through the real `Client`,
//! against (a) a real memcached, (b) the mock over its in-memory stream and
//! (c) the mock as a direct backend. All three must answer alike.
//!
//! `MEMCLIENT_MODEL_TESTS` sets the number of sequences (200 by default).
#![cfg(feature = "smol")]

mod support;

use std::collections::HashSet;
use std::fmt;
use std::time::{Duration, SystemTime};

use bytes::Bytes;
use memclient::serde::Serde;
use memclient::{
    Backend, CasOutcome, Client, ClientOptions, Connection, Error, MetaWrite, MultiGet, SetMode,
};
use memclient_mock::MockMemcache;
use quickcheck::{Arbitrary, Gen, QuickCheck, TestResult};
use support::Memcached;

/// Values are stored and read as `(data, flags)`: the flags are part of what
/// the servers must agree on.
struct Item;

impl Serde for Item {
    type Value = (Bytes, u32);

    fn serialize(&self, _key: &[u8], value: &(Bytes, u32)) -> memclient::Result<(Bytes, u32)> {
        Ok(value.clone())
    }

    fn deserialize(&self, _key: &[u8], data: Bytes, flags: u32) -> memclient::Result<(Bytes, u32)> {
        Ok((data, flags))
    }
}

/// A key of the small pool (so commands collide), or an invalid one.
#[derive(Clone, Debug, PartialEq)]
enum Key {
    Pool(u8),
    Invalid(&'static str),
}

impl Key {
    fn text(&self) -> String {
        match self {
            Key::Pool(n) => format!("k{n}"),
            Key::Invalid(text) => text.to_string(),
        }
    }
}

const INVALID_KEYS: &[&str] = &["two words", "line\r\nflush_all", "", "tab\tkey"];

impl Arbitrary for Key {
    fn arbitrary(g: &mut Gen) -> Key {
        if u8::arbitrary(g) % 20 == 0 {
            Key::Invalid(g.choose(INVALID_KEYS).unwrap())
        } else {
            Key::Pool(u8::arbitrary(g) % 4)
        }
    }
}

/// When an item expires, as the tests set it.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Expiry {
    Never,
    Past,
    Hour,
    BeyondThirtyDays,
}

impl Expiry {
    fn ttl(self) -> memclient::Ttl {
        match self {
            Expiry::Never => memclient::Ttl::Never,
            Expiry::Past => (SystemTime::now() - Duration::from_secs(10)).into(),
            Expiry::Hour => Duration::from_secs(3600).into(),
            Expiry::BeyondThirtyDays => Duration::from_secs(40 * 24 * 3600).into(),
        }
    }
}

impl Arbitrary for Expiry {
    fn arbitrary(g: &mut Gen) -> Expiry {
        *g.choose(&[
            Expiry::Never,
            Expiry::Never,
            Expiry::Never,
            Expiry::Past,
            Expiry::Hour,
            Expiry::BeyondThirtyDays,
        ])
        .unwrap()
    }
}

/// A value: interesting bytes, and now and then one near the item size limit.
#[derive(Clone, PartialEq)]
struct Data(Bytes);

impl fmt::Debug for Data {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.len() > 40 {
            write!(f, "<{} bytes>", self.0.len())
        } else {
            write!(f, "{:?}", self.0)
        }
    }
}

impl Arbitrary for Data {
    fn arbitrary(g: &mut Gen) -> Data {
        let pieces: &[&[u8]] = &[
            b"",
            b"1",
            b"42",
            b"18446744073709551615",
            b"END\r\n",
            b"\r\n",
            b"VALUE k0 0 1\r\nx\r\nEND\r\n",
            b" 7",
            b"abc",
        ];
        let data = match u8::arbitrary(g) % 10 {
            0 => {
                // Around memcached's 1 MiB item limit (with overhead), on both sides.
                let size = 1_048_400 + usize::arbitrary(g) % 200;
                Bytes::from(vec![b'x'; size])
            }
            1..=3 => Bytes::from(Vec::<u8>::arbitrary(g)),
            _ => Bytes::from_static(g.choose(pieces).unwrap()),
        };
        Data(data)
    }

    fn shrink(&self) -> Box<dyn Iterator<Item = Data>> {
        if self.0.is_empty() {
            return Box::new(std::iter::empty());
        }
        Box::new(std::iter::once(Data(Bytes::new())))
    }
}

/// One step of a sequence.
#[derive(Clone, Debug)]
enum Command {
    Get(Key),
    GetMany(Vec<Key>),
    Gets(Key),
    Store {
        op: StoreOp,
        key: Key,
        data: Data,
        flags: u32,
        expiry: Expiry,
        noreply: bool,
    },
    /// `cas` with the n-th cas token seen so far (or a stale one if none).
    Cas {
        key: Key,
        data: Data,
        token: usize,
        noreply: bool,
    },
    Delete {
        key: Key,
        noreply: bool,
    },
    Incr {
        key: Key,
        delta: u64,
        noreply: bool,
    },
    Decr {
        key: Key,
        delta: u64,
        noreply: bool,
    },
    Touch {
        key: Key,
        expiry: Expiry,
        noreply: bool,
    },
    Gat(Key, Expiry),
    Gats(Key, Expiry),
    FlushAll,
    /// `get_many` through quiet `mg` batches, on a client with binary keys.
    GetManyMeta(Vec<Key>),
    MetaGet {
        key: Key,
        cas: bool,
        hit_before: bool,
        size: bool,
        no_bump: bool,
        vivify: Option<Expiry>,
        recache: bool,
        touch: Option<Expiry>,
        quiet: bool,
    },
    MetaSet {
        key: Key,
        data: Data,
        flags: u32,
        mode: SetMode,
        expiry: Expiry,
        compare: Option<usize>,
        invalidate: bool,
        quiet: bool,
    },
    MetaDelete {
        key: Key,
        compare: Option<usize>,
        invalidate: bool,
        quiet: bool,
    },
    MetaArith {
        key: Key,
        delta: u64,
        decrement: bool,
        vivify: Option<u64>,
        quiet: bool,
    },
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum StoreOp {
    Set,
    Add,
    Replace,
    Append,
    Prepend,
}

impl Arbitrary for Command {
    fn arbitrary(g: &mut Gen) -> Command {
        // A third of the steps are meta commands, mixed with the classic ones.
        if u8::arbitrary(g) % 3 == 0 {
            return meta_command(g);
        }
        let key = Key::arbitrary(g);
        let noreply = u8::arbitrary(g) % 4 == 0;
        let delta = *g.choose(&[0, 1, 5, u64::MAX]).unwrap();
        match u8::arbitrary(g) % 16 {
            0 | 1 => Command::Get(key),
            2 => Command::GetMany(
                (0..1 + usize::arbitrary(g) % 5)
                    .map(|_| Key::arbitrary(g))
                    .collect(),
            ),
            3 => Command::Gets(key),
            4..=8 => Command::Store {
                op: *g
                    .choose(&[
                        StoreOp::Set,
                        StoreOp::Set,
                        StoreOp::Add,
                        StoreOp::Replace,
                        StoreOp::Append,
                        StoreOp::Prepend,
                    ])
                    .unwrap(),
                key,
                data: Data::arbitrary(g),
                flags: *g.choose(&[0, 1, 2, 16, u32::MAX]).unwrap(),
                expiry: Expiry::arbitrary(g),
                noreply,
            },
            9 => Command::Cas {
                key,
                data: Data::arbitrary(g),
                token: usize::arbitrary(g) % 4,
                noreply,
            },
            10 => Command::Delete { key, noreply },
            11 => Command::Incr {
                key,
                delta,
                noreply,
            },
            12 => Command::Decr {
                key,
                delta,
                noreply,
            },
            13 => Command::Touch {
                key,
                expiry: Expiry::arbitrary(g),
                noreply,
            },
            14 => {
                if bool::arbitrary(g) {
                    Command::Gat(key, Expiry::arbitrary(g))
                } else {
                    Command::Gats(key, Expiry::arbitrary(g))
                }
            }
            _ => {
                if u8::arbitrary(g) % 4 == 0 {
                    Command::FlushAll
                } else {
                    Command::Get(key)
                }
            }
        }
    }

    fn shrink(&self) -> Box<dyn Iterator<Item = Command>> {
        match self {
            Command::Store {
                op,
                key,
                data,
                flags,
                expiry,
                noreply,
            } => {
                let (op, key, flags, expiry, noreply) =
                    (*op, key.clone(), *flags, *expiry, *noreply);
                Box::new(data.shrink().map(move |data| Command::Store {
                    op,
                    key: key.clone(),
                    data,
                    flags,
                    expiry,
                    noreply,
                }))
            }
            _ => Box::new(std::iter::empty()),
        }
    }
}

fn meta_command(g: &mut Gen) -> Command {
    let key = Key::arbitrary(g);
    let quiet = u8::arbitrary(g) % 4 == 0;
    let maybe_expiry = |g: &mut Gen| (u8::arbitrary(g) % 3 == 0).then(|| Expiry::arbitrary(g));
    let maybe_token = |g: &mut Gen| (u8::arbitrary(g) % 3 == 0).then(|| usize::arbitrary(g) % 4);
    match u8::arbitrary(g) % 5 {
        0 => Command::GetManyMeta(
            (0..1 + usize::arbitrary(g) % 5)
                .map(|_| Key::arbitrary(g))
                .collect(),
        ),
        1 => Command::MetaGet {
            key,
            cas: bool::arbitrary(g),
            hit_before: bool::arbitrary(g),
            size: bool::arbitrary(g),
            no_bump: u8::arbitrary(g) % 4 == 0,
            vivify: maybe_expiry(g).filter(|e| *e != Expiry::Past),
            recache: u8::arbitrary(g) % 4 == 0,
            touch: maybe_expiry(g),
            quiet,
        },
        2 => Command::MetaSet {
            key,
            data: Data::arbitrary(g),
            flags: *g.choose(&[0, 1, 16, u32::MAX]).unwrap(),
            mode: *g
                .choose(&[
                    SetMode::Set,
                    SetMode::Set,
                    SetMode::Add,
                    SetMode::Replace,
                    SetMode::Append,
                    SetMode::Prepend,
                ])
                .unwrap(),
            expiry: Expiry::arbitrary(g),
            compare: maybe_token(g),
            invalidate: u8::arbitrary(g) % 5 == 0,
            quiet,
        },
        3 => Command::MetaDelete {
            key,
            compare: maybe_token(g),
            invalidate: bool::arbitrary(g),
            quiet,
        },
        _ => Command::MetaArith {
            key,
            delta: *g.choose(&[0, 1, 5, u64::MAX]).unwrap(),
            decrement: bool::arbitrary(g),
            vivify: (u8::arbitrary(g) % 3 == 0).then(|| *g.choose(&[0, 7, u64::MAX]).unwrap()),
            quiet,
        },
    }
}

/// What a caller observes, with cas tokens replaced by the order they were
/// first seen in (real and mock servers number them differently).
#[derive(Debug, PartialEq)]
enum Outcome {
    Value(Option<(Data, u32)>),
    Values(Vec<(String, Data, u32)>),
    WithCas(Option<(Data, u32, usize)>),
    Stored(bool),
    Cas(CasOutcome),
    Number(Option<u64>),
    Done(bool),
    Failed(String),
    /// Not run: memcached's answer is undefined (see `undefined_number`).
    UndefinedInMemcached,
    MetaItem(Option<MetaSeen>),
    MetaWrite(MetaWrite, Option<usize>),
    MetaCounter(MetaWrite, Option<u64>),
}

/// What `mg` showed of an item (cas tokens by order of issue).
#[derive(Debug, PartialEq)]
struct MetaSeen {
    value: Option<(Data, Option<u32>)>,
    cas: Option<usize>,
    hit_before: Option<bool>,
    size: Option<usize>,
    won: bool,
    stale: bool,
    win_sent: bool,
}

/// True when memcached 1.6.18's answer to `incr`/`decr` on `key` depends on
/// the memory that happens to follow the value, so it cannot be compared:
/// - an empty or all-whitespace value: memcached skips the whitespace and
///   parses on past the end of the value;
/// - a number of 2^63 or more: memcached then looks for a minus sign with
///   `strchr`, which runs past the value (it is not NUL-terminated) until a
///   zero byte, and calls the value non-numeric if it meets a `-` on the way.
///
/// The mock answers as the protocol says (non-numeric for blanks, the sum for
/// big numbers); the step is skipped on every target.
async fn undefined_number<B: Backend>(client: &Client<B, Item>, key: &Key) -> bool {
    match client.get(key.text()).await {
        Ok(Some((data, _))) => {
            let text = String::from_utf8_lossy(&data);
            let blank = text.trim().is_empty();
            let huge = text.trim().parse::<u64>().is_ok_and(|n| n >= 1 << 63);
            blank || huge
        }
        _ => false,
    }
}

fn failed(error: Error) -> Outcome {
    // The kind and the server's words must match; I/O details cannot.
    Outcome::Failed(match error {
        Error::IllegalInput(_) => "illegal input".into(),
        Error::Client(message) => format!("CLIENT_ERROR {message}"),
        Error::Server(message) => format!("SERVER_ERROR {message}"),
        Error::UnknownCommand(message) => format!("ERROR {message}"),
        other => format!("unexpected: {other}"),
    })
}

/// The cas unique of the n-th token seen, or one never issued (stale everywhere).
fn token_value(tokens: &[u64], n: usize) -> u64 {
    tokens
        .get(n % tokens.len().max(1))
        .copied()
        .unwrap_or(u64::MAX - 1)
}

/// Runs one sequence and records what the caller saw.
async fn run<B: Backend>(
    client: &Client<B, Item>,
    meta: &Client<B, Item>,
    commands: &[Command],
) -> Vec<Outcome> {
    let mut tokens: Vec<u64> = Vec::new();
    let number = |token: u64, tokens: &mut Vec<u64>| match tokens.iter().position(|&t| t == token) {
        Some(index) => index,
        None => {
            tokens.push(token);
            tokens.len() - 1
        }
    };
    // Keys whose value `incr`/`decr` rewrote since it was last stored whole.
    // When a shrinking incr pads the number with spaces in place, and when it
    // stores the short number instead, depends on the item's reference count
    // inside memcached (an LRU bump queued for its maintainer thread holds
    // one), so it is a matter of timing: such values are compared without
    // their spaces.
    let mut rewritten: HashSet<String> = HashSet::new();
    let seen = |key: &str, data: Bytes, rewritten: &HashSet<String>| {
        if rewritten.contains(key) {
            Data(
                data.iter()
                    .copied()
                    .filter(|&b| b != b' ')
                    .collect::<Vec<u8>>()
                    .into(),
            )
        } else {
            Data(data)
        }
    };
    let mut outcomes = Vec::with_capacity(commands.len());
    for command in commands {
        match command {
            Command::Incr { key, .. }
            | Command::Decr { key, .. }
            | Command::MetaArith { key, .. } => {
                rewritten.insert(key.text());
            }
            Command::Store {
                op: StoreOp::Set,
                key,
                ..
            } => {
                rewritten.remove(&key.text());
            }
            Command::FlushAll => rewritten.clear(),
            _ => {}
        }
        let outcome = match command {
            Command::Get(key) => match client.get(key.text()).await {
                Ok(value) => Outcome::Value(
                    value.map(|(data, flags)| (seen(&key.text(), data, &rewritten), flags)),
                ),
                Err(error) => failed(error),
            },
            Command::GetMany(keys) | Command::GetManyMeta(keys) => {
                let reader = if matches!(command, Command::GetMany(_)) {
                    client
                } else {
                    meta
                };
                match reader.get_many(keys.iter().map(Key::text)).await {
                    Ok(found) => {
                        let mut values: Vec<_> = found
                            .into_iter()
                            .map(|(key, (data, flags))| {
                                let key = String::from_utf8_lossy(&key).into_owned();
                                let data = seen(&key, data, &rewritten);
                                (key, data, flags)
                            })
                            .collect();
                        values.sort_by(|a, b| a.0.cmp(&b.0));
                        Outcome::Values(values)
                    }
                    Err(error) => failed(error),
                }
            }
            Command::Gets(key) | Command::Gats(key, _) => {
                let result = match command {
                    Command::Gats(_, expiry) => client.gats(key.text(), expiry.ttl()).await,
                    _ => client.gets(key.text()).await,
                };
                match result {
                    Ok(value) => Outcome::WithCas(value.map(|((data, flags), cas)| {
                        (
                            seen(&key.text(), data, &rewritten),
                            flags,
                            number(cas, &mut tokens),
                        )
                    })),
                    Err(error) => failed(error),
                }
            }
            Command::Gat(key, expiry) => match client.gat(key.text(), expiry.ttl()).await {
                Ok(value) => Outcome::Value(
                    value.map(|(data, flags)| (seen(&key.text(), data, &rewritten), flags)),
                ),
                Err(error) => failed(error),
            },
            Command::Store {
                op,
                key,
                data,
                flags,
                expiry,
                noreply,
            } => {
                let value = (data.0.clone(), *flags);
                let call = match op {
                    StoreOp::Set => client.set(key.text(), value),
                    StoreOp::Add => client.add(key.text(), value),
                    StoreOp::Replace => client.replace(key.text(), value),
                    StoreOp::Append => client.append(key.text(), value),
                    StoreOp::Prepend => client.prepend(key.text(), value),
                };
                match call.ttl(expiry.ttl()).noreply(*noreply).await {
                    Ok(stored) => Outcome::Stored(stored),
                    Err(error) => failed(error),
                }
            }
            Command::Cas {
                key,
                data,
                token,
                noreply,
            } => {
                // A token never issued is stale on every server.
                let unique = tokens
                    .get(*token % tokens.len().max(1))
                    .copied()
                    .unwrap_or(u64::MAX - 1);
                match client
                    .cas(key.text(), (data.0.clone(), 0), unique)
                    .noreply(*noreply)
                    .await
                {
                    Ok(outcome) => Outcome::Cas(outcome),
                    Err(error) => failed(error),
                }
            }
            Command::Delete { key, noreply } => {
                match client.delete(key.text()).noreply(*noreply).await {
                    Ok(deleted) => Outcome::Done(deleted),
                    Err(error) => failed(error),
                }
            }
            Command::Incr { key, .. }
            | Command::Decr { key, .. }
            | Command::MetaArith { key, .. }
                if undefined_number(meta, key).await =>
            {
                Outcome::UndefinedInMemcached
            }
            Command::Incr {
                key,
                delta,
                noreply,
            } => match client.incr(key.text(), *delta).noreply(*noreply).await {
                Ok(value) => Outcome::Number(value),
                Err(error) => failed(error),
            },
            Command::Decr {
                key,
                delta,
                noreply,
            } => match client.decr(key.text(), *delta).noreply(*noreply).await {
                Ok(value) => Outcome::Number(value),
                Err(error) => failed(error),
            },
            Command::Touch {
                key,
                expiry,
                noreply,
            } => match client
                .touch(key.text(), expiry.ttl())
                .noreply(*noreply)
                .await
            {
                Ok(touched) => Outcome::Done(touched),
                Err(error) => failed(error),
            },
            Command::FlushAll => match client.flush_all().await {
                Ok(()) => Outcome::Done(true),
                Err(error) => failed(error),
            },
            Command::MetaGet {
                key,
                cas,
                hit_before,
                size,
                no_bump,
                vivify,
                recache,
                touch,
                quiet,
            } => {
                let mut call = meta.meta_get(key.text());
                if *cas {
                    call = call.cas();
                }
                if *hit_before {
                    call = call.hit_before();
                }
                if *size {
                    call = call.size();
                }
                if *no_bump {
                    call = call.no_bump();
                }
                if let Some(expiry) = vivify {
                    call = call.vivify(expiry.ttl());
                }
                if *recache {
                    call = call.recache(Duration::from_secs(30));
                }
                if let Some(expiry) = touch {
                    call = call.touch(expiry.ttl());
                }
                if *quiet {
                    call = call.quiet();
                }
                match call.await {
                    Ok(item) => Outcome::MetaItem(item.map(|item| {
                        // After incr/decr memcached edits the item in place or
                        // replaces it with a fresh one (never fetched, not stale,
                        // no win sent, not padded), by the same timing as the
                        // space padding (see `rewritten`): those marks are unknowable.
                        let known = !rewritten.contains(&key.text());
                        MetaSeen {
                            value: item
                                .value
                                .map(|(data, _)| (seen(&key.text(), data, &rewritten), item.flags)),
                            cas: item.cas.map(|cas| number(cas, &mut tokens)),
                            hit_before: item.hit_before.filter(|_| known),
                            size: item.size.filter(|_| known),
                            won: item.won && known,
                            stale: item.stale && known,
                            win_sent: item.win_sent && known,
                        }
                    })),
                    Err(error) => failed(error),
                }
            }
            Command::MetaSet {
                key,
                data,
                flags,
                mode,
                expiry,
                compare,
                invalidate,
                quiet,
            } => {
                let mut call = meta
                    .meta_set(key.text(), (data.0.clone(), *flags))
                    .mode(*mode)
                    .ttl(expiry.ttl())
                    .return_cas();
                if let Some(token) = compare {
                    call = call.compare_cas(token_value(&tokens, *token));
                }
                if *invalidate {
                    call = call.invalidate();
                }
                if *quiet {
                    call = call.quiet();
                }
                match call.await {
                    Ok(outcome) => {
                        let cas = outcome
                            .cas
                            .filter(|&cas| cas != 0)
                            .map(|cas| number(cas, &mut tokens));
                        Outcome::MetaWrite(outcome.status, cas)
                    }
                    Err(error) => failed(error),
                }
            }
            Command::MetaDelete {
                key,
                compare,
                invalidate,
                quiet,
            } => {
                let mut call = meta.meta_delete(key.text());
                if let Some(token) = compare {
                    call = call.compare_cas(token_value(&tokens, *token));
                }
                if *invalidate {
                    call = call.invalidate();
                }
                if *quiet {
                    call = call.quiet();
                }
                match call.await {
                    Ok(outcome) => Outcome::MetaWrite(outcome.status, None),
                    Err(error) => failed(error),
                }
            }
            Command::MetaArith {
                key,
                delta,
                decrement,
                vivify,
                quiet,
            } => {
                let mut call = meta.meta_arithmetic(key.text()).delta(*delta);
                if *decrement {
                    call = call.decrement();
                }
                if let Some(initial) = vivify {
                    call = call.vivify(Duration::from_secs(3600)).initial(*initial);
                }
                if *quiet {
                    call = call.quiet();
                }
                match call.await {
                    Ok(counter) => Outcome::MetaCounter(counter.status, counter.value),
                    Err(error) => failed(error),
                }
            }
        };
        outcomes.push(outcome);
    }
    outcomes
}

/// A second client on the same backend for the meta steps: binary keys on
/// (keys with spaces or control characters travel base64-encoded) and
/// multi-key reads through quiet `mg` batches.
fn meta_twin<B: Backend + Clone>(client: &Client<B, Item>) -> Client<B, Item> {
    let options = ClientOptions::new()
        .binary_keys(true)
        .multi_get(MultiGet::Meta);
    Client::with_options(client.backend().clone(), Item, options).unwrap()
}

/// The three ways to the same semantics.
struct Targets {
    _server: Memcached,
    real: Client<Connection, Item>,
}

impl Targets {
    fn new() -> Targets {
        let server = Memcached::start();
        let real =
            smol::block_on(memclient::Config::new(&server.address).connect(memclient::smol::Smol))
                .expect("connect to memcached")
                .with_serde(Item);
        Targets {
            _server: server,
            real,
        }
    }

    /// Runs `commands` on each target; returns a readable report on disagreement.
    fn check(&self, commands: &[Command]) -> Result<(), String> {
        smol::block_on(async {
            self.real
                .flush_all()
                .await
                .map_err(|e| format!("flush_all: {e}"))?;
            let real = run(&self.real, &meta_twin(&self.real), commands).await;

            let mock = MockMemcache::new();
            let (connection, driver) = Connection::from_stream(mock.connect());
            smol::spawn(driver).detach();
            let stream_client =
                Client::with_options(connection, Item, ClientOptions::new()).unwrap();
            let streamed = run(&stream_client, &meta_twin(&stream_client), commands).await;

            let direct_client =
                Client::with_options(MockMemcache::new(), Item, ClientOptions::new()).unwrap();
            let direct = run(&direct_client, &meta_twin(&direct_client), commands).await;

            for (name, outcomes) in [
                ("mock over its stream", &streamed),
                ("mock as a backend", &direct),
            ] {
                if let Some(step) = (0..commands.len()).find(|&i| outcomes[i] != real[i]) {
                    let mut script = String::new();
                    for (i, command) in commands.iter().enumerate().take(step + 1) {
                        script.push_str(&format!(
                            "  {i:>3}: {command:?}\n       memcached: {:?}\n",
                            real[i]
                        ));
                    }
                    return Err(format!(
                        "{name} disagrees with memcached at step {step}:\n{script}       {name}: {:?}",
                        outcomes[step]
                    ));
                }
            }
            Ok(())
        })
    }
}

fn sequences() -> u64 {
    std::env::var("MEMCLIENT_MODEL_TESTS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(200)
}

fn same_answers(commands: Vec<Command>) -> TestResult {
    static TARGETS: std::sync::OnceLock<Targets> = std::sync::OnceLock::new();
    match TARGETS.get_or_init(Targets::new).check(&commands) {
        Ok(()) => TestResult::passed(),
        Err(report) => TestResult::error(report),
    }
}

#[test]
fn mock_and_memcached_answer_every_sequence_alike() {
    QuickCheck::new()
        .tests(sequences())
        .rng(Gen::new(30))
        .quickcheck(same_answers as fn(Vec<Command>) -> TestResult);
}

/// What expiry looks like through the client, with `wait` moving time on.
async fn expiry_script<B, W, F>(client: &Client<B, Item>, wait: W) -> Vec<Outcome>
where
    B: Backend,
    W: Fn(Duration) -> F,
    F: std::future::Future<Output = ()>,
{
    let value = || (Bytes::from_static(b"v"), 0);
    let second = Duration::from_secs(1);
    let mut seen = Vec::new();
    let get = |key: &'static str| async move {
        Outcome::Value(client.get(key).await.unwrap().map(|(d, f)| (Data(d), f)))
    };
    client.set("short", value()).ttl(second).await.unwrap();
    client.set("touched", value()).ttl(second).await.unwrap();
    client
        .set("gat", value())
        .ttl(Duration::from_secs(100))
        .await
        .unwrap();
    client.set("forever", value()).await.unwrap();
    client
        .set("later", value())
        .ttl(Duration::from_secs(100))
        .await
        .unwrap();
    seen.push(Outcome::Done(
        client
            .touch("touched", Duration::from_secs(100))
            .await
            .unwrap(),
    ));
    seen.push(Outcome::Value(
        client
            .gat("gat", second)
            .await
            .unwrap()
            .map(|(d, f)| (Data(d), f)),
    ));
    seen.push(get("short").await);
    wait(Duration::from_millis(2100)).await;
    for key in ["short", "touched", "gat", "forever", "later"] {
        seen.push(get(key).await);
    }
    client
        .flush_all()
        .delay(Duration::from_secs(2))
        .await
        .unwrap();
    seen.push(get("forever").await);
    wait(Duration::from_millis(2100)).await;
    seen.push(get("forever").await);
    seen.push(get("later").await);
    seen
}

#[test]
fn expiry_on_the_mock_clock_matches_real_time_on_memcached() {
    let server = Memcached::start();
    let real =
        smol::block_on(memclient::Config::new(&server.address).connect(memclient::smol::Smol))
            .unwrap()
            .with_serde(Item);
    let outcomes_real = smol::block_on(expiry_script(&real, |d| async move {
        smol::Timer::after(d).await;
    }));
    let mock = MockMemcache::with_manual_clock();
    let direct = Client::with_options(mock.clone(), Item, ClientOptions::new()).unwrap();
    let outcomes_mock = smol::block_on(expiry_script(&direct, |d| {
        mock.advance(d);
        async {}
    }));
    assert_eq!(outcomes_mock, outcomes_real);
    // The script itself shows expiry: "short" and the touched-down "gat" are
    // gone after two seconds, and the delayed flush empties the cache.
    assert_eq!(outcomes_real[3], Outcome::Value(None));
    assert_eq!(outcomes_real[5], Outcome::Value(None));
    assert_eq!(outcomes_real[9], Outcome::Value(None));
}
