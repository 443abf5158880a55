//! [`Backend`]: the one seam between the layers of memclient.

use std::future::Future;

use crate::{Request, Response, Result};

/// Something that answers memcached requests: a connection, a pool, a cluster,
/// a retry layer around another backend, or the in-memory mock.
///
/// Every layer above the wire is a `Backend` wrapping a `Backend`, so a new
/// layer never touches the others. The [`Client`](crate::Client) turns the
/// untyped requests and responses into its typed API.
///
/// Error replies of the server (`ERROR`, `CLIENT_ERROR`, `SERVER_ERROR`) are
/// returned as `Err`; the backend stays usable after them.
pub trait Backend: Send + Sync {
    /// Sends one request and waits for its reply.
    ///
    /// A `noreply` request resolves to [`Response::NoReply`] once it is written.
    /// Dropping the future cancels the call: its reply, if one comes, is never
    /// handed to another call.
    fn call(&self, request: Request) -> impl Future<Output = Result<Response>> + Send;

    /// Sends several requests and waits for all their replies, in order.
    ///
    /// The default runs the calls concurrently; a connection writes them in one
    /// batch.
    fn call_many(
        &self,
        requests: Vec<Request>,
    ) -> impl Future<Output = Vec<Result<Response>>> + Send {
        futures_util::future::join_all(requests.into_iter().map(|request| self.call(request)))
    }

    /// Closes the backend: calls in flight finish or fail, its sockets close,
    /// and every later call fails with [`Error::Closed`](crate::Error::Closed)
    /// instead of reconnecting. The default does nothing (a backend without
    /// sockets, such as the mock).
    fn close(&self) -> impl Future<Output = ()> + Send {
        async {}
    }
}

impl<B: Backend + ?Sized> Backend for &B {
    fn call(&self, request: Request) -> impl Future<Output = Result<Response>> + Send {
        (**self).call(request)
    }

    fn close(&self) -> impl Future<Output = ()> + Send {
        (**self).close()
    }

    fn call_many(
        &self,
        requests: Vec<Request>,
    ) -> impl Future<Output = Vec<Result<Response>>> + Send {
        (**self).call_many(requests)
    }
}

impl<B: Backend + ?Sized> Backend for std::sync::Arc<B> {
    fn call(&self, request: Request) -> impl Future<Output = Result<Response>> + Send {
        (**self).call(request)
    }

    fn close(&self) -> impl Future<Output = ()> + Send {
        (**self).close()
    }

    fn call_many(
        &self,
        requests: Vec<Request>,
    ) -> impl Future<Output = Vec<Result<Response>>> + Send {
        (**self).call_many(requests)
    }
}
