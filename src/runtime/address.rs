//! Where a memcached server listens: `host:port`, `[v6]:port`, or a UNIX
//! socket; and [`Endpoint`], which adds the `tls://` form.

use std::fmt;
use std::path::PathBuf;
use std::str::FromStr;

use super::SocketOptions;
use crate::Error;

/// The address of one memcached server.
///
/// Parsed from `host:port` (a name resolved at connect time, or an IPv4
/// address), `[v6-address]:port`, `unix:/path` or a plain `/path`. A missing
/// port means memcached's default, 11211.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Address {
    /// A TCP server: a host name or IP address, and a port.
    Tcp {
        /// The host name or IP address (IPv6 without brackets).
        host: String,
        /// The TCP port.
        port: u16,
    },
    /// A UNIX domain socket.
    Unix(PathBuf),
}

/// memcached's default port.
pub const DEFAULT_PORT: u16 = 11211;

impl FromStr for Address {
    type Err = Error;

    fn from_str(text: &str) -> Result<Self, Error> {
        let illegal = |why: &str| Error::IllegalInput(format!("address {text:?}: {why}"));
        if text.contains("://") {
            return Err(illegal(
                "a scheme such as tls:// belongs to an Endpoint (Config, Cluster::open), \
                 not an Address",
            ));
        }
        if let Some(path) = text.strip_prefix("unix:") {
            if path.is_empty() {
                return Err(illegal("empty socket path"));
            }
            return Ok(Address::Unix(PathBuf::from(path)));
        }
        if text.starts_with('/') {
            return Ok(Address::Unix(PathBuf::from(text)));
        }
        let parse_port = |port: &str| port.parse::<u16>().map_err(|_| illegal("invalid port"));
        let (host, port) = if let Some(rest) = text.strip_prefix('[') {
            let (host, after) = rest
                .split_once(']')
                .ok_or_else(|| illegal("missing ']' after an IPv6 address"))?;
            let port = match after {
                "" => DEFAULT_PORT,
                _ => parse_port(
                    after
                        .strip_prefix(':')
                        .ok_or_else(|| illegal("expected ':port' after ']'"))?,
                )?,
            };
            (host, port)
        } else {
            match text.rsplit_once(':') {
                // A bare IPv6 address has several colons and no port.
                Some((host, _)) if host.contains(':') => (text, DEFAULT_PORT),
                Some((host, port)) => (host, parse_port(port)?),
                None => (text, DEFAULT_PORT),
            }
        };
        if host.is_empty() {
            return Err(illegal("empty host"));
        }
        Ok(Address::Tcp {
            host: host.to_string(),
            port,
        })
    }
}

impl fmt::Display for Address {
    /// The node name other clients use: `host:port` (`[v6]:port`), or the socket path.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Address::Tcp { host, port } if host.contains(':') => write!(f, "[{host}]:{port}"),
            Address::Tcp { host, port } => write!(f, "{host}:{port}"),
            Address::Unix(path) => write!(f, "{}", path.display()),
        }
    }
}

/// An [`Address`] and whether to speak TLS to it: what [`Config`](crate::Config)
/// and [`Cluster::open`](crate::Cluster::open) read.
///
/// `tls://host:port` (or `tls://[v6]:port`) means TLS; every [`Address`] form
/// means plain text, unless TLS settings are given for the connection
/// ([`SocketOptions::tls`](crate::runtime::SocketOptions)), which turn TLS on
/// for every address they apply to.
///
/// ```
/// use memclient::runtime::Endpoint;
///
/// let endpoint: Endpoint = "tls://cache.internal:11212".parse()?;
/// assert!(endpoint.tls);
/// assert_eq!(endpoint.address.to_string(), "cache.internal:11212");
/// assert!(!"127.0.0.1:11211".parse::<Endpoint>()?.tls);
/// # Ok::<(), memclient::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Endpoint {
    /// Where the server listens. A cluster names the node after it (without
    /// the scheme), so turning TLS on does not move any key.
    pub address: Address,
    /// Whether the address was written `tls://...`.
    pub tls: bool,
}

