//! TLS beside plain text: memclient on smol against a second memcached
//! started with `-Z` (certificates made by rcgen at start, ECDSA P-256,
//! verified against their CA), for get, set and get_many, each beside the raw
//! loop over the same transport (a blocking rustls stream for TLS). The plain
//! rows are measured again here, in the same rounds, so the ratios compare
//! like with like.

use std::fmt::Write;
use std::path::PathBuf;
use std::sync::Arc;

use memclient::tls::{Roots, TlsConfig};
use memclient::Config;
use rcgen::{BasicConstraints, CertificateParams, IsCa, KeyPair, KeyUsagePurpose};

use crate::contestant::Bench;
use crate::cpu::{CpuUse, CpuWatch};
use crate::server::Server;
use crate::workload::{Data, Workload};
use crate::{memclient_runs, raw};

/// The workloads with a TLS row.
pub const WORKLOADS: [Workload; 3] = [Workload::Get, Workload::Set, Workload::GetMany];

/// A memcached speaking TLS, and the settings that trust it.
pub struct TlsServer {
    pub server: Server,
    pub tls: TlsConfig,
    /// The raw loop's TLS settings: the same CA, the same provider.
    pub raw: Arc<rustls::ClientConfig>,
    dir: PathBuf,
}

impl Drop for TlsServer {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

impl TlsServer {
    /// Makes a CA and a server certificate for 127.0.0.1, and starts
    /// `memcached -Z` with them.
    pub fn start() -> Result<TlsServer, String> {
        let error = |e: rcgen::Error| format!("certificates: {e}");
        let ca_key = KeyPair::generate().map_err(error)?;
        let mut ca = CertificateParams::new(Vec::<String>::new()).map_err(error)?;
        ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        ca.key_usages = vec![
            KeyUsagePurpose::KeyCertSign,
            KeyUsagePurpose::DigitalSignature,
        ];
        let ca = ca.self_signed(&ca_key).map_err(error)?;
        let key = KeyPair::generate().map_err(error)?;
        let leaf = CertificateParams::new(vec!["127.0.0.1".to_string()])
            .map_err(error)?
            .signed_by(&key, &ca, &ca_key)
            .map_err(error)?;
        let dir = std::env::temp_dir().join(format!("memclient-bench-tls-{}", std::process::id()));
        std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        let write = |name: &str, text: String| {
            let path = dir.join(name);
            std::fs::write(&path, text)
                .map(|()| path)
                .map_err(|e| format!("{name}: {e}"))
        };
        let cert = write("server.pem", leaf.pem())?;
        let key = write("server.key", key.serialize_pem())?;
        let extra = format!(
            "-Z -o ssl_chain_cert={},ssl_key={}",
            cert.display(),
            key.display()
        );
        let server = Server::start_with(&extra, true)?;
        let tls = TlsConfig::new()
            .roots(Roots::None)
            .add_ca_pem(ca.pem())
            .map_err(|e| e.to_string())?;
        let raw = raw_config(ca.der().clone()).map_err(|e| format!("raw TLS: {e}"))?;
        Ok(TlsServer {
            server,
            tls,
            raw,
            dir,
        })
    }

    fn config(&self) -> Config {
        Config::new(format!("tls://{}", self.server.address)).tls(self.tls.clone())
    }

