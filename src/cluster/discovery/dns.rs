//! [`Dns`]: the nodes are every address a host name resolves to.

use std::net::{IpAddr, ToSocketAddrs};

use super::source::Discover;
use crate::cluster::scheme::NodeSpec;
use crate::runtime::{Address, BoxFuture};
use crate::{Error, Result};

/// Every A and AAAA record of a name, as nodes on one port: a headless
/// Kubernetes service, a DNS round-robin name. Re-resolved each time it is
/// asked (so at each interval of [`Cluster::follow`](crate::Cluster::follow)).
///
/// Nodes are named by IP address (`10.0.0.5:11211`, `[fd00::5]:11211`), as
/// other clients given the same addresses name them. Resolution uses the
/// system resolver (`getaddrinfo`, so `/etc/hosts` too) on a thread of its
/// own, never on the runtime's. For SRV records, see [`Srv`](super::Srv).
#[derive(Debug, Clone)]
pub struct Dns {
    host: String,
    port: u16,
}

impl Dns {
    /// The addresses of `host`, each on `port`.
    pub fn new(host: impl Into<String>, port: u16) -> Self {
        Dns {
            host: host.into(),
            port,
        }
    }

    /// Resolves now, on this thread.
    pub fn resolve(&self) -> Result<Vec<NodeSpec>> {
        let addresses = (self.host.as_str(), self.port).to_socket_addrs()?;
        let mut ips: Vec<IpAddr> = addresses.map(|a| a.ip()).collect();
        ips.sort();
        ips.dedup();
        if ips.is_empty() {
            return Err(Error::Io(std::sync::Arc::new(std::io::Error::other(
                format!("{} resolves to no address", self.host),
            ))));
        }
        Ok(ips
            .into_iter()
            .map(|ip| {
                NodeSpec::new(Address::Tcp {
                    host: ip.to_string(),
                    port: self.port,
                })
            })
            .collect())
    }
}

impl Discover for Dns {
    fn discover(&self) -> BoxFuture<'_, Result<Option<Vec<NodeSpec>>>> {
        let (sender, receiver) = futures_channel::oneshot::channel();
        let dns = self.clone();
        // getaddrinfo blocks: never on an executor's thread.
        let spawned = std::thread::Builder::new()
            .name("memclient-dns".into())
            .spawn(move || {
                let _ = sender.send(dns.resolve());
            });
        Box::pin(async move {
            spawned?;
            match receiver.await {
                Ok(result) => result.map(Some),
                Err(_) => Err(Error::Io(std::sync::Arc::new(std::io::Error::other(
                    "the resolver thread ended without an answer",
                )))),
            }
        })
    }
}
