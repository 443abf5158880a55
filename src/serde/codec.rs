//! The two compression formats flag 8 may hold, and how a reader tells them apart.
//!
//! pymemcache's `CompressedSerde` stores zlib streams (`zlib.compress`);
//! memclient has stored lz4 blocks with their size prepended (as Python's
//! `lz4.block.compress` does by default). Both share flag 8, so the reader looks
//! at the bytes: a zlib stream starts with a two-byte header whose check bits
//! make it a multiple of 31 and ends with the Adler-32 of the plain data; an lz4
//! value starts with its plain size. A value that passes zlib's checks is zlib,
//! anything else is tried as lz4.

use flate2::{Compress, Compression, Decompress, FlushCompress, FlushDecompress, Status};

/// The compression a [`Compressed`](super::Compressed) serde writes.
///
/// Reading never depends on it: both formats are recognized.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum Codec {
    /// lz4 blocks with the plain size prepended (4 bytes, little endian):
    /// fast. A Python peer reads them with `CompressedSerde(compress=lz4.block.compress,
    /// decompress=lz4.block.decompress)`.
    #[default]
    Lz4,
    /// zlib streams at zlib's default level, as pymemcache's `CompressedSerde()`
    /// writes and reads them by default.
    Zlib,
}

impl Codec {
    /// `data`, compressed.
    pub(crate) fn compress(self, data: &[u8]) -> Vec<u8> {
        match self {
            Codec::Lz4 => lz4_flex::compress_prepend_size(data),
            Codec::Zlib => zlib_compress(data),
        }
    }
}

/// Decompresses zlib or lz4 `data`, refusing to produce more than `limit`
/// bytes. `None` when it is neither, or is corrupt, or expands past `limit`.
pub(crate) fn decompress(data: &[u8], limit: usize) -> Option<Vec<u8>> {
    if looks_like_zlib(data) {
        if let Some(plain) = zlib_decompress(data, limit) {
            return Some(plain);
        }
    }
    lz4_decompress(data, limit)
}

/// RFC 1950's header: deflate (method 8) with a window of at most 32 KiB, no
/// preset dictionary, and check bits that make the first two bytes a
/// multiple of 31.
fn looks_like_zlib(data: &[u8]) -> bool {
    match data {
        [cmf, flg, _, ..] => {
            cmf & 0x0f == 8
                && cmf >> 4 <= 7
                && flg & 0x20 == 0
                && (u16::from(*cmf) << 8 | u16::from(*flg)) % 31 == 0
        }
        _ => false,
    }
}

fn zlib_compress(data: &[u8]) -> Vec<u8> {
    let mut compressor = Compress::new(Compression::default(), true);
    // deflate's worst case is a few bytes per 16 KiB block over the input.
    let mut out = Vec::with_capacity(data.len() + data.len() / 1000 + 64);
    loop {
        let consumed = compressor.total_in() as usize;
        let status = compressor
            .compress_vec(&data[consumed..], &mut out, FlushCompress::Finish)
            .expect("deflate into a growing buffer cannot fail");
        if status == Status::StreamEnd {
            return out;
        }
        out.reserve(out.capacity().max(64));
    }
}

/// Inflates one complete zlib stream: its Adler-32 must match and nothing
/// may follow it. Output grows as needed, never past `limit`.
fn zlib_decompress(data: &[u8], limit: usize) -> Option<Vec<u8>> {
    let mut inflater = Decompress::new(true);
    let mut out = Vec::with_capacity(data.len().saturating_mul(4).clamp(64, limit.max(64)));
    loop {
        let (read, written) = (inflater.total_in(), inflater.total_out());
        let status = inflater
            .decompress_vec(&data[read as usize..], &mut out, FlushDecompress::None)
            .ok()?;
        if status == Status::StreamEnd {
            return (inflater.total_in() as usize == data.len() && out.len() <= limit)
                .then_some(out);
        }
        if out.len() == out.capacity() {
            if out.len() >= limit {
                return None;
            }
            out.reserve((limit - out.len()).min(out.capacity().max(64)));
        } else if inflater.total_in() == read && inflater.total_out() == written {
            // Room left and no progress: the stream is cut short.
            return None;
        }
    }
}

