//! Small hostile servers: a minimal memcached (get, set, incr, version) in a
//! thread per connection that a script makes stall, lose a reply, or stop
//! reading; and a listener whose accept backlog is full.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// What the server does with one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Act {
    /// Answer it.
    Answer,
    /// Carry it out but lose its reply; answer the next ones.
    Drop,
    /// Never answer it nor anything after it on this connection (still reading).
    Stall,
    /// Stop reading this connection, for good.
    Deaf,
    /// Answer it after 100 ms.
    Late,
}

/// Decides, per connection (numbered from 0 in accept order) and request
/// on it (from 0), what the server does.
pub type Script = dyn Fn(usize, usize) -> Act + Send + Sync;

/// A hostile server on 127.0.0.1.
pub struct Hostile {
    /// `127.0.0.1:port`.
    pub address: String,
    accepted: Arc<AtomicUsize>,
    received: Arc<AtomicUsize>,
}

impl Hostile {
    /// A server that follows `script`.
    pub fn start(script: impl Fn(usize, usize) -> Act + Send + Sync + 'static) -> Hostile {
        Hostile::serve_on(TcpListener::bind("127.0.0.1:0").expect("bind"), script)
    }

    /// Accepts and never reads, with a small receive buffer, so little of
    /// what the client writes fits in the kernel.
    pub fn deaf() -> Hostile {
        use socket2::{Domain, Socket, Type};
        let socket = Socket::new(Domain::IPV4, Type::STREAM, None).expect("socket");
        socket.set_recv_buffer_size(16 * 1024).expect("SO_RCVBUF");
        let any: SocketAddr = "127.0.0.1:0".parse().unwrap();
        socket.bind(&any.into()).expect("bind");
        socket.listen(128).expect("listen");
        Hostile::serve_on(socket.into(), |_, _| Act::Deaf)
    }

    fn serve_on(
        listener: TcpListener,
        script: impl Fn(usize, usize) -> Act + Send + Sync + 'static,
    ) -> Hostile {
        let address = listener.local_addr().unwrap().to_string();
        let accepted = Arc::new(AtomicUsize::new(0));
        let received = Arc::new(AtomicUsize::new(0));
        let script: Arc<Script> = Arc::new(script);
        let store = Arc::new(Mutex::new(HashMap::new()));
        let (counter, requests) = (accepted.clone(), received.clone());
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let number = counter.fetch_add(1, Ordering::SeqCst);
                let (script, store) = (script.clone(), store.clone());
                let requests = requests.clone();
                std::thread::spawn(move || serve(stream, number, &*script, &store, &requests));
            }
        });
        Hostile {
            address,
            accepted,
            received,
        }
    }

    /// Accepts, reads, never answers.
    pub fn silent() -> Hostile {
        Hostile::start(|_, _| Act::Stall)
    }

    /// Requests received so far, on every connection.
    pub fn requests(&self) -> usize {
        self.received.load(Ordering::SeqCst)
    }

    /// Connections accepted so far.
    pub fn connections(&self) -> usize {
        self.accepted.load(Ordering::SeqCst)
    }
}

fn serve(
    stream: TcpStream,
    number: usize,
    script: &Script,
    store: &Mutex<HashMap<Vec<u8>, Vec<u8>>>,
    received: &AtomicUsize,
) {
    let mut out = stream.try_clone().expect("clone");
    let mut input = BufReader::new(stream);
    let mut stalled = false;
    for request in 0.. {
        let act = script(number, request);
        if act == Act::Deaf {
            // Hold the socket open, unread, until the peer goes away.
            let _keep = input;
            std::thread::sleep(Duration::from_secs(3600));
            return;
        }
        let mut line = Vec::new();
        if input.read_until(b'\n', &mut line).unwrap_or(0) == 0 {
            return;
        }
        received.fetch_add(1, Ordering::SeqCst);
        let words: Vec<Vec<u8>> = line
            .trim_ascii()
            .split(|b| *b == b' ')
            .map(<[u8]>::to_vec)
            .collect();
        let reply = answer(&words, &mut input, store);
        stalled |= act == Act::Stall;
        if stalled || act == Act::Drop {
            continue;
        }
        if act == Act::Late {
            std::thread::sleep(Duration::from_millis(100));
        }
        if out.write_all(&reply).is_err() {
            return;
        }
    }
}

fn answer(
    words: &[Vec<u8>],
    input: &mut impl Read,
    store: &Mutex<HashMap<Vec<u8>, Vec<u8>>>,
) -> Vec<u8> {
    let mut store = store.lock().unwrap();
    let number = |word: &[u8]| -> u64 { std::str::from_utf8(word).unwrap().parse().unwrap() };
    match (words[0].as_slice(), &words[1..]) {
        (b"get", keys) => {
            let mut reply = Vec::new();
            for key in keys {
                if let Some(value) = store.get(key) {
                    reply.extend_from_slice(b"VALUE ");
                    reply.extend_from_slice(key);
                    reply.extend_from_slice(format!(" 0 {}\r\n", value.len()).as_bytes());
                    reply.extend_from_slice(value);
                    reply.extend_from_slice(b"\r\n");
                }
            }
            reply.extend_from_slice(b"END\r\n");
            reply
        }
        (b"set", [key, _flags, _exptime, len, ..]) => {
            let mut data = vec![0; number(len) as usize + 2];
            if input.read_exact(&mut data).is_err() {
                return Vec::new();
            }
            data.truncate(data.len() - 2);
            store.insert(key.clone(), data);
            b"STORED\r\n".to_vec()
        }
        (b"incr", [key, delta, ..]) => match store.get_mut(key) {
            Some(value) => {
                let next = number(value) + number(delta);
                *value = next.to_string().into_bytes();
                format!("{next}\r\n").into_bytes()
            }
            None => b"NOT_FOUND\r\n".to_vec(),
        },
        (b"version", _) => b"VERSION 1.6.18-hostile\r\n".to_vec(),
        _ => b"ERROR\r\n".to_vec(),
    }
}

/// A listener on 127.0.0.1 that never accepts, its backlog filled: a new
/// connect to it hangs (the kernel drops the SYN). Dropped, it closes.
pub struct FullBacklog {
    /// `127.0.0.1:port`.
    pub address: String,
    _listener: socket2::Socket,
    _queued: Vec<TcpStream>,
}

impl FullBacklog {
    pub fn start() -> FullBacklog {
        use socket2::{Domain, Socket, Type};
        let listener = Socket::new(Domain::IPV4, Type::STREAM, None).expect("socket");
        let any: SocketAddr = "127.0.0.1:0".parse().unwrap();
        listener.bind(&any.into()).expect("bind");
        listener.listen(0).expect("listen");
        let address = listener.local_addr().unwrap().as_socket().unwrap();
        let mut queued = Vec::new();
        // Fill the accept queue until a connect no longer completes.
        for _ in 0..64 {
            match TcpStream::connect_timeout(&address, Duration::from_millis(100)) {
                Ok(stream) => queued.push(stream),
                Err(_) => break,
            }
        }
        assert!(queued.len() < 64, "the backlog never filled");
        FullBacklog {
            address: address.to_string(),
            _listener: listener,
            _queued: queued,
        }
    }
}
