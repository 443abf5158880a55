//! The proxy itself, checked with a plain socket: each fault does to the
//! bytes what the matrix assumes it does.

use std::io::{ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

use crate::proxy::{Fault, Proxy};
use crate::support::{unique_prefix, Memcached};

/// A proxy in front of the shared server, with `keys` set to their own names.
fn proxy_with(keys: &[&str]) -> (Proxy, String) {
    let proxy = Proxy::start(&Memcached::shared().address);
    let prefix = unique_prefix("proxy");
    let mut socket = connect(&proxy);
    for key in keys {
        let key = format!("{prefix}{key}");
        write!(socket, "set {key} 0 0 {}\r\n{key}\r\n", key.len()).unwrap();
        assert_eq!(read_for(&mut socket, Duration::from_secs(2)), b"STORED\r\n");
    }
    (proxy, prefix)
}

fn connect(proxy: &Proxy) -> TcpStream {
    let address: SocketAddr = proxy.address().parse().unwrap();
    TcpStream::connect_timeout(&address, Duration::from_secs(2)).expect("connect to the proxy")
}

/// The most [`read_for`] keeps: far more than any check needs, and little
/// beside the matrix's memory bound. The check tests run in the same process
/// as the flood cells, whose bound is the growth of the whole process: a
/// check that kept 300 ms of a flood (a few hundred MiB on loopback) was
/// counted against the flood cell that happened to run beside it.
const READ_KEEP: usize = 1 << 20;

/// What arrives within `limit`, at most [`READ_KEEP`] bytes; stops early at
/// the end of the stream, once bytes have come and 100 ms pass without more,
/// or once `READ_KEEP` bytes have come.
fn read_for(socket: &mut TcpStream, limit: Duration) -> Vec<u8> {
    let deadline = Instant::now() + limit;
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    while let Some(left) = deadline.checked_duration_since(Instant::now()) {
        if got.len() >= READ_KEEP {
            break;
        }
        let wait = match got.is_empty() {
            true => left,
            false => left.min(Duration::from_millis(100)),
        };
        socket
            .set_read_timeout(Some(wait.max(Duration::from_millis(1))))
            .unwrap();
        match socket.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => got.extend_from_slice(&buf[..n.min(READ_KEEP - got.len())]),
            Err(err) if matches!(err.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => break,
            Err(_) => break,
        }
    }
    got
}

fn value(key: &str) -> String {
    format!("VALUE {key} 0 {}\r\n{key}\r\nEND\r\n", key.len())
}

#[test]
fn stall_holds_replies_for_good_and_release_delivers_them_late() {
    let (proxy, prefix) = proxy_with(&["a"]);
    let key = format!("{prefix}a");
    let mut stalled = connect(&proxy);
    let mut released = connect(&proxy);
    proxy.set(Fault::Stall);
    write!(stalled, "get {key}\r\n").unwrap();
    assert!(read_for(&mut stalled, Duration::from_millis(300)).is_empty());
    proxy.set(Fault::StallRelease);
    write!(released, "get {key}\r\n").unwrap();
    assert!(read_for(&mut released, Duration::from_millis(300)).is_empty());
    proxy.set(Fault::Pass);
    let late = read_for(&mut released, Duration::from_secs(2));
    assert_eq!(String::from_utf8_lossy(&late), value(&key));
    write!(stalled, "get {key}\r\n").unwrap();
    assert!(
        read_for(&mut stalled, Duration::from_millis(300)).is_empty(),
        "a stalled connection stays stalled"
    );
    let mut fresh = connect(&proxy);
    write!(fresh, "get {key}\r\n").unwrap();
    let answer = read_for(&mut fresh, Duration::from_secs(2));
    assert_eq!(String::from_utf8_lossy(&answer), value(&key));
}

#[test]
fn cut_sends_half_a_reply_then_closes() {
    let (proxy, prefix) = proxy_with(&["a"]);
    let key = format!("{prefix}a");
    let mut socket = connect(&proxy);
    proxy.set(Fault::Cut);
    write!(socket, "get {key}\r\n").unwrap();
    let got = read_for(&mut socket, Duration::from_secs(2));
    let whole = value(&key);
    assert_eq!(got, whole.as_bytes()[..whole.len() / 2]);
}

#[test]
fn drip_sends_one_byte_every_50_ms() {
    let (proxy, prefix) = proxy_with(&["a"]);
    let key = format!("{prefix}a");
    let mut socket = connect(&proxy);
    proxy.set(Fault::Drip);
    write!(socket, "get {key}\r\n").unwrap();
    let got = read_for(&mut socket, Duration::from_millis(500));
    assert!(
        (3..=12).contains(&got.len()),
        "{} bytes in 500 ms",
        got.len()
    );
}

#[test]
fn floods_answer_with_what_they_promise() {
    let (proxy, prefix) = proxy_with(&["a"]);
    let key = format!("{prefix}a");
    for (fault, request, starts) in [
        (
            Fault::HugeLength,
            format!("get {key}\r\n"),
            format!("VALUE {key} 0 1000000000\r\n\0"),
        ),
        (Fault::EndlessLine, "stats\r\n".into(), "aaaaaaaa".into()),
        (
            Fault::ManyLines,
            "stats\r\n".into(),
            "STAT a b\r\nSTAT a b\r\n".into(),
        ),
        (
            Fault::ManyLines,
            format!("mg {key} v\r\n"),
            "EN\r\nEN\r\n".into(),
        ),
        (Fault::Garbage, "version\r\n".into(), "XQZ ".into()),
    ] {
        let mut socket = connect(&proxy);
        proxy.set(fault);
        socket.write_all(request.as_bytes()).unwrap();
        let got = read_for(&mut socket, Duration::from_millis(300));
        assert!(
            got.starts_with(starts.as_bytes()),
            "{fault:?}: {:?}",
            String::from_utf8_lossy(&got[..got.len().min(64)])
        );
        if fault != Fault::Garbage {
            assert!(
                got.len() > 64 * 1024,
                "{fault:?} sent only {} bytes",
                got.len()
            );
        }
        proxy.set(Fault::Pass);
    }
    assert!(proxy.flooded() > 3 * 64 * 1024);
}

#[test]
fn reorder_duplicate_and_drop_hit_exactly_one_reply() {
    let (proxy, prefix) = proxy_with(&["a", "b", "c"]);
    let [a, b, c] = ["a", "b", "c"].map(|k| format!("{prefix}{k}"));
    let expect = |fault: Fault, replies: &[&str]| {
        let mut socket = connect(&proxy);
        proxy.set(fault);
        write!(socket, "get {a}\r\nget {b}\r\nget {c}\r\n").unwrap();
        let got = read_for(&mut socket, Duration::from_millis(500));
        let want: String = replies.iter().map(|key| value(key)).collect();
        assert_eq!(String::from_utf8_lossy(&got), want, "{fault:?}");
        proxy.set(Fault::Pass);
    };
    expect(Fault::Reorder, &[&b, &a, &c]);
    expect(Fault::Duplicate, &[&a, &a, &b, &c]);
    expect(Fault::DropOne, &[&b, &c]);
}

#[test]
fn refuse_resets_silent_never_answers_and_connect_hang_hangs() {
    let (proxy, _) = proxy_with(&[]);
    let address: SocketAddr = proxy.address().parse().unwrap();
    let mut open = connect(&proxy);

    proxy.set(Fault::Refuse);
    assert!(
        read_for(&mut open, Duration::from_millis(300)).is_empty(),
        "open connections are closed"
    );
    // The reset may come before the connect returns, or at the first read.
    if let Ok(mut refused) = TcpStream::connect_timeout(&address, Duration::from_secs(2)) {
        let _ = refused.write_all(b"version\r\n");
        let mut buf = [0u8; 16];
        refused
            .set_read_timeout(Some(Duration::from_secs(2)))
            .unwrap();
        assert!(
            matches!(refused.read(&mut buf), Ok(0) | Err(_)),
            "a refused connection gives nothing"
        );
    }

    proxy.set(Fault::Silent);
    let mut silent = connect(&proxy);
    silent.write_all(b"version\r\n").unwrap();
    assert!(read_for(&mut silent, Duration::from_millis(300)).is_empty());

    proxy.set(Fault::ConnectHang);
    let started = Instant::now();
    let hung = TcpStream::connect_timeout(&address, Duration::from_millis(300));
    assert!(hung.is_err(), "a connect completed while connects hang");
    assert!(started.elapsed() >= Duration::from_millis(250));

    proxy.set(Fault::Pass);
    let mut back = connect(&proxy);
    back.write_all(b"version\r\n").unwrap();
    let answer = read_for(&mut back, Duration::from_secs(2));
    assert!(answer.starts_with(b"VERSION "), "{answer:?}");
}

#[test]
fn stop_reading_backs_up_the_writer() {
    let (proxy, _) = proxy_with(&[]);
    let mut socket = connect(&proxy);
    proxy.set(Fault::StopReading);
    socket.set_nonblocking(true).unwrap();
    let chunk = vec![b'x'; 64 * 1024];
    let mut written = 0usize;
    let started = Instant::now();
    while started.elapsed() < Duration::from_secs(5) {
        match socket.write(&chunk) {
            Ok(n) => written += n,
            Err(err) if err.kind() == ErrorKind::WouldBlock => break,
            Err(err) => panic!("{err}"),
        }
    }
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{written} bytes went through a proxy that stopped reading"
    );
}
