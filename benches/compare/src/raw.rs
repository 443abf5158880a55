//! The raw loop: command bytes prepared in advance, written to a plain
//! `std::net::TcpStream` (or a blocking rustls stream over one, for the TLS
//! rows), replies read through a `BufReader` and parsed just enough to find
//! their end. No client does less work per request, so its rate marks the
//! limit of the wire (loopback syscalls, the server, and the encryption) for
//! each workload.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::sync::Arc;

use rustls::pki_types::ServerName;
use rustls::{ClientConfig, ClientConnection, StreamOwned};

use crate::measure::{self, Plan};
use crate::workload::{check_len, Data, MixOp, Workload, POOL, SMALL_LEN, TASKS};

/// One connection with its reusable buffers. Writes go to the stream under
/// the read buffer, which buffers only reads.
pub struct RawConn<S = TcpStream> {
    reader: BufReader<S>,
    line: Vec<u8>,
    value: Vec<u8>,
    out: Vec<u8>,
}

/// A blocking TLS stream over TCP.
pub type TlsStream = StreamOwned<ClientConnection, TcpStream>;

/// The replies to a batch of gets: how many values, and the length of the last.
#[derive(Debug, Clone, Copy, Default)]
struct Got {
    values: u64,
    last_len: Option<usize>,
}

fn tcp(address: &str) -> Result<TcpStream, String> {
    let stream = TcpStream::connect(address).map_err(|e| format!("connect: {e}"))?;
    stream.set_nodelay(true).map_err(|e| e.to_string())?;
    Ok(stream)
}

impl RawConn {
    /// Connects to `address` with TCP_NODELAY, as the clients do.
    pub fn connect(address: &str) -> Result<RawConn, String> {
        tcp(address).map(RawConn::over)
    }
}

impl RawConn<TlsStream> {
    /// Connects to `address` and completes a TLS handshake with `config`,
    /// verifying the server's certificate for its IP address.
    pub fn connect_tls(address: &str, config: &Arc<ClientConfig>) -> Result<Self, String> {
        let mut stream = tcp(address)?;
        let host = address.rsplit_once(':').map_or(address, |(host, _)| host);
        let name = ServerName::try_from(host.to_string()).map_err(|e| format!("{host}: {e}"))?;
        let mut tls = ClientConnection::new(config.clone(), name).map_err(|e| e.to_string())?;
        while tls.is_handshaking() {
            tls.complete_io(&mut stream)
                .map_err(|e| format!("TLS handshake: {e}"))?;
        }
        Ok(RawConn::over(StreamOwned::new(tls, stream)))
    }
}

impl<S: Read + Write> RawConn<S> {
    fn over(stream: S) -> Self {
        RawConn {
            reader: BufReader::with_capacity(64 * 1024, stream),
            line: Vec::with_capacity(128),
            value: Vec::new(),
            out: Vec::with_capacity(64 * 1024),
        }
    }

    /// Stores `value` under `key` (for filling the server before the run).
    pub fn set(&mut self, key: &str, value: &[u8]) -> Result<(), String> {
        let command = set_command(key, value);
        self.write(&command)?;
        self.read_stored()
    }

    fn write(&mut self, bytes: &[u8]) -> Result<(), String> {
        let stream = self.reader.get_mut();
        stream
            .write_all(bytes)
            .and_then(|()| stream.flush())
            .map_err(|e| format!("write: {e}"))
    }

    fn read_line(&mut self) -> Result<(), String> {
        self.line.clear();
        match self.reader.read_until(b'\n', &mut self.line) {
            Ok(0) => Err("the server closed the connection".into()),
            Ok(_) => Ok(()),
            Err(e) => Err(format!("read: {e}")),
        }
    }

    fn read_stored(&mut self) -> Result<(), String> {
        self.read_line()?;
        if self.line == b"STORED\r\n" {
            Ok(())
        } else {
            Err(format!("set: {}", String::from_utf8_lossy(&self.line)))
        }
    }

