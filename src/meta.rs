//! The meta commands' request and response types: `mg`, `ms`, `md`, `ma`,
//! `mn`, `me`.
//!
//! Flags are kept generic (a letter and an optional token) so that flags of
//! newer servers can be sent and read without a new release; the typed
//! builders of [`Client`](crate::Client) produce and interpret them.

use bytes::Bytes;

use crate::{Error, Result};

/// Which meta command.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MetaCommand {
    /// `mg`: meta get.
    Get,
    /// `ms`: meta set (with a data block).
    Set,
    /// `md`: meta delete.
    Delete,
    /// `ma`: meta arithmetic.
    Arithmetic,
    /// `mn`: meta no-op (answered `MN`; ends a quiet pipeline).
    Noop,
    /// `me`: meta debug (answered `ME <key> <k>=<v>...`).
    Debug,
}

/// One meta flag: a letter and, for some flags, a token (`T30`, `Oabc`, `b`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct MetaFlag {
    /// The flag letter, e.g. `b'T'`.
    pub flag: u8,
    /// The token right after the letter, if any.
    pub token: Option<Bytes>,
}

impl MetaFlag {
    /// A flag without a token.
    pub fn bare(flag: u8) -> Self {
        MetaFlag { flag, token: None }
    }

    /// A flag with a token. Nothing is checked here; a flag whose letter is
    /// not an ASCII letter, or whose token holds a space or a control
    /// character, is refused ([`Error::IllegalInput`]) before it is sent.
    pub fn with(flag: u8, token: impl Into<Bytes>) -> Self {
        MetaFlag {
            flag,
            token: Some(token.into()),
        }
    }

    /// Checks that the flag travels as one token: an ASCII letter, and a
    /// token of printable ASCII without spaces.
    pub fn validate(&self) -> Result<()> {
        crate::proto::check::meta_flag(self)
    }
}

/// One meta command.
///
/// `key` is the key as the user means it: when the `b` flag is present the
/// codec sends it base64-encoded (and decodes a returned `k` key), so binary
/// keys travel safely. A standalone request with the `q` flag is sent with a
/// trailing `mn`, so its reply (or the absence of one) is always delimited.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MetaRequest {
    /// The command.
    pub command: MetaCommand,
    /// The key (empty for `mn`).
    pub key: Bytes,
    /// The flags, in the order they are sent (and mostly answered).
    pub flags: Vec<MetaFlag>,
    /// The data block of `ms`.
    pub data: Option<Bytes>,
}

impl MetaRequest {
    /// True if the request carries flag `flag`.
    pub fn has_flag(&self, flag: u8) -> bool {
        self.flags.iter().any(|f| f.flag == flag)
    }
}

/// The status of a meta reply.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MetaStatus {
    /// `VA`: a value follows.
    Value,
    /// `HD`: success, no value.
    Header,
    /// `EN`: miss (`mg`, `me`).
    Miss,
    /// `NS`: not stored.
    NotStored,
    /// `EX`: the cas did not match.
    Exists,
    /// `NF`: not found (`md`, `ma`, `ms` in a mode that needs the item).
    NotFound,
    /// `MN`: the no-op's answer.
    Noop,
    /// `ME`: a debug dump; its `key=value` pairs are in [`MetaResponse::debug`].
    Debug,
}

/// One meta reply.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct MetaResponse {
    /// The status code; `None` only in a default-constructed value.
    pub status: Option<MetaStatus>,
    /// The returned flags, in the order the server sent them (`c123`, `t-1`,
    /// `W`, `X`, `Z`, `k<key>`, `O<opaque>`, `b`, ...). A returned `k` key is
    /// already base64-decoded when the request used `b`.
    pub flags: Vec<MetaFlag>,
    /// The data block of `VA`: a slice of the read buffer.
    pub data: Option<Bytes>,
    /// The `key=value` pairs of an `ME` reply.
    pub debug: Vec<(Bytes, Bytes)>,
}

impl MetaResponse {
    /// The token of returned flag `flag`, if the flag is present with one.
    pub fn token(&self, flag: u8) -> Option<&Bytes> {
        self.flags
            .iter()
            .find(|f| f.flag == flag)
            .and_then(|f| f.token.as_ref())
    }

    /// True if the reply carries flag `flag` (`W`, `X`, `Z`, ...).
    pub fn has_flag(&self, flag: u8) -> bool {
        self.flags.iter().any(|f| f.flag == flag)
    }

    /// The token of `flag` parsed as a number.
    pub fn number<N: std::str::FromStr>(&self, flag: u8) -> Result<Option<N>> {
        match self.token(flag) {
            None => Ok(None),
            Some(token) => std::str::from_utf8(token)
                .ok()
                .and_then(|text| text.parse().ok())
                .map(Some)
                .ok_or_else(|| Error::protocol("bad numeric meta flag", token)),
        }
    }
}
