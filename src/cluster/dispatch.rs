//! [`Cluster`]: many servers behind one [`Backend`].

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, RwLock};
use std::time::Instant;

use bytes::Bytes;

use super::health::{Change, Health, NodeStatus, Ticket};
use super::locator::NodeSpec;
use super::options::{ClusterOptions, DeadKeys};
use super::table::{Node, Table};
use crate::{
    Backend, Error, LruCrawler, MetaCommand, MetaRequest, MetaResponse, MetaStatus, Request,
    Response, Result, Retrieve, Value,
};

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
pub struct Cluster<B> {
    inner: Arc<Inner<B>>,
}

struct Inner<B> {
    options: ClusterOptions,
    table: RwLock<Arc<Table<B>>>,
    /// Set by `close`: every call fails with `Error::Closed` after it.
    closed: AtomicBool,
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

/// A boxed future of some replies and the positions they answer.
type Part<'a> = Pin<Box<dyn Future<Output = Vec<(usize, Result<Response>)>> + Send + 'a>>;

impl<B> Cluster<B> {
    /// A cluster without nodes; add them with [`add_node`](Self::add_node).
    pub fn new(options: ClusterOptions) -> Self {
        let table = Table::new(Vec::new(), &options, Instant::now());
        Cluster {
            inner: Arc::new(Inner {
                options,
                table: RwLock::new(Arc::new(table)),
                closed: AtomicBool::new(false),
            }),
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
        *table = Arc::new(Table::new(nodes, &self.inner.options, Instant::now()));
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
        *table = Arc::new(Table::new(nodes, &self.inner.options, Instant::now()));
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
    fn table(&self) -> Arc<Table<B>> {
        let table = self.read();
        match table.rebuild_at {
            Some(at) if Instant::now() >= at => self.rebuild(),
            _ => table,
        }
    }

    /// A new table of the same nodes, for their current health.
    fn rebuild(&self) -> Arc<Table<B>> {
        let mut table = self.write();
        let nodes = table.nodes.clone();
        *table = Arc::new(Table::new(nodes, &self.inner.options, Instant::now()));
        table.clone()
    }

    fn admit(&self, node: &Node<B>) -> Result<Ticket> {
        let now = Instant::now();
        node.health
            .admit(now, &self.inner.options.policy())
            .map_err(|until| down(node.spec.name(), until.saturating_duration_since(now)))
    }

    fn report(&self, node: &Node<B>, ticket: Ticket, failed: bool) {
        let change =
            node.health
                .report(ticket, failed, Instant::now(), &self.inner.options.policy());
        if change != Change::None {
            super::health::observe_change(node.spec.name(), change);
        }
        if change == Change::Died && self.inner.options.dead_keys == DeadKeys::Remap {
            self.rebuild();
        }
    }

    /// A read's error as a miss, when the options say so.
    fn read_result(&self, result: Result<Response>) -> Result<Response> {
        match result {
            Err(error)
                if self.inner.options.errors_as_misses
                    && !matches!(error, Error::IllegalInput(_)) =>
            {
                Ok(Response::Values(Vec::new()))
            }
            other => other,
        }
    }
}

impl<B: Backend> Cluster<B> {
    /// Sends `request` to every node at once; each node's name with its result,
    /// in the order the nodes were added. For per-server answers such as `stats`.
    pub async fn call_all(&self, request: Request) -> Vec<(String, Result<Response>)> {
        let table = self.table();
        if self.is_closed() {
            return table
                .nodes
                .iter()
                .map(|node| (node.spec.name().to_string(), Err(Error::Closed)))
                .collect();
        }
        let calls = table.nodes.iter().map(|node| {
            let request = request.clone();
            async move {
                let result = self.call_node(node, request).await;
                (node.spec.name().to_string(), result)
            }
        });
        futures_util::future::join_all(calls).await
    }

    /// One request to one node, through its health.
    pub(super) async fn call_node(&self, node: &Node<B>, request: Request) -> Result<Response> {
        let ticket = self.admit(node)?;
        let result = node.backend.call(request).await;
        let failed = result.as_ref().is_err_and(Error::is_connection_error);
        self.report(node, ticket, failed);
        result.map_err(|error| name_node(node.spec.name(), error))
    }

    /// A batch to one node, through its health; as many replies as requests.
    async fn call_node_many(
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

    async fn dispatch(&self, table: &Table<B>, request: Request) -> Result<Response> {
        match request {
            Request::Retrieve(retrieve) => self.retrieve(table, retrieve).await,
            Request::Store(_)
            | Request::Delete { .. }
            | Request::Arith { .. }
            | Request::Touch { .. } => {
                let key = request.keys().first().cloned().unwrap_or_default();
                match table.route(&key) {
                    Some(index) => self.call_node(&table.nodes[index], request).await,
                    None => Err(no_nodes()),
                }
            }
            Request::FlushAll { .. }
            | Request::Verbosity { .. }
            | Request::CacheMemlimit { .. }
            | Request::SlabsAutomove { .. }
            | Request::Quit
            | Request::Lru(_)
            | Request::LruCrawler(
                LruCrawler::Enable
                | LruCrawler::Disable
                | LruCrawler::Sleep(_)
                | LruCrawler::ToCrawl(_)
                | LruCrawler::Crawl(_),
            ) => self.broadcast(table, request).await,
            Request::Version => self.first_answer(table, request).await,
            Request::Meta(meta) if meta.command == MetaCommand::Noop => {
                self.first_answer(table, Request::Meta(meta)).await
            }
            // Routed on the raw key: a binary key lives where its bytes
            // hash, whatever form the codec sends it in.
            Request::Meta(meta) => match table.route(&meta.key) {
                Some(index) => {
                    self.call_node(&table.nodes[index], Request::Meta(meta))
                        .await
                }
                None => Err(no_nodes()),
            },
            Request::MetaBatch(batch) => self.meta_batch(table, batch).await,
            Request::Stats { .. }
            | Request::SlabsReassign { .. }
            | Request::LruCrawler(LruCrawler::Metadump(_))
            | Request::Raw(_)
            | Request::Shutdown { .. } => Err(Error::IllegalInput(
                "this command has one answer per server (or would stop them all): \
                 send it with Cluster::call_all"
                    .into(),
            )),
        }
    }

    /// A retrieval: split by node, sent at once, merged in request order.
    async fn retrieve(&self, table: &Table<B>, retrieve: Retrieve) -> Result<Response> {
        let mut groups: Vec<(usize, Vec<usize>)> = Vec::new();
        for (position, key) in retrieve.keys.iter().enumerate() {
            let Some(node) = table.route(key) else {
                return self.read_result(Err(no_nodes()));
            };
            match groups.iter_mut().find(|(index, _)| *index == node) {
                Some((_, positions)) => positions.push(position),
                None => groups.push((node, vec![position])),
            }
        }
        match groups.len() {
            0 => Ok(Response::Values(Vec::new())),
            1 => {
                let node = &table.nodes[groups[0].0];
                let result = self.call_node(node, Request::Retrieve(retrieve)).await;
                self.read_result(result)
            }
            _ => {
                let command = retrieve.command;
                let keys = &retrieve.keys;
                let calls = groups.iter().map(|(index, positions)| {
                    let part = Retrieve {
                        command,
                        keys: positions.iter().map(|&p| keys[p].clone()).collect(),
                    };
                    self.call_node(&table.nodes[*index], Request::Retrieve(part))
                });
                let replies = futures_util::future::join_all(calls).await;
                let mut parts = Vec::with_capacity(groups.len());
                for ((_, positions), reply) in groups.iter().zip(replies) {
                    match self.read_result(reply)? {
                        Response::Values(values) => parts.push((positions.as_slice(), values)),
                        other => {
                            return Err(Error::Protocol(format!(
                                "unexpected reply {} to a retrieval",
                                other.name()
                            )))
                        }
                    }
                }
                merge(keys, parts).map(Response::Values)
            }
        }
    }

    /// A meta batch: split by node, each part sent as a batch, all at once;
    /// the replies put back in request order. A node that fails fails its
    /// own requests only (misses for reads with `errors_as_misses`).
    async fn meta_batch(&self, table: &Table<B>, batch: Vec<MetaRequest>) -> Result<Response> {
        let count = batch.len();
        let mut replies: Vec<Option<Result<MetaResponse>>> = (0..count).map(|_| None).collect();
        let mut groups: Vec<(usize, Vec<usize>, Vec<MetaRequest>)> = Vec::new();
        for (position, request) in batch.into_iter().enumerate() {
            if request.command == MetaCommand::Noop {
                // Answered here: a `mn` inside a batch is never sent.
                replies[position] = Some(Ok(MetaResponse {
                    status: Some(MetaStatus::Noop),
                    ..MetaResponse::default()
                }));
                continue;
            }
            let Some(node) = table.route(&request.key) else {
                return Err(no_nodes());
            };
            match groups.iter_mut().find(|(index, ..)| *index == node) {
                Some((_, positions, part)) => {
                    positions.push(position);
                    part.push(request);
                }
                None => groups.push((node, vec![position], vec![request])),
            }
        }
        let calls = groups
            .into_iter()
            .map(|(index, positions, part)| async move {
                let reads = part.iter().all(|r| r.command == MetaCommand::Get);
                let reply = self
                    .call_node(&table.nodes[index], Request::MetaBatch(part))
                    .await;
                (positions, reads, reply)
            });
        for (positions, reads, reply) in futures_util::future::join_all(calls).await {
            let part: Vec<Option<Result<MetaResponse>>> = match reply {
                Ok(Response::MetaBatch(part)) if part.len() == positions.len() => part,
                Ok(other) => {
                    return Err(Error::Protocol(format!(
                        "unexpected reply {} to a meta batch",
                        other.name()
                    )))
                }
                Err(_) if reads && self.inner.options.errors_as_misses => continue,
                Err(error) => positions.iter().map(|_| Some(Err(error.clone()))).collect(),
            };
            for (&position, reply) in positions.iter().zip(part) {
                replies[position] = reply.map(|reply| reply.map(|r| renumber(r, position)));
            }
        }
        Ok(Response::MetaBatch(replies))
    }

    /// A server-wide command to every node; the first error, or the first reply.
    async fn broadcast(&self, table: &Table<B>, request: Request) -> Result<Response> {
        let calls = table
            .nodes
            .iter()
            .map(|node| self.call_node(node, request.clone()));
        let mut first = Err(no_nodes());
        for (index, result) in futures_util::future::join_all(calls)
            .await
            .into_iter()
            .enumerate()
        {
            match result {
                Err(error) => return Err(error),
                Ok(response) if index == 0 => first = Ok(response),
                Ok(_) => {}
            }
        }
        first
    }

    /// The reply of the first node (in the order they were added) that answers.
    async fn first_answer(&self, table: &Table<B>, request: Request) -> Result<Response> {
        let mut last = Err(no_nodes());
        for node in &table.nodes {
            last = self.call_node(node, request.clone()).await;
            if last.is_ok() {
                break;
            }
        }
        last
    }

    async fn dispatch_many(&self, requests: Vec<Request>) -> Vec<Result<Response>> {
        let table = self.table();
        let table = &*table;
        let count = requests.len();
        // Requests whose keys all live on one node, batched per node; the
        // rest (server-wide commands, retrievals spanning nodes) one by one.
        let mut batches: Vec<(usize, Vec<usize>, Vec<Request>)> = Vec::new();
        let mut singles: Vec<(usize, Request)> = Vec::new();
        for (position, request) in requests.into_iter().enumerate() {
            match one_node(table, &request) {
                Some(node) => match batches.iter_mut().find(|(index, ..)| *index == node) {
                    Some((_, positions, batch)) => {
                        positions.push(position);
                        batch.push(request);
                    }
                    None => batches.push((node, vec![position], vec![request])),
                },
                None => singles.push((position, request)),
            }
        }
        let mut parts: Vec<Part<'_>> = Vec::with_capacity(batches.len() + singles.len());
        for (index, positions, batch) in batches {
            parts.push(Box::pin(async move {
                let reads: Vec<bool> = batch
                    .iter()
                    .map(|request| matches!(request, Request::Retrieve(_)))
                    .collect();
                let replies = self.call_node_many(&table.nodes[index], batch).await;
                positions
                    .into_iter()
                    .zip(reads)
                    .zip(replies)
                    .map(|((position, read), reply)| {
                        (position, if read { self.read_result(reply) } else { reply })
                    })
                    .collect()
            }));
        }
        for (position, request) in singles {
            parts.push(Box::pin(async move {
                vec![(position, self.dispatch(table, request).await)]
            }));
        }
        let mut results: Vec<Option<Result<Response>>> = (0..count).map(|_| None).collect();
        for part in futures_util::future::join_all(parts).await {
            for (position, result) in part {
                if let Some(slot) = results.get_mut(position) {
                    *slot = Some(result);
                }
            }
        }
        results
            .into_iter()
            .map(|result| result.unwrap_or(Err(Error::ConnectionClosed)))
            .collect()
    }
}

impl<B: Backend> Cluster<B> {
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

impl<B: Backend> Backend for Cluster<B> {
    async fn call(&self, request: Request) -> Result<Response> {
        if self.is_closed() {
            return Err(Error::Closed);
        }
        let table = self.table();
        self.dispatch(&table, request).await
    }

    async fn call_many(&self, requests: Vec<Request>) -> Vec<Result<Response>> {
        if self.is_closed() {
            return vec![Err(Error::Closed); requests.len()];
        }
        self.dispatch_many(requests).await
    }

    async fn close(&self) {
        Cluster::close(self).await
    }
}

/// The node all of the request's keys live on, if it has keys and they agree.
fn one_node<B>(table: &Table<B>, request: &Request) -> Option<usize> {
    let (first, rest) = request.keys().split_first()?;
    let node = table.route(first)?;
    rest.iter()
        .all(|key| table.route(key) == Some(node))
        .then_some(node)
}

/// The hits of each node's part, put back in request order.
///
/// Each part lists the request positions it asked for, and the server
/// answered the hits among them in that order; so a walk through both pairs
/// every value with its position (repeated keys included).
fn merge(keys: &[Bytes], parts: Vec<(&[usize], Vec<Value>)>) -> Result<Vec<Value>> {
    let mut slots: Vec<Option<Value>> = (0..keys.len()).map(|_| None).collect();
    for (positions, values) in parts {
        let mut values = values.into_iter().peekable();
        for &position in positions {
            let Some(key) = keys.get(position) else {
                continue;
            };
            if values.peek().is_some_and(|value| value.key == key) {
                slots[position] = values.next();
            }
        }
        if let Some(extra) = values.next() {
            return Err(Error::protocol(
                "a server answered a key it was not asked for, or out of order",
                &extra.key,
            ));
        }
    }
    Ok(slots.into_iter().flatten().collect())
}

/// A reply of a batch part with its opaque token (the part's index) set to
/// the request's position in the whole batch.
fn renumber(mut reply: MetaResponse, position: usize) -> MetaResponse {
    if let Some(flag) = reply.flags.iter_mut().find(|flag| flag.flag == b'O') {
        flag.token = Some(Bytes::from(position.to_string()));
    }
    reply
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

/// The error of a call to a cluster without nodes.
fn no_nodes() -> Error {
    Error::from(io::Error::new(
        io::ErrorKind::NotConnected,
        "the cluster has no nodes",
    ))
}
