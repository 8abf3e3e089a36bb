//! `Condition`: Python's `threading.Condition`. A user's lock plus one wait queue.
//!
//! A waiter links itself into the queue while it still holds the lock, and only then
//! releases the lock (fully, for an RLock held k times). A notifier must hold the lock, so it
//! runs either before the waiter linked (impossible: the waiter held the lock) or after, when
//! it finds the waiter queued. No notification falls between release and park.

use core::fmt;
use core::time::Duration;

use crate::error::ReleaseError;
use crate::lock::Lock;
use crate::rlock::RLock;
use crate::sync::Deadline;
use crate::wait::{Token, WaitQueue, WaitResult};

/// What `notify` hands a waiter: "you were notified". Waiters return on it, never on a
/// spurious wake-up.
const TOKEN_NOTIFIED: Token = Token::new(0);

/// A lock a [`Condition`] can be built on: [`Lock`], [`RLock`], or a shared handle to one
/// (`&L`, `Arc<L>`), so that several conditions can share one lock as `queue.Queue` does.
///
/// It is sealed in spirit: the methods are what a condition needs to give the lock up while
/// it waits and take it back exactly as it was.
pub trait ConditionLock {
    /// Blocks until the lock is held.
    fn acquire(&self);
    /// Takes the lock if free; returns whether it did.
    fn try_acquire(&self) -> bool;
    /// Releases once.
    ///
    /// # Errors
    /// As the lock's own `release`.
    fn release(&self) -> Result<(), ReleaseError>;
    /// Whether the calling thread may wait or notify: for an [`RLock`], whether it owns it;
    /// for a [`Lock`], whether anyone holds it (a Lock has no owner; Python's `Condition`
    /// decides the same way).
    fn is_held(&self) -> bool;
    /// Whether any thread holds the lock now.
    fn is_locked(&self) -> bool;
    /// Releases every level the caller holds and returns how many, for
    /// [`restore`](ConditionLock::restore).
    ///
    /// # Errors
    /// As [`release`](ConditionLock::release), with nothing released.
    fn release_all(&self) -> Result<usize, ReleaseError>;
    /// Re-acquires the lock and restores the `levels` that `release_all` returned.
    fn restore(&self, levels: usize);
}

impl ConditionLock for Lock {
    #[inline]
    fn acquire(&self) {
        Lock::acquire(self)
    }
    #[inline]
    fn try_acquire(&self) -> bool {
        Lock::try_acquire(self)
    }
    #[inline]
    fn release(&self) -> Result<(), ReleaseError> {
        Lock::release(self)
    }
    #[inline]
    fn is_held(&self) -> bool {
        self.locked()
    }
    #[inline]
    fn is_locked(&self) -> bool {
        self.locked()
    }
    #[inline]
    fn release_all(&self) -> Result<usize, ReleaseError> {
        Lock::release(self).map(|()| 1)
    }
    #[inline]
    fn restore(&self, _levels: usize) {
        Lock::acquire(self)
    }
}

impl ConditionLock for RLock {
    #[inline]
    fn acquire(&self) {
        RLock::acquire(self)
    }
    #[inline]
    fn try_acquire(&self) -> bool {
        RLock::try_acquire(self)
    }
    #[inline]
    fn release(&self) -> Result<(), ReleaseError> {
        RLock::release(self)
    }
    #[inline]
    fn is_held(&self) -> bool {
        self.is_owned()
    }
    #[inline]
    fn is_locked(&self) -> bool {
        self.locked()
    }
    #[inline]
    fn release_all(&self) -> Result<usize, ReleaseError> {
        self.release_all_levels()
    }
    #[inline]
    fn restore(&self, levels: usize) {
        self.acquire_levels(levels)
    }
}

