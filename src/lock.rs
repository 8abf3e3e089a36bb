//! `Lock`: Python's `threading.Lock`. Not owned: any thread may release it.
//!
//! One state word and one wait queue. The word holds two bits; every transition is one
//! atomic read-modify-write on it, and the queue is touched only when `PARKED` says a thread
//! may be waiting there.

use core::fmt;
use core::time::Duration;

use crate::error::ReleaseError;
use crate::sync::{AtomicUsize, Deadline, Ordering, SpinWait};
use crate::wait::{WaitQueue, WaitResult};

/// Nobody holds the lock.
const UNLOCKED: usize = 0;
/// Somebody holds the lock.
const LOCKED: usize = 0b01;
/// A thread may be parked in the queue: release must look there. Set by a waiter before it
/// parks; cleared, under the queue's lock, by whoever leaves the queue empty.
const PARKED: usize = 0b10;

/// What the releaser hands a woken waiter: the lock is free, try again. (The lock is not
/// handed over; a running thread may take it first, which keeps the lock's throughput up.)
const TOKEN_RETRY: usize = 0;

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
    state: AtomicUsize,
    waiters: WaitQueue,
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
            state: AtomicUsize::new(UNLOCKED),
            waiters: WaitQueue::new(),
        }
    }

    /// A new, unlocked lock.
    #[cfg(loom)]
    pub fn new() -> Lock {
        Lock {
            state: AtomicUsize::new(UNLOCKED),
            waiters: WaitQueue::new(),
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
        let mut state = self.state.load(Ordering::Relaxed);
        while state & LOCKED == 0 {
            // Acquire: what the previous holder did before releasing happens before us.
            match self.state.compare_exchange_weak(
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
        if self.try_acquire_fast() {
            return true;
        }
        if timeout.is_zero() {
            return self.try_acquire();
        }
        self.acquire_slow(&Deadline::after(timeout))
    }

    /// Blocks until the lock is acquired or `deadline` passes (lock_api's timed locks).
    #[cfg(feature = "lock_api")]
    #[inline]
    pub(crate) fn acquire_until(&self, deadline: &Deadline) -> bool {
        if self.try_acquire_fast() {
            return true;
        }
        // A deadline already past tries once, as `acquire_timeout(ZERO)` does, rather than
        // spinning and yielding first.
        if deadline.expired() {
            return self.try_acquire();
        }
        self.acquire_slow(deadline)
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
            .state
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
        let previous = self.state.fetch_and(!LOCKED, Ordering::Release);
        if previous & LOCKED == 0 {
            return Err(ReleaseError::NotLocked);
        }
        if previous & PARKED != 0 {
            self.wake_one();
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
        self.state.load(Ordering::Acquire) & LOCKED != 0
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
        self.waiters.len()
    }

    /// The uncontended acquire: one compare-exchange from "free, nobody waiting".
    #[inline]
    fn try_acquire_fast(&self) -> bool {
        // Acquire: as in `try_acquire`.
        self.state
            .compare_exchange(UNLOCKED, LOCKED, Ordering::Acquire, Ordering::Relaxed)
            .is_ok()
    }

    /// Spin, then park, until the lock is ours or the deadline passes.
    #[cold]
    #[inline(never)]
    fn acquire_slow(&self, deadline: &Deadline) -> bool {
        let mut spin = SpinWait::new();
        let mut state = self.state.load(Ordering::Relaxed);
        loop {
            if state & LOCKED == 0 {
                // Acquire: as in `try_acquire`. PARKED is kept: others may still wait.
                match self.state.compare_exchange_weak(
                    state,
                    state | LOCKED,
                    Ordering::Acquire,
                    Ordering::Relaxed,
                ) {
                    Ok(_) => return true,
                    Err(actual) => state = actual,
                }
                continue;
            }
            if state & PARKED == 0 {
                if spin.spin() {
                    state = self.state.load(Ordering::Relaxed);
                    continue;
                }
                // Relaxed: PARKED only routes the releaser to the queue; the queue's own lock
                // orders everything the wake-up depends on.
                if let Err(actual) = self.state.compare_exchange_weak(
                    state,
                    state | PARKED,
                    Ordering::Relaxed,
                    Ordering::Relaxed,
                ) {
                    state = actual;
                    continue;
                }
            }
            let waited = self.waiters.wait(
                deadline,
                // Relaxed: this runs under the queue's lock. A releaser that cleared LOCKED
                // after our PARKED went in saw PARKED and will take that lock after us (we are
                // queued, it wakes us) or before us (then the lock's Acquire makes its clear
                // visible here and we do not park).
                || self.state.load(Ordering::Relaxed) == LOCKED | PARKED,
                |now_empty| {
                    if now_empty {
                        // Relaxed: under the queue's lock, as above.
                        self.state.fetch_and(!PARKED, Ordering::Relaxed);
                    }
                },
            );
            match waited {
                WaitResult::TimedOut => return false,
                // Woken, maybe after the deadline: the wake-up is ours, so try once more
                // (a waiter that gave up here would strand the others); a failed try parks
                // again, where the core reports the passed deadline.
                WaitResult::Woken(_) | WaitResult::Skipped => {}
            }
            spin.reset();
            state = self.state.load(Ordering::Relaxed);
        }
    }

    /// The releaser saw PARKED: wake the oldest waiter, and clear PARKED if it was the last.
    #[cold]
    #[inline(never)]
    fn wake_one(&self) {
        self.waiters.wake(1, |woke| {
            if !woke.more {
                // Relaxed: under the queue's lock; a waiter about to queue re-checks PARKED
                // there and re-sets it.
                self.state.fetch_and(!PARKED, Ordering::Relaxed);
            }
            TOKEN_RETRY
        });
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
