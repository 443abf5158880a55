//! The clients a user would pick instead of memclient, each in its own file.

pub mod async_memcached;
pub mod memcache_async;
pub mod memcache_sync;