impl FromStr for Endpoint {
    type Err = Error;

    fn from_str(text: &str) -> Result<Self, Error> {
        let Some(rest) = text.strip_prefix("tls://") else {
            return Ok(Endpoint {
                address: text.parse()?,
                tls: false,
            });
        };
        match rest.parse()? {
            Address::Unix(_) => Err(Error::IllegalInput(format!(
                "address {text:?}: TLS is for TCP servers (tls://host:port), not UNIX sockets"
            ))),
            address => Ok(Endpoint { address, tls: true }),
        }
    }
}

impl Endpoint {
    /// The socket options to open this endpoint with: `base`, with TLS turned
    /// on (default settings, unless `base` has some) for a `tls://` address.
    /// Fails for `tls://` when memclient is built without the `tls` feature.
    pub fn socket_options(&self, base: &SocketOptions) -> Result<SocketOptions, Error> {
        #[allow(unused_mut)]
        let mut options = base.clone();
        if self.tls {
            #[cfg(feature = "tls")]
            if options.tls.is_none() {
                options.tls = Some(crate::tls::TlsConfig::default());
            }
            #[cfg(not(feature = "tls"))]
            return Err(Error::IllegalInput(format!(
                "address \"{self}\": memclient was built without its `tls` feature"
            )));
        }
        Ok(options)
    }
}

impl fmt::Display for Endpoint {
    /// `tls://host:port` or the plain address.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.tls {
            write!(f, "tls://{}", self.address)
        } else {
            write!(f, "{}", self.address)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tcp(host: &str, port: u16) -> Address {
        Address::Tcp {
            host: host.into(),
            port,
        }
    }

    #[test]
    fn parses_every_form() {
        assert_eq!(
            "127.0.0.1:11311".parse::<Address>().unwrap(),
            tcp("127.0.0.1", 11311)
        );
        assert_eq!(
            "localhost".parse::<Address>().unwrap(),
            tcp("localhost", 11211)
        );
        assert_eq!("[::1]:5000".parse::<Address>().unwrap(), tcp("::1", 5000));
        assert_eq!("[::1]".parse::<Address>().unwrap(), tcp("::1", 11211));
        assert_eq!("::1".parse::<Address>().unwrap(), tcp("::1", 11211));
        assert_eq!(
            "unix:/tmp/mc.sock".parse::<Address>().unwrap(),
            Address::Unix("/tmp/mc.sock".into())
        );
        assert_eq!(
            "/tmp/mc.sock".parse::<Address>().unwrap(),
            Address::Unix("/tmp/mc.sock".into())
        );
    }

    #[test]
    fn rejects_broken_addresses() {
        for bad in [
            "",
            "host:",
            "host:99999",
            "[::1",
            "[::1]x",
            ":11211",
            "unix:",
            "tls://host:1",
        ] {
            let err = bad.parse::<Address>().unwrap_err();
            assert!(matches!(err, Error::IllegalInput(_)), "{bad:?}: {err}");
        }
    }

    #[test]
    fn displays_as_node_name() {
        assert_eq!(tcp("::1", 7).to_string(), "[::1]:7");
        assert_eq!(tcp("10.0.0.1", 7).to_string(), "10.0.0.1:7");
        assert_eq!(Address::Unix("/s".into()).to_string(), "/s");
    }

    #[test]
    fn endpoints_read_the_tls_scheme() {
        let endpoint: Endpoint = "tls://[::1]:7".parse().unwrap();
        assert_eq!(
            endpoint,
            Endpoint {
                address: tcp("::1", 7),
                tls: true
            }
        );
        assert_eq!(endpoint.to_string(), "tls://[::1]:7");
        let plain: Endpoint = "unix:/s".parse().unwrap();
        assert!(!plain.tls);
        for bad in ["tls://", "tls://unix:/s", "tls:///s", "tls://h:x"] {
            let err = bad.parse::<Endpoint>().unwrap_err();
            assert!(matches!(err, Error::IllegalInput(_)), "{bad:?}: {err}");
        }
    }
}
