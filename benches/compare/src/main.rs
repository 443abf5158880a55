//! `compare`: memclient side by side with the clients a user would pick
//! instead, and with a raw socket loop that marks the wire's limit, in one run
//! against a memcached it starts itself.
//!
//! ```text
//! cargo run --release -p memclient-bench --bin compare            # full run, a few minutes
//! cargo run --release -p memclient-bench --bin compare -- --quick # under a minute
//! ```
//!
//! It reports speed and never asserts on it: it exits 0 when every cell ran,
//! 1 when one failed (a wrong value, an error), 2 on bad arguments or no server.

mod alloc;
mod blocking_runs;
mod collectors;
mod contestant;
mod cpu;
mod exec;
mod layer_cost;
mod layered_runs;
mod measure;
mod memclient_runs;
mod peers;
mod pin;
mod raw;
mod server;
mod table;
mod tls;
mod workload;

use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};

use contestant::{Bench, Contestant};
use cpu::CpuWatch;
use exec::{AsyncStdExec, SmolExec, TokioExec};
use measure::Plan;
use workload::{Data, Workload};

/// Counts every heap allocation, for the allocations table (see `alloc`).
#[global_allocator]
static ALLOCATOR: alloc::Counting = alloc::Counting;

const USAGE: &str = "usage: compare [--quick] [--no-pin] [--workload TEXT] [--client TEXT]

  --quick          short cells (whole run under a minute) instead of the full run
  --no-pin         leave the client and the server where the scheduler puts them
                   (by default each gets its own core: see pin.rs)
  --workload TEXT  only the workloads whose name contains TEXT (e.g. 'get 100')
  --client TEXT    only the clients whose name contains TEXT (e.g. 'memclient/smol');
                   the allocations table runs when memclient/smol is selected

  With a filter, the ratios show '–' where the raw loop or a peer is not selected.";

/// The command line.
struct Args {
    quick: bool,
    no_pin: bool,
    workload: Option<String>,
    client: Option<String>,
}

impl Args {
    fn selects_workload(&self, workload: Workload) -> bool {
        let wanted = self.workload.as_deref();
        wanted.is_none_or(|wanted| workload.name().contains(wanted))
    }

    fn selects_client(&self, label: &str) -> bool {
        let wanted = self.client.as_deref();
        wanted.is_none_or(|wanted| label.contains(wanted))
    }
}

fn parse_args() -> Result<Args, String> {
    let mut args = Args {
        quick: false,
        no_pin: false,
        workload: None,
        client: None,
    };
    let mut words = std::env::args().skip(1);
    while let Some(word) = words.next() {
        match word.as_str() {
            "--quick" => args.quick = true,
            "--no-pin" => args.no_pin = true,
            "--workload" => args.workload = Some(words.next().ok_or("--workload needs a value")?),
            "--client" => args.client = Some(words.next().ok_or("--client needs a value")?),
            "-h" | "--help" => return Err(String::new()),
            other => return Err(format!("unknown argument {other:?}")),
        }
    }
    Ok(args)
}

