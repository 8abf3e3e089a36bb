//! `process::Lock`: `multiprocessing.Lock`. Not owned: any process may release it.
//!
//! One futex word, in the shape of std's `sys/sync/mutex/futex.rs`, with timeouts.

use crate::error::ReleaseError;
use crate::sync::{AtomicU32, Deadline, Ordering, SpinWait, futex_wait, futex_wake};

/// Nobody holds the lock.
const UNLOCKED: u32 = 0;
/// Held, and nobody has slept on the word since it was taken.
const LOCKED: u32 = 1;
/// Held, and a process may be sleeping on the word: `release` must wake one. Any other value
/// a peer writes reads as this (held, wake on release): the safe side.
const CONTENDED: u32 = 2;

/// The lock's one word, wherever it lives: in a named object, or (in the crate's models) on
/// the heap. All zero is unlocked.
#[doc(hidden)]
#[repr(C)]
pub struct RawLock {
    state: AtomicU32,
}

impl RawLock {
    /// An unlocked lock, for models; a named one is made zeroed by the kernel.
    #[allow(clippy::new_without_default)] // a model helper, not API
    #[cfg(any(loom, shuttle))]
    pub fn new() -> Self {
        RawLock {
            state: AtomicU32::new(UNLOCKED),
        }
    }

    /// Takes the lock if it is free; never waits.
    #[inline]
    pub fn try_acquire(&self) -> bool {
        // Acquire: the previous holder's writes, published by its release, happen before ours.
        self.state
            .compare_exchange(UNLOCKED, LOCKED, Ordering::Acquire, Ordering::Relaxed)
            .is_ok()
    }

    /// Takes the lock, waiting until `deadline`; false if it passed first.
    #[inline]
    pub fn acquire_until(&self, deadline: &Deadline) -> bool {
        self.try_acquire() || self.acquire_slow(deadline)
    }

    #[cold]
    fn acquire_slow(&self, deadline: &Deadline) -> bool {
        if deadline.is_now() {
            return false;
        }
        // A holder that is about to release: spin a little on a plain load first.
        let mut spin = SpinWait::new();
        // Relaxed: only a hint; the swap below decides.
        while self.state.load(Ordering::Relaxed) == LOCKED && spin.spin() {}
        loop {
            // Marking CONTENDED before every sleep, and before giving up, keeps the rule that
            // a sleeper is never left behind a word that says nobody sleeps: we cannot know
            // whether others sleep, so we assume they do (one spare wake at worst).
            // Acquire: as in `try_acquire`, when the swap finds the lock free.
            if self.state.swap(CONTENDED, Ordering::Acquire) == UNLOCKED {
                return true;
            }
            if deadline.expired() {
                return false;
            }
            futex_wait(&self.state, CONTENDED, deadline);
        }
    }

    /// Releases the lock, whoever holds it. `NotLocked` (changing nothing) if nobody does.
    #[inline]
    pub fn release(&self) -> Result<(), ReleaseError> {
        // Release: our writes under the lock happen before the next holder's Acquire. A swap
        // rather than a load then a store: of two racing releases of one hold, exactly one
        // reads a held state; writing UNLOCKED over UNLOCKED changes nothing.
        match self.state.swap(UNLOCKED, Ordering::Release) {
            UNLOCKED => Err(ReleaseError::NotLocked),
            LOCKED => Ok(()),
            _ => {
                futex_wake(&self.state, 1);
                Ok(())
            }
        }
    }

    /// Writes `word` over the state, as a misbehaving peer could. For the models.
    #[cfg(any(loom, shuttle))]
    pub fn scribble(&self, word: u32) {
        // Relaxed: a peer's write publishes nothing.
        self.state.store(word, Ordering::Relaxed);
    }

    /// Whether someone holds the lock now. A snapshot.
    pub fn locked(&self) -> bool {
        // Relaxed: a snapshot that publishes nothing.
        self.state.load(Ordering::Relaxed) != UNLOCKED
    }
}

#[cfg(all(not(any(loom, shuttle)), target_os = "linux"))]
mod named {
    use super::*;
    use crate::process::object::{Body, Object};
    use core::fmt;
    use core::time::Duration;
    use std::io;

