//! TCP and UNIX socket servers: a thread per connection, no runtime needed.

use std::io::{self, Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::os::unix::net::{UnixListener, UnixStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::thread::{self, JoinHandle};
use std::time::Duration;

use bytes::BytesMut;

use crate::conn::ConnHandle;
use crate::session::Session;
use crate::MockMemcache;

/// How often the accept loop looks at its stop flag.
const ACCEPT_POLL: Duration = Duration::from_millis(5);

/// A listening socket the server can accept from.
pub(crate) trait Listener: Send + 'static {
    type Stream: Socket;
    fn accept_one(&self) -> io::Result<Self::Stream>;
    fn set_nonblocking(&self, nonblocking: bool) -> io::Result<()>;
}

/// An accepted connection.
pub(crate) trait Socket: Read + Write + Send + 'static {
    /// Something that shuts the socket down from another thread.
    fn closer(&self) -> io::Result<Box<dyn FnMut() + Send>>;
    fn shutdown_both(&mut self);
    fn set_blocking(&self) -> io::Result<()>;
}

impl Listener for TcpListener {
    type Stream = TcpStream;
    fn accept_one(&self) -> io::Result<TcpStream> {
        self.accept().map(|(stream, _)| stream)
    }
    fn set_nonblocking(&self, nonblocking: bool) -> io::Result<()> {
        TcpListener::set_nonblocking(self, nonblocking)
    }
}

impl Socket for TcpStream {
    fn closer(&self) -> io::Result<Box<dyn FnMut() + Send>> {
        let clone = self.try_clone()?;
        Ok(Box::new(move || {
            let _ = clone.shutdown(Shutdown::Both);
        }))
    }
    fn shutdown_both(&mut self) {
        let _ = self.shutdown(Shutdown::Both);
    }
    fn set_blocking(&self) -> io::Result<()> {
        // Replies are small and pipelined; don't let Nagle hold them back.
        let _ = self.set_nodelay(true);
        self.set_nonblocking(false)
    }
}

impl Listener for UnixListener {
    type Stream = UnixStream;
    fn accept_one(&self) -> io::Result<UnixStream> {
        self.accept().map(|(stream, _)| stream)
    }
    fn set_nonblocking(&self, nonblocking: bool) -> io::Result<()> {
        UnixListener::set_nonblocking(self, nonblocking)
    }
}

impl Socket for UnixStream {
    fn closer(&self) -> io::Result<Box<dyn FnMut() + Send>> {
        let clone = self.try_clone()?;
        Ok(Box::new(move || {
            let _ = clone.shutdown(Shutdown::Both);
        }))
    }
    fn shutdown_both(&mut self) {
        let _ = self.shutdown(Shutdown::Both);
    }
    fn set_blocking(&self) -> io::Result<()> {
        self.set_nonblocking(false)
    }
}

type Conns = Arc<Mutex<Vec<Weak<ConnHandle>>>>;

/// A running server. Dropping it (or calling [`ServerHandle::stop`]) stops
/// accepting and closes the connections it accepted.
#[derive(Debug)]
pub struct ServerHandle {
    stop: Arc<AtomicBool>,
    accept: Option<JoinHandle<()>>,
    conns: Conns,
}

impl ServerHandle {
    /// Stops the server and waits for its accept loop to end.
    pub fn stop(mut self) {
        self.shutdown();
    }

    fn shutdown(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(accept) = self.accept.take() {
            let _ = accept.join();
        }
        let conns: Vec<_> = self
            .conns
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
            .filter_map(Weak::upgrade)
            .collect();
        for conn in conns {
            conn.drop_now();
        }
    }
}

impl Drop for ServerHandle {
    fn drop(&mut self) {
        self.shutdown();
    }
}

/// Starts the accept loop on its own thread.
pub(crate) fn serve<L: Listener>(mock: MockMemcache, listener: L) -> io::Result<ServerHandle> {
    // Non-blocking accept, so that the loop can notice `stop`.
    listener.set_nonblocking(true)?;
    let stop = Arc::new(AtomicBool::new(false));
    let conns: Conns = Arc::default();
    let accept = {
        let stop = stop.clone();
        let conns = conns.clone();
        thread::Builder::new()
            .name("memclient-mock-accept".into())
            .spawn(move || accept_loop(mock, listener, &stop, &conns))?
    };
    Ok(ServerHandle {
        stop,
        accept: Some(accept),
        conns,
    })
}

fn accept_loop<L: Listener>(mock: MockMemcache, listener: L, stop: &AtomicBool, conns: &Conns) {
    while !stop.load(Ordering::SeqCst) {
        match listener.accept_one() {
            Ok(stream) => {
                if let Err(error) = start_connection(&mock, stream, conns) {
                    eprintln!("memclient-mock: cannot start a connection: {error}");
                }
            }
            Err(error) if error.kind() == io::ErrorKind::WouldBlock => thread::sleep(ACCEPT_POLL),
            Err(error) if error.kind() == io::ErrorKind::Interrupted => {}
            Err(_) => thread::sleep(ACCEPT_POLL),
        }
    }
}

fn start_connection<S: Socket>(mock: &MockMemcache, stream: S, conns: &Conns) -> io::Result<()> {
    stream.set_blocking()?;
    let closer = stream.closer()?;
    let handle = mock.shared.registry.register(Some(closer));
    {
        let mut conns = conns.lock().unwrap_or_else(|e| e.into_inner());
        conns.retain(|c| c.strong_count() > 0);
        conns.push(Arc::downgrade(&handle));
    }
    let mock = mock.clone();
    thread::Builder::new()
        .name("memclient-mock-conn".into())
        .spawn(move || connection(mock, stream, handle))?;
    Ok(())
}

/// Serves one connection until EOF, an error, `quit`, or a drop.
fn connection<S: Socket>(mock: MockMemcache, mut stream: S, handle: Arc<ConnHandle>) {
    let mut session = Session::new(&mock);
    // memcached reads up to 16 KiB at a time; the line length rule depends on it.
    let mut buf = vec![0u8; 16 * 1024];
    let mut latency = || {
        let latency = mock.shared.faults.latency();
        if !latency.is_zero() {
            thread::sleep(latency);
        }
    };
    loop {
        let n = match stream.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
        if handle.is_dropped() {
            break;
        }
        let mut out = BytesMut::new();
        let open = session.feed(&mock, &buf[..n], &mut out, &mut latency);
        if !out.is_empty() && stream.write_all(&out).is_err() {
            break;
        }
        if !open || handle.is_dropped() {
            break;
        }
    }
    stream.shutdown_both();
}
