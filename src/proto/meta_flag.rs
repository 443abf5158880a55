//! Typed meta flags: the one place where a request flag's letter and token
//! are written ([`Flag::encode`]) and read back ([`Flag::decode`]).
//!
//! A [`MetaRequest`](crate::MetaRequest) carries generic
//! [`MetaFlag`]s (a letter and a token) so that flags of newer servers can be
//! sent without a new release; the client's builders, the classic-to-meta
//! translation and `Retry` speak these typed ones, so no letter is typed by
//! hand anywhere else.

use bytes::Bytes;

use crate::{Error, MetaFlag, Result};

/// One request flag of `mg`, `ms`, `md`, `ma`, `me`, with its meaning.
///
/// ```
/// use memclient::proto::{Flag, MetaMode};
/// use memclient::MetaFlag;
///
/// assert_eq!(Flag::Ttl(30).encode(), MetaFlag::with(b'T', "30"));
/// assert_eq!(Flag::Mode(MetaMode::Add).encode(), MetaFlag::with(b'M', "E"));
/// assert_eq!(Flag::decode(&MetaFlag::with(b'M', "a")), Ok(Flag::Mode(MetaMode::Append)));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Flag {
    /// `b`: the key is sent (and returned) in base64.
    Base64Key,
    /// `q`: quiet mode, the common outcome sends no line.
    Quiet,
    /// `O<token>`: an opaque token echoed in the reply.
    Opaque(Bytes),
    /// `k`: return the key.
    ReturnKey,
    /// `v`: return the value.
    ReturnValue,
    /// `f`: return the client flags.
    ReturnClientFlags,
    /// `c`: return the cas unique.
    ReturnCas,
    /// `t`: return the time left to live.
    ReturnTtl,
    /// `h`: return whether the item was read before.
    ReturnHit,
    /// `l`: return the time since the last access.
    ReturnLastAccess,
    /// `s`: return the size of the value.
    ReturnSize,
    /// `u`: don't bump the item in the LRU.
    NoBump,
    /// `T<exptime>`: the new wire expiry time.
    Ttl(i64),
    /// `N<exptime>`: vivify on a miss, with this wire expiry time.
    Vivify(i64),
    /// `R<seconds>`: win the recache when less than this is left to live.
    Recache(u64),
    /// `F<flags>`: the client flags to store.
    ClientFlags(u32),
    /// `C<cas>`: act only if the item's cas unique is this one.
    CompareCas(u64),
    /// `E<cas>`: give the item this cas unique (memcached newer than 1.6.18).
    NewCas(u64),
    /// `I`: invalidate (mark stale) instead of failing or deleting.
    Invalidate,
    /// `x`: remove the value but keep the item (memcached newer than 1.6.18).
    RemoveValue,
    /// `D<delta>`: the amount `ma` adds or subtracts.
    Delta(u64),
    /// `J<value>`: the value of an item `ma` creates on a miss.
    Initial(u64),
    /// `M<mode>`: how `ms` stores or `ma` counts.
    Mode(MetaMode),
}

/// The `M` flag's mode token: the storage modes of `ms` and the directions
/// of `ma`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MetaMode {
    /// `S`: store unconditionally (the default of `ms`).
    Set,
    /// `E`: store only if the key holds nothing.
    Add,
    /// `R`: store only if the key holds something.
    Replace,
    /// `A`: add the data after the stored data.
    Append,
    /// `P`: add the data before the stored data.
    Prepend,
    /// `I` (or `+`): increment (the default of `ma`).
    Incr,
    /// `D` (or `-`): decrement, stopping at 0.
    Decr,
}

impl MetaMode {
    /// The token memclient sends.
    pub fn token(self) -> &'static [u8] {
        match self {
            MetaMode::Set => b"S",
            MetaMode::Add => b"E",
            MetaMode::Replace => b"R",
            MetaMode::Append => b"A",
            MetaMode::Prepend => b"P",
            MetaMode::Incr => b"I",
            MetaMode::Decr => b"D",
        }
    }

    /// Reads a mode token as memcached does: its first byte, in either case.
    pub fn parse(token: &[u8]) -> Option<MetaMode> {
        Some(match token.first()?.to_ascii_uppercase() {
            b'S' => MetaMode::Set,
            b'E' => MetaMode::Add,
            b'R' => MetaMode::Replace,
            b'A' => MetaMode::Append,
            b'P' => MetaMode::Prepend,
            b'I' | b'+' => MetaMode::Incr,
            b'D' | b'-' => MetaMode::Decr,
            _ => return None,
        })
    }

    /// True for the modes that change the item again each time they are
    /// sent (append, prepend; `ma` always counts).
    pub fn repeats_change(self) -> bool {
        matches!(
            self,
            MetaMode::Append | MetaMode::Prepend | MetaMode::Incr | MetaMode::Decr
        )
    }
}

