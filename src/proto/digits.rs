//! Decimal numbers on the wire, written without allocating: the encoders of
//! classic and meta requests share them.

use bytes::{BufMut, BytesMut};

/// Writes `n` in decimal, without allocating.
pub(crate) fn put_u64(mut n: u64, out: &mut BytesMut) {
    let mut digits = [0u8; 20];
    let mut start = digits.len();
    loop {
        start -= 1;
        digits[start] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    out.put_slice(&digits[start..]);
}

/// Writes `n` in decimal, with a `-` when negative.
pub(crate) fn put_i64(n: i64, out: &mut BytesMut) {
    if n < 0 {
        out.put_u8(b'-');
    }
    put_u64(n.unsigned_abs(), out);
}
