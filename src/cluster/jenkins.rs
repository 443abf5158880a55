//! Bob Jenkins' one-at-a-time hash: libmemcached's default hash
//! (`MEMCACHED_HASH_DEFAULT`), used for both the continuum points and the
//! keys when ketama is switched on with `MEMCACHED_BEHAVIOR_KETAMA` alone.

/// The one-at-a-time hash of `data`, as libhashkit computes it.
pub fn one_at_a_time(data: &[u8]) -> u32 {
    let mut h: u32 = 0;
    for &byte in data {
        // libhashkit widens a C `char`, which is signed on x86 and x86-64:
        // bytes above 0x7f add as 0xffff_ff80.. there. (ARM builds, where
        // `char` is unsigned, place non-ASCII keys differently.)
        h = h.wrapping_add(byte as i8 as u32);
        h = h.wrapping_add(h << 10);
        h ^= h >> 6;
    }
    h = h.wrapping_add(h << 3);
    h ^= h >> 11;
    h.wrapping_add(h << 15)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_values() {
        assert_eq!(one_at_a_time(b""), 0);
        assert_eq!(one_at_a_time(b"a"), 0xca2e_9442);
        assert_eq!(
            one_at_a_time(b"The quick brown fox jumps over the lazy dog"),
            0x519e_91f5
        );
        // A byte above 0x7f counts as a negative `char`.
        assert_eq!(one_at_a_time(b"\xe9"), 0x4098_48ff);
    }
}