macro_rules! forward_condition_lock {
    ($($handle:ty),*) => {$(
        impl<L: ConditionLock + ?Sized> ConditionLock for $handle {
            #[inline]
            fn acquire(&self) {
                (**self).acquire()
            }
            #[inline]
            fn try_acquire(&self) -> bool {
                (**self).try_acquire()
            }
            #[inline]
            fn release(&self) -> Result<(), ReleaseError> {
                (**self).release()
            }
            #[inline]
            fn is_held(&self) -> bool {
                (**self).is_held()
            }
            #[inline]
            fn is_locked(&self) -> bool {
                (**self).is_locked()
            }
            #[inline]
            fn release_all(&self) -> Result<usize, ReleaseError> {
                (**self).release_all()
            }
            #[inline]
            fn restore(&self, levels: usize) {
                (**self).restore(levels)
            }
        }
    )*};
}

forward_condition_lock!(&L, std::sync::Arc<L>, std::rc::Rc<L>, Box<L>);

/// A condition variable bound to a lock: Python's `threading.Condition`.
///
/// The caller must hold the lock to [`wait`](Condition::wait) or
/// [`notify`](Condition::notify); otherwise the call fails ([`ReleaseError::NotOwner`], or
/// [`ReleaseError::NotLocked`] for an unheld `Lock`) and changes nothing. `wait` releases the
/// lock fully (an RLock held k times is released k times), waits for a notification, and
/// takes the lock back exactly as it was, also when it times out. It never returns without a
/// notification or a timeout (no spurious returns). `notify_n(n)` wakes at most `n` waiters,
/// oldest first, and never one that started waiting after the call.
///
/// ```
/// # if locksmith::__internals::LOOM_BUILD { return; }
/// use locksmith::Condition;
/// use std::sync::atomic::{AtomicBool, Ordering};
///
/// let cond = Condition::new(); // over a fresh RLock, as Python's Condition()
/// let ready = AtomicBool::new(false);
/// std::thread::scope(|s| {
///     s.spawn(|| {
///         cond.acquire();
///         ready.store(true, Ordering::Relaxed);
///         cond.notify_all().unwrap();
///         cond.release().unwrap();
///     });
///     cond.acquire();
///     let done = cond.wait_for(|| ready.load(Ordering::Relaxed), None).unwrap();
///     assert!(done);
///     cond.release().unwrap();
/// });
/// ```
pub struct Condition<L = RLock> {
    lock: L,
    waiters: WaitQueue,
}

impl Condition<RLock> {
    /// A condition over a fresh [`RLock`] of its own. Python: `Condition()`.
    ///
    /// ```
    /// # if locksmith::__internals::LOOM_BUILD { return; }
    /// let cond = locksmith::Condition::new();
    /// cond.acquire();
    /// cond.acquire(); // an RLock: the owner re-enters
    /// cond.release().unwrap();
    /// cond.release().unwrap();
    /// ```
    pub fn new() -> Self {
        Condition::with_lock(RLock::new())
    }
}

impl Default for Condition<RLock> {
    fn default() -> Self {
        Condition::new()
    }
}

impl<L: ConditionLock> Condition<L> {
    /// A condition over `lock`: a [`Lock`], an [`RLock`], or a shared handle to one, so
    /// several conditions can share a lock. Python: `Condition(lock)`.
    ///
    /// ```
    /// # if locksmith::__internals::LOOM_BUILD { return; }
    /// use locksmith::{Condition, Lock};
    /// use std::sync::Arc;
    ///
    /// let lock = Arc::new(Lock::new());
    /// let not_empty = Condition::with_lock(Arc::clone(&lock));
    /// let not_full = Condition::with_lock(Arc::clone(&lock));
    /// not_empty.acquire();
    /// assert!(lock.locked());
    /// not_full.release().unwrap(); // the same lock
    /// ```
    pub fn with_lock(lock: L) -> Self {
        Condition {
            lock,
            waiters: WaitQueue::new(),
        }
    }

    /// The lock this condition is bound to.
    ///
    /// ```
    /// # if locksmith::__internals::LOOM_BUILD { return; }
    /// let cond = locksmith::Condition::with_lock(locksmith::Lock::new());
    /// assert!(!cond.lock().locked());
    /// ```
    pub fn lock(&self) -> &L {
        &self.lock
    }

