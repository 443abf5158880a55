//! Scatter and gather: each request sent where the [router](super::router)
//! says, the parts of a split request to their nodes at once, and the
//! answers gathered back in request order. [`Backend`] for [`Cluster`] is
//! here.

use std::future::Future;
use std::io;
use std::pin::Pin;

use super::handle::Cluster;
use super::router::{self, Group, Route};
use super::table::Table;
use crate::{
    Backend, Error, MetaCommand, MetaRequest, MetaResponse, MetaStatus, Request, Response, Result,
    Retrieve,
};

/// A boxed future of some replies and the positions they answer.
type Part<'a> = Pin<Box<dyn Future<Output = (Vec<usize>, Vec<Result<Response>>)> + Send + 'a>>;

impl<B: Backend> Backend for Cluster<B> {
    async fn call(&self, request: Request) -> Result<Response> {
        if self.is_closed() {
            return Err(Error::Closed);
        }
        let table = self.table();
        let route = router::route(request, |key| table.route(key));
        self.send(&table, route).await
    }

    async fn call_many(&self, requests: Vec<Request>) -> Vec<Result<Response>> {
        if self.is_closed() {
            return vec![Err(Error::Closed); requests.len()];
        }
        self.send_many(requests).await
    }

    async fn close(&self) {
        Cluster::close(self).await
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

    /// A routed request, sent.
    async fn send(&self, table: &Table<B>, route: Route) -> Result<Response> {
        match route {
            Route::Node {
                node,
                request,
                read,
            } => {
                let result = self.call_node(&table.nodes[node], request).await;
                self.gathered(read, result)
            }
            Route::NoNodes { read } => self.gathered(read, Err(no_nodes())),
            Route::Keys { retrieve, groups } => self.retrieve(table, retrieve, groups).await,
            Route::Batch {
                parts,
                groups,
                noops,
                count,
            } => self.meta_batch(table, parts, groups, noops, count).await,
            Route::AllNodes(request) => self.broadcast(table, request).await,
            Route::AnyNode(request) => self.first_answer(table, request).await,
            Route::OneServer => Err(Error::IllegalInput(
                "this command has one answer per server (or would stop them all): \
                 send it with Cluster::call_all"
                    .into(),
            )),
        }
    }

    /// A retrieval over several nodes: the parts sent at once, the hits
    /// merged in request order.
    async fn retrieve(
        &self,
        table: &Table<B>,
        retrieve: Retrieve,
        groups: Vec<Group>,
    ) -> Result<Response> {
        let calls = groups.iter().map(|group| {
            let part = router::part_keys(&retrieve, group);
            self.call_node(&table.nodes[group.node], Request::Retrieve(part))
        });
        let replies = futures_util::future::join_all(calls).await;
        let mut parts = Vec::with_capacity(groups.len());
        for (group, reply) in groups.iter().zip(replies) {
            match self.gathered(true, reply)? {
                Response::Values(values) => parts.push((group.positions.as_slice(), values)),
                other => {
                    return Err(Error::Protocol(format!(
                        "unexpected reply {} to a retrieval",
                        other.name()
                    )))
                }
            }
        }
        router::merge_hits(&retrieve.keys, parts).map(Response::Values)
    }

    /// A meta batch: each node's part sent as a batch, all at once; the
    /// replies put back in request order. A node that fails fails its own
    /// requests only (misses for reads with `errors_as_misses`).
    async fn meta_batch(
        &self,
        table: &Table<B>,
        parts: Vec<Vec<MetaRequest>>,
        groups: Vec<Group>,
        noops: Vec<usize>,
        count: usize,
    ) -> Result<Response> {
        let calls = groups
            .into_iter()
            .zip(parts)
            .map(|(group, part)| async move {
                let reads = part.iter().all(|r| r.command == MetaCommand::Get);
                let reply = self
                    .call_node(&table.nodes[group.node], Request::MetaBatch(part))
                    .await;
                (group.positions, reads, reply)
            });
        // The cluster's own answers to the batch's `mn`s, then each node's.
        let noop_replies = noops
            .iter()
            .map(|_| {
                Some(Ok(MetaResponse {
                    status: Some(MetaStatus::Noop),
                    ..MetaResponse::default()
                }))
            })
            .collect();
        let mut answered = vec![(noops, noop_replies)];
        for (positions, reads, reply) in futures_util::future::join_all(calls).await {
            let part: Vec<Option<Result<MetaResponse>>> = match reply {
                Ok(Response::MetaBatch(part)) if part.len() == positions.len() => part,
                Ok(other) => {
                    return Err(Error::Protocol(format!(
                        "unexpected reply {} to a meta batch",
                        other.name()
                    )))
                }
                Err(_) if reads && self.options().errors_as_misses => continue,
                Err(error) => positions.iter().map(|_| Some(Err(error.clone()))).collect(),
            };
            let part = positions
                .iter()
                .zip(part)
                .map(|(&position, reply)| {
                    reply.map(|reply| reply.map(|r| router::renumber(r, position)))
                })
                .collect();
            answered.push((positions, part));
        }
        let replies = router::place(count, answered);
        Ok(Response::MetaBatch(
            replies.into_iter().map(Option::flatten).collect(),
        ))
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

    /// Many requests: those whose keys all live on one node batched per
    /// node; the rest (server-wide commands, retrievals spanning nodes) one
    /// by one; all at once, the replies in request order.
    async fn send_many(&self, requests: Vec<Request>) -> Vec<Result<Response>> {
        let table = self.table();
        let table = &*table;
        let count = requests.len();
        // The requests bound for one node, with their positions and whether
        // each is a read; `nodes` pairs each (by its index there) with its node.
        let mut batched: Vec<(usize, Request, bool)> = Vec::new();
        let mut nodes = Vec::new();
        let mut singles = Vec::new();
        for (position, request) in requests.into_iter().enumerate() {
            match router::route(request, |key| table.route(key)) {
                Route::Node {
                    node,
                    request,
                    read,
                } => {
                    nodes.push((batched.len(), node));
                    batched.push((position, request, read));
                }
                route => singles.push((position, route)),
            }
        }
        let groups = router::group_by_node(nodes);
        let mut parts: Vec<Part<'_>> = Vec::with_capacity(groups.len() + singles.len());
        for (group, batch) in groups.iter().zip(router::partition(batched, &groups)) {
            let node = &table.nodes[group.node];
            parts.push(Box::pin(async move {
                let mut positions = Vec::with_capacity(batch.len());
                let mut reads = Vec::with_capacity(batch.len());
                let mut requests = Vec::with_capacity(batch.len());
                for (position, request, read) in batch {
                    positions.push(position);
                    requests.push(request);
                    reads.push(read);
                }
                let replies = self.call_node_many(node, requests).await;
                let replies = reads
                    .into_iter()
                    .zip(replies)
                    .map(|(read, reply)| self.gathered(read, reply))
                    .collect();
                (positions, replies)
            }));
        }
        for (position, route) in singles {
            parts.push(Box::pin(async move {
                (vec![position], vec![self.send(table, route).await])
            }));
        }
        let results = router::place(count, futures_util::future::join_all(parts).await);
        results
            .into_iter()
            .map(|result| result.unwrap_or(Err(Error::ConnectionClosed)))
            .collect()
    }

    /// A node's answer: for a read, an error is a miss when the options say
    /// so (invalid input stays an error).
    fn gathered(&self, read: bool, result: Result<Response>) -> Result<Response> {
        match result {
            Err(error)
                if read
                    && self.options().errors_as_misses
                    && !matches!(error, Error::IllegalInput(_)) =>
            {
                Ok(Response::Values(Vec::new()))
            }
            other => other,
        }
    }
}

/// The error of a call to a cluster without nodes.
fn no_nodes() -> Error {
    Error::from(io::Error::new(
        io::ErrorKind::NotConnected,
        "the cluster has no nodes",
    ))
}
