//! memcached 1.6.18's `_meta_flag_preparse`: which meta flags exist, what
//! their tokens must look like, and what the server answers when they don't.
//!
//! memcached checks every flag of `mg`, `ms`, `md` and `ma` against one list,
//! whatever the command, so `ms` accepts `v` and `mg` accepts `F` (and ignores
//! them). Flags of newer servers are refused with `CLIENT_ERROR invalid flag`:
//! `E` (explicit cas) and `x` (remove the value) among them.

use super::number::{strtol, strtoul32, strtoull};
use super::outcome::BAD_FORMAT;
use crate::MetaFlag;

/// The meta flags memcached 1.6.18 knows.
const KNOWN: &[u8] = b"bNTRlOPLkstcfvhuqFCMJDI";

/// The error text of a bad number token. The default error of `mg` and `ms`
/// is [`BAD_FORMAT`] (memcached's `errstr` before a flag sets another one;
/// `F` with a bad token leaves it).
const BAD_TOKEN: &str = "CLIENT_ERROR bad token in command line format";

/// What the flags of one meta command ask for, as memcached parses them.
///
/// Expiry tokens are kept as sent (wire exptimes: relative up to 30 days,
/// absolute above, negative for "already expired"); the store converts them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MetaOptions {
    /// `b`: the key travels base64-encoded.
    pub key_binary: bool,
    /// `q`: quiet mode.
    pub quiet: bool,
    /// `v`: return the value.
    pub value: bool,
    /// `u`: do not bump the item in the LRU.
    pub no_update: bool,
    /// `I`: invalidate (mark stale).
    pub invalidate: bool,
    /// `N<ttl>`: vivify on miss with this exptime.
    pub vivify: Option<i64>,
    /// `T<ttl>`: the new exptime.
    pub ttl: Option<i64>,
    /// `R<ttl>`: win the recache when the remaining TTL is below this.
    pub recache: Option<i64>,
    /// `F<flags>`: the client flags of `ms` (0 when absent).
    pub client_flags: u32,
    /// `C<cas>`: compare this cas.
    pub cas: Option<u64>,
    /// `M<mode>`: the mode letter of `ms` and `ma`.
    pub mode: Option<u8>,
    /// `D<delta>` of `ma` (default 1).
    pub delta: u64,
    /// `J<initial>` of `ma` (default 0).
    pub initial: u64,
}

impl Default for MetaOptions {
    fn default() -> Self {
        MetaOptions {
            key_binary: false,
            quiet: false,
            value: false,
            no_update: false,
            invalidate: false,
            vivify: None,
            ttl: None,
            recache: None,
            client_flags: 0,
            cas: None,
            mode: None,
            delta: 1,
            initial: 0,
        }
    }
}

/// Parses meta flags as memcached 1.6.18 does, in order.
///
/// A flag letter seen twice (or a byte above 126) stops at once with
/// `CLIENT_ERROR duplicate flag`, an unknown letter with `CLIENT_ERROR invalid
/// flag`; a bad token is remembered and parsing goes on, so the last bad
/// token names the error. `key_decodes` says whether the key is valid base64
/// (it matters only when `b` is present). The error is the reply line of
/// `mg` and `ms`; `md` and `ma` answer `CLIENT_ERROR invalid or duplicate
/// flag` to any of them.
pub fn meta_options(flags: &[MetaFlag], key_decodes: bool) -> Result<MetaOptions, &'static str> {
    let mut options = MetaOptions::default();
    let mut seen = [false; 127];
    let mut error: Option<&'static str> = None;
    let mut failed = false;
    for flag in flags {
        let letter = flag.flag;
        let token: &[u8] = flag.token.as_deref().unwrap_or(b"");
        if letter >= 127 || seen[usize::from(letter)] {
            return Err("CLIENT_ERROR duplicate flag");
        }
        seen[usize::from(letter)] = true;
        if !KNOWN.contains(&letter) {
            return Err("CLIENT_ERROR invalid flag");
        }
        let mut bad = |message: Option<&'static str>| {
            failed = true;
            if message.is_some() {
                error = message;
            }
        };
        match letter {
            b'b' => {
                options.key_binary = true;
                if !key_decodes {
                    bad(Some("CLIENT_ERROR error decoding key"));
                }
            }
            b'N' | b'T' | b'R' => match strtol(token) {
                // memcached keeps the value in an `int32_t`.
                Some(value) => {
                    let value = Some(i64::from(value as i32));
                    match letter {
                        b'N' => options.vivify = value,
                        b'T' => options.ttl = value,
                        _ => options.recache = value,
                    }
                }
                None => bad(Some(BAD_TOKEN)),
            },
            b'v' => options.value = true,
            b'u' => options.no_update = true,
            b'q' => options.quiet = true,
            b'I' => options.invalidate = true,
            b'F' => match strtoul32(token) {
                Some(value) => options.client_flags = value,
                None => bad(None),
            },
            b'C' => match strtoull(token) {
                Some(value) => options.cas = Some(value),
                None => bad(Some(BAD_TOKEN)),
            },
            b'M' => match token {
                [mode] => options.mode = Some(*mode),
                _ => bad(Some("CLIENT_ERROR incorrect length for M token")),
            },
            b'J' => match strtoull(token) {
                Some(value) => options.initial = value,
                None => bad(Some("CLIENT_ERROR invalid numeric initial value")),
            },
            b'D' => match strtoull(token) {
                Some(value) => options.delta = value,
                None => bad(Some("CLIENT_ERROR invalid numeric delta value")),
            },
            // O, P, L, k, s, t, c, f, h, l: nothing to parse here.
            _ => {}
        }
    }
    if failed {
        Err(error.unwrap_or(BAD_FORMAT))
    } else {
        Ok(options)
    }
}

/// The longest `O` token memcached echoes, counting the letter `O`.
pub(crate) const MAX_OPAQUE_LEN: usize = 32;

/// True when an `O` flag is too long for memcached (`CLIENT_ERROR opaque
/// token too long`).
pub fn opaque_too_long(flag: &MetaFlag) -> bool {
    flag.flag == b'O' && 1 + flag.token.as_ref().map_or(0, |t| t.len()) > MAX_OPAQUE_LEN
}
