//! `Semaphore` and `BoundedSemaphore`: Python's `threading.Semaphore` and
//! `threading.BoundedSemaphore`. One counter of permits and one wait queue; the bounded one
//! only refuses releases that would pass its initial value.

use core::fmt;
use core::time::Duration;

use crate::error::ReleaseError;
use crate::sync::{Deadline, Ordering};
use crate::wait::{PARKED, ParkedWord, Step};

/// One permit, in the state word's units: the permits live above the wait core's [`PARKED`]
/// bit (a thread may be parked in the queue, so a release must look there).
const PERMIT: usize = 0b10;

/// The most permits a semaphore can hold: `usize::MAX / 2`. Creating one with more, or
/// releasing past it, panics.
pub const MAX_PERMITS: usize = usize::MAX >> 1;

/// The counter both semaphores share.
struct RawSemaphore {
    /// `permits * PERMIT | PARKED?`
    word: ParkedWord,
}

impl RawSemaphore {
    #[track_caller]
    fn new(permits: usize) -> Self {
        assert!(
            permits <= MAX_PERMITS,
            "semaphore value {permits} is above the maximum, {MAX_PERMITS}"
        );
        RawSemaphore {
            word: ParkedWord::new(permits * PERMIT),
        }
    }

    #[inline]
    fn try_acquire(&self) -> bool {
        let mut state = self.word.state().load(Ordering::Relaxed);
        while state >= PERMIT {
            // Acquire: what the releaser did before releasing happens before us.
            match self.word.state().compare_exchange_weak(
                state,
                state - PERMIT,
                Ordering::Acquire,
                Ordering::Relaxed,
            ) {
                Ok(_) => return true,
                Err(actual) => state = actual,
            }
        }
        false
    }

    #[inline]
    fn acquire_timeout(&self, timeout: Duration) -> bool {
        self.try_acquire() || self.acquire_slow(&Deadline::after(timeout))
    }

    #[cold]
    #[inline(never)]
    fn acquire_slow(&self, deadline: &Deadline) -> bool {
        self.word.wait(
            deadline,
            true,
            |state| {
                if state < PERMIT {
                    return Step::Park;
                }
                // Acquire: as in `try_acquire`. A waiter woken after its deadline takes a
                // permit still there, so none is lost to its timeout.
                match self.word.state().compare_exchange_weak(
                    state,
                    state - PERMIT,
                    Ordering::Acquire,
                    Ordering::Relaxed,
                ) {
                    Ok(_) => Step::Done(true),
                    Err(_) => Step::Retry,
                }
            },
            || false,
        )
    }

    /// Adds `n` permits unless that would pass `limit`; wakes up to `n` waiters.
    #[inline]
    #[track_caller]
    fn release_n(&self, n: usize, limit: usize) -> Result<(), ReleaseError> {
        if n == 0 {
            return Ok(());
        }
        let mut state = self.word.state().load(Ordering::Relaxed);
        loop {
            let permits = match (state / PERMIT).checked_add(n) {
                Some(permits) if permits <= limit => permits,
                // Past a bounded semaphore's limit: refused, however far past (Python's
                // ValueError), never an overflow panic.
                _ if limit < MAX_PERMITS => return Err(ReleaseError::TooManyReleases),
                _ => panic!("semaphore value would pass the maximum, {MAX_PERMITS}"),
            };
            // Release: what we did before releasing happens before the acquirer's Acquire.
            match self.word.state().compare_exchange_weak(
                state,
                (permits * PERMIT) | (state & PARKED),
                Ordering::Release,
                Ordering::Relaxed,
            ) {
                Ok(_) => break,
                Err(actual) => state = actual,
            }
        }
        if state & PARKED != 0 {
            self.word.wake(n);
        }
        Ok(())
    }

    #[inline]
    fn value(&self) -> usize {
        self.word.state().load(Ordering::Relaxed) / PERMIT
    }
}

/// A counter of permits: Python's `threading.Semaphore`.
///
/// [`acquire`](Semaphore::acquire) takes one permit, waiting while there is none;
/// [`release`](Semaphore::release) adds one and wakes one waiter. The value never goes below
/// zero (Python's `ValueError` for a negative initial value cannot happen: the value is a
/// `usize`). Permits are not tied to threads: any thread may release.
///
/// ```
/// # if locksmith::__internals::LOOM_BUILD { return; }
/// use locksmith::Semaphore;
/// use std::time::Duration;
///
/// let pool = Semaphore::new(2);
/// pool.acquire();
/// assert!(pool.try_acquire());
/// assert!(!pool.acquire_timeout(Duration::from_millis(5)));
/// pool.release_n(2);
/// assert_eq!(pool.value(), 2);
/// ```
pub struct Semaphore {
    raw: RawSemaphore,
}

