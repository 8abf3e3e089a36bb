//! `Lock`: Python's `threading.Lock`. Not owned: any thread may release it.
//!
//! One state word and the wait queue behind it, a [`ParkedWord`]: the word holds `LOCKED`
//! and the wait core's `PARKED`; every transition is one atomic read-modify-write on it, and
//! the queue is touched only when `PARKED` says a thread may be waiting there.

use core::fmt;
use core::time::Duration;

use crate::error::ReleaseError;
use crate::sync::{Deadline, Ordering};
use crate::wait::{PARKED, ParkedWord, Step};

/// Nobody holds the lock.
const UNLOCKED: usize = 0;
/// Somebody holds the lock. (The word's lowest bit is the wait core's [`PARKED`]: a thread
/// may be parked in the queue, so `release` must look there.)
const LOCKED: usize = 0b10;

/// A mutual-exclusion lock that any thread may release: Python's `threading.Lock`.
///
/// Unlike [`std::sync::Mutex`] it protects no data and has no owner: the thread that
/// acquires it and the thread that releases it may differ, exactly as in Python. Releasing a
/// lock that is not held is an error ([`ReleaseError::NotLocked`]) and changes nothing.
/// A thread that acquires a lock it already holds blocks (use [`RLock`](crate::RLock) for
/// re-entry).
///
/// Uncontended, [`acquire`](Lock::acquire) and [`release`](Lock::release) are one atomic
/// read-modify-write each. Contended, a thread spins briefly, then parks in the lock's
/// wait queue; `release` wakes one parked thread only when one waits.
///
/// ```
/// # if locksmith::__internals::LOOM_BUILD { return; }
/// use locksmith::Lock;
/// use std::sync::Arc;
/// use std::thread;
///
/// let lock = Arc::new(Lock::new());
/// lock.acquire();
/// // Any thread may release a Lock, not only the one that acquired it.
/// let other = Arc::clone(&lock);
/// thread::spawn(move || other.release().unwrap()).join().unwrap();
/// assert!(!lock.locked());
/// ```
pub struct Lock {
    word: ParkedWord,
}

impl Lock {
    /// A new, unlocked lock.
    ///
    /// ```
    /// # if locksmith::__internals::LOOM_BUILD { return; }
    /// // `new` is a `const fn`, so a Lock can also live in a `static`.
    /// let lock = locksmith::Lock::new();
    /// assert!(!lock.locked());
    /// ```
    #[cfg(not(loom))]
    pub const fn new() -> Lock {
        Lock {
            word: ParkedWord::new(UNLOCKED),
        }
    }

    /// A new, unlocked lock.
    #[cfg(loom)]
    pub fn new() -> Lock {
        Lock {
            word: ParkedWord::new(UNLOCKED),
        }
    }

    /// Blocks until the lock is acquired. Python: `lock.acquire()`.
    ///
    /// ```
    /// # if locksmith::__internals::LOOM_BUILD { return; }
    /// let lock = locksmith::Lock::new();
    /// lock.acquire();
    /// assert!(lock.locked());
    /// ```
    #[inline]
    pub fn acquire(&self) {
        if !self.try_acquire_fast() {
            self.acquire_slow(&Deadline::never());
        }
    }

    /// Acquires the lock if it is free, without blocking; returns whether it did.
    /// Python: `lock.acquire(blocking=False)`.
    ///
    /// ```
    /// # if locksmith::__internals::LOOM_BUILD { return; }
    /// let lock = locksmith::Lock::new();
    /// assert!(lock.try_acquire());
    /// assert!(!lock.try_acquire());
    /// ```
    #[inline]
    pub fn try_acquire(&self) -> bool {
        let mut state = self.word.state().load(Ordering::Relaxed);
        while state & LOCKED == 0 {
            // Acquire: what the previous holder did before releasing happens before us.
            match self.word.state().compare_exchange_weak(
                state,
                state | LOCKED,
                Ordering::Acquire,
                Ordering::Relaxed,
            ) {
                Ok(_) => return true,
                Err(actual) => state = actual,
            }
        }
        false
    }

