//! The workloads, and the keys and values every client uses for them.
//!
//! Every client sees the same keys, values and order of operations, so the
//! only difference between two rows of the table is the client.

use bytes::Bytes;

/// One row group of the table.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Workload {
    /// Sequential `get` of a 100-byte value.
    Get,
    /// Sequential `set` of a 100-byte value.
    Set,
    /// One `get` of 100 keys (100-byte values), sequentially; counted in keys.
    GetMany,
    /// The same 100 keys through memclient's meta multi-get (quiet `mg`
    /// commands and one `mn`), against the raw loop's classic `get`.
    GetManyMeta,
    /// 64 concurrent tasks doing gets through one client on one connection.
    Tasks64,
    /// 64 gets in flight from one task (`join_all`) on one connection, then
    /// the next 64: the fan-out of a request handler.
    Joined64,
    /// The same 64 tasks through a pool of 8 connections.
    Pool8,
    /// Sequential `get` of a 512 KiB value.
    GetLarge,
    /// Sequential `set` of a 512 KiB value.
    SetLarge,
    /// Sequential 50/50 gets and sets; one get in ten misses.
    Mix,
    /// Batches of 64 `noreply` sets of 100-byte values in one write, each
    /// batch followed by one `version` round trip (so the server keeps up);
    /// counted in sets.
    SetNoreply64,
}

impl Workload {
    /// Every workload, in table order.
    pub const ALL: [Workload; 11] = [
        Workload::Get,
        Workload::Set,
        Workload::GetMany,
        Workload::GetManyMeta,
        Workload::Tasks64,
        Workload::Joined64,
        Workload::Pool8,
        Workload::GetLarge,
        Workload::SetLarge,
        Workload::Mix,
        Workload::SetNoreply64,
    ];

    /// The name in the table.
    pub fn name(self) -> &'static str {
        match self {
            Workload::Get => "get 100 B",
            Workload::Set => "set 100 B",
            Workload::GetMany => "get_many 100 keys",
            Workload::GetManyMeta => "get_many 100 keys, meta",
            Workload::Tasks64 => "64 tasks get, 1 conn",
            Workload::Joined64 => "64 gets joined in 1 task, 1 conn",
            Workload::Pool8 => "64 tasks get, pool 8",
            Workload::GetLarge => "get 512 KiB",
            Workload::SetLarge => "set 512 KiB",
            Workload::Mix => "mix 50/50, 10% miss",
            Workload::SetNoreply64 => "set 100 B noreply, 64 per batch",
        }
    }

    /// What the rate counts.
    pub fn unit(self) -> &'static str {
        match self {
            Workload::GetMany | Workload::GetManyMeta => "keys/s",
            _ => "ops/s",
        }
    }
}

/// How many distinct keys the single-key workloads cycle through.
pub const KEYS: usize = 1000;
/// Keys in one `get_many`.
pub const MANY: usize = 100;
/// Concurrent tasks in the concurrent workloads.
pub const TASKS: usize = 64;
/// Connections of a pool.
pub const POOL: usize = 8;
/// The small value's length.
pub const SMALL_LEN: usize = 100;
/// The large value's length.
pub const LARGE_LEN: usize = 512 * 1024;

/// The keys and values of the run.
#[derive(Clone, Debug)]
pub struct Data {
    /// The keys of the single-key workloads (each holds a 100-byte value).
    pub keys: Vec<String>,
    /// The keys of `get_many` (each holds a 100-byte value).
    pub many: Vec<String>,
    /// Keys never stored: the misses of the mix.
    pub misses: Vec<String>,
    /// The key of the 512 KiB value.
    pub large_key: String,
    /// A 100-byte value.
    pub small: Bytes,
    /// A 512 KiB value.
    pub large: Bytes,
}

impl Data {
    /// The data of the run.
    pub fn new() -> Self {
        let pattern = |len: usize| -> Bytes { (0..len).map(|i| b'a' + (i % 26) as u8).collect() };
        Data {
            keys: (0..KEYS).map(|i| format!("bench:key:{i}")).collect(),
            many: (0..MANY).map(|i| format!("bench:many:{i}")).collect(),
            misses: (0..KEYS).map(|i| format!("bench:miss:{i}")).collect(),
            large_key: "bench:large".to_string(),
            small: pattern(SMALL_LEN),
            large: pattern(LARGE_LEN),
        }
    }

    /// The index of the key of operation `i` of task `task` (0 when sequential).
    pub fn index(task: usize, i: u64) -> usize {
        (task * 13 + i as usize) % KEYS
    }

    /// The key of operation `i` of task `task` (0 when sequential).
    pub fn key(&self, task: usize, i: u64) -> &str {
        &self.keys[Data::index(task, i)]
    }
}

/// One operation of the mix, with the index of its key (in `Data::keys`, or
/// in `Data::misses` for a miss).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MixOp {
    /// A get that hits.
    Get(usize),
    /// A get of a key that was never stored.
    Miss(usize),
    /// A set of a 100-byte value.
    Set(usize),
}

impl Data {
    /// Operation `i` of the mix: sets on even `i`, gets on odd `i`, and every
    /// tenth get a miss.
    pub fn mix(&self, i: u64) -> MixOp {
        let pair = i / 2;
        let index = pair as usize % KEYS;
        if i.is_multiple_of(2) {
            MixOp::Set(index)
        } else if pair % 10 == 9 {
            MixOp::Miss(index)
        } else {
            MixOp::Get(index)
        }
    }
}

/// Checks that a get returned the value it should, so a client that fails
/// quietly cannot look fast.
pub fn check_len(what: &str, got: Option<usize>, want: usize) -> Result<(), String> {
    match got {
        Some(len) if len == want => Ok(()),
        Some(len) => Err(format!("{what}: got {len} bytes, expected {want}")),
        None => Err(format!("{what}: unexpected miss")),
    }
}
