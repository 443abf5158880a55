//! How a downstream crate unit-tests its caching code with `memclient-mock`.
//!
//! The application code takes a `Client<B>` for any backend `B`: production
//! passes a connection or a pool, the tests pass a `MockMemcache`. The tests
//! below (run by `cargo test --example downstream`, and by the workspace's
//! test suite) move the mock's clock, inject faults and look inside the cache.

use std::time::Duration;

use memclient::{Backend, Client};

/// A price lookup that caches the expensive computation for five minutes and
/// still answers (uncached) when memcached is in trouble.
pub struct PriceCache<B> {
    cache: Client<B>,
}

impl<B: Backend> PriceCache<B> {
    /// Wraps a client.
    pub fn new(cache: Client<B>) -> Self {
        PriceCache { cache }
    }

    /// The price of `sku`, from the cache when it can.
    pub async fn price(&self, sku: &str, compute: impl FnOnce() -> i64) -> i64 {
        let key = format!("price:{sku}");
        if let Ok(Some(cached)) = self.cache.get(&key).await {
            if let Some(price) = cached.as_int() {
                return price;
            }
        }
        let price = compute();
        // A failed write costs a recomputation next time, nothing more.
        let _ = self
            .cache
            .set(&key, price)
            .ttl(Duration::from_secs(300))
            .await;
        price
    }
}

fn main() {
    let mock = memclient_mock::MockMemcache::new();
    let prices = PriceCache::new(Client::new(mock.clone()));
    let price = futures_lite::future::block_on(prices.price("sku-1", || 1999));
    println!("price {price}; the cache holds {:?}", mock.keys());
}

#[cfg(test)]
mod tests {
    use std::cell::Cell;

    use futures_lite::future::block_on;
    use memclient::{Client, Error};
    use memclient_mock::MockMemcache;

    use super::*;

    #[test]
    fn computes_once_then_serves_from_the_cache() {
        let mock = MockMemcache::new();
        let prices = PriceCache::new(Client::new(mock.clone()));
        let calls = Cell::new(0);
        let compute = || {
            calls.set(calls.get() + 1);
            1999
        };
        assert_eq!(block_on(prices.price("sku-1", compute)), 1999);
        assert_eq!(block_on(prices.price("sku-1", compute)), 1999);
        assert_eq!(calls.get(), 1);
        // Look inside: stored as pymemcache stores an int (flags 2).
        assert_eq!(mock.get_raw(b"price:sku-1"), Some(("1999".into(), 2)));
    }

    #[test]
    fn recomputes_after_five_minutes() {
        let mock = MockMemcache::with_manual_clock();
        let prices = PriceCache::new(Client::new(mock.clone()));
        assert_eq!(block_on(prices.price("sku-1", || 1999)), 1999);
        mock.advance(Duration::from_secs(299));
        assert_eq!(
            block_on(prices.price("sku-1", || 2500)),
            1999,
            "still cached"
        );
        mock.advance(Duration::from_secs(2));
        assert_eq!(
            block_on(prices.price("sku-1", || 2500)),
            2500,
            "expired, recomputed"
        );
    }

    #[test]
    fn answers_while_memcached_fails() {
        let mock = MockMemcache::new();
        let prices = PriceCache::new(Client::new(mock.clone()));
        // The read and the write of the next call both fail.
        mock.fail_next(2, Error::Server("out of memory storing object".into()));
        assert_eq!(block_on(prices.price("sku-1", || 1999)), 1999);
        assert!(mock.is_empty(), "the failed write stored nothing");
        // memcached is back: the next call caches again.
        assert_eq!(block_on(prices.price("sku-1", || 1999)), 1999);
        assert_eq!(mock.len(), 1);
    }

    #[test]
    fn answers_when_the_connection_drops() {
        let mock = MockMemcache::new();
        let prices = PriceCache::new(Client::new(mock.clone()));
        mock.drop_connections();
        assert_eq!(block_on(prices.price("sku-1", || 1999)), 1999);
    }
}
