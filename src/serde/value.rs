//! [`CacheValue`]: the values of the default serde, and the conversions
//! into and out of them.

use bytes::Bytes;

use super::BigInt;

/// A value as pymemcache's serializer stores it: the value type of the
/// default serde, [`PyFlags`](super::PyFlags).
///
/// Everything a cache usually holds converts into one, so `set` takes it
/// directly: text (`&str`, `String`, `&String`), bytes (`Vec<u8>`, `&[u8]`,
/// `&Vec<u8>`, `Bytes`, byte string literals), integers of every width
/// (`i64`, `u64` as `incr` returns them, `i128`, ...), `bool` (stored as the
/// integer 1 or 0) and `f64` (stored as its text). The getters read a value
/// back as the type you ask for, or `None`:
///
/// ```
/// use memclient::{CacheValue, Client};
/// # futures_lite::future::block_on(async {
/// let client = Client::new(memclient_mock::MockMemcache::new());
///
/// client.set("name", "Ada").await?;
/// client.set("visits", 41u64).await?;
/// client.set("admin", true).await?;
/// client.set("ratio", 0.25).await?;
/// let visits = client.incr("visits", 1).await?;        // a u64...
/// client.set("copy", visits.unwrap_or(0)).await?;      // ...stores as is
///
/// let name = client.get("name").await?.expect("stored");
/// assert_eq!(name.as_str(), Some("Ada"));
/// assert_eq!(name, CacheValue::from("Ada"));
/// let visits = client.get("visits").await?.expect("stored");
/// assert_eq!(visits.as_i64(), Some(42));
/// assert_eq!(visits.as_u64(), Some(42));
/// assert_eq!(client.get("admin").await?.and_then(|v| v.as_bool()), Some(true));
/// assert_eq!(client.get("ratio").await?.and_then(|v| v.as_f64()), Some(0.25));
///
/// // A match sees every kind, pymemcache's flags beside them.
/// match client.get("copy").await?.expect("stored") {
///     CacheValue::Int(n) => assert_eq!(n, 42),                 // flags 2
///     CacheValue::Text(text) => println!("text {text}"),       // flags 16
///     CacheValue::Bytes(bytes) => println!("{} bytes", bytes.len()),   // flags 0
///     CacheValue::Long(n) => println!("a Python 2 long {n}"),  // flags 4
///     CacheValue::BigInt(n) => println!("a big int {n}"),      // past i128
///     CacheValue::Pickle(data) => println!("a pickle of {} bytes", data.len()),
/// }
/// # Ok::<_, memclient::Error>(())
/// # }).unwrap();
/// ```
///
/// Python reads what these conversions store as pymemcache would: text as
/// `str`, bytes as `bytes`, integers as `int` (a `bool` as `1` or `0`), an
/// `f64` as the `str` of its digits. pymemcache pickles Python's floats and
/// bools (flags 1); this serde hands those back as [`CacheValue::Pickle`],
/// and the `pickle` feature's serde reads them as values.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum CacheValue {
    /// Raw bytes (flags 0, and any flags this serde does not know).
    Bytes(Bytes),
    /// UTF-8 text (flags 16).
    Text(String),
    /// An integer (flags 2) that fits an `i64`.
    Int(i64),
    /// A Python 2 long (flags 4) that fits an `i128`.
    Long(i128),
    /// An integer (flags 2 or 4) too large for `Int` or `Long`: Python's
    /// integers have no bound. Written with flags 2, as pymemcache does.
    BigInt(BigInt),
    /// A pickle written by Python (flags 1), returned as it is stored.
    Pickle(Bytes),
}

impl CacheValue {
    /// The bytes of a `Bytes` or `Pickle` value, the UTF-8 of a `Text`.
    pub fn as_bytes(&self) -> Option<&[u8]> {
        match self {
            CacheValue::Bytes(data) | CacheValue::Pickle(data) => Some(data),
            CacheValue::Text(text) => Some(text.as_bytes()),
            CacheValue::Int(_) | CacheValue::Long(_) | CacheValue::BigInt(_) => None,
        }
    }

