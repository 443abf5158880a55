//! Line framing, number parsing and error lines: the small pieces every reply
//! parser of the client side shares. Nothing here allocates on success.

use crate::Error;

/// The first complete line of a buffer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Line {
    /// Length of the line without its terminator.
    pub content: usize,
    /// Length of the line with its terminator (`\r\n` or `\n`).
    pub total: usize,
    /// True when the line ends in `\r\n`, false for a bare `\n`.
    pub crlf: bool,
}

/// Finds the first line of `buf`.
///
/// `scanned` is how many bytes at the front of `buf` are already known to hold
/// no `\n`: a line arriving one byte at a time is searched once, not once per
/// byte. It is updated on `Ok(None)` and reset to 0 when a line is found (the
/// caller consumes it). A line (with its terminator) longer than `limit` bytes
/// is a protocol error, so the caller never buffers more than `limit` bytes of
/// an unfinished line.
// A hint: once the command table was inlined into the decoder, this search,
// run for every line of every reply, stopped being inlined into its caller.
#[inline]
pub(super) fn find_line(
    buf: &[u8],
    scanned: &mut usize,
    limit: usize,
) -> Result<Option<Line>, Error> {
    let window_end = buf.len().min(limit);
    let start = (*scanned).min(window_end);
    match memchr::memchr(b'\n', &buf[start..window_end]) {
        Some(offset) => {
            *scanned = 0;
            let pos = start + offset;
            let crlf = pos > 0 && buf[pos - 1] == b'\r';
            Ok(Some(Line {
                content: if crlf { pos - 1 } else { pos },
                total: pos + 1,
                crlf,
            }))
        }
        None if buf.len() >= limit => Err(Error::protocol(
            "reply line longer than the limit",
            &buf[..window_end],
        )),
        None => {
            *scanned = window_end;
            Ok(None)
        }
    }
}

/// Parses a non-empty run of ASCII digits; `None` for anything else or on
/// overflow.
pub(super) fn parse_u64(text: &[u8]) -> Option<u64> {
    if text.is_empty() {
        return None;
    }
    let mut n: u64 = 0;
    for &b in text {
        if !b.is_ascii_digit() {
            return None;
        }
        n = n.checked_mul(10)?.checked_add(u64::from(b - b'0'))?;
    }
    Some(n)
}

/// True for a non-empty line of ASCII digits (a number, perhaps out of range).
pub(super) fn is_digits(text: &[u8]) -> bool {
    !text.is_empty() && text.iter().all(u8::is_ascii_digit)
}

/// The error an `ERROR`, `CLIENT_ERROR` or `SERVER_ERROR` line stands for, or
/// `None` for any other line.
///
/// memcached writes `ERROR`, `ERROR <message>` and `ERROR: <message>` (for
/// example `ERROR: shutdown not enabled`).
pub(super) fn error_line(line: &[u8]) -> Option<Error> {
    if let Some(rest) = line.strip_prefix(b"ERROR") {
        let message = if rest.is_empty() {
            rest
        } else if let Some(message) = rest.strip_prefix(b":") {
            message.trim_ascii_start()
        } else {
            rest.strip_prefix(b" ")?
        };
        return Some(Error::UnknownCommand(text(message)));
    }
    if let Some(message) = message_after(line, b"CLIENT_ERROR") {
        return Some(Error::Client(text(message)));
    }
    if let Some(message) = message_after(line, b"SERVER_ERROR") {
        return Some(Error::Server(text(message)));
    }
    None
}

/// `line` without `word` and the space after it, when it is `word` or
/// `word <message>`.
fn message_after<'a>(line: &'a [u8], word: &[u8]) -> Option<&'a [u8]> {
    let rest = line.strip_prefix(word)?;
    if rest.is_empty() {
        Some(rest)
    } else {
        rest.strip_prefix(b" ")
    }
}

/// A server message as text (memcached's messages are ASCII).
pub(super) fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// True for the well-formed replies of the classic protocol: a line that is
/// one of these but not what the request expects means the stream is out of
/// step, never a server failure.
pub(super) fn is_known_reply(line: &[u8]) -> bool {
    matches!(
        line,
        b"STORED"
            | b"NOT_STORED"
            | b"EXISTS"
            | b"NOT_FOUND"
            | b"DELETED"
            | b"TOUCHED"
            | b"END"
            | b"OK"
            | b"RESET"
    ) || [&b"VALUE "[..], b"STAT ", b"ITEM ", b"PREFIX ", b"VERSION "]
        .iter()
        .any(|prefix| line.starts_with(prefix))
        || is_digits(line)
}

