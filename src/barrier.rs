//! `Barrier`: Python's `threading.Barrier`. A round counter under the crate's own `Lock`,
//! and one wait queue whose tokens tell each waiter how its round ended.
//!
//! A round's fate is decided in one place: the wake callback of whoever ends it (the last
//! arrival, `abort`, `reset`, a timed-out party), which runs under the queue's lock. A
//! waiter that times out first unlinks itself and records that under the same lock, so the
//! last arrival sees it and breaks the round instead of releasing it: a round is released
//! only if every party is still there.

use core::fmt;
use core::time::Duration;
use std::panic::{self, AssertUnwindSafe};

use crate::error::BrokenBarrierError;
use crate::lock::Lock;
use crate::sync::{AtomicBool, AtomicUsize, Deadline, Ordering};
use crate::wait::{Token, WaitQueue, WaitResult};

/// The round completed: every party arrived (and the action, if any, ran).
const TOKEN_RELEASED: Token = Token::new(0);
/// The round was broken (timeout, abort, reset or a panicking action).
const TOKEN_BROKEN: Token = Token::new(1);

type Action = Box<dyn Fn() + Send + Sync>;

/// A meeting point for a fixed number of threads: Python's `threading.Barrier`.
///
/// Each of `parties` threads calls [`wait`](Barrier::wait); the last to arrive runs the
/// action (if any), then releases them all, and each gets a distinct index in
/// `0..parties`. The barrier is then ready for the next round. A timeout, [`abort`](Barrier::abort)
/// or a panicking action breaks it: every thread in the round, and every
/// later arrival, gets [`BrokenBarrierError`] until [`reset`](Barrier::reset).
///
/// ```
/// # if locksmith::__internals::LOOM_BUILD { return; }
/// use locksmith::Barrier;
///
/// let barrier = Barrier::new(3);
/// let mut indices: Vec<usize> = std::thread::scope(|s| {
///     let handles: Vec<_> = (0..3).map(|_| s.spawn(|| barrier.wait().unwrap())).collect();
///     handles.into_iter().map(|h| h.join().unwrap()).collect()
/// });
/// indices.sort();
/// assert_eq!(indices, [0, 1, 2]);
/// ```
pub struct Barrier {
    parties: usize,
    action: Option<Action>,
    default_timeout: Option<Duration>,
    lock: Lock,
    /// Rounds ended so far (wrapping), by release, break or reset: tells a timed-out party
    /// whether its round is still the current one. Written and read only with `lock` held.
    generation: AtomicUsize,
    /// Parties that arrived in this round (Python's `_count`), and whether the barrier is
    /// broken until `reset`. Written only with `lock` held; atomics so that `n_waiting` and
    /// `broken` read them without the lock, which the action runs under (Python reads them
    /// without a lock too).
    arrived: AtomicUsize,
    broken: AtomicBool,
    waiters: WaitQueue,
    /// Parties of the current round that timed out and left the queue, recorded under the
    /// queue's lock so the round's ender sees them.
    timed_out: AtomicUsize,
}

impl Barrier {
    /// A barrier for `parties` threads. Python: `Barrier(parties)`.
    ///
    /// # Panics
    /// If `parties` is 0 (Python raises `ValueError`).
    ///
    /// ```
    /// # if locksmith::__internals::LOOM_BUILD { return; }
    /// assert_eq!(locksmith::Barrier::new(2).parties(), 2);
    /// ```
    #[track_caller]
    pub fn new(parties: usize) -> Barrier {
        Barrier::build(parties, None, None)
    }

    /// A barrier whose `action` runs once per round, in the last thread to arrive, before
    /// any thread is released. If it panics, the barrier breaks and the panic continues in
    /// that thread. Python: `Barrier(parties, action)`.
    ///
    /// # Panics
    /// If `parties` is 0.
    ///
    /// ```
    /// # if locksmith::__internals::LOOM_BUILD { return; }
    /// use std::sync::atomic::{AtomicUsize, Ordering};
    /// use std::sync::Arc;
    /// let rounds = Arc::new(AtomicUsize::new(0));
    /// let counter = Arc::clone(&rounds);
    /// let barrier = locksmith::Barrier::with_action(1, move || {
    ///     counter.fetch_add(1, Ordering::Relaxed);
    /// });
    /// barrier.wait().unwrap();
    /// assert_eq!(rounds.load(Ordering::Relaxed), 1);
    /// ```
    #[track_caller]
    pub fn with_action(parties: usize, action: impl Fn() + Send + Sync + 'static) -> Barrier {
        Barrier::build(parties, Some(Box::new(action)), None)
    }

