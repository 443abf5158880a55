//! Ketama consistent hashing as libmemcached and twemproxy build their continuums.

use md5::{Digest, Md5};

use super::fnv::fnv1a_64;
use super::jenkins::one_at_a_time;
use super::scheme::{Locator, NodeSpec};
use crate::runtime::{Address, DEFAULT_PORT};

/// libmemcached's points per server on the plain continuum.
const POINTS_PER_SERVER: u32 = 100;
/// libmemcached's (and libketama's) points per server on the weighted continuum.
const POINTS_PER_SERVER_WEIGHTED: u32 = 160;

/// The hash libmemcached or twemproxy applies to keys (and, on libmemcached's
/// plain continuum, to the point names).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum KetamaHash {
    /// Bob Jenkins' one-at-a-time: libmemcached's default hash, in force
    /// unless the application sets another.
    #[default]
    OneAtATime,
    /// The first four bytes of MD5, little-endian (`MEMCACHED_HASH_MD5`,
    /// twemproxy's `hash: md5`).
    Md5,
    /// 64-bit FNV-1a cut to 32 bits ([`fnv1a_64`](super::fnv1a_64)):
    /// twemproxy's `hash: fnv1a_64`, the hash of its example configurations.
    Fnv1a64,
}

/// Which ketama continuum to build: libmemcached's plain or weighted one, or
/// twemproxy's.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct KetamaOptions {
    /// The key hash.
    pub hash: KetamaHash,
    /// The weighted continuum: 160 points per server scaled by its share of
    /// the total weight, four per MD5 digest of the point name. libmemcached
    /// also switches to it by itself when any server has a weight above 1.
    /// twemproxy always builds this one.
    pub weighted: bool,
    /// Name each node's points after its
    /// [`server_name`](super::NodeSpec::server_name) when it has one, as
    /// twemproxy does for servers listed as `host:port:weight name`. Without
    /// a server name (or with this off) points are named `host:port`, or
    /// `host` alone on port 11211, as both libmemcached and twemproxy do.
    pub server_names: bool,
}

impl KetamaOptions {
    /// `MEMCACHED_BEHAVIOR_KETAMA` alone (pylibmc's `{"ketama": True}`): the
    /// plain continuum, one-at-a-time for keys and points. The reference
    /// vectors of this crate were placed this way.
    pub fn libmemcached() -> Self {
        KetamaOptions {
            hash: KetamaHash::OneAtATime,
            weighted: false,
            server_names: false,
        }
    }

    /// `MEMCACHED_BEHAVIOR_KETAMA` with `MEMCACHED_HASH_MD5` as key hash: the
    /// plain continuum with MD5 for keys and points.
    pub fn libmemcached_md5() -> Self {
        KetamaOptions {
            hash: KetamaHash::Md5,
            weighted: false,
            server_names: false,
        }
    }

    /// `MEMCACHED_BEHAVIOR_KETAMA_WEIGHTED`: MD5 keys on the weighted
    /// continuum, the layout of the original libketama.
    pub fn libmemcached_weighted() -> Self {
        KetamaOptions {
            hash: KetamaHash::Md5,
            weighted: true,
            server_names: false,
        }
    }

    /// twemproxy (nutcracker 0.5) with `distribution: ketama` and `hash`:
    /// the weighted continuum of MD5 points named after each server's name
    /// (or `host:port`), keys hashed with `hash`. Build the nodes with
    /// [`NodeSpec::from_twemproxy`](super::NodeSpec::from_twemproxy) from
    /// the lines of twemproxy's `servers:` list, in the same order, and
    /// keep `auto_eject_hosts: false` on the proxy (it removes failing servers
    /// from its own continuum by itself).
    ///
    /// ```
    /// use memclient::cluster::{Hashing, KetamaHash, KetamaOptions, NodeSpec};
    ///
    /// let nodes: Vec<NodeSpec> = ["127.0.0.1:11211:1 cache1", "127.0.0.1:11212:1 cache2"]
    ///     .iter()
    ///     .map(|line| NodeSpec::from_twemproxy(line).unwrap())
    ///     .collect();
    /// let hashing = Hashing::Ketama(KetamaOptions::twemproxy(KetamaHash::Fnv1a64));
    /// let node = hashing.locator(&nodes).locate(b"user:42").unwrap();
    /// assert!(node < 2);
    /// ```
    pub fn twemproxy(hash: KetamaHash) -> Self {
        KetamaOptions {
            hash,
            weighted: true,
            server_names: true,
        }
    }
}

