//! What every queue shares: the blocking put and get on top of a non-blocking store, the
//! count of unfinished tasks behind `task_done`/`join`, and shutdown.
//!
//! A store ([`Store`]) only ever tries: push if there is room, pop if there is an item. The
//! waiting is here, once, for all four queues: a thread that found the store full (or empty)
//! spins briefly, then parks in the putters' (or getters') [`Waiters`]; whoever changes the
//! store wakes one thread from the other side.
//!
//! The handshake between a parking thread and a waker is the only subtle part. The store's
//! state and the "someone may be parked" mark are two different words, so the usual
//! one-word protocol of the other primitives does not apply. Each side writes its own word,
//! issues a `SeqCst` fence, then reads the other's (the classic store-buffering pattern):
//!
//! | parking getter                         | putter                                   |
//! |----------------------------------------|------------------------------------------|
//! | `parked = true` (list lock held)       | push the item into the store             |
//! | `fence(SeqCst)`                        | `fence(SeqCst)`                          |
//! | store has an item? then do not park    | `parked`? then wake one                  |
//!
//! The two fences are ordered one way or the other, and whichever comes second sees the
//! first thread's write: the getter sees the item, or the putter sees the mark. Both may
//! happen (a harmless extra look at the queue); neither missing is what the fences rule out.
//!
//! A store never answers "empty" while a put is in flight, nor "full" while a get is: it
//! waits for that step to finish (ring.rs). So a woken thread that looks again finds what
//! the waker made, unless a thread that never parked took it first, and then that thread
//! used it: no wake-up is spent while what it announced is still there.

use std::panic::{self, AssertUnwindSafe};

use crate::queue::{GetError, PutError, TaskDoneError};
use crate::sync::{AtomicBool, AtomicUsize, Deadline, Ordering, SpinWait, fence};
// A woken thread is told the wait core's TOKEN_RETRY: the store changed, try again. Nothing
// is handed over: a thread that never parked may take the item (or the room) first.
use crate::wait::{TOKEN_RETRY, WaitQueue, WaitResult};

/// Where a queue keeps its items: a ring (the bounded FIFO) or a lock and a container.
/// Every method tries once and never parks; the ring may wait a moment for a peer in the
/// middle of a step (ring.rs).
pub(crate) trait Store {
    type Item;

    /// Adds `item` unless the store is shut down or full (checked in that order, as
    /// Python's `put` does). `accepted` runs once the item is committed and before any
    /// getter can take it out.
    fn try_push(
        &self,
        item: Self::Item,
        accepted: impl FnOnce(),
    ) -> Result<(), PutError<Self::Item>>;

    /// Takes the next item out. `Err(ShutDown)` once shut down and empty, or, unless
    /// `draining`, once an immediate shutdown began. `draining`: the caller is that
    /// shutdown's drain. Never `Err(Empty)` while a put is in flight: the store waits for
    /// it (its put took effect when it claimed room).
    fn try_pop(&self, draining: bool) -> Result<Self::Item, GetError>;

    /// Whether a getter should look again rather than park: `try_pop(false)` would not
    /// answer `Empty` now. A snapshot, read after the waiter's fence. (The drain of an
    /// immediate shutdown never parks, so only getters ask.)
    fn can_pop(&self) -> bool;

    /// Whether a putter should look again rather than park: there is room, or the store is
    /// shut down.
    fn can_push(&self) -> bool;

    /// Refuses every later push (idempotent). With `immediate`, also refuses every later
    /// pop except the drain's, and the length reads 0 from then on. The caller drains.
    fn shutdown(&self, immediate: bool);

    fn is_shutdown(&self) -> bool;

    /// How many items are in the store now; a snapshot.
    fn len(&self) -> usize;

    /// The bound; 0 for unbounded.
    fn maxsize(&self) -> usize;
}

/// Threads parked until something changes, plus the mark that tells a waker whether it
/// needs to look at them at all.
#[derive(Debug)]
pub(crate) struct Waiters {
    queue: WaitQueue,
    /// A thread may be parked in `queue`. Written only under the queue's list lock: set by a
    /// thread about to park, cleared by whoever leaves the queue empty. Stale `true` costs a
    /// waker one look at an empty list; `false` while someone is parked is what the fences
    /// (module docs) rule out.
    parked: AtomicBool,
}

impl Waiters {
    pub(crate) fn new() -> Self {
        Waiters {
            queue: WaitQueue::new(),
            parked: AtomicBool::new(false),
        }
    }

    /// Parks until woken, or `deadline`, unless `ready()` says the awaited change already
    /// happened. Returns how the wait ended; on `Woken` or `Skipped` the caller tries again.
    pub(crate) fn wait(&self, deadline: &Deadline, ready: impl FnOnce() -> bool) -> WaitResult {
        self.queue.wait(
            deadline,
            || {
                // Relaxed: the fence below orders it, and only the list lock's holders write.
                self.parked.store(true, Ordering::Relaxed);
                // SeqCst fence: the parking half of the store-buffering handshake (module
                // docs). After it, `ready` sees any change whose maker did not see our mark.
                fence(Ordering::SeqCst);
                !ready()
            },
            |now_empty| {
                if now_empty {
                    // Relaxed: under the list lock, which the next writer takes.
                    self.parked.store(false, Ordering::Relaxed);
                }
            },
        )
    }

