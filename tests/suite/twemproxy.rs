//! Through twemproxy itself: nutcracker (Debian's package, 0.5) in front of
//! two memcached servers the test starts. Every command twemproxy proxies
//! works through it; the others fail alone with a clear error under
//! [`Twemproxy`]; keys land on the server memclient's twemproxy ketama
//! predicts. Run on each runtime adapter (see the including test's `rt`).

use std::future::IntoFuture;
use std::io::{BufRead, BufReader};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use memclient::cluster::{KetamaHash, KetamaOptions, Twemproxy};
use memclient::serde::CacheValue;
use memclient::{
    CasOutcome, Client, Cluster, ClusterOptions, Config, Connection, Error, Hashing, NodeSpec,
};

use crate::rt;
use crate::support::Memcached;

/// A nutcracker process owned by the test, killed when the test process
/// ends (its guard shell waits on stdin) or when dropped.
struct Nutcracker {
    child: Child,
    address: String,
    _dir: TempDir,
}

struct TempDir(PathBuf);

impl Drop for TempDir {
    fn drop(&mut self) {
        std::fs::remove_dir_all(&self.0).ok();
    }
}

impl Drop for Nutcracker {
    fn drop(&mut self) {
        // Closing stdin makes the guard kill nutcracker.
        drop(self.child.stdin.take());
        self.child.wait().ok();
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn nutcracker_binary() -> Option<&'static str> {
    [
        "/usr/sbin/nutcracker",
        "/usr/bin/nutcracker",
        "/usr/local/sbin/nutcracker",
    ]
    .into_iter()
    .find(|path| std::path::Path::new(path).exists())
}

/// nutcracker with `distribution: ketama`, `hash`, in front of `servers`
/// listed as `server_lines` (the `servers:` entries). `None` (skip) when
/// nutcracker is not installed outside CI; in CI its absence fails.
fn start(hash: &str, server_lines: &[String]) -> Option<Nutcracker> {
    let Some(binary) = nutcracker_binary() else {
        let in_ci = std::env::var("CI").is_ok_and(|value| !value.is_empty() && value != "false");
        assert!(
            !in_ci,
            "nutcracker is not installed (scripts/test installs it)"
        );
        eprintln!(
            "skipping a twemproxy test: nutcracker is not installed (apt-get install nutcracker)"
        );
        return None;
    };
    let dir = std::env::temp_dir().join(format!(
        "memclient-nutcracker-{}-{}",
        std::process::id(),
        free_port()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    let dir = TempDir(dir);
    for _attempt in 0..5 {
        let (port, stats_port) = (free_port(), free_port());
        let mut config = format!(
            "pool:\n  listen: 127.0.0.1:{port}\n  hash: {hash}\n  distribution: ketama\n  \
             auto_eject_hosts: false\n  timeout: 2000\n  servers:\n"
        );
        for line in server_lines {
            config.push_str(&format!("   - {line}\n"));
        }
        let conf = dir.0.join("nutcracker.yml");
        std::fs::write(&conf, config).unwrap();
        let script = format!(
            "{binary} -c {} -s {stats_port} -o {} & pid=$!; echo started; cat >/dev/null; kill $pid 2>/dev/null; wait $pid 2>/dev/null",
            conf.display(),
            dir.0.join("nutcracker.log").display()
        );
        let mut child = Command::new("sh")
            .args(["-c", &script])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("sh runs");
        let mut started = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut started)
            .ok();
        let address = format!("127.0.0.1:{port}");
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            if TcpStream::connect(&address).is_ok() {
                return Some(Nutcracker {
                    child,
                    address,
                    _dir: dir,
                });
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        drop(child.stdin.take());
        child.wait().ok();
    }
    panic!("nutcracker did not start (see {})", dir.0.display());
}

fn plain_lines(servers: &[Memcached]) -> Vec<String> {
    servers.iter().map(|s| format!("{}:1", s.address)).collect()
}

fn named_lines(servers: &[Memcached]) -> Vec<String> {
    (0..servers.len())
        .map(|i| format!("{}:1 cache{}", servers[i].address, i + 1))
        .collect()
}

type ProxyClient = Client<Twemproxy<Connection>>;

fn through(proxy: &Nutcracker) -> ProxyClient {
    let client = rt::block_on(rt::connect(
        Config::new(&proxy.address).timeout(Duration::from_secs(2)),
    ))
    .expect("connect to nutcracker");
    Client::new(Twemproxy::new(client.backend().clone()))
}

fn text(value: Option<CacheValue>) -> Option<String> {
    value.and_then(|v| v.as_str().map(str::to_string))
}

#[test]
fn every_command_twemproxy_proxies_works_through_it() {
    let servers = [Memcached::start(), Memcached::start()];
    let Some(proxy) = start("fnv1a_64", &plain_lines(&servers)) else {
        return;
    };
    let c = through(&proxy);
    rt::block_on(async {
        assert!(c.set("tw:a", "one").await.unwrap());
        assert_eq!(text(c.get("tw:a").await.unwrap()), Some("one".into()));
        assert!(!c.add("tw:a", "two").await.unwrap());
        assert!(c.add("tw:b", "two").await.unwrap());
        assert!(c.replace("tw:a", "uno").await.unwrap());
        assert!(c.append("tw:a", "!").await.unwrap());
        assert!(c.prepend("tw:a", "¡").await.unwrap());
        assert_eq!(text(c.get("tw:a").await.unwrap()), Some("¡uno!".into()));
        let (_, unique) = c.gets("tw:a").await.unwrap().expect("a hit");
        assert_eq!(
            c.cas("tw:a", "cas", unique).await.unwrap(),
            CasOutcome::Stored
        );
        assert_eq!(
            c.cas("tw:a", "late", unique).await.unwrap(),
            CasOutcome::Exists
        );
        assert!(c.set("tw:n", 5).await.unwrap());
        assert_eq!(c.incr("tw:n", 10).await.unwrap(), Some(15));
        assert_eq!(c.decr("tw:n", 3).await.unwrap(), Some(12));
        assert_eq!(c.incr("tw:missing", 1).await.unwrap(), None);
        assert!(c.touch("tw:a", Duration::from_secs(100)).await.unwrap());
        assert!(c.delete("tw:b").await.unwrap());
        assert!(!c.delete("tw:b").await.unwrap());
        // noreply writes, then a read that sees them.
        c.set("tw:q", "quiet").noreply(true).await.unwrap();
        c.delete("tw:a").noreply(true).await.unwrap();
        assert_eq!(c.get("tw:a").await.unwrap(), None);
        assert_eq!(text(c.get("tw:q").await.unwrap()), Some("quiet".into()));
        // Multi-key reads span both servers; twemproxy merges them.
        // The varying part first: fnv1a_64 spreads keys that differ only at
        // their end over a narrow arc of the continuum.
        let keys: Vec<String> = (0..50).map(|i| format!("{i}:tw:many")).collect();
        for key in &keys {
            assert!(c.set(key, key.as_str()).await.unwrap());
        }
        let mut asked = keys.clone();
        asked.push("tw:many:absent".into());
        let got = c.get_many(&asked).await.unwrap();
        assert_eq!(got.len(), keys.len());
        for key in &keys {
            assert_eq!(got[key.as_bytes()].as_str(), Some(key.as_str()));
        }
        assert_eq!(c.gets_many(&keys).await.unwrap().len(), keys.len());
        assert!(c.version().await.unwrap().starts_with("1."));
    });
    // Both servers hold some of the keys: the proxy spread them.
    for server in &servers {
        let direct = rt::block_on(rt::connect(Config::new(&server.address))).unwrap();
        let stats = rt::block_on(direct.stats(Vec::<&str>::new())).unwrap();
        let held = stats["curr_items"].as_int().unwrap();
        assert!(held > 0, "{} holds no item", server.address);
    }
}

#[test]
fn what_twemproxy_does_not_proxy_fails_alone_with_a_clear_error() {
    let servers = [Memcached::start(), Memcached::start()];
    let Some(proxy) = start("fnv1a_64", &plain_lines(&servers)) else {
        return;
    };
    let c = through(&proxy);
    rt::block_on(async {
        assert!(c.set("tw:kept", "v").await.unwrap());
        let refused: Vec<(&str, Error)> = vec![
            ("flush_all", c.flush_all().await.unwrap_err()),
            ("stats", c.stats(Vec::<&str>::new()).await.unwrap_err()),
            (
                "gat",
                c.gat("tw:kept", Duration::from_secs(9)).await.unwrap_err(),
            ),
            (
                "gats",
                c.gats("tw:kept", Duration::from_secs(9)).await.unwrap_err(),
            ),
            ("meta", c.meta_get("tw:kept").await.unwrap_err()),
            ("verbosity", c.verbosity(1).await.unwrap_err()),
            ("cache_memlimit", c.cache_memlimit(64).await.unwrap_err()),
        ];
        for (command, err) in refused {
            assert!(matches!(err, Error::IllegalInput(_)), "{command}: {err}");
            assert!(err.to_string().contains(command), "{command}: {err}");
            assert!(err.to_string().contains("twemproxy"), "{command}: {err}");
        }
        // Nothing was sent: the connection is still the one in use.
        assert_eq!(text(c.get("tw:kept").await.unwrap()), Some("v".into()));
    });
    // Unwrapped, twemproxy closes the connection on them.
    let bare = rt::block_on(rt::connect(
        Config::new(&proxy.address).timeout(Duration::from_secs(2)),
    ))
    .unwrap();
    let err = rt::block_on(bare.flush_all().into_future()).unwrap_err();
    assert!(err.is_connection_error(), "{err}");
}

/// Writes keys through the proxy, then finds each where memclient's cluster
/// with twemproxy's ketama looks for it, reading the servers directly.
fn placement_agrees(hash: &str, kind: KetamaHash, named: bool) {
    let servers = [Memcached::start(), Memcached::start(), Memcached::start()];
    let lines = if named {
        named_lines(&servers)
    } else {
        plain_lines(&servers)
    };
    let Some(proxy) = start(hash, &lines) else {
        return;
    };
    let c = through(&proxy);
    let keys: Vec<String> = (0..200).map(|i| format!("placed:{hash}:{i}")).collect();
    rt::block_on(async {
        for key in &keys {
            assert!(c.set(key, key.as_str()).await.unwrap());
        }
    });
    let nodes: Vec<NodeSpec> = lines
        .iter()
        .map(|line| NodeSpec::from_twemproxy(line).unwrap())
        .collect();
    let locator = Hashing::Ketama(KetamaOptions::twemproxy(kind)).locator(&nodes);
    let direct: Vec<_> = servers
        .iter()
        .map(|s| rt::block_on(rt::connect(Config::new(&s.address))).unwrap())
        .collect();
    rt::block_on(async {
        for key in &keys {
            let expected = locator.locate(key.as_bytes()).unwrap();
            for (index, server) in direct.iter().enumerate() {
                let held = server.get(key).await.unwrap().is_some();
                assert_eq!(
                    held,
                    index == expected,
                    "{hash} key {key} on server {index}"
                );
            }
        }
    });
    // A memclient cluster of the same servers, placed the same way, reads
    // every key the proxy wrote.
    let options = ClusterOptions::new().hashing(Hashing::Ketama(KetamaOptions::twemproxy(kind)));
    let cluster = Cluster::new(options);
    for (node, client) in nodes.into_iter().zip(&direct) {
        cluster.add_node(node, client.backend().clone()).unwrap();
    }
    let cluster = Client::new(cluster);
    let got = rt::block_on(cluster.get_many(&keys)).unwrap();
    assert_eq!(got.len(), keys.len(), "{hash}");
}

#[test]
fn keys_land_where_twemproxy_fnv1a_64_ketama_puts_them() {
    placement_agrees("fnv1a_64", KetamaHash::Fnv1a64, false);
}

#[test]
fn keys_land_where_twemproxy_md5_ketama_with_named_servers_puts_them() {
    placement_agrees("md5", KetamaHash::Md5, true);
}