impl Semaphore {
    /// A semaphore holding `value` permits. Python: `Semaphore(value)` (default 1: see
    /// [`Default`]).
    ///
    /// # Panics
    /// If `value` is above [`MAX_PERMITS`].
    ///
    /// ```
    /// # if locksmith::__internals::LOOM_BUILD { return; }
    /// assert_eq!(locksmith::Semaphore::new(3).value(), 3);
    /// ```
    #[track_caller]
    pub fn new(value: usize) -> Semaphore {
        Semaphore {
            raw: RawSemaphore::new(value),
        }
    }

    /// Takes a permit, blocking while there is none. Python: `sem.acquire()`.
    ///
    /// ```
    /// # if locksmith::__internals::LOOM_BUILD { return; }
    /// let sem = locksmith::Semaphore::new(1);
    /// sem.acquire();
    /// assert_eq!(sem.value(), 0);
    /// ```
    #[inline]
    pub fn acquire(&self) {
        if !self.raw.try_acquire() {
            self.raw.acquire_slow(&Deadline::never());
        }
    }

    /// Takes a permit if one is free, without blocking; returns whether it did.
    /// Python: `sem.acquire(blocking=False)`.
    ///
    /// ```
    /// # if locksmith::__internals::LOOM_BUILD { return; }
    /// let sem = locksmith::Semaphore::new(1);
    /// assert!(sem.try_acquire());
    /// assert!(!sem.try_acquire());
    /// ```
    #[inline]
    pub fn try_acquire(&self) -> bool {
        self.raw.try_acquire()
    }

    /// Takes a permit, waiting at most `timeout`; returns whether it did. A failed attempt
    /// takes nothing. `Duration::ZERO` never blocks; a timeout too large for the clock waits
    /// forever. Python: `sem.acquire(timeout=t)`.
    ///
    /// ```
    /// # if locksmith::__internals::LOOM_BUILD { return; }
    /// use std::time::Duration;
    /// let sem = locksmith::Semaphore::new(0);
    /// assert!(!sem.acquire_timeout(Duration::from_millis(5)));
    /// ```
    #[inline]
    pub fn acquire_timeout(&self, timeout: Duration) -> bool {
        self.raw.acquire_timeout(timeout)
    }

    /// Adds a permit and wakes one waiter, if any. Python: `sem.release()`.
    ///
    /// # Panics
    /// If the value would pass [`MAX_PERMITS`] (it never wraps).
    ///
    /// ```
    /// # if locksmith::__internals::LOOM_BUILD { return; }
    /// let sem = locksmith::Semaphore::new(0);
    /// sem.release();
    /// assert_eq!(sem.value(), 1);
    /// ```
    #[inline]
    #[track_caller]
    pub fn release(&self) {
        self.release_n(1);
    }

    /// Adds `n` permits and wakes up to `n` waiters; `n == 0` does nothing (Python raises
    /// `ValueError` for `n < 1`; a `usize` cannot be negative, and zero is a harmless no-op).
    /// Python: `sem.release(n)`.
    ///
    /// # Panics
    /// If the value would pass [`MAX_PERMITS`] (it never wraps).
    ///
    /// ```
    /// # if locksmith::__internals::LOOM_BUILD { return; }
    /// let sem = locksmith::Semaphore::new(0);
    /// sem.release_n(3);
    /// assert_eq!(sem.value(), 3);
    /// ```
    #[inline]
    #[track_caller]
    pub fn release_n(&self, n: usize) {
        let added = self.raw.release_n(n, MAX_PERMITS);
        debug_assert!(added.is_ok(), "an unbounded semaphore refused a release");
    }

    /// The permits available now: a snapshot. Python: `sem._value`.
    ///
    /// ```
    /// # if locksmith::__internals::LOOM_BUILD { return; }
    /// assert_eq!(locksmith::Semaphore::new(2).value(), 2);
    /// ```
    #[inline]
    pub fn value(&self) -> usize {
        self.raw.value()
    }

