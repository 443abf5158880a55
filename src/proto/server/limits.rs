//! The sizes memcached 1.6.18 enforces on what a client sends.

/// memcached's default item size limit (`-I 1m`).
pub const DEFAULT_MAX_ITEM_SIZE: usize = 1024 * 1024;

/// The longest line memcached waits for without a line end (except `get`/`gets`).
pub const MAX_LINE_LEN: usize = 2048;

/// The bytes memcached 1.6.18 (64-bit, cas enabled) charges for an item
/// against the item size limit (`-I`) and the memory limit (`-m`).
///
/// That is its `ITEM_ntotal`: a 48-byte header, the key and a NUL, 4 bytes of
/// flags when they are not 0, the value with its `\r\n`, and the 8-byte cas.
/// With the default 1 MiB limit the largest value stored under a 1-byte key
/// with flags 0 is therefore 1 048 516 bytes, which is what the server accepts.
///
/// ```
/// use memclient::proto::server::{item_size, DEFAULT_MAX_ITEM_SIZE};
///
/// assert_eq!(item_size(1, 0, 1_048_516), DEFAULT_MAX_ITEM_SIZE);
/// assert_eq!(item_size(1, 7, 0), 48 + 2 + 4 + 2 + 8);
/// ```
pub fn item_size(key_len: usize, flags: u32, value_len: usize) -> usize {
    let flags_len = if flags == 0 { 0 } else { 4 };
    48usize
        .saturating_add(key_len)
        .saturating_add(1)
        .saturating_add(flags_len)
        .saturating_add(value_len)
        .saturating_add(2)
        .saturating_add(8)
}
