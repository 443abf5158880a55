//! The flags a meta reply returns, typed: the one place the client reads
//! their letters (`c`, `f`, `t`, `l`, `h`, `s`, `O`, `k`, `W`, `X`, `Z`).

use bytes::Bytes;

use crate::{Error, MetaFlag, MetaResponse, Result};

/// What a meta reply's flags say. Each field is `None` (or `false`) when the
/// reply does not carry its flag.
///
/// ```
/// use memclient::proto::Returned;
/// use memclient::{MetaFlag, MetaResponse, MetaStatus};
///
/// let reply = MetaResponse {
///     status: Some(MetaStatus::Header),
///     flags: vec![MetaFlag::with(b'c', "42"), MetaFlag::with(b't', "-1"), MetaFlag::bare(b'W')],
///     ..MetaResponse::default()
/// };
/// let returned = Returned::decode(&reply)?;
/// assert_eq!((returned.cas, returned.ttl, returned.won), (Some(42), Some(-1), true));
/// # Ok::<_, memclient::Error>(())
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Returned {
    /// `c`: the cas unique.
    pub cas: Option<u64>,
    /// `f`: the client flags.
    pub client_flags: Option<u32>,
    /// `t`: seconds left to live; -1 when the item never expires.
    pub ttl: Option<i64>,
    /// `l`: seconds since the item was last accessed.
    pub last_access: Option<i64>,
    /// `h`: whether the item was read before.
    pub hit_before: Option<bool>,
    /// `s`: the size of the value.
    pub size: Option<usize>,
    /// `O`: the opaque token, echoed.
    pub opaque: Option<Bytes>,
    /// `k`: the key (already base64-decoded for a `b` request).
    pub key: Option<Bytes>,
    /// `W`: this caller won the right to recache the item.
    pub won: bool,
    /// `X`: the item is stale.
    pub stale: bool,
    /// `Z`: another caller already won the recache.
    pub win_sent: bool,
}

impl Returned {
    /// Reads the flags of `reply`; [`Error::Protocol`] for a numeric flag
    /// whose token is not a number. The first flag of a letter counts.
    pub fn decode(reply: &MetaResponse) -> Result<Returned> {
        let mut out = Returned::default();
        for flag in &reply.flags {
            match flag.flag {
                b'c' => first(&mut out.cas, flag, number)?,
                b'f' => first(&mut out.client_flags, flag, number)?,
                b't' => first(&mut out.ttl, flag, number)?,
                b'l' => first(&mut out.last_access, flag, number)?,
                b'h' => first(&mut out.hit_before, flag, |f| {
                    number::<u8>(f).map(|h| h != 0)
                })?,
                b's' => first(&mut out.size, flag, number)?,
                b'O' => first(&mut out.opaque, flag, |f| Ok(f.clone()))?,
                b'k' => first(&mut out.key, flag, |f| Ok(f.clone()))?,
                b'W' => out.won = true,
                b'X' => out.stale = true,
                b'Z' => out.win_sent = true,
                _ => {}
            }
        }
        Ok(out)
    }
}

/// Fills `slot` from `flag`'s token, unless an earlier flag of the letter
/// did (a flag without a token leaves it empty).
fn first<T>(
    slot: &mut Option<T>,
    flag: &MetaFlag,
    read: impl FnOnce(&Bytes) -> Result<T>,
) -> Result<()> {
    if let (None, Some(token)) = (&slot, &flag.token) {
        *slot = Some(read(token)?);
    }
    Ok(())
}

/// A numeric token.
fn number<N: std::str::FromStr>(token: &Bytes) -> Result<N> {
    std::str::from_utf8(token)
        .ok()
        .and_then(|text| text.parse().ok())
        .ok_or_else(|| Error::protocol("bad numeric meta flag", token))
}
