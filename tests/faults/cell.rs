//! One cell of the matrix: a fault on a backend with a set of options.
//!
//! The cell writes its keys while the proxy passes traffic, injects the
//! fault, runs a workload through it (and, for a cluster, calls to the
//! healthy nodes at the same time), lifts the fault and calls again. It
//! records what a user would see: errors, how long each call took, wrong
//! answers, memory, and how soon a call succeeds once the fault is gone.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, Once, OnceLock};
use std::time::{Duration, Instant};

use bytes::Bytes;
use futures_util::future::{join, join_all, select, Either};

use crate::memory::PeakRss;
use crate::proxy::{Fault, Proxy};
use crate::support::{unique_prefix, Memcached};
use crate::target::{Backend, Call, Settings, Target};

/// What a call may take beyond its limit on a busy machine.
pub const MARGIN: Duration = Duration::from_millis(300);
/// How long a call may run when no timeout bounds it, before it counts as hung.
const UNBOUNDED_WATCHDOG: Duration = Duration::from_secs(5);
/// The most the process may grow while a flood runs: a reply just under
/// the default reply limit (64 MiB), with headroom, and far below what an
/// unbounded client buffers (the proxy floods up to 256 MiB a connection).
pub const MEMORY_BOUND: u64 = 128 << 20;
/// The size of each value of the stop-reading workload.
const BIG_VALUE: usize = 100 * 1024;

/// A fault on a backend with a set of options.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Cell {
    pub fault: Fault,
    pub backend: Backend,
    pub settings: Settings,
}

impl fmt::Display for Cell {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}/{:?}/{:?}", self.fault, self.backend, self.settings)
    }
}

/// Faults whose server sends (or whose client queues) far more than any reply.
pub fn floods(fault: Fault) -> bool {
    matches!(
        fault,
        Fault::HugeLength | Fault::EndlessLine | Fault::ManyLines | Fault::StopReading
    )
}

/// What a cell saw.
#[derive(Debug)]
pub struct Report {
    pub cell: Cell,
    pub calls: usize,
    /// Error kinds and how many calls ended with each.
    pub errors: BTreeMap<String, usize>,
    /// The first error and how long its call took.
    pub first_error: Option<(String, Duration)>,
    pub slowest: Duration,
    /// Calls still running when the watchdog gave up on them.
    pub hung: usize,
    pub wrong: Vec<String>,
    /// From lifting the fault to the first right answer, or what went wrong.
    pub recovery: Result<Duration, String>,
    /// Process growth while the fault lasted (flood faults only).
    pub memory: Option<u64>,
    pub flooded: u64,
    /// A request of a call that has ended is still held somewhere.
    pub retained: bool,
    /// Calls to the healthy nodes of a cluster: count, slowest, failures.
    pub healthy: (usize, Duration, Vec<String>),
}

impl Report {
    /// Every way the cell broke the rules; empty when it passed.
    pub fn failures(&self) -> Vec<String> {
        let mut failures = Vec::new();
        let cell = self.cell;
        let call_limit = cell.settings.call_limit();
        if self.hung > 0 {
            failures.push(format!(
                "{cell}: {} calls still waiting after {:?}",
                self.hung,
                watchdog(call_limit)
            ));
        }
        match call_limit {
            Some(limit) if self.slowest > limit + MARGIN => failures.push(format!(
                "{cell}: a call took {:?}, over its limit {limit:?} + {MARGIN:?}",
                self.slowest
            )),
            _ => {}
        }
        for wrong in &self.wrong {
            failures.push(format!("{cell}: wrong answer: {wrong}"));
        }
        if let Err(why) = &self.recovery {
            failures.push(format!("{cell}: no recovery: {why}"));
        }
        if let Some(growth) = self.memory.filter(|&growth| growth > MEMORY_BOUND) {
            failures.push(format!(
                "{cell}: memory grew by {} MiB (bound {} MiB; {} MiB flooded)",
                growth >> 20,
                MEMORY_BOUND >> 20,
                self.flooded >> 20
            ));
        }
        if let Some(count) = self.errors.get("IllegalInput") {
            failures.push(format!(
                "{cell}: {count} calls of the workload were rejected as illegal input: the cell tests nothing"
            ));
        }
        if self.retained {
            failures.push(format!(
                "{cell}: requests of calls that ended are still held"
            ));
        }
        for failure in &self.healthy.2 {
            failures.push(format!("{cell}: healthy node: {failure}"));
        }
        failures
    }
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "cell {}: {} calls, errors {:?}, first error {:?}, slowest {:?}, hung {}, wrong {}, recovery {:?}",
            self.cell,
            self.calls,
            self.errors,
            self.first_error,
            self.slowest,
            self.hung,
            self.wrong.len(),
            self.recovery
        )?;
        if let Some(memory) = self.memory {
            write!(
                f,
                ", memory +{} MiB, flooded {} MiB, retained {}",
                memory >> 20,
                self.flooded >> 20,
                self.retained
            )?;
        }
        if self.cell.backend == Backend::Cluster {
            write!(
                f,
                ", healthy calls {} (slowest {:?}, failed {})",
                self.healthy.0,
                self.healthy.1,
                self.healthy.2.len()
            )?;
        }
        Ok(())
    }
}

