//! [`ConnectionOptions`]: the limits and timeouts of one connection.

use std::time::Duration;

use crate::runtime::SocketOptions;

/// The default [`ConnectionOptions::timeout`]: 2 seconds.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(2);
/// The default [`ConnectionOptions::connect_timeout`]: 2 seconds.
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(2);

/// Options of a connection.
///
/// Every default is finite: a cache must never hang the service that uses
/// it. A call without a time limit has to be asked for with `timeout(None)`.
/// As every options type of memclient: public fields, and a by-value setter
/// named like each field that sets exactly that field.
///
/// ```
/// use std::time::Duration;
/// use memclient::ConnectionOptions;
///
/// let options = ConnectionOptions::new()
///     .timeout(Some(Duration::from_millis(250)))
///     .max_queued_bytes(4 << 20);
/// assert_eq!(options.timeout, Some(Duration::from_millis(250)));
/// assert_eq!(options.connect_timeout, Some(Duration::from_secs(2)));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ConnectionOptions {
    /// The longest one connect attempt may take ([`DEFAULT_CONNECT_TIMEOUT`],
    /// 2 seconds, by default). `None`: no limit beyond the OS's own.
    pub connect_timeout: Option<Duration>,
    /// The longest a call may take, from the moment it is made until its
    /// reply ([`DEFAULT_TIMEOUT`], 2 seconds, by default): waiting for a
    /// reconnect and for room in the queue count against it. A call that
    /// times out returns [`Error::Timeout`](crate::Error::Timeout). If its request was already
    /// written, its reply is overdue and the socket is retired (see
    /// [`Connection`](crate::Connection)). `None`: no limit, and no socket is ever retired for a
    /// late reply.
    pub timeout: Option<Duration>,
    /// TCP options applied to each new socket.
    pub socket: SocketOptions,
    /// The largest reply accepted, in bytes: a value, the values of a
    /// multi-key read together, the lines of `stats` or `lru_crawler
    /// metadump`, a meta batch. A larger reply is [`Error::Protocol`](crate::Error::Protocol) and the
    /// connection is closed, so a hostile or broken server cannot make the
    /// client buffer without bound. Default
    /// [`DEFAULT_MAX_REPLY_LEN`](crate::proto::DEFAULT_MAX_REPLY_LEN), 64 MiB:
    /// raise it for a server run with a larger item size (`-I`). A
    /// [`Pool`](crate::Pool) also bounds what its connections hold together:
    /// [`PoolOptions::reply_budget`](crate::PoolOptions::reply_budget).
    pub max_reply_len: usize,
    /// The most calls queued on, or waiting for a reply from, this connection
    /// at once (1024 by default). A call beyond it waits for room, within its
    /// timeout; a batch larger than the limit waits until the connection is
    /// idle. 0 counts as 1.
    pub max_in_flight: usize,
    /// The most bytes of keys and values queued and not yet written (16 MiB
    /// by default). A call beyond it waits for room, within its timeout; a
    /// request larger than the limit waits until nothing else is queued.
    /// With the driver's own write buffer (1 MiB) this bounds what a server
    /// that stops reading can make the client hold. 0 counts as 1.
    pub max_queued_bytes: usize,
}

impl Default for ConnectionOptions {
    fn default() -> Self {
        ConnectionOptions {
            connect_timeout: Some(DEFAULT_CONNECT_TIMEOUT),
            timeout: Some(DEFAULT_TIMEOUT),
            socket: SocketOptions::default(),
            max_reply_len: crate::proto::DEFAULT_MAX_REPLY_LEN,
            max_in_flight: 1024,
            max_queued_bytes: 16 << 20,
        }
    }
}

impl ConnectionOptions {
    /// Options with every default.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets [`connect_timeout`](Self::connect_timeout).
    pub fn connect_timeout(mut self, timeout: Option<Duration>) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// Sets [`timeout`](Self::timeout).
    pub fn timeout(mut self, timeout: Option<Duration>) -> Self {
        self.timeout = timeout;
        self
    }

    /// Sets [`socket`](Self::socket).
    pub fn socket(mut self, socket: SocketOptions) -> Self {
        self.socket = socket;
        self
    }

    /// Sets [`max_reply_len`](Self::max_reply_len).
    pub fn max_reply_len(mut self, bytes: usize) -> Self {
        self.max_reply_len = bytes;
        self
    }

    /// Sets [`max_in_flight`](Self::max_in_flight) (0 counts as 1).
    pub fn max_in_flight(mut self, calls: usize) -> Self {
        self.max_in_flight = calls;
        self
    }

    /// Sets [`max_queued_bytes`](Self::max_queued_bytes) (0 counts as 1).
    pub fn max_queued_bytes(mut self, bytes: usize) -> Self {
        self.max_queued_bytes = bytes;
        self
    }
}
