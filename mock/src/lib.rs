//! An in-memory memcached for tests.
#![forbid(unsafe_code)]
