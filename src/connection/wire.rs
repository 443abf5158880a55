//! The wire: a connection's socket and everything in flight on it.
//!
//! A pass takes queued requests in batches, writes them in one go, reads the
//! replies and hands each to its caller in order (memcached answers in order).
//! Whoever drives the socket (a caller, or the background [`Driver`](super::Driver);
//! see `driving.rs`) runs the passes, one at a time.
//! A caller that went away (cancelled, timed out) is not a problem: its reply
//! is still read, then dropped, so the stream stays in step and no reply ever
//! reaches the wrong caller. A reply that is overdue (see `call.rs`) retires
//! the socket: the driver then fails every call on it and stops.

use std::collections::VecDeque;
use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, Waker};

use bytes::{Buf, BytesMut};
use futures_io::{AsyncRead, AsyncWrite};

use super::shared::{Pending, Shared};
use super::slot::CallSlot;
use crate::proto::{encode_request, ResponseDecoder};
use crate::{Error, Request, Response, Result};

/// Stop taking new requests while this much is still unwritten, so a server that
/// stops reading cannot make the client buffer without bound.
const WRITE_HIGH_WATER: usize = 1 << 20;
/// Capacity reserved at a time for the read buffer, to amortise allocations.
const READ_RESERVE: usize = 64 * 1024;
/// The smallest and largest read. A read must hand the socket initialised
/// memory (`futures_io` takes `&mut [u8]`), so reads land in a buffer of
/// their own that is zeroed only when it grows, and what came is copied to
/// the read buffer. The read size adapts to what arrives: a 100-byte reply
/// keeps `MIN_READ` bytes, a 512 KiB value is read in big chunks.
const MIN_READ: usize = 4 * 1024;
const MAX_READ: usize = 256 * 1024;
/// Rounds of work before the driver yields to other tasks of its executor.
const BUDGET: usize = 32;
/// Requests held back (while the write buffer is full) before the driver
/// drops those whose callers gave up: their requests are freed already, this
/// frees the small records left behind.
const BACKLOG_PRUNE: usize = 1024;

/// Rounds a claimer runs before it leaves a reply still coming in bulk to
/// the background driver (see `Wire::drive_for`).
const CLAIMER_ROUNDS: usize = 2;

/// Who runs a pass.
pub(crate) enum Driving<'a> {
    /// The background driver, with its waker.
    Background(&'a Waker),
    /// A claimer, until its replies are in.
    Claimer(&'a dyn Fn() -> bool),
}

/// How a pass ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Passed {
    /// The wire has ended: every call on it answered.
    Ended,
    /// Waiting for the socket (or done for now); its waker is left there.
    Waiting,
    /// A claimer's reply is still coming in bulk: the background driver
    /// should take it over.
    Busy,
}

/// What one round did.
struct Round {
    /// Something was taken, written, read or answered.
    progress: bool,
    /// Bytes came from the socket.
    read: bool,
}

/// A written request waiting for its reply.
struct InFlight {
    request: Request,
    slot: Arc<CallSlot>,
}

/// The socket of one [`Connection`](crate::Connection) and its requests in
/// flight. Its work ends when the connection closes: every handle dropped
/// and every call answered, the server gone, an I/O error, a protocol
/// violation, or after `quit`.
pub(crate) struct Wire<T> {
    io: T,
    shared: Arc<Shared>,
    /// Scratch space the shared queue is swapped into.
    scratch: Vec<Pending>,
    /// Requests taken from the queue but not written yet.
    backlog: VecDeque<Pending>,
    write_buf: BytesMut,
    needs_flush: bool,
    read_buf: BytesMut,
    /// Where reads land first: at least `read_size` bytes, zeroed when it
    /// grows (see `MIN_READ`), given back when replies are small again.
    landing: Vec<u8>,
    /// How much the next read may bring (see `MIN_READ`).
    read_size: usize,
    /// When the backlog is pruned next (see `BACKLOG_PRUNE`).
    prune_at: usize,
    /// Written requests that wait for a reply, oldest first.
    in_flight: VecDeque<InFlight>,
    /// `noreply` requests in the write buffer: done once it is flushed.
    unflushed_noreply: Vec<Arc<CallSlot>>,
    decoder: ResponseDecoder,
    /// A `quit` or `shutdown` was written: nothing may follow it.
    closing: bool,
    /// A request that must be alone on the wire is in flight.
    exclusive: bool,
    done: bool,
}

