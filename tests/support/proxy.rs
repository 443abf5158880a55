//! A fault-injecting TCP proxy in front of a real memcached, for tests.
//!
//! Loopback only, plain threads (it must keep working whatever the runtime
//! under test does). The fault is switched at run time with [`Proxy::set`]:
//! the tests pass traffic, inject a fault, then pass traffic again and check
//! that the client recovers.

#![allow(dead_code)]

#[path = "proxy/frames.rs"]
mod frames;

use std::io::{ErrorKind, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread;
use std::time::{Duration, Instant};

use frames::Framer;
use socket2::{Domain, SockRef, Socket, Type};

/// What the proxy does to the traffic.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Fault {
    /// Forwards everything.
    Pass,
    /// Replies stop for good on every connection that has one to forward
    /// while this is set: the server looks alive but never answers again.
    Stall,
    /// Replies are held back while this is set, and delivered (late) when the
    /// fault is lifted.
    StallRelease,
    /// The next reply of each connection is cut in the middle, then both
    /// sockets are closed.
    Cut,
    /// Every request is answered with a line that is no memcached reply.
    Garbage,
    /// Replies trickle one byte every 50 ms.
    Drip,
    /// A `get` is answered with `VALUE <key> 0 1000000000` and a flood of data.
    HugeLength,
    /// Every request is answered with one line that never ends.
    EndlessLine,
    /// Every request is answered with lines that never end: `STAT a b`, or
    /// `EN` for a meta request.
    ManyLines,
    /// The next reply is held back and sent after the one that follows it.
    Reorder,
    /// The next reply is sent twice.
    Duplicate,
    /// The next reply is never sent.
    DropOne,
    /// Connections are reset as soon as they open (open ones are reset too).
    Refuse,
    /// Connections are accepted, their requests read, and never answered
    /// (open ones are closed first).
    Silent,
    /// Connects hang: the listen backlog is full and nothing is accepted
    /// (open connections are closed first).
    ConnectHang,
    /// The proxy stops reading requests (the client's writes back up).
    StopReading,
}

/// The most a flood sends on one connection: more than any bound a client
/// keeps, small enough not to exhaust a test machine.
pub const FLOOD_LIMIT: u64 = 256 << 20;

/// The listen backlog: small, so that [`Fault::ConnectHang`] can fill it.
const BACKLOG: i32 = 8;
/// How often blocked pumps look at the fault and at shutdown.
const POLL: Duration = Duration::from_millis(20);

/// A running proxy; dropping it closes every connection.
pub struct Proxy {
    address: String,
    shared: Arc<Shared>,
}

struct Shared {
    listen: SocketAddr,
    upstream: SocketAddr,
    state: Mutex<State>,
    changed: Condvar,
    /// Both sockets of every connection, to close them on demand.
    links: Mutex<Vec<(TcpStream, Option<TcpStream>)>>,
    /// Connections of our own that fill the backlog for `ConnectHang`.
    fillers: Mutex<Vec<TcpStream>>,
    /// Bytes written by the flood faults.
    flooded: AtomicU64,
    accepted: AtomicU64,
    /// The accept loop holds a connection it accepted as connects began to hang.
    holding: AtomicBool,
    closed: AtomicBool,
}

struct State {
    fault: Fault,
    /// A one-shot fault (drop, duplicate, reorder) has hit its reply.
    fired: bool,
}

impl Proxy {
    /// A proxy on 127.0.0.1 (free port) in front of `upstream` (`host:port`).
    pub fn start(upstream: &str) -> Proxy {
        let upstream: SocketAddr = upstream.parse().expect("the proxy fronts an IP address");
        let socket = Socket::new(Domain::IPV4, Type::STREAM, None).expect("socket");
        socket.set_reuse_address(true).expect("SO_REUSEADDR");
        let any: SocketAddr = "127.0.0.1:0".parse().unwrap();
        socket.bind(&any.into()).expect("bind the proxy");
        socket.listen(BACKLOG).expect("listen");
        let listener: TcpListener = socket.into();
        let listen = listener.local_addr().expect("proxy address");
        let shared = Arc::new(Shared {
            listen,
            upstream,
            state: Mutex::new(State {
                fault: Fault::Pass,
                fired: false,
            }),
            changed: Condvar::new(),
            links: Mutex::new(Vec::new()),
            fillers: Mutex::new(Vec::new()),
            flooded: AtomicU64::new(0),
            accepted: AtomicU64::new(0),
            holding: AtomicBool::new(false),
            closed: AtomicBool::new(false),
        });
        let accepting = shared.clone();
        thread::spawn(move || accept_loop(listener, accepting));
        Proxy {
            address: listen.to_string(),
            shared,
        }
    }

