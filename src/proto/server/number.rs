//! memcached's number parsing (`safe_strtoull`, `safe_strtoul`, `safe_strtol`).
//!
//! memcached parses numbers with C's `strtoull`/`strtol` and then checks what
//! follows. That accepts more than plain decimals (leading white space, a `+`
//! sign, `-0`, a `-` on a number that wraps to a small value) and truncates
//! 64-bit results to 32 bits without complaint. A faithful server has to agree
//! on every one of those, so this module copies the C rules rather than using
//! `str::parse`.

/// C's `isspace` in the "C" locale.
fn is_c_space(byte: u8) -> bool {
    matches!(byte, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r')
}

/// What `strtoull`/`strtol` saw: the magnitude, its sign, and where it stopped.
struct Scanned {
    magnitude: u64,
    negative: bool,
    /// The index of the first byte not consumed (the C `endptr`).
    end: usize,
    /// The magnitude did not fit in 64 bits (C's `ERANGE` for `strtoull`).
    overflow: bool,
}

/// Scans like `strtoull(s, &end, 10)`: spaces, an optional sign, digits.
/// Returns `None` when no digit was found (`endptr == str`).
fn scan(s: &[u8]) -> Option<Scanned> {
    let mut i = 0;
    while i < s.len() && is_c_space(s[i]) {
        i += 1;
    }
    let mut negative = false;
    if i < s.len() && (s[i] == b'+' || s[i] == b'-') {
        negative = s[i] == b'-';
        i += 1;
    }
    let digits_start = i;
    let mut magnitude: u64 = 0;
    let mut overflow = false;
    while i < s.len() && s[i].is_ascii_digit() {
        let digit = u64::from(s[i] - b'0');
        match magnitude.checked_mul(10).and_then(|m| m.checked_add(digit)) {
            Some(m) => magnitude = m,
            None => overflow = true,
        }
        i += 1;
    }
    if i == digits_start {
        return None;
    }
    Some(Scanned {
        magnitude,
        negative,
        end: i,
        overflow,
    })
}

/// memcached accepts a number only when it is followed by white space or the
/// end of the string (a NUL byte counts as the end, as in C).
fn ends_well(s: &[u8], end: usize) -> bool {
    match s.get(end) {
        None => true,
        Some(&byte) => byte == 0 || is_c_space(byte),
    }
}

/// `safe_strtoull`: an unsigned 64-bit number. `-N` is accepted only when the
/// wrapped result still looks positive as a signed number (so `-0` is 0).
pub(crate) fn strtoull(s: &[u8]) -> Option<u64> {
    let scanned = scan(s)?;
    if scanned.overflow || !ends_well(s, scanned.end) {
        return None;
    }
    let value = if scanned.negative {
        scanned.magnitude.wrapping_neg()
    } else {
        scanned.magnitude
    };
    if (value as i64) < 0 && s[..scanned.end].contains(&b'-') {
        return None;
    }
    Some(value)
}

/// Parses a number as memcached's `safe_strtoull` does: leading white space,
/// an optional sign (`-0` is 0; a `-` is refused when the result wraps), then
/// digits, followed by white space, a NUL byte or the end.
///
/// The mock uses it to read stored values for `incr`/`decr`, so that
/// `" 12"`, `"+12"` and `"1 2"` count as numbers exactly when memcached says so.
///
/// ```
/// use memclient::proto::server::parse_u64;
///
/// assert_eq!(parse_u64(b" +12"), Some(12));
/// assert_eq!(parse_u64(b"1 2"), Some(1));
/// assert_eq!(parse_u64(b"12a"), None);
/// ```
pub fn parse_u64(bytes: &[u8]) -> Option<u64> {
    strtoull(bytes)
}

/// `safe_strtoul` into a `uint32_t`: parsed as a 64-bit `unsigned long`, then
/// truncated to 32 bits (so flags `4294967297` are stored as 1, as memcached does).
pub(crate) fn strtoul32(s: &[u8]) -> Option<u32> {
    strtoull(s).map(|value| value as u32)
}

/// `safe_strtol` before its truncation to `int32_t`: a signed 64-bit `long`.
///
/// memcached stores the result in an `int32_t` without a range check, so
/// callers that mimic it truncate with `as i32` (exptime `2147483648` becomes
/// negative, hence already expired; `4294967296` becomes 0, never expires).
pub(crate) fn strtol(s: &[u8]) -> Option<i64> {
    let scanned = scan(s)?;
    if !ends_well(s, scanned.end) {
        return None;
    }
    // strtol clamps (and sets ERANGE) outside the range of `long`.
    let limit = if scanned.negative {
        1u64 << 63
    } else {
        i64::MAX as u64
    };
    if scanned.overflow || scanned.magnitude > limit {
        return None;
    }
    Some(if scanned.negative {
        (scanned.magnitude as i64).wrapping_neg()
    } else {
        scanned.magnitude as i64
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strtoull_follows_c() {
        assert_eq!(strtoull(b"12"), Some(12));
        assert_eq!(strtoull(b" 12"), Some(12));
        assert_eq!(strtoull(b"+12"), Some(12));
        assert_eq!(strtoull(b"-0"), Some(0));
        assert_eq!(strtoull(b"-1"), None);
        assert_eq!(strtoull(b"-18446744073709551615"), Some(1));
        assert_eq!(strtoull(b"18446744073709551615"), Some(u64::MAX));
        assert_eq!(strtoull(b"18446744073709551616"), None);
        assert_eq!(strtoull(b"12a"), None);
        assert_eq!(strtoull(b"1 2"), Some(1));
        assert_eq!(strtoull(b"5\r\n"), Some(5));
        assert_eq!(strtoull(b"5\0x"), Some(5));
        assert_eq!(strtoull(b""), None);
        assert_eq!(strtoull(b"-"), None);
    }

    #[test]
    fn strtoul32_truncates() {
        assert_eq!(strtoul32(b"4294967296"), Some(0));
        assert_eq!(strtoul32(b"4294967297"), Some(1));
        assert_eq!(strtoul32(b"-1"), None);
    }

    #[test]
    fn strtol_range() {
        assert_eq!(strtol(b"-5"), Some(-5));
        assert_eq!(strtol(b"9223372036854775807"), Some(i64::MAX));
        assert_eq!(strtol(b"9223372036854775808"), None);
        assert_eq!(strtol(b"-9223372036854775808"), Some(i64::MIN));
        assert_eq!(strtol(b"2147483648").map(|v| v as i32), Some(i32::MIN));
        assert_eq!(strtol(b"x"), None);
    }
}