    /// The text of a `Text` value.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            CacheValue::Text(text) => Some(text),
            _ => None,
        }
    }

    /// The number of an integer value (`Int`, or a `Long` or `BigInt` that
    /// fits an `i64`). Text is not parsed: `"42"` stored as text is `None`.
    #[doc(alias = "as_int")]
    pub fn as_i64(&self) -> Option<i64> {
        self.as_i128().and_then(|n| i64::try_from(n).ok())
    }

    /// The number of an integer value that fits a `u64`: what `incr` counts.
    pub fn as_u64(&self) -> Option<u64> {
        self.as_i128().and_then(|n| u64::try_from(n).ok())
    }

    /// The number of an integer value that fits an `i128` (`Int`, `Long`,
    /// a `BigInt` in range).
    pub fn as_i128(&self) -> Option<i128> {
        match self {
            CacheValue::Int(number) => Some((*number).into()),
            CacheValue::Long(number) => Some(*number),
            CacheValue::BigInt(number) => number.to_i128(),
            _ => None,
        }
    }

    /// The integer of any size: a `BigInt` value.
    pub fn as_big_int(&self) -> Option<&BigInt> {
        match self {
            CacheValue::BigInt(number) => Some(number),
            _ => None,
        }
    }

    /// The number of an `Int` value only; [`as_i64`](Self::as_i64) also
    /// reads a `Long` or `BigInt` in range.
    pub fn as_int(&self) -> Option<i64> {
        match self {
            CacheValue::Int(number) => Some(*number),
            _ => None,
        }
    }

    /// `true` for the integer 1, `false` for 0: how a `bool` is stored.
    pub fn as_bool(&self) -> Option<bool> {
        match self.as_i128() {
            Some(1) => Some(true),
            Some(0) => Some(false),
            _ => None,
        }
    }

    /// A float: the text an `f64` is stored as (`"0.25"`, `"NaN"`, `"inf"`),
    /// or an integer value (rounded to the nearest `f64` beyond 2^53).
    pub fn as_f64(&self) -> Option<f64> {
        match self {
            CacheValue::Text(text) => text.trim().parse().ok(),
            CacheValue::Int(number) => Some(*number as f64),
            CacheValue::Long(number) => Some(*number as f64),
            CacheValue::BigInt(number) => number.as_str().parse().ok(),
            _ => None,
        }
    }
}

impl From<Bytes> for CacheValue {
    fn from(data: Bytes) -> Self {
        CacheValue::Bytes(data)
    }
}

impl From<&Bytes> for CacheValue {
    fn from(data: &Bytes) -> Self {
        CacheValue::Bytes(data.clone())
    }
}

impl From<Vec<u8>> for CacheValue {
    fn from(data: Vec<u8>) -> Self {
        CacheValue::Bytes(data.into())
    }
}

impl From<&Vec<u8>> for CacheValue {
    fn from(data: &Vec<u8>) -> Self {
        CacheValue::Bytes(Bytes::copy_from_slice(data))
    }
}

impl From<&[u8]> for CacheValue {
    fn from(data: &[u8]) -> Self {
        CacheValue::Bytes(Bytes::copy_from_slice(data))
    }
}

impl<const N: usize> From<&[u8; N]> for CacheValue {
    fn from(data: &[u8; N]) -> Self {
        CacheValue::Bytes(Bytes::copy_from_slice(data))
    }
}

impl From<String> for CacheValue {
    fn from(text: String) -> Self {
        CacheValue::Text(text)
    }
}

impl From<&String> for CacheValue {
    fn from(text: &String) -> Self {
        CacheValue::Text(text.clone())
    }
}

impl From<&str> for CacheValue {
    fn from(text: &str) -> Self {
        CacheValue::Text(text.to_string())
    }
}

impl From<BigInt> for CacheValue {
    fn from(number: BigInt) -> Self {
        CacheValue::BigInt(number)
    }
}

impl From<bool> for CacheValue {
    /// The integer 1 or 0 (flags 2), which Python reads as `int`.
    fn from(on: bool) -> Self {
        CacheValue::Int(on.into())
    }
}

impl From<f64> for CacheValue {
    /// The float's shortest text that reads back to the same `f64`
    /// ([`as_f64`](CacheValue::as_f64)), stored as text (flags 16).
    fn from(number: f64) -> Self {
        CacheValue::Text(number.to_string())
    }
}