    /// Takes a permit and returns a guard that gives it back when dropped (also during a
    /// panic). Python: `with sem:`.
    ///
    /// ```
    /// # if locksmith::__internals::LOOM_BUILD { return; }
    /// let sem = locksmith::Semaphore::new(1);
    /// {
    ///     let _permit = sem.guard();
    ///     assert_eq!(sem.value(), 0);
    /// }
    /// assert_eq!(sem.value(), 1);
    /// ```
    #[inline]
    pub fn guard(&self) -> SemaphoreGuard<'_> {
        self.acquire();
        SemaphoreGuard { semaphore: self }
    }

    /// How many threads are parked waiting now: a snapshot, for tests.
    #[doc(hidden)]
    pub fn queued_waiters(&self) -> usize {
        self.raw.word.queued()
    }
}

impl Default for Semaphore {
    /// One permit, as Python's `Semaphore()`.
    fn default() -> Self {
        Semaphore::new(1)
    }
}

impl fmt::Debug for Semaphore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Semaphore")
            .field("value", &self.value())
            .finish()
    }
}

/// Gives a [`Semaphore`]'s permit back when dropped: what [`Semaphore::guard`] returns.
///
/// ```
/// # if locksmith::__internals::LOOM_BUILD { return; }
/// let sem = locksmith::Semaphore::new(1);
/// let permit = sem.guard();
/// drop(permit);
/// assert_eq!(sem.value(), 1);
/// ```
#[must_use = "the permit is given back as soon as the guard is dropped"]
pub struct SemaphoreGuard<'a> {
    semaphore: &'a Semaphore,
}

impl Drop for SemaphoreGuard<'_> {
    fn drop(&mut self) {
        self.semaphore.release();
    }
}

impl fmt::Debug for SemaphoreGuard<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SemaphoreGuard")
            .field("semaphore", self.semaphore)
            .finish()
    }
}

/// A semaphore that refuses to rise above its initial value: Python's
/// `threading.BoundedSemaphore`.
///
/// Everything is as in [`Semaphore`], except that a release that would take the value past
/// the initial value is refused with [`ReleaseError::TooManyReleases`] (Python's
/// `ValueError: Semaphore released too many times`) and changes nothing, also when several
/// threads release at once.
///
/// ```
/// # if locksmith::__internals::LOOM_BUILD { return; }
/// use locksmith::{BoundedSemaphore, ReleaseError};
///
/// let sem = BoundedSemaphore::new(1);
/// assert_eq!(sem.release(), Err(ReleaseError::TooManyReleases));
/// sem.acquire();
/// assert_eq!(sem.release(), Ok(()));
/// ```
pub struct BoundedSemaphore {
    raw: RawSemaphore,
    initial: usize,
}

impl BoundedSemaphore {
    /// A bounded semaphore holding, and capped at, `value` permits.
    /// Python: `BoundedSemaphore(value)` (default 1: see [`Default`]).
    ///
    /// # Panics
    /// If `value` is above [`MAX_PERMITS`].
    ///
    /// ```
    /// # if locksmith::__internals::LOOM_BUILD { return; }
    /// assert_eq!(locksmith::BoundedSemaphore::new(2).value(), 2);
    /// ```
    #[track_caller]
    pub fn new(value: usize) -> BoundedSemaphore {
        BoundedSemaphore {
            raw: RawSemaphore::new(value),
            initial: value,
        }
    }

    /// Takes a permit, blocking while there is none. Python: `sem.acquire()`.
    ///
    /// ```
    /// # if locksmith::__internals::LOOM_BUILD { return; }
    /// let sem = locksmith::BoundedSemaphore::new(1);
    /// sem.acquire();
    /// assert_eq!(sem.value(), 0);
    /// ```
    #[inline]
    pub fn acquire(&self) {
        if !self.raw.try_acquire() {
            self.raw.acquire_slow(&Deadline::never());
        }
    }

    /// Takes a permit if one is free, without blocking. Python: `sem.acquire(blocking=False)`.
    ///
    /// ```
    /// # if locksmith::__internals::LOOM_BUILD { return; }
    /// let sem = locksmith::BoundedSemaphore::new(1);
    /// assert!(sem.try_acquire());
    /// assert!(!sem.try_acquire());
    /// ```
    #[inline]
    pub fn try_acquire(&self) -> bool {
        self.raw.try_acquire()
    }

