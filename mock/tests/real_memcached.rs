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
    run_script(port, &script())
}

/// Runs `steps` on a server, each followed by `mn`; then `version`, `quit`.
fn run_script(port: u16, steps: &[Vec<u8>]) -> Vec<Vec<u8>> {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).expect("connect");
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let mut replies = Vec::new();
    for step in steps {
        stream.write_all(step).unwrap();
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

/// The meta commands: every command and flag, the vivify / win / stale
/// dance, base64 keys, quiet mode and 1.6.18's answers to bad flags.
fn meta_script() -> Vec<Vec<u8>> {
    let long_key = "k".repeat(251);
    let long_opaque = format!("O{}", "1".repeat(32));
    let mut steps: Vec<Vec<u8>> = [
        "ms a 1 T0 F5\r\nx\r\n",
        "mg a s v f t c k O123 h l\r\nmg a h\r\nmg a u h v\r\n",
        "mg a E5 v\r\nmg a x\r\nmg a v v\r\nmg a Nx Tx\r\nmg a Fx\r\nmg a Mxy\r\n",
        "mg a Jx\r\nmg a Dx\r\nmg a C1 v\r\nmg a P1 Lfoo v\r\nmg\r\nmd\r\nma\r\nme\r\nmx a\r\n",
        "mg zz\r\nmg zz q\r\nmg zz q O1 k\r\nmg zz O1 k\r\nmg zz k b\r\nmg enp6 k b O9\r\n",
        "mg Y=Q= b k\r\nmg !!!! b\r\n",
        "md zz\r\nmd zz q\r\nmd zz q O1 k\r\nmd zz x\r\nmd zz E1\r\nmd a q\r\nmg a v\r\n",
        "ms a 1 c\r\nx\r\nms a 1 MZ\r\nx\r\nms a 1 MSS\r\nx\r\nms a 1 E1\r\nx\r\n",
        "ms a 1 S\r\nx\r\nms a x\r\nx\r\nms a\r\nms a -1\r\nx\r\n",
        "ms nx 1 c\r\nzz\r\nms nx 1 q\r\nzz\r\nmg nx v\r\n",
        // Vivify: one winner, then Z; the winner stores, the item is clean.
        "mg v N30 t c k v\r\nmg v N30 t c k v\r\nmg v t\r\nma v\r\n",
        "ms v 3 T0\r\nnew\r\nmg v v c t\r\n",
        // Invalidation: stale with a win for the first reader.
        "md v I T30\r\nmg v v c t\r\nmg v v c t\r\nmd v I\r\nmg v c t q\r\n",
        "ms v 3 C9999 I\r\nold\r\nmg v v c t\r\nms v 3 C1 I\r\nold\r\nmg v v c t\r\n",
        "ms v 3\r\nfin\r\nmg v v c t\r\n",
        // Recache: R wins below the remaining TTL, once.
        "ms r 1 T100\r\nx\r\nmg r R30 c\r\nmg r R200 c\r\nmg r R200 c T300 t\r\nmg r t\r\n",
        // Modes and cas.
        "ms ap 1 MA\r\nx\r\nms ap 1 MA N30\r\nx\r\nms ap 1 MP\r\nz\r\nmg ap v\r\n",
        "ms ap 1 ME\r\nz\r\nms ap 1 ME\r\ny\r\nms ap 1 MA\r\nb\r\nms ap 1 MP F7\r\na\r\nmg ap v f c\r\n",
        "ms ap 1 MA C1\r\nx\r\nms ap 1 MR c\r\nq\r\nms nope 1 MR\r\nq\r\nms nope 1 C5 O3\r\nq\r\n",
        "mg ap c\r\nms ap 1 C5 q O1 k c\r\nq\r\nms ap 1 C0\r\nq\r\nms ap 1 I\r\nz\r\nmg ap v c\r\n",
        "ms ny 1 q O1 k c\r\nq\r\nms ny 1 q ME O1 k c\r\nq\r\nmg ny v\r\n",
        // Delete.
        "md ap C1 O1 k\r\nmd ap q\r\nmd ap O1 k\r\nmg ap v\r\nmd ny I T30 q\r\nmg ny c t\r\n",
        // Arithmetic.
        "ma n\r\nma n q\r\nma n N0 J10 v c t q\r\nma n v\r\nma n MD D3 v\r\nma n MI D100 v\r\n",
        "ma n M- v\r\nma n M+ v c\r\nma n MX v\r\nma n D-1\r\nma n Jx\r\nma n MD D1000 v\r\n",
        "ma n C1 v\r\nma n C999 v O5 k\r\nma n q\r\nmg n v\r\nma a\r\nma v q\r\n",
        // One step each: a reply not yet written holds the item, and memcached
        // then replaces it rather than changing it in place (so `T` is lost).
        "ms g 1\r\n9\r\nma g T100 t v c\r\n",
        "mg g t v c\r\n",
        "ma g t T100 v c\r\n",
        "mg g t v c\r\n",
        "ma y t N30 c\r\nma z N0 J5 T100 t\r\nma z N0 J5 T100 t\r\n",
        // Base64 keys: k comes back in base64 with b for keys stored with b.
        "ms YmluYXJ5 2 b\r\nhi\r\nmg YmluYXJ5 b k v c\r\nmg binary k v\r\nme YmluYXJ5 b\r\n",
        "ms YWI= 1 b k O1 c\r\nx\r\nms b64 1 b\r\nx\r\nmd YWI= b k O3\r\nmd YWI= b k\r\n",
        "ma MTA= b N0 J1 k v\r\nma MTA= b k v\r\nmg MTA= b k v\r\n",
        // Debug.
        "ms d 1 T100\r\nx\r\nme d\r\nmg d v\r\nme d\r\nme YQ== b\r\nme nope\r\nme !! b\r\n",
        // Opaque limits.
    ]
    .iter()
    .map(|s| s.as_bytes().to_vec())
    .collect();
    steps.push(
        format!(
            "mg a {long_opaque}\r\nmg zz {long_opaque}\r\nmd zz {long_opaque}\r\nma zz {long_opaque}\r\n"
        )
        .into_bytes(),
    );
    steps.push(format!("ms a 1 {long_opaque}\r\nx\r\nmg a O{}\r\n", "2".repeat(31)).into_bytes());
    steps.push(
        format!("mg {long_key} v\r\nmd {long_key}\r\nma {long_key}\r\nme {long_key}\r\n")
            .into_bytes(),
    );
    steps.push(format!("ms {long_key} 1\r\nx\r\n").into_bytes());
    steps.push(b"mg n s t c f h k l O1 q u v P L C1 F1 M1 J1 D1\r\nmg n s t c f h k l O1 q u v P L C1 F1 M1\r\n".to_vec());
    steps.push(b"md n s t c f h k l O1 q u v P L C1 F1 M1 J1 D1\r\nms n 1 s t c f h k l O1 q u v P L C1 F1 M1 J1\r\nx\r\n".to_vec());
    // Too large: answered even with q, the old value goes whatever the mode.
    let mut step = b"ms old 1\r\no\r\nms old 2000000 q MA\r\n".to_vec();
    step.extend(std::iter::repeat(b'v').take(2_000_000));
    step.extend_from_slice(b"\r\nmg old v\r\n");
    steps.push(step);
    steps.push(b"stats\r\n".to_vec());
    steps
}

/// The counters the mock keeps, from a `stats` reply (the rest differs).
fn counters(reply: &[u8]) -> Vec<u8> {
    const KEPT: &[&str] = &[
        "cmd_get",
        "cmd_set",
        "cmd_touch",
        "cmd_meta",
        "get_hits",
        "get_misses",
        "delete_misses",
        "delete_hits",
        "incr_misses",
        "incr_hits",
        "decr_misses",
        "decr_hits",
        "cas_misses",
        "cas_hits",
        "cas_badval",
        "touch_hits",
        "touch_misses",
        "store_too_large",
        "curr_items",
        "total_items",
    ];
    String::from_utf8_lossy(reply)
        .split("\r\n")
        .filter(|line| {
            let name = line.split(' ').nth(1).unwrap_or("");
            !line.starts_with("STAT ") || KEPT.contains(&name)
        })
        .collect::<Vec<_>>()
        .join("\r\n")
        .into_bytes()
}

/// Runs the meta script against a fresh memcached and a fresh mock.
fn meta_round() -> Result<(), String> {
    let real = start_memcached();
    let mock = MockMemcache::new();
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let mock_port = listener.local_addr().unwrap().port();
    let _server = mock.serve_tcp(listener).unwrap();
    let steps = meta_script();
    let expected = run_script(real.port, &steps);
    let got = run_script(mock_port, &steps);
    let last_stats = steps.len() - 1;
    for (i, (want, have)) in expected.iter().zip(&got).enumerate() {
        let (want, have) = if i == last_stats {
            (counters(want), counters(have))
        } else {
            (want.clone(), have.clone())
        };
        if want != have {
            let step = steps
                .get(i)
                .map_or(&b"quit"[..], |s| &s[..s.len().min(160)]);
            return Err(format!(
                "step {i}: {}\n  memcached: {}\n  mock:      {}",
                step.escape_ascii(),
                want.escape_ascii(),
                have.escape_ascii()
            ));
        }
    }
    Ok(())
}

#[test]
fn mock_answers_meta_commands_like_memcached() {
    // TTLs (`t`, `exp=`) and access times (`la=`) are read from each
    // server's clock: a second may tick between two servers' steps. A
    // mismatch is retried on fresh servers; a real difference repeats.
    let mut failures = Vec::new();
    for _ in 0..3 {
        match meta_round() {
            Ok(()) => return,
            Err(failure) => failures.push(failure),
        }
    }
    panic!("{}", failures.join("\n\n"));
}
