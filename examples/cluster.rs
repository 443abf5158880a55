//! Three memcached servers behind one client: a workload, one server stopped
//! and restarted, and each server's statistics.
//!
//! ```text
//! cargo run --example cluster --features smol
//! MEMCLIENT_SERVERS=10.0.0.1:11211,10.0.0.2:11211 cargo run --example cluster --features smol
//! ```
//!
//! The servers are, in order of preference: the comma-separated addresses in
//! `MEMCLIENT_SERVERS`; 127.0.0.1:11211-11213 if all three answer; three
//! memcached processes this example starts itself when the `memcached`
//! binary is installed; or else three mock servers of `memclient-mock` on
//! local ports. Only servers it started itself are stopped and restarted.

use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use memclient::smol::Smol;
use memclient::{Client, Cluster, ClusterOptions, Config, NodeStatus, Request, Response};

fn main() {
    let (addresses, mut owned) = match servers() {
        Some(found) => found,
        None => {
            eprintln!(
                "No servers to use: MEMCLIENT_SERVERS is unset, nothing answers on \
                 127.0.0.1:11211-11213, memcached is not installed, and no local port \
                 could be opened for the mock servers. Set MEMCLIENT_SERVERS=host:port,... \
                 or install memcached (apt-get install memcached)."
            );
            return;
        }
    };
    println!("servers: {}", addresses.join(", "));

    let config = Config::servers(&addresses)
        .connect_timeout(Duration::from_millis(300))
        .timeout(Duration::from_millis(300))
        .cluster(
            ClusterOptions::new()
                .probes_before_dead(1)
                .probe_interval(Duration::from_millis(200))
                .dead_timeout(Duration::from_secs(2))
                .errors_as_misses(true),
        );
    let client = match smol::block_on(config.connect(Smol)) {
        Ok(client) => client,
        Err(error) => {
            eprintln!("bad server address: {error}");
            return;
        }
    };
    let cluster = client.backend().clone();
    let keys: Vec<String> = (0..300).map(|i| format!("example:{i}")).collect();

    smol::block_on(async {
        let not_stored = client
            .set_many(keys.iter().map(|key| (key.as_str(), key.as_str())))
            .await
            .expect("every server is up");
        println!(
            "stored {} of {} keys",
            keys.len() - not_stored.len(),
            keys.len()
        );
        report(&client, &keys, "all servers up").await;

        if owned.is_empty() {
            println!("(these servers are not ours: not stopping one)");
        } else {
            let victim = &mut owned[0];
            println!("stopping {}", victim.address);
            victim.stop();
            workload(&client, &keys, Duration::from_millis(800)).await;
            report(&client, &keys, "one server stopped").await;
            print_status(&cluster);

            println!("restarting {}", victim.address);
            victim.start();
            let started = Instant::now();
            while started.elapsed() < Duration::from_secs(5) {
                workload(&client, &keys, Duration::from_millis(250)).await;
                if cluster.status()[0].1 == NodeStatus::Healthy {
                    break;
                }
            }
            println!("rejoined after {:?}", started.elapsed());
            print_status(&cluster);
            // It came back empty: write its keys again.
            let _ = client
                .set_many(keys.iter().map(|key| (key.as_str(), key.as_str())))
                .await;
            report(&client, &keys, "after the restart").await;
        }

        println!("per-node stats:");
        for (node, reply) in cluster.call_all(Request::Stats { args: vec![] }).await {
            match reply {
                Ok(Response::Lines(lines)) => {
                    let pick = |name: &str| {
                        lines
                            .iter()
                            .filter_map(|line| std::str::from_utf8(line).ok())
                            .find_map(|line| line.strip_prefix(&format!("STAT {name} ")))
                            .unwrap_or("?")
                            .to_string()
                    };
                    println!(
                        "  {node}: curr_items={} get_hits={} get_misses={} cmd_set={}",
                        pick("curr_items"),
                        pick("get_hits"),
                        pick("get_misses"),
                        pick("cmd_set")
                    );
                }
                Ok(other) => println!("  {node}: unexpected reply {other:?}"),
                Err(error) => println!("  {node}: {error}"),
            }
        }
    });
}

type ExampleClient = Client<Cluster>;

/// Reads and writes for `duration`; prints how they went.
async fn workload(client: &ExampleClient, keys: &[String], duration: Duration) {
    let started = Instant::now();
    let (mut writes, mut failed_writes, mut reads) = (0, 0, 0);
    let mut i = 0;
    while started.elapsed() < duration {
        i = (i * 31 + 7) % keys.len();
        match client.set(&keys[i], keys[i].as_str()).await {
            Ok(_) => writes += 1,
            Err(_) => failed_writes += 1,
        }
        let _ = client.get_many(&keys[i..(i + 10).min(keys.len())]).await;
        reads += 1;
    }
    println!("  workload: {writes} writes ({failed_writes} failed), {reads} multi-key reads");
}

