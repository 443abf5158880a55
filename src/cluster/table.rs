//! The node table: the nodes, and the locators that pick among them.
//!
//! A table is immutable; the cluster swaps in a new one when a node is added
//! or removed, or (with [`DeadKeys::Remap`]) when one dies or its dead time
//! ends. Calls take the current table and keep it for their duration, so a
//! change never disturbs a call in flight.

use std::sync::Arc;
use std::time::Instant;

use super::health::Health;
use super::options::{ClusterOptions, DeadKeys};
use super::scheme::{Locator, NodeSpec};

/// One node: where it is, its backend, and its health.
#[derive(Debug)]
pub(crate) struct Node<B> {
    pub spec: NodeSpec,
    pub backend: B,
    pub health: Health,
}

pub(crate) struct Table<B> {
    pub nodes: Vec<Arc<Node<B>>>,
    /// The locator over all nodes.
    all: Box<dyn Locator>,
    /// With [`DeadKeys::Remap`] and dead nodes: the locator over the others,
    /// and their indexes in `nodes`.
    live: Option<(Box<dyn Locator>, Vec<usize>)>,
    /// When the live view must be rebuilt: the end of the first dead time.
    pub rebuild_at: Option<Instant>,
}

impl<B> Table<B> {
    /// The table of `nodes` as their health stands at `now`.
    pub fn new(nodes: Vec<Arc<Node<B>>>, options: &ClusterOptions, now: Instant) -> Self {
        let specs: Vec<NodeSpec> = nodes.iter().map(|node| node.spec.clone()).collect();
        let all = options.hashing.locator(&specs);
        let mut live = None;
        let mut rebuild_at: Option<Instant> = None;
        if options.dead_keys == DeadKeys::Remap {
            let mut alive = Vec::with_capacity(nodes.len());
            for (index, node) in nodes.iter().enumerate() {
                match node.health.dead_until() {
                    Some(until) if until > now => {
                        rebuild_at = Some(rebuild_at.map_or(until, |at| at.min(until)));
                    }
                    _ => alive.push(index),
                }
            }
            if alive.len() < nodes.len() {
                let alive_specs: Vec<NodeSpec> =
                    alive.iter().map(|&index| specs[index].clone()).collect();
                live = Some((options.hashing.locator(&alive_specs), alive));
            }
        }
        Table {
            nodes,
            all,
            live,
            rebuild_at,
        }
    }

    /// The node of `key` among all nodes, dead or alive.
    pub fn home(&self, key: &[u8]) -> Option<usize> {
        self.all
            .locate(key)
            .filter(|&index| index < self.nodes.len())
    }

    /// The node a call for `key` goes to: its home, or with dead nodes
    /// remapped, its home among the live ones. `None` without nodes.
    pub fn route(&self, key: &[u8]) -> Option<usize> {
        match &self.live {
            Some((locator, alive)) => match locator.locate(key) {
                Some(index) => alive.get(index).copied(),
                // Every node is dead: the key's own node answers (fast).
                None => self.home(key),
            },
            None => self.home(key),
        }
    }

    /// The index of the node called `name`.
    pub fn position(&self, name: &str) -> Option<usize> {
        self.nodes.iter().position(|node| node.spec.name() == name)
    }
}