    /// Takes a permit, waiting at most `timeout`; a failed attempt takes nothing.
    /// Python: `sem.acquire(timeout=t)`.
    ///
    /// ```
    /// # if locksmith::__internals::LOOM_BUILD { return; }
    /// use std::time::Duration;
    /// let sem = locksmith::BoundedSemaphore::new(0);
    /// assert!(!sem.acquire_timeout(Duration::from_millis(5)));
    /// ```
    #[inline]
    pub fn acquire_timeout(&self, timeout: Duration) -> bool {
        self.raw.acquire_timeout(timeout)
    }

    /// Gives a permit back and wakes one waiter. Python: `sem.release()`.
    ///
    /// # Errors
    /// [`ReleaseError::TooManyReleases`] if the value would pass the initial value; the value
    /// is unchanged then.
    ///
    /// ```
    /// # if locksmith::__internals::LOOM_BUILD { return; }
    /// let sem = locksmith::BoundedSemaphore::new(1);
    /// sem.acquire();
    /// assert!(sem.release().is_ok());
    /// assert!(sem.release().is_err());
    /// ```
    #[inline]
    pub fn release(&self) -> Result<(), ReleaseError> {
        self.release_n(1)
    }

    /// Gives `n` permits back and wakes up to `n` waiters; `n == 0` does nothing.
    /// Python: `sem.release(n)`.
    ///
    /// # Errors
    /// [`ReleaseError::TooManyReleases`] if the value would pass the initial value; nothing
    /// is added then (not even part of `n`).
    ///
    /// ```
    /// # if locksmith::__internals::LOOM_BUILD { return; }
    /// let sem = locksmith::BoundedSemaphore::new(2);
    /// sem.acquire();
    /// assert!(sem.release_n(2).is_err());
    /// assert_eq!(sem.value(), 1);
    /// ```
    #[inline]
    pub fn release_n(&self, n: usize) -> Result<(), ReleaseError> {
        self.raw.release_n(n, self.initial)
    }

    /// The permits available now: a snapshot.
    ///
    /// ```
    /// # if locksmith::__internals::LOOM_BUILD { return; }
    /// assert_eq!(locksmith::BoundedSemaphore::new(1).value(), 1);
    /// ```
    #[inline]
    pub fn value(&self) -> usize {
        self.raw.value()
    }

    /// Takes a permit and returns a guard that gives it back when dropped. Python: `with sem:`.
    ///
    /// ```
    /// # if locksmith::__internals::LOOM_BUILD { return; }
    /// let sem = locksmith::BoundedSemaphore::new(1);
    /// {
    ///     let _permit = sem.guard();
    ///     assert_eq!(sem.value(), 0);
    /// }
    /// assert_eq!(sem.value(), 1);
    /// ```
    #[inline]
    pub fn guard(&self) -> BoundedSemaphoreGuard<'_> {
        self.acquire();
        BoundedSemaphoreGuard { semaphore: self }
    }

    /// How many threads are parked waiting now: a snapshot, for tests.
    #[doc(hidden)]
    pub fn queued_waiters(&self) -> usize {
        self.raw.word.queued()
    }
}

impl Default for BoundedSemaphore {
    /// One permit, as Python's `BoundedSemaphore()`.
    fn default() -> Self {
        BoundedSemaphore::new(1)
    }
}

impl fmt::Debug for BoundedSemaphore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BoundedSemaphore")
            .field("value", &self.value())
            .field("initial", &self.initial)
            .finish()
    }
}

/// Gives a [`BoundedSemaphore`]'s permit back when dropped: what
/// [`BoundedSemaphore::guard`] returns. If the permit was already given back through
/// [`BoundedSemaphore::release`], the drop's refused release changes nothing.
///
/// ```
/// # if locksmith::__internals::LOOM_BUILD { return; }
/// let sem = locksmith::BoundedSemaphore::new(1);
/// drop(sem.guard());
/// assert_eq!(sem.value(), 1);
/// ```
#[must_use = "the permit is given back as soon as the guard is dropped"]
pub struct BoundedSemaphoreGuard<'a> {
    semaphore: &'a BoundedSemaphore,
}

impl Drop for BoundedSemaphoreGuard<'_> {
    fn drop(&mut self) {
        let _ = self.semaphore.release();
    }
}

impl fmt::Debug for BoundedSemaphoreGuard<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BoundedSemaphoreGuard")
            .field("semaphore", self.semaphore)
            .finish()
    }
}
