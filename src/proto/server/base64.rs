//! Base64 as memcached 1.6.18 speaks it for binary keys (the `b` meta flag).
//!
//! Encoding is the standard alphabet with padding. Decoding copies
//! memcached's `base64_decode` (from hostap) rather than a strict decoder,
//! because the server's answer depends on its quirks: bytes outside the
//! alphabet are skipped, the count of the remaining ones must be a multiple
//! of four, and decoding stops after the first block holding `=` (so `Y=Q=`
//! decodes to one byte). An empty result is a failure.

const TABLE: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/// Marks a byte outside the alphabet in the decoding table.
const INVALID: u8 = 0x80;

/// `bytes` in standard base64 with `=` padding.
pub fn base64_encode(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(TABLE[((n >> (18 - 6 * i)) & 63) as usize]);
            } else {
                out.push(b'=');
            }
        }
    }
    out
}

/// memcached's `base64_decode`: the decoded bytes, or `None` where memcached
/// fails (its `0` return).
pub fn base64_decode(text: &[u8]) -> Option<Vec<u8>> {
    let mut table = [INVALID; 256];
    for (i, &c) in TABLE.iter().enumerate() {
        table[usize::from(c)] = i as u8;
    }
    table[usize::from(b'=')] = 0;
    let count = text
        .iter()
        .filter(|&&c| table[usize::from(c)] != INVALID)
        .count();
    if count == 0 || count % 4 != 0 {
        return None;
    }
    let mut out = Vec::with_capacity(count / 4 * 3);
    let mut block = [0u8; 4];
    let mut filled = 0;
    let mut pad = 0;
    for &c in text {
        let value = table[usize::from(c)];
        if value == INVALID {
            continue;
        }
        if c == b'=' {
            pad += 1;
        }
        block[filled] = value;
        filled += 1;
        if filled == 4 {
            out.push((block[0] << 2) | (block[1] >> 4));
            out.push((block[1] << 4) | (block[2] >> 2));
            out.push((block[2] << 6) | block[3]);
            filled = 0;
            if pad > 0 {
                match pad {
                    1 => {
                        out.pop();
                    }
                    2 => {
                        out.truncate(out.len() - 2);
                    }
                    _ => return None,
                }
                break;
            }
        }
    }
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
        // Bytes outside the alphabet are skipped.
        assert_eq!(base64_decode(b"Y!Q==").as_deref(), Some(&b"a"[..]));
        for bad in [&b""[..], b"zz", b"YQ", b"YQ=", b"!!!!", b"b64", b"===="] {
            assert_eq!(base64_decode(bad), None, "{bad:?}");
        }
        // Decoding stops after the first padded block.
        assert_eq!(base64_decode(b"YQ==YQ==").as_deref(), Some(&b"a"[..]));
    }
}
