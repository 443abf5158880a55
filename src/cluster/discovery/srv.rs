//! [`Srv`]: the nodes are the targets of a DNS SRV record
//! (`_memcache._tcp.example.com`), each on the port the record gives.
//!
//! The system resolver (`getaddrinfo`) cannot read SRV records, so this asks
//! a name server directly: one query over UDP (RFC 1035 and RFC 2782), read
//! here with every length and pointer bounds-checked, so a hostile or broken
//! answer is an error, never a panic.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, ToSocketAddrs, UdpSocket};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use super::source::Discover;
use crate::cluster::scheme::NodeSpec;
use crate::runtime::{Address, BoxFuture};
use crate::{Error, Result};

const TYPE_A: u16 = 1;
const TYPE_AAAA: u16 = 28;
const TYPE_SRV: u16 = 33;
const CLASS_IN: u16 = 1;

/// The targets of an SRV record, resolved to addresses, as nodes: those of
/// the lowest priority, weighted by the record's weight (which only
/// [ketama](crate::Hashing::ketama) uses). Target addresses come from the
/// answer's additional records, else from the system resolver.
///
/// The name server is the first `nameserver` of `/etc/resolv.conf` unless
/// [`server`](Self::server) names one. One UDP query per ask, on a thread
/// of its own; a truncated answer (over 512 bytes without EDNS) is an error.
#[derive(Debug, Clone)]
pub struct Srv {
    name: String,
    server: Option<SocketAddr>,
    timeout: Duration,
}

/// The addresses the additional records give, by owner name.
type Extra = Vec<(String, IpAddr)>;

/// One SRV answer.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Record {
    priority: u16,
    weight: u16,
    port: u16,
    target: String,
}

impl Srv {
    /// The nodes `name`'s SRV record lists (`_memcache._tcp.example.com`).
    pub fn new(name: impl Into<String>) -> Self {
        Srv {
            name: name.into(),
            server: None,
            timeout: Duration::from_secs(2),
        }
    }

    /// Ask this name server instead of the system's.
    pub fn server(mut self, server: SocketAddr) -> Self {
        self.server = Some(server);
        self
    }

    /// How long to wait for the answer (2 seconds by default).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Queries now, on this thread.
    pub fn resolve(&self) -> Result<Vec<NodeSpec>> {
        let server = match self.server {
            Some(server) => server,
            None => system_name_server()?,
        };
        let id = (SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos())
            & 0xffff) as u16;
        let query = encode_query(id, &self.name)?;
        let bind: SocketAddr = match server {
            SocketAddr::V4(_) => (Ipv4Addr::UNSPECIFIED, 0).into(),
            SocketAddr::V6(_) => (Ipv6Addr::UNSPECIFIED, 0).into(),
        };
        let socket = UdpSocket::bind(bind)?;
        socket.set_read_timeout(Some(self.timeout))?;
        socket.connect(server)?;
        socket.send(&query)?;
        let mut answer = [0u8; 4096];
        let len = socket
            .recv(&mut answer)
            .map_err(|error| match error.kind() {
                std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut => {
                    Error::Timeout(self.timeout)
                }
                _ => error.into(),
            })?;
        let (records, extra) = parse_answer(id, &answer[..len])?;
        self.nodes(records, &extra)
    }

    fn nodes(&self, records: Vec<Record>, extra: &Extra) -> Result<Vec<NodeSpec>> {
        let best = records.iter().map(|r| r.priority).min().ok_or_else(|| {
            Error::Io(std::sync::Arc::new(std::io::Error::other(format!(
                "{} has no SRV record",
                self.name
            ))))
        })?;
        let mut nodes = Vec::new();
        for record in records.iter().filter(|r| r.priority == best) {
            let mut ips: Vec<IpAddr> = extra
                .iter()
                .filter(|(name, _)| name.eq_ignore_ascii_case(&record.target))
                .map(|(_, ip)| *ip)
                .collect();
            if ips.is_empty() {
                ips = (record.target.as_str(), record.port)
                    .to_socket_addrs()?
                    .map(|a| a.ip())
                    .collect();
            }
            ips.sort();
            ips.dedup();
            for ip in ips {
                let address = Address::Tcp {
                    host: ip.to_string(),
                    port: record.port,
                };
                nodes.push(NodeSpec::new(address).with_weight(u32::from(record.weight)));
            }
        }
        Ok(nodes)
    }
}

