//! Every way to reach a server: IPv4, IPv6, UNIX sockets, host names; and
//! the connection's behaviour when the server goes away and comes back.

use std::time::Duration;

use memclient::{Config, Error};

use crate::rt;
use crate::support::{Listen, Memcached};

fn round_trip(address: &str) {
    rt::block_on(async {
        let client = rt::connect(Config::new(address))
            .await
            .unwrap_or_else(|e| panic!("{address}: {e}"));
        assert!(client.set("transport", "works").await.unwrap());
        let value = client.get("transport").await.unwrap().unwrap();
        assert_eq!(value.as_str(), Some("works"));
        assert!(client.version().await.unwrap().starts_with("1."));
    });
}

#[test]
fn tcp_over_ipv4() {
    round_trip(&Memcached::shared().address);
}

#[test]
fn tcp_over_ipv6() {
    let server = Memcached::start_with(Listen::Ipv6, &[]);
    assert!(server.address.starts_with("[::1]:"));
    round_trip(&server.address);
}

#[test]
fn host_names_are_resolved() {
    let server = Memcached::shared();
    round_trip(&format!("localhost:{}", server.port));
}

#[test]
fn unix_sockets_with_and_without_the_scheme() {
    let server = Memcached::start_with(Listen::Unix, &[]);
    round_trip(&server.address);
    let path = server.socket_path().unwrap();
    round_trip(&path.display().to_string());
}

#[test]
fn connect_failures_are_reported() {
    rt::block_on(async {
        // A port nobody listens on: bind one, note it, release it.
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        match rt::connect(Config::new(format!("127.0.0.1:{port}"))).await {
            Err(Error::Io(_)) => {}
            other => panic!("connect to a closed port: {:?}", other.map(|_| ())),
        }
        match rt::connect(Config::new("unix:/nonexistent/memclient.sock")).await {
            Err(Error::Io(_)) => {}
            other => panic!("connect to a missing socket: {:?}", other.map(|_| ())),
        }
        match rt::connect(Config::new("127.0.0.1:notaport")).await {
            Err(Error::IllegalInput(_)) => {}
            other => panic!("bad address: {:?}", other.map(|_| ())),
        }
        match rt::connect(Config::new("127.0.0.1:1").key_prefix("bad prefix")).await {
            Err(Error::IllegalInput(_)) | Err(Error::Io(_)) => {}
            other => panic!("bad prefix: {:?}", other.map(|_| ())),
        }
    });
}

#[test]
fn connect_timeout_applies() {
    // A listener with a full backlog drops new SYNs, so a connect to it hangs.
    let listener =
        socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None).unwrap();
    listener
        .bind(
            &"127.0.0.1:0"
                .parse::<std::net::SocketAddr>()
                .unwrap()
                .into(),
        )
        .unwrap();
    listener.listen(0).unwrap();
    let address = listener.local_addr().unwrap().as_socket().unwrap();
    let mut fillers = Vec::new();
    for _ in 0..4 {
        let filler =
            socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None).unwrap();
        filler.set_nonblocking(true).unwrap();
        let _ = filler.connect(&address.into());
        fillers.push(filler);
    }
    std::thread::sleep(Duration::from_millis(100));
    rt::block_on(async {
        let started = std::time::Instant::now();
        let result = rt::connect(
            Config::new(address.to_string()).connect_timeout(Duration::from_millis(300)),
        )
        .await;
        match result {
            Err(Error::Timeout(limit)) => assert_eq!(limit, Duration::from_millis(300)),
            other => panic!("connect to a full backlog: {:?}", other.map(|_| ())),
        }
        assert!(started.elapsed() < Duration::from_secs(2));
    });
}

#[test]
fn call_timeout_applies_when_the_server_never_answers() {
    // Accepts, then reads and never writes.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let address = listener.local_addr().unwrap();
    let silent = std::thread::spawn(move || {
        let (mut socket, _) = listener.accept().unwrap();
        let mut sink = [0u8; 1024];
        while std::io::Read::read(&mut socket, &mut sink)
            .map(|n| n > 0)
            .unwrap_or(false)
        {}
    });
    rt::block_on(async {
        let client =
            rt::connect(Config::new(address.to_string()).timeout(Duration::from_millis(200)))
                .await
                .unwrap();
        let started = std::time::Instant::now();
        match client.get("k").await {
            Err(Error::Timeout(limit)) => assert_eq!(limit, Duration::from_millis(200)),
            other => panic!("call to a silent server: {other:?}"),
        }
        assert!(started.elapsed() < Duration::from_secs(2));
        drop(client);
    });
    silent.join().unwrap();
}

#[test]
fn the_next_call_reconnects_after_the_server_restarts() {
    let server = Memcached::start();
    let port = server.port;
    rt::block_on(async {
        let client = rt::connect(Config::new(&server.address).timeout(Duration::from_secs(2)))
            .await
            .unwrap();
        client.set("k", "v").await.unwrap();
        drop(server);
        // The server is gone: calls fail, none hangs.
        let err = client.get("k").await.unwrap_err();
        assert!(err.is_connection_error(), "{err}");
        let err = client.get("k").await.unwrap_err();
        assert!(err.is_connection_error(), "{err}");
        // Back on the same port, empty: the same client reconnects.
        let _restarted = Memcached::start_on(port);
        assert_eq!(client.get("k").await.unwrap(), None);
        assert!(client.set("k", "again").await.unwrap());
    });
}
