//! Rendezvous hashing as pymemcache's `RendezvousHash` does it.

use super::murmur3::{murmur3_32, pymemcache_bytes};
use super::scheme::{Locator, NodeSpec};

/// pymemcache's rendezvous hashing: each node scores a key with
/// `murmur3_32("<node name>-<key>", seed 0)`; the highest score wins, and a
/// tie goes to the greater node name.
///
/// Adding or removing a node moves only the keys it wins or held: every other
/// key keeps its highest-scoring node.
#[derive(Debug, Clone)]
pub struct Rendezvous {
    /// Each node's name followed by `-`: the start of every scored string.
    prefixes: Vec<Vec<u8>>,
}

impl Rendezvous {
    /// The locator for `nodes`.
    pub fn new(nodes: &[NodeSpec]) -> Self {
        let prefixes = nodes
            .iter()
            .map(|node| {
                let mut prefix = node.name().as_bytes().to_vec();
                prefix.push(b'-');
                prefix
            })
            .collect();
        Rendezvous { prefixes }
    }

    fn score(buffer: &mut Vec<u8>, prefix: &[u8], key: &[u8]) -> u32 {
        buffer.clear();
        buffer.extend_from_slice(prefix);
        buffer.extend_from_slice(key);
        murmur3_32(&pymemcache_bytes(buffer), 0)
    }
}

/// The node name of a prefix (without its `-`).
fn name(prefix: &[u8]) -> &[u8] {
    prefix.strip_suffix(b"-").unwrap_or(prefix)
}

impl Locator for Rendezvous {
    fn locate(&self, key: &[u8]) -> Option<usize> {
        let mut buffer = Vec::with_capacity(64 + key.len());
        let mut best: Option<(u32, usize)> = None;
        for (index, prefix) in self.prefixes.iter().enumerate() {
            let score = Self::score(&mut buffer, prefix, key);
            let wins = match best {
                None => true,
                Some((high, _)) if score > high => true,
                // pymemcache keeps max(str(node), str(winner)); names compare
                // by code point, which is the byte order of their UTF-8.
                Some((high, winner)) => {
                    score == high && name(prefix) > name(&self.prefixes[winner])
                }
            };
            if wins {
                best = Some((score, index));
            }
        }
        best.map(|(_, index)| index)
    }
}