    /// Acquires the underlying lock. Python: `cond.acquire()`.
    ///
    /// ```
    /// # if locksmith::__internals::LOOM_BUILD { return; }
    /// let cond = locksmith::Condition::new();
    /// cond.acquire();
    /// assert!(cond.lock().is_owned());
    /// ```
    pub fn acquire(&self) {
        self.lock.acquire()
    }

    /// Acquires the underlying lock if free; returns whether it did.
    /// Python: `cond.acquire(False)`.
    ///
    /// ```
    /// # if locksmith::__internals::LOOM_BUILD { return; }
    /// let cond = locksmith::Condition::new();
    /// assert!(cond.try_acquire());
    /// ```
    pub fn try_acquire(&self) -> bool {
        self.lock.try_acquire()
    }

    /// Releases the underlying lock once. Python: `cond.release()`.
    ///
    /// # Errors
    /// As the lock's own `release`.
    ///
    /// ```
    /// # if locksmith::__internals::LOOM_BUILD { return; }
    /// let cond = locksmith::Condition::new();
    /// assert!(cond.release().is_err());
    /// ```
    pub fn release(&self) -> Result<(), ReleaseError> {
        self.lock.release()
    }

    /// Releases the lock, waits for a notification, and re-acquires the lock as it was.
    /// Python: `cond.wait()`.
    ///
    /// # Errors
    /// If the caller does not hold the lock; nothing changes then.
    ///
    /// ```
    /// # if locksmith::__internals::LOOM_BUILD { return; }
    /// let cond = locksmith::Condition::new();
    /// assert!(cond.wait().is_err()); // not held
    /// ```
    pub fn wait(&self) -> Result<(), ReleaseError> {
        self.wait_until(&Deadline::never()).map(|_| ())
    }

    /// Like [`wait`](Condition::wait), but gives up after `timeout`; returns `Ok(false)` if
    /// it timed out. The lock is re-acquired either way. Python: `cond.wait(timeout)`.
    ///
    /// # Errors
    /// If the caller does not hold the lock; nothing changes then.
    ///
    /// ```
    /// # if locksmith::__internals::LOOM_BUILD { return; }
    /// use std::time::Duration;
    /// let cond = locksmith::Condition::new();
    /// cond.acquire();
    /// assert_eq!(cond.wait_timeout(Duration::from_millis(5)), Ok(false));
    /// assert!(cond.lock().is_owned());
    /// ```
    pub fn wait_timeout(&self, timeout: Duration) -> Result<bool, ReleaseError> {
        self.wait_until(&Deadline::after(timeout))
    }

    /// Waits until `predicate` returns true, or `timeout` (if any) passes; returns the
    /// predicate's last value. The predicate is checked first, and after every wake-up, with
    /// the lock held. Python: `cond.wait_for(predicate, timeout)`.
    ///
    /// # Errors
    /// If a wait is needed and the caller does not hold the lock.
    ///
    /// ```
    /// # if locksmith::__internals::LOOM_BUILD { return; }
    /// use std::time::Duration;
    /// let cond = locksmith::Condition::new();
    /// cond.acquire();
    /// assert_eq!(cond.wait_for(|| false, Some(Duration::from_millis(5))), Ok(false));
    /// assert_eq!(cond.wait_for(|| true, None), Ok(true));
    /// ```
    pub fn wait_for<F: FnMut() -> bool>(
        &self,
        mut predicate: F,
        timeout: Option<Duration>,
    ) -> Result<bool, ReleaseError> {
        let deadline = timeout.map_or(Deadline::never(), Deadline::after);
        // As Python: a false predicate always leads to at least one wait (so an unheld lock
        // is an error even with a zero timeout), and the deadline is checked between waits.
        let mut waited = false;
        loop {
            if predicate() {
                return Ok(true);
            }
            if waited && deadline.expired() {
                return Ok(false);
            }
            self.wait_until(&deadline)?;
            waited = true;
        }
    }

