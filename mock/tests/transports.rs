//! The stream, TCP, UNIX socket and binary ways into the mock.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::os::unix::net::{UnixListener, UnixStream};
use std::process::{Command, Stdio};
use std::time::Duration;

use futures_lite::future::block_on;
use futures_lite::{AsyncReadExt, AsyncWriteExt};
use memclient::Error;
use memclient_mock::MockMemcache;

/// Reads until `buf` ends with `end`.
fn read_until<R: Read>(reader: &mut R, end: &[u8]) -> Vec<u8> {
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    while !got.ends_with(end) {
        let n = reader.read(&mut buf).expect("read");
        assert!(n > 0, "EOF after {:?}", String::from_utf8_lossy(&got));
        got.extend_from_slice(&buf[..n]);
    }
    got
}

#[test]
fn in_memory_stream() {
    let mock = MockMemcache::new();
    let mut stream = mock.connect();
    block_on(async {
        // A command split across writes, pipelined with the next.
        stream.write_all(b"set a 3 0 5\r\nhel").await.unwrap();
        stream.write_all(b"lo\r\nget a\r\n").await.unwrap();
        let mut got = Vec::new();
        let mut buf = [0u8; 64];
        while !got.ends_with(b"END\r\n") {
            let n = stream.read(&mut buf).await.unwrap();
            got.extend_from_slice(&buf[..n]);
        }
        assert_eq!(got, b"STORED\r\nVALUE a 3 5\r\nhello\r\nEND\r\n");
        stream.write_all(b"version\r\nquit\r\n").await.unwrap();
        let mut rest = Vec::new();
        stream.read_to_end(&mut rest).await.unwrap();
        assert_eq!(rest, b"VERSION 1.6.18\r\n");
    });
    assert_eq!(mock.get_raw(b"a"), Some(("hello".into(), 3)));
}

#[test]
fn stream_sees_eof_when_dropped_and_latency() {
    let mock = MockMemcache::new();
    let mut stream = mock.connect();
    let dropper = mock.clone();
    let handle = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(50));
        dropper.drop_connections();
    });
    block_on(async {
        let mut buf = [0u8; 16];
        // Blocks until the drop wakes it.
        assert_eq!(stream.read(&mut buf).await.unwrap(), 0);
    });
    handle.join().unwrap();

    mock.set_latency(Duration::from_millis(40));
    let mut stream = mock.connect();
    let start = std::time::Instant::now();
    block_on(async {
        stream.write_all(b"version\r\n").await.unwrap();
        let mut buf = [0u8; 64];
        let n = stream.read(&mut buf).await.unwrap();
        assert_eq!(&buf[..n], b"VERSION 1.6.18\r\n");
    });
    assert!(start.elapsed() >= Duration::from_millis(40));
}

#[test]
fn a_connection_over_a_dropped_stream_answers_connection_closed() {
    use memclient::{Client, Connection};
    for wait_for_eof in [false, true] {
        let mock = MockMemcache::new();
        let (connection, driver) = Connection::from_stream(mock.connect());
        let client = Client::new(connection);
        let calls = async {
            client.set("k", "v").await.unwrap();
            mock.drop_connections();
            if wait_for_eof {
                async_io::Timer::after(Duration::from_millis(20)).await;
            }
            // Right after the drop (the request is written to the dead
            // stream) and once the driver has seen EOF: the same answer.
            assert_eq!(client.get("k").await, Err(Error::ConnectionClosed));
            assert_eq!(client.get("k").await, Err(Error::ConnectionClosed));
        };
        block_on(futures_lite::future::or(calls, async {
            driver.await;
            // The driver ends at EOF; the calls must still finish.
            std::future::pending().await
        }));
    }
}

#[test]
fn writes_after_quit_are_discarded_and_reads_see_eof() {
    let mock = MockMemcache::new();
    let mut stream = mock.connect();
    block_on(async {
        stream.write_all(b"quit\r\n").await.unwrap();
        stream.write_all(b"version\r\n").await.unwrap();
        let mut rest = Vec::new();
        stream.read_to_end(&mut rest).await.unwrap();
        assert_eq!(rest, b"");
    });
}

#[test]
fn stream_faults() {
    let mock = MockMemcache::new();
    let mut stream = mock.connect();
    mock.fail_next(1, Error::Server("busy".into()));
    block_on(async {
        stream.write_all(b"version\r\nversion\r\n").await.unwrap();
        let mut buf = [0u8; 128];
        let mut got = Vec::new();
        while !got.ends_with(b"1.6.18\r\n") {
            let n = stream.read(&mut buf).await.unwrap();
            got.extend_from_slice(&buf[..n]);
        }
        assert_eq!(got, b"SERVER_ERROR busy\r\nVERSION 1.6.18\r\n");
        mock.fail_next(1, Error::ConnectionClosed);
        stream.write_all(b"version\r\n").await.unwrap();
        assert_eq!(stream.read(&mut buf).await.unwrap(), 0);
    });
}