impl Discover for Srv {
    fn discover(&self) -> BoxFuture<'_, Result<Option<Vec<NodeSpec>>>> {
        let (sender, receiver) = futures_channel::oneshot::channel();
        let srv = self.clone();
        let spawned = std::thread::Builder::new()
            .name("memclient-srv".into())
            .spawn(move || {
                let _ = sender.send(srv.resolve());
            });
        Box::pin(async move {
            spawned?;
            match receiver.await {
                Ok(result) => result.map(Some),
                Err(_) => Err(Error::ConnectionClosed),
            }
        })
    }
}

/// The first `nameserver` of `/etc/resolv.conf`.
fn system_name_server() -> Result<SocketAddr> {
    let conf = std::fs::read_to_string("/etc/resolv.conf")?;
    conf.lines()
        .filter_map(|line| line.trim().strip_prefix("nameserver"))
        .filter_map(|rest| rest.trim().parse::<IpAddr>().ok())
        .map(|ip| SocketAddr::new(ip, 53))
        .next()
        .ok_or_else(|| Error::IllegalInput("no nameserver in /etc/resolv.conf".into()))
}

/// A recursive query for the SRV records of `name`.
fn encode_query(id: u16, name: &str) -> Result<Vec<u8>> {
    let mut out = Vec::with_capacity(32 + name.len());
    out.extend_from_slice(&id.to_be_bytes());
    // Recursion desired; one question.
    out.extend_from_slice(&[0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0]);
    for label in name.trim_end_matches('.').split('.') {
        if label.is_empty() || label.len() > 63 {
            return Err(Error::IllegalInput(format!("bad DNS name {name:?}")));
        }
        out.push(label.len() as u8);
        out.extend_from_slice(label.as_bytes());
    }
    out.push(0);
    out.extend_from_slice(&TYPE_SRV.to_be_bytes());
    out.extend_from_slice(&CLASS_IN.to_be_bytes());
    Ok(out)
}

/// The SRV answers and the additional A/AAAA records of a reply to query `id`.
fn parse_answer(id: u16, packet: &[u8]) -> Result<(Vec<Record>, Extra)> {
    let bad = |why: &str| Error::protocol(&format!("DNS answer: {why}"), packet);
    let mut reader = Reader { packet, at: 0 };
    let header_id = reader.u16().ok_or_else(|| bad("short header"))?;
    let flags = reader.u16().ok_or_else(|| bad("short header"))?;
    let counts: Vec<u16> = (0..4).filter_map(|_| reader.u16()).collect();
    if counts.len() != 4 || header_id != id || flags & 0x8000 == 0 {
        return Err(bad("not the answer to our query"));
    }
    if flags & 0x0200 != 0 {
        return Err(bad("truncated (TCP is not supported)"));
    }
    match flags & 0x000f {
        0 => {}
        3 => {
            return Err(Error::Io(std::sync::Arc::new(std::io::Error::other(
                "no such name",
            ))))
        }
        code => return Err(bad(&format!("error code {code}"))),
    }
    for _ in 0..counts[0] {
        reader.name().ok_or_else(|| bad("bad question"))?;
        reader.skip(4).ok_or_else(|| bad("bad question"))?;
    }
    let (mut records, mut extra) = (Vec::new(), Vec::new());
    let sections = u32::from(counts[1]) + u32::from(counts[2]) + u32::from(counts[3]);
    for index in 0..sections {
        let owner = reader.name().ok_or_else(|| bad("bad record name"))?;
        let kind = reader.u16().ok_or_else(|| bad("short record"))?;
        let class = reader.u16().ok_or_else(|| bad("short record"))?;
        reader.skip(4).ok_or_else(|| bad("short record"))?;
        let length = usize::from(reader.u16().ok_or_else(|| bad("short record"))?);
        let start = reader.at;
        let end = start
            .checked_add(length)
            .filter(|&end| end <= packet.len())
            .ok_or_else(|| bad("record data past the end"))?;
        let answer = index < u32::from(counts[1]);
        match (kind, class) {
            (TYPE_SRV, CLASS_IN) if answer => {
                let mut data = Reader { packet, at: start };
                let (priority, weight, port) = (data.u16(), data.u16(), data.u16());
                let target = data.name();
                match (priority, weight, port, target) {
                    (Some(priority), Some(weight), Some(port), Some(target)) if data.at <= end => {
                        records.push(Record {
                            priority,
                            weight,
                            port,
                            target,
                        })
                    }
                    _ => return Err(bad("bad SRV record")),
                }
            }
            (TYPE_A, CLASS_IN) if length == 4 => {
                let octets: [u8; 4] = packet[start..end].try_into().map_err(|_| bad("bad A"))?;
                extra.push((owner, IpAddr::from(octets)));
            }
            (TYPE_AAAA, CLASS_IN) if length == 16 => {
                let octets: [u8; 16] =
                    packet[start..end].try_into().map_err(|_| bad("bad AAAA"))?;
                extra.push((owner, IpAddr::from(octets)));
            }
            _ => {}
        }
        reader.at = end;
    }
    Ok((records, extra))
}