impl<T> Wire<T> {
    pub(crate) fn new(io: T, shared: Arc<Shared>, decoder: ResponseDecoder) -> Self {
        Wire {
            io,
            shared,
            scratch: Vec::new(),
            backlog: VecDeque::new(),
            prune_at: BACKLOG_PRUNE,
            write_buf: BytesMut::with_capacity(16 * 1024),
            needs_flush: false,
            read_buf: BytesMut::new(),
            landing: vec![0; MIN_READ],
            read_size: MIN_READ,
            in_flight: VecDeque::new(),
            unflushed_noreply: Vec::new(),
            decoder,
            closing: false,
            exclusive: false,
            done: false,
        }
    }
}

impl<T: AsyncRead + AsyncWrite + Unpin> Wire<T> {
    /// Moves queued requests into the write buffer. Returns true if it took
    /// any; `Err` when the socket was retired.
    fn take_requests(&mut self, driver: Option<&Waker>) -> Result<bool> {
        let mut fresh = std::mem::take(&mut self.scratch);
        let taken = self.shared.take(&mut fresh, driver);
        // A lone call's one request is pushed, and a round that finds none
        // moves nothing: the generic extend costs more than the rest of the
        // move, even when it is empty.
        match fresh.len() {
            0 => {}
            1 => self.backlog.push_back(fresh.pop().expect("one request")),
            _ => self.backlog.extend(fresh.drain(..)),
        }
        self.scratch = fresh;
        taken?;
        let mut took = false;
        while let Some(pending) = self.backlog.front() {
            if self.closing || self.exclusive || self.write_buf.len() >= WRITE_HIGH_WATER {
                break;
            }
            // Some commands must be alone on the wire (memcached drops what is
            // pipelined after `lru_crawler metadump`): wait for the others first.
            let alone = pending.slot.alone();
            if alone && (!self.in_flight.is_empty() || !self.write_buf.is_empty()) {
                break;
            }
            let pending = self.backlog.pop_front().expect("front exists");
            // Given up before it was written: nothing to send, nothing to drain.
            let Some(request) = pending.slot.start_write() else {
                continue;
            };
            took = true;
            encode_request(&request, &mut self.write_buf);
            self.needs_flush = true;
            self.closing = request.closes_connection();
            self.exclusive = alone;
            if request.expects_reply() {
                self.in_flight.push_back(InFlight {
                    request,
                    slot: pending.slot,
                });
            } else {
                self.unflushed_noreply.push(pending.slot);
            }
        }
        if self.backlog.len() >= self.prune_at {
            self.backlog.retain(|pending| !pending.slot.is_abandoned());
            self.prune_at = (self.backlog.len() * 2).max(BACKLOG_PRUNE);
        }
        if self.closing {
            // Refuse new requests at once, so callers open a new connection
            // instead of queueing behind a `quit`; those already queued can
            // never be answered on this connection.
            let queued = self.shared.close(Error::ConnectionClosed);
            for pending in self.backlog.drain(..).chain(queued) {
                pending.slot.answer(Err(Error::ConnectionClosed));
            }
        }
        Ok(took)
    }

    /// Writes and flushes what it can. Returns true on progress.
    fn write(&mut self, cx: &mut Context<'_>) -> Result<bool> {
        let mut progress = false;
        while !self.write_buf.is_empty() {
            match Pin::new(&mut self.io).poll_write(cx, &self.write_buf) {
                Poll::Ready(Ok(0)) => return Err(io::Error::from(io::ErrorKind::WriteZero).into()),
                Poll::Ready(Ok(n)) => {
                    self.write_buf.advance(n);
                    progress = true;
                }
                Poll::Ready(Err(err)) => return Err(err.into()),
                Poll::Pending => return Ok(progress),
            }
        }
        if self.needs_flush {
            match Pin::new(&mut self.io).poll_flush(cx) {
                Poll::Ready(Ok(())) => {
                    self.needs_flush = false;
                    // Most flushes carry no `noreply` request: no drain then.
                    if !self.unflushed_noreply.is_empty() {
                        for slot in self.unflushed_noreply.drain(..) {
                            slot.answer(Ok(Response::NoReply));
                        }
                    }
                    progress = true;
                }
                Poll::Ready(Err(err)) => return Err(err.into()),
                Poll::Pending => {}
            }
        }
        Ok(progress)
    }

