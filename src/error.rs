//! Errors shared by the primitives.

use core::fmt;

/// Why a `release` (or a call that must hold a lock) was refused. A refused call changes
/// nothing.
///
/// Python raises `RuntimeError` (and `ValueError` for a bounded semaphore) in these cases;
/// each variant's `Display` text is CPython 3.13's message for that case. One deliberate
/// difference: CPython's RLock says "cannot release un-acquired lock" whether another
/// thread holds it or nobody does; locksmith tells the two apart (`NotOwner`, `NotLocked`).
///
/// ```
/// # if locksmith::__internals::LOOM_BUILD { return; }
/// use locksmith::{Lock, ReleaseError};
///
/// let lock = Lock::new();
/// assert_eq!(lock.release(), Err(ReleaseError::NotLocked));
/// assert_eq!(ReleaseError::NotLocked.to_string(), "release unlocked lock");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ReleaseError {
    /// The lock is not held by anyone (Python: `RuntimeError: release unlocked lock`).
    NotLocked,
    /// The lock is held, but by another thread, and only its owner may release it
    /// (Python: `RuntimeError: cannot release un-acquired lock`).
    NotOwner,
    /// A bounded semaphore would rise above its initial value
    /// (Python: `ValueError: Semaphore released too many times`).
    TooManyReleases,
}

impl fmt::Display for ReleaseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ReleaseError::NotLocked => "release unlocked lock",
            ReleaseError::NotOwner => "cannot release un-acquired lock",
            ReleaseError::TooManyReleases => "Semaphore released too many times",
        })
    }
}

impl std::error::Error for ReleaseError {}

/// The barrier was broken: a party timed out, [`Barrier::abort`](crate::Barrier::abort) or
/// [`Barrier::reset`](crate::Barrier::reset) ran, or the round's action panicked, while this
/// thread waited (or before it arrived). Python: `threading.BrokenBarrierError`.
///
/// ```
/// # if locksmith::__internals::LOOM_BUILD { return; }
/// let barrier = locksmith::Barrier::new(2);
/// barrier.abort();
/// assert_eq!(barrier.wait(), Err(locksmith::BrokenBarrierError));
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub struct BrokenBarrierError;

impl fmt::Display for BrokenBarrierError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("barrier is broken")
    }
}

impl std::error::Error for BrokenBarrierError {}
