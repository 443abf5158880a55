//! Where the client's own requests end in an encoded batch, as a server reads
//! them: a command line, plus the data block of a storage command.
//!
//! The TLS stream uses it to end each TLS record at a request boundary.
//! memcached 1.6.18 reads a data block that straddles its 16 KiB read buffer
//! straight from OpenSSL, asking for just the rest of the block; the remainder
//! of that TLS record stays decrypted inside OpenSSL while memcached waits for
//! the socket to become readable again, which it never does when the client
//! sent everything at once: a pipelined batch of writes larger than 16 KiB
//! stalls until its timeout. Records that end where requests end leave
//! nothing behind.

/// The length of the whole requests at the start of `bytes`, up to `target`
/// bytes (at least one request, however long). `bytes.len()` when the first
/// request cannot be framed (it is sent as it is, as without TLS).
pub(crate) fn whole_requests_len(bytes: &[u8], target: usize) -> usize {
    let mut end = 0;
    while end < bytes.len() {
        match request_len(&bytes[end..]) {
            Some(len) if end == 0 || end + len <= target => end += len,
            Some(_) => break,
            None if end == 0 => return bytes.len(),
            None => break,
        }
        if end >= target {
            break;
        }
    }
    end
}

/// The length of the one request at the start of `bytes`, if it is all there.
fn request_len(bytes: &[u8]) -> Option<usize> {
    let line_end = memchr::memmem::find(bytes, b"\r\n")? + 2;
    let line = &bytes[..line_end - 2];
    let mut words = line.split(|&b| b == b' ').filter(|w| !w.is_empty());
    let command = words.next()?;
    // The word that gives the data block's length, by command.
    let position = match command {
        b"set" | b"add" | b"replace" | b"append" | b"prepend" | b"cas" => 3,
        b"ms" => 1,
        _ => return Some(line_end),
    };
    let data_len: usize = std::str::from_utf8(words.nth(position)?)
        .ok()?
        .parse()
        .ok()?;
    let total = line_end.checked_add(data_len)?.checked_add(2)?;
    (total <= bytes.len()).then_some(total)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_lines_and_data_blocks() {
        let batch = b"set a 0 0 5\r\nx\r\nyz\r\nget a b\r\nms k 3 T0\r\nabc\r\nmn\r\n";
        assert_eq!(request_len(batch), Some(20), "a data block may hold CRLF");
        assert_eq!(request_len(&batch[20..]), Some(9));
        assert_eq!(request_len(&batch[29..]), Some(16));
        assert_eq!(request_len(&batch[45..]), Some(4));
        assert_eq!(whole_requests_len(batch, 1000), batch.len());
        assert_eq!(whole_requests_len(batch, 30), 29);
        // At least one request, however long.
        assert_eq!(whole_requests_len(batch, 5), 20);
        assert_eq!(request_len(b"cas k 1 2 3 99 noreply\r\nabc\r\n"), Some(29));
    }

    #[test]
    fn what_cannot_be_framed_goes_as_it_is() {
        assert_eq!(whole_requests_len(b"set a 0 0 x\r\n", 100), 13);
        assert_eq!(whole_requests_len(b"set a 0 0 5\r\nab", 100), 15);
        assert_eq!(whole_requests_len(b"get a", 100), 5);
        // After whole requests, an incomplete one waits for the next call.
        assert_eq!(whole_requests_len(b"get a\r\nset b 0 0 9\r\nab", 100), 7);
        assert_eq!(whole_requests_len(b"", 100), 0);
    }
}