    /// Blocks until the lock is acquired or `timeout` passes; returns whether it acquired.
    /// A failed attempt leaves the lock as it was. `Duration::ZERO` tries once without
    /// blocking; a timeout too large for the clock waits forever.
    /// Python: `lock.acquire(timeout=t)`.
    ///
    /// ```
    /// # if locksmith::__internals::LOOM_BUILD { return; }
    /// use std::time::Duration;
    /// let lock = locksmith::Lock::new();
    /// assert!(lock.acquire_timeout(Duration::from_millis(10)));
    /// assert!(!lock.acquire_timeout(Duration::from_millis(10)));
    /// ```
    #[inline]
    pub fn acquire_timeout(&self, timeout: Duration) -> bool {
        self.try_acquire_fast() || self.acquire_slow(&Deadline::after(timeout))
    }

    /// Blocks until the lock is acquired or `deadline` passes (lock_api's timed locks).
    #[cfg(feature = "lock_api")]
    #[inline]
    pub(crate) fn acquire_until(&self, deadline: &Deadline) -> bool {
        // A deadline already past is `Deadline::is_now`: the slow path looks once, as for
        // `acquire_timeout(ZERO)`, without spinning first.
        self.try_acquire_fast() || self.acquire_slow(deadline)
    }

    /// Releases the lock, from any thread. Wakes one waiting thread, if any.
    /// Python: `lock.release()`.
    ///
    /// # Errors
    /// [`ReleaseError::NotLocked`] if the lock is not held; nothing changes then.
    ///
    /// ```
    /// # if locksmith::__internals::LOOM_BUILD { return; }
    /// use locksmith::{Lock, ReleaseError};
    /// let lock = Lock::new();
    /// lock.acquire();
    /// assert_eq!(lock.release(), Ok(()));
    /// assert_eq!(lock.release(), Err(ReleaseError::NotLocked));
    /// ```
    #[inline]
    pub fn release(&self) -> Result<(), ReleaseError> {
        // The uncontended release: one compare-exchange from "held, nobody waiting". (A
        // `fetch_and` whose result is used compiles to a load and a compare-exchange loop on
        // x86, which measured 1.5x parking_lot's unlock.)
        // Release: the critical section happens before the next acquirer's Acquire.
        if self
            .word
            .state()
            .compare_exchange(LOCKED, UNLOCKED, Ordering::Release, Ordering::Relaxed)
            .is_ok()
        {
            return Ok(());
        }
        self.release_slow()
    }

    /// A release that found `PARKED` set, or the lock not held.
    #[cold]
    #[inline(never)]
    fn release_slow(&self) -> Result<(), ReleaseError> {
        // Release: as in `release`. Clearing a bit that is already clear changes nothing, so
        // a refused release is harmless.
        let previous = self.word.state().fetch_and(!LOCKED, Ordering::Release);
        if previous & LOCKED == 0 {
            return Err(ReleaseError::NotLocked);
        }
        if previous & PARKED != 0 {
            self.word.wake(1);
        }
        Ok(())
    }

    /// Whether any thread holds the lock now. Python: `lock.locked()`.
    ///
    /// ```
    /// # if locksmith::__internals::LOOM_BUILD { return; }
    /// let lock = locksmith::Lock::new();
    /// assert!(!lock.locked());
    /// lock.acquire();
    /// assert!(lock.locked());
    /// ```
    #[inline]
    pub fn locked(&self) -> bool {
        // Acquire: every write to `state` is a read-modify-write, so whichever value we read
        // carries every earlier release's writes with it (a release sequence). A Condition
        // relies on it: a thread that merely sees the lock held may notify, and must then
        // see the waiters linked before the last release (`Condition::notify_n`). On most
        // machines an Acquire load costs what a Relaxed one does.
        self.word.state().load(Ordering::Acquire) & LOCKED != 0
    }

