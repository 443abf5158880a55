//! twemproxy's server lines: `host:port:weight [name]` or `/socket:weight [name]`.

use super::scheme::NodeSpec;
use crate::runtime::Address;
use crate::{Error, Result};

impl NodeSpec {
    /// A node from one entry of twemproxy's `servers:` list, read as
    /// nutcracker 0.5 reads it: `host:port:weight`, `/unix/socket:weight`,
    /// each optionally followed by a space and a server name. The weight (at
    /// least 1) and the name go to the node; pair it with
    /// [`KetamaOptions::twemproxy`](super::KetamaOptions::twemproxy) to
    /// place keys where the proxy does.
    ///
    /// ```
    /// use memclient::cluster::NodeSpec;
    ///
    /// let node = NodeSpec::from_twemproxy("127.0.0.1:11212:2 cache2").unwrap();
    /// assert_eq!(node.name(), "127.0.0.1:11212");
    /// assert_eq!((node.weight(), node.server_name()), (2, Some("cache2")));
    /// assert!(NodeSpec::from_twemproxy("127.0.0.1:11212").is_err());
    /// ```
    pub fn from_twemproxy(line: &str) -> Result<NodeSpec> {
        let illegal = |why: &str| Error::IllegalInput(format!("twemproxy server {line:?}: {why}"));
        // twemproxy splits at the last space (the name is optional), then at
        // the last colons, from the end.
        let (spec, name) = match line.rsplit_once(' ') {
            Some((spec, name)) if !name.is_empty() => (spec, Some(name)),
            Some(_) => return Err(illegal("empty server name")),
            None => (line, None),
        };
        let (address, weight) = spec
            .rsplit_once(':')
            .ok_or_else(|| illegal("expected host:port:weight or /path:weight"))?;
        let weight: u32 = weight
            .parse()
            .ok()
            .filter(|&weight| weight > 0)
            .ok_or_else(|| illegal("the weight must be a number of at least 1"))?;
        let address: Address = if address.starts_with('/') {
            address.parse()?
        } else {
            let (host, port) = address
                .rsplit_once(':')
                .ok_or_else(|| illegal("expected host:port:weight"))?;
            let port: u16 = port
                .parse()
                .ok()
                .filter(|&port| port > 0)
                .ok_or_else(|| illegal("invalid port"))?;
            if host.is_empty() {
                return Err(illegal("empty host"));
            }
            Address::Tcp {
                host: host
                    .trim_start_matches('[')
                    .trim_end_matches(']')
                    .to_string(),
                port,
            }
        };
        // An unnamed socket is named by what precedes the weight, colon
        // included: twemproxy appends ":" and an empty port to its path.
        let name = name.map(str::to_string).or_else(|| match &address {
            Address::Unix(_) => Some(format!("{address}:")),
            Address::Tcp { .. } => None,
        });
        let node = NodeSpec::new(address).with_weight(weight);
        Ok(match name {
            Some(name) => node.with_server_name(name),
            None => node,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_form_twemproxy_reads() {
        let plain = NodeSpec::from_twemproxy("cache.local:11211:3").unwrap();
        assert_eq!(plain.name(), "cache.local:11211");
        assert_eq!((plain.weight(), plain.server_name()), (3, None));
        let v6 = NodeSpec::from_twemproxy("::1:11300:1 six").unwrap();
        assert_eq!(v6.name(), "[::1]:11300");
        assert_eq!(v6.server_name(), Some("six"));
        let unix = NodeSpec::from_twemproxy("/run/mc.sock:1").unwrap();
        assert_eq!(unix.address(), &Address::Unix("/run/mc.sock".into()));
        assert_eq!(unix.server_name(), Some("/run/mc.sock:"));
    }

    #[test]
    fn malformed_lines_are_illegal_input() {
        for line in [
            "",
            "127.0.0.1",
            "127.0.0.1:11211",
            "127.0.0.1:11211:0",
            "127.0.0.1:11211:x",
            "127.0.0.1:99999:1",
            ":11211:1",
            "127.0.0.1:11211:1 ",
        ] {
            let err = NodeSpec::from_twemproxy(line).unwrap_err();
            assert!(matches!(err, Error::IllegalInput(_)), "{line:?}: {err}");
        }
    }
}