    // SAFETY: repr(C), one AtomicU32: any bytes are a value, and all zero is unlocked.
    unsafe impl Body for RawLock {
        const KIND: u32 = 1;
        const NAME: &'static str = "Lock";
    }

    /// `multiprocessing.Lock`: a lock in named shared memory that any process may release.
    ///
    /// A lock has no owner, so a process that dies holding it leaves it locked, as in Python:
    /// there is nobody to check on. Use [`RLock`](super::super::RLock) or
    /// [`Value`](super::super::Value), which record their owner, when that matters.
    ///
    /// ```
    /// use locksmith::process::Lock;
    /// let name = format!("/locksmith-doc-lock-{}", std::process::id());
    /// let lock = Lock::create(&name)?;
    /// // Another process would call `Lock::open(&name)`; here, the same process does.
    /// let other = Lock::open(lock.name())?;
    /// lock.acquire();
    /// assert!(other.locked());
    /// other.release().unwrap(); // any process may release it
    /// assert!(!lock.locked());
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub struct Lock {
        object: Object<RawLock>,
    }

    impl Lock {
        /// Creates the lock `name`, unlocked, mode 0600. The name is unlinked when this handle
        /// is dropped. `AlreadyExists` if the name is taken; `InvalidInput` for a bad name.
        ///
        /// ```
        /// let name = format!("locksmith-doc-lock-create-{}", std::process::id());
        /// let lock = locksmith::process::Lock::create(&name)?;
        /// assert_eq!(lock.name(), format!("/{name}"));
        /// # Ok::<(), std::io::Error>(())
        /// ```
        pub fn create(name: &str) -> io::Result<Lock> {
            Object::create(name, |_| {}).map(|object| Lock { object })
        }

        /// Opens the lock another handle created. `NotFound` if there is none; `InvalidData`
        /// if `name` is not a locksmith `Lock` of this layout.
        ///
        /// ```
        /// use std::io::ErrorKind;
        /// let missing = locksmith::process::Lock::open("/locksmith-doc-no-such-lock");
        /// assert_eq!(missing.unwrap_err().kind(), ErrorKind::NotFound);
        /// ```
        pub fn open(name: &str) -> io::Result<Lock> {
            Object::open(name).map(|object| Lock { object })
        }

        /// The lock's name, with its leading `/`, for another process's `open`.
        ///
        /// ```
        /// let name = format!("/locksmith-doc-lock-name-{}", std::process::id());
        /// let lock = locksmith::process::Lock::create(&name)?;
        /// assert_eq!(lock.name(), name);
        /// # Ok::<(), std::io::Error>(())
        /// ```
        pub fn name(&self) -> &str {
            self.object.name()
        }

        /// Blocks until the lock is acquired. Python: `acquire()`.
        ///
        /// ```
        /// let name = format!("/locksmith-doc-lock-acquire-{}", std::process::id());
        /// let lock = locksmith::process::Lock::create(&name)?;
        /// lock.acquire();
        /// assert!(lock.locked());
        /// # Ok::<(), std::io::Error>(())
        /// ```
        pub fn acquire(&self) {
            self.object.body().acquire_until(&Deadline::never());
        }

        /// Acquires the lock if it is free; never waits. Python: `acquire(False)`.
        ///
        /// ```
        /// let name = format!("/locksmith-doc-lock-try-{}", std::process::id());
        /// let lock = locksmith::process::Lock::create(&name)?;
        /// assert!(lock.try_acquire());
        /// assert!(!lock.try_acquire());
        /// # Ok::<(), std::io::Error>(())
        /// ```
        pub fn try_acquire(&self) -> bool {
            self.object.body().try_acquire()
        }

        /// Waits at most `timeout` for the lock. Python: `acquire(timeout=t)`.
        /// `Duration::ZERO` tries once.
        ///
        /// ```
        /// use std::time::Duration;
        /// let name = format!("/locksmith-doc-lock-timeout-{}", std::process::id());
        /// let lock = locksmith::process::Lock::create(&name)?;
        /// lock.acquire();
        /// assert!(!lock.acquire_timeout(Duration::from_millis(5)));
        /// # Ok::<(), std::io::Error>(())
        /// ```
        pub fn acquire_timeout(&self, timeout: Duration) -> bool {
            self.object.body().acquire_until(&Deadline::after(timeout))
        }

