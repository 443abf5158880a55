//! Key checks: every key is validated before any byte is written.

use bytes::{BufMut, Bytes, BytesMut};

use crate::proto::MAX_KEY_LEN;
use crate::{Error, Result};

/// Builds the wire key from the user's key: prefix added, every rule checked.
///
/// Rules (memcached's text protocol): not empty, at most 250 bytes including
/// the prefix, no spaces, no control characters (so a key can never end the
/// command line and inject another command). Bytes above 0x7f are refused
/// unless `allow_unicode` is set, and then only as valid UTF-8 without
/// whitespace or control characters.
pub(crate) fn wire_key(prefix: &[u8], key: &[u8], allow_unicode: bool) -> Result<Bytes> {
    check_key(prefix, key, allow_unicode)?;
    Ok(KEYS.with(|keys| {
        let bytes = &mut keys.borrow_mut().bytes;
        // Once every key cut from the buffer is dropped (its request written
        // and answered), `reserve` takes the buffer back without allocating:
        // a call's key costs an allocation only every few hundred calls.
        bytes.reserve(prefix.len() + key.len());
        bytes.put_slice(prefix);
        bytes.put_slice(key);
        bytes.split().freeze()
    }))
}

/// [`wire_key`] for many keys at once, in one pass: each key is checked and
/// written after the one before in the per-thread buffer of single keys,
/// then all are cut at once and handed out as slices. A key that fails its
/// check fails the call, and nothing of it is kept.
///
/// Once the keys of the previous batch are dropped (its request answered),
/// the buffer is taken back whole, so a batch of keys that fit in it
/// allocates only its list of keys.
pub(crate) fn wire_keys<K: AsRef<[u8]>>(
    prefix: &[u8],
    keys: impl IntoIterator<Item = K>,
    allow_unicode: bool,
) -> Result<Vec<Bytes>> {
    // The caller's iterator runs between the keys, and may cut keys of its
    // own (building another request): the batch takes the buffer out of
    // the thread's slot while it runs, so neither sees the other's bytes
    // and no borrow is held across the caller's code.
    let mut buffer = KEYS.with(|slot| slot.replace(KeyBuffer::placeholder()));
    let batch = cut_batch(&mut buffer, prefix, keys, allow_unicode);
    KEYS.with(|slot| slot.replace(buffer));
    batch
}

/// [`wire_keys`]' work, on a buffer of its own.
fn cut_batch<K: AsRef<[u8]>>(
    buffer: &mut KeyBuffer,
    prefix: &[u8],
    keys: impl IntoIterator<Item = K>,
    allow_unicode: bool,
) -> Result<Vec<Bytes>> {
    let KeyBuffer { bytes, ends } = buffer;
    let mut keys = keys.into_iter();
    ends.clear();
    while let Some(key) = keys.next() {
        let key = key.as_ref();
        if let Err(error) = check_key(prefix, key, allow_unicode) {
            bytes.clear();
            return Err(error);
        }
        if ends.is_empty() {
            // Room for the whole batch, guessed from its first key, so it
            // is not copied as it grows.
            let batch = (prefix.len() + key.len())
                .saturating_mul(keys.size_hint().0 + 1)
                .min(KEY_BATCH_KEPT);
            bytes.reserve(batch);
        }
        bytes.put_slice(prefix);
        bytes.put_slice(key);
        ends.push(bytes.len());
    }
    let all = bytes.split().freeze();
    let mut start = 0;
    let wire = ends
        .iter()
        .map(|&end| {
            let key = all.slice(start..end);
            start = end;
            key
        })
        .collect();
    // A batch this large goes with its keys: the thread does not keep its
    // buffer (nor its list of ends) for the next calls.
    if all.len() > KEY_BATCH_KEPT {
        *buffer = KeyBuffer::new();
    }
    Ok(wire)
}

/// Bytes of a key buffer when it is made: room for a few calls' keys.
const KEY_BUFFER: usize = 1024;

/// The largest batch of keys whose buffer a thread keeps for later calls.
const KEY_BATCH_KEPT: usize = 16 * 1024;

/// What each thread cuts its keys from.
struct KeyBuffer {
    bytes: BytesMut,
    /// Where each key of a batch ends in `bytes`: kept between batches.
    ends: Vec<usize>,
}

impl KeyBuffer {
    fn new() -> Self {
        KeyBuffer {
            bytes: BytesMut::with_capacity(KEY_BUFFER),
            ends: Vec::new(),
        }
    }

    /// What the thread's slot holds while a batch has its buffer: nothing
    /// allocated (a key cut meanwhile gets memory of its own).
    fn placeholder() -> Self {
        KeyBuffer {
            bytes: BytesMut::new(),
            ends: Vec::new(),
        }
    }
}