    /// Reads one retrieval reply: `VALUE <key> <flags> <bytes>` blocks, then `END`.
    fn read_values(&mut self) -> Result<Got, String> {
        let mut got = Got::default();
        loop {
            self.read_line()?;
            if self.line == b"END\r\n" {
                return Ok(got);
            }
            if !self.line.starts_with(b"VALUE ") {
                return Err(format!("get: {}", String::from_utf8_lossy(&self.line)));
            }
            // The data length is the last word of the header (no cas for `get`).
            let header = &self.line[..self.line.len() - 2];
            let len_word = header.rsplit(|&b| b == b' ').next().unwrap_or_default();
            let len: usize = std::str::from_utf8(len_word)
                .ok()
                .and_then(|word| word.parse().ok())
                .ok_or_else(|| format!("get: bad header {header:?}"))?;
            self.value.resize(len + 2, 0);
            self.reader
                .read_exact(&mut self.value)
                .map_err(|e| format!("read: {e}"))?;
            got.values += 1;
            got.last_len = Some(len);
        }
    }

    /// Writes one prepared command and reads its retrieval reply.
    fn get(&mut self, command: &[u8]) -> Result<Got, String> {
        self.write(command)?;
        self.read_values()
    }

    /// Writes `commands` and then `tail` in one write: how many commands.
    fn write_batch<'a>(
        &mut self,
        commands: impl Iterator<Item = &'a [u8]>,
        tail: &[u8],
    ) -> Result<u64, String> {
        self.out.clear();
        let mut count = 0;
        for command in commands {
            self.out.extend_from_slice(command);
            count += 1;
        }
        self.out.extend_from_slice(tail);
        let out = std::mem::take(&mut self.out);
        let written = self.write(&out);
        self.out = out;
        written.map(|()| count)
    }

    /// Writes `commands` (noreply sets) and a `version` in one write, and
    /// reads the version line: the sets were applied before it.
    fn noreply_batch<'a>(
        &mut self,
        commands: impl Iterator<Item = &'a [u8]>,
    ) -> Result<u64, String> {
        let count = self.write_batch(commands, b"version\r\n")?;
        self.read_line()?;
        if !self.line.starts_with(b"VERSION ") {
            return Err(format!("version: {}", String::from_utf8_lossy(&self.line)));
        }
        Ok(count)
    }

    /// Writes `commands` in one write and reads a retrieval reply for each.
    fn pipelined_gets<'a>(
        &mut self,
        commands: impl Iterator<Item = &'a [u8]>,
    ) -> Result<u64, String> {
        let count = self.write_batch(commands, b"")?;
        for _ in 0..count {
            let got = self.read_values()?;
            check_len("raw pipelined get", got.last_len, SMALL_LEN)?;
        }
        Ok(count)
    }
}

/// `set <key> 0 0 <len>\r\n<value>\r\n`.
fn set_command(key: &str, value: &[u8]) -> Vec<u8> {
    store_command(key, value, "")
}

/// `set <key> 0 0 <len><tail>\r\n<value>\r\n`.
fn store_command(key: &str, value: &[u8], tail: &str) -> Vec<u8> {
    let mut command = format!("set {key} 0 0 {}{tail}\r\n", value.len()).into_bytes();
    command.extend_from_slice(value);
    command.extend_from_slice(b"\r\n");
    command
}

fn get_command(key: &str) -> Vec<u8> {
    format!("get {key}\r\n").into_bytes()
}

/// Every command of the run, built before any timing.
struct Commands {
    gets: Vec<Vec<u8>>,
    sets: Vec<Vec<u8>>,
    noreply_sets: Vec<Vec<u8>>,
    misses: Vec<Vec<u8>>,
    get_many: Vec<u8>,
    get_large: Vec<u8>,
    set_large: Vec<u8>,
}

impl Commands {
    fn new(data: &Data) -> Commands {
        let many: Vec<&str> = data.many.iter().map(String::as_str).collect();
        Commands {
            gets: data.keys.iter().map(|key| get_command(key)).collect(),
            sets: data
                .keys
                .iter()
                .map(|key| set_command(key, &data.small))
                .collect(),
            noreply_sets: data
                .keys
                .iter()
                .map(|key| store_command(key, &data.small, " noreply"))
                .collect(),
            misses: data.misses.iter().map(|key| get_command(key)).collect(),
            get_many: format!("get {}\r\n", many.join(" ")).into_bytes(),
            get_large: get_command(&data.large_key),
            set_large: set_command(&data.large_key, &data.large),
        }
    }
}

/// Measures the raw loop on `workload`: units per second.
pub fn run(workload: Workload, plan: &Plan, data: &Data, address: &str) -> Result<f64, String> {
    run_on(workload, plan, data, || RawConn::connect(address))
}

