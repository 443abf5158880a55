//! The three backends under test, behind one small set of calls, and the
//! check that an answer is the right one.
//!
//! Every value names its key (`get k` must answer `k`), and the two counters
//! live in ranges of their own (`b` from 2000, `c` from 3000), so an answer
//! handed to the wrong caller is always detectable.

use std::time::Duration;

use bytes::Bytes;
use memclient::serde::PyFlags;
use memclient::smol::Smol;
use memclient::{
    Client, ClientOptions, Cluster, ClusterOptions, Config, Connection, ConnectionOptions, Error,
    MultiGet, Pool, PoolOptions, Request,
};

/// Which backend a cell drives.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Backend {
    /// One `Connection` through the proxy.
    Connection,
    /// A `Pool` (up to 2 connections) through the proxy.
    Pool,
    /// A 3-node `Cluster`: node 0 through the proxy, two healthy nodes.
    Cluster,
}

/// The options a cell runs with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Settings {
    /// Connect timeout and call timeout 200 ms; a cluster probes a failing
    /// node after 100 ms and a dead one after 300 ms.
    Tight,
    /// What `Config::new(address)` and the options' `default()` give.
    Defaults,
}

pub const TIGHT: Duration = Duration::from_millis(200);

impl Settings {
    pub fn connection(self) -> ConnectionOptions {
        let mut options = ConnectionOptions::default();
        if self == Settings::Tight {
            options.connect_timeout = Some(TIGHT);
            options.timeout = Some(TIGHT);
        }
        options
    }

    fn config(self, address: &str) -> Config {
        let config = Config::new(address).multi_get(MultiGet::Meta);
        match self {
            Settings::Tight => config.connect_timeout(TIGHT).timeout(TIGHT),
            Settings::Defaults => config,
        }
    }

    fn pool(self) -> PoolOptions {
        match self {
            Settings::Tight => PoolOptions::default().max_size(2),
            Settings::Defaults => PoolOptions::default(),
        }
    }

    pub fn cluster(self) -> ClusterOptions {
        match self {
            Settings::Tight => ClusterOptions::default()
                .probes_before_dead(1)
                .probe_interval(Duration::from_millis(100))
                .dead_timeout(Duration::from_millis(300)),
            Settings::Defaults => ClusterOptions::default(),
        }
    }

    /// The longest one call may take: a reconnect (connect timeout) and the
    /// call itself (call timeout). `None` when either has no limit.
    pub fn call_limit(self) -> Option<Duration> {
        let options = self.connection();
        Some(options.connect_timeout? + options.timeout?)
    }

    /// How long after the fault is lifted a call must succeed: at once for
    /// one server; for a cluster, after the failing node's probe delay.
    pub fn recovery_limit(self, backend: Backend) -> Option<Duration> {
        let timeout = self.connection().timeout?;
        Some(match backend {
            Backend::Cluster => {
                let cluster = self.cluster();
                cluster.dead_timeout + cluster.probe_interval + timeout
            }
            _ => timeout,
        })
    }
}

/// A client of one of the backends.
pub enum Target {
    Connection(Client<Connection>),
    Pool(Client<Pool>),
    /// The cluster's client, and the name of the node behind the proxy.
    Cluster(Client<Cluster>, String),
}

macro_rules! each {
    ($target:expr, $client:ident => $body:expr) => {
        match $target {
            Target::Connection($client) => $body,
            Target::Pool($client) => $body,
            Target::Cluster($client, _) => $body,
        }
    };
}

/// One call of a workload.
#[derive(Debug, Clone)]
pub enum Call {
    /// `get` of a key whose value is its own name.
    Get(String),
    /// `incr` by 1 of a counter, with the range its answers must lie in.
    Incr(String, std::ops::Range<u64>),
    /// `stats`.
    Stats,
    /// `get_many` sent as a quiet meta batch, of keys whose values are their names.
    GetMany(Vec<String>),
    /// `set` of a large value (shared, so that who keeps it can be seen).
    BigSet(String, Bytes),
}

impl Target {
    /// Connects `backend` through `proxy`; `healthy` are the addresses of
    /// the cluster's other nodes.
    pub async fn open(
        backend: Backend,
        settings: Settings,
        proxy: &str,
        healthy: &[String],
    ) -> Target {
        match backend {
            Backend::Connection => Target::Connection(
                settings
                    .config(proxy)
                    .connect(Smol)
                    .await
                    .expect("connect through the proxy"),
            ),
            Backend::Pool => Target::Pool(
                settings
                    .config(proxy)
                    .pool(settings.pool())
                    .connect(Smol)
                    .await
                    .expect("pool"),
            ),
            Backend::Cluster => {
                let addresses = std::iter::once(proxy.to_string()).chain(healthy.iter().cloned());
                let cluster =
                    Cluster::open(addresses, Smol, settings.connection(), settings.cluster())
                        .expect("cluster addresses");
                let options = ClientOptions::new().multi_get(MultiGet::Meta);
                let client = Client::with_options(cluster, PyFlags, options)
                    .expect("client options")
                    .with_runtime(Smol);
                Target::Cluster(client, proxy.to_string())
            }
        }
    }

    /// For a cluster, whether `key` lives on the node behind the proxy; for
    /// one server, always.
    pub fn on_proxy(&self, key: &str, proxy: &str) -> bool {
        match self {
            Target::Cluster(client, _) => {
                client.backend().locate(key.as_bytes()).as_deref() == Some(proxy)
            }
            _ => true,
        }
    }

    pub async fn set(&self, key: &str, value: &str) -> memclient::Result<bool> {
        each!(self, client => client.set(key, value).await)
    }

    /// Runs `call`; `Ok(None)` for a right answer, `Ok(Some(why))` for a
    /// wrong one.
    pub async fn run(&self, call: &Call) -> Result<Option<String>, Error> {
        Ok(match call {
            Call::Get(key) => {
                let value = each!(self, client => client.get(key).await)?;
                let text = value.as_ref().and_then(|v| v.as_str().map(str::to_string));
                (text.as_deref() != Some(key.as_str()))
                    .then(|| format!("get {key} answered {:.80}", format!("{value:?}")))
            }
            Call::Incr(key, range) => {
                let count = each!(self, client => client.incr(key, 1).await)?;
                (!count.is_some_and(|n| range.contains(&n)))
                    .then(|| format!("incr {key} answered {count:?}, outside {range:?}"))
            }
            // A cluster has no node for `stats`: ask every node, and
            // report the one behind the proxy.
            Call::Stats => match self {
                Target::Cluster(client, proxy) => {
                    let replies = client
                        .backend()
                        .call_all(Request::Stats { args: Vec::new() })
                        .await;
                    let (_, reply) = replies
                        .into_iter()
                        .find(|(node, _)| node == proxy)
                        .expect("the proxied node answers call_all");
                    reply?;
                    None
                }
                _ => {
                    each!(self, client => client.stats::<&str>([]).await)?;
                    None
                }
            },
            Call::GetMany(keys) => {
                let found = each!(self, client => client.get_many(keys).await)?;
                let wrong = keys.iter().find(|key| {
                    found.get(key.as_bytes()).and_then(|v| v.as_str()) != Some(key.as_str())
                });
                wrong.map(|key| {
                    let got = found.get(key.as_bytes());
                    format!("get_many answered {:.80} for {key}", format!("{got:?}"))
                })
            }
            Call::BigSet(key, value) => {
                let stored = each!(self, client => client.set(key, value.clone()).await)?;
                (!stored).then(|| format!("set {key} answered not stored"))
            }
        })
    }
}