/// A cursor over a DNS packet; every read is bounds-checked.
struct Reader<'a> {
    packet: &'a [u8],
    at: usize,
}

impl Reader<'_> {
    fn u16(&mut self) -> Option<u16> {
        let bytes = self.packet.get(self.at..self.at + 2)?;
        self.at += 2;
        Some(u16::from_be_bytes([bytes[0], bytes[1]]))
    }

    fn skip(&mut self, n: usize) -> Option<()> {
        (self.at + n <= self.packet.len()).then(|| self.at += n)
    }

    /// A name, following compression pointers (at most 32 of them: a loop
    /// of pointers is an error, not a hang).
    fn name(&mut self) -> Option<String> {
        let mut labels: Vec<String> = Vec::new();
        let mut at = self.at;
        let mut jumped = false;
        for _ in 0..32 {
            let len = *self.packet.get(at)?;
            match len {
                0 => {
                    if !jumped {
                        self.at = at + 1;
                    }
                    return Some(labels.join("."));
                }
                0xc0..=0xff => {
                    let low = *self.packet.get(at + 1)?;
                    if !jumped {
                        self.at = at + 2;
                    }
                    jumped = true;
                    at = (usize::from(len & 0x3f) << 8) | usize::from(low);
                }
                1..=63 => {
                    let label = self.packet.get(at + 1..at + 1 + usize::from(len))?;
                    labels.push(String::from_utf8_lossy(label).into_owned());
                    at += 1 + usize::from(len);
                    if labels.len() > 127 {
                        return None;
                    }
                }
                _ => return None,
            }
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queries_are_well_formed_and_bad_names_refused() {
        let query = encode_query(0x1234, "_memcache._tcp.example.com").unwrap();
        assert_eq!(&query[..4], &[0x12, 0x34, 0x01, 0x00]);
        assert_eq!(&query[12..22], b"\x09_memcache");
        assert_eq!(&query[query.len() - 4..], &[0, 33, 0, 1]);
        assert!(encode_query(1, "a..b").is_err());
        assert!(encode_query(1, &"x".repeat(64)).is_err());
    }

    #[test]
    fn hostile_answers_are_errors_not_panics() {
        let query = encode_query(7, "s.test").unwrap();
        let mut reply = query.clone();
        reply[2] = 0x81;
        reply[3] = 0x80;
        reply[7] = 1; // one answer, missing
        assert!(parse_answer(7, &reply).is_err());
        // A pointer to itself.
        let mut looped = query.clone();
        looped[2] = 0x81;
        looped[3] = 0x80;
        looped[7] = 1;
        let own = looped.len() as u8;
        looped.extend_from_slice(&[0xc0, own]);
        assert!(parse_answer(7, &looped).is_err());
        // Every truncation of a valid header-only reply.
        for cut in 0..reply.len() {
            let _ = parse_answer(7, &reply[..cut]);
        }
        assert!(parse_answer(8, &reply).is_err(), "another query's id");
    }
}
