//! [`Cluster`], the handle: its nodes and their health, the clock it reads,
//! and one call to one node. Where a request goes is the
//! [router](super::router)'s decision; sending it there and gathering the
//! answers is [scatter](super::scatter)'s.

use std::io;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, RwLock};
use std::time::Instant;

use super::health::{Change, Health, NodeStatus, Ticket};
use super::options::{ClusterOptions, DeadKeys};
use super::scheme::NodeSpec;
use super::table::{Node, Table};
use crate::runtime::Runtime;
use crate::{Backend, Error, Request, Response, Result};

/// Many memcached servers behind one [`Backend`]: each key lives on one node,
/// chosen by the cluster's [`Hashing`](super::Hashing).
///
/// - A request for one key goes to the key's node.
/// - A retrieval of many keys is split by node, sent to the nodes at once,
///   and the replies merged: the hits come back in request order, as from
///   one server.
/// - [`Backend::call_many`] (the client's `set_many`, `delete_many`) is
///   grouped by node, each group sent as one batch, all groups at once; the
///   replies come back in the original order.
/// - Server-wide commands: `flush_all`, `verbosity`, `cache_memlimit`,
///   `slabs automove`, `lru_crawler` settings and `quit` go to every node and
///   fail if any node fails; `version` and `mn` ask the first node that answers.
/// - A meta command goes to its key's node (a binary key is routed on its
///   raw bytes); a meta batch is split by node like a retrieval, the replies
///   put back in order with their opaque tokens renumbered to the whole
///   batch's positions.
///   Commands with one answer per server (`stats`, `lru_crawler metadump`,
///   `slabs reassign`, raw commands) and `shutdown` are refused by
///   [`call`](Backend::call) with [`Error::IllegalInput`]: use
///   [`Cluster::call_all`], which returns each node's result by name.
///
/// A node whose calls fail with connection errors is retried, marked dead and
/// brought back as [`ClusterOptions`] say. Nodes can be added and removed
/// while calls run; only the keys of the changed node move.
///
/// The nodes' backends need a call timeout (`ConnectionOptions::timeout`, 2
/// seconds by default): it is what turns a stalled server into a failing
/// node. A connection whose reply is overdue retires its socket, so the
/// probe that brings a stalled node back runs on a new one.
///
/// Cheap to clone: clones share the nodes.
///
/// [`Cluster::open`] connects to servers by address; any backends will do,
/// here in-memory mocks, one of which fails:
///
/// ```
/// use memclient::{Client, Cluster, ClusterOptions, Error};
/// use memclient::runtime::Address;
/// use memclient_mock::MockMemcache;
///
/// # futures_lite::future::block_on(async {
/// let (a, b) = (MockMemcache::new(), MockMemcache::new());
/// let nodes = [
///     ("10.0.0.1:11211".parse::<Address>()?, a.clone()),
///     ("10.0.0.2:11211".parse::<Address>()?, b.clone()),
/// ];
/// let options = ClusterOptions::new().errors_as_misses(true);
/// let client = Client::new(Cluster::with_nodes(nodes, options)?);
///
/// let keys: Vec<String> = (0..20).map(|i| format!("key{i}")).collect();
/// client.set_many(keys.iter().map(|k| (k, "v"))).await?;
/// assert_eq!(a.len() + b.len(), 20);      // each key on one node
/// assert!(a.len() > 0 && b.len() > 0);
///
/// // A node that fails costs misses on its own keys only.
/// a.fail_next(1, Error::ConnectionClosed);
/// let hits = client.get_many(&keys).await?;
/// assert_eq!(hits.len(), b.len());
/// # Ok::<_, Error>(())
/// # }).unwrap();
/// ```
///
/// `B`, the backend of each node, defaults to [`Connection`](crate::Connection):
/// a cluster opened from addresses is a `Cluster`.
pub struct Cluster<B = crate::Connection> {
    inner: Arc<Inner<B>>,
}

struct Inner<B> {
    options: ClusterOptions,
    table: RwLock<Arc<Table<B>>>,
    /// Set by `close`: every call fails with `Error::Closed` after it.
    closed: AtomicBool,
    /// Where the deadlines of failing and dead nodes are read: a runtime's
    /// clock, or the system's for a cluster built without a runtime.
    clock: Option<Arc<dyn Runtime>>,
}

