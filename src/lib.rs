//! # locksmith
//!
//! Python's threading primitives in Rust, with CPython 3.13's behaviour, errors included:
//! [`Lock`] (any thread may release it), [`RLock`] (an owner and a recursion count),
//! [`Condition`], [`Semaphore`], [`BoundedSemaphore`], [`Event`] and [`Barrier`], and
//! Python's `queue` module as [`queue`]: [`Queue`](queue::Queue) (a lock-free ring when
//! bounded), [`LifoQueue`](queue::LifoQueue), [`PriorityQueue`](queue::PriorityQueue) and
//! [`SimpleQueue`](queue::SimpleQueue), with `task_done`/`join` and Python 3.13's `shutdown`.
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
pub use rlock::{RLock, RLockGuard};
pub use semaphore::{
    BoundedSemaphore, BoundedSemaphoreGuard, MAX_PERMITS, Semaphore, SemaphoreGuard,
};

/// Internals exposed for the crate's own loom models and tests. Not part of the API.
#[doc(hidden)]
pub mod __internals {
    pub use crate::sync::Deadline;
    #[cfg(loom)]
    pub use crate::sync::model;
    pub use crate::wait::{WaitQueue, WaitResult, Woke};

    /// True when the crate is built for loom models (`--cfg loom`). Doctests link that build
    /// but run outside any model, so each one starts by returning early when this is set.
    pub const LOOM_BUILD: bool = cfg!(loom);
}
