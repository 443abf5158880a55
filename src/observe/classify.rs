//! What the observability layers say about a request and its reply: the
//! command's name, hits and misses, an estimate of the bytes on the wire,
//! the kind of an error. Shared by the tracing and metrics layers so both
//! name things alike.

// The sizes and the command table serve the metrics layer only.
#![cfg_attr(not(feature = "metrics"), allow(dead_code))]

use crate::{
    MetaCommand, MetaRequest, MetaResponse, MetaStatus, Request, Response, RetrieveCommand,
};

/// The command of a request, as the layers name it (`get`, `set`, `mg`...).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub(crate) enum Command {
    /// `get`.
    Get,
    /// `gets`.
    Gets,
    /// `gat`.
    Gat,
    /// `gats`.
    Gats,
    /// `set`.
    Set,
    /// `add`.
    Add,
    /// `replace`.
    Replace,
    /// `append`.
    Append,
    /// `prepend`.
    Prepend,
    /// `cas`.
    Cas,
    /// `delete`.
    Delete,
    /// `incr`.
    Incr,
    /// `decr`.
    Decr,
    /// `touch`.
    Touch,
    /// `stats`.
    Stats,
    /// `flush_all`.
    FlushAll,
    /// `version`.
    Version,
    /// `mg`.
    MetaGet,
    /// `ms`.
    MetaSet,
    /// `md`.
    MetaDelete,
    /// `ma`.
    MetaArithmetic,
    /// `mn`.
    MetaNoop,
    /// `me`.
    MetaDebug,
    /// Quiet meta commands sent as one batch.
    MetaBatch,
    /// `quit`, `shutdown`, `verbosity`, `cache_memlimit`, `slabs`,
    /// `lru_crawler`: administration.
    Admin,
    /// A raw command line.
    Raw,
}

impl Command {
    /// Every command, in a fixed order ([`index`](Self::index) is a position here).
    pub const ALL: [Command; 26] = [
        Command::Get,
        Command::Gets,
        Command::Gat,
        Command::Gats,
        Command::Set,
        Command::Add,
        Command::Replace,
        Command::Append,
        Command::Prepend,
        Command::Cas,
        Command::Delete,
        Command::Incr,
        Command::Decr,
        Command::Touch,
        Command::Stats,
        Command::FlushAll,
        Command::Version,
        Command::MetaGet,
        Command::MetaSet,
        Command::MetaDelete,
        Command::MetaArithmetic,
        Command::MetaNoop,
        Command::MetaDebug,
        Command::MetaBatch,
        Command::Admin,
        Command::Raw,
    ];

    /// The command of `request`.
    pub fn of(request: &Request) -> Command {
        use crate::StoreCommand as S;
        match request {
            Request::Retrieve(retrieve) => match retrieve.command {
                RetrieveCommand::Get => Command::Get,
                RetrieveCommand::Gets => Command::Gets,
                RetrieveCommand::Gat { .. } => Command::Gat,
                RetrieveCommand::Gats { .. } => Command::Gats,
            },
            Request::Store(store) => match store.command {
                S::Set => Command::Set,
                S::Add => Command::Add,
                S::Replace => Command::Replace,
                S::Append => Command::Append,
                S::Prepend => Command::Prepend,
                S::Cas { .. } => Command::Cas,
            },
            Request::Delete { .. } => Command::Delete,
            Request::Arith { op, .. } => match op {
                crate::ArithOp::Incr => Command::Incr,
                crate::ArithOp::Decr => Command::Decr,
            },
            Request::Touch { .. } => Command::Touch,
            Request::Stats { .. } => Command::Stats,
            Request::FlushAll { .. } => Command::FlushAll,
            Request::Version => Command::Version,
            Request::Meta(meta) => match meta.command {
                MetaCommand::Get => Command::MetaGet,
                MetaCommand::Set => Command::MetaSet,
                MetaCommand::Delete => Command::MetaDelete,
                MetaCommand::Arithmetic => Command::MetaArithmetic,
                MetaCommand::Noop => Command::MetaNoop,
                MetaCommand::Debug => Command::MetaDebug,
            },
            Request::MetaBatch(_) => Command::MetaBatch,
            Request::Raw(_) => Command::Raw,
            // `verbosity`, `cache_memlimit`, `quit`, `shutdown`, `slabs`,
            // `lru_crawler`, and any admin command added later.
            _ => Command::Admin,
        }
    }

