//! The three executors the async clients run on, behind one small trait, so a
//! workload is written once and run on each.
//!
//! Every measured loop runs in a spawned task (not in `block_on` on the main
//! thread), as the handlers of a real service do.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

/// A boxed, sendable future.
pub type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send + 'static>>;

/// Runs futures to completion and spawns tasks.
pub trait Exec: Clone + Send + Sync + 'static {
    /// Blocks the calling thread on `future`.
    fn block_on<T>(&self, future: impl Future<Output = T>) -> T;

    /// Spawns `future` as a task; the returned future resolves to its output.
    fn spawn<T: Send + 'static>(
        &self,
        future: impl Future<Output = T> + Send + 'static,
    ) -> BoxFuture<T>;

    /// Runs `future` as a spawned task and waits for it.
    fn run<T: Send + 'static>(&self, future: impl Future<Output = T> + Send + 'static) -> T {
        self.block_on(self.spawn(future))
    }
}

/// smol's global executor (its tasks run on smol's executor thread).
#[derive(Clone, Copy, Debug)]
pub struct SmolExec;

impl Exec for SmolExec {
    fn block_on<T>(&self, future: impl Future<Output = T>) -> T {
        smol::block_on(future)
    }

    fn spawn<T: Send + 'static>(
        &self,
        future: impl Future<Output = T> + Send + 'static,
    ) -> BoxFuture<T> {
        Box::pin(smol::spawn(future))
    }
}

/// async-std's global executor.
#[derive(Clone, Copy, Debug)]
pub struct AsyncStdExec;

impl Exec for AsyncStdExec {
    fn block_on<T>(&self, future: impl Future<Output = T>) -> T {
        async_std::task::block_on(future)
    }

    fn spawn<T: Send + 'static>(
        &self,
        future: impl Future<Output = T> + Send + 'static,
    ) -> BoxFuture<T> {
        Box::pin(async_std::task::spawn(future))
    }
}

/// A multi-threaded tokio runtime with one worker per core, as `#[tokio::main]`
/// builds it.
#[derive(Clone, Debug)]
pub struct TokioExec {
    runtime: Arc<tokio::runtime::Runtime>,
}

impl TokioExec {
    /// A new runtime.
    pub fn new() -> Self {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()
            .expect("a tokio runtime");
        TokioExec {
            runtime: Arc::new(runtime),
        }
    }
}

impl Exec for TokioExec {
    fn block_on<T>(&self, future: impl Future<Output = T>) -> T {
        self.runtime.block_on(future)
    }

    fn spawn<T: Send + 'static>(
        &self,
        future: impl Future<Output = T> + Send + 'static,
    ) -> BoxFuture<T> {
        let handle = self.runtime.spawn(future);
        Box::pin(async move { handle.await.expect("a benchmark task panicked") })
    }
}
