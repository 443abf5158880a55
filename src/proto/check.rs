//! What a request may carry so that it stays the one command it means on the
//! wire: no token ends the command line or splits it into more tokens.
//!
//! These are the wire's rules, not the client's policy: a key is any bytes
//! above space but DEL (the client may be stricter, refusing non-ASCII keys
//! unless asked), a meta flag is a letter with a token of printable ASCII,
//! an argument is one word. A request that breaks them is
//! [`Error::IllegalInput`] before any byte is written.

use super::meta_key;
use crate::{Error, LruCrawler, MetaCommand, MetaFlag, MetaRequest, Request, Result};

/// The longest key memcached accepts, in bytes.
pub const MAX_KEY_LEN: usize = 250;

/// Checks every user-supplied token of `request`.
pub(crate) fn request(request: &Request) -> Result<()> {
    match request {
        Request::Retrieve(retrieve) => retrieve.keys.iter().try_for_each(|key| classic_key(key)),
        Request::Store(store) => classic_key(&store.key),
        Request::Delete { key, .. } | Request::Arith { key, .. } | Request::Touch { key, .. } => {
            classic_key(key)
        }
        Request::Stats { args } => args.iter().try_for_each(|arg| word(arg)),
        Request::LruCrawler(LruCrawler::Crawl(arg) | LruCrawler::Metadump(arg)) => word(arg),
        Request::SlabsAutomove { mode } if *mode > 2 => Err(Error::IllegalInput(format!(
            "slabs automove mode must be 0, 1 or 2, not {mode}"
        ))),
        Request::Raw(raw) => raw_line(&raw.line),
        Request::Meta(meta) => meta_request(meta),
        Request::MetaBatch(batch) => batch.iter().try_for_each(meta_request),
        Request::LruCrawler(_)
        | Request::Lru(_)
        | Request::SlabsAutomove { .. }
        | Request::FlushAll { .. }
        | Request::Version
        | Request::Verbosity { .. }
        | Request::CacheMemlimit { .. }
        | Request::Quit
        | Request::Shutdown { .. }
        | Request::SlabsReassign { .. } => Ok(()),
    }
}

/// A key of the classic commands (or of a meta command without `b`):
/// 1 to 250 bytes, none of them a space or a control character.
pub(crate) fn classic_key(key: &[u8]) -> Result<()> {
    if key.is_empty() {
        return Err(Error::IllegalInput("empty key".into()));
    }
    if key.len() > MAX_KEY_LEN {
        return Err(Error::IllegalInput(format!(
            "key of {} bytes is longer than {MAX_KEY_LEN}: {}",
            key.len(),
            crate::error::quote(key, 32)
        )));
    }
    if let Some(&byte) = key.iter().find(|&&b| breaks_token(b)) {
        return Err(Error::IllegalInput(format!(
            "key contains a space or a control character ({byte:#04x}): {}",
            crate::error::quote(key, 32)
        )));
    }
    Ok(())
}

/// One meta command: its key and every flag.
pub(crate) fn meta_request(meta: &MetaRequest) -> Result<()> {
    if meta.command != MetaCommand::Noop {
        if meta.has_flag(b'b') {
            binary_key(meta)?;
        } else {
            classic_key(&meta.key)?;
        }
    }
    meta.flags.iter().try_for_each(meta_flag)
}

/// A key sent in base64 (`b`): any bytes, but its encoded form must fit.
fn binary_key(meta: &MetaRequest) -> Result<()> {
    let encoded = meta_key::encoded_len(meta.key.len());
    if meta.key.is_empty() || encoded > MAX_KEY_LEN {
        return Err(Error::IllegalInput(format!(
            "binary key of {} bytes is {encoded} bytes in base64, not 1 to {MAX_KEY_LEN}",
            meta.key.len()
        )));
    }
    if meta.command == MetaCommand::Debug && meta.key.iter().any(|&b| b == b'\r' || b == b'\n') {
        // memcached 1.6.18 echoes the key of `me` raw: a line end in it
        // would split the reply line.
        return Err(Error::IllegalInput(
            "me cannot ask about a binary key with \\r or \\n: memcached echoes it raw".into(),
        ));
    }
    Ok(())
}

/// A meta flag: an ASCII letter, and a token of printable ASCII without
/// spaces (so `T0\r\nflush_all` can never become a second command).
pub(crate) fn meta_flag(flag: &MetaFlag) -> Result<()> {
    if !flag.flag.is_ascii_alphabetic() {
        return Err(Error::IllegalInput(format!(
            "meta flag must be an ASCII letter: {}",
            crate::error::quote(&[flag.flag], 8)
        )));
    }
    match &flag.token {
        Some(token) if !token.iter().all(u8::is_ascii_graphic) => {
            Err(Error::IllegalInput(format!(
                "token of meta flag {} must be printable ASCII without spaces: {}",
                char::from(flag.flag),
                crate::error::quote(token, 40)
            )))
        }
        _ => Ok(()),
    }
}