    /// The address clients connect to.
    pub fn address(&self) -> &str {
        &self.address
    }

    /// The fault now in force.
    pub fn fault(&self) -> Fault {
        self.shared.state().fault
    }

    /// Switches to `fault`; takes effect at once, on open connections too.
    pub fn set(&self, fault: Fault) {
        let previous = {
            let mut state = self.shared.state();
            let previous = state.fault;
            state.fault = fault;
            state.fired = false;
            previous
        };
        self.shared.changed.notify_all();
        if matches!(fault, Fault::Refuse | Fault::Silent | Fault::ConnectHang) {
            self.shared.close_all();
        }
        if fault == Fault::ConnectHang && previous != Fault::ConnectHang {
            self.fill_backlog();
        }
        if previous == Fault::ConnectHang && fault != Fault::ConnectHang {
            // The accept loop drains the fillers; give it the time to, so
            // that a client's connect is not dropped by a full backlog.
            self.shared.fillers().clear();
            thread::sleep(Duration::from_millis(100));
        }
    }

    /// Bytes sent so far by the flood faults.
    pub fn flooded(&self) -> u64 {
        self.shared.flooded.load(Ordering::Relaxed)
    }

    /// Connections accepted so far.
    pub fn accepted(&self) -> u64 {
        self.shared.accepted.load(Ordering::Relaxed)
    }

    /// Connects until the backlog is full: the kernel queues `BACKLOG + 1`
    /// connections, and the accept loop may hold one more. A connect that
    /// does not complete before that was only slow (a busy machine).
    fn fill_backlog(&self) {
        let full = BACKLOG as usize + 1;
        for _ in 0..(BACKLOG as usize * 8 + 16) {
            match TcpStream::connect_timeout(&self.shared.listen, Duration::from_millis(100)) {
                Ok(filler) => self.shared.fillers().push(filler),
                Err(_) => {
                    let held = usize::from(self.shared.holding.load(Ordering::Relaxed));
                    if self.shared.fillers().len() >= full + held {
                        return;
                    }
                }
            }
        }
        panic!("the proxy backlog did not fill up: connects cannot be made to hang");
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.shared.closed.store(true, Ordering::Relaxed);
        self.shared.changed.notify_all();
        self.shared.close_all();
        self.shared.fillers().clear();
        // Wakes the accept loop so that it sees `closed`.
        let _ = TcpStream::connect_timeout(&self.shared.listen, Duration::from_millis(100));
    }
}

