//! [`Request`]: one memcached command, owned and cheap to clone.
//!
//! Keys and values are [`Bytes`], so a request can be queued, retried or sent to
//! another node without copying. Keys here are final: the [`Client`](crate::Client)
//! has already validated them and added the key prefix. Expiry times are the wire
//! value (`exptime`): 0 for never, up to 30 days relative seconds, above that an
//! absolute unix time, negative for already expired. [`Ttl`](crate::Ttl) builds them.

use bytes::Bytes;

use crate::meta::MetaRequest;

/// One memcached command.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Request {
    /// `get`, `gets`, `gat`, `gats` for one or many keys.
    Retrieve(Retrieve),
    /// `set`, `add`, `replace`, `append`, `prepend`, `cas`.
    Store(Store),
    /// `delete <key> [noreply]`.
    Delete {
        /// The key to delete.
        key: Bytes,
        /// Ask the server not to reply.
        noreply: bool,
    },
    /// `incr` / `decr <key> <delta> [noreply]`.
    Arith {
        /// Increment or decrement.
        op: ArithOp,
        /// The key holding a decimal number.
        key: Bytes,
        /// The amount to add or subtract.
        delta: u64,
        /// Ask the server not to reply.
        noreply: bool,
    },
    /// `touch <key> <exptime> [noreply]`.
    Touch {
        /// The key to touch.
        key: Bytes,
        /// The new wire expiry time.
        exptime: i64,
        /// Ask the server not to reply.
        noreply: bool,
    },
    /// `stats [args...]`: general statistics, or a group such as `items`,
    /// `slabs`, `settings`, `sizes`, `conns`, `cachedump <class> <limit>`.
    Stats {
        /// The words after `stats`; empty for general statistics.
        args: Vec<Bytes>,
    },
    /// `flush_all [delay] [noreply]`.
    FlushAll {
        /// Seconds before the flush takes effect; `None` for now.
        delay: Option<i64>,
        /// Ask the server not to reply.
        noreply: bool,
    },
    /// `version`.
    Version,
    /// `verbosity <level> [noreply]`.
    Verbosity {
        /// The verbosity level.
        level: u32,
        /// Ask the server not to reply.
        noreply: bool,
    },
    /// `cache_memlimit <megabytes> [noreply]`.
    CacheMemlimit {
        /// The new memory limit in megabytes.
        megabytes: u64,
        /// Ask the server not to reply.
        noreply: bool,
    },
    /// `quit`: the server closes the connection without a reply.
    Quit,
    /// `shutdown [graceful]`: the server exits and closes the connection when
    /// started with `-A`; otherwise it answers `ERROR: shutdown not enabled`.
    Shutdown {
        /// Send `shutdown graceful`.
        graceful: bool,
    },
    /// `slabs reassign <source> <dest>`.
    SlabsReassign {
        /// The slab class to take a page from (-1: any).
        source: i32,
        /// The slab class to give it to.
        dest: i32,
    },
    /// `slabs automove <0|1|2>`.
    SlabsAutomove {
        /// The automove mode.
        mode: u8,
    },
    /// An `lru_crawler` command.
    LruCrawler(LruCrawler),
    /// An `lru` command: tunes the server's LRU.
    Lru(Lru),
    /// A command line passed through as is, for what the typed requests don't
    /// cover. The caller says how the reply is framed.
    Raw(RawCommand),
    /// One meta command (`mg`, `ms`, `md`, `ma`, `mn`, `me`).
    Meta(MetaRequest),
    /// Meta commands pipelined in quiet mode: each is sent with `q` and an
    /// opaque token `O<index>`, then one `mn`. The reply is one entry per
    /// request, `None` where quiet mode suppressed the line (a miss of `mg`,
    /// a success of `ms`/`md`/`ma`).
    MetaBatch(Vec<MetaRequest>),
}

/// The retrieval commands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Retrieve {
    /// Which command, with its expiry time for `gat`/`gats`.
    pub command: RetrieveCommand,
    /// One or more keys; the reply lists the hits among them in this order.
    pub keys: Vec<Bytes>,
}

/// `get`, `gets`, `gat <exptime>`, `gats <exptime>`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RetrieveCommand {
    /// `get`: values and flags.
    Get,
    /// `gets`: values, flags and cas uniques.
    Gets,
    /// `gat`: get and touch.
    Gat {
        /// The new wire expiry time.
        exptime: i64,
    },
    /// `gats`: get and touch, with cas uniques.
    Gats {
        /// The new wire expiry time.
        exptime: i64,
    },
}

impl RetrieveCommand {
    /// True for the commands whose reply carries cas uniques.
    pub fn returns_cas(self) -> bool {
        matches!(self, RetrieveCommand::Gets | RetrieveCommand::Gats { .. })
    }
}

/// The storage commands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Store {
    /// Which command, with the cas unique for `cas`.
    pub command: StoreCommand,
    /// The key.
    pub key: Bytes,
    /// The 32-bit flags stored beside the value.
    pub flags: u32,
    /// The wire expiry time.
    pub exptime: i64,
    /// The data block.
    pub value: Bytes,
    /// Ask the server not to reply.
    pub noreply: bool,
}