    /// Acquires the lock and returns a guard that releases it when dropped (also during a
    /// panic). Python: `with lock:`.
    ///
    /// ```
    /// # if locksmith::__internals::LOOM_BUILD { return; }
    /// let lock = locksmith::Lock::new();
    /// {
    ///     let _guard = lock.lock();
    ///     assert!(lock.locked());
    /// }
    /// assert!(!lock.locked());
    /// ```
    #[inline]
    pub fn lock(&self) -> LockGuard<'_> {
        self.acquire();
        LockGuard { lock: self }
    }

    /// Like [`lock`](Lock::lock), but returns `None` instead of blocking if the lock is held.
    ///
    /// ```
    /// # if locksmith::__internals::LOOM_BUILD { return; }
    /// let lock = locksmith::Lock::new();
    /// let guard = lock.try_lock().unwrap();
    /// assert!(lock.try_lock().is_none());
    /// drop(guard);
    /// assert!(lock.try_lock().is_some());
    /// ```
    #[inline]
    pub fn try_lock(&self) -> Option<LockGuard<'_>> {
        self.try_acquire().then(|| LockGuard { lock: self })
    }

    /// Like [`lock`](Lock::lock), but gives up after `timeout` (see
    /// [`acquire_timeout`](Lock::acquire_timeout)).
    ///
    /// ```
    /// # if locksmith::__internals::LOOM_BUILD { return; }
    /// use std::time::Duration;
    /// let lock = locksmith::Lock::new();
    /// let guard = lock.lock_timeout(Duration::from_millis(5)).unwrap();
    /// assert!(lock.lock_timeout(Duration::from_millis(5)).is_none());
    /// drop(guard);
    /// ```
    #[inline]
    pub fn lock_timeout(&self, timeout: Duration) -> Option<LockGuard<'_>> {
        self.acquire_timeout(timeout)
            .then(|| LockGuard { lock: self })
    }

    /// How many threads are parked waiting for this lock now: a snapshot, for tests.
    #[doc(hidden)]
    pub fn queued_waiters(&self) -> usize {
        self.word.queued()
    }

    /// The uncontended acquire: one compare-exchange from "free, nobody waiting".
    #[inline]
    fn try_acquire_fast(&self) -> bool {
        // Acquire: as in `try_acquire`.
        self.word
            .state()
            .compare_exchange(UNLOCKED, LOCKED, Ordering::Acquire, Ordering::Relaxed)
            .is_ok()
    }

    /// Spin, then park, until the lock is ours or the deadline passes.
    #[cold]
    #[inline(never)]
    fn acquire_slow(&self, deadline: &Deadline) -> bool {
        self.word.wait(
            deadline,
            true,
            |state| {
                if state & LOCKED != 0 {
                    return Step::Park;
                }
                // Acquire: as in `try_acquire`. PARKED is kept: others may still wait.
                match self.word.state().compare_exchange_weak(
                    state,
                    state | LOCKED,
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
}

impl Default for Lock {
    fn default() -> Self {
        Lock::new()
    }
}

impl fmt::Debug for Lock {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Lock")
            .field("locked", &self.locked())
            .finish()
    }
}

/// Releases a [`Lock`] when dropped: what [`Lock::lock`] returns.
///
/// A `Lock` has no owner, so the guard may be sent to and dropped by another thread. If the
/// lock was released behind the guard's back (through [`Lock::release`]), dropping the guard
/// releases whoever holds it then, as Python's `with` block does at its end; if nobody holds
/// it, the drop does nothing.
///
/// ```
/// # if locksmith::__internals::LOOM_BUILD { return; }
/// let lock = locksmith::Lock::new();
/// let guard = lock.lock();
/// std::thread::scope(|s| {
///     s.spawn(move || drop(guard));
/// });
/// assert!(!lock.locked());
/// ```
#[must_use = "the lock is released as soon as the guard is dropped"]
pub struct LockGuard<'a> {
    lock: &'a Lock,
}

impl Drop for LockGuard<'_> {
    #[inline]
    fn drop(&mut self) {
        // An Err means the lock was already released through `Lock::release`: nothing to do.
        let _ = self.lock.release();
    }
}

impl fmt::Debug for LockGuard<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LockGuard")
            .field("lock", self.lock)
            .finish()
    }
}
