//! The test support of the plain suites, with every server a TLS server
//! (`memcached -Z`): the command suite runs unchanged over TLS.

#![allow(dead_code)]

use std::ops::Deref;
use std::sync::OnceLock;

pub use crate::plain_support::{pki, unique_prefix, Listen};

/// A `memcached -Z` standing in for the plain one.
pub struct Memcached(crate::plain_support::Memcached);

impl Deref for Memcached {
    type Target = crate::plain_support::Memcached;

    fn deref(&self) -> &Self::Target {
        &self.0
    }
}

impl Memcached {
    /// The shared TLS server of this test process.
    pub fn shared() -> &'static Memcached {
        static SHARED: OnceLock<Memcached> = OnceLock::new();
        SHARED.get_or_init(Memcached::start)
    }

    /// A TLS server of its own.
    pub fn start() -> Memcached {
        Memcached(crate::plain_support::Memcached::start_tls(&[]))
    }

    /// A TLS server with extra arguments; TCP on 127.0.0.1 only (memcached
    /// speaks TLS on TCP, not on UNIX sockets).
    pub fn start_with(listen: Listen, args: &[&str]) -> Memcached {
        assert!(
            matches!(listen, Listen::Ipv4),
            "TLS suites listen on 127.0.0.1"
        );
        Memcached(crate::plain_support::Memcached::start_tls(args))
    }
}

/// Trusts the test CA only: every connection of these suites is verified.
pub fn tls() -> memclient::tls::TlsConfig {
    memclient::tls::TlsConfig::new()
        .roots(memclient::tls::Roots::None)
        .add_ca_pem(&pki::Pki::shared().ca_pem)
        .expect("the test CA parses")
}
