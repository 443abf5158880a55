//! [`BigInt`]: an integer of any size, as Python stores one.

use std::fmt;
use std::str::FromStr;

/// An integer of any size, held as its canonical decimal text.
///
/// Python's `int` has no upper bound and pymemcache stores every one as
/// decimal text with flag 2, so a value written by Python may not fit any
/// Rust integer. [`PyFlags`](super::PyFlags) reads those that do not fit an
/// `i64` (flag 2) or an `i128` (flag 4) as a `BigInt`, losing nothing; hand
/// [`as_str`](Self::as_str) to a big-number crate for arithmetic.
///
/// ```
/// use memclient::serde::BigInt;
///
/// let n: BigInt = " -000987654321098765432109876543210987654321 ".parse().unwrap();
/// assert_eq!(n.as_str(), "-987654321098765432109876543210987654321");
/// assert_eq!(n.to_i128(), None);
/// assert!("12a".parse::<BigInt>().is_err());
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct BigInt(String);

/// The text is not a decimal integer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseBigIntError;

impl fmt::Display for ParseBigIntError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("not a decimal integer")
    }
}

impl std::error::Error for ParseBigIntError {}

impl BigInt {
    /// The canonical decimal text: an optional `-`, then digits without
    /// leading zeros.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The number, when it fits an `i128`.
    pub fn to_i128(&self) -> Option<i128> {
        self.0.parse().ok()
    }

    /// The number, when it fits an `i64`.
    pub fn to_i64(&self) -> Option<i64> {
        self.0.parse().ok()
    }
}

impl FromStr for BigInt {
    type Err = ParseBigIntError;

    /// Parses decimal text as Python's `int()` reads pymemcache's values:
    /// surrounding ASCII whitespace (memcached pads `incr` results), an
    /// optional sign, digits with single `_` between them.
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let text = text.trim_matches(|c: char| c.is_ascii_whitespace());
        let (negative, digits) = match text.as_bytes().first() {
            Some(b'-') => (true, &text[1..]),
            Some(b'+') => (false, &text[1..]),
            _ => (false, text),
        };
        let valid = digits
            .split('_')
            .all(|group| !group.is_empty() && group.bytes().all(|byte| byte.is_ascii_digit()));
        if !valid {
            return Err(ParseBigIntError);
        }
        let digits: String = digits.chars().filter(|&c| c != '_').collect();
        let digits = digits.trim_start_matches('0');
        Ok(BigInt(match (digits.is_empty(), negative) {
            (true, _) => "0".to_string(),
            (false, true) => format!("-{digits}"),
            (false, false) => digits.to_string(),
        }))
    }
}

impl fmt::Display for BigInt {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl From<i64> for BigInt {
    fn from(number: i64) -> Self {
        BigInt(number.to_string())
    }
}

impl From<i128> for BigInt {
    fn from(number: i128) -> Self {
        BigInt(number.to_string())
    }
}

impl From<u64> for BigInt {
    fn from(number: u64) -> Self {
        BigInt(number.to_string())
    }
}

impl From<u128> for BigInt {
    fn from(number: u128) -> Self {
        BigInt(number.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canonical_forms() {
        for (text, canonical) in [
            ("0", "0"),
            ("-0", "0"),
            ("+007", "7"),
            ("1_000", "1000"),
            ("\t42 \r\n", "42"),
            (
                "-229945296003154972446155061460717453440661134452189306234942",
                "-229945296003154972446155061460717453440661134452189306234942",
            ),
        ] {
            assert_eq!(
                text.parse::<BigInt>().unwrap().as_str(),
                canonical,
                "{text}"
            );
        }
    }

    #[test]
    fn what_python_int_refuses_is_refused() {
        for text in [
            "", "-", "+-1", "1__0", "_1", "1_", "1.0", "0x10", "١٢", "1 2",
        ] {
            assert_eq!(text.parse::<BigInt>(), Err(ParseBigIntError), "{text:?}");
        }
    }

    #[test]
    fn narrowing() {
        let max: BigInt = i128::MAX.into();
        assert_eq!(max.to_i128(), Some(i128::MAX));
        assert_eq!(max.to_i64(), None);
        let past: BigInt = "170141183460469231731687303715884105728".parse().unwrap();
        assert_eq!(past.to_i128(), None);
    }
}