thread_local! {
    static KEYS: std::cell::RefCell<KeyBuffer> = std::cell::RefCell::new(KeyBuffer::new());
}

/// Checks one key against every rule, with the prefix counted in its length.
fn check_key(prefix: &[u8], key: &[u8], allow_unicode: bool) -> Result<()> {
    if key.is_empty() {
        return Err(Error::IllegalInput("empty key".into()));
    }
    let len = prefix.len() + key.len();
    if len > MAX_KEY_LEN {
        return Err(Error::IllegalInput(format!(
            "key of {len} bytes (with its prefix) is longer than {MAX_KEY_LEN}: {}",
            crate::error::quote(key, 32)
        )));
    }
    check_bytes(key, allow_unicode)
}

/// Builds the key of a meta command with the `b` flag: the prefix and the
/// raw key, any bytes, sent base64-encoded. The limit applies to the encoded
/// form, which is what memcached sees.
pub(crate) fn binary_key(prefix: &[u8], key: &[u8]) -> Result<Bytes> {
    if key.is_empty() {
        return Err(Error::IllegalInput("empty key".into()));
    }
    let len = prefix.len() + key.len();
    let encoded = crate::proto::base64_len(len);
    if encoded > MAX_KEY_LEN {
        return Err(Error::IllegalInput(format!(
            "binary key of {len} bytes (with its prefix) is {encoded} bytes in base64, \
             longer than {MAX_KEY_LEN}: {}",
            crate::error::quote(key, 32)
        )));
    }
    let mut wire = BytesMut::with_capacity(len);
    wire.put_slice(prefix);
    wire.put_slice(key);
    Ok(wire.freeze())
}

/// Checks the prefix itself once, when the client is built.
pub(crate) fn check_prefix(prefix: &[u8], allow_unicode: bool) -> Result<()> {
    if prefix.len() >= MAX_KEY_LEN {
        return Err(Error::IllegalInput(format!(
            "key prefix of {} bytes leaves no room for a key",
            prefix.len()
        )));
    }
    check_bytes(prefix, allow_unicode)
}

