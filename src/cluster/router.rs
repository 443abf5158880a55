//! The router: which node or nodes a request goes to, how a request of many
//! keys splits by node, and how the nodes' answers are put back in request
//! order.
//!
//! Pure: no I/O, no backends, no clock. A node is the index that the
//! cluster's table gives for a key (`node_of`), so the rules are tested with
//! any function of keys. [`Request::scope`] (protocol knowledge, in `proto`'s table) is
//! the one place the cluster decides by the kind of a request; [`group_by_node`] is the one place keys are
//! grouped by node, for retrievals, meta batches and `call_many` alike.

use bytes::Bytes;

pub(crate) use crate::proto::Scope;

use crate::{Error, MetaCommand, MetaRequest, MetaResponse, Request, Result, Retrieve, Value};

/// Where one request goes, with what is sent there.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Route {
    /// The whole request to one node: its key's, or the one all its keys
    /// share. `read`: a retrieval, whose failure is a miss when the cluster
    /// takes errors as misses.
    Node {
        node: usize,
        request: Request,
        read: bool,
    },
    /// A retrieval over several nodes: each group's keys to its node, the
    /// hits merged back with [`merge_hits`].
    Keys {
        retrieve: Retrieve,
        groups: Vec<Group>,
    },
    /// A meta batch: each group's requests to its node as one batch (the
    /// parts, in the groups' order), the replies put back with [`place`].
    /// The `mn`s of the batch (at `noops`) are answered by the cluster and
    /// never sent.
    Batch {
        parts: Vec<Vec<MetaRequest>>,
        groups: Vec<Group>,
        noops: Vec<usize>,
        count: usize,
    },
    /// To every node; the request fails if one node fails.
    AllNodes(Request),
    /// To the first node that answers.
    AnyNode(Request),
    /// Refused: it asks for one server's own state.
    OneServer,
    /// The cluster has no node. `read` as for [`Route::Node`].
    NoNodes { read: bool },
}

/// One node's share of a split request: the node, and the positions (in the
/// request) of the items it gets, in request order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Group {
    pub node: usize,
    pub positions: Vec<usize>,
}

/// Where `request` goes, when `node_of` names the node of a key (`None`
/// when there are no nodes).
pub(crate) fn route(request: Request, node_of: impl Fn(&[u8]) -> Option<usize>) -> Route {
    match request.scope() {
        Scope::Key => to_key_node(request, node_of),
        Scope::Keys => split(request, node_of),
        Scope::AllNodes => Route::AllNodes(request),
        Scope::AnyNode => Route::AnyNode(request),
        Scope::OneServer => Route::OneServer,
    }
}

/// The whole request to the node of its (first) key. Meta commands are
/// routed on the raw key: a binary key lives where its bytes hash, whatever
/// form the codec sends it in.
fn to_key_node(request: Request, node_of: impl Fn(&[u8]) -> Option<usize>) -> Route {
    let key = request.keys().first().map_or(&[][..], |key| &key[..]);
    match node_of(key) {
        Some(node) => Route::Node {
            node,
            request,
            read: false,
        },
        None => Route::NoNodes { read: false },
    }
}

/// A request of many keys taken apart by node: a retrieval's keys, or a
/// meta batch's requests (the two shapes of [`Scope::Keys`]).
fn split(request: Request, node_of: impl Fn(&[u8]) -> Option<usize>) -> Route {
    let batch = match request {
        Request::MetaBatch(batch) => batch,
        Request::Retrieve(retrieve) => return split_keys(retrieve, node_of),
        // No other request has many keys; one that did would go whole
        // to its first key's node.
        other => return to_key_node(other, node_of),
    };
    let count = batch.len();
    let mut noops = Vec::new();
    let mut nodes = Vec::with_capacity(count);
    for (position, meta) in batch.iter().enumerate() {
        if meta.command == MetaCommand::Noop {
            // Answered by the cluster: a `mn` inside a batch is never sent.
            noops.push(position);
            continue;
        }
        match node_of(&meta.key) {
            Some(node) => nodes.push((position, node)),
            None => return Route::NoNodes { read: false },
        }
    }
    let groups = group_by_node(nodes);
    Route::Batch {
        parts: partition(batch, &groups),
        groups,
        noops,
        count,
    }
}