    /// Reads what the socket has. Returns `Ok(None)` at end of stream.
    fn read(&mut self, cx: &mut Context<'_>) -> Result<Option<bool>> {
        let room = self.read_size;
        // Zeroing costs as much as the bytes zeroed: zeroing `room` bytes of
        // the read buffer before every read (the idle ones that find nothing
        // included) was 15% of a get_many's instructions. The landing
        // buffer is zeroed once per size instead.
        if self.landing.len() < room {
            self.landing.resize(room, 0);
        } else if room == MIN_READ && self.landing.len() > MIN_READ {
            self.landing.truncate(MIN_READ);
            self.landing.shrink_to_fit();
        }
        let result = Pin::new(&mut self.io).poll_read(cx, &mut self.landing[..room]);
        if let Poll::Ready(Ok(n)) = &result {
            let came = &self.landing[..*n];
            if self.read_buf.capacity() - self.read_buf.len() < came.len() {
                self.read_buf.reserve(came.len().max(READ_RESERVE));
            }
            self.read_buf.extend_from_slice(came);
        }
        match result {
            Poll::Ready(Ok(0)) => Ok(None),
            Poll::Ready(Ok(read)) => {
                // A full read suggests more is waiting; a small one, that
                // replies are small.
                if read == room {
                    self.read_size = (room * 2).min(MAX_READ);
                } else if read < room / 4 {
                    self.read_size = (room / 2).max(MIN_READ);
                }
                Ok(Some(true))
            }
            Poll::Ready(Err(err)) => Err(err.into()),
            Poll::Pending => Ok(Some(false)),
        }
    }

    /// Hands every complete reply in the read buffer to its caller.
    fn dispatch(&mut self) -> Result<bool> {
        let mut progress = false;
        while let Some(head) = self.in_flight.front() {
            match self.decoder.decode(&head.request, &mut self.read_buf)? {
                None => break,
                Some(reply) => {
                    let head = self.in_flight.pop_front().expect("head exists");
                    // The caller may be gone (cancelled or timed out): the
                    // reply was consumed all the same, which is all that matters.
                    head.slot.answer(reply);
                    progress = true;
                }
            }
        }
        if self.in_flight.is_empty() {
            self.exclusive = false;
        }
        if self.in_flight.is_empty() && !self.read_buf.is_empty() {
            return Err(Error::protocol(
                "bytes from the server with no request waiting",
                &self.read_buf,
            ));
        }
        Ok(progress)
    }

    /// The server closed the stream. After `quit` or an obeyed `shutdown`
    /// that is the expected answer; anything else still waiting has failed.
    fn end_of_stream(&mut self) -> Result<()> {
        if self.closing {
            let closer = self
                .in_flight
                .back()
                .filter(|p| p.request.closes_connection());
            if closer.is_some() && self.in_flight.len() == 1 {
                let closer = self.in_flight.pop_back().expect("checked above");
                closer.slot.answer(Ok(Response::NoReply));
            }
            if self.in_flight.is_empty() {
                return Ok(());
            }
        }
        Err(Error::ConnectionClosed)
    }

    /// One round: take what is queued, write, read, hand out the replies.
    /// `Ok(None)` when the wire has ended cleanly.
    fn round(&mut self, cx: &mut Context<'_>, driver: Option<&Waker>) -> Result<Option<Round>> {
        let mut progress = self.take_requests(driver)?;
        progress |= self.write(cx)?;
        let Some(read) = self.read(cx)? else {
            self.end_of_stream()?;
            return Ok(None);
        };
        progress |= read;
        progress |= self.dispatch()?;
        let idle = self.in_flight.is_empty() && self.write_buf.is_empty() && !self.needs_flush;
        // `quit` is out: the server closes, and so do we. Or every handle
        // is gone, so no caller is left either (a call borrows its handle):
        // nothing still in flight matters.
        if (idle && self.closing) || self.shared.is_abandoned() {
            return Ok(None);
        }
        Ok(Some(Round { progress, read }))
    }

