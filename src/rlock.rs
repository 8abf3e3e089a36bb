//! `RLock`: Python's `threading.RLock`. An owner thread plus a recursion count, on a `Lock`.
//!
//! The inner [`Lock`] decides who owns the RLock; `owner` and `count` only remember it. Only
//! the owner ever writes them (and it writes `owner` back to nobody before releasing the
//! inner lock), which is why they need no ordering of their own.

use core::fmt;
use core::marker::PhantomData;
use core::time::Duration;

use crate::error::ReleaseError;
use crate::lock::Lock;
use crate::sync::{AtomicUsize, Ordering, thread_id};

/// `owner` when no thread owns the RLock (thread ids are never 0).
const NO_OWNER: usize = 0;

/// A re-entrant lock: Python's `threading.RLock`.
///
/// The thread that acquires it owns it and may acquire it again without blocking; each
/// acquire adds one to the recursion count and each release takes one off. At zero the owner
/// is cleared and one waiting thread may take the lock. Only the owner may release it:
/// anyone else gets [`ReleaseError::NotOwner`] (or [`ReleaseError::NotLocked`] if nobody
/// holds it), and nothing changes. This is the difference from [`Lock`], which any thread may
/// release.
///
/// ```
/// # if locksmith::__internals::LOOM_BUILD { return; }
/// use locksmith::RLock;
///
/// let rlock = RLock::new();
/// fn g(r: &RLock) { let _g = r.lock(); /* ... */ }
/// fn h(r: &RLock) { let _g = r.lock(); /* ... */ }
/// fn f(r: &RLock) {
///     let _g = r.lock();
///     g(r); // re-enters: a plain Lock would deadlock here
///     h(r);
/// }
/// f(&rlock);
/// assert!(!rlock.locked());
/// ```
pub struct RLock {
    lock: Lock,
    /// The owning thread's id, or `NO_OWNER`.
    owner: AtomicUsize,
    /// Recursion count; meaningful only to the owner.
    count: AtomicUsize,
}

impl RLock {
    /// A new, unowned RLock.
    ///
    /// ```
    /// # if locksmith::__internals::LOOM_BUILD { return; }
    /// // `new` is a `const fn`, so a RLock can also live in a `static`.
    /// let lock = locksmith::RLock::new();
    /// assert!(!lock.locked());
    /// ```
    #[cfg(not(loom))]
    pub const fn new() -> RLock {
        RLock {
            lock: Lock::new(),
            owner: AtomicUsize::new(NO_OWNER),
            count: AtomicUsize::new(0),
        }
    }

    /// A new, unowned RLock.
    #[cfg(loom)]
    pub fn new() -> RLock {
        RLock {
            lock: Lock::new(),
            owner: AtomicUsize::new(NO_OWNER),
            count: AtomicUsize::new(0),
        }
    }

    /// Blocks until the calling thread owns the RLock; an owner re-enters at once, adding one
    /// to the count. Python: `rlock.acquire()`.
    ///
    /// # Panics
    /// If the recursion count would overflow `usize` (it never wraps).
    ///
    /// ```
    /// # if locksmith::__internals::LOOM_BUILD { return; }
    /// let rlock = locksmith::RLock::new();
    /// rlock.acquire();
    /// rlock.acquire();
    /// assert_eq!(rlock.recursion_count(), 2);
    /// ```
    #[inline]
    pub fn acquire(&self) {
        let me = thread_id();
        if !self.reenter(me) {
            self.lock.acquire();
            self.become_owner(me);
        }
    }

    /// Acquires without blocking; returns whether the caller now owns it (always true for
    /// the owner). Python: `rlock.acquire(blocking=False)`.
    ///
    /// # Panics
    /// If the recursion count would overflow `usize`.
    ///
    /// ```
    /// # if locksmith::__internals::LOOM_BUILD { return; }
    /// let rlock = locksmith::RLock::new();
    /// assert!(rlock.try_acquire());
    /// assert!(rlock.try_acquire());
    /// std::thread::scope(|s| {
    ///     s.spawn(|| assert!(!rlock.try_acquire()));
    /// });
    /// ```
    #[inline]
    pub fn try_acquire(&self) -> bool {
        let me = thread_id();
        if self.reenter(me) {
            return true;
        }
        let acquired = self.lock.try_acquire();
        if acquired {
            self.become_owner(me);
        }
        acquired
    }

    /// Blocks until the caller owns the RLock or `timeout` passes; returns whether it does.
    /// The owner re-enters at once. `Duration::ZERO` never blocks; a timeout too large for
    /// the clock waits forever. Python: `rlock.acquire(timeout=t)`.
    ///
    /// # Panics
    /// If the recursion count would overflow `usize`.
    ///
    /// ```
    /// # if locksmith::__internals::LOOM_BUILD { return; }
    /// use std::time::Duration;
    /// let rlock = locksmith::RLock::new();
    /// assert!(rlock.acquire_timeout(Duration::from_millis(10)));
    /// std::thread::scope(|s| {
    ///     s.spawn(|| assert!(!rlock.acquire_timeout(Duration::from_millis(10))));
    /// });
    /// ```
    #[inline]
    pub fn acquire_timeout(&self, timeout: Duration) -> bool {
        let me = thread_id();
        if self.reenter(me) {
            return true;
        }
        let acquired = self.lock.acquire_timeout(timeout);
        if acquired {
            self.become_owner(me);
        }
        acquired
    }