    /// Stores every value the TLS workloads read.
    pub fn fill(&self, data: &Data) -> Result<(), String> {
        let config = self.config();
        let items: Vec<(String, bytes::Bytes)> = data
            .keys
            .iter()
            .chain(&data.many)
            .map(|key| (key.clone(), data.small.clone()))
            .collect();
        smol::block_on(async move {
            let client = config
                .connect(memclient::smol::Smol)
                .await
                .map_err(|e| format!("connect: {e}"))?
                .with_serde(memclient::serde::RawBytes);
            let failed = client.set_many(items).await.map_err(|e| e.to_string())?;
            match failed.is_empty() {
                true => Ok(()),
                false => Err(format!("{} values not stored", failed.len())),
            }
        })
    }
}

/// A client configuration trusting only `ca`, with rustls' `ring` provider
/// (memclient's) and its default protocol versions.
fn raw_config(
    ca: rustls::pki_types::CertificateDer<'static>,
) -> Result<Arc<rustls::ClientConfig>, rustls::Error> {
    let mut roots = rustls::RootCertStore::empty();
    roots.add(ca)?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(Arc::new(config))
}

/// One workload's rates (memclient's and the raw loop's, plain and TLS), a
/// sample per round, and the CPU each of memclient's rounds used.
pub struct Row {
    pub workload: Workload,
    pub plain: Result<Vec<f64>, String>,
    pub tls: Result<Vec<f64>, String>,
    pub raw_plain: Result<Vec<f64>, String>,
    pub raw_tls: Result<Vec<f64>, String>,
    pub plain_cpu: Vec<(f64, CpuUse)>,
    pub tls_cpu: Vec<(f64, CpuUse)>,
}

/// Runs one cell and keeps its rate, or the first error.
fn cell(
    samples: &mut Result<Vec<f64>, String>,
    label: String,
    unit: &str,
    run: impl FnOnce() -> Result<f64, String>,
) -> Option<f64> {
    let Ok(list) = samples else { return None };
    eprint!("{label} ");
    match run() {
        Ok(rate) => {
            eprintln!("{rate:>12.0} {unit}");
            list.push(rate);
            Some(rate)
        }
        Err(error) => {
            eprintln!("FAILED: {error}");
            *samples = Err(error);
            None
        }
    }
}

/// Measures plain and TLS in alternation, `rounds` times per workload: the
/// raw loop, then memclient, on each transport.
pub fn measure(
    bench: &Bench,
    server: &TlsServer,
    watches: [&CpuWatch; 2],
    rounds: usize,
    selected: impl Fn(Workload) -> bool,
) -> Vec<Row> {
    let data: &Arc<Data> = &bench.data;
    let mut rows = Vec::new();
    for workload in WORKLOADS.into_iter().filter(|&w| selected(w)) {
        let mut row = Row {
            workload,
            plain: Ok(Vec::new()),
            tls: Ok(Vec::new()),
            raw_plain: Ok(Vec::new()),
            raw_tls: Ok(Vec::new()),
            plain_cpu: Vec::new(),
            tls_cpu: Vec::new(),
        };
        let (name, unit, plan) = (workload.name(), workload.unit(), &bench.plan);
        for round in 1..=rounds {
            let label =
                |client: &str| format!("compare: [{round}/{rounds}] {name:<22} {client:<40}");
            let tls_address = &server.server.address;
            cell(&mut row.raw_plain, label("raw loop plain"), unit, || {
                raw::run(workload, plan, data, &bench.address)
            });
            cell(&mut row.raw_tls, label("raw loop TLS"), unit, || {
                raw::run_tls(workload, plan, data, tls_address, &server.raw)
            });
            let cells = [
                (
                    "plain",
                    Config::new(&bench.address),
                    &mut row.plain,
                    &mut row.plain_cpu,
                    watches[0],
                ),
                (
                    "TLS",
                    server.config(),
                    &mut row.tls,
                    &mut row.tls_cpu,
                    watches[1],
                ),
            ];
            for (transport, config, samples, cpu, watch) in cells {
                let mark = watch.mark();
                let smol = || memclient::smol::Smol;
                let client = format!("memclient/smol {transport}");
                let rate = cell(samples, label(&client), unit, || {
                    memclient_runs::run_config(&bench.smol, smol, workload, plan, data, config)
                });
                if let Some(rate) = rate {
                    cpu.extend(watch.since(&mark).map(|used| (rate, used)));
                }
            }
        }
        rows.push(row);
    }
    rows
}

fn median(samples: &Result<Vec<f64>, String>) -> Option<f64> {
    let mut sorted = samples.as_ref().ok()?.clone();
    sorted.sort_by(f64::total_cmp);
    let n = sorted.len();
    match n {
        0 => None,
        _ if n % 2 == 1 => Some(sorted[n / 2]),
        _ => Some((sorted[n / 2 - 1] + sorted[n / 2]) / 2.0),
    }
}

/// CPU time per unit (µs), client and server, averaged over the rounds:
/// cores busy during a cell divided by its rate.
fn cpu_per_unit(cpu: &[(f64, CpuUse)]) -> Option<(f64, f64)> {
    let usable: Vec<_> = cpu.iter().filter(|(rate, _)| *rate > 0.0).collect();
    if usable.is_empty() {
        return None;
    }
    let n = usable.len() as f64;
    let client = usable.iter().map(|(r, c)| c.client / r).sum::<f64>() / n * 1e6;
    let server = usable.iter().map(|(r, c)| c.server / r).sum::<f64>() / n * 1e6;
    Some((client, server))
}

/// The TLS table, as Markdown.
pub fn table(rows: &[Row]) -> String {
    let mut out = String::from(
        "TLS (memclient/smol, one pipelined connection, sequential calls; TLS 1.3 with \
         rustls and ring against memcached -Z, certificate verified), beside the raw loop \
         over the same transport (a blocking rustls stream for TLS). CPU: µs of CPU per \
         unit (op or key) of memclient's cells, client process / memcached, plain → TLS:\n\n\
         | workload | raw loop, plain | raw loop, TLS | memclient, plain | memclient, TLS \
         | × raw, plain | × raw, TLS | TLS / plain | CPU per unit, plain → TLS |\n\
         |---|---:|---:|---:|---:|---:|---:|---:|---|\n",
    );
    for row in rows {
        let cell = |samples: &Result<Vec<f64>, String>| match (samples, median(samples)) {
            (Err(e), _) => format!("FAILED: {e}"),
            (_, Some(rate)) => format!("{rate:.0} {}", row.workload.unit()),
            _ => "–".into(),
        };
        let ratio = |a: &Result<Vec<f64>, String>, b: &Result<Vec<f64>, String>| match (
            median(a),
            median(b),
        ) {
            (Some(a), Some(b)) if b > 0.0 => format!("{:.2}", a / b),
            _ => "–".into(),
        };
        let cpu = match (cpu_per_unit(&row.plain_cpu), cpu_per_unit(&row.tls_cpu)) {
            (Some((pc, ps)), Some((tc, ts))) => {
                format!("{pc:.1} / {ps:.1} → {tc:.1} / {ts:.1}")
            }
            _ => "–".into(),
        };
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} | {} | {} | {} | {cpu} |",
            row.workload.name(),
            cell(&row.raw_plain),
            cell(&row.raw_tls),
            cell(&row.plain),
            cell(&row.tls),
            ratio(&row.plain, &row.raw_plain),
            ratio(&row.tls, &row.raw_tls),
            ratio(&row.tls, &row.plain),
        );
    }
    out
}

/// True when a row failed.
pub fn failed(rows: &[Row]) -> bool {
    rows.iter().any(|row| {
        [&row.plain, &row.tls, &row.raw_plain, &row.raw_tls]
            .iter()
            .any(|samples| samples.is_err())
    })
}
