//! The tracing subscriber and metrics recorder the layered rows report to,
//! switched on and off between cells.
//!
//! Both are installed once, globally, before anything is measured; only the
//! observability layers emit anything, so the other rows never see them.
//! Off, the subscriber is interested in no callsite and the recorder hands
//! out no-op handles: what a service pays with the layers in its stack and
//! nothing collecting. On, spans are kept by tracing-subscriber's registry
//! (the storage every `fmt` or OpenTelemetry layer sits on) and metrics land
//! in metrics-util's atomic registry (the storage of the Prometheus
//! exporter): the cost of collecting, without the cost of exporting.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock};

use metrics::{Counter, Gauge, Histogram, Key, KeyName, Metadata, Recorder, SharedString, Unit};
use metrics_util::registry::{AtomicStorage, Registry};
use tracing::subscriber::Interest;
use tracing_subscriber::layer::{Context, SubscriberExt};

static ON: AtomicBool = AtomicBool::new(false);
static INSTALLED: OnceLock<()> = OnceLock::new();

/// Installs both (once) and switches them on or off.
pub fn collect(on: bool) {
    INSTALLED.get_or_init(|| {
        let subscriber = tracing_subscriber::registry().with(Switch);
        tracing::subscriber::set_global_default(subscriber).expect("no other subscriber");
        metrics::set_global_recorder(Switched(Arc::new(Registry::atomic())))
            .expect("no other recorder");
    });
    ON.store(on, Ordering::SeqCst);
    // Callsites cache the subscriber's interest: ask it again.
    tracing::callsite::rebuild_interest_cache();
}

fn on() -> bool {
    ON.load(Ordering::Relaxed)
}

/// A layer that lets every span and event through when on, none when off.
struct Switch;

impl<S: tracing::Subscriber> tracing_subscriber::Layer<S> for Switch {
    fn register_callsite(&self, _: &'static tracing::Metadata<'static>) -> Interest {
        if on() {
            Interest::always()
        } else {
            Interest::never()
        }
    }

    fn enabled(&self, _: &tracing::Metadata<'_>, _: Context<'_, S>) -> bool {
        on()
    }
}

/// metrics-util's atomic registry when on, no-op handles when off.
struct Switched(Arc<Registry<Key, AtomicStorage>>);

impl Recorder for Switched {
    fn describe_counter(&self, _: KeyName, _: Option<Unit>, _: SharedString) {}
    fn describe_gauge(&self, _: KeyName, _: Option<Unit>, _: SharedString) {}
    fn describe_histogram(&self, _: KeyName, _: Option<Unit>, _: SharedString) {}

    fn register_counter(&self, key: &Key, _: &Metadata<'_>) -> Counter {
        if !on() {
            return Counter::noop();
        }
        self.0
            .get_or_create_counter(key, |c| Counter::from_arc(c.clone()))
    }

    fn register_gauge(&self, key: &Key, _: &Metadata<'_>) -> Gauge {
        if !on() {
            return Gauge::noop();
        }
        self.0
            .get_or_create_gauge(key, |g| Gauge::from_arc(g.clone()))
    }

    fn register_histogram(&self, key: &Key, _: &Metadata<'_>) -> Histogram {
        if !on() {
            return Histogram::noop();
        }
        self.0
            .get_or_create_histogram(key, |h| Histogram::from_arc(h.clone()))
    }
}
