//! memclient: a fast memcached client that any async runtime can use.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod backend;
mod error;
pub mod proto;
mod request;
mod response;

pub use backend::Backend;
pub use error::{Error, Result};
pub use request::{
    ArithOp, LruCrawler, RawCommand, RawReply, Request, Retrieve, RetrieveCommand, Store,
    StoreCommand,
};
pub use response::{Response, Value};