fn main() -> ExitCode {
    let args = match parse_args() {
        Ok(args) => args,
        Err(error) => {
            if !error.is_empty() {
                eprintln!("compare: {error}");
            }
            eprintln!("{USAGE}");
            return ExitCode::from(2);
        }
    };
    let server = match server::Server::start() {
        Ok(server) => server,
        Err(error) => {
            eprintln!("compare: {error}");
            return ExitCode::from(2);
        }
    };
    let (plan, rounds, alloc_ops) = if args.quick {
        (plan_ms(100, 300), 1, 2_000)
    } else {
        (plan_ms(200, 800), 5, 10_000)
    };
    // Counted before pinning, which narrows what this process may use.
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    let server_pid = cpu::find_server(server.port);
    // Before any runtime starts a thread: threads inherit the placement.
    let placement = match (args.no_pin, server_pid) {
        (true, _) => "unpinned (--no-pin)".to_string(),
        (false, None) => "unpinned (memcached's pid not found)".to_string(),
        (false, Some(pid)) => pin::pin(pid).unwrap_or_else(|error| {
            eprintln!("compare: not pinned: {error}");
            format!("unpinned ({error})")
        }),
    };
    let data = Arc::new(Data::new());
    if let Err(error) = fill(&server.address, &data) {
        eprintln!("compare: filling the server: {error}");
        return ExitCode::from(2);
    }

    println!(
        "{}",
        header(&args, &server, &plan, rounds, cores, &placement)
    );
    let bench = Bench {
        smol: SmolExec,
        async_std: AsyncStdExec,
        tokio: TokioExec::new(),
        data: data.clone(),
        address: server.address.clone(),
        plan,
    };
    let started = Instant::now();
    let cpu = CpuWatch::new(server_pid);
    let rows = measure_all(&bench, &args, rounds, &cpu);
    let tls_rows = measure_tls(&bench, &args, rounds, &cpu, cores);
    let allocations = count_allocations(&bench, &args, alloc_ops);
    let layer_cost = if args.selects_client("memclient/smol + layers") {
        layer_cost::measure(alloc_ops * 50, if args.quick { 3 } else { 7 })
    } else {
        Vec::new()
    };
    eprintln!("compare: done in {:.0} s", started.elapsed().as_secs_f64());

    println!("{}", table::results(&rows));
    println!(
        "† writes sent with `noreply` (the client offers no other `set`): no round trip, \
         so not comparable; left out of the best-peer ratio.\n"
    );
    println!(
        "CPU client / server: cores busy during the cell (warm-up included), for this whole \
         process (client, runtime threads, driver) and for memcached; the machine has {cores} cores.\n"
    );
    println!("{}", table::summary(&rows));
    println!("{}", table::variants(&rows));
    println!(
        "Allocations: every thread's heap allocations (the connection's driver included) \
         over {alloc_ops} sequential operations after {} of warm-up, divided by {alloc_ops}.\n",
        alloc_ops / 10
    );
    println!("{}", table::allocations(&allocations));
    if !layer_cost.is_empty() {
        println!(
            "Layer cost: {} sequential `get`s of a client over a backend that answers from \
             memory, best of several runs; the difference to the first row is the layers' \
             own work per call.\n",
            alloc_ops * 50
        );
        println!("{}", layer_cost::table(&layer_cost));
    }

    let tls_failed = match &tls_rows {
        Ok(rows) if rows.is_empty() => false,
        Ok(rows) => {
            println!("{}", tls::table(rows));
            tls::failed(rows)
        }
        Err(error) => {
            println!("TLS rows FAILED: {error}\n");
            true
        }
    };

    let failed = rows.iter().any(|row| row.result.is_err())
        || allocations.iter().any(|(_, figure)| figure.is_err())
        || layer_cost.iter().any(|(_, figure)| figure.is_err())
        || tls_failed;
    if failed {
        eprintln!("compare: some cells FAILED (see the tables)");
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}

fn plan_ms(warmup: u64, measure: u64) -> Plan {
    Plan {
        warmup: Duration::from_millis(warmup),
        measure: Duration::from_millis(measure),
    }
}

/// Stores every value the workloads read.
fn fill(address: &str, data: &Data) -> Result<(), String> {
    let mut conn = raw::RawConn::connect(address)?;
    for key in data.keys.iter().chain(&data.many) {
        conn.set(key, &data.small)?;
    }
    conn.set(&data.large_key, &data.large)
}

/// Every selected cell, workload by workload, with progress on stderr.
///
/// Each workload runs in rounds, every contestant once per round, so a slow
/// spell of this shared machine hits every client of the round alike; the
/// table reports each cell's median.
fn measure_all(bench: &Bench, args: &Args, rounds: usize, cpu: &CpuWatch) -> Vec<table::Row> {
    let mut rows = Vec::new();
    for workload in Workload::ALL
        .into_iter()
        .filter(|&w| args.selects_workload(w))
    {
        let contestants: Vec<Contestant> = Contestant::ALL
            .into_iter()
            .filter(|&contestant| {
                let label = contestant.label(workload);
                contestant.runs(workload) && args.selects_client(&label)
            })
            .collect();
        let first = rows.len();
        for &contestant in &contestants {
            rows.push(table::Row {
                workload,
                contestant,
                result: Ok(Vec::new()),
                cpu: Vec::new(),
            });
        }
        for round in 1..=rounds {
            for (row, &contestant) in rows[first..].iter_mut().zip(&contestants) {
                let label = contestant.label(workload);
                eprint!(
                    "compare: [{round}/{rounds}] {:<22} {label:<40} ",
                    workload.name()
                );
                // A cell that failed once is not run again.
                let Ok(samples) = &mut row.result else {
                    eprintln!("skipped (failed before)");
                    continue;
                };
                let mark = cpu.mark();
                let result = bench.run(contestant, workload);
                let used = cpu.since(&mark);
                match result {
                    Ok(rate) => {
                        eprintln!("{rate:>12.0} {}", workload.unit());
                        samples.push(rate);
                        row.cpu.extend(used);
                    }
                    Err(error) => {
                        eprintln!("FAILED: {error}");
                        row.result = Err(error);
                    }
                }
            }
        }
    }
    rows
}

/// The TLS rows beside plain text (memclient on smol), against a memcached
/// -Z of their own; none when the filters leave them out.
fn measure_tls(
    bench: &Bench,
    args: &Args,
    rounds: usize,
    plain_cpu: &CpuWatch,
    cores: usize,
) -> Result<Vec<tls::Row>, String> {
    let selected = |w: Workload| args.selects_workload(w) && tls::WORKLOADS.contains(&w);
    if !args.selects_client("memclient/smol TLS") || !Workload::ALL.into_iter().any(selected) {
        return Ok(Vec::new());
    }
    let server = tls::TlsServer::start()?;
    let pid = cpu::find_server(server.server.port);
    if !args.no_pin {
        pin::pin_server(pid.ok_or("memcached -Z: pid not found")?, cores)?;
    }
    server.fill(&bench.data)?;
    let tls_cpu = CpuWatch::new(pid);
    Ok(tls::measure(
        bench,
        &server,
        [plain_cpu, &tls_cpu],
        rounds,
        selected,
    ))
}

/// Allocations per op of memclient on smol for get, set (with and without
/// `noreply`, with and without a call timeout), get_many and noreply
/// batches, and on tokio for get, set, get_many and noreply batches: what
/// is the runtime's and what is memclient's.
fn count_allocations(bench: &Bench, args: &Args, ops: u64) -> Vec<(String, Result<f64, String>)> {
    if !args.selects_client("memclient/smol") {
        return Vec::new();
    }
    use memclient_runs::AllocVariant::{NoTimeout, Noreply, Plain};
    let (smol, tokio) = (false, true);
    [
        (Workload::Get, Plain, smol),
        (Workload::Get, NoTimeout, smol),
        (Workload::Get, Plain, tokio),
        (Workload::Set, Plain, smol),
        (Workload::Set, NoTimeout, smol),
        (Workload::Set, Plain, tokio),
        (Workload::Set, Noreply, smol),
        (Workload::GetMany, Plain, smol),
        (Workload::GetMany, Plain, tokio),
        (Workload::SetNoreply64, Plain, smol),
        (Workload::SetNoreply64, Plain, tokio),
    ]
    .into_iter()
    .filter(|&(workload, _, _)| args.selects_workload(workload))
    .map(|(workload, variant, on_tokio)| {
        let (data, address) = (&bench.data, &bench.address);
        let figure = match on_tokio {
            false => memclient_runs::allocations_per_op(
                &bench.smol,
                || memclient::smol::Smol,
                workload,
                variant,
                data,
                address,
                ops / 10,
                ops,
            ),
            true => memclient_runs::allocations_per_op(
                &bench.tokio,
                memclient::tokio::Tokio::current,
                workload,
                variant,
                data,
                address,
                ops / 10,
                ops,
            ),
        };
        let runtime = if on_tokio { "tokio" } else { "smol" };
        // A batch is one op here: 64 sets and a `version`.
        let per = match workload {
            Workload::SetNoreply64 => " (figure per batch)",
            _ => "",
        };
        let name = format!("{}{}{per}", workload.name(), variant.suffix());
        (format!("{runtime} | {name}"), figure)
    })
    .collect()
}

/// What was run, where: for the report.
fn header(
    args: &Args,
    server: &server::Server,
    plan: &Plan,
    rounds: usize,
    cores: usize,
    placement: &str,
) -> String {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|info| {
            info.lines()
                .find(|line| line.starts_with("model name"))
                .and_then(|line| line.split(':').nth(1))
                .map(|model| model.trim().to_string())
        })
        .unwrap_or_else(|| "unknown".to_string());
    let command = std::env::args().collect::<Vec<_>>().join(" ");
    format!(
        "# memclient compare\n\n\
         - command: `{command}`{quick}\n\
         - machine: {cores} cores, CPU {cpu}\n\
         - server: {version} with `{server_args}` on {address}\n\
         - placement: {placement}\n\
         - each cell: {warmup} ms warm-up, then {measure} ms measured; {rounds} round(s), \
         the median reported\n",
        quick = if args.quick { " (quick)" } else { "" },
        version = server.version,
        server_args = server.args(),
        address = server.address,
        warmup = plan.warmup.as_millis(),
        measure = plan.measure.as_millis(),
    )
}
