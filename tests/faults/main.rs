//! The fault matrix: every fault of the proxy (tests/support/proxy.rs), on a
//! `Connection`, a `Pool` and a 3-node `Cluster` (one node behind the
//! proxy), with 200 ms timeouts and with the defaults. In every cell every
//! call ends within its limit plus a margin, memory stays bounded, no answer
//! is wrong, and once the proxy passes traffic again a call succeeds within
//! one timeout (for a cluster: once it probes the node again).
//!
//! Runs on smol only: what is tested is the connection logic, not the
//! runtime adapter. The cells of one backend run concurrently.
//!
//! Every cell runs in the regular tests; `MEMCLIENT_FAULT=<fault>` (e.g.
//! `Stall`) runs only that fault's cells.
#![cfg(feature = "smol")]

#[path = "../support/mod.rs"]
mod support;

#[path = "../support/proxy.rs"]
mod proxy;

mod cell;
mod memory;
mod proxy_checks;
mod target;

use cell::{Cell, Report};
use proxy::Fault;
use target::{Backend, Settings};

/// Every fault the proxy injects.
const FAULTS: [Fault; 15] = [
    Fault::Stall,
    Fault::StallRelease,
    Fault::Cut,
    Fault::Garbage,
    Fault::Drip,
    Fault::HugeLength,
    Fault::EndlessLine,
    Fault::ManyLines,
    Fault::Reorder,
    Fault::Duplicate,
    Fault::DropOne,
    Fault::Refuse,
    Fault::Silent,
    Fault::ConnectHang,
    Fault::StopReading,
];

/// Runs `cells` concurrently, and fails with every broken rule of every cell.
fn run_cells(cells: Vec<Cell>) {
    let threads: Vec<_> = cells
        .into_iter()
        .map(|cell| (cell, std::thread::spawn(move || cell::run(cell))))
        .collect();
    let mut failures = Vec::new();
    for (cell, thread) in threads {
        match thread.join() {
            Ok(report) => failures.extend(Report::failures(&report)),
            Err(_) => failures.push(format!("{cell}: the cell panicked")),
        }
    }
    assert!(failures.is_empty(), "\n{}", failures.join("\n"));
}

/// The cells of one backend and settings (only one fault's with, e.g.,
/// MEMCLIENT_FAULT=Stall).
fn matrix(backend: Backend, settings: Settings) {
    let only = std::env::var("MEMCLIENT_FAULT").ok();
    let cells = FAULTS
        .iter()
        .filter(|fault| {
            only.as_ref()
                .map_or(true, |only| *only == format!("{fault:?}"))
        })
        .map(|&fault| Cell {
            fault,
            backend,
            settings,
        })
        .collect();
    run_cells(cells);
}

#[test]
fn connection_with_200ms_timeouts() {
    matrix(Backend::Connection, Settings::Tight);
}

#[test]
fn connection_with_default_options() {
    matrix(Backend::Connection, Settings::Defaults);
}

#[test]
fn pool_with_200ms_timeouts() {
    matrix(Backend::Pool, Settings::Tight);
}

#[test]
fn pool_with_default_options() {
    matrix(Backend::Pool, Settings::Defaults);
}

#[test]
fn cluster_with_200ms_timeouts() {
    matrix(Backend::Cluster, Settings::Tight);
}

#[test]
fn cluster_with_default_options() {
    matrix(Backend::Cluster, Settings::Defaults);
}
