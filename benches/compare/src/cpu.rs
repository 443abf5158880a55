//! CPU time of the benchmark process and of the server, from /proc, so each
//! cell can say who was busy: a client near 1 core is CPU-bound, a server
//! near its thread count is the limit, both well below their share means the
//! round trips (loopback syscalls, wake-ups) set the pace.

use std::time::{Duration, Instant};

/// CPU seconds used by a process (every thread, user + system), or `None`
/// where /proc is not readable.
fn cpu_time(pid: u32, tick: f64) -> Option<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // Fields after the command name (which may hold spaces, inside parentheses).
    let rest = &stat[stat.rfind(')')? + 2..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // utime and stime are fields 14 and 15 of the line: 11 and 12 after the name.
    let utime: f64 = fields.get(11)?.parse().ok()?;
    let stime: f64 = fields.get(12)?.parse().ok()?;
    Some((utime + stime) / tick)
}

/// Clock ticks per second of /proc's times.
fn clock_tick() -> f64 {
    std::process::Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|out| String::from_utf8_lossy(&out.stdout).trim().parse().ok())
        .unwrap_or(100.0)
}

/// Watches the CPU time of this process and of the server.
#[derive(Debug, Clone)]
pub struct CpuWatch {
    server: Option<u32>,
    tick: f64,
}

/// CPU used during one cell, in cores (1.0 = one core busy all the time).
#[derive(Debug, Clone, Copy, Default)]
pub struct CpuUse {
    /// The benchmark process: the client under test, its runtime and driver.
    pub client: f64,
    /// memcached.
    pub server: f64,
}

/// A reading to compare a later one with.
pub struct Mark {
    at: Instant,
    client: Option<f64>,
    server: Option<f64>,
}

impl CpuWatch {
    /// Watches this process and the server process `server` (if found).
    pub fn new(server: Option<u32>) -> CpuWatch {
        CpuWatch {
            server,
            tick: clock_tick(),
        }
    }

    /// Reads both processes' CPU time now.
    pub fn mark(&self) -> Mark {
        Mark {
            at: Instant::now(),
            client: cpu_time(std::process::id(), self.tick),
            server: self.server.and_then(|pid| cpu_time(pid, self.tick)),
        }
    }

    /// The cores used since `mark`; `None` where /proc could not tell.
    pub fn since(&self, mark: &Mark) -> Option<CpuUse> {
        let now = self.mark();
        let wall = (now.at - mark.at)
            .max(Duration::from_millis(1))
            .as_secs_f64();
        Some(CpuUse {
            client: (now.client? - mark.client?) / wall,
            server: (now.server? - mark.server?) / wall,
        })
    }
}

/// The pid of the memcached listening on `port`, found by its command line.
pub fn find_server(port: u16) -> Option<u32> {
    let wanted = port.to_string();
    std::fs::read_dir("/proc")
        .ok()?
        .flatten()
        .find_map(|entry| {
            let pid: u32 = entry.file_name().to_str()?.parse().ok()?;
            let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).ok()?;
            let args: Vec<&[u8]> = cmdline.split(|&b| b == 0).collect();
            let is_memcached = args.first()?.ends_with(b"memcached");
            let on_port = args
                .windows(2)
                .any(|pair| pair[0] == b"-p" && pair[1] == wanted.as_bytes());
            (is_memcached && on_port).then_some(pid)
        })
}