fn check_bytes(key: &[u8], allow_unicode: bool) -> Result<()> {
    // The common key, printable ASCII, passes in one look at each byte;
    // the rest is checked rule by rule, for the error that says why.
    if key.iter().all(|&b| b > b' ' && b < 0x7f) {
        return Ok(());
    }
    if let Some(&byte) = key.iter().find(|&&b| b <= b' ' || b == 0x7f) {
        let what = if byte == b' ' {
            "a space"
        } else {
            "a control character"
        };
        return Err(Error::IllegalInput(format!(
            "key contains {what} ({byte:#04x}): {}",
            crate::error::quote(key, 32)
        )));
    }
    if key.is_ascii() {
        return Ok(());
    }
    if !allow_unicode {
        return Err(Error::IllegalInput(format!(
            "key contains non-ASCII bytes (enable unicode keys to allow UTF-8): {}",
            crate::error::quote(key, 32)
        )));
    }
    let text = std::str::from_utf8(key).map_err(|_| {
        Error::IllegalInput(format!(
            "key is not valid UTF-8: {}",
            crate::error::quote(key, 32)
        ))
    })?;
    if text.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(Error::IllegalInput(format!(
            "key contains a unicode space or control character: {text:?}"
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rejected(prefix: &str, key: &[u8], unicode: bool) -> String {
        match wire_key(prefix.as_bytes(), key, unicode) {
            Err(Error::IllegalInput(why)) => why,
            other => panic!("{key:?} was not rejected: {other:?}"),
        }
    }

    #[test]
    fn accepts_keys_up_to_250_bytes_with_prefix() {
        let key = vec![b'k'; 246];
        assert_eq!(wire_key(b"app:", &key, false).unwrap().len(), 250);
        assert!(rejected("app:", &[b'k'; 247], false).contains("251 bytes"));
        assert!(rejected("", &[b'k'; 251], false).contains("longer than 250"));
    }

    #[test]
    fn rejects_what_could_break_the_command_line() {
        assert!(rejected("", b"", false).contains("empty"));
        assert!(rejected("", b"a b", false).contains("space"));
        assert!(rejected("", b"a\r\nflush_all", false).contains("control"));
        assert!(rejected("", b"a\0", false).contains("control"));
        assert!(rejected("", b"a\x7f", false).contains("control"));
        assert!(rejected("", b"a\tb", false).contains("control"));
    }

    #[test]
    fn unicode_keys_only_when_asked_and_only_valid_utf8() {
        assert!(rejected("", "clé".as_bytes(), false).contains("non-ASCII"));
        assert_eq!(
            &wire_key(b"", "clé".as_bytes(), true).unwrap()[..],
            "clé".as_bytes()
        );
        assert!(rejected("", b"\xff\xfe", true).contains("UTF-8"));
        assert!(rejected("", "a\u{00a0}b".as_bytes(), true).contains("unicode space"));
        assert!(rejected("", "a\u{2028}b".as_bytes(), true).contains("unicode space"));
    }

    #[test]
    fn binary_keys_are_limited_by_their_base64_form() {
        assert_eq!(&binary_key(b"p:", b"a b\xff").unwrap()[..], b"p:a b\xff");
        // 187 bytes encode to 252 > 250; 186 to 248.
        assert!(binary_key(b"", &[0xff; 186]).is_ok());
        match binary_key(b"", &[0xff; 187]) {
            Err(Error::IllegalInput(why)) => assert!(why.contains("252 bytes in base64"), "{why}"),
            other => panic!("{other:?}"),
        }
        assert!(binary_key(b"p", b"").is_err());
    }

    #[test]
    fn keys_cut_from_the_thread_buffer_keep_their_bytes_while_it_is_reused() {
        let expected = |i: usize| format!("p:{}", "k".repeat(i % 240 + 1) + &i.to_string());
        // Kept keys pin their buffers; dropped ones let it be taken back.
        let kept: Vec<(usize, Bytes)> = (0..2000)
            .filter_map(|i| {
                let key = wire_key(b"p:", &expected(i).as_bytes()[2..], false).unwrap();
                assert_eq!(&key[..], expected(i).as_bytes());
                (i % 3 == 0).then_some((i, key))
            })
            .collect();
        for (i, key) in &kept {
            assert_eq!(&key[..], expected(*i).as_bytes(), "key {i} changed");
        }
    }

    #[test]
    fn many_keys_share_one_buffer_and_are_all_checked() {
        let keys = wire_keys(b"p:", ["a", "bb", "ccc"], false).unwrap();
        assert_eq!(keys, [&b"p:a"[..], b"p:bb", b"p:ccc"]);
        let base = keys[0].as_ptr() as usize;
        assert_eq!(keys[1].as_ptr() as usize, base + 3, "slices of one buffer");
        assert_eq!(keys[2].as_ptr() as usize, base + 7, "slices of one buffer");
        assert!(wire_keys(b"", ["ok", "not ok"], false).is_err());
        // Nothing of the refused batch is left in the next one.
        assert_eq!(
            wire_keys(b"", ["x", "y"], false).unwrap(),
            [&b"x"[..], b"y"]
        );
        assert!(wire_keys(b"", Vec::<&str>::new(), false)
            .unwrap()
            .is_empty());
    }

    #[test]
    fn a_batch_takes_the_buffer_back_once_the_batch_before_is_dropped() {
        // 300 keys of 12 bytes: more than the first buffer holds.
        let keys: Vec<String> = (0..300).map(|i| format!("key:{i:05}")).collect();
        let batch = || wire_keys(b"p:", &keys, false).unwrap();
        let first = batch();
        for (wire, key) in first.iter().zip(&keys) {
            assert_eq!(&wire[..], format!("p:{key}").as_bytes());
        }
        drop(first);
        let second = batch();
        let at = second[0].as_ptr();
        let contiguous = second
            .windows(2)
            .all(|pair| pair[1].as_ptr() as usize == pair[0].as_ptr() as usize + pair[0].len());
        assert!(contiguous, "one buffer for the whole batch");
        drop(second);
        assert_eq!(batch()[0].as_ptr(), at, "the same buffer, taken back");
        // A batch still alive keeps its bytes while the next is cut.
        let kept = batch();
        let next = batch();
        assert_ne!(kept[0].as_ptr(), next[0].as_ptr());
        for ((a, b), key) in kept.iter().zip(&next).zip(&keys) {
            assert_eq!(&a[..], format!("p:{key}").as_bytes());
            assert_eq!(a, b);
        }
    }

    #[test]
    fn a_batch_whose_keys_cut_other_keys_as_they_come_keeps_every_key_whole() {
        // The caller's iterator runs between the batch's keys; here it cuts
        // keys of its own (as building another request would).
        let mut others = Vec::new();
        let keys = wire_keys(
            b"p:",
            ["a", "bb", "ccc"].into_iter().inspect(|key| {
                others.push(wire_key(b"q:", key.as_bytes(), false).unwrap());
            }),
            false,
        )
        .unwrap();
        assert_eq!(keys, [&b"p:a"[..], b"p:bb", b"p:ccc"]);
        assert_eq!(others, [&b"q:a"[..], b"q:bb", b"q:ccc"]);
        assert_eq!(&wire_key(b"", b"next", false).unwrap()[..], b"next");
    }

    #[test]
    fn prefix_is_checked_too() {
        assert!(check_prefix(b"app:", false).is_ok());
        assert!(check_prefix(b"a p", false).is_err());
        assert!(check_prefix(&[b'p'; 250], false).is_err());
    }
}