/// Decompresses lz4 data with its size prepended (4 bytes, little endian).
///
/// The declared size is checked against `limit` and against what lz4 can
/// possibly expand to (255 output bytes per input byte) before anything is
/// allocated, so a corrupt or hostile prefix cannot make the client allocate
/// gigabytes.
fn lz4_decompress(data: &[u8], limit: usize) -> Option<Vec<u8>> {
    let (prefix, block) = data.split_first_chunk::<4>()?;
    let size = u32::from_le_bytes(*prefix) as usize;
    if size > block.len().saturating_mul(255) || size > limit {
        return None;
    }
    let mut plain = vec![0; size];
    let written = lz4_flex::block::decompress_into(block, &mut plain).ok()?;
    (written == size).then_some(plain)
}

#[cfg(test)]
mod tests {
    use super::*;

    const LIMIT: usize = 1 << 20;

    fn text(len: usize) -> Vec<u8> {
        b"memclient shares a cache "
            .iter()
            .cycle()
            .take(len)
            .copied()
            .collect()
    }

    #[test]
    fn both_codecs_come_back_through_one_reader() {
        for len in [0, 1, 100, 5000, 300_000] {
            let plain = text(len);
            for codec in [Codec::Lz4, Codec::Zlib] {
                let packed = codec.compress(&plain);
                assert_eq!(decompress(&packed, LIMIT).as_deref(), Some(&plain[..]));
            }
        }
    }

    #[test]
    fn reads_what_python_zlib_compress_writes() {
        // zlib.compress(b"hello hello hello hello")
        let python = b"x\x9c\xcbH\xcd\xc9\xc9W\xc8@'\x01h\x03\x08\xb1";
        assert_eq!(
            decompress(python, LIMIT).as_deref(),
            Some(&b"hello hello hello hello"[..])
        );
    }

    #[test]
    fn zlib_with_a_bad_checksum_trailing_bytes_or_cut_short_is_refused() {
        let mut packed = Codec::Zlib.compress(&text(2000));
        let last = packed.len() - 1;
        packed[last] ^= 1;
        assert_eq!(decompress(&packed, LIMIT), None);
        packed[last] ^= 1;
        packed.push(0);
        assert_eq!(decompress(&packed, LIMIT), None);
        packed.truncate(packed.len() - 10);
        assert_eq!(decompress(&packed, LIMIT), None);
    }

    #[test]
    fn expansion_past_the_limit_is_refused_for_both() {
        let plain = vec![0u8; 100_000];
        for codec in [Codec::Lz4, Codec::Zlib] {
            let packed = codec.compress(&plain);
            assert_eq!(decompress(&packed, 99_999), None, "{codec:?}");
            assert_eq!(decompress(&packed, 100_000).map(|p| p.len()), Some(100_000));
        }
    }

    #[test]
    fn hostile_lz4_prefix_allocates_nothing() {
        assert_eq!(decompress(b"\xff\xff\xff\x7fgarbage", LIMIT), None);
        let mut short = lz4_flex::compress_prepend_size(&[b'x'; 500]);
        short[0] = short[0].wrapping_add(1);
        assert_eq!(decompress(&short, LIMIT), None);
    }

    #[test]
    fn an_lz4_value_whose_prefix_looks_like_zlib_still_reads() {
        // Plain size 0x0178 = 376: the prefix bytes 0x78 0x01 are a valid zlib header.
        let plain = text(0x0178);
        let packed = Codec::Lz4.compress(&plain);
        assert!(looks_like_zlib(&packed));
        assert_eq!(decompress(&packed, LIMIT).as_deref(), Some(&plain[..]));
    }
}
