//! Where a call's allocations come from, and a fixed amount of work to count
//! instructions over: the profile behind BENCHMARKS.md's allocation and
//! instruction figures. Needs a memcached at the given address.
//!
//! ```sh
//! # Allocation sites per call (get, set, get_many on smol and tokio, noreply
//! # batches, and the meta multi-get on tokio):
//! cargo run --release -p memclient-bench --example call_profile -- 127.0.0.1:11211 sites
//! # Instructions per call: run it for N and 2N calls and divide the difference by N.
//! valgrind --tool=callgrind target/release/examples/call_profile 127.0.0.1:11211 get_many 200
//! ```
//!
//! Work names: `get`, `set`, `get_many` (100 keys), `meta_many` (the same
//! through meta commands, `MultiGet::Meta`), `batch` (64 `noreply`
//! sets and a `version`), `large` (a 512 KiB get), `untimed_get` (`get`
//! on a client without a call timeout, which prices the timeout), and
//! `peer_get`: async-memcached's get of the same key, the reference for
//! `get` (it has no call timeout). Fixed
//! work runs on a current-thread tokio runtime, so the caller drives its
//! socket and every instruction of a call is on one thread.

use std::alloc::{GlobalAlloc, Layout, System};
use std::backtrace::Backtrace;
use std::cell::Cell;
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;

use async_memcached::AsciiProtocol;
use bytes::Bytes;
use memclient::serde::RawBytes;
use memclient::{Client, Config, Connection};

/// The system allocator, recording a backtrace of each allocation while armed.
struct Recording;

static ARMED: AtomicBool = AtomicBool::new(false);
static TRACES: Mutex<Vec<Backtrace>> = Mutex::new(Vec::new());
thread_local!(static RECORDING: Cell<bool> = const { Cell::new(false) });

fn record() {
    if !ARMED.load(Ordering::Relaxed) {
        return;
    }
    // Capturing allocates too: those allocations are not recorded.
    let _ = RECORDING.try_with(|recording| {
        if recording.replace(true) {
            return;
        }
        let trace = Backtrace::force_capture();
        TRACES.lock().unwrap().push(trace);
        recording.set(false);
    });
}