/// `set`, `add`, `replace`, `append`, `prepend`, `cas <unique>`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StoreCommand {
    /// Store unconditionally.
    Set,
    /// Store only if the key is absent.
    Add,
    /// Store only if the key is present.
    Replace,
    /// Add the data after the existing value.
    Append,
    /// Add the data before the existing value.
    Prepend,
    /// Store only if the item's cas unique is still this one.
    Cas {
        /// The cas unique from an earlier `gets`.
        unique: u64,
    },
}

impl StoreCommand {
    /// The command's name on the wire.
    pub fn name(self) -> &'static str {
        match self {
            StoreCommand::Set => "set",
            StoreCommand::Add => "add",
            StoreCommand::Replace => "replace",
            StoreCommand::Append => "append",
            StoreCommand::Prepend => "prepend",
            StoreCommand::Cas { .. } => "cas",
        }
    }
}

/// Increment or decrement.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ArithOp {
    /// `incr`: adds, wrapping at 2^64.
    Incr,
    /// `decr`: subtracts, stopping at 0.
    Decr,
}

/// The `lru_crawler` commands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LruCrawler {
    /// `lru_crawler enable`.
    Enable,
    /// `lru_crawler disable`.
    Disable,
    /// `lru_crawler sleep <microseconds>`.
    Sleep(u32),
    /// `lru_crawler tocrawl <items>`: items to inspect per class per run.
    ToCrawl(u32),
    /// `lru_crawler crawl <classes>`: `all` or a comma separated list of class ids.
    Crawl(Bytes),
    /// `lru_crawler metadump <classes|all|hash>`: one line per item, then `END`.
    Metadump(Bytes),
}

/// The `lru` commands, answered `OK` (or `ERROR <reason>`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lru {
    /// `lru tune <hot pct> <warm pct> <hot max factor> <warm max factor>`:
    /// the share of the cache the HOT and WARM LRUs may hold (together at
    /// most 80%), and how much longer than COLD's tail their tails may idle.
    Tune {
        /// HOT's share of the cache, in percent.
        hot_percent: u8,
        /// WARM's share of the cache, in percent.
        warm_percent: u8,
        /// HOT's tail idles at most this times COLD's (above 0).
        hot_max_factor: LruFactor,
        /// WARM's tail idles at most this times COLD's (above 0).
        warm_max_factor: LruFactor,
    },
    /// `lru mode <flat|segmented>`.
    Mode(LruMode),
    /// `lru temp_ttl <ttl>`: items stored with a ttl below this many seconds
    /// go to the TEMP LRU and are never evicted; negative turns it off.
    TempTtl(i64),
}

/// The LRU layout of `lru mode`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LruMode {
    /// One LRU per slab class.
    Flat,
    /// HOT, WARM and COLD LRUs per slab class (the server must run the LRU
    /// maintainer, memcached's default).
    Segmented,
}

/// A factor of `lru tune`, sent as a decimal number. Equal when its bits are.
#[derive(Debug, Clone, Copy)]
pub struct LruFactor(pub f64);

impl PartialEq for LruFactor {
    fn eq(&self, other: &Self) -> bool {
        self.0.to_bits() == other.0.to_bits()
    }
}

impl Eq for LruFactor {}

/// A command sent as is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawCommand {
    /// The command line, without the trailing `\r\n`. It must not contain `\r`
    /// or `\n`: the client rejects it otherwise.
    pub line: Bytes,
    /// A data block sent after the line (followed by `\r\n`), for storage-like commands.
    pub data: Option<Bytes>,
    /// How the server's reply is framed.
    pub reply: RawReply,
}

/// How the reply to a [`RawCommand`] is framed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RawReply {
    /// No reply is sent (a `noreply` command).
    None,
    /// One line.
    Line,
    /// Lines up to and including `END`.
    UntilEnd,
}

impl Request {
    /// Checks every token this request would put on the wire (keys, meta
    /// flags and their tokens, `stats` and `lru_crawler` arguments, a raw
    /// command's line) so that it stays one command: no space or control
    /// character in a key, meta flags that are letters with printable ASCII
    /// tokens, one word per argument, one line per raw command. A
    /// [`Connection`](crate::Connection) checks every request before writing
    /// it (in a `call_many`, one invalid request fails the whole batch before
    /// any of it is sent), and [`Client`](crate::Client) before sending it.
    ///
    /// ```
    /// use bytes::Bytes;
    /// use memclient::{Error, MetaCommand, MetaFlag, MetaRequest, Request};
    ///
    /// let request = Request::Meta(MetaRequest {
    ///     command: MetaCommand::Get,
    ///     key: Bytes::from_static(b"k"),
    ///     flags: vec![MetaFlag::with(b'T', "0\r\nflush_all")],
    ///     data: None,
    /// });
    /// assert!(matches!(request.validate(), Err(Error::IllegalInput(_))));
    /// ```
    pub fn validate(&self) -> crate::Result<()> {
        crate::proto::check::request(self)
    }

    /// The keys this request names, in order (empty for admin commands, `mn`
    /// and meta batches).
    pub fn keys(&self) -> &[Bytes] {
        match self {
            Request::Retrieve(r) => &r.keys,
            Request::Store(s) => std::slice::from_ref(&s.key),
            Request::Delete { key, .. }
            | Request::Arith { key, .. }
            | Request::Touch { key, .. } => std::slice::from_ref(key),
            // The raw key: a binary key is routed on its bytes, not on the
            // base64 form the codec sends.
            Request::Meta(meta) if meta.command != crate::MetaCommand::Noop => {
                std::slice::from_ref(&meta.key)
            }
            _ => &[],
        }
    }
}
