//! The wire under stress: replies that arrive a byte at a time, and servers
//! that break the protocol. Runtime-independent, so run on smol only.
#![cfg(feature = "smol")]

mod support;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use futures_io::{AsyncRead, AsyncWrite};
use memclient::serde::CacheValue;
use memclient::smol::Smol;
use memclient::{Client, Config, Connection, Error};
use support::{unique_prefix, Memcached};

/// A transport that hands over at most one byte per read, and every other
/// read says "not yet": the worst fragmentation a network can produce.
struct Trickle<S> {
    inner: S,
    starve: bool,
}

impl<S: AsyncRead + Unpin> AsyncRead for Trickle<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<std::io::Result<usize>> {
        self.starve = !self.starve;
        if self.starve {
            cx.waker().wake_by_ref();
            return Poll::Pending;
        }
        let one = buf.len().min(1);
        Pin::new(&mut self.inner).poll_read(cx, &mut buf[..one])
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for Trickle<S> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }
    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }
    fn poll_close(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_close(cx)
    }
}

#[test]
fn replies_delivered_one_byte_at_a_time_decode_the_same() {
    let server = Memcached::shared();
    smol::block_on(async {
        let tcp = async_net::TcpStream::connect(server.address.as_str())
            .await
            .unwrap();
        let (connection, driver) = Connection::from_stream(Trickle {
            inner: tcp,
            starve: false,
        });
        smol::spawn(driver).detach();
        let options = memclient::ClientOptions::new().key_prefix(unique_prefix("trickle"));
        let c = Client::with_options(connection, memclient::serde::PyFlags, options).unwrap();
        let tricky = Bytes::from_static(b"END\r\nVALUE k 0 3\r\n\r\n\0");
        c.set("a", tricky.clone()).await.unwrap();
        c.set("b", "text").await.unwrap();
        c.set("n", 7i64).await.unwrap();
        let got = c.get_many(["a", "missing", "b", "n"]).await.unwrap();
        assert_eq!(got[&b"a"[..]], CacheValue::Bytes(tricky));
        assert_eq!(got[&b"b"[..]].as_str(), Some("text"));
        assert_eq!(got[&b"n"[..]], CacheValue::Int(7));
        let (_, cas) = c.gets("b").await.unwrap().unwrap();
        assert!(cas > 0);
        assert_eq!(c.incr("n", 3).await.unwrap(), Some(10));
        assert!(matches!(c.incr("b", 1).await, Err(Error::Client(_))));
        assert!(!c.stats(Vec::<&str>::new()).await.unwrap().is_empty());
        assert!(c.version().await.unwrap().starts_with("1."));
        // Concurrent calls over the trickling stream still pair up.
        let calls = (0..20).map(|i| {
            let c = &c;
            async move {
                c.set(format!("p{i}"), format!("v{i}")).await.unwrap();
                c.get(format!("p{i}")).await.unwrap()
            }
        });
        let values = futures_util::future::join_all(calls).await;
        for (i, value) in values.into_iter().enumerate() {
            assert_eq!(value.unwrap().as_str(), Some(format!("v{i}").as_str()));
        }
    });
}

/// A server that answers every command line with the next scripted reply,
/// counting the connections it accepts.
struct Scripted {
    address: String,
    accepted: Arc<AtomicUsize>,
}

impl Scripted {
    fn start(replies: Vec<&'static [u8]>) -> Scripted {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let address = listener.local_addr().unwrap().to_string();
        let accepted = Arc::new(AtomicUsize::new(0));
        let counter = accepted.clone();
        std::thread::spawn(move || {
            let mut replies = replies.into_iter();
            for socket in listener.incoming() {
                let Ok(socket) = socket else { return };
                counter.fetch_add(1, Ordering::SeqCst);
                serve(socket, &mut replies);
            }
        });
        Scripted { address, accepted }
    }
}

/// Answers command lines until the client hangs up; `set`'s data line is skipped.
fn serve(socket: TcpStream, replies: &mut impl Iterator<Item = &'static [u8]>) {
    let mut writer = socket.try_clone().unwrap();
    let mut reader = BufReader::new(socket);
    let mut line = String::new();
    while reader.read_line(&mut line).map(|n| n > 0).unwrap_or(false) {
        if line.starts_with("set ") {
            let mut data = String::new();
            let _ = reader.read_line(&mut data);
        }
        line.clear();
        match replies.next() {
            Some(reply) => {
                if writer.write_all(reply).is_err() {
                    return;
                }
            }
            // Out of script: hang up.
            None => return,
        }
    }
    let mut rest = Vec::new();
    let _ = reader.read_to_end(&mut rest);
}

