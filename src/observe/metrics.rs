//! [`Metered`]: counters, a gauge and a histogram for every call of a
//! backend, through the `metrics` facade.

use std::sync::{Arc, OnceLock};
use std::time::Instant;

use metrics::{Counter, Gauge, Histogram, Label};

use super::classify::{request_len, response_len, Command, Shape};
use crate::{Backend, Error, Request, Response, Result};

/// A [`Backend`] that counts its calls through the [`metrics`] facade, so
/// any exporter (Prometheus, StatsD, ...) sees them.
///
/// | metric | kind | labels |
/// | --- | --- | --- |
/// | `memclient_calls_total` | counter: calls started | `command` |
/// | `memclient_errors_total` | counter | `command`, `kind` (`io`, `timeout`, `server_error`, ...) |
/// | `memclient_timeouts_total` | counter | `command` |
/// | `memclient_cancelled_total` | counter: calls whose future was dropped | `command` |
/// | `memclient_hits_total`, `memclient_misses_total` | counter: keys of reads | |
/// | `memclient_stampede_total` | counter: `mg` replies that won a recompute (`W`), found another caller recomputing (`Z`) or a stale item (`X`): what [`get_or_compute`](crate::Client::get_or_compute) decides on | `result` (`won`, `lost`, `stale`) |
/// | `memclient_bytes_sent_total`, `memclient_bytes_received_total` | counter: an estimate from the request and reply sizes | |
/// | `memclient_in_flight` | gauge: calls started and not ended | |
/// | `memclient_call_duration_seconds` | histogram | `command` |
///
/// Every metric also carries the labels given with [`node`](Self::node) and
/// [`label`](Self::label). A batch (`call_many`) counts each of its requests
/// as a call, each with the batch's duration.
///
/// The handles are registered with the recorder installed when the layer
/// makes its first call: install the recorder before that. Keys and values
/// are never recorded.
///
/// ```
/// # fn demo(mock: impl memclient::Backend) {
/// use memclient::observe::Metered;
/// let client = memclient::Client::new(Metered::new(mock).node("cache-1"));
/// # }
/// ```
#[derive(Debug, Clone)]
pub struct Metered<B> {
    inner: B,
    labels: Vec<Label>,
    handles: Arc<Handles>,
}

/// The handles, registered on first use (per command for the per-command ones).
#[derive(Debug, Default)]
struct Handles {
    node: OnceLock<NodeHandles>,
    commands: [OnceLock<CommandHandles>; Command::ALL.len()],
}

#[derive(Debug)]
struct NodeHandles {
    hits: Counter,
    misses: Counter,
    sent: Counter,
    received: Counter,
    in_flight: Gauge,
    won: Counter,
    lost: Counter,
    stale: Counter,
}

#[derive(Debug)]
struct CommandHandles {
    calls: Counter,
    cancelled: Counter,
    duration: Histogram,
}

impl<B: Backend> Metered<B> {
    /// Counts the calls of `inner`, with no labels.
    pub fn new(inner: B) -> Self {
        Metered {
            inner,
            labels: Vec::new(),
            handles: Arc::default(),
        }
    }
}

impl<B> Metered<B> {
    /// Labels every metric `node=<name>`: the server's address, or any name
    /// the user gives a backend.
    pub fn node(self, name: impl Into<String>) -> Self {
        self.label("node", name)
    }

    /// Adds a label to every metric (a service name, a pool...).
    pub fn label(mut self, key: &'static str, value: impl Into<String>) -> Self {
        self.labels.push(Label::new(key, value.into()));
        // Labels changed: handles registered before (by a clone) stay theirs.
        self.handles = Arc::default();
        self
    }

    /// The wrapped backend.
    pub fn inner(&self) -> &B {
        &self.inner
    }

    fn with(&self, extra: &[(&'static str, &'static str)]) -> Vec<Label> {
        let mut labels = self.labels.clone();
        labels.extend(extra.iter().map(|&(key, value)| Label::new(key, value)));
        labels
    }

