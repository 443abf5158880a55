//! [`Traced`]: a `tracing` span around every call of a backend.

use std::time::Instant;

use tracing::field::Empty;
use tracing::{Instrument, Level, Span};

use super::classify::{Command, Outcome, Shape};
use crate::{Backend, Error, Request, Response, Result};

/// A [`Backend`] that opens one `tracing` span per call.
///
/// The span is named `memclient.call` (target `memclient`) and carries
/// `command` (`get`, `set`, `mg`...), `node` (when set with
/// [`node`](Self::node)), `keys` (how many the request names), and, when the
/// call ends, `outcome` (`hit`, `miss`, `partial` for a multi-key read that
/// found some, else the reply: `stored`, `not_stored`, `deleted`, ...;
/// `error`, or `cancelled` when the call's future was dropped), `hits`,
/// `misses`, `duration_us`, `stampede` for an `mg` of
/// [`get_or_compute`](crate::Client::get_or_compute) (`won`: this caller
/// recomputes; `lost`: another does; `stale`: a stale value was served) and,
/// for a failure, `error.kind`. A failure also
/// emits an event in the span. A batch (`call_many`) is one span with
/// `requests` and `errors` counts.
///
/// Keys, values and the text of error messages (which may quote a reply)
/// are left out unless [`record_contents`](Self::record_contents) is on.
///
/// With no subscriber interested in the span's level (DEBUG by default) the
/// layer costs a check of a static flag per call: no clock is read and no
/// field is formatted.
///
/// ```
/// # fn demo(mock: impl memclient::Backend) {
/// use memclient::observe::Traced;
/// let client = memclient::Client::new(Traced::new(mock).node("cache-1"));
/// # }
/// ```
#[derive(Debug, Clone)]
pub struct Traced<B> {
    inner: B,
    node: Option<String>,
    level: Level,
    contents: bool,
}

impl<B: Backend> Traced<B> {
    /// Traces the calls of `inner` at DEBUG level, without a node name.
    pub fn new(inner: B) -> Self {
        Traced {
            inner,
            node: None,
            level: Level::DEBUG,
            contents: false,
        }
    }
}

impl<B> Traced<B> {
    /// Names the node in every span (the `node` field): the server's address,
    /// or any name the user gives a backend.
    pub fn node(mut self, name: impl Into<String>) -> Self {
        self.node = Some(name.into());
        self
    }

    /// The level of the spans and events (DEBUG by default).
    pub fn level(mut self, level: Level) -> Self {
        self.level = level;
        self
    }

    /// Also record the keys (a `key` field: the first key, with `…` when
    /// there are more) and the full text of error messages. Off by
    /// default: keys and replies may be private.
    pub fn record_contents(mut self, on: bool) -> Self {
        self.contents = on;
        self
    }

    /// The wrapped backend.
    pub fn inner(&self) -> &B {
        &self.inner
    }

    fn span(&self, command: &'static str, keys: usize) -> Span {
        let node = self.node.as_deref();
        macro_rules! span_at {
            ($level:expr) => {
                tracing::span!(
                    target: "memclient",
                    $level,
                    "memclient.call",
                    command,
                    node,
                    keys,
                    requests = Empty,
                    outcome = Empty,
                    hits = Empty,
                    misses = Empty,
                    errors = Empty,
                    stampede = Empty,
                    duration_us = Empty,
                    error.kind = Empty,
                    error = Empty,
                    key = Empty,
                )
            };
        }
        match self.level {
            Level::ERROR => span_at!(Level::ERROR),
            Level::WARN => span_at!(Level::WARN),
            Level::INFO => span_at!(Level::INFO),
            Level::DEBUG => span_at!(Level::DEBUG),
            _ => span_at!(Level::TRACE),
        }
    }

    /// The event of a failed call, inside its span.
    fn failed(&self, span: &Span, error: &Error) {
        let kind = error.kind();
        let message = self.contents.then(|| error.to_string());
        let message = message.as_deref();
        macro_rules! event_at {
            ($level:expr) => {
                tracing::event!(
                    target: "memclient",
                    parent: span,
                    $level,
                    error.kind = kind,
                    error = message,
                    "memcached call failed"
                )
            };
        }
        match self.level {
            Level::ERROR => event_at!(Level::ERROR),
            Level::WARN => event_at!(Level::WARN),
            Level::INFO => event_at!(Level::INFO),
            Level::DEBUG => event_at!(Level::DEBUG),
            _ => event_at!(Level::TRACE),
        }
    }

    fn record_error(&self, span: &Span, error: &Error) {
        span.record("outcome", "error");
        span.record("error.kind", error.kind());
        if self.contents {
            span.record("error", tracing::field::display(error));
        }
        self.failed(span, error);
    }