fn watchdog(limit: Option<Duration>) -> Duration {
    limit.map_or(UNBOUNDED_WATCHDOG, |limit| {
        limit + MARGIN + Duration::from_secs(2)
    })
}

/// The cluster's two healthy servers, shared by every cell of the process.
fn healthy_servers() -> &'static [String] {
    static SERVERS: OnceLock<(Vec<Memcached>, Vec<String>)> = OnceLock::new();
    &SERVERS
        .get_or_init(|| {
            let servers: Vec<Memcached> = (0..2).map(|_| Memcached::start()).collect();
            let addresses = servers.iter().map(|s| s.address.clone()).collect();
            (servers, addresses)
        })
        .1
}

/// Runs one cell on its own thread's executor. Flood cells run one at a
/// time, so that the memory each measures is its own.
pub fn run(cell: Cell) -> Report {
    static FLOODS: Mutex<()> = Mutex::new(());
    static EXECUTOR: Once = Once::new();
    // The cells of a process share smol's global executor, one thread by
    // default: a driver busy with a flood would then delay every other
    // cell's timers and drivers, and their timeouts would measure the test,
    // not the client. Several threads let the OS share the CPU between them.
    EXECUTOR.call_once(|| {
        if std::env::var_os("SMOL_THREADS").is_none() {
            std::env::set_var("SMOL_THREADS", "4");
        }
    });
    let _alone = floods(cell.fault).then(|| FLOODS.lock().unwrap_or_else(|p| p.into_inner()));
    let report = smol::block_on(scenario(cell));
    if floods(cell.fault) {
        // The cell's sockets are closed; give its drivers the time to see
        // it before the next flood cell measures memory.
        std::thread::sleep(std::time::Duration::from_millis(300));
    }
    report
}

/// The outcome of one timed call: `None` when the watchdog cut it.
type Timed = (Option<Result<Option<String>, memclient::Error>>, Duration);

async fn timed(target: &Target, call: &Call, limit: Option<Duration>) -> Timed {
    let started = Instant::now();
    let call = std::pin::pin!(target.run(call));
    let timer = std::pin::pin!(smol::Timer::after(watchdog(limit)));
    let outcome = match select(call, timer).await {
        Either::Left((outcome, _)) => Some(outcome),
        Either::Right(_) => None,
    };
    (outcome, started.elapsed())
}

/// Keys of the prefix that live on the proxied node (`on_proxy`) or not.
fn keys(target: &Target, proxy: &str, prefix: &str, on_proxy: bool, count: usize) -> Vec<String> {
    (0..)
        .map(|i| format!("{prefix}{i}"))
        .filter(|key| target.on_proxy(key, proxy) == on_proxy)
        .take(count)
        .collect()
}

