//! Test support: real memcached servers started by the tests themselves.
//!
//! Each server runs under a small shell guard that kills it when the test
//! process exits (its stdin closes), so no server outlives the tests even when
//! a test panics or the process is killed.

#![allow(dead_code)]

pub mod hostile;

use std::io::{BufRead, BufReader, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// Where a test server listens.
#[derive(Debug, Clone)]
pub enum Listen {
    /// 127.0.0.1 on a free port.
    Ipv4,
    /// [::1] on a free port.
    Ipv6,
    /// A UNIX socket in a fresh temporary directory.
    Unix,
}

/// A memcached process owned by the test.
pub struct Memcached {
    child: Child,
    /// The address to give the client: `127.0.0.1:port`, `[::1]:port` or `unix:/path`.
    pub address: String,
    /// The TCP port (0 for a UNIX socket).
    pub port: u16,
    socket_dir: Option<PathBuf>,
}

impl Memcached {
    /// Starts a server on 127.0.0.1.
    pub fn start() -> Memcached {
        Memcached::start_with(Listen::Ipv4, &[])
    }

    /// Starts a server on 127.0.0.1 at `port` (to restart one that was stopped).
    pub fn start_on(port: u16) -> Memcached {
        Memcached::launch(Listen::Ipv4, Some(port), &[]).expect("memcached restarts on its port")
    }

    /// Starts a server listening as `listen`, with extra memcached arguments.
    pub fn start_with(listen: Listen, args: &[&str]) -> Memcached {
        for _attempt in 0..5 {
            if let Some(server) = Memcached::launch(listen.clone(), None, args) {
                return server;
            }
            // Most likely the free port was taken meanwhile: try another.
        }
        panic!("memcached did not start after 5 attempts (see its output above)");
    }

    fn launch(listen: Listen, fixed_port: Option<u16>, args: &[&str]) -> Option<Memcached> {
        let binary = memcached_binary();
        {
            let (listen_args, address, port, socket_dir) = match listen {
                Listen::Ipv4 => {
                    let port = fixed_port.unwrap_or_else(|| free_port("127.0.0.1:0"));
                    let args = vec![
                        "-l".into(),
                        "127.0.0.1".into(),
                        "-p".into(),
                        port.to_string(),
                    ];
                    (args, format!("127.0.0.1:{port}"), port, None)
                }
                Listen::Ipv6 => {
                    let port = free_port("[::1]:0");
                    let args = vec!["-l".into(), "::1".into(), "-p".into(), port.to_string()];
                    (args, format!("[::1]:{port}"), port, None)
                }
                Listen::Unix => {
                    let dir = temp_dir();
                    let path = dir.join("memcached.sock");
                    let args = vec![
                        "-s".into(),
                        path.display().to_string(),
                        "-a".into(),
                        "0700".into(),
                    ];
                    (args, format!("unix:{}", path.display()), 0, Some(dir))
                }
            };
            let mut command = format!("{binary} -U 0 -u root -t 2");
            for arg in listen_args
                .iter()
                .map(String::as_str)
                .chain(args.iter().copied())
            {
                command.push(' ');
                command.push_str(&shell_quote(arg));
            }
            // The guard: run memcached, wait for stdin to close, then kill it.
            let script = format!("{command} & pid=$!; echo started; cat >/dev/null; kill $pid 2>/dev/null; wait $pid 2>/dev/null");
            let mut child = Command::new("sh")
                .arg("-c")
                .arg(script)
                .stdin(Stdio::piped())
                .stdout(Stdio::piped())
                .stderr(Stdio::inherit())
                .spawn()
                .expect("sh must be available to start memcached");
            let mut started = String::new();
            let stdout = child.stdout.take().expect("piped stdout");
            BufReader::new(stdout).read_line(&mut started).ok();
            let server = Memcached {
                child,
                address,
                port,
                socket_dir,
            };
            server.wait_ready(Duration::from_secs(5)).then_some(server)
        }
    }

    /// The shared server of this test process, started on first use. Tests
    /// that use it keep to their own keys (see [`unique_prefix`]).
    pub fn shared() -> &'static Memcached {
        static SHARED: OnceLock<Memcached> = OnceLock::new();
        SHARED.get_or_init(Memcached::start)
    }

    /// The UNIX socket path, for a UNIX server.
    pub fn socket_path(&self) -> Option<PathBuf> {
        self.address.strip_prefix("unix:").map(PathBuf::from)
    }

    fn wait_ready(&self, limit: Duration) -> bool {
        let deadline = Instant::now() + limit;
        while Instant::now() < deadline {
            if self.version_answers() {
                return true;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        false
    }

    fn version_answers(&self) -> bool {
        let exchange = |mut stream: Box<dyn ReadWrite>| -> bool {
            if stream.write_all(b"version\r\n").is_err() {
                return false;
            }
            let mut line = String::new();
            BufReader::new(stream).read_line(&mut line).is_ok() && line.starts_with("VERSION ")
        };
        match self.socket_path() {
            Some(path) => std::os::unix::net::UnixStream::connect(path)
                .map(|s| exchange(Box::new(s)))
                .unwrap_or(false),
            None => {
                let address: SocketAddr = self.address.parse().expect("test addresses are IPs");
                TcpStream::connect_timeout(&address, Duration::from_millis(200))
                    .map(|s| exchange(Box::new(s)))
                    .unwrap_or(false)
            }
        }
    }

    /// Stops the server now (as if it crashed).
    pub fn kill(mut self) {
        self.stop();
    }

    fn stop(&mut self) {
        // Closing stdin makes the guard kill memcached.
        drop(self.child.stdin.take());
        let _ = self.child.wait();
        if let Some(dir) = self.socket_dir.take() {
            let _ = std::fs::remove_dir_all(dir);
        }
    }
}

impl Drop for Memcached {
    fn drop(&mut self) {
        self.stop();
    }
}

trait ReadWrite: std::io::Read + Write {}
impl<T: std::io::Read + Write> ReadWrite for T {}

/// The memcached binary, or a panic that says how to install it.
fn memcached_binary() -> String {
    let candidates = [
        "/usr/bin/memcached",
        "/usr/local/bin/memcached",
        "/usr/sbin/memcached",
    ];
    if let Some(found) = candidates.iter().find(|path| Path::new(path).exists()) {
        return found.to_string();
    }
    let on_path = Command::new("sh")
        .args(["-c", "command -v memcached"])
        .output()
        .ok()
        .filter(|out| out.status.success())
        .map(|out| String::from_utf8_lossy(&out.stdout).trim().to_string());
    on_path.unwrap_or_else(|| {
        panic!(
            "the memcached binary is missing: these tests start a real memcached. \
             Install the Debian package `memcached` (apt-get install -y memcached), \
             or run scripts/test, which installs it"
        )
    })
}

fn free_port(bind: &str) -> u16 {
    TcpListener::bind(bind)
        .and_then(|listener| listener.local_addr())
        .map(|address| address.port())
        .unwrap_or_else(|err| panic!("no free port on {bind}: {err}"))
}

fn temp_dir() -> PathBuf {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let dir = std::env::temp_dir().join(format!(
        "memclient-test-{}-{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    ));
    std::fs::create_dir_all(&dir).expect("temporary directory");
    dir
}

fn shell_quote(arg: &str) -> String {
    format!("'{}'", arg.replace('\'', r"'\''"))
}

/// A key prefix no other test of this process uses, so tests can share a server.
pub fn unique_prefix(test: &str) -> String {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    format!("{test}:{}:", NEXT.fetch_add(1, Ordering::Relaxed))
}