/// An argument word (`stats`, `lru_crawler`): non-empty, no spaces or
/// control characters.
pub(crate) fn word(word: &[u8]) -> Result<()> {
    if word.is_empty() || word.iter().any(|&b| breaks_token(b)) {
        return Err(Error::IllegalInput(format!(
            "argument must be one word: {}",
            crate::error::quote(word, 64)
        )));
    }
    Ok(())
}

/// The line of a raw command: one line, sent as is.
pub(crate) fn raw_line(line: &[u8]) -> Result<()> {
    if line.is_empty() || line.iter().any(|&b| b == b'\r' || b == b'\n') {
        return Err(Error::IllegalInput(format!(
            "raw command must be one non-empty line: {}",
            crate::error::quote(line, 64)
        )));
    }
    Ok(())
}

/// Bytes that end a token or the line: spaces and control characters.
fn breaks_token(byte: u8) -> bool {
    byte <= b' ' || byte == 0x7f
}

#[cfg(test)]
mod tests {
    use bytes::Bytes;

    use super::*;
    use crate::{RawCommand, RawReply, Retrieve, RetrieveCommand};

    fn illegal(request: Request) -> String {
        match self::request(&request) {
            Err(Error::IllegalInput(why)) => why,
            other => panic!("{request:?} was not refused: {other:?}"),
        }
    }

    fn mg(key: &'static [u8], flags: Vec<MetaFlag>) -> Request {
        Request::Meta(MetaRequest {
            command: MetaCommand::Get,
            key: Bytes::from_static(key),
            flags,
            data: None,
        })
    }

    #[test]
    fn meta_flags_cannot_inject_a_command() {
        let injected = MetaFlag::with(b'T', "0\r\nflush_all");
        assert!(illegal(mg(b"k", vec![injected.clone()])).contains("printable ASCII"));
        assert!(illegal(mg(b"k", vec![MetaFlag::with(b'O', "a b")])).contains("without spaces"));
        assert!(illegal(mg(b"k", vec![MetaFlag::bare(b' ')])).contains("ASCII letter"));
        assert!(illegal(mg(b"k", vec![MetaFlag::bare(b'\n')])).contains("ASCII letter"));
        assert!(illegal(mg(b"k", vec![MetaFlag::bare(b'1')])).contains("ASCII letter"));
        let batch = Request::MetaBatch(vec![
            MetaRequest {
                command: MetaCommand::Noop,
                key: Bytes::new(),
                flags: vec![],
                data: None,
            },
            MetaRequest {
                command: MetaCommand::Delete,
                key: Bytes::from_static(b"k"),
                flags: vec![injected],
                data: None,
            },
        ]);
        assert!(illegal(batch).contains("printable"));
        for fine in [
            mg(b"k", vec![MetaFlag::bare(b'v'), MetaFlag::with(b'T', "-1")]),
            mg(b"k", vec![MetaFlag::with(b'O', "~!@#$%^&*()_+{}|:<>?")]),
            mg(b"a b\r\n\xff", vec![MetaFlag::bare(b'b')]),
        ] {
            assert_eq!(self::request(&fine), Ok(()), "{fine:?}");
        }
    }

    #[test]
    fn keys_must_be_one_token() {
        assert!(illegal(mg(b"a b", vec![])).contains("space"));
        assert!(illegal(mg(b"", vec![])).contains("empty"));
        assert!(illegal(mg(b"", vec![MetaFlag::bare(b'b')])).contains("base64"));
        let long: &'static [u8] = Box::leak(vec![0xff; 190].into_boxed_slice());
        assert!(illegal(mg(long, vec![MetaFlag::bare(b'b')])).contains("base64"));
        let get = |key: &'static [u8]| {
            Request::Retrieve(Retrieve {
                command: RetrieveCommand::Get,
                keys: vec![Bytes::from_static(b"ok"), Bytes::from_static(key)],
            })
        };
        assert!(illegal(get(b"x\r\nflush_all")).contains("control"));
        assert_eq!(self::request(&get("clé".as_bytes())), Ok(()));
        let debug = Request::Meta(MetaRequest {
            command: MetaCommand::Debug,
            key: Bytes::from_static(b"a\r\nb"),
            flags: vec![MetaFlag::bare(b'b')],
            data: None,
        });
        assert!(illegal(debug).contains("echoes it raw"));
    }

    #[test]
    fn arguments_must_be_one_word_and_raw_lines_one_line() {
        let stats = |arg: &'static [u8]| Request::Stats {
            args: vec![Bytes::from_static(arg)],
        };
        assert!(illegal(stats(b"items\r\nflush_all")).contains("one word"));
        assert!(illegal(stats(b"")).contains("one word"));
        assert_eq!(self::request(&stats(b"items")), Ok(()));
        let metadump = Request::LruCrawler(LruCrawler::Metadump(Bytes::from_static(b"all 1")));
        assert!(illegal(metadump).contains("one word"));
        assert!(illegal(Request::SlabsAutomove { mode: 3 }).contains("0, 1 or 2"));
        let raw = Request::Raw(RawCommand {
            line: Bytes::from_static(b"mn\r\nflush_all"),
            data: None,
            reply: RawReply::Line,
        });
        assert!(illegal(raw).contains("one non-empty line"));
    }
}
