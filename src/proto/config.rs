//! AWS ElastiCache auto discovery: `config get cluster` and its reply, in
//! both directions (the client reads it, the mock server writes it).
//!
//! The reply is a length-prefixed block, then `END`:
//!
//! ```text
//! CONFIG cluster 0 <length>\r\n
//! <config version>\n
//! <host>|<ip>|<port> <host>|<ip>|<port> ...\n
//! \r\n
//! END\r\n
//! ```
//!
//! `<length>` counts the two lines of the block with their `\n`s. The `ip`
//! may be empty (the host name is then the address).

use bytes::{Buf, Bytes, BytesMut};

use super::line::{error_line, find_line, parse_u64};
use crate::Error;

/// The request line of auto discovery.
pub const CONFIG_GET_CLUSTER: &[u8] = b"config get cluster\r\n";

/// The largest configuration block accepted: far above any real cluster
/// (a node takes under 200 bytes), small enough to bound the buffer.
pub const MAX_CONFIG_LEN: usize = 1 << 20;

/// Longest header line: `CONFIG cluster <flags> <length>`.
const HEADER_LIMIT: usize = 128;

/// A cluster's configuration as the configuration endpoint reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClusterConfig {
    /// Raised by the service each time the node list changes.
    pub version: u64,
    /// The nodes, in the order given.
    pub nodes: Vec<ConfigNode>,
}

/// One node of a [`ClusterConfig`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigNode {
    /// The node's DNS name.
    pub host: String,
    /// Its IP address, when the service gave one.
    pub ip: Option<String>,
    /// Its port.
    pub port: u16,
}

impl ConfigNode {
    /// The address to connect to: the IP when given, else the host name.
    pub fn address(&self) -> String {
        let host = self.ip.as_deref().unwrap_or(&self.host);
        if host.contains(':') {
            format!("[{host}]:{}", self.port)
        } else {
            format!("{host}:{}", self.port)
        }
    }
}

/// Writes the reply to `config get cluster` for `config` (server side).
pub fn encode_cluster_config(config: &ClusterConfig, out: &mut BytesMut) {
    let nodes: Vec<String> = config
        .nodes
        .iter()
        .map(|node| {
            format!(
                "{}|{}|{}",
                node.host,
                node.ip.as_deref().unwrap_or(""),
                node.port
            )
        })
        .collect();
    let block = format!("{}\n{}\n", config.version, nodes.join(" "));
    out.extend_from_slice(format!("CONFIG cluster 0 {}\r\n", block.len()).as_bytes());
    out.extend_from_slice(block.as_bytes());
    out.extend_from_slice(b"\r\nEND\r\n");
}

/// Decodes the reply to `config get cluster` (client side), however it is
/// split. An error line of the server (`ERROR` from a memcached that is not
/// a configuration endpoint) is returned as that error.
#[derive(Debug, Default)]
pub struct ConfigDecoder {
    scanned: usize,
}

impl ConfigDecoder {
    /// A decoder for one reply.
    pub fn new() -> Self {
        Self::default()
    }

    /// The configuration once the whole reply is in `buf` (consumed), `None`
    /// while more bytes are needed. A malformed reply is an error: the
    /// connection must not be reused.
    pub fn decode(&mut self, buf: &mut BytesMut) -> Option<Result<ClusterConfig, Error>> {
        match self.try_decode(buf) {
            Ok(None) => None,
            Ok(Some(config)) => Some(Ok(config)),
            Err(error) => Some(Err(error)),
        }
    }

    fn try_decode(&mut self, buf: &mut BytesMut) -> Result<Option<ClusterConfig>, Error> {
        let Some(line) = find_line(buf, &mut self.scanned, HEADER_LIMIT)? else {
            return Ok(None);
        };
        let header = &buf[..line.content];
        if let Some(error) = error_line(header) {
            buf.advance(line.total);
            return Err(error);
        }
        let length = parse_header(header)?;
        let end = line.total + length + b"\r\nEND\r\n".len();
        if buf.len() < end {
            return Ok(None);
        }
        let trailer = &buf[line.total + length..end];
        if trailer != b"\r\nEND\r\n" {
            return Err(Error::protocol("config block not followed by END", trailer));
        }
        let block = Bytes::copy_from_slice(&buf[line.total..line.total + length]);
        buf.advance(end);
        parse_block(&block).map(Some)
    }
}

/// The block length of `CONFIG cluster <flags> <length>`.
fn parse_header(header: &[u8]) -> Result<usize, Error> {
    let bad = || Error::protocol("bad CONFIG header", header);
    let mut words = header.split(|&b| b == b' ');
    if words.next() != Some(b"CONFIG") || words.next() != Some(b"cluster") {
        return Err(bad());
    }
    words.next().and_then(parse_u64).ok_or_else(bad)?;
    let length = words.next().and_then(parse_u64).ok_or_else(bad)?;
    if words.next().is_some() {
        return Err(bad());
    }
    match usize::try_from(length) {
        Ok(length) if length <= MAX_CONFIG_LEN => Ok(length),
        _ => Err(Error::protocol(
            "config block larger than the limit",
            header,
        )),
    }
}

