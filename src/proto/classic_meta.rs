//! The classic commands sent as meta commands, written once.
//!
//! A key the classic protocol cannot carry (a client with
//! [`binary_keys`](crate::ClientOptions::binary_keys)) travels in base64
//! under `b`, so its `set`/`add`/.../`cas`, `delete`, `incr`/`decr` and
//! `touch` go out as `ms`, `md`, `ma` and `mg`; [`as_classic`] reads their
//! meta replies as the classic replies the caller expects. The per-call
//! options (ttl, flags, `noreply`) apply to either form.

use super::meta_flag::{self, Flag, MetaMode};
use crate::{
    ArithOp, MetaCommand, MetaFlag, MetaRequest, MetaStatus, Request, Response, Store, StoreCommand,
};

/// `request` as the meta command that does the same for a binary key; a
/// request with no meta form (or a meta one) is returned as it is.
pub(crate) fn as_meta(request: Request) -> Request {
    let (command, key, mut flags, data, noreply) = match request {
        Request::Store(Store {
            command,
            key,
            flags,
            exptime,
            value,
            noreply,
        }) => {
            let mut typed = vec![Flag::ClientFlags(flags), Flag::Ttl(exptime)];
            typed.extend(match command {
                StoreCommand::Set => None,
                StoreCommand::Add => Some(Flag::Mode(MetaMode::Add)),
                StoreCommand::Replace => Some(Flag::Mode(MetaMode::Replace)),
                StoreCommand::Append => Some(Flag::Mode(MetaMode::Append)),
                StoreCommand::Prepend => Some(Flag::Mode(MetaMode::Prepend)),
                StoreCommand::Cas { unique } => Some(Flag::CompareCas(unique)),
            });
            (MetaCommand::Set, key, typed, Some(value), noreply)
        }
        Request::Delete { key, noreply } => (MetaCommand::Delete, key, Vec::new(), None, noreply),
        Request::Arith {
            op,
            key,
            delta,
            noreply,
        } => {
            let mut typed = vec![Flag::ReturnValue, Flag::Delta(delta)];
            if op == ArithOp::Decr {
                typed.push(Flag::Mode(MetaMode::Decr));
            }
            (MetaCommand::Arithmetic, key, typed, None, noreply)
        }
        // `mg` has no quiet form that tells a hit from a miss: a touch is
        // always answered.
        Request::Touch { key, exptime, .. } => {
            (MetaCommand::Get, key, vec![Flag::Ttl(exptime)], None, false)
        }
        other => return other,
    };
    flags.insert(0, Flag::Base64Key);
    if noreply {
        flags.push(Flag::Quiet);
    }
    Request::Meta(MetaRequest {
        command,
        key,
        flags: flags.into_iter().map(MetaFlag::from).collect(),
        data,
    })
}

/// The classic reply a meta reply to a classic call (sent as a meta command
/// for its binary key) stands for, `done` for `HD`; other replies as they are.
pub(crate) fn as_classic(response: Response, done: Response) -> Response {
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

/// The number of an `ma v` reply.
fn parse_number(data: &[u8]) -> Option<u64> {
    std::str::from_utf8(data).ok()?.parse().ok()
}

/// Sets the expiry of a storage request, classic or sent as `ms` (`T`).
pub(crate) fn set_exptime(request: &mut Request, exptime: i64) {
    match request {
        Request::Store(store) => store.exptime = exptime,
        Request::Meta(meta) if meta.command == MetaCommand::Set => {
            meta_flag::put(&mut meta.flags, Flag::Ttl(exptime))
        }
        _ => {}
    }
}

/// Sets the client flags of a storage request, classic or sent as `ms` (`F`).
pub(crate) fn set_flags(request: &mut Request, flags: u32) {
    match request {
        Request::Store(store) => store.flags = flags,
        Request::Meta(meta) if meta.command == MetaCommand::Set => {
            meta_flag::put(&mut meta.flags, Flag::ClientFlags(flags))
        }
        _ => {}
    }
}