    /// Takes one off the owner's recursion count; at zero, clears the owner and lets one
    /// waiting thread in. Python: `rlock.release()`.
    ///
    /// # Errors
    /// [`ReleaseError::NotOwner`] if another thread owns it, [`ReleaseError::NotLocked`] if
    /// nobody does. Nothing changes then.
    ///
    /// ```
    /// # if locksmith::__internals::LOOM_BUILD { return; }
    /// use locksmith::{RLock, ReleaseError};
    /// let rlock = RLock::new();
    /// assert_eq!(rlock.release(), Err(ReleaseError::NotLocked));
    /// rlock.acquire();
    /// std::thread::scope(|s| {
    ///     s.spawn(|| assert_eq!(rlock.release(), Err(ReleaseError::NotOwner)));
    /// });
    /// assert_eq!(rlock.release(), Ok(()));
    /// ```
    #[inline]
    pub fn release(&self) -> Result<(), ReleaseError> {
        if !self.is_owned() {
            return Err(if self.lock.locked() {
                ReleaseError::NotOwner
            } else {
                ReleaseError::NotLocked
            });
        }
        // Relaxed (both): only the owner touches `count`, and the inner lock orders one
        // owner's accesses before the next owner's.
        let count = self.count.load(Ordering::Relaxed) - 1;
        self.count.store(count, Ordering::Relaxed);
        if count == 0 {
            // Relaxed: the inner lock's Release below publishes this to the next owner; a
            // thread that reads a stale owner id never reads its own (see `is_owned`).
            self.owner.store(NO_OWNER, Ordering::Relaxed);
            let released = self.lock.release();
            debug_assert!(
                released.is_ok(),
                "RLock's inner lock was not held by its owner"
            );
        }
        Ok(())
    }

    /// Whether the calling thread owns the RLock. Python: `rlock._is_owned()`.
    ///
    /// ```
    /// # if locksmith::__internals::LOOM_BUILD { return; }
    /// let rlock = locksmith::RLock::new();
    /// rlock.acquire();
    /// assert!(rlock.is_owned());
    /// std::thread::scope(|s| {
    ///     s.spawn(|| assert!(!rlock.is_owned()));
    /// });
    /// ```
    #[inline]
    pub fn is_owned(&self) -> bool {
        // Relaxed: only the owner stores its own id here, and a thread always reads its own
        // latest store to a location or something later, so it sees its id exactly while it
        // owns the lock. Another thread may read a stale id, but never its own.
        self.owner.load(Ordering::Relaxed) == thread_id()
    }

    /// The calling thread's recursion count: how many releases it owes; 0 for any thread
    /// that does not own the RLock. Python: `rlock._recursion_count()`.
    ///
    /// ```
    /// # if locksmith::__internals::LOOM_BUILD { return; }
    /// let rlock = locksmith::RLock::new();
    /// assert_eq!(rlock.recursion_count(), 0);
    /// let _a = rlock.lock();
    /// let _b = rlock.lock();
    /// assert_eq!(rlock.recursion_count(), 2);
    /// ```
    #[inline]
    pub fn recursion_count(&self) -> usize {
        if self.is_owned() {
            // Relaxed: written only by this thread, the owner.
            self.count.load(Ordering::Relaxed)
        } else {
            0
        }
    }

    /// Whether any thread owns the RLock now. Python 3.14's `rlock.locked()`.
    ///
    /// ```
    /// # if locksmith::__internals::LOOM_BUILD { return; }
    /// let rlock = locksmith::RLock::new();
    /// assert!(!rlock.locked());
    /// rlock.acquire();
    /// assert!(rlock.locked());
    /// ```
    #[inline]
    pub fn locked(&self) -> bool {
        self.lock.locked()
    }