    /// The name in spans and metric labels.
    pub fn name(self) -> &'static str {
        match self {
            Command::Get => "get",
            Command::Gets => "gets",
            Command::Gat => "gat",
            Command::Gats => "gats",
            Command::Set => "set",
            Command::Add => "add",
            Command::Replace => "replace",
            Command::Append => "append",
            Command::Prepend => "prepend",
            Command::Cas => "cas",
            Command::Delete => "delete",
            Command::Incr => "incr",
            Command::Decr => "decr",
            Command::Touch => "touch",
            Command::Stats => "stats",
            Command::FlushAll => "flush_all",
            Command::Version => "version",
            Command::MetaGet => "mg",
            Command::MetaSet => "ms",
            Command::MetaDelete => "md",
            Command::MetaArithmetic => "ma",
            Command::MetaNoop => "mn",
            Command::MetaDebug => "me",
            Command::MetaBatch => "meta_batch",
            Command::Admin => "admin",
            Command::Raw => "raw",
        }
    }

    /// The position of this command in [`ALL`](Self::ALL).
    pub fn index(self) -> usize {
        self as usize
    }
}

/// Hits and misses of a finished read, and the stampede flags of `mg`
/// replies (what `get_or_compute` decides on).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) struct Outcome {
    /// Keys of a read that were found.
    pub hits: u64,
    /// Keys of a read that were not found.
    pub misses: u64,
    /// `W`: this caller won the right to recompute the value.
    pub won: u64,
    /// `Z`: another caller already won; this one waits or is served stale.
    pub lost: u64,
    /// `X`: the item is stale (invalidated).
    pub stale: u64,
}

impl Outcome {
    fn add(self, other: Outcome) -> Outcome {
        Outcome {
            hits: self.hits + other.hits,
            misses: self.misses + other.misses,
            won: self.won + other.won,
            lost: self.lost + other.lost,
            stale: self.stale + other.stale,
        }
    }
}

/// What the outcome of a call needs of its request, kept so the request
/// itself can move into the call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Shape {
    /// Not a read: no hits or misses.
    Other,
    /// A retrieval of this many keys.
    Retrieve(usize),
    /// One `mg`.
    MetaGet,
    /// A meta batch: which of its commands are `mg`.
    MetaBatch(Vec<bool>),
}

impl Shape {
    pub fn of(request: &Request) -> Shape {
        match request {
            Request::Retrieve(retrieve) => Shape::Retrieve(retrieve.keys.len()),
            Request::Meta(meta) if meta.command == MetaCommand::Get => Shape::MetaGet,
            Request::MetaBatch(batch) if batch.iter().any(|m| m.command == MetaCommand::Get) => {
                Shape::MetaBatch(
                    batch
                        .iter()
                        .map(|m| m.command == MetaCommand::Get)
                        .collect(),
                )
            }
            _ => Shape::Other,
        }
    }

    /// True for requests that read keys.
    #[cfg_attr(not(feature = "tracing"), allow(dead_code))]
    pub fn is_read(&self) -> bool {
        *self != Shape::Other
    }

    /// The hits and misses of a successful reply.
    pub fn outcome(&self, response: &Response) -> Outcome {
        match (self, response) {
            (Shape::Retrieve(keys), Response::Values(values)) => {
                let hits = values.len() as u64;
                Outcome {
                    hits,
                    misses: (*keys as u64).saturating_sub(hits),
                    ..Outcome::default()
                }
            }
            (Shape::MetaGet, Response::Meta(reply)) => meta_get(reply),
            (Shape::MetaBatch(gets), Response::MetaBatch(replies)) => gets
                .iter()
                .zip(replies)
                .filter(|(get, _)| **get)
                .map(|(_, reply)| match reply {
                    // Quiet mode: a missing line is a miss.
                    None => Outcome {
                        misses: 1,
                        ..Outcome::default()
                    },
                    Some(Ok(reply)) => meta_get(reply),
                    Some(Err(_)) => Outcome::default(),
                })
                .fold(Outcome::default(), Outcome::add),
            _ => Outcome::default(),
        }
    }
}

fn meta_get(reply: &MetaResponse) -> Outcome {
    let (hits, misses) = match reply.status {
        Some(MetaStatus::Miss) => (0, 1),
        // The empty placeholder of a recompute in progress (`W` or `Z`,
        // not stale) holds no value yet: a miss to the user.
        Some(MetaStatus::Value | MetaStatus::Header)
            if (reply.has_flag(b'W') || reply.has_flag(b'Z'))
                && !reply.has_flag(b'X')
                && reply.data.as_ref().map_or(true, |data| data.is_empty()) =>
        {
            (0, 1)
        }
        Some(MetaStatus::Value | MetaStatus::Header) => (1, 0),
        _ => (0, 0),
    };
    let flag = |f: u8| u64::from(reply.has_flag(f));
    Outcome {
        hits,
        misses,
        won: flag(b'W'),
        lost: flag(b'Z'),
        stale: flag(b'X'),
    }
}

