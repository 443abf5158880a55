//! The single-key writes: storage commands, `delete`, `incr`/`decr`, `touch`.

use std::time::SystemTime;

use bytes::Bytes;

use super::call::{Call, PlainKind, StorageKind};
use super::{unexpected, Client, Ttl};
use crate::serde::Serde;
use crate::{
    ArithOp, Backend, MetaCommand, MetaFlag, MetaRequest, MetaStatus, Request, Response, Result,
    Store, StoreCommand,
};

/// The outcome of [`Client::cas`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CasOutcome {
    /// Stored: nobody wrote the item since the `gets` (also the result of a
    /// `noreply` cas, which cannot know).
    Stored,
    /// Not stored: the item changed since the `gets`.
    Exists,
    /// Not stored: the item is gone.
    NotFound,
}

type StoreCall<'a, B, S, T> = Call<'a, B, S, T, StorageKind>;

impl<B: Backend, S: Serde> Client<B, S> {
    /// Stores `value` under `key`. Resolves to `true` when stored.
    pub fn set(
        &self,
        key: impl AsRef<[u8]>,
        value: impl Into<S::Value>,
    ) -> StoreCall<'_, B, S, bool> {
        self.store(StoreCommand::Set, key.as_ref(), value.into())
    }

    /// Stores `value` only if `key` holds nothing. `false`: it was not stored.
    pub fn add(
        &self,
        key: impl AsRef<[u8]>,
        value: impl Into<S::Value>,
    ) -> StoreCall<'_, B, S, bool> {
        self.store(StoreCommand::Add, key.as_ref(), value.into())
    }

    /// Stores `value` only if `key` holds something. `false`: it was not stored.
    pub fn replace(
        &self,
        key: impl AsRef<[u8]>,
        value: impl Into<S::Value>,
    ) -> StoreCall<'_, B, S, bool> {
        self.store(StoreCommand::Replace, key.as_ref(), value.into())
    }

    /// Adds the serialized `value` after the stored data. `false`: the key is missing.
    /// The item keeps its flags and expiry.
    pub fn append(
        &self,
        key: impl AsRef<[u8]>,
        value: impl Into<S::Value>,
    ) -> StoreCall<'_, B, S, bool> {
        self.store(StoreCommand::Append, key.as_ref(), value.into())
    }

    /// Adds the serialized `value` before the stored data. `false`: the key is missing.
    pub fn prepend(
        &self,
        key: impl AsRef<[u8]>,
        value: impl Into<S::Value>,
    ) -> StoreCall<'_, B, S, bool> {
        self.store(StoreCommand::Prepend, key.as_ref(), value.into())
    }

    /// Stores `value` only if the item's cas unique is still `unique` (from
    /// [`gets`](Client::gets)).
    pub fn cas(
        &self,
        key: impl AsRef<[u8]>,
        value: impl Into<S::Value>,
        unique: u64,
    ) -> StoreCall<'_, B, S, CasOutcome> {
        let request = self.store_request(StoreCommand::Cas { unique }, key.as_ref(), value.into());
        Call::new(self, request, |response| {
            match classic(response, Response::Stored) {
                Response::Stored | Response::NoReply => Ok(CasOutcome::Stored),
                Response::Exists => Ok(CasOutcome::Exists),
                Response::NotFound => Ok(CasOutcome::NotFound),
                other => Err(unexpected(&other, "cas")),
            }
        })
    }

    /// Deletes `key`. `false`: there was nothing to delete.
    pub fn delete(&self, key: impl AsRef<[u8]>) -> Call<'_, B, S, bool, PlainKind> {
        let request = self.delete_request(key.as_ref());
        Call::new(self, request, |response| {
            match classic(response, Response::Deleted) {
                Response::Deleted | Response::NoReply => Ok(true),
                Response::NotFound => Ok(false),
                other => Err(unexpected(&other, "delete")),
            }
        })
    }

    /// Adds `delta` to the decimal number under `key`, wrapping at 2^64. The new
    /// value, or `None` if the key is missing (or with `noreply`).
    pub fn incr(
        &self,
        key: impl AsRef<[u8]>,
        delta: u64,
    ) -> Call<'_, B, S, Option<u64>, PlainKind> {
        self.arith(ArithOp::Incr, key.as_ref(), delta)
    }

    /// Subtracts `delta` from the decimal number under `key`, stopping at 0.
    pub fn decr(
        &self,
        key: impl AsRef<[u8]>,
        delta: u64,
    ) -> Call<'_, B, S, Option<u64>, PlainKind> {
        self.arith(ArithOp::Decr, key.as_ref(), delta)
    }

    /// Sets a new expiry on `key`. `false`: the key is missing.
    pub fn touch(
        &self,
        key: impl AsRef<[u8]>,
        ttl: impl Into<Ttl>,
    ) -> Call<'_, B, S, bool, PlainKind> {
        let exptime = ttl.into().to_exptime(SystemTime::now());
        let request = self
            .meta_key(key.as_ref())
            .map(|(key, binary)| match binary {
                false => Request::Touch {
                    key,
                    exptime,
                    noreply: false,
                },
                true => binary_request(MetaCommand::Get, key, vec![number(b'T', exptime)], None),
            });
        Call::new(self, request, |response| {
            match classic(response, Response::Touched) {
                Response::Touched | Response::NoReply => Ok(true),
                Response::NotFound => Ok(false),
                other => Err(unexpected(&other, "touch")),
            }
        })
    }

    fn store(
        &self,
        command: StoreCommand,
        key: &[u8],
        value: S::Value,
    ) -> StoreCall<'_, B, S, bool> {
        let request = self.store_request(command, key, value);
        Call::new(self, request, |response| {
            match classic(response, Response::Stored) {
                Response::Stored | Response::NoReply => Ok(true),
                Response::NotStored => Ok(false),
                other => Err(unexpected(&other, "a storage command")),
            }
        })
    }

    pub(crate) fn store_request(
        &self,
        command: StoreCommand,
        key: &[u8],
        value: S::Value,
    ) -> Result<Request> {
        let (wire_key, binary) = self.meta_key(key)?;
        let (value, flags) = self.serde.serialize(key, &value)?;
        if binary {
            let mut meta_flags = vec![number(b'F', flags), number(b'T', 0)];
            match command {
                StoreCommand::Set => {}
                StoreCommand::Add => meta_flags.push(MetaFlag::with(b'M', "E")),
                StoreCommand::Replace => meta_flags.push(MetaFlag::with(b'M', "R")),
                StoreCommand::Append => meta_flags.push(MetaFlag::with(b'M', "A")),
                StoreCommand::Prepend => meta_flags.push(MetaFlag::with(b'M', "P")),
                StoreCommand::Cas { unique } => meta_flags.push(number(b'C', unique)),
            }
            return Ok(binary_request(
                MetaCommand::Set,
                wire_key,
                meta_flags,
                Some(value),
            ));
        }
        Ok(Request::Store(Store {
            command,
            key: wire_key,
            flags,
            exptime: 0,
            value,
            noreply: false,
        }))
    }

    /// `delete`, or `md b` for a binary key.
    pub(crate) fn delete_request(&self, key: &[u8]) -> Result<Request> {
        self.meta_key(key).map(|(key, binary)| match binary {
            false => Request::Delete {
                key,
                noreply: false,
            },
            true => binary_request(MetaCommand::Delete, key, Vec::new(), None),
        })
    }

    fn arith(&self, op: ArithOp, key: &[u8], delta: u64) -> Call<'_, B, S, Option<u64>, PlainKind> {
        let request = self.meta_key(key).map(|(key, binary)| match binary {
            false => Request::Arith {
                op,
                key,
                delta,
                noreply: false,
            },
            true => {
                let mut flags = vec![MetaFlag::bare(b'v'), number(b'D', delta)];
                if op == ArithOp::Decr {
                    flags.push(MetaFlag::with(b'M', "D"));
                }
                binary_request(MetaCommand::Arithmetic, key, flags, None)
            }
        });
        Call::new(self, request, |response| {
            match classic(response, Response::NoReply) {
                Response::Number(value) => Ok(Some(value)),
                Response::NotFound | Response::NoReply => Ok(None),
                other => Err(unexpected(&other, "incr/decr")),
            }
        })
    }
}