/// True for a failure line of an admin command: an upper-case word
/// (`NOSPARE`, `BUSY`, `BADCLASS`, `MEMLIMIT_TOO_SMALL`, ...), then nothing or
/// a space and a message, and not one of the [known replies](is_known_reply).
pub(super) fn is_failure_line(line: &[u8]) -> bool {
    let word_len = line
        .iter()
        .position(|&b| !(b.is_ascii_uppercase() || b == b'_'))
        .unwrap_or(line.len());
    word_len > 0 && (word_len == line.len() || line[word_len] == b' ') && !is_known_reply(line)
}

/// The longest line of a single-line reply or a `VALUE` header, terminator
/// included. Real ones are under 300 bytes (a `VALUE` header with a 250-byte key).
pub(super) const LINE_LIMIT: usize = 8 * 1024;

/// The longest line of a multi-line reply (`stats`, `lru_crawler metadump`) or
/// of a raw command's reply, terminator included.
pub(super) const LONG_LINE_LIMIT: usize = 64 * 1024;

/// A well-formed reply of the wrong kind, or a line that is no reply at all.
pub(super) fn unexpected(line: &[u8]) -> Error {
    if is_known_reply(line) {
        Error::protocol("unexpected reply for the request", line)
    } else {
        Error::protocol("malformed reply", line)
    }
}

/// A line ending in `\n` without `\r` where memcached always sends `\r\n`.
pub(super) fn bare_lf(line: &[u8]) -> Error {
    Error::protocol("line ends in a bare \\n", line)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_crlf_and_bare_lf_lines() {
        let mut scanned = 0;
        let line = find_line(b"OK\r\nrest", &mut scanned, 64).unwrap().unwrap();
        assert_eq!(
            line,
            Line {
                content: 2,
                total: 4,
                crlf: true
            }
        );
        let line = find_line(b"key=a\nEND", &mut scanned, 64).unwrap().unwrap();
        assert_eq!(
            line,
            Line {
                content: 5,
                total: 6,
                crlf: false
            }
        );
        let line = find_line(b"\n", &mut scanned, 64).unwrap().unwrap();
        assert!(!line.crlf);
        assert_eq!(line.content, 0);
    }

    #[test]
    fn resumes_the_search_and_limits_the_line() {
        let mut scanned = 0;
        assert_eq!(find_line(b"STOR", &mut scanned, 8).unwrap(), None);
        assert_eq!(scanned, 4);
        let line = find_line(b"STORED\r\n", &mut scanned, 8).unwrap().unwrap();
        assert_eq!(line.total, 8);
        assert_eq!(scanned, 0);
        // Exactly at the limit is fine, one byte more without `\n` is not.
        assert!(find_line(b"1234567\n", &mut 0, 8).unwrap().is_some());
        assert!(matches!(
            find_line(b"12345678\n", &mut 0, 8),
            Err(Error::Protocol(_))
        ));
        assert_eq!(find_line(b"1234567", &mut 0, 8).unwrap(), None);
    }

    #[test]
    fn parses_numbers_strictly() {
        assert_eq!(parse_u64(b"0"), Some(0));
        assert_eq!(parse_u64(b"18446744073709551615"), Some(u64::MAX));
        assert_eq!(parse_u64(b"18446744073709551616"), None);
        for bad in [&b""[..], b"-1", b"+1", b" 1", b"1 ", b"1a"] {
            assert_eq!(parse_u64(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn maps_error_lines() {
        let message = |line: &[u8]| match error_line(line) {
            Some(Error::UnknownCommand(m)) => format!("unknown:{m}"),
            Some(Error::Client(m)) => format!("client:{m}"),
            Some(Error::Server(m)) => format!("server:{m}"),
            Some(other) => panic!("{other:?}"),
            None => "none".to_string(),
        };
        assert_eq!(message(b"ERROR"), "unknown:");
        assert_eq!(
            message(b"ERROR: shutdown not enabled"),
            "unknown:shutdown not enabled"
        );
        assert_eq!(
            message(b"ERROR failed to start lru crawler thread"),
            "unknown:failed to start lru crawler thread"
        );
        assert_eq!(
            message(b"CLIENT_ERROR bad command line format"),
            "client:bad command line format"
        );
        assert_eq!(
            message(b"SERVER_ERROR out of memory"),
            "server:out of memory"
        );
        assert_eq!(message(b"SERVER_ERROR"), "server:");
        for not_error in [&b"ERRORS"[..], b"CLIENT_ERRORx", b"STORED", b"error"] {
            assert_eq!(message(not_error), "none");
        }
    }

    #[test]
    fn tells_failure_lines_from_replies_and_garbage() {
        assert!(is_failure_line(b"NOSPARE source class has no spare pages"));
        assert!(is_failure_line(b"BUSY"));
        assert!(is_failure_line(
            b"MEMLIMIT_TOO_SMALL cannot set maxbytes to less than 8m"
        ));
        for not_failure in [
            &b"STORED"[..],
            b"VALUE a 0 1",
            b"123",
            b"",
            b"busy",
            b"\x00",
        ] {
            assert!(!is_failure_line(not_failure), "{not_failure:?}");
        }
    }
}
