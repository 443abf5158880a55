//! The memcached the benchmark measures against, started by the benchmark.
//!
//! It runs under a small shell guard that kills it when our stdin pipe closes,
//! as the integration tests do, so no server outlives the run even when the
//! benchmark panics or is killed.

use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// memcached's options for the run: 4 worker threads, 1 GiB of memory, no UDP.
const SERVER_ARGS: &str = "-t 4 -m 1024 -U 0 -u root";

/// A memcached process owned by the benchmark.
pub struct Server {
    guard: Child,
    /// `127.0.0.1:port`.
    pub address: String,
    /// The TCP port.
    pub port: u16,
    /// What `memcached -V` printed, e.g. `memcached 1.6.18`.
    pub version: String,
}

impl Server {
    /// Starts memcached on a free port of 127.0.0.1 and waits until it answers.
    pub fn start() -> Result<Server, String> {
        Server::start_with("", false)
    }

    /// Starts memcached with extra arguments; `tls`: it speaks only TLS
    /// (`-Z`), so it is ready once it accepts.
    pub fn start_with(extra: &str, tls: bool) -> Result<Server, String> {
        let binary = binary()?;
        let version = Command::new(&binary)
            .arg("-V")
            .output()
            .map(|out| String::from_utf8_lossy(&out.stdout).trim().to_string())
            .unwrap_or_default();
        let mut last_error = String::new();
        // A free port can be taken between our look and memcached's bind: retry.
        for _attempt in 0..5 {
            let port = free_port()?;
            match launch(&binary, port, extra, tls) {
                Ok(guard) => {
                    return Ok(Server {
                        guard,
                        address: format!("127.0.0.1:{port}"),
                        port,
                        version,
                    })
                }
                Err(error) => last_error = error,
            }
        }
        Err(format!("memcached did not start: {last_error}"))
    }

    /// The arguments memcached runs with (besides its address), for the report.
    pub fn args(&self) -> &'static str {
        SERVER_ARGS
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        // Closing stdin makes the guard kill memcached.
        drop(self.guard.stdin.take());
        let _ = self.guard.wait();
    }
}

fn launch(binary: &str, port: u16, extra: &str, tls: bool) -> Result<Child, String> {
    let script = format!(
        "{binary} {SERVER_ARGS} {extra} -l 127.0.0.1 -p {port} & pid=$!; cat >/dev/null; kill $pid 2>/dev/null; wait $pid 2>/dev/null"
    );
    let mut guard = Command::new("sh")
        .arg("-c")
        .arg(script)
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .map_err(|err| format!("cannot run sh to start memcached: {err}"))?;
    let deadline = Instant::now() + Duration::from_secs(5);
    while Instant::now() < deadline {
        let ready = if tls {
            TcpStream::connect(("127.0.0.1", port)).is_ok()
        } else {
            version_answers(port)
        };
        if ready {
            return Ok(guard);
        }
        if let Ok(Some(status)) = guard.try_wait() {
            return Err(format!("memcached exited at once ({status})"));
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    drop(guard.stdin.take());
    let _ = guard.wait();
    Err(format!(
        "memcached on port {port} did not answer within 5 s"
    ))
}

fn version_answers(port: u16) -> bool {
    let Ok(mut stream) = TcpStream::connect(("127.0.0.1", port)) else {
        return false;
    };
    let _ = stream.set_read_timeout(Some(Duration::from_millis(500)));
    if stream.write_all(b"version\r\n").is_err() {
        return false;
    }
    let mut line = String::new();
    BufReader::new(stream).read_line(&mut line).is_ok() && line.starts_with("VERSION ")
}

/// The memcached binary, or an error that names the package to install.
fn binary() -> Result<String, String> {
    let candidates = [
        "/usr/bin/memcached",
        "/usr/local/bin/memcached",
        "/usr/sbin/memcached",
    ];
    if let Some(found) = candidates.iter().find(|path| Path::new(path).exists()) {
        return Ok(found.to_string());
    }
    Command::new("sh")
        .args(["-c", "command -v memcached"])
        .output()
        .ok()
        .filter(|out| out.status.success())
        .map(|out| String::from_utf8_lossy(&out.stdout).trim().to_string())
        .ok_or_else(|| {
            "the memcached binary is missing: the benchmark starts its own server. \
             Install the Debian package `memcached` (apt-get install -y memcached)"
                .to_string()
        })
}

fn free_port() -> Result<u16, String> {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .map(|address| address.port())
        .map_err(|err| format!("no free port on 127.0.0.1: {err}"))
}