    /// Acquires (or re-enters) and returns a guard that releases one level when dropped, also
    /// during a panic. The guard cannot leave the thread. Python: `with rlock:`.
    ///
    /// # Panics
    /// If the recursion count would overflow `usize`.
    ///
    /// ```
    /// # if locksmith::__internals::LOOM_BUILD { return; }
    /// let rlock = locksmith::RLock::new();
    /// {
    ///     let _outer = rlock.lock();
    ///     let _inner = rlock.lock();
    ///     assert_eq!(rlock.recursion_count(), 2);
    /// }
    /// assert!(!rlock.locked());
    /// ```
    #[inline]
    pub fn lock(&self) -> RLockGuard<'_> {
        self.acquire();
        RLockGuard::new(self)
    }

    /// Like [`lock`](RLock::lock), but returns `None` instead of blocking.
    ///
    /// ```
    /// # if locksmith::__internals::LOOM_BUILD { return; }
    /// let rlock = locksmith::RLock::new();
    /// let _g = rlock.try_lock().unwrap();
    /// std::thread::scope(|s| {
    ///     s.spawn(|| assert!(rlock.try_lock().is_none()));
    /// });
    /// ```
    #[inline]
    pub fn try_lock(&self) -> Option<RLockGuard<'_>> {
        self.try_acquire().then(|| RLockGuard::new(self))
    }

    /// Like [`lock`](RLock::lock), but gives up after `timeout`.
    ///
    /// ```
    /// # if locksmith::__internals::LOOM_BUILD { return; }
    /// use std::time::Duration;
    /// let rlock = locksmith::RLock::new();
    /// let _g = rlock.lock_timeout(Duration::from_millis(5)).unwrap();
    /// std::thread::scope(|s| {
    ///     s.spawn(|| assert!(rlock.lock_timeout(Duration::from_millis(5)).is_none()));
    /// });
    /// ```
    #[inline]
    pub fn lock_timeout(&self, timeout: Duration) -> Option<RLockGuard<'_>> {
        self.acquire_timeout(timeout).then(|| RLockGuard::new(self))
    }

    /// How many threads are parked waiting for this RLock now: a snapshot, for tests.
    #[doc(hidden)]
    pub fn queued_waiters(&self) -> usize {
        self.lock.queued_waiters()
    }

    /// Releases every level the caller holds; returns how many (Python's `_release_save`).
    pub(crate) fn release_all_levels(&self) -> Result<usize, ReleaseError> {
        if !self.is_owned() {
            return self.release().map(|()| 0);
        }
        // Relaxed: only the owner touches `count` (see `release`).
        let levels = self.count.load(Ordering::Relaxed);
        self.count.store(1, Ordering::Relaxed);
        self.release().map(|()| levels)
    }

    /// Re-acquires and restores `levels` levels (Python's `_acquire_restore`).
    pub(crate) fn acquire_levels(&self, levels: usize) {
        self.acquire();
        // Relaxed: we are the owner now.
        self.count.store(levels, Ordering::Relaxed);
    }

    /// The owner's re-entry: returns false (and does nothing) if `me` is not the owner.
    #[inline]
    fn reenter(&self, me: usize) -> bool {
        // Relaxed: see `is_owned`.
        if self.owner.load(Ordering::Relaxed) != me {
            return false;
        }
        // Relaxed: only the owner touches `count`.
        let count = self.count.load(Ordering::Relaxed);
        let count = count
            .checked_add(1)
            .expect("RLock recursion count overflow");
        self.count.store(count, Ordering::Relaxed);
        true
    }

    /// Called with the inner lock just acquired.
    #[inline]
    fn become_owner(&self, me: usize) {
        // Relaxed: the inner lock's Acquire already ordered us after the previous owner.
        self.count.store(1, Ordering::Relaxed);
        self.owner.store(me, Ordering::Relaxed);
    }
}

impl Default for RLock {
    fn default() -> Self {
        RLock::new()
    }
}

impl fmt::Debug for RLock {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RLock")
            .field("locked", &self.locked())
            .field("owned_by_caller", &self.is_owned())
            .field("recursion_count", &self.recursion_count())
            .finish()
    }
}

/// Releases one level of an [`RLock`] when dropped: what [`RLock::lock`] returns.
///
/// An RLock may only be released by its owner, so the guard cannot be sent to another
/// thread (it is `!Send`); this does not compile:
///
/// ```compile_fail
/// let rlock = locksmith::RLock::new();
/// let guard = rlock.lock();
/// std::thread::scope(|s| {
///     s.spawn(move || drop(guard));
/// });
/// ```
///
/// ```
/// # if locksmith::__internals::LOOM_BUILD { return; }
/// let rlock = locksmith::RLock::new();
/// let guard = rlock.lock();
/// assert!(rlock.is_owned());
/// drop(guard);
/// assert!(!rlock.locked());
/// ```
#[must_use = "the RLock is released as soon as the guard is dropped"]
pub struct RLockGuard<'a> {
    rlock: &'a RLock,
    /// `!Send`: only the owner may release.
    _owner_thread: PhantomData<*const ()>,
}

impl<'a> RLockGuard<'a> {
    fn new(rlock: &'a RLock) -> Self {
        RLockGuard {
            rlock,
            _owner_thread: PhantomData,
        }
    }
}

impl Drop for RLockGuard<'_> {
    #[inline]
    fn drop(&mut self) {
        // An Err means the owner already released these levels through `RLock::release`.
        let _ = self.rlock.release();
    }
}

impl fmt::Debug for RLockGuard<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RLockGuard")
            .field("rlock", self.rlock)
            .finish()
    }
}
