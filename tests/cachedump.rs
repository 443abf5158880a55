//! `stats cachedump` on the mock's TCP server answers byte for byte as a
//! real memcached 1.6.18 started by the test, for the same commands.

mod support;

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::time::{Duration, Instant};

use memclient_mock::MockMemcache;
use support::Memcached;

/// Sends `command` and reads until the reply ends with one of the endings.
fn ask(stream: &mut TcpStream, command: &[u8]) -> String {
    stream.write_all(command).unwrap();
    let mut reply = Vec::new();
    let mut buf = [0; 4096];
    let done = |reply: &[u8]| {
        [
            &b"END\r\n"[..],
            b"STORED\r\n",
            b"ERROR\r\n",
            b"slab id\r\n",
            b"format\r\n",
            b"line\r\n",
        ]
        .iter()
        .any(|end| reply.ends_with(end))
    };
    while !done(&reply) {
        let n = stream.read(&mut buf).unwrap();
        assert!(n > 0, "closed after {:?}", String::from_utf8_lossy(&reply));
        reply.extend_from_slice(&buf[..n]);
    }
    String::from_utf8(reply).unwrap()
}

/// Commands answered at once, the same way every time.
fn immediate() -> Vec<Vec<u8>> {
    ["", "1", "x 1", "1 -1", "64 1", "200 1", "0 1", "1 1", "5 0"]
        .iter()
        .map(|args| format!("stats cachedump {args}").trim_end().to_string() + "\r\n")
        .map(String::into_bytes)
        .collect()
}

fn stores() -> Vec<Vec<u8>> {
    let mut commands = Vec::new();
    for (i, len) in [1usize, 11, 21, 40, 70, 150, 300, 2000].iter().enumerate() {
        let mut set = format!("set key{i} {i} 0 {len}\r\n").into_bytes();
        set.extend(std::iter::repeat(b'v').take(*len));
        set.extend_from_slice(b"\r\n");
        commands.push(set);
    }
    // A store again moves the key to the front.
    commands.push(b"set key0 0 0 2\r\nab\r\n".to_vec());
    commands
}

#[test]
fn the_mock_dumps_as_memcached_does() {
    let real = Memcached::start();
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let mock_address = listener.local_addr().unwrap();
    let _mock = MockMemcache::new().serve_tcp(listener).unwrap();
    let connect = |address: &str| {
        let stream = TcpStream::connect(address).unwrap();
        stream
            .set_read_timeout(Some(Duration::from_secs(5)))
            .unwrap();
        stream
    };
    let (mut real, mut mock) = (connect(&real.address), connect(&mock_address.to_string()));
    let mut compared = 0;
    for command in immediate() {
        let (want, got) = (ask(&mut real, &command), ask(&mut mock, &command));
        assert_eq!(got, want, "{:?}", String::from_utf8_lossy(&command));
        compared += 1;
    }
    for command in stores() {
        assert_eq!(ask(&mut real, &command), ask(&mut mock, &command));
    }
    // memcached's LRU maintainer lists new items within a moment: compare
    // with its dump once it has settled.
    for class in 0..=16 {
        for limit in [0, 1, 2] {
            let command = format!("stats cachedump {class} {limit}\r\n").into_bytes();
            let got = ask(&mut mock, &command);
            let deadline = Instant::now() + Duration::from_secs(5);
            let mut want = ask(&mut real, &command);
            while want != got && Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(50));
                want = ask(&mut real, &command);
            }
            assert_eq!(got, want, "{:?}", String::from_utf8_lossy(&command));
            compared += 1;
        }
    }
    assert_eq!(compared, immediate().len() + 17 * 3);
}