impl<B> Clone for Cluster<B> {
    fn clone(&self) -> Self {
        Cluster {
            inner: self.inner.clone(),
        }
    }
}

impl<B> std::fmt::Debug for Cluster<B> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Cluster")
            .field("nodes", &self.node_names())
            .field("options", &self.inner.options)
            .finish()
    }
}

impl<B> Cluster<B> {
    /// A cluster without nodes; add them with [`add_node`](Self::add_node).
    /// It reads the time from the system clock.
    pub fn new(options: ClusterOptions) -> Self {
        Cluster::with_clock(options, None)
    }

    /// A cluster without nodes that reads the time from `runtime`'s clock
    /// ([`Runtime::now`]): when failing nodes are probed again and dead ones
    /// return follow that clock, so a test runtime that drives its clock
    /// drives them too.
    pub fn with_runtime(options: ClusterOptions, runtime: impl Runtime) -> Self {
        Cluster::with_clock(options, Some(Arc::new(runtime)))
    }

    fn with_clock(options: ClusterOptions, clock: Option<Arc<dyn Runtime>>) -> Self {
        let now = clock
            .as_ref()
            .map_or_else(Instant::now, |clock| clock.now());
        let table = Table::new(Vec::new(), &options, now);
        Cluster {
            inner: Arc::new(Inner {
                options,
                table: RwLock::new(Arc::new(table)),
                closed: AtomicBool::new(false),
                clock,
            }),
        }
    }

    /// The time on the cluster's clock.
    pub(super) fn now(&self) -> Instant {
        match &self.inner.clock {
            Some(clock) => clock.now(),
            None => Instant::now(),
        }
    }

    /// A cluster of `nodes`: each a node (an [`Address`](crate::runtime::Address)
    /// or a [`NodeSpec`]) with its backend. Fails if two nodes share a name.
    pub fn with_nodes<N: Into<NodeSpec>>(
        nodes: impl IntoIterator<Item = (N, B)>,
        options: ClusterOptions,
    ) -> Result<Self> {
        let cluster = Cluster::new(options);
        for (node, backend) in nodes {
            cluster.add_node(node, backend)?;
        }
        Ok(cluster)
    }

    /// The cluster's options.
    pub fn options(&self) -> &ClusterOptions {
        &self.inner.options
    }

    /// Adds a node. Only the keys that now belong to it move. Fails if a node
    /// of that name is already there.
    pub fn add_node(&self, node: impl Into<NodeSpec>, backend: B) -> Result<()> {
        let spec = node.into();
        let mut table = self.write();
        if table.position(spec.name()).is_some() {
            return Err(Error::IllegalInput(format!(
                "node {} is already in the cluster",
                spec.name()
            )));
        }
        let mut nodes = table.nodes.clone();
        nodes.push(Arc::new(Node {
            spec,
            backend,
            health: Health::default(),
        }));
        *table = Arc::new(Table::new(nodes, &self.inner.options, self.now()));
        Ok(())
    }

    /// Removes the node called `name` (`host:port` or the socket path); only
    /// its keys move. Calls already sent to it finish there. False if there
    /// is no such node.
    pub fn remove_node(&self, name: &str) -> bool {
        let mut table = self.write();
        let Some(position) = table.position(name) else {
            return false;
        };
        let mut nodes = table.nodes.clone();
        nodes.remove(position);
        *table = Arc::new(Table::new(nodes, &self.inner.options, self.now()));
        true
    }

    /// The names of the nodes, in the order they were added.
    pub fn node_names(&self) -> Vec<String> {
        self.read()
            .nodes
            .iter()
            .map(|node| node.spec.name().to_string())
            .collect()
    }

    /// Each node's name and health.
    pub fn status(&self) -> Vec<(String, NodeStatus)> {
        self.read()
            .nodes
            .iter()
            .map(|node| (node.spec.name().to_string(), node.health.status()))
            .collect()
    }

    /// The node a call for `key` goes to now (with dead nodes remapped, not
    /// always the key's home). `None` without nodes.
    pub fn locate(&self, key: &[u8]) -> Option<String> {
        let table = self.table();
        table
            .route(key)
            .map(|index| table.nodes[index].spec.name().to_string())
    }

