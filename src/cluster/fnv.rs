//! FNV-1a as twemproxy's and libmemcached's `fnv1a_64` key hash computes it.

/// The offset basis of 64-bit FNV.
const FNV_64_INIT: u64 = 0xcbf2_9ce4_8422_2325;
/// The prime of 64-bit FNV.
const FNV_64_PRIME: u64 = 0x0000_0100_0000_01b3;

/// twemproxy's `fnv1a_64` (`hash: fnv1a_64`): 64-bit FNV-1a reduced to its
/// low 32 bits, which is what both twemproxy and libmemcached place keys by.
///
/// The low 32 bits of a 64-bit FNV only depend on the low 32 bits of its
/// constants, so the sum runs in `u32` as twemproxy's does. Bytes are read as
/// C's signed `char` (as on x86 and most ARM Linux builds of twemproxy): a
/// byte of 0x80 or more XORs in its sign-extended value, so keys outside
/// ASCII land where twemproxy puts them.
///
/// ```
/// // 64-bit FNV-1a of "a" is 0xaf63dc4c8601ec8c.
/// assert_eq!(memclient::cluster::fnv1a_64(b"a"), 0x8601_ec8c);
/// ```
pub fn fnv1a_64(data: &[u8]) -> u32 {
    data.iter().fold(FNV_64_INIT as u32, |hash, &byte| {
        (hash ^ (byte as i8 as i32 as u32)).wrapping_mul(FNV_64_PRIME as u32)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn low_half_of_the_64_bit_sum_for_ascii() {
        // Reference 64-bit FNV-1a values (the FNV authors' test suite).
        for (data, full) in [
            (&b""[..], 0xcbf2_9ce4_8422_2325_u64),
            (b"a", 0xaf63_dc4c_8601_ec8c),
            (b"foobar", 0x8594_4171_f739_67e8),
        ] {
            assert_eq!(fnv1a_64(data), full as u32, "{data:?}");
        }
    }

    #[test]
    fn high_bytes_are_sign_extended_as_a_c_char() {
        let sign_extended = (FNV_64_INIT as u32 ^ 0xffff_ff80).wrapping_mul(FNV_64_PRIME as u32);
        assert_eq!(fnv1a_64(&[0x80]), sign_extended);
    }
}
