//! memcached's `tokenize_command`: split a command line on spaces.
//!
//! Only the space byte separates tokens (a tab is part of a key), runs of
//! spaces count as one, and at most 23 tokens are split off; whatever follows
//! is handed back as the rest of the line. `get` uses the rest to read any
//! number of keys; every other command sees a 24th "token" and rejects the line.

/// memcached's `MAX_TOKENS`, counting the terminal pseudo-token.
const MAX_TOKENS: usize = 24;

/// A tokenized line.
pub(crate) struct Tokens<'a> {
    /// The tokens split off (at most `MAX_TOKENS - 1`).
    pub words: Vec<&'a [u8]>,
    /// The unsplit remainder when the line had too many tokens.
    pub rest: Option<&'a [u8]>,
}

impl<'a> Tokens<'a> {
    /// memcached's `ntokens`: the words plus the terminal pseudo-token.
    pub fn count(&self) -> usize {
        self.words.len() + 1
    }

    /// The word at `index`, or empty.
    pub fn word(&self, index: usize) -> &'a [u8] {
        self.words.get(index).copied().unwrap_or(b"")
    }

    /// memcached's `set_noreply_maybe`: the last word is exactly `noreply`.
    pub fn noreply(&self) -> bool {
        self.rest.is_none() && self.words.last().is_some_and(|w| *w == b"noreply")
    }
}

/// Splits `line` as memcached does.
pub(crate) fn tokenize(line: &[u8]) -> Tokens<'_> {
    let mut words = Vec::new();
    let mut start = 0;
    let mut i = 0;
    while i < line.len() {
        if line[i] == b' ' {
            if start != i {
                words.push(&line[start..i]);
                if words.len() == MAX_TOKENS - 1 {
                    let rest = &line[i + 1..];
                    return Tokens {
                        words,
                        rest: (!rest.is_empty()).then_some(rest),
                    };
                }
            }
            start = i + 1;
        }
        i += 1;
    }
    if start != i {
        words.push(&line[start..i]);
    }
    Tokens { words, rest: None }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_on_spaces_only() {
        let t = tokenize(b"  get a\tb   c ");
        assert_eq!(t.words, vec![&b"get"[..], b"a\tb", b"c"]);
        assert!(t.rest.is_none());
        assert_eq!(t.count(), 4);
    }

    #[test]
    fn keeps_the_rest_after_23_words() {
        let line: Vec<u8> = (0..30)
            .map(|i| format!("w{i}"))
            .collect::<Vec<_>>()
            .join(" ")
            .into_bytes();
        let t = tokenize(&line);
        assert_eq!(t.words.len(), 23);
        assert_eq!(t.rest, Some(&b"w23 w24 w25 w26 w27 w28 w29"[..]));
    }
}