    fn node_handles(&self) -> &NodeHandles {
        self.handles.node.get_or_init(|| NodeHandles {
            hits: metrics::counter!("memclient_hits_total", self.with(&[])),
            misses: metrics::counter!("memclient_misses_total", self.with(&[])),
            sent: metrics::counter!("memclient_bytes_sent_total", self.with(&[])),
            received: metrics::counter!("memclient_bytes_received_total", self.with(&[])),
            in_flight: metrics::gauge!("memclient_in_flight", self.with(&[])),
            won: metrics::counter!("memclient_stampede_total", self.with(&[("result", "won")])),
            lost: metrics::counter!("memclient_stampede_total", self.with(&[("result", "lost")])),
            stale: metrics::counter!(
                "memclient_stampede_total",
                self.with(&[("result", "stale")])
            ),
        })
    }

    fn command_handles(&self, command: Command) -> &CommandHandles {
        self.handles.commands[command.index()].get_or_init(|| {
            let labels = self.with(&[("command", command.name())]);
            CommandHandles {
                calls: metrics::counter!("memclient_calls_total", labels.clone()),
                cancelled: metrics::counter!("memclient_cancelled_total", labels.clone()),
                duration: metrics::histogram!("memclient_call_duration_seconds", labels),
            }
        })
    }

    /// Counts a call starting; the guard counts its end.
    fn start(&self, request: &Request) -> Pending<'_> {
        let command = Command::of(request);
        let handles = self.command_handles(command);
        handles.calls.increment(1);
        let node = self.node_handles();
        node.sent.increment(request_len(request));
        node.in_flight.increment(1.0);
        Pending {
            node,
            handles,
            command,
            shape: Shape::of(request),
            start: Instant::now(),
            done: false,
        }
    }

    fn error(&self, command: Command, error: &Error) {
        let labels = self.with(&[("command", command.name()), ("kind", error.kind())]);
        metrics::counter!("memclient_errors_total", labels).increment(1);
        if matches!(error, Error::Timeout(_)) {
            let labels = self.with(&[("command", command.name())]);
            metrics::counter!("memclient_timeouts_total", labels).increment(1);
        }
    }
}

/// One call in flight: ends it in the counters when the reply comes, or
/// counts it cancelled when the call's future is dropped first.
struct Pending<'a> {
    node: &'a NodeHandles,
    handles: &'a CommandHandles,
    command: Command,
    shape: Shape,
    start: Instant,
    done: bool,
}

impl Pending<'_> {
    fn finish<B>(&mut self, layer: &Metered<B>, elapsed: f64, result: &Result<Response>) {
        self.done = true;
        self.node.in_flight.decrement(1.0);
        self.handles.duration.record(elapsed);
        match result {
            Ok(response) => {
                self.node.received.increment(response_len(response));
                let outcome = self.shape.outcome(response);
                if outcome.hits > 0 {
                    self.node.hits.increment(outcome.hits);
                }
                if outcome.misses > 0 {
                    self.node.misses.increment(outcome.misses);
                }
                for (count, counter) in [
                    (outcome.won, &self.node.won),
                    (outcome.lost, &self.node.lost),
                    (outcome.stale, &self.node.stale),
                ] {
                    if count > 0 {
                        counter.increment(count);
                    }
                }
            }
            Err(error) => layer.error(self.command, error),
        }
    }
}

impl Drop for Pending<'_> {
    fn drop(&mut self) {
        if !self.done {
            self.node.in_flight.decrement(1.0);
            self.handles.cancelled.increment(1);
        }
    }
}

impl<B: Backend> Backend for Metered<B> {
    async fn call(&self, request: Request) -> Result<Response> {
        let mut pending = self.start(&request);
        let result = self.inner.call(request).await;
        let elapsed = pending.start.elapsed().as_secs_f64();
        pending.finish(self, elapsed, &result);
        result
    }

    async fn call_many(&self, requests: Vec<Request>) -> Vec<Result<Response>> {
        let mut pending: Vec<Pending<'_>> = requests.iter().map(|r| self.start(r)).collect();
        let start = Instant::now();
        let results = self.inner.call_many(requests).await;
        let elapsed = start.elapsed().as_secs_f64();
        for (pending, result) in pending.iter_mut().zip(&results) {
            pending.finish(self, elapsed, result);
        }
        results
    }
}