// SAFETY: every method forwards its arguments unchanged to `System`, which
// upholds `GlobalAlloc`'s contract; recording only reads a flag and, while
// armed, captures a backtrace (whose own allocations reenter here and are
// skipped by the thread's `RECORDING` flag).
unsafe impl GlobalAlloc for Recording {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        record();
        // SAFETY: the caller's guarantees about `layout` pass on to `System`.
        unsafe { System.alloc(layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        record();
        // SAFETY: as for `alloc`.
        unsafe { System.alloc_zeroed(layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        record();
        // SAFETY: `ptr` was allocated by `System` through this wrapper with `layout`.
        unsafe { System.realloc(ptr, layout, new_size) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` came from `System` through this wrapper with `layout`.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static ALLOCATOR: Recording = Recording;

/// Calls recorded per workload in `sites`.
const CALLS: usize = 200;

/// Frames that say nothing about the call: the recorder's own, the
/// allocator's, the backtrace machinery's.
fn telling(frame: &str) -> bool {
    !(frame.starts_with("std::backtrace")
        || frame.starts_with("__rustc")
        || frame.starts_with("alloc::alloc")
        || frame.contains("call_profile::")
        || frame.contains("GlobalAlloc"))
}

/// Prints the recorded allocations per call, by site (up to 7 frames).
fn report(name: &str) {
    ARMED.store(false, Ordering::SeqCst);
    let traces = std::mem::take(&mut *TRACES.lock().unwrap());
    let mut sites: HashMap<String, usize> = HashMap::new();
    for trace in &traces {
        let text = trace.to_string();
        let frames: Vec<&str> = text
            .lines()
            .filter(|line| line.trim_start().starts_with(|c: char| c.is_ascii_digit()))
            .map(|line| line.split_once(": ").map_or(line, |(_, frame)| frame))
            .filter(|frame| telling(frame))
            .take(7)
            .collect();
        *sites.entry(frames.join("\n      <- ")).or_default() += 1;
    }
    let mut sites: Vec<_> = sites.into_iter().collect();
    sites.sort_by_key(|site| std::cmp::Reverse(site.1));
    let per_call = |n: usize| n as f64 / CALLS as f64;
    println!(
        "== {name}: {:.2} allocations per call",
        per_call(traces.len())
    );
    for (site, n) in sites.iter().take(10) {
        println!("{:5.2}  {site}", per_call(*n));
    }
}

/// What one call of each workload sends.
struct Data {
    value: Bytes,
    large: Bytes,
    keys: Vec<String>,
}

type Probed = Client<Connection, RawBytes>;

async fn call(client: &Probed, data: &Data, work: &str) {
    match work {
        "get" | "untimed_get" => assert!(client.get("key1").await.unwrap().is_some()),
        "set" => assert!(client.set("key1", data.value.clone()).await.unwrap()),
        "get_many" | "meta_many" => {
            assert_eq!(client.get_many(&data.keys).await.unwrap().len(), 100)
        }
        "batch" => {
            let items = data.keys[..64].iter().map(|k| (k, data.value.clone()));
            client.set_many(items).noreply(true).await.unwrap();
            client.version().await.unwrap();
        }
        "large" => {
            let value = client.get("large").await.unwrap().unwrap();
            assert_eq!(value.len(), data.large.len());
        }
        other => panic!("no work named {other:?}"),
    }
}

async fn connect(address: &str, runtime: impl memclient::runtime::Transport) -> Probed {
    connect_with(Config::new(address), runtime).await
}

async fn connect_with(config: Config, runtime: impl memclient::runtime::Transport) -> Probed {
    config.connect(runtime).await.unwrap().with_serde(RawBytes)
}

/// Records `CALLS` calls of each of `works` after a warm-up.
async fn sites(client: &Probed, data: &Data, runtime: &str, works: &[&str]) {
    for work in works {
        for _ in 0..CALLS {
            call(client, data, work).await;
        }
        ARMED.store(true, Ordering::SeqCst);
        for _ in 0..CALLS {
            call(client, data, work).await;
        }
        report(&format!("{runtime} {work}"));
    }
}

fn main() {
    let mut args = std::env::args().skip(1);
    let usage = "usage: call_profile ADDRESS (sites | WORK COUNT)";
    let address = args.next().expect(usage);
    let work = args.next().expect(usage);
    let data = Data {
        value: Bytes::from(vec![b'x'; 100]),
        large: Bytes::from(vec![b'y'; 512 * 1024]),
        keys: (0..100).map(|i| format!("key{i}")).collect(),
    };
    let tokio = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let client = tokio.block_on(async {
        let client = connect(&address, memclient::tokio::Tokio).await;
        for key in &data.keys {
            client.set(key, data.value.clone()).await.unwrap();
        }
        client.set("large", data.large.clone()).await.unwrap();
        if work == "meta_many" {
            let meta = Config::new(&address).multi_get(memclient::MultiGet::Meta);
            return connect_with(meta, memclient::tokio::Tokio).await;
        }
        if work == "untimed_get" {
            let untimed = Config::new(&address).no_timeout();
            return connect_with(untimed, memclient::tokio::Tokio).await;
        }
        client
    });
    if work == "sites" {
        let works = ["get", "set", "get_many", "batch"];
        smol::block_on(async {
            let client = connect(&address, memclient::smol::Smol).await;
            sites(&client, &data, "smol", &works).await;
        });
        tokio.block_on(sites(&client, &data, "tokio", &works));
        tokio.block_on(async {
            let meta = Config::new(&address).multi_get(memclient::MultiGet::Meta);
            let client = connect_with(meta, memclient::tokio::Tokio).await;
            sites(&client, &data, "tokio", &["meta_many"]).await;
        });
        return;
    }
    let count: usize = args.next().expect(usage).parse().expect("a count");
    if work == "peer_get" {
        tokio.block_on(async {
            let mut peer = async_memcached::Client::new(format!("tcp://{address}"))
                .await
                .unwrap();
            for _ in 0..count {
                assert!(peer.get("key1").await.unwrap().is_some());
            }
        });
        return;
    }
    tokio.block_on(async {
        for _ in 0..count {
            call(&client, &data, &work).await;
        }
    });
}
