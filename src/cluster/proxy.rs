//! [`Twemproxy`]: a backend in front of twemproxy, which proxies only part
//! of the protocol.

use std::future::Future;

use crate::{Backend, Error, Request, Response, Result, RetrieveCommand};

/// A backend that talks to twemproxy (nutcracker 0.5) rather than to
/// memcached, and refuses up front, with [`Error::IllegalInput`], the
/// commands twemproxy does not proxy.
///
/// twemproxy answers a command it does not know by closing the connection,
/// which a client can only report as a closed connection (and every call in
/// flight on it fails too). Wrapped in `Twemproxy`, such a call fails alone,
/// before any byte is written, with a message that names the command.
///
/// Proxied: `get`, `gets` (any number of keys, over any servers), `set`,
/// `add`, `replace`, `append`, `prepend`, `cas`, `incr`, `decr`, `touch`,
/// `delete`, each with `noreply`, and `version` and `quit`. Refused: `gat`,
/// `gats`, the meta commands (so keep [`MultiGet::Classic`](crate::MultiGet)
/// and ASCII keys), `stats`, `flush_all`, `verbosity`, `cache_memlimit`,
/// `shutdown`, `slabs`, `lru_crawler`. [`Request::Raw`] lines pass through
/// unchecked. Administer the servers behind the proxy directly.
///
/// ```
/// use memclient::cluster::Twemproxy;
/// use memclient::{Backend, Error, Request};
/// use memclient_mock::MockMemcache;
///
/// # futures_lite::future::block_on(async {
/// let proxy = Twemproxy::new(MockMemcache::new());
/// let err = proxy.call(Request::FlushAll { delay: None, noreply: false }).await.unwrap_err();
/// assert!(matches!(err, Error::IllegalInput(_)));
/// assert!(err.to_string().contains("flush_all"));
/// # });
/// ```
#[derive(Debug, Clone)]
pub struct Twemproxy<B> {
    inner: B,
}

impl<B> Twemproxy<B> {
    /// Wraps the backend connected to twemproxy's listen address.
    pub fn new(inner: B) -> Self {
        Twemproxy { inner }
    }

    /// The wrapped backend.
    pub fn get_ref(&self) -> &B {
        &self.inner
    }

    /// Unwraps the backend.
    pub fn into_inner(self) -> B {
        self.inner
    }
}

/// `Ok` when twemproxy 0.5 proxies `request`; otherwise the error
/// [`Twemproxy`] answers with.
pub fn twemproxy_supports(request: &Request) -> Result<()> {
    let refused = match request {
        Request::Retrieve(retrieve) => match retrieve.command {
            RetrieveCommand::Get | RetrieveCommand::Gets => return Ok(()),
            RetrieveCommand::Gat { .. } => "gat",
            RetrieveCommand::Gats { .. } => "gats",
        },
        Request::Store(_)
        | Request::Delete { .. }
        | Request::Arith { .. }
        | Request::Touch { .. }
        | Request::Version
        | Request::Quit
        | Request::Raw(_) => return Ok(()),
        Request::Stats { .. } => "stats",
        Request::FlushAll { .. } => "flush_all",
        Request::Verbosity { .. } => "verbosity",
        Request::CacheMemlimit { .. } => "cache_memlimit",
        Request::Shutdown { .. } => "shutdown",
        Request::SlabsReassign { .. } | Request::SlabsAutomove { .. } => "slabs",
        Request::LruCrawler(_) => "lru_crawler",
        Request::Meta(_) | Request::MetaBatch(_) => "the meta commands (mg, ms, md, ma, mn, me)",
        #[allow(unreachable_patterns)]
        _ => "this command",
    };
    Err(Error::IllegalInput(format!(
        "twemproxy does not proxy {refused} (it would close the connection); \
         send it to the servers behind the proxy directly"
    )))
}

impl<B: Backend> Backend for Twemproxy<B> {
    fn call(&self, request: Request) -> impl Future<Output = Result<Response>> + Send {
        let checked = twemproxy_supports(&request);
        async move {
            checked?;
            self.inner.call(request).await
        }
    }

    fn call_many(
        &self,
        requests: Vec<Request>,
    ) -> impl Future<Output = Vec<Result<Response>>> + Send {
        // The refused ones answer in place; the rest go in one batch.
        let checks: Vec<Result<()>> = requests.iter().map(twemproxy_supports).collect();
        let sent: Vec<Request> = requests
            .into_iter()
            .zip(&checks)
            .filter(|(_, check)| check.is_ok())
            .map(|(request, _)| request)
            .collect();
        async move {
            let mut replies = self.inner.call_many(sent).await.into_iter();
            checks
                .into_iter()
                .map(|check| match check {
                    Ok(()) => replies.next().unwrap_or(Err(Error::ConnectionClosed)),
                    Err(err) => Err(err),
                })
                .collect()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::Bytes;

    /// Answers every request with the version, counting what it was sent.
    struct Echo(std::sync::atomic::AtomicUsize);

    impl Backend for Echo {
        async fn call(&self, _request: Request) -> Result<Response> {
            self.0.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            Ok(Response::Version(Bytes::from_static(b"1.6.18")))
        }
    }

    #[test]
    fn refused_requests_answer_in_place_and_the_rest_are_sent() {
        let proxy = Twemproxy::new(Echo(Default::default()));
        let replies = futures_util::FutureExt::now_or_never(proxy.call_many(vec![
            Request::Version,
            Request::Stats { args: vec![] },
            Request::Version,
            Request::Verbosity {
                level: 1,
                noreply: false,
            },
        ]))
        .expect("ready");
        assert!(matches!(replies[0], Ok(Response::Version(_))));
        assert!(matches!(&replies[1], Err(Error::IllegalInput(m)) if m.contains("stats")));
        assert!(matches!(replies[2], Ok(Response::Version(_))));
        assert!(matches!(&replies[3], Err(Error::IllegalInput(m)) if m.contains("verbosity")));
        assert_eq!(
            proxy.get_ref().0.load(std::sync::atomic::Ordering::SeqCst),
            2
        );
    }
}