    /// Wakes one waiting thread, if any. Python: `cond.notify()`.
    ///
    /// # Errors
    /// If the caller does not hold the lock; nobody is woken then.
    ///
    /// ```
    /// # if locksmith::__internals::LOOM_BUILD { return; }
    /// let cond = locksmith::Condition::new();
    /// assert!(cond.notify().is_err());
    /// cond.acquire();
    /// assert!(cond.notify().is_ok()); // nobody waits: a no-op
    /// ```
    pub fn notify(&self) -> Result<(), ReleaseError> {
        self.notify_n(1)
    }

    /// Wakes at most `n` waiting threads, oldest first. Python: `cond.notify(n)`.
    ///
    /// # Errors
    /// If the caller does not hold the lock; nobody is woken then.
    ///
    /// ```
    /// # if locksmith::__internals::LOOM_BUILD { return; }
    /// let cond = locksmith::Condition::new();
    /// cond.acquire();
    /// cond.notify_n(3).unwrap();
    /// ```
    pub fn notify_n(&self, n: usize) -> Result<(), ReleaseError> {
        self.check_held()?;
        // `has_waiters` without the list lock: every waiter links while holding our lock and
        // releases it only afterwards, so holding the lock we see it (see `has_waiters`).
        // With a plain Lock the caller may not be the holder, only see it held; `locked()`
        // is an Acquire load for that case (see there). `notify_n(0)` needs no test of its
        // own: a wake of at most 0 takes nobody.
        if self.waiters.has_waiters() {
            self.waiters.wake(n, |_| TOKEN_NOTIFIED);
        }
        Ok(())
    }

    /// Wakes every waiting thread. Python: `cond.notify_all()`.
    ///
    /// # Errors
    /// If the caller does not hold the lock; nobody is woken then.
    ///
    /// ```
    /// # if locksmith::__internals::LOOM_BUILD { return; }
    /// let cond = locksmith::Condition::new();
    /// cond.acquire();
    /// cond.notify_all().unwrap();
    /// ```
    pub fn notify_all(&self) -> Result<(), ReleaseError> {
        self.notify_n(usize::MAX)
    }

    /// How many threads are waiting now: a snapshot, for tests.
    #[doc(hidden)]
    pub fn queued_waiters(&self) -> usize {
        self.waiters.len()
    }

    /// Ok if the caller may wait or notify; otherwise the error its release would give,
    /// found by looking only (the lock is not touched).
    fn check_held(&self) -> Result<(), ReleaseError> {
        if self.lock.is_held() {
            Ok(())
        } else if self.lock.is_locked() {
            Err(ReleaseError::NotOwner)
        } else {
            Err(ReleaseError::NotLocked)
        }
    }

    /// Links into the queue while holding the lock, then releases it fully, parks, and takes
    /// it back as it was. `Ok(false)`: timed out.
    fn wait_until(&self, deadline: &Deadline) -> Result<bool, ReleaseError> {
        self.check_held()?;
        let mut released = None;
        let waited = self.waiters.wait_linked(
            deadline,
            || true,
            || released = Some(self.lock.release_all()),
            |_| {},
        );
        match released {
            Some(Ok(levels)) => self.lock.restore(levels),
            Some(Err(refused)) => {
                // Held a moment ago by this thread, so only a Lock released behind our back
                // by another thread (a misuse) gets here. We were already queued, so this
                // error comes only after a notify or the timeout; CPython raises at once.
                return Err(refused);
            }
            // Timed out before it could link (a zero timeout): the lock was never released.
            None => {}
        }
        Ok(matches!(waited, WaitResult::Woken(_)))
    }
}

impl<L: ConditionLock + fmt::Debug> fmt::Debug for Condition<L> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Condition")
            .field("lock", &self.lock)
            .field("waiters", &self.waiters.len())
            .finish()
    }
}
