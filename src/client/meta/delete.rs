//! `meta_delete`: `md`, including invalidation (mark stale, serve while
//! recaching).

use super::set::{finish_write, MetaOutcome};
use super::Meta;
use crate::client::{Client, Ttl};
use crate::proto::Flag;
use crate::serde::Serde;
use crate::{Backend, MetaCommand};

/// The kind of [`Meta`] calls made by [`Client::meta_delete`].
#[derive(Debug)]
pub enum DeleteKind {}

impl<B: Backend, S: Serde> Client<B, S> {
    /// `md`: deletes `key`, or with [`invalidate`](Meta::invalidate) marks it
    /// stale. [`MetaWrite::NotFound`](super::MetaWrite::NotFound) when
    /// there was nothing to delete.
    pub fn meta_delete(&self, key: impl AsRef<[u8]>) -> Meta<'_, B, S, MetaOutcome, DeleteKind> {
        Meta::new(self, MetaCommand::Delete, key.as_ref(), &[], finish_write)
    }
}

impl<B, S, T> Meta<'_, B, S, T, DeleteKind> {
    /// Delete only if the item's cas unique is `cas` (`C`).
    pub fn compare_cas(self, cas: u64) -> Self {
        self.on(Flag::CompareCas(cas))
    }

    /// Give the item this new cas unique (`E`), with
    /// [`invalidate`](Self::invalidate). Needs a memcached newer than 1.6.18,
    /// which answers `CLIENT_ERROR invalid or duplicate flag`.
    pub fn new_cas(self, cas: u64) -> Self {
        self.on(Flag::NewCas(cas))
    }

    /// Don't delete: mark the item stale and bump its cas (`I`). Reads then
    /// see `X` (stale) and the first one wins (`W`) the right to recache it,
    /// so [`get_or_compute`](Client::get_or_compute) serves the stale value
    /// while one caller refreshes it.
    pub fn invalidate(self) -> Self {
        self.on(Flag::Invalidate)
    }

    /// With [`invalidate`](Self::invalidate): the stale item's new ttl (`T`).
    /// `Duration::ZERO` expires the item at once, it does not mean never: see [`Ttl`](crate::Ttl).
    pub fn ttl(self, ttl: impl Into<Ttl>) -> Self {
        self.ttl_flag(Flag::Ttl, ttl)
    }

    /// Remove the value but keep the item (`x`). Needs a memcached newer
    /// than 1.6.18, which answers `CLIENT_ERROR invalid or duplicate flag`.
    pub fn remove_value(self) -> Self {
        self.on(Flag::RemoveValue)
    }
}
