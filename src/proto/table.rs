//! What each request kind means beyond its bytes, in one table: how its
//! reply is framed, where its `noreply` goes, whether sending it twice is
//! harmless, which servers of a cluster it goes to, and whether the
//! connection's driver must send it alone or nothing after it.
//!
//! The decoder reads the framing, `Retry` the idempotency, the client's
//! `noreply` option the slot and the cluster the scope, all from [`row`]: a
//! new command is one arm here (the compiler asks for it), its encoder and
//! its typed client method.

use super::meta_flag::{self, Flag, MetaMode};
use crate::{LruCrawler, MetaCommand, MetaRequest, RawReply, Request, StoreCommand};

/// Which servers of a cluster a request goes to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// One key: the node the key hashes to (store, delete, arith, touch, one-key meta commands).
    Key,
    /// Many keys (retrievals, meta batches): split by node, answers merged.
    Keys,
    /// Every node must answer (flush_all, verbosity, cache_memlimit, slabs automove, quit, lru_crawler other than metadump).
    AllNodes,
    /// Any one node answers for all (version, meta noop).
    AnyNode,
    /// Asks for one server's own state (stats, slabs reassign, metadump, raw commands, shutdown): a cluster refuses it.
    OneServer,
}

/// The shape of reply a request gets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Expect {
    /// No reply at all.
    Nothing,
    /// `VALUE` blocks then `END`.
    Values { cas: bool },
    /// `STORED`, `NOT_STORED`, `EXISTS`, `NOT_FOUND`.
    Store,
    /// `DELETED`, `NOT_FOUND`.
    Delete,
    /// `TOUCHED`, `NOT_FOUND`.
    Touch,
    /// A number, `NOT_FOUND`.
    Arith,
    /// `VERSION <version>`.
    Version,
    /// `OK`, or another failure line.
    Admin,
    /// Any one line (raw command).
    Line,
    /// Lines up to `END`.
    Lines(LinesKind),
    /// A meta reply (`Request::Meta`).
    Meta,
    /// Meta replies up to `MN` (`Request::MetaBatch`).
    MetaBatch,
}

/// Which multi-line reply: they differ in what they accept besides lines.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum LinesKind {
    /// `STAT`, `ITEM`, `PREFIX` lines, or a lone `OK` / `RESET`.
    Stats,
    /// `key=...` lines ending in a bare `\n`, or a lone failure line.
    Metadump,
    /// Anything (raw command).
    Raw,
}

/// Where a request's "don't reply" goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Noreply {
    /// The command always replies.
    Never,
    /// The classic trailing ` noreply` word; whether it is set.
    Word(bool),
    /// A meta write's quiet flag `q` (its `mn` still ends the reply).
    Quiet,
}

/// One row of the table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Row {
    /// How the reply is framed ([`Expect::Nothing`] when none comes).
    pub expect: Expect,
    /// Where `noreply` goes.
    pub noreply: Noreply,
    /// True when sending the request twice leaves the same state as once.
    pub idempotent: bool,
    /// Which servers of a cluster it goes to.
    pub scope: Scope,
    /// The server may close the connection after it (`quit`, `shutdown`).
    pub closes_connection: bool,
    /// It must be alone on the wire (`lru_crawler metadump`).
    pub alone: bool,
}

/// The row of `request`.
// Always inlined: each question about a request (does it expect a reply,
// must it be alone, ...) then computes its own field, not the whole row. A
// call asks several; building the whole row each time was 2% of a `get`,
// and the plain hint left it a call.
#[inline(always)]
pub(crate) fn row(request: &Request) -> Row {
    use Scope::*;
    match request {
        Request::Retrieve(retrieve) => Row::always(
            Expect::Values {
                cas: retrieve.command.returns_cas(),
            },
            true,
            Keys,
        ),
        Request::Store(store) => Row::word(
            Expect::Store,
            store.noreply,
            !matches!(store.command, StoreCommand::Append | StoreCommand::Prepend),
            Key,
        ),
        Request::Delete { noreply, .. } => Row::word(Expect::Delete, *noreply, true, Key),
        Request::Arith { noreply, .. } => Row::word(Expect::Arith, *noreply, false, Key),
        Request::Touch { noreply, .. } => Row::word(Expect::Touch, *noreply, true, Key),
        Request::Stats { .. } => Row::always(Expect::Lines(LinesKind::Stats), true, OneServer),
        Request::FlushAll { noreply, .. } => Row::word(Expect::Admin, *noreply, true, AllNodes),
        Request::Version => Row::always(Expect::Version, true, AnyNode),
        Request::Verbosity { noreply, .. } => Row::word(Expect::Admin, *noreply, true, AllNodes),
        Request::CacheMemlimit { noreply, .. } => {
            Row::word(Expect::Admin, *noreply, true, AllNodes)
        }
        // Closing or stopping the server: an error is what is expected, so
        // neither is retried.
        Request::Quit => Row {
            closes_connection: true,
            ..Row::always(Expect::Nothing, false, AllNodes)
        },
        // Refused: an error line. Obeyed: the server hangs up, which the
        // connection's driver sees and reports.
        Request::Shutdown { .. } => Row {
            closes_connection: true,
            ..Row::always(Expect::Admin, false, OneServer)
        },
        Request::SlabsReassign { .. } => Row::always(Expect::Admin, true, OneServer),
        Request::SlabsAutomove { .. } => Row::always(Expect::Admin, true, AllNodes),
        // memcached silently drops commands pipelined after a metadump,
        // and refuses it behind unanswered ones.
        Request::LruCrawler(LruCrawler::Metadump(_)) => Row {
            alone: true,
            ..Row::always(Expect::Lines(LinesKind::Metadump), true, OneServer)
        },
        Request::LruCrawler(_) => Row::always(Expect::Admin, true, AllNodes),
        Request::Lru(_) => Row::always(Expect::Admin, true, AllNodes),
        // What a raw line does is unknown: never retried, never spread.
        Request::Raw(raw) => Row::always(
            match raw.reply {
                RawReply::None => Expect::Nothing,
                RawReply::Line => Expect::Line,
                RawReply::UntilEnd => Expect::Lines(LinesKind::Raw),
            },
            false,
            OneServer,
        ),
        Request::Meta(meta) => Row {
            // A quiet request is followed by `mn`, so a reply always comes.
            expect: Expect::Meta,
            noreply: match meta.command {
                MetaCommand::Set | MetaCommand::Delete | MetaCommand::Arithmetic => Noreply::Quiet,
                MetaCommand::Get | MetaCommand::Noop | MetaCommand::Debug => Noreply::Never,
            },
            idempotent: meta_idempotent(meta),
            scope: match meta.command {
                MetaCommand::Noop => AnyNode,
                _ => Key,
            },
            closes_connection: false,
            alone: false,
        },
        Request::MetaBatch(batch) => Row {
            expect: Expect::MetaBatch,
            noreply: Noreply::Never,
            idempotent: batch.iter().all(meta_idempotent),
            scope: Keys,
            closes_connection: false,
            alone: false,
        },
    }
}