    /// A barrier whose [`wait`](Barrier::wait) gives up after `timeout` (breaking the
    /// barrier). Python: `Barrier(parties, timeout=t)`.
    ///
    /// # Panics
    /// If `parties` is 0.
    ///
    /// ```
    /// # if locksmith::__internals::LOOM_BUILD { return; }
    /// use std::time::Duration;
    /// let barrier = locksmith::Barrier::with_timeout(2, Duration::from_millis(5));
    /// assert!(barrier.wait().is_err());
    /// assert!(barrier.broken());
    /// ```
    #[track_caller]
    pub fn with_timeout(parties: usize, timeout: Duration) -> Barrier {
        Barrier::build(parties, None, Some(timeout))
    }

    /// Both an action and a default timeout. Python: `Barrier(parties, action, timeout)`.
    ///
    /// # Panics
    /// If `parties` is 0.
    ///
    /// ```
    /// # if locksmith::__internals::LOOM_BUILD { return; }
    /// use std::time::Duration;
    /// let barrier = locksmith::Barrier::with_action_and_timeout(1, || {}, Duration::from_secs(1));
    /// assert_eq!(barrier.wait(), Ok(0));
    /// ```
    #[track_caller]
    pub fn with_action_and_timeout(
        parties: usize,
        action: impl Fn() + Send + Sync + 'static,
        timeout: Duration,
    ) -> Barrier {
        Barrier::build(parties, Some(Box::new(action)), Some(timeout))
    }

    #[track_caller]
    fn build(parties: usize, action: Option<Action>, default_timeout: Option<Duration>) -> Barrier {
        assert!(parties > 0, "a Barrier needs at least one party");
        Barrier {
            parties,
            action,
            default_timeout,
            lock: Lock::new(),
            generation: AtomicUsize::new(0),
            arrived: AtomicUsize::new(0),
            broken: AtomicBool::new(false),
            waiters: WaitQueue::new(),
            timed_out: AtomicUsize::new(0),
        }
    }

    /// Waits for the round to complete (with the default timeout, if one was given);
    /// returns this thread's index in `0..parties`, unique in the round.
    /// Python: `barrier.wait()`.
    ///
    /// # Errors
    /// [`BrokenBarrierError`] if the barrier is or becomes broken.
    ///
    /// ```
    /// # if locksmith::__internals::LOOM_BUILD { return; }
    /// assert_eq!(locksmith::Barrier::new(1).wait(), Ok(0));
    /// ```
    pub fn wait(&self) -> Result<usize, BrokenBarrierError> {
        let deadline = self
            .default_timeout
            .map_or(Deadline::never(), Deadline::after);
        self.wait_until(&deadline)
    }

    /// Like [`wait`](Barrier::wait), but gives up after `timeout`, which breaks the barrier
    /// for everyone in the round. Python: `barrier.wait(timeout=t)`.
    ///
    /// # Errors
    /// [`BrokenBarrierError`] if the barrier is or becomes broken, this thread's timeout
    /// included.
    ///
    /// ```
    /// # if locksmith::__internals::LOOM_BUILD { return; }
    /// use std::time::Duration;
    /// let barrier = locksmith::Barrier::new(2);
    /// assert!(barrier.wait_timeout(Duration::from_millis(5)).is_err());
    /// assert!(barrier.broken());
    /// ```
    pub fn wait_timeout(&self, timeout: Duration) -> Result<usize, BrokenBarrierError> {
        self.wait_until(&Deadline::after(timeout))
    }

    /// Breaks the barrier: waiting threads and later arrivals get [`BrokenBarrierError`]
    /// until [`reset`](Barrier::reset). Python: `barrier.abort()`.
    ///
    /// ```
    /// # if locksmith::__internals::LOOM_BUILD { return; }
    /// let barrier = locksmith::Barrier::new(2);
    /// barrier.abort();
    /// assert!(barrier.broken());
    /// ```
    pub fn abort(&self) {
        let _held = self.lock.lock();
        self.break_round();
    }

    /// Returns the barrier to its empty, unbroken state; threads waiting in the current round
    /// get [`BrokenBarrierError`]. Python: `barrier.reset()`.
    ///
    /// ```
    /// # if locksmith::__internals::LOOM_BUILD { return; }
    /// let barrier = locksmith::Barrier::new(1);
    /// barrier.abort();
    /// barrier.reset();
    /// assert_eq!(barrier.wait(), Ok(0));
    /// ```
    pub fn reset(&self) {
        let _held = self.lock.lock();
        self.end_round(TOKEN_BROKEN);
        // Relaxed: written under `lock`, which orders it for every other writer.
        self.broken.store(false, Ordering::Relaxed);
    }

    /// The number of threads needed to pass. Python: `barrier.parties`.
    ///
    /// ```
    /// # if locksmith::__internals::LOOM_BUILD { return; }
    /// assert_eq!(locksmith::Barrier::new(4).parties(), 4);
    /// ```
    pub fn parties(&self) -> usize {
        self.parties
    }

