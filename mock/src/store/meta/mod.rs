//! The meta commands' semantics, as memcached 1.6.18 implements them (which
//! is not always what its protocol text says; see each command's module).
//!
//! Each command returns the full reply and whether quiet mode (`q`)
//! suppresses it: the session then writes nothing (on the `Backend` path,
//! the client's decoder then answers what was suppressed). Errors are never
//! suppressed.

use bytes::Bytes;
use memclient::proto::server::meta_options;
use memclient::{Error, MetaCommand, MetaFlag, MetaRequest, MetaResponse, MetaStatus, Result};

use super::Cache;

mod arith;
mod debug;
mod delete;
mod get;
mod set;

/// One meta command's outcome.
#[derive(Debug, Clone)]
pub(crate) struct MetaReply {
    /// The reply memcached builds.
    pub response: MetaResponse,
    /// Quiet mode suppresses it: memcached sends nothing.
    pub quiet: bool,
}

impl MetaReply {
    fn shown(response: MetaResponse) -> Self {
        MetaReply {
            response,
            quiet: false,
        }
    }
}

impl Cache {
    /// Runs one meta command. The request is well-formed (the server codec
    /// checked it); flags it does not know are ignored.
    pub fn meta(&mut self, request: MetaRequest, now: u64) -> Result<MetaReply> {
        // The codec validated the flags: a failure here can only come from a
        // request built by hand, and parsing what can be parsed is enough.
        let options = meta_options(&request.flags, true).unwrap_or_default();
        match request.command {
            MetaCommand::Noop => Ok(MetaReply::shown(response(MetaStatus::Noop))),
            MetaCommand::Debug => Ok(MetaReply::shown(self.meta_debug(&request.key, now))),
            MetaCommand::Get => self.meta_get(&request, &options, now),
            MetaCommand::Set => self.meta_set(&request, &options, now),
            MetaCommand::Delete => Ok(self.meta_delete(&request, &options, now)),
            MetaCommand::Arithmetic => self.meta_arith(&request, &options, now),
        }
    }

    /// memcached's relative clock: seconds since two seconds before start.
    fn rel_time(&self, unix: u64) -> i64 {
        unix as i64 - self.started as i64 + 2
    }

    /// The `t` flag: -1 for no expiry, else the remaining seconds as the
    /// `uint32_t` memcached prints (an item just set to expire, by `T-1`,
    /// shows a wrapped, huge number).
    fn ttl_token(&self, exptime: u64, now: u64) -> Bytes {
        if exptime == 0 {
            return Bytes::from_static(b"-1");
        }
        // The mock marks "already expired" as unix second 1; memcached as
        // its relative second 1.
        let exp_rel = if exptime == 1 {
            1
        } else {
            self.rel_time(exptime)
        };
        let remaining = (exp_rel - self.rel_time(now)) as u32;
        Bytes::from(remaining.to_string())
    }
}

/// A reply with only a status.
fn response(status: MetaStatus) -> MetaResponse {
    MetaResponse {
        status: Some(status),
        ..MetaResponse::default()
    }
}

/// `k<key>`, then `b` when the key goes out base64-encoded.
fn push_key(flags: &mut Vec<MetaFlag>, key: &Bytes, binary: bool) {
    flags.push(MetaFlag::with(b'k', key.clone()));
    if binary {
        flags.push(MetaFlag::bare(b'b'));
    }
}

/// `CLIENT_ERROR opaque token too long`.
fn opaque_error() -> Error {
    Error::Client("opaque token too long".into())
}