#[test]
fn tcp_server_many_connections() {
    let mock = MockMemcache::new();
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let server = mock.serve_tcp(listener).unwrap();
    let threads: Vec<_> = (0..8)
        .map(|i| {
            std::thread::spawn(move || {
                let mut conn = TcpStream::connect(addr).unwrap();
                let mut script = Vec::new();
                for j in 0..50 {
                    script.extend_from_slice(format!("set k{i}-{j} 0 0 1\r\nx\r\n").as_bytes());
                }
                script.extend_from_slice(format!("get k{i}-49\r\n").as_bytes());
                conn.write_all(&script).unwrap();
                let got = read_until(&mut conn, b"END\r\n");
                assert!(got.ends_with(format!("VALUE k{i}-49 0 1\r\nx\r\nEND\r\n").as_bytes()));
                assert_eq!(got.windows(8).filter(|w| w == b"STORED\r\n").count(), 50);
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    assert_eq!(mock.len(), 400);

    // Dropping connections: the client sees EOF.
    let mut conn = TcpStream::connect(addr).unwrap();
    conn.write_all(b"version\r\n").unwrap();
    read_until(&mut conn, b"\r\n");
    mock.drop_connections();
    let mut buf = [0u8; 16];
    conn.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    assert_eq!(conn.read(&mut buf).unwrap(), 0);

    // Stopping the server closes its connections too.
    let mut conn = TcpStream::connect(addr).unwrap();
    conn.write_all(b"version\r\n").unwrap();
    read_until(&mut conn, b"\r\n");
    server.stop();
    conn.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    assert_eq!(conn.read(&mut buf).unwrap_or(0), 0);
}

#[test]
fn unix_server() {
    let path = std::env::temp_dir().join(format!("memclient-mock-{}.sock", std::process::id()));
    let _ = std::fs::remove_file(&path);
    let mock = MockMemcache::new();
    let _server = mock.serve_unix(UnixListener::bind(&path).unwrap()).unwrap();
    let mut conn = UnixStream::connect(&path).unwrap();
    conn.write_all(b"set u 0 0 2\r\nhi\r\nget u\r\n").unwrap();
    let got = read_until(&mut conn, b"END\r\n");
    assert_eq!(got, b"STORED\r\nVALUE u 0 2\r\nhi\r\nEND\r\n");
    let _ = std::fs::remove_file(&path);
}

#[test]
fn binary_prints_its_address() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_memclient-mock"))
        .args([
            "--listen",
            "127.0.0.1:0",
            "--memory-limit",
            "16",
            "--max-item-size",
            "2048",
        ])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let addr = line
        .trim()
        .strip_prefix("listening on ")
        .expect("address line")
        .to_string();
    let mut conn = TcpStream::connect(&addr).unwrap();
    let mut script = format!("set big 0 0 2000\r\n{}\r\n", "x".repeat(2000)).into_bytes();
    script.extend_from_slice(b"stats settings\r\n");
    conn.write_all(&script).unwrap();
    let got = String::from_utf8(read_until(&mut conn, b"END\r\n")).unwrap();
    assert!(
        got.starts_with("SERVER_ERROR object too large for cache\r\n"),
        "{got}"
    );
    assert!(got.contains("STAT maxbytes 16777216\r\n"), "{got}");
    assert!(got.contains("STAT item_size_max 2048\r\n"), "{got}");
    let _ = child.kill();
    let _ = child.wait();
}

#[test]
fn garbage_never_panics() {
    // A small LCG: deterministic noise biased towards protocol bytes.
    let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut next = move || {
        seed = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (seed >> 33) as u32
    };
    let alphabet: &[&[u8]] = &[
        b"set ",
        b"get ",
        b"gets ",
        b"gat ",
        b"incr ",
        b"decr ",
        b"cas ",
        b"append ",
        b"touch ",
        b"delete ",
        b"flush_all ",
        b"stats ",
        b"lru_crawler ",
        b"metadump ",
        b"slabs ",
        b"a ",
        b"0 ",
        b"1 ",
        b"-1 ",
        b"99999999999999999999 ",
        b"noreply",
        b"\r\n",
        b"\n",
        b"\0",
        b" ",
        b"4294967297 ",
        b"2147483648 ",
    ];
    let mock = MockMemcache::with_manual_clock();
    for _ in 0..200 {
        let mut stream = mock.connect();
        let mut input = Vec::new();
        for _ in 0..(next() % 60) {
            if next() % 5 == 0 {
                input.push(next() as u8);
            } else {
                input.extend_from_slice(alphabet[next() as usize % alphabet.len()]);
            }
        }
        block_on(async {
            for chunk in input.chunks(1 + next() as usize % 7) {
                if stream.write_all(chunk).await.is_err() {
                    break;
                }
            }
        });
        mock.advance(Duration::from_secs(u64::from(next() % 3)));
    }
}
