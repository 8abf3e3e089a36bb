//! `process::RLock`: `multiprocessing.RLock`, owned by (process, thread), recovered from a
//! dead owner.

use super::OwnerDied;
use super::owned::{RawOwnedLock, Taken};
use crate::error::ReleaseError;
use crate::sync::Deadline;

/// The RLock's words: the owned lock, whose `count` is the recursion count.
#[doc(hidden)]
#[repr(C)]
pub struct RawRLock {
    lock: RawOwnedLock,
}

impl RawRLock {
    /// A free RLock, for models.
    #[allow(clippy::new_without_default)] // a model helper, not API
    #[cfg(any(loom, shuttle))]
    pub fn new() -> Self {
        RawRLock {
            lock: RawOwnedLock::new(),
        }
    }

    /// Acquires (again, if the caller owns it already), waiting until `deadline`.
    pub fn acquire_until(&self, deadline: &Deadline) -> Result<bool, OwnerDied> {
        if self.lock.is_mine() {
            // Saturating: only a peer's scribble puts the count near the word's maximum (no
            // real program nests 4 billion deep), and a peer's bytes must not make us panic.
            // A saturated count stays held until as many releases come, which is the holder's
            // problem after such a scribble, not a crash.
            self.lock.set_count(self.lock.count().saturating_add(1));
            return Ok(true);
        }
        match self.lock.acquire_until(deadline) {
            None => Ok(false),
            Some(Taken::Free) => Ok(true),
            Some(Taken::FromDead(pid)) => Err(OwnerDied::new((), pid)),
        }
    }

    /// Releases one level; the last frees the lock. Only the owning thread may.
    pub fn release(&self) -> Result<(), ReleaseError> {
        if !self.lock.is_mine() {
            return Err(if self.lock.locked() {
                ReleaseError::NotOwner
            } else {
                ReleaseError::NotLocked
            });
        }
        // A count of 0 while we own it can only be a peer's scribble: treat it as our last.
        match self.lock.count() {
            0 | 1 => self.lock.release(),
            count => self.lock.set_count(count - 1),
        }
        Ok(())
    }

    /// Whether the calling thread owns it.
    pub fn is_owned(&self) -> bool {
        self.lock.is_mine()
    }

    /// The calling thread's recursion count (0 unless it owns the lock).
    pub fn recursion_count(&self) -> usize {
        if self.lock.is_mine() {
            self.lock.count().max(1) as usize
        } else {
            0
        }
    }

    /// Whether any thread of any process holds it.
    pub fn locked(&self) -> bool {
        self.lock.locked()
    }
}

#[cfg(all(not(any(loom, shuttle)), target_os = "linux"))]
mod named {
    use super::*;
    use crate::process::object::{Body, Object};
    use core::fmt;
    use core::time::Duration;
    use std::io;

    // SAFETY: repr(C), atomics only (RawOwnedLock): any bytes are a value, all zero is free.
    unsafe impl Body for RawRLock {
        const KIND: u32 = 2;
        const NAME: &'static str = "RLock";
    }

    /// `multiprocessing.RLock` in named shared memory: owned by one thread of one process,
    /// which may acquire it again; only that thread may release it.
    ///
    /// Unlike Python's, it survives its owner's death: a process that dies holding it is
    /// noticed by the next acquirer (within [`OWNER_CHECK_INTERVAL`] of waiting, or at once
    /// by a `try_acquire`), which takes the lock over and learns it from
    /// `Err(OwnerDied)`: it holds the lock, but what the lock protected may be half-written.
    ///
    /// [`OWNER_CHECK_INTERVAL`]: super::super::OWNER_CHECK_INTERVAL
    ///
    /// ```
    /// let name = format!("/locksmith-doc-rlock-{}", std::process::id());
    /// let rlock = locksmith::process::RLock::create(&name)?;
    /// rlock.acquire().unwrap();
    /// rlock.acquire().unwrap();
    /// assert_eq!(rlock.recursion_count(), 2);
    /// rlock.release().unwrap();
    /// rlock.release().unwrap();
    /// assert!(!rlock.locked());
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub struct RLock {
        object: Object<RawRLock>,
    }

    impl RLock {
        /// Creates the RLock `name`, free, mode 0600; unlinked when this handle is dropped.
        /// `AlreadyExists` if the name is taken; `InvalidInput` for a bad name.
        ///
        /// ```
        /// let name = format!("/locksmith-doc-rlock-create-{}", std::process::id());
        /// let rlock = locksmith::process::RLock::create(&name)?;
        /// assert!(!rlock.locked());
        /// # Ok::<(), std::io::Error>(())
        /// ```
        pub fn create(name: &str) -> io::Result<RLock> {
            Object::create(name, |_| {}).map(|object| RLock { object })
        }

        /// Opens the RLock another handle created. `NotFound` if there is none;
        /// `InvalidData` if `name` is not a locksmith `RLock` of this layout.
        ///
        /// ```
        /// let missing = locksmith::process::RLock::open("/locksmith-doc-no-such-rlock");
        /// assert_eq!(missing.unwrap_err().kind(), std::io::ErrorKind::NotFound);
        /// ```
        pub fn open(name: &str) -> io::Result<RLock> {
            Object::open(name).map(|object| RLock { object })
        }

