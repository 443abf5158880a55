//! MurmurHash3, x86 32-bit variant: the score function of pymemcache's
//! rendezvous hashing.
//!
//! Written here rather than taken from a crate: it is 30 lines, it must match
//! pymemcache bit for bit (including how pymemcache sees non-ASCII text, see
//! [`pymemcache_bytes`]), and the crates that offer it are either unmaintained
//! or pull in a whole family of hashes for this one function.

const C1: u32 = 0xcc9e_2d51;
const C2: u32 = 0x1b87_3593;

/// MurmurHash3_x86_32 of `data` with `seed`.
pub fn murmur3_32(data: &[u8], seed: u32) -> u32 {
    let mut h = seed;
    let mut blocks = data.chunks_exact(4);
    for block in &mut blocks {
        let k = u32::from_le_bytes([block[0], block[1], block[2], block[3]]);
        h ^= mix(k);
        h = h.rotate_left(13).wrapping_mul(5).wrapping_add(0xe654_6b64);
    }
    let tail = blocks.remainder();
    if !tail.is_empty() {
        let k = tail
            .iter()
            .rev()
            .fold(0u32, |k, &byte| (k << 8) | u32::from(byte));
        h ^= mix(k);
    }
    // The length is mixed in modulo 2^32, as the reference does.
    h ^= data.len() as u32;
    h ^= h >> 16;
    h = h.wrapping_mul(0x85eb_ca6b);
    h ^= h >> 13;
    h = h.wrapping_mul(0xc2b2_ae35);
    h ^ (h >> 16)
}

fn mix(k: u32) -> u32 {
    k.wrapping_mul(C1).rotate_left(15).wrapping_mul(C2)
}

/// The bytes pymemcache's pure-Python murmur3 actually hashes for a text.
///
/// It indexes the `str` by character and keeps the low 8 bits of each code
/// point, so for ASCII this is the text itself, and for other UTF-8 text one
/// byte per character. Input that is not UTF-8 cannot be a Python `str` key;
/// it is hashed as is.
pub(crate) fn pymemcache_bytes(text: &[u8]) -> std::borrow::Cow<'_, [u8]> {
    if text.is_ascii() {
        return std::borrow::Cow::Borrowed(text);
    }
    match std::str::from_utf8(text) {
        Ok(text) => text.chars().map(|c| (u32::from(c) & 0xff) as u8).collect(),
        Err(_) => std::borrow::Cow::Borrowed(text),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_values() {
        // Published test values of MurmurHash3_x86_32.
        assert_eq!(murmur3_32(b"", 0), 0);
        assert_eq!(murmur3_32(b"", 1), 0x514e_28b7);
        assert_eq!(murmur3_32(b"", 0xffff_ffff), 0x81f1_6f39);
        assert_eq!(murmur3_32(b"\0\0\0\0", 0), 0x2362_f9de);
        assert_eq!(murmur3_32(b"aaaa", 0x9747_b28c), 0x5a97_808a);
        assert_eq!(murmur3_32(b"abc", 0), 0xb3dd_93fa);
        assert_eq!(murmur3_32(b"Hello, world!", 0x9747_b28c), 0x2488_4cba);
        assert_eq!(
            murmur3_32(b"The quick brown fox jumps over the lazy dog", 0),
            0x2e4f_f723
        );
    }

    #[test]
    fn python_view_of_text() {
        assert_eq!(&*pymemcache_bytes(b"abc"), b"abc");
        // U+00E9 is one character with code point 0xe9; U+20AC keeps 0xac.
        assert_eq!(&*pymemcache_bytes("é€".as_bytes()), &[0xe9, 0xac]);
        assert_eq!(&*pymemcache_bytes(b"\xff\xfe"), b"\xff\xfe");
    }
}
