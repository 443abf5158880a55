//! `memclient-mock`: the in-memory memcached as a standalone server.
//!
//! ```text
//! memclient-mock [--listen ADDR | --unix PATH] [--memory-limit MB] [--max-item-size BYTES]
//! ```
//!
//! Prints `listening on <address>` once it accepts connections.
#![forbid(unsafe_code)]

use std::net::TcpListener;
use std::os::unix::net::UnixListener;
use std::process::ExitCode;

use memclient_mock::MockMemcache;

const USAGE: &str = "usage: memclient-mock [--listen ADDR | --unix PATH] [--memory-limit MB] [--max-item-size BYTES]";

struct Options {
    listen: Option<String>,
    unix: Option<String>,
    memory_limit_mb: Option<usize>,
    max_item_size: Option<usize>,
}

fn parse(mut args: impl Iterator<Item = String>) -> Result<Options, String> {
    let mut options = Options {
        listen: None,
        unix: None,
        memory_limit_mb: None,
        max_item_size: None,
    };
    while let Some(arg) = args.next() {
        let mut value = || args.next().ok_or_else(|| format!("{arg} needs a value"));
        match arg.as_str() {
            "--listen" => options.listen = Some(value()?),
            "--unix" => options.unix = Some(value()?),
            "--memory-limit" => {
                let v = value()?;
                options.memory_limit_mb =
                    Some(v.parse().map_err(|_| format!("bad --memory-limit {v}"))?)
            }
            "--max-item-size" => {
                let v = value()?;
                options.max_item_size =
                    Some(v.parse().map_err(|_| format!("bad --max-item-size {v}"))?)
            }
            "-h" | "--help" => return Err(USAGE.to_string()),
            other => return Err(format!("unknown argument {other}\n{USAGE}")),
        }
    }
    if options.listen.is_some() && options.unix.is_some() {
        return Err(format!("--listen and --unix exclude each other\n{USAGE}"));
    }
    Ok(options)
}

fn main() -> ExitCode {
    let options = match parse(std::env::args().skip(1)) {
        Ok(options) => options,
        Err(message) => {
            eprintln!("{message}");
            return ExitCode::from(2);
        }
    };
    let mut builder = MockMemcache::builder();
    if let Some(mb) = options.memory_limit_mb {
        builder = builder.memory_limit(mb.saturating_mul(1024 * 1024));
    }
    if let Some(bytes) = options.max_item_size {
        builder = builder.max_item_size(bytes);
    }
    let mock = builder.build();
    let started = match &options.unix {
        Some(path) => UnixListener::bind(path).and_then(|listener| {
            let handle = mock.serve_unix(listener)?;
            Ok((handle, path.clone()))
        }),
        None => {
            let addr = options.listen.as_deref().unwrap_or("127.0.0.1:11211");
            TcpListener::bind(addr).and_then(|listener| {
                let local = listener.local_addr()?.to_string();
                let handle = mock.serve_tcp(listener)?;
                Ok((handle, local))
            })
        }
    };
    let (_handle, address) = match started {
        Ok(started) => started,
        Err(error) => {
            eprintln!("memclient-mock: cannot listen: {error}");
            return ExitCode::FAILURE;
        }
    };
    println!("listening on {address}");
    loop {
        std::thread::park();
    }
}
