//! Time-based measurement: each cell runs for a warm-up, then for a fixed
//! window, and its rate is what completed inside the window.
//!
//! Time-based rather than counted, so a slow client and a fast one take the
//! same wall time and the whole run has a predictable length.

use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::exec::Exec;

/// How long each cell warms up and is measured.
#[derive(Clone, Copy, Debug)]
pub struct Plan {
    /// Run, uncounted, for this long first (connections open, buffers grow,
    /// the server's caches warm).
    pub warmup: Duration,
    /// Then count what completes within this long.
    pub measure: Duration,
}

/// The measured window of one cell, shared by all its tasks.
#[derive(Clone, Copy, Debug)]
pub struct Window {
    start: Instant,
    end: Instant,
}

impl Window {
    /// A window that opens after the plan's warm-up, from now.
    pub fn from_now(plan: &Plan) -> Window {
        let start = Instant::now() + plan.warmup;
        Window {
            start,
            end: start + plan.measure,
        }
    }

    /// Units per second, given the units completed inside the window.
    pub fn rate(&self, units: u64) -> f64 {
        units as f64 / (self.end - self.start).as_secs_f64()
    }
}

/// Counts the units that complete inside a window.
#[derive(Debug)]
pub struct Meter {
    window: Window,
    counted: u64,
}

impl Meter {
    /// A meter whose window opens after the plan's warm-up, from now.
    pub fn start(plan: &Plan) -> Meter {
        Meter::new(Window::from_now(plan))
    }

    /// A meter for a window shared with other tasks.
    pub fn new(window: Window) -> Meter {
        Meter { window, counted: 0 }
    }

    /// Counts `units` if they completed inside the window. False once the
    /// window has closed: stop.
    pub fn record(&mut self, units: u64) -> bool {
        let now = Instant::now();
        if now >= self.window.start && now < self.window.end {
            self.counted += units;
        }
        now < self.window.end
    }

    /// The units counted.
    pub fn counted(&self) -> u64 {
        self.counted
    }

    /// The units per second.
    pub fn rate(&self) -> f64 {
        self.window.rate(self.counted)
    }
}

/// What one operation returns: the units it did (1, or the keys of a
/// `get_many`), or why it failed.
pub type Outcome = Result<u64, String>;

/// Runs `op(0)`, `op(1)`, ... one after another until the window closes.
/// Returns the units completed inside the window.
pub async fn async_loop<F, Fut>(window: Window, mut op: F) -> Result<u64, String>
where
    F: FnMut(u64) -> Fut,
    Fut: Future<Output = Outcome>,
{
    let mut meter = Meter::new(window);
    for i in 0.. {
        if !meter.record(op(i).await?) {
            break;
        }
    }
    Ok(meter.counted())
}

/// One client used sequentially: the units per second.
pub async fn sequential<F, Fut>(plan: &Plan, op: F) -> Result<f64, String>
where
    F: FnMut(u64) -> Fut,
    Fut: Future<Output = Outcome>,
{
    let window = Window::from_now(plan);
    let units = async_loop(window, op).await?;
    Ok(window.rate(units))
}

/// `tasks` spawned tasks, each running `op(task, i)` in a loop: the total
/// units per second.
pub async fn concurrent<E, F, Fut>(
    exec: &E,
    plan: &Plan,
    tasks: usize,
    op: F,
) -> Result<f64, String>
where
    E: Exec,
    F: Fn(usize, u64) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Outcome> + Send + 'static,
{
    let window = Window::from_now(plan);
    let op = Arc::new(op);
    let handles: Vec<_> = (0..tasks)
        .map(|task| {
            let op = op.clone();
            exec.spawn(async move { async_loop(window, |i| op(task, i)).await })
        })
        .collect();
    let mut total = 0;
    for handle in handles {
        total += handle.await?;
    }
    Ok(window.rate(total))
}

/// `threads` OS threads, each running `op(thread, i)` in a loop: the total
/// units per second. For the synchronous clients.
pub fn threads<F>(plan: &Plan, threads: usize, op: F) -> Result<f64, String>
where
    F: Fn(usize, u64) -> Outcome + Send + Sync,
{
    let window = Window::from_now(plan);
    let total = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..threads)
            .map(|thread| {
                let op = &op;
                scope.spawn(move || sync_loop(window, |i| op(thread, i)))
            })
            .collect();
        handles
            .into_iter()
            .map(|handle| handle.join().expect("a benchmark thread panicked"))
            .sum::<Result<u64, String>>()
    })?;
    Ok(window.rate(total))
}

/// One synchronous client used sequentially: the units per second.
pub fn sync_sequential(plan: &Plan, op: impl FnMut(u64) -> Outcome) -> Result<f64, String> {
    let window = Window::from_now(plan);
    let units = sync_loop(window, op)?;
    Ok(window.rate(units))
}

fn sync_loop(window: Window, mut op: impl FnMut(u64) -> Outcome) -> Result<u64, String> {
    let mut meter = Meter::new(window);
    for i in 0.. {
        if !meter.record(op(i)?) {
            break;
        }
    }
    Ok(meter.counted())
}