fn client(server: &Scripted) -> Client<Connection> {
    smol::block_on(
        Config::new(&server.address)
            .timeout(Duration::from_secs(2))
            .connect(Smol),
    )
    .unwrap()
}

fn protocol_error(result: memclient::Result<impl std::fmt::Debug>) -> String {
    match result {
        Err(Error::Protocol(message)) => message,
        other => panic!("expected a protocol error, got {other:?}"),
    }
}

#[test]
fn a_value_for_another_key_is_a_protocol_error_and_the_connection_is_replaced() {
    let server = Scripted::start(vec![
        b"VALUE other 0 1\r\nx\r\nEND\r\n",
        b"VALUE k 0 2\r\nok\r\nEND\r\n",
    ]);
    let c = client(&server);
    smol::block_on(async {
        let message = protocol_error(c.get("k").await);
        assert!(message.contains("other"), "{message}");
        // The next call runs on a new connection, never on the desynchronised one.
        let value = c.get("k").await.unwrap().unwrap();
        assert_eq!(value.as_bytes(), Some(&b"ok"[..]));
    });
    assert_eq!(server.accepted.load(Ordering::SeqCst), 2);
}

#[test]
fn garbage_replies_are_protocol_errors_quoting_the_bytes() {
    let server = Scripted::start(vec![
        b"HELLO THERE\r\n",
        b"STORED\r\n",
        b"VALUE k 0 abc\r\n",
    ]);
    let c = client(&server);
    smol::block_on(async {
        let message = protocol_error(c.get("k").await);
        assert!(message.contains("HELLO THERE"), "{message}");
        // A well-formed reply of the wrong kind is a violation too.
        protocol_error(c.get("k").await);
        protocol_error(c.get("k").await);
    });
    assert_eq!(server.accepted.load(Ordering::SeqCst), 3);
}

#[test]
fn a_hostile_value_length_is_refused_without_buffering_it() {
    let server = Scripted::start(vec![b"VALUE k 0 99999999999\r\n"]);
    let c = smol::block_on(
        Config::new(&server.address)
            .max_reply_len(1 << 20)
            .timeout(Duration::from_secs(2))
            .connect(Smol),
    )
    .unwrap();
    smol::block_on(async {
        protocol_error(c.get("k").await);
    });
}

#[test]
fn a_server_that_hangs_up_mid_reply_fails_the_call_without_hanging() {
    let server = Scripted::start(vec![b"VALUE k 0 10\r\nonly"]);
    let c = client(&server);
    smol::block_on(async {
        let err = c.get("k").await.unwrap_err();
        assert!(err.is_connection_error(), "{err}");
    });
}

#[test]
fn unsolicited_bytes_close_the_connection() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let address = listener.local_addr().unwrap().to_string();
    let accepted = Arc::new(AtomicUsize::new(0));
    let counter = accepted.clone();
    std::thread::spawn(move || {
        for socket in listener.incoming() {
            let Ok(mut socket) = socket else { return };
            let n = counter.fetch_add(1, Ordering::SeqCst);
            if n == 0 {
                // Speaks before being asked anything.
                let _ = socket.write_all(b"VALUE k 0 1\r\nx\r\nEND\r\n");
            }
            let mut reader = BufReader::new(socket.try_clone().unwrap());
            let mut line = String::new();
            while reader.read_line(&mut line).map(|n| n > 0).unwrap_or(false) {
                line.clear();
                let _ = socket.write_all(b"END\r\n");
            }
        }
    });
    let c = smol::block_on(
        Config::new(&address)
            .timeout(Duration::from_secs(2))
            .connect(Smol),
    )
    .unwrap();
    smol::block_on(async {
        smol::Timer::after(Duration::from_millis(100)).await;
        // The first connection was dropped as soon as the stray reply came; a
        // call on it either fails or runs on a new connection, and never sees
        // the stray value.
        for _ in 0..3 {
            match c.get("k").await {
                Ok(value) => assert_eq!(value, None),
                Err(err) => assert!(err.is_connection_error(), "{err}"),
            }
        }
    });
    assert!(accepted.load(Ordering::SeqCst) >= 2);
}

/// A server that answers the first command line of its first connection
/// with `head` then `pattern` repeated (up to `most` bytes, or until the
/// client hangs up), and every line of later connections with `later`.
/// Counts the flood's bytes written.
struct Flood {
    address: String,
    written: Arc<AtomicUsize>,
    done: std::sync::mpsc::Receiver<()>,
}