/// A retrieval split by node. Keys that all live on one node go there as
/// they are, in one request; a retrieval of no keys has no groups.
fn split_keys(retrieve: Retrieve, node_of: impl Fn(&[u8]) -> Option<usize>) -> Route {
    let mut nodes = Vec::with_capacity(retrieve.keys.len());
    for (position, key) in retrieve.keys.iter().enumerate() {
        match node_of(key) {
            Some(node) => nodes.push((position, node)),
            None => return Route::NoNodes { read: true },
        }
    }
    let groups = group_by_node(nodes);
    match groups.as_slice() {
        [one] => Route::Node {
            node: one.node,
            request: Request::Retrieve(retrieve),
            read: true,
        },
        _ => Route::Keys { retrieve, groups },
    }
}

/// `(position, node)` pairs grouped by node: one group per node, in the
/// order each node first appears, each with its positions in the order given.
pub(crate) fn group_by_node(pairs: impl IntoIterator<Item = (usize, usize)>) -> Vec<Group> {
    let mut groups: Vec<Group> = Vec::new();
    for (position, node) in pairs {
        match groups.iter_mut().find(|group| group.node == node) {
            Some(group) => group.positions.push(position),
            None => groups.push(Group {
                node,
                positions: vec![position],
            }),
        }
    }
    groups
}

/// `items` moved into their groups' parts: one part per group, in the
/// groups' order. Items no group lists are dropped.
pub(crate) fn partition<T>(items: Vec<T>, groups: &[Group]) -> Vec<Vec<T>> {
    let mut slots: Vec<Option<T>> = items.into_iter().map(Some).collect();
    groups
        .iter()
        .map(|group| {
            group
                .positions
                .iter()
                .filter_map(|&position| slots.get_mut(position).and_then(Option::take))
                .collect()
        })
        .collect()
}

/// The keys of one group of a split retrieval: what its node is asked for.
pub(crate) fn part_keys(retrieve: &Retrieve, group: &Group) -> Retrieve {
    Retrieve {
        command: retrieve.command,
        keys: group
            .positions
            .iter()
            .filter_map(|&position| retrieve.keys.get(position).cloned())
            .collect(),
    }
}

/// The replies of each part put at their positions in a request of `count`
/// items; a position no part answers stays `None`.
pub(crate) fn place<T>(
    count: usize,
    parts: impl IntoIterator<Item = (Vec<usize>, Vec<T>)>,
) -> Vec<Option<T>> {
    let mut slots: Vec<Option<T>> = (0..count).map(|_| None).collect();
    for (positions, replies) in parts {
        for (position, reply) in positions.into_iter().zip(replies) {
            if let Some(slot) = slots.get_mut(position) {
                *slot = Some(reply);
            }
        }
    }
    slots
}

/// The hits of each node's part of a retrieval, put back in request order.
///
/// Each part lists the request positions it asked for, and the server
/// answered the hits among them in that order; so a walk through both pairs
/// every value with its position (repeated keys included).
pub(crate) fn merge_hits(keys: &[Bytes], parts: Vec<(&[usize], Vec<Value>)>) -> Result<Vec<Value>> {
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
pub(crate) fn renumber(mut reply: MetaResponse, position: usize) -> MetaResponse {
    if let Some(flag) = reply.flags.iter_mut().find(|flag| flag.flag == b'O') {
        flag.token = Some(Bytes::from(position.to_string()));
    }
    reply
}

#[cfg(test)]
#[path = "router_tests.rs"]
mod tests;