/// The calls of each task while the fault lasts.
fn workload(
    cell: Cell,
    keys: &[String],
    counters: [&str; 2],
    big: (&[String], &Bytes),
) -> Vec<Vec<Call>> {
    let [b, c] = counters;
    let rounds = match cell.settings {
        Settings::Tight => 3,
        Settings::Defaults => 2,
    };
    let get = |task: usize, round: usize| Call::Get(keys[task * rounds + round].clone());
    let incr_b = || Call::Incr(b.to_string(), 2000..3000);
    let incr_c = || Call::Incr(c.to_string(), 3000..4000);
    let tasks = |call: &dyn Fn(usize, usize) -> Call| -> Vec<Vec<Call>> {
        (0..4)
            .map(|task| (0..rounds).map(|round| call(task, round)).collect())
            .collect()
    };
    match cell.fault {
        // One caller at a time: with several replies in flight, a lost
        // reply shifts the next one onto the wrong caller before any
        // client could know (the protocol carries no request id).
        Fault::DropOne => vec![(0..8)
            .map(|i| if i % 2 == 0 { incr_b() } else { incr_c() })
            .collect()],
        // Keyed replies only: a reordered or repeated reply names its key.
        Fault::HugeLength | Fault::Reorder | Fault::Duplicate => tasks(&get),
        Fault::ManyLines => tasks(&|task, round| match task % 2 {
            0 => Call::Stats,
            _ => Call::GetMany(keys[round * 3..round * 3 + 3].to_vec()),
        }),
        Fault::EndlessLine => tasks(&|task, round| {
            if task % 2 == 0 {
                get(task, round)
            } else {
                Call::Stats
            }
        }),
        // 64 callers find the connection broken at once: they must share
        // one reconnect, each ending within connect timeout + call timeout.
        Fault::ConnectHang => (0..64)
            .map(|task| {
                (0..rounds)
                    .map(|round| Call::Get(keys[(task + round) % keys.len()].clone()))
                    .collect()
            })
            .collect(),
        Fault::StopReading => (0..64)
            .map(|task| {
                (0..rounds)
                    .map(|round| Call::BigSet(big.0[task * rounds + round].clone(), big.1.clone()))
                    .collect()
            })
            .collect(),
        _ => tasks(&|task, round| match (task + round) % 3 {
            0 => get(task, round),
            1 => incr_b(),
            _ => incr_c(),
        }),
    }
}

