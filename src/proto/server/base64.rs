//! Base64 as memcached 1.6.18 speaks it for binary keys (the `b` meta flag),
//! on top of the `base64` crate the client direction uses too.
//!
//! Encoding is the standard alphabet with padding. Decoding follows
//! memcached's `base64_decode` (from hostap) rather than a strict decoder,
//! because the server's answer depends on its quirks: bytes outside the
//! alphabet are skipped, the count of the remaining ones must be a multiple
//! of four, and decoding stops after the first block holding `=`, each `=`
//! read as zero bits and dropping one byte (so `Y=Q=` decodes to one byte).
//! An empty result is a failure.

use base64::engine::general_purpose::STANDARD;
use base64::Engine;

/// `bytes` in standard base64 with `=` padding.
pub(crate) fn base64_encode(bytes: &[u8]) -> Vec<u8> {
    STANDARD.encode(bytes).into_bytes()
}

/// memcached's `base64_decode`: the decoded bytes, or `None` where memcached
/// fails (its `0` return).
pub(crate) fn base64_decode(text: &[u8]) -> Option<Vec<u8>> {
    let in_alphabet = |c: &u8| c.is_ascii_alphanumeric() || matches!(c, b'+' | b'/' | b'=');
    let mut symbols: Vec<u8> = text.iter().copied().filter(in_alphabet).collect();
    if symbols.is_empty() || symbols.len() % 4 != 0 {
        return None;
    }
    if let Some(block) = symbols.chunks(4).position(|block| block.contains(&b'=')) {
        symbols.truncate((block + 1) * 4);
    }
    let last = symbols.len() - 4;
    let pad = symbols[last..].iter().filter(|&&c| c == b'=').count();
    if pad > 2 {
        return None;
    }
    // Whole blocks of the alphabet always decode; `A` is the zero the C code
    // reads for `=`.
    for c in &mut symbols[last..] {
        if *c == b'=' {
            *c = b'A';
        }
    }
    let mut out = STANDARD.decode(&symbols).ok()?;
    out.truncate(out.len() - pad);
    (!out.is_empty()).then_some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodes_with_padding() {
        assert_eq!(base64_encode(b""), b"");
        assert_eq!(base64_encode(b"a"), b"YQ==");
        assert_eq!(base64_encode(b"ab"), b"YWI=");
        assert_eq!(base64_encode(b"binary"), b"YmluYXJ5");
        assert_eq!(base64_encode(&[0xff, 0x00, 0x20]), b"/wAg");
    }

    #[test]
    fn decodes_like_memcached() {
        assert_eq!(base64_decode(b"YQ==").as_deref(), Some(&b"a"[..]));
        assert_eq!(base64_decode(b"YmluYXJ5").as_deref(), Some(&b"binary"[..]));
        assert_eq!(base64_decode(b"enp6").as_deref(), Some(&b"zzz"[..]));
        // Checked against memcached 1.6.18: `mg Y=Q= b k` answers `EN kYA== b`.
        assert_eq!(base64_decode(b"Y=Q=").as_deref(), Some(&b"`"[..]));
        // Non-canonical trailing bits are dropped, not refused.
        assert_eq!(base64_decode(b"YR==").as_deref(), Some(&b"a"[..]));
        // Bytes outside the alphabet are skipped.
        assert_eq!(base64_decode(b"Y!Q==").as_deref(), Some(&b"a"[..]));
        for bad in [
            &b""[..],
            b"zz",
            b"YQ",
            b"YQ=",
            b"!!!!",
            b"b64",
            b"====",
            b"Y===",
        ] {
            assert_eq!(base64_decode(bad), None, "{bad:?}");
        }
        // Decoding stops after the first padded block.
        assert_eq!(base64_decode(b"YQ==YQ==").as_deref(), Some(&b"a"[..]));
    }

    #[test]
    fn round_trips_any_bytes() {
        for len in 0..40u8 {
            let bytes: Vec<u8> = (0..len).map(|i| i.wrapping_mul(37) ^ 0xa5).collect();
            let decoded = base64_decode(&base64_encode(&bytes));
            assert_eq!(decoded, (!bytes.is_empty()).then_some(bytes));
        }
    }
}