    /// Wakes one parked thread, if any. Call after making the change it waits for.
    #[inline]
    pub(crate) fn notify_one(&self) {
        self.notify(1);
    }

    /// Wakes every parked thread.
    pub(crate) fn notify_all(&self) {
        self.notify(usize::MAX);
    }

    #[inline]
    fn notify(&self, max: usize) {
        // SeqCst fence: the waking half of the handshake (module docs). Either we see the
        // mark of a thread about to park, or that thread's check sees our change.
        fence(Ordering::SeqCst);
        // Relaxed: ordered by the fence; a stale `true` only costs a look.
        if self.parked.load(Ordering::Relaxed) {
            self.wake(max);
        }
    }

    #[cold]
    fn wake(&self, max: usize) {
        self.queue.wake(max, |woke| {
            if !woke.more {
                // Relaxed: under the list lock.
                self.parked.store(false, Ordering::Relaxed);
            }
            TOKEN_RETRY
        });
    }

    /// How many threads are parked now; for tests.
    pub(crate) fn len(&self) -> usize {
        self.queue.len()
    }
}

/// Python's `unfinished_tasks` and `all_tasks_done`: the count of items put and not yet
/// marked done, and the threads in `join` waiting for it to reach zero.
#[derive(Debug)]
pub(crate) struct Tasks {
    unfinished: AtomicUsize,
    /// How many immediate shutdowns are draining now.
    draining: AtomicUsize,
    /// Threads in `join`, and in `task_done` while a drain runs.
    joiners: Waiters,
}

impl Tasks {
    pub(crate) fn new() -> Self {
        Tasks {
            unfinished: AtomicUsize::new(0),
            draining: AtomicUsize::new(0),
            joiners: Waiters::new(),
        }
    }

    /// One more item put. Runs before the item can be taken out, so its `task_done` always
    /// finds it counted.
    #[inline]
    pub(crate) fn add(&self) {
        // Relaxed: the item's publication (a Release after this, in the same thread) carries
        // the increment to whoever takes the item, and so to its `task_done`. The increment
        // cannot overflow in practice: it would take usize::MAX items put and not done.
        self.unfinished.fetch_add(1, Ordering::Relaxed);
    }

    /// Python's `task_done`.
    pub(crate) fn done(&self) -> Result<(), TaskDoneError> {
        // An immediate shutdown counts its drained items done one by one; Python does it all
        // under the queue's lock, so no `task_done` sees the count halfway. Wait it out; the
        // Acquire pairs with `end_drain`'s Release, so the drain's decrements are visible.
        self.wait_until_zero(&self.draining);
        // Release: the caller's work on the task happens before a `join` that sees the count
        // drop (its Acquire load). Relaxed on failure: nothing changes.
        let previous = self
            .unfinished
            .fetch_update(Ordering::Release, Ordering::Relaxed, |n| n.checked_sub(1))
            .map_err(|_| TaskDoneError)?;
        if previous == 1 {
            self.joiners.notify_all();
        }
        Ok(())
    }

    /// An immediate shutdown starts draining: `task_done` waits until it ends.
    fn begin_drain(&self) {
        // Relaxed: the store's Release of its shut flag (the bit in the ring's `tail`, or the
        // locked store's `shut`), which follows, carries it to anyone who sees the shutdown
        // (`is_shutdown`'s Acquire); a `task_done` that misses it ran before the shutdown.
        self.draining.fetch_add(1, Ordering::Relaxed);
    }

    fn end_drain(&self) {
        // Release: publishes the drain's decrements to `done`'s Acquire.
        self.draining.fetch_sub(1, Ordering::Release);
        self.joiners.notify_all();
    }

    /// One item thrown away by `shutdown(immediate)`: done, but never below zero (an item
    /// may already have been marked done by a `task_done` the count cannot tell apart).
    /// No wake-up here: `end_drain`, which always follows the drain, wakes every joiner
    /// (as Python's `shutdown` notifies `all_tasks_done` once, at the end).
    fn drained(&self) {
        // Release: as in `done`. An `Err` is a count already at zero, left there.
        let _ = self
            .unfinished
            .fetch_update(Ordering::Release, Ordering::Relaxed, |n| n.checked_sub(1));
    }

    /// Python's `join`: returns once the count is zero.
    pub(crate) fn join(&self) {
        // The Acquire pairs with the Release of the `task_done` that brought the count to
        // zero, so the work on every task happens before `join` returns.
        self.wait_until_zero(&self.unfinished);
    }