/// `<version>\n<nodes>\n`.
fn parse_block(block: &[u8]) -> Result<ClusterConfig, Error> {
    let bad = |why: &str| Error::protocol(why, block);
    let text = std::str::from_utf8(block).map_err(|_| bad("config block is not UTF-8"))?;
    let mut lines = text.split('\n').map(|line| line.trim_end_matches('\r'));
    let version = lines
        .next()
        .and_then(|v| parse_u64(v.as_bytes()))
        .ok_or_else(|| bad("bad config version"))?;
    let nodes = lines
        .next()
        .ok_or_else(|| bad("config block without a node list"))?
        .split(' ')
        .filter(|node| !node.is_empty())
        .map(|node| parse_node(node).ok_or_else(|| bad("bad config node")))
        .collect::<Result<Vec<_>, _>>()?;
    if lines.any(|rest| !rest.is_empty()) {
        return Err(bad("config block has more than two lines"));
    }
    Ok(ClusterConfig { version, nodes })
}

/// `host|ip|port`.
fn parse_node(node: &str) -> Option<ConfigNode> {
    let mut parts = node.split('|');
    let (host, ip, port) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() || host.is_empty() {
        return None;
    }
    let port = u16::try_from(parse_u64(port.as_bytes())?).ok()?;
    let ip = (!ip.is_empty()).then(|| ip.to_string());
    Some(ConfigNode {
        host: host.to_string(),
        ip,
        port,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The example of the ElastiCache documentation.
    const AWS: &[u8] = b"CONFIG cluster 0 136\r\n12\nmyCluster.pc4ldq.0001.use1.cache.amazonaws.com|10.82.235.120|11211 myCluster.pc4ldq.0002.use1.cache.amazonaws.com|10.80.249.27|11211\n\r\nEND\r\n";

    fn decode_all(bytes: &[u8]) -> Option<Result<ClusterConfig, Error>> {
        ConfigDecoder::new().decode(&mut BytesMut::from(bytes))
    }

    #[test]
    fn reads_the_documented_reply_split_anywhere() {
        let config = decode_all(AWS).unwrap().unwrap();
        assert_eq!(config.version, 12);
        assert_eq!(config.nodes.len(), 2);
        assert_eq!(config.nodes[1].address(), "10.80.249.27:11211");
        for split in 0..AWS.len() {
            let mut decoder = ConfigDecoder::new();
            let mut buf = BytesMut::from(&AWS[..split]);
            assert!(decoder.decode(&mut buf).is_none(), "complete at {split}");
            buf.extend_from_slice(&AWS[split..]);
            assert_eq!(decoder.decode(&mut buf).unwrap().unwrap(), config);
            assert!(buf.is_empty());
        }
    }

    #[test]
    fn round_trips_what_the_server_side_writes() {
        let config = ClusterConfig {
            version: 3,
            nodes: vec![
                ConfigNode {
                    host: "a.example".into(),
                    ip: None,
                    port: 11211,
                },
                ConfigNode {
                    host: "b.example".into(),
                    ip: Some("::1".into()),
                    port: 11212,
                },
            ],
        };
        let mut out = BytesMut::new();
        encode_cluster_config(&config, &mut out);
        assert_eq!(decode_all(&out).unwrap().unwrap(), config);
        assert_eq!(config.nodes[0].address(), "a.example:11211");
        assert_eq!(config.nodes[1].address(), "[::1]:11212");
        let empty = ClusterConfig {
            version: 1,
            nodes: vec![],
        };
        out.clear();
        encode_cluster_config(&empty, &mut out);
        assert_eq!(decode_all(&out).unwrap().unwrap(), empty);
    }

    #[test]
    fn error_lines_and_malformed_replies_are_errors() {
        assert!(matches!(
            decode_all(b"ERROR\r\n"),
            Some(Err(Error::UnknownCommand(_)))
        ));
        for bad in [
            &b"CONFIG cluster 0 99999999999\r\n"[..],
            b"CONFIG cluster 0 x\r\n",
            b"CONFIG other 0 3\r\n",
            b"VALUE a 0 1\r\n",
            b"CONFIG cluster 0 4\r\nx\ny\n\r\nEND\r\n",
            b"CONFIG cluster 0 4\r\n1\na\n\r\nEND\r\n",
            b"CONFIG cluster 0 12\r\n1\nh|i|99999\n\r\nEND\r\n",
            b"CONFIG cluster 0 8\r\n1\nh|i|1\n\r\nXXX\r\n",
        ] {
            assert!(
                matches!(decode_all(bad), Some(Err(Error::Protocol(_)))),
                "{:?}",
                bad.escape_ascii().to_string()
            );
        }
        // A header that never ends is cut at the limit, not buffered.
        assert!(matches!(
            decode_all(&[b'C'; 200]),
            Some(Err(Error::Protocol(_)))
        ));
    }
}
