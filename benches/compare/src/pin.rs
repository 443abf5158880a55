//! Pins the server to one core and the benchmark process to another.
//!
//! On a small virtual machine the cost of a round trip depends on where the
//! scheduler happens to put the two ends: a wake-up on the same core is
//! cheap, one across cores goes through an inter-processor interrupt, which
//! a VM pays dearly. Unpinned, a cell measured in one placement can be three
//! times faster than the next in another, which swamps any difference
//! between clients. Pinned, every cell pays the same cross-core wake-up, as
//! a client and a server on two machines pay a network hop; and "client
//! CPU" and "server CPU" each mean one core.
//!
//! `taskset` (util-linux, on every Debian) does it, so no unsafe
//! `sched_setaffinity` call is needed here.

use std::process::Command;

/// Pins `server` (every thread) to the last core and this process to the
/// first. Call before any runtime starts a thread: later threads inherit the
/// caller's affinity. Returns a description for the report.
pub fn pin(server: u32) -> Result<String, String> {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    if cores < 2 {
        return Err("one core: nothing to pin".into());
    }
    let last = (cores - 1).to_string();
    taskset(&last, server)?;
    taskset("0", std::process::id())?;
    Ok(format!(
        "client process on core 0, memcached on core {last}"
    ))
}

/// Pins a second server (the TLS rows') where [`pin`] put the first, the last
/// of `cores` (counted before pinning: this process now sees one): started
/// from this process, it would otherwise inherit the client's core.
pub fn pin_server(server: u32, cores: usize) -> Result<(), String> {
    taskset(&(cores.max(1) - 1).to_string(), server)
}

fn taskset(core: &str, pid: u32) -> Result<(), String> {
    let status = Command::new("taskset")
        .args(["-a", "-p", "-c", core, &pid.to_string()])
        .stdout(std::process::Stdio::null())
        .status()
        .map_err(|e| format!("taskset: {e}"))?;
    status
        .success()
        .then_some(())
        .ok_or_else(|| format!("taskset -c {core} {pid}: {status}"))
}
