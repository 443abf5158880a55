//! Base64 keys of the meta commands' `b` flag.
//!
//! memcached decodes the key of a `b` request with the standard alphabet and
//! padding (`Zm9vIGJhcg==`), and answers `k` and `ME` keys the same way.

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use bytes::{Bytes, BytesMut};

use crate::{Error, Result};

/// The length of the base64 form of `len` bytes (with padding).
pub(crate) fn encoded_len(len: usize) -> usize {
    len.div_ceil(3).saturating_mul(4)
}

/// Appends the base64 form of `key` to `out`.
pub(super) fn encode(key: &[u8], out: &mut BytesMut) {
    let start = out.len();
    out.resize(start + encoded_len(key.len()), 0);
    // The slice is exactly the encoded length, so this cannot fail; should it,
    // the key is sent as an empty token and the server's error says so.
    let written = STANDARD.encode_slice(key, &mut out[start..]).unwrap_or(0);
    out.truncate(start + written);
}

/// The key a server returned in base64.
pub(super) fn decode(encoded: &[u8]) -> Result<Bytes> {
    STANDARD
        .decode(encoded)
        .map(Bytes::from)
        .map_err(|_| Error::protocol("returned key is not valid base64", encoded))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_any_bytes() {
        for key in [&b""[..], b"f", b"fo", b"foo", b"foo bar", b"\r\n\xff\x00"] {
            let mut out = BytesMut::from(&b"mg "[..]);
            encode(key, &mut out);
            assert_eq!(out.len(), 3 + encoded_len(key.len()));
            assert_eq!(&decode(&out[3..]).unwrap()[..], key);
        }
        let mut out = BytesMut::new();
        encode(b"foo bar", &mut out);
        assert_eq!(&out[..], b"Zm9vIGJhcg==");
        assert!(decode(b"Zm9v!").is_err());
    }
}
