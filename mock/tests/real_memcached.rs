//! The same raw protocol script against a real memcached and against the
//! mock's TCP server: the replies must be equal, byte for byte (cas uniques
//! included: both start their counter at 1).

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use memclient_mock::MockMemcache;

/// A memcached process that dies with the test.
struct Memcached {
    child: Child,
    port: u16,
}

impl Drop for Memcached {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("no free port")
}

fn start_memcached() -> Memcached {
    let binary = std::env::var("MEMCACHED").unwrap_or_else(|_| "memcached".into());
    let port = free_port();
    let child = Command::new(&binary)
        .args(["-p", &port.to_string(), "-U", "0", "-l", "127.0.0.1"])
        // Needed when the tests run as root; ignored otherwise.
        .args(["-u", "root"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| {
            panic!(
                "cannot start `{binary}` ({e}): these tests need a real memcached; \
                 install the Debian package `memcached` (apt-get install memcached) \
                 or point MEMCACHED at the binary"
            )
        });
    let server = Memcached { child, port };
    let deadline = Instant::now() + Duration::from_secs(10);
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            Instant::now() < deadline,
            "memcached did not start on port {port}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    server
}

/// The script: each step is sent in one write. `mn` (answered `MN`) after
/// each step marks where its replies end.
fn script() -> Vec<Vec<u8>> {
    let long_key = "k".repeat(251);
    let mut steps: Vec<Vec<u8>> = [
        "set a 0 0 1\r\nx\r\n",
        "gets a\r\n",
        "set b 5 0 3\r\nabc\r\nget a b c\r\n",
        "add a 0 0 1\r\ny\r\nadd c 1 0 1\r\nz\r\ngets a b c\r\n",
        "replace nope 0 0 1\r\nx\r\nreplace c 2 0 2\r\nzz\r\ngets c\r\n",
        "append nope 0 0 1\r\nx\r\nprepend nope 0 0 1\r\nx\r\n",
        "append b 9 0 2\r\nde\r\nprepend b 9 0 2\r\n12\r\ngets b\r\n",
        "cas a 0 0 1 999\r\nq\r\ncas nope 0 0 1 1\r\nq\r\ncas a 0 0 1 0\r\nq\r\n",
        "cas a 0 0 1 1\r\nq\r\ngets a\r\n",
        "delete a\r\ndelete a\r\ndelete b 0\r\ndelete c noreply\r\nget a b c\r\n",
        "set n 0 0 2\r\n10\r\ndecr n 5\r\ngets n\r\nincr n 100\r\ngets n\r\n",
        "set m 0 0 20\r\n18446744073709551615\r\nincr m 1\r\nget m\r\n",
        "decr m 1\r\nincr nope 1\r\ndecr nope 1\r\n",
        "set t 0 0 3\r\n12a\r\nincr t 1\r\nincr t x\r\nincr t -1\r\n",
        "set s 0 0 3\r\n 12\r\nincr s 1\r\nget s\r\n",
        "touch s 100\r\ntouch nope 100\r\ngets s\r\ngat 100 s nope\r\ngats 0 s\r\n",
        "set e 0 -1 1\r\nx\r\nget e\r\nset w 0 2147483648 1\r\nx\r\nget w\r\n",
        "set f 4294967297 0 1\r\nx\r\nget f\r\n",
        "flush_all\r\nget s f n\r\nset after 0 0 1\r\nx\r\ngets after\r\n",
        "flush_all -1\r\nflush_all 0 noreply\r\nget after\r\n",
        "bogus\r\nbogus noreply\r\n\r\nGET x\r\nget\r\nincr\r\ntouch a\r\n",
        "set a 0 0\r\nset a 0 0 1 2 3\r\nx\r\nset a x 0 1\r\nx\r\n",
        "set a 0 0 3\r\nabcdef\r\nget a\r\n",
        "set a 0 0 3 noreply\r\nabcdef\r\nset q 0 0 1 noreply\r\nq\r\nget q\r\n",
        "delete a 1\r\ndelete a x y z\r\nverbosity\r\nverbosity 1\r\nverbosity x\r\n",
        "flush_all x\r\nflush_all 1 2 3\r\nversion\r\nshutdown\r\n",
        "cache_memlimit 4\r\ncache_memlimit x\r\ncache_memlimit 64\r\n",
        "slabs reassign 1 1\r\nslabs reassign -1 2\r\nslabs reassign 1 2\r\nslabs automove 3\r\n",
        "slabs automove 1\r\nlru_crawler foo\r\nlru_crawler sleep 2000000\r\nlru_crawler tocrawl 0\r\n",
        "lru_crawler sleep 100\r\nlru_crawler crawl 0\r\nlru_crawler enable\r\n",
        "stats foo\r\nstats detail\r\nstats detail dump\r\n",
        "get a\tb\r\nget a\0b\r\n",
    ]
    .iter()
    .map(|s| s.as_bytes().to_vec())
    .collect();
    steps.push(format!("get {long_key}\r\nget a {long_key}\r\n").into_bytes());
    steps.push(format!("set x 0 0 1\r\nx\r\nget x {long_key}\r\n").into_bytes());
    steps.push(format!("set {long_key} 0 0 1\r\nx\r\ntouch {long_key} 1\r\n").into_bytes());
    steps.push(format!("delete {long_key} noreply\r\nincr {long_key} 1\r\n").into_bytes());
    // The largest values memcached stores with the default -I 1m.
    for (flags, len) in [
        (0, 1_048_516),
        (0, 1_048_517),
        (1, 1_048_512),
        (1, 1_048_513),
    ] {
        let mut step = format!("set big {flags} 0 {len}\r\n").into_bytes();
        step.extend(std::iter::repeat(b'v').take(len));
        step.extend_from_slice(b"\r\nget nope\r\n");
        steps.push(step);
    }
    // Too large: the old value goes, the data is swallowed.
    let mut step = b"set old 0 0 1\r\no\r\nset old 0 0 2000000 noreply\r\n".to_vec();
    step.extend(std::iter::repeat(b'v').take(2_000_000));
    step.extend_from_slice(b"\r\nget old\r\n");
    steps.push(step);
    // 30 pipelined sets then a get with a too-long key: memcached drops the
    // replies it had not written yet.
    let mut step: Vec<u8> = (0..30)
        .flat_map(|i| format!("set p{i} 0 0 1\r\nx\r\n").into_bytes())
        .collect();
    step.extend_from_slice(format!("get {long_key}\r\n").as_bytes());
    steps.push(step);
    steps
}

/// Runs the script on a server and returns each step's replies.
fn run(port: u16) -> Vec<Vec<u8>> {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).expect("connect");
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let mut replies = Vec::new();
    for step in script() {
        stream.write_all(&step).unwrap();
        stream.write_all(b"mn\r\n").unwrap();
        let mut got = Vec::new();
        let mut buf = [0u8; 65536];
        while !got.ends_with(b"MN\r\n") {
            let n = stream.read(&mut buf).expect("read");
            assert!(
                n > 0,
                "server closed during {}",
                String::from_utf8_lossy(&step[..step.len().min(80)])
            );
            got.extend_from_slice(&buf[..n]);
        }
        replies.push(got);
    }
    // `quit` answers nothing and closes.
    stream.write_all(b"version\r\nquit\r\nversion\r\n").unwrap();
    let mut rest = Vec::new();
    let _ = stream.read_to_end(&mut rest);
    replies.push(rest);
    replies
}

#[test]
fn mock_replies_like_memcached() {
    let real = start_memcached();
    let mock = MockMemcache::new();
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let mock_port = listener.local_addr().unwrap().port();
    let _server = mock.serve_tcp(listener).unwrap();

    let expected = run(real.port);
    let got = run(mock_port);
    let steps = script();
    for (i, (want, have)) in expected.iter().zip(&got).enumerate() {
        let step = steps
            .get(i)
            .map_or(&b"quit"[..], |s| &s[..s.len().min(120)]);
        assert_eq!(
            have.escape_ascii().to_string(),
            want.escape_ascii().to_string(),
            "step {i}: {}",
            step.escape_ascii()
        );
    }
    assert_eq!(expected.len(), got.len());
}