/// A ketama continuum: each node owns many points on a 32-bit circle; a key
/// belongs to the first point at or after its hash, wrapping to the start.
///
/// Point names are `host:port-N`, or `host-N` when the port is memcached's
/// default 11211, as libmemcached and twemproxy write them (a UNIX socket is
/// its path with port 0), or `name-N` for twemproxy's named servers. Adding or removing a node moves only the keys of its points.
#[derive(Debug, Clone)]
pub struct Ketama {
    /// `(point, node index)`, sorted; ties by node index, as libmemcached's sort.
    points: Vec<(u32, usize)>,
    hash: KetamaHash,
}

impl Ketama {
    /// The continuum of `nodes`.
    pub fn new(nodes: &[NodeSpec], options: KetamaOptions) -> Self {
        let weighted = options.weighted || nodes.iter().any(|node| node.weight() > 1);
        let total_weight: u64 = nodes.iter().map(|node| u64::from(node.weight())).sum();
        let mut points = Vec::new();
        for (index, node) in nodes.iter().enumerate() {
            let (host, port) = match node.server_name() {
                Some(name) if options.server_names => (name.to_string(), DEFAULT_PORT),
                _ => host_and_port(node.address()),
            };
            let point_name = |n: u32| point_name(&host, port, n);
            if weighted {
                let count = weighted_points(node.weight(), total_weight, nodes.len());
                for n in 0..count / 4 {
                    let digest = md5(point_name(n).as_bytes());
                    for chunk in digest.chunks_exact(4) {
                        points.push((le32(chunk), index));
                    }
                }
            } else {
                for n in 0..POINTS_PER_SERVER {
                    points.push((hash(options.hash, point_name(n).as_bytes()), index));
                }
            }
        }
        points.sort_unstable();
        Ketama {
            points,
            hash: options.hash,
        }
    }
}

impl Locator for Ketama {
    fn locate(&self, key: &[u8]) -> Option<usize> {
        let first = self.points.first()?;
        let key_hash = hash(self.hash, key);
        let at = self.points.partition_point(|&(point, _)| point < key_hash);
        Some(self.points.get(at).unwrap_or(first).1)
    }
}

/// The host and port libmemcached names points after.
fn host_and_port(address: &Address) -> (String, u16) {
    match address {
        Address::Tcp { host, port } => (host.clone(), *port),
        Address::Unix(path) => (path.display().to_string(), 0),
    }
}

/// The name of a node's point `n`: libmemcached leaves the port out when it
/// is the default one.
fn point_name(host: &str, port: u16, n: u32) -> String {
    if port == DEFAULT_PORT {
        format!("{host}-{n}")
    } else {
        format!("{host}:{port}-{n}")
    }
}

/// The weighted point count of one node, computed in `f32` as libmemcached
/// and twemproxy do, so rounding lands on the same side.
fn weighted_points(weight: u32, total_weight: u64, live_servers: usize) -> u32 {
    let share = weight as f32 / total_weight.max(1) as f32;
    let quarter = share * POINTS_PER_SERVER_WEIGHTED as f32 / 4.0 * live_servers as f32;
    // Saturating float-to-int conversion: no panic on any weight.
    ((quarter + 0.000_000_000_1_f32).floor() as u32).saturating_mul(4)
}

fn hash(kind: KetamaHash, data: &[u8]) -> u32 {
    match kind {
        KetamaHash::OneAtATime => one_at_a_time(data),
        KetamaHash::Md5 => le32(&md5(data)[..4]),
        KetamaHash::Fnv1a64 => fnv1a_64(data),
    }
}

fn md5(data: &[u8]) -> [u8; 16] {
    Md5::digest(data).into()
}

fn le32(bytes: &[u8]) -> u32 {
    bytes
        .iter()
        .rev()
        .fold(0u32, |value, &byte| (value << 8) | u32::from(byte))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn point_names_as_libmemcached_writes_them() {
        assert_eq!(point_name("127.0.0.1", 11211, 0), "127.0.0.1-0");
        assert_eq!(point_name("127.0.0.1", 11212, 99), "127.0.0.1:11212-99");
        let unix = host_and_port(&Address::Unix("/run/mc.sock".into()));
        assert_eq!(point_name(&unix.0, unix.1, 3), "/run/mc.sock:0-3");
        let v6 = host_and_port(&"[::1]:5000".parse().unwrap());
        assert_eq!(point_name(&v6.0, v6.1, 3), "::1:5000-3");
    }

    #[test]
    fn weighted_point_counts() {
        // Equal weights: 160 points each, whatever the count of servers.
        assert_eq!(weighted_points(1, 4, 4), 160);
        assert_eq!(weighted_points(1, 3, 3), 160);
        // Weight 3 of 6 over 4 servers: half of 640.
        assert_eq!(weighted_points(3, 6, 4), 320);
        assert_eq!(weighted_points(1, 6, 4), 104);
        assert!(weighted_points(u32::MAX, u64::from(u32::MAX) + 1, 2) <= 320);
    }
}
