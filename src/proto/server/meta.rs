//! Meta command lines (`mg`, `ms`, `md`, `ma`, `mn`, `me`) to
//! [`Request::Meta`], with memcached 1.6.18's checks in its order, so that a
//! malformed line gets the reply (and the data handling) of the real server:
//!
//! - `mg`, `ms`, `md`, `ma` without a key: `ERROR`; a key over 250 bytes
//!   (before base64 decoding): `CLIENT_ERROR bad command line format`; more
//!   than 17 flags (18 tokens after the command): `CLIENT_ERROR options flags
//!   are too long` for `mg`, `... flags too long` for the others;
//! - flag errors ([`meta_options`]) verbatim for `mg` and `ms`, as `CLIENT_ERROR
//!   invalid or duplicate flag` for `md` and `ma`;
//! - `ms` without a length, or with a bad one, or with too many flags, is
//!   answered without reading its data block (which is then read as a
//!   command); an `ms` rejected after its length was read (a bad flag, an
//!   invalid mode, an opaque over 32 bytes) has its data block swallowed;
//! - errors are never silenced by `q`;
//! - `me` reads only its key and an optional `b` and ignores other tokens;
//!   `mn` ignores all of them.

use bytes::Bytes;

use super::base64::base64_decode;
use super::limits::item_size;
use super::meta_flags::{meta_options, opaque_too_long};
use super::number::strtol;
use super::outcome::{LineOutcome, PendingMeta, BAD_FORMAT};
use super::token::Tokens;
use crate::proto::MAX_KEY_LEN;
use crate::{MetaCommand, MetaFlag, MetaRequest, Request, StoreCommand};

/// memcached's `MFLAG_MAX_OPT_LENGTH`: the most tokens (counting the
/// command, the key, `ms`'s length and the terminal pseudo-token) it takes.
const MAX_TOKENS: usize = 20;

/// Meta errors are never silenced (`q` does not apply to them).
fn reply(text: &'static str) -> LineOutcome {
    super::outcome::reply(text, false)
}

/// A meta command line; `letter` is the second letter of its command word.
pub(crate) fn parse_meta(
    line: &Bytes,
    tokens: &Tokens<'_>,
    letter: u8,
    max_item_size: usize,
) -> LineOutcome {
    let command = match letter {
        b'g' => MetaCommand::Get,
        b's' => MetaCommand::Set,
        b'd' => MetaCommand::Delete,
        b'a' => MetaCommand::Arithmetic,
        b'n' => {
            return LineOutcome::Request(Request::Meta(MetaRequest {
                command: MetaCommand::Noop,
                key: Bytes::new(),
                flags: Vec::new(),
                data: None,
            }))
        }
        b'e' => return debug(line, tokens),
        _ => return reply("ERROR"),
    };
    let n = tokens.count();
    if n < 3 {
        return reply("ERROR");
    }
    let raw_key = tokens.word(1);
    if raw_key.len() > MAX_KEY_LEN {
        return reply(BAD_FORMAT);
    }
    let is_set = command == MetaCommand::Set;
    if is_set && n == 3 {
        return reply(BAD_FORMAT);
    }
    if n > MAX_TOKENS {
        return reply(if command == MetaCommand::Get {
            "CLIENT_ERROR options flags are too long"
        } else {
            "CLIENT_ERROR options flags too long"
        });
    }
    let mut len = 0;
    if is_set {
        // The length goes through an `int32_t` in memcached.
        match strtol(tokens.word(2)).map(|l| l as i32) {
            Some(l) if (0..=i32::MAX - 2).contains(&l) => len = l as usize,
            _ => return reply(BAD_FORMAT),
        }
    }
    let first_flag = if is_set { 3 } else { 2 };
    let flags: Vec<MetaFlag> = tokens.words[first_flag..]
        .iter()
        .map(|word| flag(line, word))
        .collect();
    let decoded = if flags.iter().any(|f| f.flag == b'b') {
        base64_decode(raw_key).map(Bytes::from)
    } else {
        Some(line.slice_ref(raw_key))
    };
    let options = match meta_options(&flags, decoded.is_some()) {
        Ok(options) => options,
        Err(text) => {
            return match command {
                MetaCommand::Set => LineOutcome::SwallowReply {
                    text,
                    swallow: len + 2,
                },
                MetaCommand::Get => reply(text),
                _ => reply("CLIENT_ERROR invalid or duplicate flag"),
            }
        }
    };
    let key = decoded.unwrap_or_default();
    let request = MetaRequest {
        command,
        key: key.clone(),
        flags,
        data: None,
    };
    match command {
        MetaCommand::Set => {
            // memcached checks the mode before it reports a long opaque.
            if !matches!(options.mode, None | Some(b'E' | b'A' | b'P' | b'R' | b'S')) {
                return LineOutcome::SwallowReply {
                    text: "CLIENT_ERROR invalid mode for ms M token",
                    swallow: len + 2,
                };
            }
            if request.flags.iter().any(opaque_too_long) {
                return LineOutcome::SwallowReply {
                    text: "CLIENT_ERROR opaque token too long",
                    swallow: len + 2,
                };
            }
            if item_size(key.len(), options.client_flags, len) > max_item_size {
                // memcached drops the old value whatever the mode, and always
                // answers: `Set` with a reply is exactly that for the store.
                return LineOutcome::TooLarge {
                    command: StoreCommand::Set,
                    key,
                    noreply: false,
                    swallow: len + 2,
                };
            }
            LineOutcome::MetaData(PendingMeta { request, len })
        }
        MetaCommand::Delete if request.flags.iter().any(opaque_too_long) => {
            reply("CLIENT_ERROR opaque token too long")
        }
        MetaCommand::Arithmetic
            if !matches!(options.mode, None | Some(b'I' | b'+' | b'D' | b'-')) =>
        {
            reply("CLIENT_ERROR invalid mode for ma M token")
        }
        // `mg` and `ma` check the opaque while answering, after acting on the
        // item: the store does it.
        _ => LineOutcome::Request(Request::Meta(request)),
    }
}

/// One flag token: its first byte, and the rest as its token.
fn flag(line: &Bytes, word: &[u8]) -> MetaFlag {
    MetaFlag {
        flag: word[0],
        token: (word.len() > 1).then(|| line.slice_ref(&word[1..])),
    }
}

/// `me <key> [b]`: memcached's `process_meta_command`.
fn debug(line: &Bytes, tokens: &Tokens<'_>) -> LineOutcome {
    let n = tokens.count();
    let raw_key = tokens.word(1);
    if n < 3 || raw_key.len() > MAX_KEY_LEN {
        return reply(BAD_FORMAT);
    }
    let binary = n >= 4 && tokens.word(2) == b"b";
    let key = if binary {
        match base64_decode(raw_key) {
            Some(key) => Bytes::from(key),
            None => return reply(BAD_FORMAT),
        }
    } else {
        line.slice_ref(raw_key)
    };
    LineOutcome::Request(Request::Meta(MetaRequest {
        command: MetaCommand::Debug,
        key,
        flags: if binary {
            vec![MetaFlag::bare(b'b')]
        } else {
            Vec::new()
        },
        data: None,
    }))
}