async fn report(client: &ExampleClient, keys: &[String], when: &str) {
    match client.get_many(keys).await {
        Ok(hits) => println!("{when}: {} of {} keys hit", hits.len(), keys.len()),
        Err(error) => println!("{when}: read failed: {error}"),
    }
}

fn print_status(cluster: &Cluster) {
    for (node, status) in cluster.status() {
        let status = match status {
            NodeStatus::Healthy => "healthy".to_string(),
            NodeStatus::Failing { failures } => format!("failing ({failures} failed attempts)"),
            NodeStatus::Dead { until } => format!(
                "dead, probed again in {:.1}s",
                until
                    .saturating_duration_since(std::time::Instant::now())
                    .as_secs_f64()
            ),
            other => format!("{other:?}"),
        };
        println!("  {node}: {status}");
    }
}

/// A server this example started: a memcached process or a mock server.
struct Server {
    address: String,
    port: u16,
    kind: Kind,
}

enum Kind {
    Process(Option<Child>),
    /// A restarted mock comes back empty, as a restarted memcached does.
    Mock(Option<memclient_mock::ServerHandle>),
}

impl Server {
    fn process(port: u16) -> Option<Server> {
        let mut server = Server {
            address: format!("127.0.0.1:{port}"),
            port,
            kind: Kind::Process(None),
        };
        server.start();
        answers(&server.address).then_some(server)
    }

    fn mock() -> Option<Server> {
        let listener = TcpListener::bind("127.0.0.1:0").ok()?;
        let port = listener.local_addr().ok()?.port();
        let handle = memclient_mock::MockMemcache::new()
            .serve_tcp(listener)
            .ok()?;
        Some(Server {
            address: format!("127.0.0.1:{port}"),
            port,
            kind: Kind::Mock(Some(handle)),
        })
    }

    fn start(&mut self) {
        match &mut self.kind {
            Kind::Process(child) => {
                *child = Command::new("memcached")
                    .args(["-l", "127.0.0.1", "-p", &self.port.to_string()])
                    .args(["-U", "0", "-u", "root"])
                    .stdout(Stdio::null())
                    .stderr(Stdio::null())
                    .spawn()
                    .ok();
                let deadline = Instant::now() + Duration::from_secs(3);
                while Instant::now() < deadline && !answers(&self.address) {
                    std::thread::sleep(Duration::from_millis(20));
                }
            }
            Kind::Mock(handle) => {
                *handle = TcpListener::bind(("127.0.0.1", self.port))
                    .and_then(|listener| memclient_mock::MockMemcache::new().serve_tcp(listener))
                    .ok();
            }
        }
    }

    fn stop(&mut self) {
        match &mut self.kind {
            Kind::Process(child) => {
                if let Some(mut child) = child.take() {
                    let _ = child.kill();
                    let _ = child.wait();
                }
            }
            Kind::Mock(handle) => {
                if let Some(handle) = handle.take() {
                    handle.stop();
                }
            }
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop();
    }
}

/// The addresses to use, and the servers started here (empty if none).
fn servers() -> Option<(Vec<String>, Vec<Server>)> {
    if let Ok(list) = std::env::var("MEMCLIENT_SERVERS") {
        let addresses: Vec<String> = list
            .split(',')
            .map(str::trim)
            .filter(|a| !a.is_empty())
            .map(String::from)
            .collect();
        if !addresses.is_empty() {
            return Some((addresses, Vec::new()));
        }
    }
    let local: Vec<String> = (11211..=11213).map(|p| format!("127.0.0.1:{p}")).collect();
    if local.iter().all(|a| answers(a)) {
        return Some((local, Vec::new()));
    }
    let processes: Vec<Server> = (0..3)
        .filter_map(|_| free_port().and_then(Server::process))
        .collect();
    let owned = if processes.len() == 3 {
        println!("started three memcached processes");
        processes
    } else {
        drop(processes);
        println!("memcached is not installed: using three mock servers (memclient-mock)");
        (0..3).filter_map(|_| Server::mock()).collect()
    };
    if owned.len() < 3 {
        return None;
    }
    Some((owned.iter().map(|s| s.address.clone()).collect(), owned))
}

fn free_port() -> Option<u16> {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .ok()
}

/// True if a memcached answers `version` at `address`.
fn answers(address: &str) -> bool {
    let Ok(socket) = address.parse() else {
        return false;
    };
    let Ok(mut stream) = TcpStream::connect_timeout(&socket, Duration::from_millis(200)) else {
        return false;
    };
    let _ = stream.set_read_timeout(Some(Duration::from_millis(500)));
    if stream.write_all(b"version\r\n").is_err() {
        return false;
    }
    let mut line = String::new();
    BufReader::new(stream).read_line(&mut line).is_ok() && line.starts_with("VERSION ")
}