impl Flood {
    fn start(
        head: &'static [u8],
        pattern: &'static [u8],
        most: usize,
        later: &'static [u8],
    ) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let address = listener.local_addr().unwrap().to_string();
        let written = Arc::new(AtomicUsize::new(0));
        let counter = written.clone();
        let (done_tx, done) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut first = true;
            for socket in listener.incoming() {
                let Ok(mut socket) = socket else { return };
                let mut reader = BufReader::new(socket.try_clone().unwrap());
                let mut line = String::new();
                if first {
                    first = false;
                    let _ = reader.read_line(&mut line);
                    let chunk: Vec<u8> = pattern.repeat((64 * 1024) / pattern.len());
                    let mut sent = 0;
                    if socket.write_all(head).is_ok() {
                        while sent < most && socket.write_all(&chunk).is_ok() {
                            sent += chunk.len();
                            counter.store(sent, Ordering::SeqCst);
                        }
                    }
                    let _ = done_tx.send(());
                    continue;
                }
                let mut writer = socket;
                std::thread::spawn(move || {
                    while reader.read_line(&mut line).map(|n| n > 0).unwrap_or(false) {
                        line.clear();
                        if writer.write_all(later).is_err() {
                            return;
                        }
                    }
                });
            }
        });
        Flood {
            address,
            written,
            done,
        }
    }

    /// The flood's bytes, once the server stopped sending them.
    fn written(&self) -> usize {
        self.done
            .recv_timeout(Duration::from_secs(60))
            .expect("the flood ends once the client hangs up");
        self.written.load(Ordering::SeqCst)
    }
}

/// A generous timeout: the calls below must end in a protocol error, long
/// before it.
fn flood_client(server: &Flood, config: impl FnOnce(Config) -> Config) -> Client<Connection> {
    smol::block_on(
        config(Config::new(&server.address).timeout(Duration::from_secs(30))).connect(Smol),
    )
    .unwrap()
}

#[test]
fn a_stats_flood_is_refused_at_the_reply_limit_and_the_connection_replaced() {
    // 1 GiB of `STAT a b` if the client kept reading.
    let server = Flood::start(b"", b"STAT a b\r\n", 1 << 30, b"STAT pid 1\r\nEND\r\n");
    let c = flood_client(&server, |c| c);
    smol::block_on(async {
        let message = protocol_error(c.stats(Vec::<&str>::new()).await);
        assert!(message.contains("max_reply_len"), "{message}");
        // The connection was dropped; the next call runs on a new one.
        let stats = c.stats(Vec::<&str>::new()).await.unwrap();
        assert_eq!(stats["pid"].as_int(), Some(1));
    });
    let written = server.written();
    eprintln!("stats flood: the server wrote {written} bytes before the client hung up");
    // The limit (64 MiB) and what the sockets' buffers hold, never the flood.
    assert!(
        written <= memclient::proto::DEFAULT_MAX_REPLY_LEN + (16 << 20),
        "{written}"
    );
}

#[test]
fn a_meta_batch_flooded_with_misses_fails_at_once() {
    // 16 MiB of `EN` for a batch of three `mg`.
    let server = Flood::start(b"", b"EN\r\n", 16 << 20, b"EN\r\nEN\r\nEN\r\nMN\r\n");
    let c = flood_client(&server, |c| c.multi_get(memclient::MultiGet::Meta));
    smol::block_on(async {
        let message = protocol_error(c.get_many(["a", "b", "c"]).await);
        assert!(message.contains("without an opaque token"), "{message}");
    });
    let written = server.written();
    eprintln!("EN flood: the server wrote {written} bytes before the client hung up");
    assert!(written < 16 << 20, "{written}");
}

#[test]
fn a_gigabyte_value_header_is_refused_with_the_default_limit() {
    let server = Flood::start(b"VALUE k 0 1000000000\r\n", b"x", 1 << 30, b"END\r\n");
    let c = flood_client(&server, |c| c);
    smol::block_on(async {
        let message = protocol_error(c.get("k").await);
        assert!(message.contains("max_reply_len"), "{message}");
        assert_eq!(c.get("k").await.unwrap(), None);
    });
    let written = server.written();
    eprintln!("1 GB VALUE: the server wrote {written} bytes before the client hung up");
    assert!(written < 64 << 20, "{written}");
}

/// A stream that counts the bytes written to it and never has a byte to read.
struct CountingStream(Arc<AtomicUsize>);

impl AsyncRead for CountingStream {
    fn poll_read(
        self: Pin<&mut Self>,
        _: &mut Context<'_>,
        _: &mut [u8],
    ) -> Poll<std::io::Result<usize>> {
        Poll::Pending
    }
}