/// An estimate of the request's size on the wire: its keys and data plus a
/// fixed allowance for the command line. Cheap: no encoding.
pub(crate) fn request_len(request: &Request) -> u64 {
    const LINE: usize = 24;
    let keys: usize = request.keys().iter().map(|key| key.len() + 1).sum();
    let data = match request {
        Request::Store(store) => store.value.len() + 2,
        Request::Raw(raw) => raw.line.len() + raw.data.as_ref().map_or(0, |d| d.len() + 2),
        Request::Meta(meta) => meta_request_len(meta) - meta.key.len(),
        Request::MetaBatch(batch) => batch.iter().map(meta_request_len).sum::<usize>() + 4,
        _ => 0,
    };
    (LINE + keys + data) as u64
}

fn meta_request_len(meta: &MetaRequest) -> usize {
    let flags: usize = meta
        .flags
        .iter()
        .map(|flag| 2 + flag.token.as_ref().map_or(0, |t| t.len()))
        .sum();
    8 + meta.key.len() + flags + meta.data.as_ref().map_or(0, |d| d.len() + 2)
}

/// An estimate of the reply's size on the wire.
pub(crate) fn response_len(response: &Response) -> u64 {
    let len = match response {
        Response::Values(values) => {
            values
                .iter()
                .map(|value| 24 + value.key.len() + value.data.len())
                .sum::<usize>()
                + 5
        }
        Response::Lines(lines) => lines.iter().map(|line| line.len() + 2).sum::<usize>() + 5,
        Response::Version(version) | Response::Line(version) => version.len() + 10,
        Response::Meta(reply) => meta_response_len(reply),
        Response::MetaBatch(replies) => {
            replies
                .iter()
                .map(|reply| match reply {
                    Some(Ok(reply)) => meta_response_len(reply),
                    Some(Err(_)) => 16,
                    None => 0,
                })
                .sum::<usize>()
                + 4
        }
        Response::NoReply => 0,
        _ => 10,
    };
    len as u64
}

fn meta_response_len(reply: &MetaResponse) -> usize {
    let flags: usize = reply
        .flags
        .iter()
        .map(|flag| 2 + flag.token.as_ref().map_or(0, |t| t.len()))
        .sum();
    6 + flags + reply.data.as_ref().map_or(0, |d| d.len() + 8)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Retrieve, Value};
    use bytes::Bytes;

    fn get(keys: &[&'static str]) -> Request {
        Request::Retrieve(Retrieve {
            command: RetrieveCommand::Get,
            keys: keys
                .iter()
                .map(|k| Bytes::from_static(k.as_bytes()))
                .collect(),
        })
    }

    #[test]
    fn indexes_match_all() {
        for (position, command) in Command::ALL.iter().enumerate() {
            assert_eq!(command.index(), position, "{command:?}");
        }
    }

    #[test]
    fn multi_get_counts_hits_and_misses() {
        let reply = Response::Values(vec![Value {
            key: Bytes::from_static(b"a"),
            flags: 0,
            cas: None,
            data: Bytes::from(vec![0; 100]),
        }]);
        let outcome = Shape::of(&get(&["a", "b", "c"])).outcome(&reply);
        assert_eq!((outcome.hits, outcome.misses), (1, 2));
        assert!(response_len(&reply) >= 100);
        assert_eq!(Command::of(&get(&["a"])).name(), "get");
    }

    #[test]
    fn quiet_meta_batch_misses_are_the_missing_lines() {
        let mg = MetaRequest {
            command: MetaCommand::Get,
            key: Bytes::from_static(b"k"),
            flags: vec![],
            data: None,
        };
        let hit = MetaResponse {
            status: Some(MetaStatus::Value),
            data: Some(Bytes::from_static(b"v")),
            ..MetaResponse::default()
        };
        let request = Request::MetaBatch(vec![mg.clone(), mg.clone(), mg]);
        let reply = Response::MetaBatch(vec![None, Some(Ok(hit)), None]);
        let outcome = Shape::of(&request).outcome(&reply);
        assert_eq!((outcome.hits, outcome.misses), (1, 2));
    }
}