impl Row {
    /// A command without `noreply`.
    #[inline]
    fn always(expect: Expect, idempotent: bool, scope: Scope) -> Row {
        Row {
            expect,
            noreply: Noreply::Never,
            idempotent,
            scope,
            closes_connection: false,
            alone: false,
        }
    }

    /// A command with the trailing ` noreply` word, set or not.
    #[inline]
    fn word(expect: Expect, noreply: bool, idempotent: bool, scope: Scope) -> Row {
        Row {
            expect: if noreply { Expect::Nothing } else { expect },
            noreply: Noreply::Word(noreply),
            idempotent,
            scope,
            closes_connection: false,
            alone: false,
        }
    }
}

/// `ma`, and `ms` in append or prepend mode, change the item again each time.
fn meta_idempotent(meta: &MetaRequest) -> bool {
    match meta.command {
        MetaCommand::Arithmetic => false,
        MetaCommand::Set => !matches!(
            meta_flag::mode_of(&meta.flags),
            Some(MetaMode::Append | MetaMode::Prepend)
        ),
        _ => true,
    }
}

/// Sets (or clears) `noreply` where the request has it: the classic word,
/// or quiet mode for a meta write. Other requests are left as they are.
pub(crate) fn set_noreply(request: &mut Request, on: bool) {
    match row(request).noreply {
        Noreply::Never => {}
        Noreply::Word(_) => {
            if let Some(slot) = noreply_word(request) {
                *slot = on;
            }
        }
        Noreply::Quiet => {
            if let Request::Meta(meta) = request {
                meta_flag::remove(&mut meta.flags, &Flag::Quiet);
                if on {
                    meta.flags.push(Flag::Quiet.encode());
                }
            }
        }
    }
}

/// The field behind [`Noreply::Word`].
fn noreply_word(request: &mut Request) -> Option<&mut bool> {
    match request {
        Request::Store(store) => Some(&mut store.noreply),
        Request::Delete { noreply, .. }
        | Request::Arith { noreply, .. }
        | Request::Touch { noreply, .. }
        | Request::FlushAll { noreply, .. }
        | Request::Verbosity { noreply, .. }
        | Request::CacheMemlimit { noreply, .. } => Some(noreply),
        _ => None,
    }
}

impl Request {
    /// Which servers of a [`Cluster`](crate::Cluster) this request goes to.
    ///
    /// ```
    /// use memclient::proto::Scope;
    /// use memclient::Request;
    ///
    /// assert_eq!(Request::Version.scope(), Scope::AnyNode);
    /// assert_eq!(Request::Stats { args: vec![] }.scope(), Scope::OneServer);
    /// ```
    pub fn scope(&self) -> Scope {
        row(self).scope
    }

    /// True when sending this request twice leaves the server as sending it
    /// once would: [`Retry`](crate::Retry) retries only these unless told
    /// otherwise. Counters, appends, prepends, raw lines, `quit` and
    /// `shutdown` are not.
    pub fn is_idempotent(&self) -> bool {
        row(self).idempotent
    }

    /// False when the server sends no reply to this request: `noreply` commands
    /// and `quit`. (`shutdown` is answered by an error line when the server
    /// refuses it, and by closing the connection when it obeys.)
    pub fn expects_reply(&self) -> bool {
        row(self).expect != Expect::Nothing
    }

    /// True when the server may close the connection after this request:
    /// nothing may be sent after it on the same connection.
    pub fn closes_connection(&self) -> bool {
        row(self).closes_connection
    }

    /// True for requests that must be alone on the wire: memcached silently
    /// drops commands pipelined after `lru_crawler metadump`, and refuses it
    /// behind unanswered ones.
    pub fn must_be_alone(&self) -> bool {
        row(self).alone
    }
}
