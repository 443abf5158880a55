#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod backend;
#[cfg(feature = "blocking")]
pub mod blocking;
mod client;
pub mod cluster;
mod config;
mod connection;
mod error;
mod meta;
#[cfg(any(feature = "tracing", feature = "metrics"))]
pub mod observe;
mod pool;
pub mod proto;
mod request;
mod response;
mod retry;
pub mod runtime;
pub mod serde;
#[cfg(feature = "tls")]
pub mod tls;

pub use backend::Backend;
/// The byte buffer of keys and raw values (`get_many`'s keys, `RawBytes`
/// values), re-exported so that naming it needs no `bytes` dependency.
pub use bytes::Bytes;
pub use client::{
    ArithKind, Call, CasOutcome, Client, ClientOptions, DeleteKind, DeleteMany, FlushKind, GetKind,
    GetOrCompute, Meta, MetaCounter, MetaItem, MetaOutcome, MetaWrite, MultiGet, PlainKind,
    SetKind, SetMany, SetMode, StatValue, StorageKind, Ttl,
};
pub use cluster::{Cluster, ClusterOptions, DeadKeys, Hashing, NodeSpec, NodeStatus};
pub use config::{Config, Open};
pub use connection::{
    Connect, Connection, ConnectionOptions, Driver, DEFAULT_CONNECT_TIMEOUT, DEFAULT_TIMEOUT,
};
pub use error::{Error, Result, TlsReason};
pub use meta::{MetaCommand, MetaFlag, MetaRequest, MetaResponse, MetaStatus};
pub use pool::{Pool, PoolOptions};
pub use request::{
    ArithOp, Lru, LruCrawler, LruFactor, LruMode, RawCommand, RawReply, Request, Retrieve,
    RetrieveCommand, Store, StoreCommand,
};
pub use response::{Response, Value};
pub use retry::{Retry, RetryIf, RetryOn, RetryOptions};
/// The value type of the default serde, also at
/// [`memclient::serde::CacheValue`](crate::serde::CacheValue).
pub use serde::CacheValue;

#[cfg(feature = "async-std")]
pub use runtime::async_std;
#[cfg(feature = "smol")]
pub use runtime::smol;
#[cfg(feature = "tokio")]
pub use runtime::tokio;