    /// Parks in `joiners` until `count` reads zero. Both counts it serves (`unfinished`,
    /// `draining`) wake `joiners` whenever they reach zero.
    fn wait_until_zero(&self, count: &AtomicUsize) {
        // Acquire: the callers' pairing (above). Relaxed in `ready`: it runs under the list
        // lock, after the store-buffering fence of `Waiters::wait`, and a zero read there only
        // skips the park; the loop's Acquire load then reads it again.
        while count.load(Ordering::Acquire) != 0 {
            self.joiners
                .wait(&Deadline::never(), || count.load(Ordering::Relaxed) == 0);
        }
    }

    pub(crate) fn unfinished(&self) -> usize {
        self.unfinished.load(Ordering::Relaxed)
    }
}

/// A store plus its waiting threads and task count: everything a Python queue is.
#[derive(Debug)]
pub(crate) struct Core<S> {
    pub(crate) store: S,
    getters: Waiters,
    putters: Waiters,
    pub(crate) tasks: Tasks,
}

impl<S: Store> Core<S> {
    pub(crate) fn new(store: S) -> Self {
        Core {
            store,
            getters: Waiters::new(),
            putters: Waiters::new(),
            tasks: Tasks::new(),
        }
    }

    /// `put(block=False)`.
    #[inline]
    pub(crate) fn try_put(&self, item: S::Item) -> Result<(), PutError<S::Item>> {
        self.store.try_push(item, || self.tasks.add())?;
        self.getters.notify_one();
        Ok(())
    }

    /// A put that counts no task: `SimpleQueue` has no `task_done`.
    pub(crate) fn try_put_untracked(&self, item: S::Item) -> Result<(), PutError<S::Item>> {
        self.store.try_push(item, || {})?;
        self.getters.notify_one();
        Ok(())
    }

    /// `put(timeout=...)`, or `put()` with a deadline that never passes.
    pub(crate) fn put(
        &self,
        mut item: S::Item,
        deadline: &Deadline,
    ) -> Result<(), PutError<S::Item>> {
        let mut spin = SpinWait::new();
        loop {
            match self.try_put(item) {
                // A deadline that had passed when it was made (a zero timeout): one look.
                Err(PutError::Full(back)) if deadline.is_now() => return Err(PutError::Full(back)),
                Err(PutError::Full(back)) => item = back,
                done => return done,
            }
            if spin.spin() {
                continue;
            }
            if self.putters.wait(deadline, || self.store.can_push()) == WaitResult::TimedOut {
                return Err(PutError::Full(item));
            }
        }
    }

    /// `get(block=False)`.
    #[inline]
    pub(crate) fn try_get(&self) -> Result<S::Item, GetError> {
        let item = self.store.try_pop(false)?;
        // An unbounded store never has putters waiting.
        if self.store.maxsize() != 0 {
            self.putters.notify_one();
        }
        Ok(item)
    }

    /// `get(timeout=...)`, or `get()` with a deadline that never passes.
    pub(crate) fn get(&self, deadline: &Deadline) -> Result<S::Item, GetError> {
        let mut spin = SpinWait::new();
        loop {
            match self.try_get() {
                // A deadline that had passed when it was made (a zero timeout): one look.
                Err(GetError::Empty) if !deadline.is_now() => {}
                done => return done,
            }
            if spin.spin() {
                continue;
            }
            if self.getters.wait(deadline, || self.store.can_pop()) == WaitResult::TimedOut {
                return Err(GetError::Empty);
            }
        }
    }

    /// Python 3.13's `shutdown(immediate)`.
    pub(crate) fn shutdown(&self, immediate: bool) {
        if immediate {
            self.tasks.begin_drain();
        }
        self.store.shutdown(immediate);
        // Every blocked getter and putter re-checks: putters fail, getters drain what is
        // left and then fail (at once, after an immediate shutdown). The drain below never
        // parks: the store waits inside `try_pop` for a put still in flight.
        self.getters.notify_all();
        self.putters.notify_all();
        if !immediate {
            return;
        }
        // An item's `Drop` may panic. Stopping there would leave the drain open for good
        // (every later `task_done` waits for it) and the rest of the items unfinished (`join`
        // hangs), so the drain goes on and the first panic is raised again at its end, as
        // `Barrier` does with a panicking action.
        let mut first_panic = None;
        loop {
            match self.store.try_pop(true) {
                Ok(item) => {
                    // Dropped here, as soon as it is out, and counted as done, panic or not.
                    if let Err(panic) = panic::catch_unwind(AssertUnwindSafe(|| drop(item))) {
                        first_panic.get_or_insert(panic);
                    }
                    self.tasks.drained();
                }
                Err(GetError::ShutDown) => break,
                // A shut-down store answers `ShutDown` when empty, and waits for a put still
                // in flight (`Store::try_pop`).
                Err(GetError::Empty) => unreachable!("a shut-down store answered Empty"),
            }
        }
        self.tasks.end_drain();
        if let Some(panic) = first_panic {
            panic::resume_unwind(panic);
        }
    }

    /// How many threads are parked in get, put and join now; for tests.
    pub(crate) fn parked(&self) -> (usize, usize, usize) {
        (
            self.getters.len(),
            self.putters.len(),
            self.tasks.joiners.len(),
        )
    }
}
