//! One connection's protocol session: bytes in, replies out, through the
//! server codec. Shared by the in-memory stream and the socket servers.
//!
//! Replies are stacked and written when memcached would write them, because
//! that timing is visible: memcached writes after each `get` and `mn`, after every 20
//! or so commands of one read, and when it runs out of input, but not while a
//! data block is incomplete; a `get` with a too-long key drops the stacked,
//! unwritten replies; `lru_crawler metadump` refuses to run behind them; a
//! connection closed for a bad line loses them.

use bytes::BytesMut;
use memclient::proto::server::{encode_error, encode_reply, Decoded, RequestDecoder};
use memclient::{Error, LruCrawler, MetaCommand, Request};

use crate::MockMemcache;

/// memcached's `reqs_per_event` (20): after that many commands of one read it
/// writes what it has (the first time after 21, as its counter runs to -1).
const REQS_PER_EVENT: usize = 20;

/// The protocol state of one connection.
pub(crate) struct Session {
    decoder: RequestDecoder,
    input: BytesMut,
    /// Replies not yet written.
    stack: BytesMut,
    /// Requests may fail with the mock's injected faults (a connection's
    /// session); off for the `Backend` path, whose call took its fault already.
    faults: bool,
}

impl Session {
    /// The session of a connection (stream or socket).
    pub fn new(mock: &MockMemcache) -> Self {
        Self {
            decoder: RequestDecoder::with_max_item_size(mock.max_item_size()),
            input: BytesMut::new(),
            stack: BytesMut::new(),
            faults: true,
        }
    }

    /// A session that injects no fault, for the `Backend` path.
    pub fn without_faults(mock: &MockMemcache) -> Self {
        Self {
            faults: false,
            ..Self::new(mock)
        }
    }

    fn flush(&mut self, out: &mut BytesMut) {
        out.extend_from_slice(&self.stack);
        self.stack.clear();
    }

    /// Feeds bytes read from the client and appends the replies to write to
    /// `out`. `before_each` runs before each request (the servers' latency).
    /// Returns false when the connection is to be closed after `out` is sent.
    pub fn feed(
        &mut self,
        mock: &MockMemcache,
        data: &[u8],
        out: &mut BytesMut,
        before_each: &mut dyn FnMut(),
    ) -> bool {
        self.input.extend_from_slice(data);
        let mut commands = 0;
        loop {
            if !self.decoder.in_data_block()
                && mock
                    .shared
                    .discovery
                    .answer(&mut self.input, &mut self.stack)
            {
                // The line was taken from under the decoder: start it afresh
                // at this clean boundary, so no scan position of a partial
                // line survives.
                self.decoder = RequestDecoder::with_max_item_size(mock.max_item_size());
                commands += 1;
                continue;
            }
            let Some(decoded) = self.decoder.decode(&mut self.input) else {
                break;
            };
            commands += 1;
            match decoded {
                Decoded::Request(request) => {
                    before_each();
                    // memcached writes at once after a `get` and after `mn`.
                    let is_get = matches!(request, Request::Retrieve(_))
                        || matches!(&request, Request::Meta(m) if m.command == MetaCommand::Noop);
                    match self.answer(mock, request) {
                        Answer::Continue => {}
                        Answer::Quit => {
                            self.flush(out);
                            return false;
                        }
                        Answer::Drop => return false,
                    }
                    if is_get {
                        self.flush(out);
                    }
                }
                Decoded::Reply(reply) => self.stack.extend_from_slice(&reply),
                Decoded::ReplyDroppingUnsent(reply) => {
                    self.stack.clear();
                    self.stack.extend_from_slice(&reply);
                }
                Decoded::TooLarge {
                    command,
                    key,
                    noreply,
                } => {
                    let error = mock.too_large(command, &key);
                    if !noreply {
                        encode_error(&error, &mut self.stack);
                    }
                }
                Decoded::BadDataChunk { noreply } => {
                    let error = mock.bad_data_chunk();
                    if !noreply {
                        encode_error(&error, &mut self.stack);
                    }
                }
                // memcached closes at once: stacked replies are lost.
                Decoded::Close => return false,
            }
            if commands > REQS_PER_EVENT && (commands - REQS_PER_EVENT - 1) % REQS_PER_EVENT == 0 {
                self.flush(out);
            }
        }
        if !self.decoder.in_data_block() {
            self.flush(out);
        }
        true
    }

    /// Runs one request and stacks its reply.
    fn answer(&mut self, mock: &MockMemcache, request: Request) -> Answer {
        if let Some(error) = self
            .faults
            .then(|| mock.shared.faults.take_failure())
            .flatten()
        {
            if error.is_connection_error() {
                return Answer::Drop;
            }
            if request.expects_reply() {
                encode_error(&error, &mut self.stack);
            }
            return Answer::Continue;
        }
        if matches!(request, Request::LruCrawler(LruCrawler::Metadump(_))) && !self.stack.is_empty()
        {
            let error =
                Error::UnknownCommand("cannot pipeline other commands before metadump".into());
            encode_error(&error, &mut self.stack);
            return Answer::Continue;
        }
        let replies = request.expects_reply() || matches!(request, Request::Shutdown { .. });
        let quits = matches!(request, Request::Quit);
        let result = mock.execute(request.clone());
        if replies {
            encode_reply(&request, &result, &mut self.stack);
        }
        if quits {
            Answer::Quit
        } else {
            Answer::Continue
        }
    }
}

enum Answer {
    Continue,
    /// Write what is stacked, then close (`quit`).
    Quit,
    /// Close now (an injected connection error).
    Drop,
}
