//! Who is measured: the raw loop, memclient on each runtime, and each peer.

use std::sync::Arc;

use crate::exec::{AsyncStdExec, SmolExec, TokioExec};
use crate::measure::Plan;
use crate::peers::{async_memcached, memcache_async, memcache_sync};
use crate::workload::{Data, Workload};
use crate::{blocking_runs, layered_runs, memclient_runs, raw};

/// The runtimes memclient is measured on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Runtime {
    /// `memclient::smol::Smol`.
    Smol,
    /// `memclient::async_std::AsyncStd`.
    AsyncStd,
    /// `memclient::tokio::Tokio`.
    Tokio,
}

/// What a row is, for the ratios.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// The raw socket loop: the limit.
    Raw,
    /// memclient.
    Memclient,
    /// A client a user would pick instead.
    Peer,
    /// memclient another way (with the observability layers, or blocking):
    /// compared with its own reference in the variants table, left out of
    /// the summary.
    Variant,
}

/// One client of the comparison.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Contestant {
    /// The raw loop over `std::net::TcpStream`.
    Raw,
    /// memclient on a runtime.
    Memclient(Runtime),
    /// async-memcached (tokio).
    AsyncMemcached,
    /// memcache-async (futures-io, on smol).
    MemcacheAsync,
    /// memcache (synchronous).
    Memcache,
    /// memclient/smol with `Traced` over `Metered` around the connection,
    /// the collectors on (`recording`) or off.
    Layered {
        /// A subscriber and a recorder are collecting.
        recording: bool,
    },
    /// `memclient::blocking::Client`, from OS threads.
    Blocking,
}

impl Contestant {
    /// Every contestant, in table order.
    pub const ALL: [Contestant; 10] = [
        Contestant::Raw,
        Contestant::Memclient(Runtime::Smol),
        Contestant::Memclient(Runtime::AsyncStd),
        Contestant::Memclient(Runtime::Tokio),
        Contestant::AsyncMemcached,
        Contestant::MemcacheAsync,
        Contestant::Memcache,
        Contestant::Layered { recording: false },
        Contestant::Layered { recording: true },
        Contestant::Blocking,
    ];

    /// What the row is.
    pub fn kind(self) -> Kind {
        match self {
            Contestant::Raw => Kind::Raw,
            Contestant::Memclient(_) => Kind::Memclient,
            Contestant::Layered { .. } | Contestant::Blocking => Kind::Variant,
            _ => Kind::Peer,
        }
    }

    /// The row's name for `workload`, saying how concurrency is shared.
    pub fn label(self, workload: Workload) -> String {
        let one_conn = matches!(workload, Workload::Tasks64 | Workload::Joined64);
        let pool = workload == Workload::Pool8;
        let how = |one: &str, many: &str| match () {
            _ if one_conn => format!(" ({one})"),
            _ if pool => format!(" ({many})"),
            _ => String::new(),
        };
        match self {
            Contestant::Raw if workload == Workload::GetManyMeta => "raw loop (classic get)".into(),
            Contestant::Raw => format!("raw loop{}", how("64 per write", "8 conns × 8 per write")),
            Contestant::Memclient(runtime) => {
                let name = match runtime {
                    Runtime::Smol => "smol",
                    Runtime::AsyncStd => "async-std",
                    Runtime::Tokio => "tokio",
                };
                format!("memclient/{name}{}", how("1 Connection", "Pool of 8"))
            }
            Contestant::AsyncMemcached => format!("async-memcached{}", how("mutex", "8 × mutex")),
            Contestant::MemcacheAsync => {
                let noreply = if memcache_async::skips_replies(workload) {
                    " (noreply)"
                } else {
                    ""
                };
                format!("memcache-async{}{noreply}", how("mutex", "8 × mutex"))
            }
            Contestant::Memcache => format!(
                "memcache{}",
                how("1 conn, 64 threads", "r2d2 pool 8, 64 threads")
            ),
            Contestant::Layered { recording } => format!(
                "memclient/smol + layers, {}{}",
                if recording { "recording" } else { "idle" },
                how("1 Connection", "Pool of 8")
            ),
            Contestant::Blocking => format!(
                "memclient/blocking{}",
                how("1 Connection, 64 threads", "Pool of 8, 64 threads")
            ),
        }
    }

    /// False for the rows a workload leaves out: only memclient (and the raw
    /// loop, for reference) has a meta multi-get, batched `noreply` sets
    /// with a round trip to close each batch, and calls that one task can
    /// have in flight together on one connection (the peers' take `&mut
    /// self`); the layered rows run the workloads where a per-call cost shows.
    pub fn runs(self, workload: Workload) -> bool {
        match (self, workload) {
            (Contestant::Layered { .. }, _) => layered_runs::runs(workload),
            (Contestant::Blocking, Workload::SetNoreply64 | Workload::Joined64) => false,
            (_, Workload::GetManyMeta | Workload::SetNoreply64 | Workload::Joined64) => {
                self.kind() != Kind::Peer
            }
            _ => true,
        }
    }

    /// False for a row that does less than the workload asks (a write that
    /// skips its reply): shown, but left out of the best-peer ratio.
    pub fn comparable(self, workload: Workload) -> bool {
        !(self == Contestant::MemcacheAsync && memcache_async::skips_replies(workload))
    }
}

/// The executors, the data and the server of the run.
pub struct Bench {
    /// smol's executor.
    pub smol: SmolExec,
    /// async-std's executor.
    pub async_std: AsyncStdExec,
    /// A multi-threaded tokio runtime.
    pub tokio: TokioExec,
    /// The keys and values.
    pub data: Arc<Data>,
    /// The server's address.
    pub address: String,
    /// How long each cell runs.
    pub plan: Plan,
}

impl Bench {
    /// Measures `contestant` on `workload`: units per second.
    pub fn run(&self, contestant: Contestant, workload: Workload) -> Result<f64, String> {
        let (plan, data, address) = (&self.plan, &self.data, self.address.as_str());
        match contestant {
            Contestant::Raw => raw::run(workload, plan, data, address),
            Contestant::Memclient(Runtime::Smol) => memclient_runs::run(
                &self.smol,
                || memclient::smol::Smol,
                workload,
                plan,
                data,
                address,
            ),
            Contestant::Memclient(Runtime::AsyncStd) => memclient_runs::run(
                &self.async_std,
                || memclient::async_std::AsyncStd,
                workload,
                plan,
                data,
                address,
            ),
            Contestant::Memclient(Runtime::Tokio) => memclient_runs::run(
                &self.tokio,
                memclient::tokio::Tokio::current,
                workload,
                plan,
                data,
                address,
            ),
            Contestant::AsyncMemcached => {
                async_memcached::run(&self.tokio, workload, plan, data, address)
            }
            Contestant::MemcacheAsync => {
                memcache_async::run(&self.smol, workload, plan, data, address)
            }
            Contestant::Memcache => memcache_sync::run(workload, plan, data, address),
            Contestant::Layered { recording } => {
                layered_runs::run(&self.smol, recording, workload, plan, data, address)
            }
            Contestant::Blocking => blocking_runs::run(workload, plan, data, address),
        }
    }
}