impl Shared {
    fn state(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn fillers(&self) -> MutexGuard<'_, Vec<TcpStream>> {
        self.fillers.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn fault(&self) -> Fault {
        self.state().fault
    }

    fn closed(&self) -> bool {
        self.closed.load(Ordering::Relaxed)
    }

    /// True once per fault setting: the reply a one-shot fault hits.
    fn take_shot(&self) -> bool {
        let mut state = self.state();
        !std::mem::replace(&mut state.fired, true)
    }

    /// Waits until the fault changes (or `limit` passes).
    fn wait_change(&self, limit: Duration) {
        let state = self.state();
        let fault = state.fault;
        let _ = self
            .changed
            .wait_timeout_while(state, limit, |s| s.fault == fault && !self.closed());
    }

    fn close_all(&self) {
        let links = std::mem::take(&mut *self.links.lock().unwrap_or_else(|p| p.into_inner()));
        for (client, upstream) in links {
            let _ = client.shutdown(Shutdown::Both);
            if let Some(upstream) = upstream {
                let _ = upstream.shutdown(Shutdown::Both);
            }
        }
    }

    fn register(&self, client: &TcpStream, upstream: Option<&TcpStream>) {
        if let (Ok(client), Some(Ok(upstream))) =
            (client.try_clone(), upstream.map(TcpStream::try_clone))
        {
            self.links.lock().unwrap().push((client, Some(upstream)));
        } else if let Ok(client) = client.try_clone() {
            self.links.lock().unwrap().push((client, None));
        }
    }
}

fn accept_loop(listener: TcpListener, shared: Arc<Shared>) {
    for stream in listener.incoming() {
        if shared.closed() {
            return;
        }
        let Ok(client) = stream else { continue };
        // While connects hang, nothing more is accepted: the backlog stays full.
        while shared.fault() == Fault::ConnectHang && !shared.closed() {
            shared.holding.store(true, Ordering::Relaxed);
            shared.wait_change(Duration::from_secs(1));
        }
        shared.holding.store(false, Ordering::Relaxed);
        if shared.closed() {
            return;
        }
        shared.accepted.fetch_add(1, Ordering::Relaxed);
        let shared = shared.clone();
        thread::spawn(move || serve(client, shared));
    }
}

fn serve(client: TcpStream, shared: Arc<Shared>) {
    let _ = client.set_nodelay(true);
    match shared.fault() {
        Fault::Refuse => {
            // A reset, as from a server that is gone.
            let _ = SockRef::from(&client).set_linger(Some(Duration::ZERO));
        }
        Fault::Silent => {
            shared.register(&client, None);
            swallow(client, &shared);
        }
        _ => {
            let Ok(upstream) = TcpStream::connect_timeout(&shared.upstream, Duration::from_secs(2))
            else {
                return;
            };
            let _ = upstream.set_nodelay(true);
            shared.register(&client, Some(&upstream));
            let (Ok(client2), Ok(upstream2)) = (client.try_clone(), upstream.try_clone()) else {
                return;
            };
            let down = shared.clone();
            thread::spawn(move || replies(upstream2, client2, down));
            requests(client, upstream, &shared);
        }
    }
}

/// Reads and drops whatever the client sends, answering nothing.
fn swallow(mut client: TcpStream, shared: &Shared) {
    let _ = client.set_read_timeout(Some(POLL));
    let mut buf = [0u8; 16 * 1024];
    while !shared.closed() {
        match client.read(&mut buf) {
            Ok(0) => return,
            Ok(_) => {}
            Err(err) if is_timeout(&err) => {}
            Err(_) => return,
        }
    }
}

/// Client to server: forwards requests, or answers them with a hostile reply.
fn requests(mut client: TcpStream, mut upstream: TcpStream, shared: &Shared) {
    let _ = client.set_read_timeout(Some(POLL));
    let _ = client.set_write_timeout(Some(POLL));
    let mut buf = vec![0u8; 64 * 1024];
    let mut flooded = 0u64;
    while !shared.closed() {
        if shared.fault() == Fault::StopReading {
            shared.wait_change(Duration::from_millis(100));
            continue;
        }
        let n = match client.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(err) if is_timeout(&err) => continue,
            Err(_) => break,
        };
        let request = &buf[..n];
        let sent = match shared.fault() {
            Fault::Garbage => write_fully(&mut client, b"XQZ \x00\xff not a reply\r\n", shared),
            Fault::HugeLength => match first_get_key(request) {
                Some(key) => {
                    let header = format!("VALUE {key} 0 1000000000\r\n");
                    write_fully(&mut client, header.as_bytes(), shared)
                        && flood(&mut client, &[0u8; 4096], &mut flooded, shared)
                }
                None => write_fully(&mut upstream, request, shared),
            },
            Fault::EndlessLine => flood(&mut client, &[b'a'; 4096], &mut flooded, shared),
            Fault::ManyLines => {
                // Lines a reply in progress must keep: `stats` lines, or the
                // misses of a meta batch, which end only at `MN`.
                let line: &[u8] = if request.starts_with(b"mg ") {
                    b"EN\r\n"
                } else {
                    b"STAT a b\r\n"
                };
                flood(&mut client, &line.repeat(400), &mut flooded, shared)
            }
            _ => write_fully(&mut upstream, request, shared),
        };
        if !sent {
            break;
        }
    }
    let _ = client.shutdown(Shutdown::Both);
    let _ = upstream.shutdown(Shutdown::Both);
}