/// [`run`] over TLS, trusting what `config` trusts.
pub fn run_tls(
    workload: Workload,
    plan: &Plan,
    data: &Data,
    address: &str,
    config: &Arc<ClientConfig>,
) -> Result<f64, String> {
    run_on(workload, plan, data, || {
        RawConn::connect_tls(address, config)
    })
}

/// [`run`] on the connections `connect` makes.
fn run_on<S: Read + Write + Send>(
    workload: Workload,
    plan: &Plan,
    data: &Data,
    connect: impl Fn() -> Result<RawConn<S>, String>,
) -> Result<f64, String> {
    let commands = Commands::new(data);
    let key_index = Data::index;
    match workload {
        Workload::Get => {
            let mut conn = connect()?;
            measure::sync_sequential(plan, |i| {
                let got = conn.get(&commands.gets[key_index(0, i)])?;
                check_len("raw get", got.last_len, SMALL_LEN).map(|()| 1)
            })
        }
        Workload::Set => {
            let mut conn = connect()?;
            measure::sync_sequential(plan, |i| {
                conn.write(&commands.sets[key_index(0, i)])?;
                conn.read_stored().map(|()| 1)
            })
        }
        // The peers never run the meta row; the raw loop runs its classic get there.
        Workload::GetMany | Workload::GetManyMeta => {
            let mut conn = connect()?;
            measure::sync_sequential(plan, |_| {
                let got = conn.get(&commands.get_many)?;
                if got.values != data.many.len() as u64 {
                    return Err(format!("raw get_many: {} values", got.values));
                }
                Ok(got.values)
            })
        }
        // One connection, 64 requests per write: all 64 tasks' (or joined
        // gets') requests at once.
        Workload::Tasks64 | Workload::Joined64 => {
            let mut conn = connect()?;
            measure::sync_sequential(plan, |i| {
                let batch = (0..TASKS).map(|task| commands.gets[key_index(task, i)].as_slice());
                conn.pipelined_gets(batch)
            })
        }
        // Eight connections on eight threads, 8 requests per write on each:
        // the same 64 requests in flight.
        Workload::Pool8 => {
            let conns: Vec<std::sync::Mutex<RawConn<S>>> = (0..POOL)
                .map(|_| connect().map(std::sync::Mutex::new))
                .collect::<Result<_, _>>()?;
            let per_conn = TASKS / POOL;
            measure::threads(plan, POOL, |thread, i| {
                let mut conn = conns[thread].lock().expect("one thread per connection");
                let batch = (0..per_conn)
                    .map(|n| commands.gets[key_index(thread * per_conn + n, i)].as_slice());
                conn.pipelined_gets(batch)
            })
        }
        Workload::GetLarge => {
            let mut conn = connect()?;
            measure::sync_sequential(plan, |_| {
                let got = conn.get(&commands.get_large)?;
                check_len("raw get 512 KiB", got.last_len, data.large.len()).map(|()| 1)
            })
        }
        Workload::SetLarge => {
            let mut conn = connect()?;
            measure::sync_sequential(plan, |_| {
                conn.write(&commands.set_large)?;
                conn.read_stored().map(|()| 1)
            })
        }
        // 64 noreply sets and a version in one write, then the version line.
        Workload::SetNoreply64 => {
            let mut conn = connect()?;
            measure::sync_sequential(plan, |i| {
                let batch =
                    (0..TASKS).map(|task| commands.noreply_sets[key_index(task, i)].as_slice());
                conn.noreply_batch(batch)
            })
        }
        Workload::Mix => {
            let mut conn = connect()?;
            measure::sync_sequential(plan, |i| {
                match data.mix(i) {
                    MixOp::Set(key) => {
                        conn.write(&commands.sets[key])?;
                        conn.read_stored()?;
                    }
                    MixOp::Get(key) => {
                        let got = conn.get(&commands.gets[key])?;
                        check_len("raw mix get", got.last_len, SMALL_LEN)?;
                    }
                    MixOp::Miss(key) => {
                        let got = conn.get(&commands.misses[key])?;
                        if got.values != 0 {
                            return Err("raw mix: a miss hit".into());
                        }
                    }
                }
                Ok(1)
            })
        }
    }
}
