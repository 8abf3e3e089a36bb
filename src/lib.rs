//! # locksmith
//!
//! Python's threading primitives in Rust, with CPython 3.13's behaviour, errors included:
//! [`Lock`] (any thread may release it), [`RLock`] (an owner and a recursion count),
//! [`Condition`], [`Semaphore`], [`BoundedSemaphore`], [`Event`] and [`Barrier`], and
//! Python's `queue` module as [`queue`]: [`Queue`](queue::Queue) (a lock-free ring when
//! bounded), [`LifoQueue`](queue::LifoQueue), [`PriorityQueue`](queue::PriorityQueue) and
//! [`SimpleQueue`](queue::SimpleQueue), with `task_done`/`join` and Python 3.13's `shutdown`.
//! On Linux, `locksmith::process` has `multiprocessing`'s Lock, RLock, Semaphore,
//! BoundedSemaphore, Event, Value and a JoinableQueue of bytes, shared between processes in named shared memory, and
//! recovered when an owner process dies holding one.
//!
//! ## From Python to locksmith
//!
//! | Python | locksmith |
//! |---|---|
//! | `threading.Lock()`; `acquire()`, `acquire(blocking=False)`, `acquire(timeout=t)`, `release()`, `locked()`, `with lock:` | [`Lock::new`]; [`acquire`](Lock::acquire), [`try_acquire`](Lock::try_acquire), [`acquire_timeout`](Lock::acquire_timeout), [`release`](Lock::release), [`locked`](Lock::locked), [`lock`](Lock::lock) (a guard) |
//! | `threading.RLock()`; the same, plus `_is_owned()`, `_recursion_count()` | [`RLock::new`]; the same names, plus [`is_owned`](RLock::is_owned), [`recursion_count`](RLock::recursion_count) |
//! | `threading.Condition(lock)`; `wait(timeout)`, `wait_for(pred, timeout)`, `notify(n)`, `notify_all()` | [`Condition::new`], [`Condition::with_lock`]; [`wait`](Condition::wait), [`wait_timeout`](Condition::wait_timeout), [`wait_for`](Condition::wait_for), [`notify`](Condition::notify), [`notify_n`](Condition::notify_n), [`notify_all`](Condition::notify_all) |
//! | `threading.Semaphore(value)`, `BoundedSemaphore(value)`; `acquire(...)`, `release(n)` | [`Semaphore::new`], [`BoundedSemaphore::new`]; `acquire`, `try_acquire`, `acquire_timeout`, [`release`](Semaphore::release), [`release_n`](Semaphore::release_n) |
//! | `threading.Event()`; `set()`, `clear()`, `is_set()`, `wait(timeout)` | [`Event::new`]; [`set`](Event::set), [`clear`](Event::clear), [`is_set`](Event::is_set), [`wait`](Event::wait), [`wait_timeout`](Event::wait_timeout) |
//! | `threading.Barrier(parties, action, timeout)`; `wait(timeout)`, `abort()`, `reset()` | [`Barrier::new`] (and constructors for the action and the default timeout); [`wait`](Barrier::wait), [`wait_timeout`](Barrier::wait_timeout), [`abort`](Barrier::abort), [`reset`](Barrier::reset) |
//! | `queue.Queue(maxsize)`, `LifoQueue`, `PriorityQueue`, `SimpleQueue`; `put`, `get`, `put_nowait`, `get_nowait`, `qsize()`, `task_done()`, `join()`, `shutdown(immediate)` | [`queue::Queue::new`] and the others; [`put`](queue::Queue::put), [`get`](queue::Queue::get), [`try_put`](queue::Queue::try_put), [`try_get`](queue::Queue::try_get), [`len`](queue::Queue::len), [`task_done`](queue::Queue::task_done), [`join`](queue::Queue::join), [`shutdown`](queue::Queue::shutdown) |
//! | `multiprocessing.Lock()`, `RLock`, `Semaphore`, `BoundedSemaphore`, `Event`, `Value`, `JoinableQueue` | `process::Lock::create(name)` in one process and `open(name)` in the others, and the same for each (Linux) |
//! | `RuntimeError`, `ValueError`, `BrokenBarrierError`, `queue.Full`, `Empty`, `ShutDown` | [`ReleaseError`], [`BrokenBarrierError`], [`queue::PutError`], [`queue::GetError`], [`queue::TaskDoneError`], returned as `Err`, never raised |
//!
//! Python's keyword arguments become variants (`blocking=False` is `try_*`, `timeout=t` is
//! `*_timeout(Duration)`, `n=k` is `*_n(k)`). `docs/README.md` in the repository holds the full
//! map, every deliberate difference from Python, and the Python ideas that lie outside this
//! crate (the GIL, `threading.local`, pipes and managers).
//!
//! Every primitive is a small state machine on atomics over one shared wait core: a FIFO of
//! parked threads whose nodes live on the waiters' own stacks, so no acquire, release or wait
//! allocates (nor does a put or get on a bounded queue). The whole crate is checked under
//! [loom](https://docs.rs/loom) with timeouts and spurious wake-ups modelled; see `docs/` in
//! the repository for every invariant and the check that proves it.
//!
//! ```
//! # if locksmith::__internals::LOOM_BUILD { return; }
//! use locksmith::{Lock, RLock};
//! use std::time::Duration;
//!
//! let lock = Lock::new();
//! {
//!     let _held = lock.lock();
//!     assert!(!lock.acquire_timeout(Duration::from_millis(1)));
//! }
//! assert!(lock.try_acquire());
//! lock.release().unwrap();
//!
//! let rlock = RLock::new();
//! let _outer = rlock.lock();
//! let _inner = rlock.lock();
//! assert_eq!(rlock.recursion_count(), 2);
//! ```

#![warn(missing_docs)]

mod barrier;
mod condition;
mod error;
mod event;
mod lock;
#[cfg(feature = "lock_api")]
mod mutex;
#[cfg(any(loom, shuttle, target_os = "linux"))]
pub mod process;
pub mod queue;
mod rlock;
mod semaphore;
mod sync;
mod wait;

pub use barrier::Barrier;
pub use condition::{Condition, ConditionLock};
pub use error::{BrokenBarrierError, ReleaseError};
pub use event::Event;
pub use lock::{Lock, LockGuard};
/// The [lock_api](https://docs.rs/lock_api) crate this one's [`Mutex`] is built on.
#[cfg(feature = "lock_api")]
pub use lock_api;
#[cfg(feature = "lock_api")]
pub use mutex::{Mutex, MutexGuard};
pub use rlock::{RLock, RLockGuard};
pub use semaphore::{
    BoundedSemaphore, BoundedSemaphoreGuard, MAX_PERMITS, Semaphore, SemaphoreGuard,
};

/// Internals exposed for the crate's own loom models and tests. Not part of the API.
#[doc(hidden)]
pub mod __internals {
    pub use crate::sync::Deadline;
    #[cfg(any(loom, shuttle))]
    pub use crate::sync::model;
    pub use crate::wait::{MAX_TOKEN, Token, WaitQueue, WaitResult, Woke};

    /// True when the crate is built for loom models (`--cfg loom`). Doctests link that build
    /// but run outside any model, so each one starts by returning early when this is set.
    pub const LOOM_BUILD: bool = cfg!(loom);
}