    /// The background driver's work: rounds until the socket has nothing
    /// more to do now. `Ready(Ok)` is a clean end.
    fn drive(&mut self, cx: &mut Context<'_>, driver: &Waker) -> Poll<Result<()>> {
        for _ in 0..BUDGET {
            match self.round(cx, Some(driver)) {
                Err(error) => return Poll::Ready(Err(error)),
                Ok(None) => return Poll::Ready(Ok(())),
                Ok(Some(round)) if !round.progress => return Poll::Pending,
                Ok(Some(_)) => {}
            }
        }
        // Plenty done: let the executor run other tasks, then continue.
        cx.waker().wake_by_ref();
        Poll::Pending
    }

    /// A claimer's work (see `driving.rs`): rounds until its replies are in
    /// (`answered`) or the socket has nothing to read now. A reply still
    /// incomplete after `CLAIMER_ROUNDS` rounds that each brought bytes (a
    /// large value, or a server flooding the socket) is `Busy`: the
    /// background driver reads the rest, so the caller's task stays free
    /// for its timer and its other futures.
    fn drive_for(&mut self, cx: &mut Context<'_>, answered: &dyn Fn() -> bool) -> Result<Passed> {
        for _ in 0..CLAIMER_ROUNDS {
            match self.round(cx, None)? {
                None => return Ok(Passed::Ended),
                // Its reply is in: the rest, if any, is the background's.
                // Or nothing came: the socket wakes it when something does.
                Some(round) if answered() || !round.read => return Ok(Passed::Waiting),
                Some(_) => {}
            }
        }
        Ok(Passed::Busy)
    }

    /// One pass, with `cx`'s waker left on the socket: the background
    /// driver's (`Driving::Background`, whose waker is also left where the
    /// queue wakes the driver) or a claimer's.
    pub(crate) fn pass(&mut self, cx: &mut Context<'_>, by: Driving<'_>) -> Passed {
        if self.done {
            return Passed::Ended;
        }
        let driven = match by {
            Driving::Background(driver) => match self.drive(cx, driver) {
                Poll::Pending => Ok(Passed::Waiting),
                Poll::Ready(result) => result.map(|()| Passed::Ended),
            },
            Driving::Claimer(answered) => self.drive_for(cx, answered),
        };
        match driven {
            Ok(Passed::Ended) => {
                self.finish(Error::ConnectionClosed);
                Passed::Ended
            }
            Err(error) => {
                self.finish(error);
                Passed::Ended
            }
            Ok(passed) => passed,
        }
    }
}

impl<T> Wire<T> {
    /// Stops the connection: every caller still waiting gets `error`.
    pub(crate) fn finish(&mut self, error: Error) {
        self.fail_all(error);
        self.done = true;
    }

    /// True once the wire has ended.
    pub(crate) fn is_done(&self) -> bool {
        self.done
    }

    /// True when nothing is on the way, in either direction: no request
    /// held back or unwritten, no reply owed, no `quit` out.
    pub(crate) fn is_idle(&self) -> bool {
        self.in_flight.is_empty()
            && self.backlog.is_empty()
            && self.write_buf.is_empty()
            && !self.needs_flush
            && self.unflushed_noreply.is_empty()
            && !self.closing
    }

    /// The queue this wire takes its requests from.
    pub(crate) fn shared(&self) -> &Arc<Shared> {
        &self.shared
    }

    /// Marks the socket closed and answers every call still on it with `error`.
    fn fail_all(&mut self, error: Error) {
        let queued = self.shared.close(error.clone());
        let waiting = self
            .in_flight
            .drain(..)
            .map(|call| call.slot)
            .chain(self.backlog.drain(..).chain(queued).map(|p| p.slot))
            .chain(self.unflushed_noreply.drain(..));
        for slot in waiting {
            slot.answer(Err(error.clone()));
        }
    }
}

impl<T> Drop for Wire<T> {
    fn drop(&mut self) {
        // A wire dropped without finishing (its runtime shut down) must not
        // leave callers waiting forever.
        if !self.done {
            self.fail_all(Error::ConnectionClosed);
        }
    }
}