    /// How many threads are waiting in the current round now. Python: `barrier.n_waiting`.
    ///
    /// ```
    /// # if locksmith::__internals::LOOM_BUILD { return; }
    /// assert_eq!(locksmith::Barrier::new(2).n_waiting(), 0);
    /// ```
    pub fn n_waiting(&self) -> usize {
        // Relaxed: a snapshot; written only under `lock`.
        self.arrived.load(Ordering::Relaxed)
    }

    /// Whether the barrier is broken. Python: `barrier.broken`.
    ///
    /// ```
    /// # if locksmith::__internals::LOOM_BUILD { return; }
    /// assert!(!locksmith::Barrier::new(2).broken());
    /// ```
    pub fn broken(&self) -> bool {
        // Relaxed: a snapshot; written only under `lock`.
        self.broken.load(Ordering::Relaxed)
    }

    /// Ends the current round: every queued party gets `token`, the next round starts empty.
    /// Breaks instead of releasing if a party of this round already timed out. Returns the
    /// token actually sent. The caller holds `self.lock`.
    fn end_round(&self, token: Token) -> Token {
        let mut sent = token;
        self.waiters.wake(usize::MAX, |_| {
            // Under the queue's lock, after every timed-out party of this round recorded
            // itself: a round missing a party is broken, never released. Relaxed: the
            // queue's lock orders these accesses.
            if self.timed_out.swap(0, Ordering::Relaxed) > 0 {
                sent = TOKEN_BROKEN;
            }
            // Before any token is published: the token's Release/Acquire carries these to
            // every released party, so none sees the old round's count. Relaxed (both):
            // written under `lock`; other readers take snapshots.
            self.arrived.store(0, Ordering::Relaxed);
            if sent == TOKEN_BROKEN {
                self.broken.store(true, Ordering::Relaxed);
            }
            sent
        });
        // Relaxed: written and read only with `lock` held, which orders them.
        self.generation.fetch_add(1, Ordering::Relaxed);
        sent
    }

    fn break_round(&self) {
        self.end_round(TOKEN_BROKEN);
    }

    fn wait_until(&self, deadline: &Deadline) -> Result<usize, BrokenBarrierError> {
        self.lock.acquire();
        // Relaxed (all three): `lock` orders every write to these fields.
        if self.broken.load(Ordering::Relaxed) {
            let _ = self.lock.release();
            return Err(BrokenBarrierError);
        }
        let index = self.arrived.fetch_add(1, Ordering::Relaxed);
        let generation = self.generation.load(Ordering::Relaxed);

        if index + 1 == self.parties {
            return self.complete_round(index);
        }

        let mut unlocked = false;
        let waited = self.waiters.wait_linked(
            deadline,
            || true,
            // Queued: now let the others in (the round can only end once we are counted).
            || {
                unlocked = true;
                let _ = self.lock.release();
            },
            |_| {
                // Relaxed: under the queue's lock, which the round's ender takes to decide.
                self.timed_out.fetch_add(1, Ordering::Relaxed);
            },
        );
        match waited {
            WaitResult::Woken(TOKEN_RELEASED) => Ok(index),
            WaitResult::Woken(_) => Err(BrokenBarrierError),
            WaitResult::TimedOut => {
                // We left the queue before the round ended, and said so; break the round if
                // it is still ours (if it ended meanwhile, our record made it end broken).
                // An already-passed deadline times out before linking: then we never let go
                // of the lock.
                if unlocked {
                    self.lock.acquire();
                }
                // Relaxed: `lock` is held again, and it orders every write to `generation`.
                if self.generation.load(Ordering::Relaxed) == generation {
                    self.break_round();
                }
                let _ = self.lock.release();
                Err(BrokenBarrierError)
            }
            WaitResult::Skipped => unreachable!("a barrier waiter always parks"),
        }
    }

    /// The last arrival, holding `self.lock`: run the action, then release the round.
    fn complete_round(&self, index: usize) -> Result<usize, BrokenBarrierError> {
        if let Some(action) = &self.action {
            if let Err(panic) = panic::catch_unwind(AssertUnwindSafe(action)) {
                self.break_round();
                let _ = self.lock.release();
                panic::resume_unwind(panic);
            }
        }
        let sent = self.end_round(TOKEN_RELEASED);
        let _ = self.lock.release();
        if sent == TOKEN_RELEASED {
            Ok(index)
        } else {
            Err(BrokenBarrierError)
        }
    }
}

impl fmt::Debug for Barrier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Barrier")
            .field("parties", &self.parties)
            .field("n_waiting", &self.n_waiting())
            .field("broken", &self.broken())
            .finish()
    }
}
