//! memcached's default slab classes (`-n 48 -f 1.25`, 1 MiB pages), used to
//! report the class (`cls=`) of an item in `lru_crawler metadump`.

/// The chunk size of each class, index 0 unused (class ids start at 1).
fn class_sizes() -> Vec<usize> {
    const CHUNK_MAX: usize = 512 * 1024;
    let mut sizes = vec![0];
    let mut size: usize = 48 + 48;
    while sizes.len() < 63 {
        if size as f64 >= CHUNK_MAX as f64 / 1.25 {
            break;
        }
        if size % 8 != 0 {
            size += 8 - size % 8;
        }
        sizes.push(size);
        size = (size as f64 * 1.25) as usize;
    }
    sizes.push(CHUNK_MAX);
    sizes
}

/// The largest class id (39 with the defaults).
pub(crate) fn largest_class() -> usize {
    class_sizes().len() - 1
}

/// The class an item of `total` bytes lives in; larger items are chunked
/// and reported in the largest class.
pub(crate) fn class_of(total: usize) -> usize {
    let sizes = class_sizes();
    sizes
        .iter()
        .skip(1)
        .position(|&size| size >= total)
        .map_or(sizes.len() - 1, |i| i + 1)
}

#[cfg(test)]
mod tests {
    #[test]
    fn classes_match_memcached() {
        assert_eq!(super::class_of(61), 1);
        assert_eq!(super::class_of(97), 2);
        assert_eq!(super::class_of(384), 7);
        assert_eq!(super::largest_class(), 39);
        assert_eq!(super::class_of(1_000_000), 39);
    }
}