async fn scenario(cell: Cell) -> Report {
    let proxy = Proxy::start(&Memcached::shared().address);
    let target = Target::open(
        cell.backend,
        cell.settings,
        proxy.address(),
        healthy_servers(),
    )
    .await;
    let prefix = unique_prefix(&format!("{:?}-{:?}", cell.fault, cell.backend));
    let keys = keys(&target, proxy.address(), &format!("{prefix}k"), true, 12);
    let b = keys_one(&target, proxy.address(), &format!("{prefix}b"));
    let c = keys_one(&target, proxy.address(), &format!("{prefix}c"));
    let healthy_keys = match cell.backend {
        Backend::Cluster => self::keys(&target, proxy.address(), &format!("{prefix}h"), false, 8),
        _ => Vec::new(),
    };
    for key in keys.iter().chain(&healthy_keys) {
        assert!(target.set(key, key).await.expect("set before the fault"));
    }
    assert!(target.set(&b, "2000").await.expect("set b"));
    assert!(target.set(&c, "3000").await.expect("set c"));

    let limit = cell.settings.call_limit();
    let big = Bytes::from(vec![b'v'; BIG_VALUE]);
    let big_keys = match cell.fault {
        Fault::StopReading => self::keys(
            &target,
            proxy.address(),
            &format!("{prefix}s"),
            true,
            64 * 3,
        ),
        _ => Vec::new(),
    };
    let plan = workload(cell, &keys, [&b, &c], (&big_keys, &big));
    let memory = floods(cell.fault).then(PeakRss::start);
    proxy.set(cell.fault);

    let done = AtomicBool::new(false);
    let faulty = async {
        let target = &target;
        let results = join_all(plan.iter().map(|calls| async move {
            let mut results = Vec::new();
            for call in calls {
                results.push(timed(target, call, limit).await);
            }
            results
        }))
        .await;
        done.store(true, Ordering::Relaxed);
        results
    };
    let healthy = async {
        let (mut count, mut slowest, mut failures) = (0, Duration::ZERO, Vec::new());
        for key in healthy_keys.iter().cycle() {
            if done.load(Ordering::Relaxed) {
                break;
            }
            let (outcome, took) = timed(&target, &Call::Get(key.clone()), limit).await;
            count += 1;
            slowest = slowest.max(took);
            match outcome {
                Some(Ok(None)) if limit.map_or(true, |l| took <= l + MARGIN) => {}
                Some(Ok(None)) => failures.push(format!("get {key} took {took:?}")),
                Some(Ok(Some(wrong))) => failures.push(wrong),
                Some(Err(error)) => failures.push(format!("get {key}: {error} after {took:?}")),
                None => failures.push(format!("get {key} hung")),
            }
            smol::Timer::after(Duration::from_millis(10)).await;
        }
        (count, slowest, failures)
    };
    let (results, healthy) = join(faulty, healthy).await;
    // The workload's own copies of the big value go; only the client's may stay.
    drop(plan);

    let mut report = Report {
        cell,
        calls: 0,
        errors: BTreeMap::new(),
        first_error: None,
        slowest: Duration::ZERO,
        hung: 0,
        wrong: Vec::new(),
        recovery: Err("not tried".into()),
        memory: None,
        flooded: 0,
        retained: false,
        healthy,
    };
    for (outcome, took) in results.into_iter().flatten() {
        report.calls += 1;
        report.slowest = report.slowest.max(took);
        match outcome {
            Some(Ok(None)) => {}
            Some(Ok(Some(wrong))) => report.wrong.push(wrong),
            Some(Err(error)) => {
                let kind = format!("{error:?}");
                let kind = kind
                    .split(['(', ' '])
                    .next()
                    .unwrap_or_default()
                    .to_string();
                *report.errors.entry(kind).or_default() += 1;
                if report.first_error.as_ref().map_or(true, |(_, t)| took < *t) {
                    report.first_error = Some((error.to_string(), took));
                }
            }
            None => report.hung += 1,
        }
    }
    if cell.fault == Fault::StopReading {
        // Every caller has gone: nothing may hold their requests for long.
        let deadline = Instant::now() + limit.unwrap_or(Duration::ZERO) + Duration::from_secs(1);
        while !big.is_unique() && Instant::now() < deadline {
            smol::Timer::after(Duration::from_millis(20)).await;
        }
        report.retained = !big.is_unique();
    }
    report.memory = memory.map(|memory| memory.growth());
    report.flooded = proxy.flooded();

    proxy.set(Fault::Pass);
    report.recovery = recover(cell, &target, &keys[0], &mut report.wrong).await;
    eprintln!("{report}");
    report
}

fn keys_one(target: &Target, proxy: &str, prefix: &str) -> String {
    keys(target, proxy, prefix, true, 1).remove(0)
}

/// Calls until a right answer comes, within the recovery limit. One server
/// must answer the first call; a cluster may fail fast until it probes the
/// node again.
async fn recover(
    cell: Cell,
    target: &Target,
    key: &str,
    wrong: &mut Vec<String>,
) -> Result<Duration, String> {
    let lifted = Instant::now();
    let limit = cell.settings.recovery_limit(cell.backend);
    let call_limit = cell.settings.call_limit();
    let give_up = limit.unwrap_or(UNBOUNDED_WATCHDOG) + MARGIN;
    loop {
        let (outcome, took) = timed(target, &Call::Get(key.to_string()), call_limit).await;
        let since = lifted.elapsed();
        match outcome {
            Some(Ok(None)) if since <= give_up => return Ok(since),
            Some(Ok(None)) => return Err(format!("the first right answer came after {since:?}")),
            Some(Ok(Some(answer))) => wrong.push(answer),
            Some(Err(error)) if cell.backend != Backend::Cluster => {
                return Err(format!("the first call failed: {error} after {took:?}"))
            }
            Some(Err(error)) if since > give_up => {
                return Err(format!("still failing after {since:?}: {error}"))
            }
            Some(Err(_)) => {}
            None => return Err(format!("a call hung for {took:?}")),
        }
        if since > give_up {
            return Err(format!("no right answer after {since:?}"));
        }
        smol::Timer::after(Duration::from_millis(20)).await;
    }
}