impl From<f32> for CacheValue {
    /// As for `f64`.
    fn from(number: f32) -> Self {
        CacheValue::from(f64::from(number))
    }
}

/// Integers that always fit an `i64`.
macro_rules! from_small_int {
    ($($int:ty),*) => {$(
        impl From<$int> for CacheValue {
            fn from(number: $int) -> Self {
                CacheValue::Int(number.into())
            }
        }
    )*};
}

from_small_int!(i8, i16, i32, i64, u8, u16, u32);

/// Integers that may not: an `Int` when they fit, else a `BigInt` (flags 2,
/// as pymemcache writes any `int`). Each widens losslessly to `$wide`.
macro_rules! from_wide_int {
    ($($int:ty => $wide:ty),*) => {$(
        impl From<$int> for CacheValue {
            fn from(number: $int) -> Self {
                match i64::try_from(number) {
                    Ok(number) => CacheValue::Int(number),
                    Err(_) => CacheValue::BigInt(BigInt::from(number as $wide)),
                }
            }
        }
    )*};
}

from_wide_int!(u64 => u128, u128 => u128, usize => u128, i128 => i128, isize => i128);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::serde::{PyFlags, Serde};

    /// Through the serde and back, as a client stores and reads it.
    fn stored(value: impl Into<CacheValue>) -> (CacheValue, u32) {
        let (data, flags) = PyFlags.serialize(b"k", &value.into()).unwrap();
        (PyFlags.deserialize(b"k", data, flags).unwrap(), flags)
    }

    #[test]
    fn integers_of_every_width_read_back_with_the_getters_users_guess() {
        let (value, flags) = stored(u64::MAX);
        assert_eq!(flags, 2, "pymemcache's flag for any int");
        assert_eq!(value.as_u64(), Some(u64::MAX));
        assert_eq!(value.as_i64(), None);
        assert_eq!(value.as_i128(), Some(u64::MAX.into()));
        assert_eq!(stored(42u64).0, CacheValue::Int(42));
        assert_eq!(stored(-7i8).0.as_i64(), Some(-7));
        assert_eq!(stored(i128::MIN).0.as_i128(), Some(i128::MIN));
        assert_eq!(
            stored(u128::MAX).0.as_big_int().map(|n| n.as_str().len()),
            Some(39)
        );
        assert_eq!(stored(usize::MAX).0.as_u64(), Some(usize::MAX as u64));
        // A Python 2 long reads through as_i64 when it fits.
        assert_eq!(CacheValue::Long(5).as_i64(), Some(5));
        assert_eq!(CacheValue::Long(5).as_int(), None);
        assert_eq!(CacheValue::Long(-1).as_u64(), None);
        // Text is not parsed as an integer.
        assert_eq!(CacheValue::from("42").as_i64(), None);
    }

    #[test]
    fn bools_are_one_and_zero_and_floats_their_text() {
        assert_eq!(stored(true), (CacheValue::Int(1), 2));
        assert_eq!(stored(false).0.as_bool(), Some(false));
        assert_eq!(CacheValue::Int(2).as_bool(), None);
        for x in [0.25, -1.0e-300, f64::MAX, f64::INFINITY, 0.1 + 0.2] {
            let (value, flags) = stored(x);
            assert_eq!(flags, 16);
            assert_eq!(value.as_f64(), Some(x), "{x} round-trips exactly");
        }
        assert!(stored(f64::NAN).0.as_f64().unwrap().is_nan());
        assert_eq!(stored(1.5f32).0.as_f64(), Some(1.5));
        assert_eq!(CacheValue::Int(3).as_f64(), Some(3.0));
        assert_eq!(CacheValue::from(&b"x"[..]).as_f64(), None);
    }

    #[test]
    fn borrowed_strings_and_buffers_convert() {
        let text = String::from("héllo");
        let buffer = vec![0u8, 255];
        let bytes = Bytes::from_static(b"b");
        assert_eq!(CacheValue::from(&text).as_str(), Some("héllo"));
        assert_eq!(CacheValue::from(&buffer).as_bytes(), Some(&[0u8, 255][..]));
        assert_eq!(CacheValue::from(&bytes), CacheValue::Bytes(bytes.clone()));
        assert_eq!(CacheValue::from(&buffer[..1]).as_bytes(), Some(&[0u8][..]));
    }
}