        /// The RLock's name, with its leading `/`.
        ///
        /// ```
        /// let name = format!("/locksmith-doc-rlock-name-{}", std::process::id());
        /// let rlock = locksmith::process::RLock::create(&name)?;
        /// assert_eq!(rlock.name(), name);
        /// # Ok::<(), std::io::Error>(())
        /// ```
        pub fn name(&self) -> &str {
            self.object.name()
        }

        /// Blocks until the calling thread owns the lock (again). Python: `acquire()`.
        /// `Err(OwnerDied)`: the caller owns it now (count 1), taken from a dead process.
        ///
        /// ```
        /// let name = format!("/locksmith-doc-rlock-acquire-{}", std::process::id());
        /// let rlock = locksmith::process::RLock::create(&name)?;
        /// rlock.acquire().unwrap();
        /// assert!(rlock.is_owned());
        /// # Ok::<(), std::io::Error>(())
        /// ```
        pub fn acquire(&self) -> Result<(), OwnerDied> {
            self.object
                .body()
                .acquire_until(&Deadline::never())
                .map(|_| ())
        }

        /// Acquires if free, owned by the caller, or owned by a dead process; never waits.
        /// Python: `acquire(False)`.
        ///
        /// ```
        /// let name = format!("/locksmith-doc-rlock-try-{}", std::process::id());
        /// let rlock = locksmith::process::RLock::create(&name)?;
        /// assert_eq!(rlock.try_acquire(), Ok(true));
        /// # Ok::<(), std::io::Error>(())
        /// ```
        pub fn try_acquire(&self) -> Result<bool, OwnerDied> {
            self.object
                .body()
                .acquire_until(&Deadline::after(Duration::ZERO))
        }

        /// Waits at most `timeout` to own the lock. Python: `acquire(timeout=t)`.
        ///
        /// ```
        /// use std::time::Duration;
        /// let name = format!("/locksmith-doc-rlock-timeout-{}", std::process::id());
        /// let rlock = locksmith::process::RLock::create(&name)?;
        /// assert_eq!(rlock.acquire_timeout(Duration::from_millis(5)), Ok(true));
        /// # Ok::<(), std::io::Error>(())
        /// ```
        pub fn acquire_timeout(&self, timeout: Duration) -> Result<bool, OwnerDied> {
            self.object.body().acquire_until(&Deadline::after(timeout))
        }

        /// Releases one level; the last frees the lock. [`ReleaseError::NotOwner`] from any
        /// other thread or process, [`ReleaseError::NotLocked`] if nobody owns it; either
        /// changes nothing. Python: `release()` (an `AssertionError` there).
        ///
        /// ```
        /// use locksmith::ReleaseError;
        /// let name = format!("/locksmith-doc-rlock-release-{}", std::process::id());
        /// let rlock = locksmith::process::RLock::create(&name)?;
        /// assert_eq!(rlock.release(), Err(ReleaseError::NotLocked));
        /// # Ok::<(), std::io::Error>(())
        /// ```
        pub fn release(&self) -> Result<(), ReleaseError> {
            self.object.body().release()
        }

        /// Whether the calling thread owns the lock.
        ///
        /// ```
        /// let name = format!("/locksmith-doc-rlock-owned-{}", std::process::id());
        /// let rlock = locksmith::process::RLock::create(&name)?;
        /// assert!(!rlock.is_owned());
        /// # Ok::<(), std::io::Error>(())
        /// ```
        pub fn is_owned(&self) -> bool {
            self.object.body().is_owned()
        }

        /// How many times the calling thread holds the lock (0 if it does not).
        ///
        /// ```
        /// let name = format!("/locksmith-doc-rlock-count-{}", std::process::id());
        /// let rlock = locksmith::process::RLock::create(&name)?;
        /// assert_eq!(rlock.recursion_count(), 0);
        /// # Ok::<(), std::io::Error>(())
        /// ```
        pub fn recursion_count(&self) -> usize {
            self.object.body().recursion_count()
        }

        /// Whether any thread of any process owns the lock now. A snapshot.
        ///
        /// ```
        /// let name = format!("/locksmith-doc-rlock-locked-{}", std::process::id());
        /// let rlock = locksmith::process::RLock::create(&name)?;
        /// assert!(!rlock.locked());
        /// # Ok::<(), std::io::Error>(())
        /// ```
        pub fn locked(&self) -> bool {
            self.object.body().locked()
        }
    }

    impl fmt::Debug for RLock {
        /// Shows the name, and the owner's pid while owned.
        ///
        /// ```
        /// let name = format!("/locksmith-doc-rlock-debug-{}", std::process::id());
        /// let rlock = locksmith::process::RLock::create(&name)?;
        /// assert_eq!(format!("{rlock:?}"), format!("RLock {{ name: {name:?}, owner_pid: None }}"));
        /// # Ok::<(), std::io::Error>(())
        /// ```
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            let pid = self.object.body().lock.owner_pid();
            f.debug_struct("RLock")
                .field("name", &self.name())
                .field("owner_pid", &(pid != 0).then_some(pid))
                .finish()
        }
    }
}

#[cfg(all(not(any(loom, shuttle)), target_os = "linux"))]
pub use named::RLock;
