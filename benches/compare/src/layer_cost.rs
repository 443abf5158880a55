//! The observability layers' own cost per call, without the network: a
//! client `get` over a backend that answers at once from memory, plain and
//! with `Traced` over `Metered` (collectors off, then on). The difference
//! is what the layers add to every call, in nanoseconds; the network rows
//! are too noisy on a shared machine to show it.

use std::future::Future;
use std::time::Instant;

use bytes::Bytes;
use memclient::observe::{Metered, Traced};
use memclient::serde::RawBytes;
use memclient::{Backend, Client, Request, Response, Result, Value};

use crate::collectors;

/// A backend that answers every request with one 100-byte value.
#[derive(Clone)]
struct Canned(Bytes);

impl Backend for Canned {
    fn call(&self, request: Request) -> impl Future<Output = Result<Response>> + Send {
        let key = request.keys().first().cloned().unwrap_or_default();
        let data = self.0.clone();
        async move {
            Ok(Response::Values(vec![Value {
                key,
                flags: 0,
                cas: None,
                data,
            }]))
        }
    }
}

/// Nanoseconds per `get`: plain, layers idle, layers recording. Each is
/// the best of `rounds` runs of `ops` calls (the least disturbed by the
/// other processes of the machine).
pub fn measure(ops: u64, rounds: usize) -> Vec<(&'static str, Result<f64, String>)> {
    let canned = Canned(Bytes::from(vec![b'x'; 100]));
    let plain = Client::new(canned.clone()).with_serde(RawBytes);
    let layered = || {
        Client::new(Traced::new(Metered::new(canned.clone()).node("bench")).node("bench"))
            .with_serde(RawBytes)
    };
    let idle = best(rounds, || {
        collectors::collect(false);
        per_call(&layered(), ops)
    });
    let recording = best(rounds, || {
        collectors::collect(true);
        let figure = per_call(&layered(), ops);
        collectors::collect(false);
        figure
    });
    vec![
        ("no layer", best(rounds, || per_call(&plain, ops))),
        ("Traced + Metered, collectors off", idle),
        ("Traced + Metered, recording", recording),
    ]
}

fn best(rounds: usize, mut run: impl FnMut() -> Result<f64, String>) -> Result<f64, String> {
    let mut best = f64::MAX;
    for _ in 0..rounds.max(1) {
        best = best.min(run()?);
    }
    Ok(best)
}

fn per_call<B: Backend>(client: &Client<B, RawBytes>, ops: u64) -> Result<f64, String> {
    smol::block_on(async {
        let start = Instant::now();
        for _ in 0..ops {
            let value = client.get("bench:key").await.map_err(|e| e.to_string())?;
            if value.map(|v| v.len()) != Some(100) {
                return Err("get: wrong value".into());
            }
        }
        Ok(start.elapsed().as_nanos() as f64 / ops as f64)
    })
}

/// The table, with the cost over the plain client.
pub fn table(figures: &[(&'static str, Result<f64, String>)]) -> String {
    use std::fmt::Write;
    let base = figures.first().and_then(|(_, f)| f.as_ref().ok()).copied();
    let mut out = String::new();
    let _ = writeln!(
        out,
        "| in-process `get`, canned backend | ns per call | added by the layers |"
    );
    let _ = writeln!(out, "|---|---:|---:|");
    for (name, figure) in figures {
        let (ns, added) = match (figure, base) {
            (Ok(ns), Some(base)) => (format!("{ns:.0}"), format!("{:+.0} ns", ns - base)),
            (Ok(ns), None) => (format!("{ns:.0}"), "–".into()),
            (Err(error), _) => (format!("FAILED: {error}"), "–".into()),
        };
        let _ = writeln!(out, "| {name} | {ns} | {added} |");
    }
    out
}