impl Flag {
    /// The flag's letter.
    pub fn letter(&self) -> u8 {
        match self {
            Flag::Base64Key => b'b',
            Flag::Quiet => b'q',
            Flag::Opaque(_) => b'O',
            Flag::ReturnKey => b'k',
            Flag::ReturnValue => b'v',
            Flag::ReturnClientFlags => b'f',
            Flag::ReturnCas => b'c',
            Flag::ReturnTtl => b't',
            Flag::ReturnHit => b'h',
            Flag::ReturnLastAccess => b'l',
            Flag::ReturnSize => b's',
            Flag::NoBump => b'u',
            Flag::Ttl(_) => b'T',
            Flag::Vivify(_) => b'N',
            Flag::Recache(_) => b'R',
            Flag::ClientFlags(_) => b'F',
            Flag::CompareCas(_) => b'C',
            Flag::NewCas(_) => b'E',
            Flag::Invalidate => b'I',
            Flag::RemoveValue => b'x',
            Flag::Delta(_) => b'D',
            Flag::Initial(_) => b'J',
            Flag::Mode(_) => b'M',
        }
    }

    /// The flag as it travels: its letter and token.
    pub fn encode(&self) -> MetaFlag {
        let letter = self.letter();
        let number = |n: &dyn std::fmt::Display| MetaFlag::with(letter, n.to_string());
        match self {
            Flag::Opaque(token) => MetaFlag::with(letter, token.clone()),
            Flag::Ttl(n) | Flag::Vivify(n) => number(n),
            Flag::ClientFlags(n) => number(n),
            Flag::Recache(n)
            | Flag::CompareCas(n)
            | Flag::NewCas(n)
            | Flag::Delta(n)
            | Flag::Initial(n) => number(n),
            Flag::Mode(mode) => MetaFlag::with(letter, Bytes::from_static(mode.token())),
            _ => MetaFlag::bare(letter),
        }
    }

    /// Reads a request flag; [`Error::IllegalInput`] for a letter this type
    /// does not know, or a token that does not fit it.
    pub fn decode(flag: &MetaFlag) -> Result<Flag> {
        let token = flag.token.as_deref().unwrap_or_default();
        let bad = || {
            Error::IllegalInput(format!(
                "not a meta flag memclient knows: {}",
                crate::error::quote(&[&[flag.flag][..], token].concat(), 40)
            ))
        };
        let number = || -> Result<u64> {
            std::str::from_utf8(token)
                .ok()
                .and_then(|text| text.parse().ok())
                .ok_or_else(bad)
        };
        let signed = || -> Result<i64> {
            std::str::from_utf8(token)
                .ok()
                .and_then(|text| text.parse().ok())
                .ok_or_else(bad)
        };
        let bare = |typed: Flag| {
            if token.is_empty() {
                Ok(typed)
            } else {
                Err(bad())
            }
        };
        match flag.flag {
            b'b' => bare(Flag::Base64Key),
            b'q' => bare(Flag::Quiet),
            b'O' => Ok(Flag::Opaque(flag.token.clone().unwrap_or_default())),
            b'k' => bare(Flag::ReturnKey),
            b'v' => bare(Flag::ReturnValue),
            b'f' => bare(Flag::ReturnClientFlags),
            b'c' => bare(Flag::ReturnCas),
            b't' => bare(Flag::ReturnTtl),
            b'h' => bare(Flag::ReturnHit),
            b'l' => bare(Flag::ReturnLastAccess),
            b's' => bare(Flag::ReturnSize),
            b'u' => bare(Flag::NoBump),
            b'T' => signed().map(Flag::Ttl),
            b'N' => signed().map(Flag::Vivify),
            b'R' => number().map(Flag::Recache),
            b'F' => number()
                .and_then(|n| u32::try_from(n).map_err(|_| bad()))
                .map(Flag::ClientFlags),
            b'C' => number().map(Flag::CompareCas),
            b'E' => number().map(Flag::NewCas),
            b'I' => bare(Flag::Invalidate),
            b'x' => bare(Flag::RemoveValue),
            b'D' => number().map(Flag::Delta),
            b'J' => number().map(Flag::Initial),
            b'M' => MetaMode::parse(token).map(Flag::Mode).ok_or_else(bad),
            _ => Err(bad()),
        }
    }
}

impl From<Flag> for MetaFlag {
    fn from(flag: Flag) -> MetaFlag {
        flag.encode()
    }
}

/// The mode of a request's `M` flag, if it has a valid one.
pub(crate) fn mode_of(flags: &[MetaFlag]) -> Option<MetaMode> {
    let flag = flags.iter().find(|flag| flag.flag == b'M')?;
    MetaMode::parse(flag.token.as_deref().unwrap_or_default())
}

/// Sets `flag` in `flags`, replacing one of the same letter.
pub(crate) fn put(flags: &mut Vec<MetaFlag>, flag: Flag) {
    let flag = flag.encode();
    match flags.iter_mut().find(|f| f.flag == flag.flag) {
        Some(slot) => *slot = flag,
        None => flags.push(flag),
    }
}

/// Removes every flag with the letter of `flag`.
pub(crate) fn remove(flags: &mut Vec<MetaFlag>, flag: &Flag) {
    let letter = flag.letter();
    flags.retain(|f| f.flag != letter);
}
