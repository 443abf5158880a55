//! The report: one table of every cell, a summary of the ratios per
//! workload, and the allocations table, as Markdown so a run pastes into
//! BENCHMARKS.md as it is.

use std::fmt::Write;

use crate::contestant::{Contestant, Kind};
use crate::cpu::CpuUse;
use crate::workload::Workload;

/// One measured cell.
#[derive(Debug)]
pub struct Row {
    /// The workload.
    pub workload: Workload,
    /// Who ran it.
    pub contestant: Contestant,
    /// Units per second of each round, or why the cell failed.
    pub result: Result<Vec<f64>, String>,
    /// The CPU the client process and the server used in each round.
    pub cpu: Vec<CpuUse>,
}

impl Row {
    /// The median of the rounds: the figure reported.
    pub fn rate(&self) -> Option<f64> {
        let samples = self.result.as_ref().ok()?;
        let mut sorted = samples.clone();
        sorted.sort_by(f64::total_cmp);
        match sorted.len() {
            0 => None,
            n if n % 2 == 1 => Some(sorted[n / 2]),
            n => Some((sorted[n / 2 - 1] + sorted[n / 2]) / 2.0),
        }
    }

    /// The mean CPU use over the rounds: `client / server`, in cores.
    fn cpu(&self) -> String {
        if self.cpu.is_empty() {
            return "–".to_string();
        }
        let n = self.cpu.len() as f64;
        let client = self.cpu.iter().map(|c| c.client).sum::<f64>() / n;
        let server = self.cpu.iter().map(|c| c.server).sum::<f64>() / n;
        format!("{client:.2} / {server:.2}")
    }

    /// Half the range of the rounds, relative to the median: how much to
    /// trust a difference between two rows.
    fn spread(&self) -> String {
        match (self.result.as_ref(), self.rate()) {
            (Ok(samples), Some(median)) if samples.len() > 1 && median > 0.0 => {
                let max = samples.iter().copied().fold(f64::MIN, f64::max);
                let min = samples.iter().copied().fold(f64::MAX, f64::min);
                format!("±{:.0}%", (max - min) / 2.0 / median * 100.0)
            }
            _ => "–".to_string(),
        }
    }
}

/// The best rate among `rows` of `workload` that `keep` accepts, with its row.
fn best(rows: &[Row], workload: Workload, keep: impl Fn(&Row) -> bool) -> Option<(f64, &Row)> {
    rows.iter()
        .filter(|row| row.workload == workload && keep(row))
        .filter_map(|row| row.rate().map(|rate| (rate, row)))
        .max_by(|a, b| a.0.total_cmp(&b.0))
}

/// `12,345,678`.
fn thousands(value: f64) -> String {
    let digits = format!("{:.0}", value);
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

fn ratio(numerator: Option<f64>, denominator: Option<f64>) -> String {
    match (numerator, denominator) {
        (Some(n), Some(d)) if d > 0.0 => format!("{:.2}×", n / d),
        _ => "–".to_string(),
    }
}

/// The main table: workload, client, rate, spread, ratio to the raw loop.
pub fn results(rows: &[Row]) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "| workload | client | rate | unit | spread | × raw loop | CPU client / server |"
    );
    let _ = writeln!(out, "|---|---|---:|---|---:|---:|---:|");
    for row in rows {
        let raw = best(rows, row.workload, |r| r.contestant.kind() == Kind::Raw).map(|b| b.0);
        let mut label = row.contestant.label(row.workload);
        if !row.contestant.comparable(row.workload) {
            label.push_str(" †");
        }
        let rate = match (&row.result, row.rate()) {
            (Err(error), _) => format!("FAILED: {error}"),
            (Ok(_), Some(rate)) => thousands(rate),
            (Ok(_), None) => "–".to_string(),
        };
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} | {} | {} |",
            row.workload.name(),
            label,
            rate,
            row.workload.unit(),
            row.spread(),
            ratio(row.rate(), raw),
            row.cpu(),
        );
    }
    out
}

/// Per workload: memclient's best runtime against the best peer and the raw loop.
pub fn summary(rows: &[Row]) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "| workload | memclient best | best peer | memclient / best peer | memclient / raw loop |"
    );
    let _ = writeln!(out, "|---|---|---|---:|---:|");
    for workload in Workload::ALL {
        let ours = best(rows, workload, |r| r.contestant.kind() == Kind::Memclient);
        let peer = best(rows, workload, |r| {
            r.contestant.kind() == Kind::Peer && r.contestant.comparable(workload)
        });
        let raw = best(rows, workload, |r| r.contestant.kind() == Kind::Raw);
        if ours.is_none() && peer.is_none() && raw.is_none() {
            continue;
        }
        let name = |best: Option<(f64, &Row)>| match best {
            Some((rate, row)) => {
                format!("{} ({})", row.contestant.label(workload), thousands(rate))
            }
            None => "–".to_string(),
        };
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} |",
            workload.name(),
            name(ours),
            name(peer),
            ratio(ours.map(|b| b.0), peer.map(|b| b.0)),
            ratio(ours.map(|b| b.0), raw.map(|b| b.0)),
        );
    }
    out
}

/// memclient's variants against their reference, per workload: the
/// layered rows against plain memclient/smol (the layers' cost), the
/// blocking client against memcache (the synchronous client users pick).
pub fn variants(rows: &[Row]) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "| workload | variant | rate | reference | rate | variant / reference |"
    );
    let _ = writeln!(out, "|---|---|---:|---|---:|---:|");
    let rate_of = |workload, contestant| {
        rows.iter()
            .find(|row| row.workload == workload && row.contestant == contestant)
            .and_then(Row::rate)
    };
    for row in rows
        .iter()
        .filter(|row| row.contestant.kind() == Kind::Variant)
    {
        let reference = match row.contestant {
            Contestant::Blocking => Contestant::Memcache,
            _ => Contestant::Memclient(crate::contestant::Runtime::Smol),
        };
        let theirs = rate_of(row.workload, reference);
        let show = |rate: Option<f64>| rate.map_or("–".to_string(), thousands);
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} | {} |",
            row.workload.name(),
            row.contestant.label(row.workload),
            show(row.rate()),
            reference.label(row.workload),
            show(theirs),
            ratio(row.rate(), theirs),
        );
    }
    out
}

/// The allocations table.
pub fn allocations(figures: &[(String, Result<f64, String>)]) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "| memclient on | steady state | heap allocations per op |"
    );
    let _ = writeln!(out, "|---|---|---:|");
    for (workload, figure) in figures {
        let figure = match figure {
            Ok(per_op) => format!("{per_op:.2}"),
            Err(error) => format!("FAILED: {error}"),
        };
        let _ = writeln!(out, "| {} | {} |", workload, figure);
    }
    out
}
