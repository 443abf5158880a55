//! Splits memcached's reply stream into whole replies, so the proxy can drop,
//! duplicate or reorder one reply without cutting another in half.
//!
//! Only the framing the fault tests need: single-line replies, `VALUE` blocks
//! up to `END`, `STAT` lines up to `END`, and meta replies with or without a
//! data block (`VA <len> ...`).

/// Reply bytes waiting to be cut into whole replies.
#[derive(Debug, Default)]
pub struct Framer {
    buf: Vec<u8>,
}

impl Framer {
    /// Appends bytes read from the server.
    pub fn push(&mut self, bytes: &[u8]) {
        self.buf.extend_from_slice(bytes);
    }

    /// The next whole reply, if it has fully arrived.
    pub fn next_reply(&mut self) -> Option<Vec<u8>> {
        let end = self.reply_end()?;
        let rest = self.buf.split_off(end);
        Some(std::mem::replace(&mut self.buf, rest))
    }

    /// Everything buffered, whole or not (when the proxy stops framing).
    pub fn take_all(&mut self) -> Vec<u8> {
        std::mem::take(&mut self.buf)
    }

    fn reply_end(&self) -> Option<usize> {
        let mut pos = 0;
        loop {
            let line_end = pos + self.buf[pos..].windows(2).position(|w| w == b"\r\n")?;
            let line = &self.buf[pos..line_end];
            let after = line_end + 2;
            if line.starts_with(b"VALUE ") {
                // VALUE <key> <flags> <bytes> [<cas>]: the block, then more lines.
                pos = after + block_len(line, 3)? + 2;
                if pos > self.buf.len() {
                    return None;
                }
            } else if line.starts_with(b"STAT ") {
                pos = after;
            } else if line.starts_with(b"VA ") {
                // VA <bytes> <flags>*: one meta reply with its block.
                let end = after + block_len(line, 1)? + 2;
                return (end <= self.buf.len()).then_some(end);
            } else {
                // END, or a one-line reply.
                return Some(after);
            }
        }
    }
}

/// The decimal length at word `index` of a header line.
fn block_len(line: &[u8], index: usize) -> Option<usize> {
    let word = line.split(|&b| b == b' ').nth(index)?;
    std::str::from_utf8(word).ok()?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::Framer;

    #[test]
    fn replies_come_out_whole_whatever_the_split() {
        let stream: &[u8] =
            b"STORED\r\nVALUE a 0 3\r\nx\r\n\r\nVALUE b 0 1\r\ny\r\nEND\r\nSTAT pid 1\r\nEND\r\nVA 2 f0\r\nhi\r\n7\r\n";
        for split in 0..stream.len() {
            let mut framer = Framer::default();
            let mut replies = Vec::new();
            for piece in [&stream[..split], &stream[split..]] {
                framer.push(piece);
                while let Some(reply) = framer.next_reply() {
                    replies.push(String::from_utf8(reply).unwrap());
                }
            }
            assert_eq!(
                replies,
                [
                    "STORED\r\n",
                    "VALUE a 0 3\r\nx\r\n\r\nVALUE b 0 1\r\ny\r\nEND\r\n",
                    "STAT pid 1\r\nEND\r\n",
                    "VA 2 f0\r\nhi\r\n",
                    "7\r\n"
                ]
            );
        }
    }
}
