//! Python's `multiprocessing` primitives, shared between processes through named shared
//! memory: [`Lock`], [`RLock`], [`Semaphore`], [`BoundedSemaphore`], [`Event`], [`Value`]
//! and [`Queue`] (a `JoinableQueue` of byte messages) (Linux).
//!
//! Each object lives in a POSIX shared-memory object (`/dev/shm/<name>`): a header that
//! `open` checks (a magic number, the kind of object, the layout version, the size), then
//! the primitive's 32- and 64-bit words. A process waits by sleeping on a word with the
//! kernel's futex; nothing of a process's own (no thread handle, no stack node) is in the
//! shared memory, so any process that maps the object can wake any other.
//!
//! ```
//! use locksmith::process::Lock;
//!
//! // One process creates the lock; others open it by name (a child started with
//! // `std::process::Command` gets the name on its command line or in its environment).
//! let name = format!("/locksmith-doc-process-{}", std::process::id());
//! let lock = Lock::create(&name)?;
//! let in_another_process = Lock::open(&name)?;
//! lock.acquire();
//! assert!(!in_another_process.try_acquire());
//! in_another_process.release().unwrap();
//! # Ok::<(), std::io::Error>(())
//! ```
//!
//! Memory shared with another process is untrusted: whatever a peer writes into it, these
//! types never read or write outside the mapping, never panic because of it, and never
//! allocate because of it. The chapter docs/process.md has the invariants (PROC-n).

use core::fmt;

mod event;
mod lock;
#[cfg(all(not(any(loom, shuttle)), target_os = "linux"))]
mod object;
mod owned;
mod queue;
mod rlock;
mod semaphore;
mod value;

#[cfg(all(not(any(loom, shuttle)), target_os = "linux"))]
pub use event::Event;
#[cfg(all(not(any(loom, shuttle)), target_os = "linux"))]
pub use lock::{Lock, LockGuard};
pub use owned::OWNER_CHECK_INTERVAL;
#[cfg(all(not(any(loom, shuttle)), target_os = "linux"))]
pub use queue::Queue;
pub use queue::{HOLDERS, MAX_ITEM_LEN, PutError};
#[cfg(all(not(any(loom, shuttle)), target_os = "linux"))]
pub use rlock::RLock;
pub use semaphore::MAX_PERMITS;
#[cfg(all(not(any(loom, shuttle)), target_os = "linux"))]
pub use semaphore::{BoundedSemaphore, BoundedSemaphoreGuard, Semaphore, SemaphoreGuard};
#[cfg(all(not(any(loom, shuttle)), target_os = "linux"))]
pub use value::Value;
pub use value::ValueGuard;

/// A type that may live in shared memory and be read by another process: no pointers, no
/// padding, and every bit pattern a valid value (a peer may write any bytes).
///
/// Implemented for the integer and float primitives and arrays of them.
///
/// # Safety
/// Implement it only for `Copy` types with no padding bytes, no pointers or references, and
/// no invalid bit patterns (so not `bool`, `char`, enums or references).
///
/// ```
/// fn shareable<T: locksmith::process::Pod>() {}
/// shareable::<[u32; 4]>();
/// ```
pub unsafe trait Pod: Copy + 'static {}

macro_rules! pod {
    ($($t:ty),*) => {
        // SAFETY: primitive integers and floats: no padding, no pointers, every bit pattern
        // is a value.
        $(unsafe impl Pod for $t {})*
    };
}
pod!(
    u8, u16, u32, u64, u128, usize, i8, i16, i32, i64, i128, isize, f32, f64
);

// SAFETY: an array of Pod has no padding between elements (size is a multiple of align) and
// every bit pattern of each element is valid.
unsafe impl<T: Pod, const N: usize> Pod for [T; N] {}

/// The lock was taken over from an owner process that died holding it: the caller holds it
/// now, and what it protected may be half-written. Carries the guard (`()` for an RLock)
/// and the dead owner's pid. Reported once, to the taker; the lock is healthy after.
///
/// ```
/// let died = locksmith::process::OwnerDied::new((), 4242);
/// assert_eq!(died.pid(), 4242);
/// assert_eq!(died.to_string(), "the lock's owner, process 4242, died holding it");
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct OwnerDied<G = ()> {
    guard: G,
    pid: u32,
}

impl<G> OwnerDied<G> {
    /// Wraps the taker's `guard` and the dead owner's `pid`.
    ///
    /// ```
    /// let died = locksmith::process::OwnerDied::new("guard", 7);
    /// assert_eq!(died.into_inner(), "guard");
    /// ```
    pub fn new(guard: G, pid: u32) -> Self {
        OwnerDied { guard, pid }
    }

    /// The guard: the caller holds the lock.
    ///
    /// ```
    /// let died = locksmith::process::OwnerDied::new(5, 7);
    /// assert_eq!(died.into_inner(), 5);
    /// ```
    pub fn into_inner(self) -> G {
        self.guard
    }

    /// The pid of the process that died holding the lock.
    ///
    /// ```
    /// assert_eq!(locksmith::process::OwnerDied::new((), 7).pid(), 7);
    /// ```
    pub fn pid(&self) -> u32 {
        self.pid
    }
}

impl<G> fmt::Debug for OwnerDied<G> {
    /// Shows the pid, not the guard (as std's `PoisonError` hides its guard).
    ///
    /// ```
    /// let died = locksmith::process::OwnerDied::new((), 7);
    /// assert_eq!(format!("{died:?}"), "OwnerDied { pid: 7, .. }");
    /// ```
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OwnerDied")
            .field("pid", &self.pid)
            .finish_non_exhaustive()
    }
}

impl<G> fmt::Display for OwnerDied<G> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "the lock's owner, process {}, died holding it", self.pid)
    }
}

impl<G> std::error::Error for OwnerDied<G> {}

/// The state machines on their words, for the crate's models.
#[doc(hidden)]
pub mod raw {
    pub use super::event::RawEvent;
    pub use super::lock::RawLock;
    pub use super::owned::RawOwnedLock;
    pub use super::queue::RawQueue;
    #[cfg(any(loom, shuttle))]
    pub use super::queue::{ModelQueue, ModelSlot};
    pub use super::rlock::RawRLock;
    pub use super::semaphore::RawSemaphore;
    pub use super::value::RawValue;
}
