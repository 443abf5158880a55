//! `stats cachedump <class> <limit>`, answered as memcached 1.6.18 does.
//!
//! memcached lists the items of one slab class, most recently stored first,
//! from the class's COLD LRU, where its LRU maintainer moves new items within
//! a moment (an item a client reads may move on to WARM and out of the dump;
//! the mock keeps it listed: the dump is a debugging aid, not a contract),
//! as `ITEM <key> [<bytes> b; <exptime> s]` (the value's length; the expiry
//! as absolute unix seconds, 0 for never), at most `limit` of them (0: all)
//! and at most 2 MiB of lines. pymemcache's own integration suite calls
//! `stats cachedump 1 1`.

use bytes::Bytes;

/// memcached's `MAX_NUMBER_OF_SLAB_CLASSES`: class ids are below it.
const MAX_CLASSES: u64 = 64;
/// memcached stops the dump before its buffer passes 2 MiB.
const MAX_OUTPUT: usize = 2 * 1024 * 1024;

/// One item as the dump shows it.
pub(crate) struct Dumped<'a> {
    pub key: &'a [u8],
    pub value_len: usize,
    /// Absolute unix seconds; 0: never.
    pub exptime: u64,
    pub class: usize,
    /// Larger: stored more recently (the item's cas unique).
    pub stored: u64,
}

/// The `(class, limit)` of the command's arguments (after `cachedump`), or
/// the `CLIENT_ERROR` message memcached answers.
pub(crate) fn parse(args: &[Bytes]) -> Result<(usize, usize), &'static str> {
    let [class, limit, ..] = args else {
        return Err("bad command line");
    };
    let number = |arg: &Bytes| {
        std::str::from_utf8(arg)
            .ok()
            .filter(|text| text.bytes().all(|b| b.is_ascii_digit()))
            .and_then(|text| text.parse::<u64>().ok())
            .ok_or("bad command line format")
    };
    let (class, limit) = (number(class)?, number(limit)?);
    if class >= MAX_CLASSES {
        return Err("Illegal slab id");
    }
    Ok((class as usize, usize::try_from(limit).unwrap_or(usize::MAX)))
}

/// The lines of the dump of `class` (without the closing `END`).
pub(crate) fn lines<'a>(
    items: impl Iterator<Item = Dumped<'a>>,
    class: usize,
    limit: usize,
) -> Vec<Bytes> {
    let mut items: Vec<Dumped<'a>> = items.filter(|item| item.class == class).collect();
    items.sort_by_key(|item| std::cmp::Reverse(item.stored));
    let limit = if limit == 0 { usize::MAX } else { limit };
    let mut out = Vec::new();
    let mut written = "END\r\n".len();
    for item in items.into_iter().take(limit) {
        let mut line = b"ITEM ".to_vec();
        line.extend_from_slice(item.key);
        line.extend_from_slice(format!(" [{} b; {} s]", item.value_len, item.exptime).as_bytes());
        written += line.len() + 2;
        if written > MAX_OUTPUT {
            break;
        }
        out.push(Bytes::from(line));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn item(key: &'static [u8], class: usize, stored: u64) -> Dumped<'static> {
        Dumped {
            key,
            value_len: key.len(),
            exptime: if stored == 2 { 1_796_118_408 } else { 0 },
            class,
            stored,
        }
    }

    #[test]
    fn newest_first_within_the_class_and_the_limit() {
        let items = || [item(b"a", 1, 1), item(b"bb", 1, 2), item(b"big", 15, 3)].into_iter();
        let all = lines(items(), 1, 0);
        assert_eq!(all, ["ITEM bb [2 b; 1796118408 s]", "ITEM a [1 b; 0 s]"]);
        assert_eq!(lines(items(), 1, 1), ["ITEM bb [2 b; 1796118408 s]"]);
        assert!(lines(items(), 0, 1).is_empty());
    }

    #[test]
    fn arguments_are_checked_as_memcached_does() {
        let args = |words: &[&'static str]| -> Vec<Bytes> {
            words
                .iter()
                .map(|w| Bytes::from_static(w.as_bytes()))
                .collect()
        };
        assert_eq!(parse(&args(&["1", "1"])), Ok((1, 1)));
        assert_eq!(parse(&args(&["1", "1", "1"])), Ok((1, 1)));
        assert_eq!(parse(&args(&["63", "0"])), Ok((63, 0)));
        assert_eq!(parse(&args(&["1"])), Err("bad command line"));
        assert_eq!(parse(&args(&[])), Err("bad command line"));
        assert_eq!(parse(&args(&["x", "1"])), Err("bad command line format"));
        assert_eq!(parse(&args(&["1", "-1"])), Err("bad command line format"));
        assert_eq!(parse(&args(&["64", "1"])), Err("Illegal slab id"));
        assert_eq!(parse(&args(&["200", "1"])), Err("Illegal slab id"));
    }
}
