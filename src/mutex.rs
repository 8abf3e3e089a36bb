//! `Mutex<T>`: the crate's [`Lock`] as a [`lock_api::RawMutex`], so the data it protects can
//! live inside it. Behind the `lock_api` feature.
//!
//! Nothing new waits or wakes here: each trait method is one of `Lock`'s own, so every
//! invariant of `docs/lock.md` holds for the mutex too.

use crate::lock::Lock;
use crate::sync::{Deadline, Instant};
use core::time::Duration;

/// A mutex that holds its data, with [`Lock`] as its raw lock: `lock_api::Mutex<Lock, T>`.
///
/// A [`Lock`] may be released by any thread, so its guards are `Send`
/// ([`lock_api::GuardSend`]): a guard taken on one thread may be dropped on another.
///
/// `Mutex::new` and `const_new` need `Lock`'s `const` constructor, which the loom build does
/// not have; loom models build one with `Mutex::from_raw(Lock::new(), value)`.
///
/// ```
/// # if locksmith::__internals::LOOM_BUILD { return; }
/// use locksmith::Mutex;
/// use std::sync::Arc;
/// use std::thread;
///
/// let counter = Arc::new(Mutex::new(0u64));
/// let workers: Vec<_> = (0..4)
///     .map(|_| {
///         let counter = Arc::clone(&counter);
///         thread::spawn(move || {
///             for _ in 0..1000 {
///                 *counter.lock() += 1;
///             }
///         })
///     })
///     .collect();
/// for worker in workers {
///     worker.join().unwrap();
/// }
/// assert_eq!(*counter.lock(), 4000);
/// ```
pub type Mutex<T> = lock_api::Mutex<Lock, T>;

/// The guard of a [`Mutex`]: the data, borrowed while the lock is held.
///
/// ```
/// # if locksmith::__internals::LOOM_BUILD { return; }
/// let mutex = locksmith::Mutex::new(vec![1, 2]);
/// let mut guard: locksmith::MutexGuard<'_, Vec<i32>> = mutex.lock();
/// guard.push(3);
/// assert_eq!(*guard, [1, 2, 3]);
/// ```
pub type MutexGuard<'a, T> = lock_api::MutexGuard<'a, Lock, T>;

// SAFETY: `lock`/`try_lock` return true only once this thread holds the Lock, which excludes
// every other holder until `unlock`, and the lock word's Release (in `unlock`) and Acquire (in
// the next `lock`) make what one holder wrote visible to the next: LOCK-1 in docs/lock.md.
// That is the whole of what lock_api requires of a raw mutex.
unsafe impl lock_api::RawMutex for Lock {
    #[cfg(not(loom))]
    #[allow(clippy::declare_interior_mutable_const)] // lock_api's design: INIT is copied, not shared.
    const INIT: Lock = Lock::new();

    // loom's atomics have no const constructor. The const is evaluated only where it is used
    // (`Mutex::new`); loom models use `Mutex::from_raw`, and any other use fails to compile.
    #[cfg(loom)]
    #[allow(clippy::declare_interior_mutable_const)]
    const INIT: Lock = panic!("under loom, build the mutex with Mutex::from_raw(Lock::new(), ..)");

    /// Any thread may release a Lock, so a guard may move to another thread.
    type GuardMarker = lock_api::GuardSend;

    #[inline]
    fn lock(&self) {
        self.acquire();
    }

    #[inline]
    fn try_lock(&self) -> bool {
        self.try_acquire()
    }

    /// # Safety
    /// The lock must be held (lock_api calls this only from a guard).
    #[inline]
    unsafe fn unlock(&self) {
        let released = self.release();
        debug_assert!(
            released.is_ok(),
            "lock_api unlocked a Lock that was not held"
        );
    }

    #[inline]
    fn is_locked(&self) -> bool {
        self.locked()
    }
}

// SAFETY: the timed forms acquire exactly as `lock` does, or return false having changed
// nothing (LOCK-5 in docs/lock.md).
unsafe impl lock_api::RawMutexTimed for Lock {
    type Duration = Duration;
    type Instant = Instant;

    #[inline]
    fn try_lock_for(&self, timeout: Duration) -> bool {
        self.acquire_timeout(timeout)
    }

    #[inline]
    fn try_lock_until(&self, deadline: Instant) -> bool {
        self.acquire_until(&Deadline::at(deadline))
    }
}