/// A meta request for a binary key (`b` first).
fn binary_request(
    command: MetaCommand,
    key: Bytes,
    flags: Vec<MetaFlag>,
    data: Option<Bytes>,
) -> Request {
    let mut all = Vec::with_capacity(flags.len() + 1);
    all.push(MetaFlag::bare(b'b'));
    all.extend(flags);
    Request::Meta(MetaRequest {
        command,
        key,
        flags: all,
        data,
    })
}

/// A flag with a number.
fn number(flag: u8, n: impl std::fmt::Display) -> MetaFlag {
    MetaFlag::with(flag, n.to_string())
}

/// The number of an `ma v` reply.
fn parse_number(data: &[u8]) -> Option<u64> {
    std::str::from_utf8(data).ok()?.parse().ok()
}

/// The classic reply a meta reply to a classic call (sent as a meta command
/// for its binary key) stands for, `done` for `HD`; other replies as they are.
pub(crate) fn classic(response: Response, done: Response) -> Response {
    let Response::Meta(reply) = response else {
        return response;
    };
    match reply.status {
        Some(MetaStatus::Value) => match reply.data.as_deref().and_then(parse_number) {
            Some(n) => Response::Number(n),
            None => Response::Meta(reply),
        },
        // Every success, and what quiet mode suppressed.
        Some(MetaStatus::Header) => done,
        Some(MetaStatus::NotStored) => Response::NotStored,
        Some(MetaStatus::Exists) => Response::Exists,
        Some(MetaStatus::NotFound | MetaStatus::Miss) => Response::NotFound,
        _ => Response::Meta(reply),
    }
}