    fn record_keys(&self, span: &Span, request: &Request) {
        let keys = request.keys();
        if let Some(first) = keys.first() {
            let more = if keys.len() > 1 { "…" } else { "" };
            span.record(
                "key",
                tracing::field::display(format_args!("{}{more}", first.escape_ascii())),
            );
        }
    }
}

/// Records `outcome`, `duration_us`, or `cancelled` if the call's future is
/// dropped before it ends.
struct Timing {
    span: Span,
    start: Instant,
    done: bool,
}

impl Timing {
    fn start(span: Span) -> Timing {
        Timing {
            span,
            start: Instant::now(),
            done: false,
        }
    }

    fn finish(&mut self) {
        self.done = true;
        let micros = self.start.elapsed().as_micros().min(u64::MAX as u128) as u64;
        self.span.record("duration_us", micros);
    }
}

impl Drop for Timing {
    fn drop(&mut self) {
        if !self.done {
            self.finish();
            self.span.record("outcome", "cancelled");
        }
    }
}

impl<B: Backend> Backend for Traced<B> {
    async fn call(&self, request: Request) -> Result<Response> {
        let command = Command::of(&request);
        let span = self.span(command.name(), request.keys().len());
        if span.is_disabled() {
            return self.inner.call(request).await;
        }
        if self.contents {
            self.record_keys(&span, &request);
        }
        let mut timing = Timing::start(span.clone());
        // Only the outcome needs the request after the call.
        let shape = Shape::of(&request);
        let result = self.inner.call(request).instrument(span.clone()).await;
        timing.finish();
        match &result {
            Ok(response) => {
                let outcome = shape.outcome(response);
                span.record("outcome", outcome_label(response, &outcome));
                if shape.is_read() {
                    span.record("hits", outcome.hits);
                    span.record("misses", outcome.misses);
                }
                let stampede = match (outcome.won, outcome.lost, outcome.stale) {
                    (0, 0, 0) => None,
                    (0, 0, _) => Some("stale"),
                    (0, _, _) => Some("lost"),
                    _ => Some("won"),
                };
                if let Some(stampede) = stampede {
                    span.record("stampede", stampede);
                }
            }
            Err(error) => self.record_error(&span, error),
        }
        result
    }

    async fn call_many(&self, requests: Vec<Request>) -> Vec<Result<Response>> {
        let first = requests.first().map(Command::of);
        let same = requests.iter().all(|r| Some(Command::of(r)) == first);
        let command = match first {
            Some(command) if same => command.name(),
            _ => "batch",
        };
        let keys = requests.iter().map(|r| r.keys().len()).sum();
        let span = self.span(command, keys);
        if span.is_disabled() {
            return self.inner.call_many(requests).await;
        }
        if self.contents {
            if let Some(request) = requests.first() {
                self.record_keys(&span, request);
            }
        }
        span.record("requests", requests.len());
        let mut timing = Timing::start(span.clone());
        let shapes: Vec<Shape> = requests.iter().map(Shape::of).collect();
        let results = self
            .inner
            .call_many(requests)
            .instrument(span.clone())
            .await;
        timing.finish();
        let (mut hits, mut misses, mut errors) = (0, 0, 0);
        let mut first_error = None;
        for (shape, result) in shapes.iter().zip(&results) {
            match result {
                Ok(response) => {
                    let outcome = shape.outcome(response);
                    hits += outcome.hits;
                    misses += outcome.misses;
                }
                Err(error) => {
                    errors += 1;
                    first_error.get_or_insert(error);
                }
            }
        }
        span.record("hits", hits);
        span.record("misses", misses);
        span.record("errors", errors);
        match first_error {
            Some(error) => self.record_error(&span, error),
            None => {
                span.record("outcome", "ok");
            }
        }
        results
    }
}

/// The `outcome` field of a successful call.
fn outcome_label(response: &Response, outcome: &Outcome) -> &'static str {
    match (outcome.hits, outcome.misses) {
        (0, 0) => {}
        (_, 0) => return "hit",
        (0, _) => return "miss",
        _ => return "partial",
    }
    match response {
        Response::Values(_) => "miss",
        Response::Stored => "stored",
        Response::NotStored => "not_stored",
        Response::Exists => "exists",
        Response::NotFound => "not_found",
        Response::Deleted => "deleted",
        Response::Touched => "touched",
        Response::Ok => "ok",
        Response::Number(_) => "number",
        Response::NoReply => "noreply",
        Response::Meta(reply) => match reply.status {
            Some(crate::MetaStatus::NotStored) => "not_stored",
            Some(crate::MetaStatus::Exists) => "exists",
            Some(crate::MetaStatus::NotFound) => "not_found",
            Some(crate::MetaStatus::Miss) => "miss",
            _ => "ok",
        },
        _ => "ok",
    }
}