impl AsyncWrite for CountingStream {
    fn poll_write(
        self: Pin<&mut Self>,
        _: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        self.0.fetch_add(buf.len(), Ordering::SeqCst);
        Poll::Ready(Ok(buf.len()))
    }
    fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Poll::Ready(Ok(()))
    }
    fn poll_close(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}

fn illegal<T: std::fmt::Debug>(result: memclient::Result<T>) -> String {
    match result {
        Err(Error::IllegalInput(why)) => why,
        other => panic!("expected IllegalInput, got {other:?}"),
    }
}

#[test]
fn user_tokens_that_would_inject_a_command_never_reach_the_wire() {
    use memclient::{Backend, LruCrawler, MetaCommand, MetaFlag, MetaRequest, RawReply, Request};
    let written = Arc::new(AtomicUsize::new(0));
    let (connection, driver) = Connection::from_stream(CountingStream(written.clone()));
    smol::spawn(driver).detach();
    let c = Client::new(connection);
    let injected = || MetaFlag::with(b'T', "0\r\nflush_all");
    smol::block_on(async {
        // The reproduction: `mg k v f T0` then `flush_all` was sent.
        let why = illegal(c.meta_get("k").flag(injected()).await);
        assert!(why.contains("printable ASCII"), "{why}");
        illegal(c.meta_set("k", "v").flag(injected()).await);
        illegal(c.meta_delete("k").flag(injected()).await);
        illegal(c.meta_arithmetic("k").flag(injected()).await);
        illegal(c.meta_get("k").flag(MetaFlag::bare(b'\n')).await);
        illegal(c.meta_get("k").flag(MetaFlag::with(b'O', "a b")).await);
        illegal(c.meta_get("k").opaque("a\r\nflush_all").await);
        illegal(c.stats(["items\r\nflush_all"]).await);
        illegal(c.stats_lines([""]).await);
        illegal(
            c.lru_crawler(LruCrawler::Metadump(Bytes::from_static(
                b"all\r\nflush_all",
            )))
            .await,
        );
        illegal(
            c.lru_crawler(LruCrawler::Crawl(Bytes::from_static(b"1 2")))
                .await,
        );
        illegal(c.slabs_automove(3).await);
        illegal(c.raw_command("mn\r\nflush_all", None, RawReply::Line).await);
        // Requests built by hand are checked by the connection itself.
        let raw = Request::Meta(MetaRequest {
            command: MetaCommand::Get,
            key: Bytes::from_static(b"k"),
            flags: vec![injected()],
            data: None,
        });
        illegal(c.backend().call(raw.clone()).await);
        let batch = vec![Request::Version, raw];
        for reply in c.backend().call_many(batch).await {
            illegal(reply);
        }
        let key_with_line_end = Request::Delete {
            key: Bytes::from_static(b"k\r\nflush_all"),
            noreply: true,
        };
        illegal(c.backend().call(key_with_line_end).await);
    });
    assert_eq!(written.load(Ordering::SeqCst), 0, "bytes reached the wire");
    // The stream does count what is sent.
    smol::block_on(async { c.set("k", "v").noreply(true).await }).unwrap();
    assert_eq!(
        written.load(Ordering::SeqCst),
        b"set k 16 0 1 noreply\r\nv\r\n".len()
    );
}

#[test]
fn a_bad_key_prefix_fails_before_connecting() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let address = listener.local_addr().unwrap().to_string();
    let result = smol::block_on(
        Config::new(&address)
            .key_prefix("app:\r\nflush_all")
            .connect(Smol),
    );
    illegal(result);
    assert!(listener.accept().is_err(), "a connection was opened");
}

#[test]
fn a_meta_reply_naming_another_key_is_a_protocol_error() {
    let server = Scripted::start(vec![
        b"VA 5 f0 kother\r\nhello\r\n",
        b"VA 2 f0 kk\r\nok\r\n",
    ]);
    let c = client(&server);
    smol::block_on(async {
        let message = protocol_error(c.meta_get("k").return_key().await);
        assert!(message.contains("another key"), "{message}");
        // The next call runs on a new connection and gets its own key.
        let item = c.meta_get("k").return_key().await.unwrap().unwrap();
        assert_eq!(item.key.as_deref(), Some(&b"k"[..]));
        assert_eq!(item.value.unwrap().as_bytes(), Some(&b"ok"[..]));
    });
    assert_eq!(server.accepted.load(Ordering::SeqCst), 2);
}