        /// Releases the lock, from any thread of any process. Python: `release()`.
        ///
        /// Releasing a lock nobody holds is [`ReleaseError::NotLocked`] and changes nothing
        /// (Python: `ValueError: semaphore or lock released too many times`).
        ///
        /// ```
        /// use locksmith::ReleaseError;
        /// let name = format!("/locksmith-doc-lock-release-{}", std::process::id());
        /// let lock = locksmith::process::Lock::create(&name)?;
        /// assert_eq!(lock.release(), Err(ReleaseError::NotLocked));
        /// # Ok::<(), std::io::Error>(())
        /// ```
        pub fn release(&self) -> Result<(), ReleaseError> {
            self.object.body().release()
        }

        /// Whether some process holds the lock now. A snapshot.
        ///
        /// ```
        /// let name = format!("/locksmith-doc-lock-locked-{}", std::process::id());
        /// let lock = locksmith::process::Lock::create(&name)?;
        /// assert!(!lock.locked());
        /// # Ok::<(), std::io::Error>(())
        /// ```
        pub fn locked(&self) -> bool {
            self.object.body().locked()
        }

        /// Acquires the lock and returns a guard that releases it when dropped. Python:
        /// `with lock:`.
        ///
        /// ```
        /// let name = format!("/locksmith-doc-lock-guard-{}", std::process::id());
        /// let lock = locksmith::process::Lock::create(&name)?;
        /// {
        ///     let _guard = lock.lock();
        ///     assert!(lock.locked());
        /// }
        /// assert!(!lock.locked());
        /// # Ok::<(), std::io::Error>(())
        /// ```
        pub fn lock(&self) -> LockGuard<'_> {
            self.acquire();
            LockGuard { lock: self }
        }
    }

    impl fmt::Debug for Lock {
        /// Shows the name and whether the lock is held.
        ///
        /// ```
        /// let name = format!("/locksmith-doc-lock-debug-{}", std::process::id());
        /// let lock = locksmith::process::Lock::create(&name)?;
        /// assert_eq!(format!("{lock:?}"), format!("Lock {{ name: {name:?}, locked: false }}"));
        /// # Ok::<(), std::io::Error>(())
        /// ```
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.debug_struct("Lock")
                .field("name", &self.name())
                .field("locked", &self.locked())
                .finish()
        }
    }

    /// Holds a [`Lock`]; releases it when dropped. From [`Lock::lock`].
    ///
    /// ```
    /// let name = format!("/locksmith-doc-lockguard-{}", std::process::id());
    /// let lock = locksmith::process::Lock::create(&name)?;
    /// let guard = lock.lock();
    /// drop(guard);
    /// assert!(!lock.locked());
    /// # Ok::<(), std::io::Error>(())
    /// ```
    #[must_use = "the lock is released as soon as the guard is dropped"]
    pub struct LockGuard<'a> {
        lock: &'a Lock,
    }

    impl Drop for LockGuard<'_> {
        fn drop(&mut self) {
            // Another process may have released the lock under us (a Lock has no owner);
            // that leaves nothing to release, which is not this guard's error to report.
            let _ = self.lock.release();
        }
    }

    impl fmt::Debug for LockGuard<'_> {
        /// Shows the lock.
        ///
        /// ```
        /// let name = format!("/locksmith-doc-lockguard-debug-{}", std::process::id());
        /// let lock = locksmith::process::Lock::create(&name)?;
        /// let guard = lock.lock();
        /// assert!(format!("{guard:?}").starts_with("LockGuard"));
        /// # Ok::<(), std::io::Error>(())
        /// ```
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.debug_struct("LockGuard")
                .field("lock", self.lock)
                .finish()
        }
    }
}

#[cfg(all(not(any(loom, shuttle)), target_os = "linux"))]
pub use named::{Lock, LockGuard};