    /// The backend of the node called `name`.
    pub fn backend(&self, name: &str) -> Option<B>
    where
        B: Clone,
    {
        let table = self.read();
        table
            .position(name)
            .map(|index| table.nodes[index].backend.clone())
    }

    pub(super) fn read(&self) -> Arc<Table<B>> {
        self.inner
            .table
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .clone()
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, Arc<Table<B>>> {
        self.inner
            .table
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// The current table, rebuilt first if a dead node's time is up.
    pub(super) fn table(&self) -> Arc<Table<B>> {
        let table = self.read();
        match table.rebuild_at {
            Some(at) if self.now() >= at => self.rebuild(),
            _ => table,
        }
    }

    /// A new table of the same nodes, for their current health.
    fn rebuild(&self) -> Arc<Table<B>> {
        let mut table = self.write();
        let nodes = table.nodes.clone();
        *table = Arc::new(Table::new(nodes, &self.inner.options, self.now()));
        table.clone()
    }

    fn admit(&self, node: &Node<B>) -> Result<Ticket> {
        let now = self.now();
        node.health
            .admit(now, &self.inner.options.policy())
            .map_err(|until| down(node.spec.name(), until.saturating_duration_since(now)))
    }

    fn report(&self, node: &Node<B>, ticket: Ticket, failed: bool) {
        let change = node
            .health
            .report(ticket, failed, self.now(), &self.inner.options.policy());
        if change != Change::None {
            super::health::observe_change(node.spec.name(), change);
        }
        if change == Change::Died && self.inner.options.dead_keys == DeadKeys::Remap {
            self.rebuild();
        }
    }
}

impl<B: Backend> Cluster<B> {
    /// One request to one node, through its health.
    pub(super) async fn call_node(&self, node: &Node<B>, request: Request) -> Result<Response> {
        let ticket = self.admit(node)?;
        let result = node.backend.call(request).await;
        let failed = result.as_ref().is_err_and(Error::is_connection_error);
        self.report(node, ticket, failed);
        result.map_err(|error| name_node(node.spec.name(), error))
    }

    /// A batch to one node, through its health; as many replies as requests.
    pub(super) async fn call_node_many(
        &self,
        node: &Node<B>,
        requests: Vec<Request>,
    ) -> Vec<Result<Response>> {
        let count = requests.len();
        let ticket = match self.admit(node) {
            Ok(ticket) => ticket,
            Err(error) => return vec![Err(error); count],
        };
        let mut replies = node.backend.call_many(requests).await;
        // A backend that breaks the one-reply-per-request rule must not make
        // replies land on the wrong requests.
        replies.resize_with(count, || {
            Err(Error::Protocol(format!(
                "node {} answered fewer requests than it was sent",
                node.spec.name()
            )))
        });
        replies.truncate(count);
        let failed = replies
            .iter()
            .any(|reply| reply.as_ref().is_err_and(Error::is_connection_error));
        self.report(node, ticket, failed);
        let name = node.spec.name();
        replies
            .into_iter()
            .map(|reply| reply.map_err(|error| name_node(name, error)))
            .collect()
    }

    /// Closes every node's backend (see [`Backend::close`]); every later call
    /// fails with [`Error::Closed`], even with `errors_as_misses`.
    pub async fn close(&self) {
        self.inner.closed.store(true, Ordering::SeqCst);
        let table = self.table();
        futures_util::future::join_all(table.nodes.iter().map(|node| node.backend.close())).await;
    }

    /// True once [`close`](Self::close) was called.
    pub fn is_closed(&self) -> bool {
        self.inner.closed.load(Ordering::SeqCst)
    }
}

/// The error of a call to a node that is failing or dead.
fn down(name: &str, retry_in: std::time::Duration) -> Error {
    Error::from(io::Error::new(
        io::ErrorKind::NotConnected,
        format!("memcached node {name} is down; it will be tried again in {retry_in:?}"),
    ))
}

/// An I/O error that does not say which node it came from, with the node's
/// name (a socket's error mid-stream names nothing), so an outage says which
/// of the servers is out.
fn name_node(name: &str, error: Error) -> Error {
    match error {
        Error::Io(io) if !io.to_string().contains(name) => {
            Error::from(io::Error::new(io.kind(), format!("node {name}: {io}")))
        }
        other => other,
    }
}