/// Server to client: forwards replies, applying the fault reply by reply.
fn replies(mut upstream: TcpStream, mut client: TcpStream, shared: Arc<Shared>) {
    let _ = upstream.set_read_timeout(Some(POLL));
    let _ = client.set_write_timeout(Some(POLL));
    let mut framer = Framer::default();
    let mut held: Vec<Vec<u8>> = Vec::new();
    let mut reordered: Option<Vec<u8>> = None;
    let mut wedged = false;
    let mut buf = vec![0u8; 64 * 1024];
    while !shared.closed() {
        match upstream.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => framer.push(&buf[..n]),
            Err(err) if is_timeout(&err) => {}
            Err(_) => break,
        }
        let fault = shared.fault();
        if fault != Fault::StallRelease && !held.is_empty() {
            let late: Vec<u8> = held.drain(..).flatten().collect();
            if !write_fully(&mut client, &late, &shared) {
                break;
            }
        }
        if fault != Fault::Reorder {
            if let Some(first) = reordered.take() {
                if !write_fully(&mut client, &first, &shared) {
                    break;
                }
            }
        }
        let mut open = true;
        while let Some(reply) = framer.next_reply() {
            let fault = shared.fault();
            if wedged || fault == Fault::Stall {
                wedged = true;
                continue;
            }
            open = match fault {
                Fault::StallRelease => {
                    held.push(reply);
                    true
                }
                Fault::Cut => {
                    let _ = write_fully(&mut client, &reply[..reply.len() / 2], &shared);
                    false
                }
                Fault::Drip => drip(&mut client, &reply, &shared),
                Fault::Reorder => match reordered.take() {
                    Some(first) => {
                        write_fully(&mut client, &reply, &shared)
                            && write_fully(&mut client, &first, &shared)
                    }
                    None if shared.take_shot() => {
                        reordered = Some(reply);
                        true
                    }
                    None => write_fully(&mut client, &reply, &shared),
                },
                Fault::Duplicate if shared.take_shot() => {
                    write_fully(&mut client, &reply, &shared)
                        && write_fully(&mut client, &reply, &shared)
                }
                Fault::DropOne if shared.take_shot() => true,
                _ => write_fully(&mut client, &reply, &shared),
            };
            if !open {
                break;
            }
        }
        if !open {
            break;
        }
    }
    let _ = framer.take_all();
    let _ = client.shutdown(Shutdown::Both);
    let _ = upstream.shutdown(Shutdown::Both);
}

/// One byte every 50 ms, for as long as the fault lasts.
fn drip(client: &mut TcpStream, reply: &[u8], shared: &Shared) -> bool {
    for (i, byte) in reply.iter().enumerate() {
        if shared.fault() != Fault::Drip {
            return write_fully(client, &reply[i..], shared);
        }
        if !write_fully(client, std::slice::from_ref(byte), shared) {
            return false;
        }
        thread::sleep(Duration::from_millis(50));
        if shared.closed() {
            return false;
        }
    }
    true
}

/// Writes `chunk` again and again, up to [`FLOOD_LIMIT`] bytes for this
/// connection, while the fault lasts and the client reads. False when the
/// connection is to be closed.
fn flood(client: &mut TcpStream, chunk: &[u8], flooded: &mut u64, shared: &Shared) -> bool {
    let fault = shared.fault();
    while *flooded < FLOOD_LIMIT && shared.fault() == fault {
        if !write_fully(client, chunk, shared) {
            return false;
        }
        *flooded += chunk.len() as u64;
        shared
            .flooded
            .fetch_add(chunk.len() as u64, Ordering::Relaxed);
    }
    true
}

/// Writes all of `bytes`, retrying on the poll timeout. False on a closed
/// socket or proxy.
fn write_fully(to: &mut TcpStream, mut bytes: &[u8], shared: &Shared) -> bool {
    let started = Instant::now();
    while !bytes.is_empty() {
        if shared.closed() {
            return false;
        }
        match to.write(bytes) {
            Ok(0) => return false,
            Ok(n) => bytes = &bytes[n..],
            Err(err) if is_timeout(&err) => {
                // A peer that stops reading for a minute is gone.
                if started.elapsed() > Duration::from_secs(60) {
                    return false;
                }
            }
            Err(_) => return false,
        }
    }
    true
}

/// The first key of a `get`/`gets` in a chunk of requests.
fn first_get_key(request: &[u8]) -> Option<String> {
    let line = request.split(|&b| b == b'\n').next()?;
    let line = std::str::from_utf8(line).ok()?.trim_end();
    let mut words = line.split(' ');
    match words.next()? {
        "get" | "gets" => words.next().map(str::to_string),
        _ => None,
    }
}

fn is_timeout(err: &std::io::Error) -> bool {
    matches!(err.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut)
}
