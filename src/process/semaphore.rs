//! `process::Semaphore` and `process::BoundedSemaphore`: multiprocessing's, on one futex word.

use crate::error::ReleaseError;
use crate::sync::{AtomicU32, Deadline, Ordering, fence, futex_wait, futex_wake};

/// The most permits a process semaphore holds: CPython's `SEM_VALUE_MAX` on Linux
/// (`INT_MAX`), so a value Python accepts fits, and a peer's larger one reads as this.
pub const MAX_PERMITS: usize = i32::MAX as usize;

/// The semaphore's words. All zero is no permits, no sleepers, no bound.
///
/// The permits and the sleepers are two words, not one: with a "sleepers" bit in the permit
/// word, a release would have to clear the bit when it wakes, and a second release before
/// the woken one runs would then see no sleeper and wake nobody, leaving a permit free and a
/// process asleep (the model `process_semaphore_wakes_every_sleeper_it_owes` found this). A
/// count of sleepers is never cleared by a waker; each sleeper takes itself off.
#[doc(hidden)]
#[repr(C)]
pub struct RawSemaphore {
    /// Free permits (read as at most MAX_PERMITS); the futex word.
    permits: AtomicU32,
    /// Processes' threads asleep, or about to sleep, on `permits`. A sleeper that dies leaves
    /// it one too high, which costs spare wakes and nothing else.
    sleepers: AtomicU32,
    /// A bounded semaphore's initial value (0 for an unbounded one), written before the
    /// object is published and never after. A peer's value above the maximum reads as the
    /// maximum.
    limit: AtomicU32,
}

/// The permits a word holds, clamped (a peer may have written anything).
fn permits_in(word: u32) -> u32 {
    word.min(MAX_PERMITS as u32)
}

impl RawSemaphore {
    /// A semaphore with `permits` (and that as its limit if `bounded`), for models.
    #[cfg(any(loom, shuttle))]
    pub fn new(permits: u32, bounded: bool) -> Self {
        let raw = RawSemaphore {
            permits: AtomicU32::new(0),
            sleepers: AtomicU32::new(0),
            limit: AtomicU32::new(0),
        };
        raw.init(permits, bounded);
        raw
    }

    /// First values, before anyone else can see the semaphore.
    fn init(&self, permits: u32, bounded: bool) {
        // Relaxed: published by whoever shares the semaphore (the object's magic, or the
        // model's thread spawn).
        self.permits.store(permits, Ordering::Relaxed);
        self.limit
            .store(if bounded { permits } else { 0 }, Ordering::Relaxed);
    }

    /// Takes a permit if there is one; never waits.
    #[inline]
    pub fn try_acquire(&self) -> bool {
        // Relaxed: the compare-exchange decides.
        let mut word = self.permits.load(Ordering::Relaxed);
        while permits_in(word) > 0 {
            // Acquire: the releaser's writes happen before ours.
            match self.permits.compare_exchange_weak(
                word,
                permits_in(word) - 1,
                Ordering::Acquire,
                Ordering::Relaxed,
            ) {
                Ok(_) => return true,
                Err(now) => word = now,
            }
        }
        false
    }

    /// Takes a permit, waiting until `deadline`; false if it passed first.
    #[inline]
    pub fn acquire_until(&self, deadline: &Deadline) -> bool {
        self.try_acquire() || (!deadline.is_now() && self.acquire_slow(deadline))
    }

    #[cold]
    fn acquire_slow(&self, deadline: &Deadline) -> bool {
        loop {
            if self.try_acquire() {
                return true;
            }
            if deadline.expired() {
                return false;
            }
            // Relaxed, then the fence: with the release's fence, either we see its permits
            // below or it sees us counted and wakes (the kernel then finds the word nonzero,
            // or wakes us).
            self.sleepers.fetch_add(1, Ordering::Relaxed);
            fence(Ordering::SeqCst);
            // Relaxed: ordered by the fence.
            if self.permits.load(Ordering::Relaxed) == 0 {
                futex_wait(&self.permits, 0, deadline);
            }
            // Relaxed: a count (see the field).
            self.sleepers.fetch_sub(1, Ordering::Relaxed);
        }
    }

    /// Adds `n` permits and wakes up to `n` sleepers. With `bounded`, refuses (changing
    /// nothing) to rise above the limit. Panics past [`MAX_PERMITS`].
    pub fn release_n(&self, n: usize, bounded: bool) -> Result<(), ReleaseError> {
        if n == 0 {
            return Ok(());
        }
        // Relaxed: a peer's limit is only a number; clamped here.
        let limit = if bounded {
            permits_in(self.limit.load(Ordering::Relaxed)) as usize
        } else {
            MAX_PERMITS
        };
        // Relaxed: the compare-exchange decides.
        let mut word = self.permits.load(Ordering::Relaxed);
        loop {
            let free = permits_in(word) as usize;
            let next = if n <= limit - free.min(limit) {
                free + n
            } else if bounded {
                // Whatever the limit reads (a peer may have written the maximum into it), a
                // bounded semaphore refuses rather than panics.
                return Err(ReleaseError::TooManyReleases);
            } else if word as usize > MAX_PERMITS {
                // Only a peer can have written a count past the maximum: saturate rather
                // than panic over another process's bytes.
                MAX_PERMITS
            } else {
                panic!("process semaphore value would pass the maximum, {MAX_PERMITS}");
            };
            // Release: our writes happen before the acquirer's Acquire.
            match self.permits.compare_exchange_weak(
                word,
                next as u32,
                Ordering::Release,
                Ordering::Relaxed,
            ) {
                Ok(_) => break,
                Err(now) => word = now,
            }
        }
        // SeqCst fence: pairs with the sleeper's (see `acquire_slow`).
        fence(Ordering::SeqCst);
        // Relaxed: ordered by the fence.
        if self.sleepers.load(Ordering::Relaxed) != 0 {
            futex_wake(&self.permits, n.min(u32::MAX as usize) as u32);
        }
        Ok(())
    }

    /// Writes `word` over the permits, as a misbehaving peer could. For the models.
    #[cfg(any(loom, shuttle))]
    pub fn scribble(&self, word: u32) {
        // Relaxed: a peer's write publishes nothing.
        self.permits.store(word, Ordering::Relaxed);
    }

    /// The permits free now. A snapshot.
    pub fn value(&self) -> usize {
        // Relaxed: a snapshot.
        permits_in(self.permits.load(Ordering::Relaxed)) as usize
    }
}

#[cfg(all(not(any(loom, shuttle)), target_os = "linux"))]
mod named {
    use super::*;
    use crate::process::object::{Body, Object};
    use core::fmt;
    use core::time::Duration;
    use std::io;

    // SAFETY: repr(C), three AtomicU32s: any bytes are a value (permits and limit are
    // clamped, the sleepers count only decides whether to wake).
    unsafe impl Body for RawSemaphore {
        const KIND: u32 = 3;
        const NAME: &'static str = "Semaphore";
    }

    /// The bounded kind's words: the same, under its own kind, so neither opens as the other.
    #[repr(transparent)]
    pub(super) struct RawBounded(RawSemaphore);

    // SAFETY: a RawSemaphore, transparently.
    unsafe impl Body for RawBounded {
        const KIND: u32 = 4;
        const NAME: &'static str = "BoundedSemaphore";
    }

    fn checked_value(value: usize) -> io::Result<u32> {
        if value > MAX_PERMITS {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("semaphore value {value} is above the maximum, {MAX_PERMITS}"),
            ));
        }
        Ok(value as u32)
    }

    macro_rules! process_semaphore {
        (
            $(#[$doc:meta])*
            $name:ident, $guard:ident, raw: $raw:ty, bounded: $bounded:literal,
            release: $release_ty:ty, answer: $answer:path, release_doc: $release_doc:literal
        ) => {
            $(#[$doc])*
            pub struct $name {
                object: Object<$raw>,
            }

            impl $name {
                /// Creates the semaphore `name` with `value` permits, mode 0600; unlinked when
                /// this handle is dropped. `InvalidInput` for a bad name or a value above
                /// [`MAX_PERMITS`]; `AlreadyExists` if the name is taken.
                ///
                /// ```
                #[doc = concat!("let name = format!(\"/locksmith-doc-", stringify!($name), "-create-{}\", std::process::id());")]
                #[doc = concat!("let sem = locksmith::process::", stringify!($name), "::create(&name, 2)?;")]
                /// assert_eq!(sem.value(), 2);
                /// # Ok::<(), std::io::Error>(())
                /// ```
                pub fn create(name: &str, value: usize) -> io::Result<Self> {
                    let value = checked_value(value)?;
                    Object::<$raw>::create(name, |raw| raw.as_raw().init(value, $bounded))
                        .map(|object| $name { object })
                }

                /// Opens the semaphore another handle created. `NotFound` if there is none;
                #[doc = concat!("`InvalidData` if `name` is not a locksmith `", stringify!($name), "` of this layout.")]
                ///
                /// ```
                #[doc = concat!("let missing = locksmith::process::", stringify!($name), "::open(\"/locksmith-doc-no-such-sem\");")]
                /// assert_eq!(missing.unwrap_err().kind(), std::io::ErrorKind::NotFound);
                /// ```
                pub fn open(name: &str) -> io::Result<Self> {
                    Object::open(name).map(|object| $name { object })
                }

                /// The semaphore's name, with its leading `/`.
                ///
                /// ```
                #[doc = concat!("let name = format!(\"/locksmith-doc-", stringify!($name), "-name-{}\", std::process::id());")]
                #[doc = concat!("let sem = locksmith::process::", stringify!($name), "::create(&name, 1)?;")]
                /// assert_eq!(sem.name(), name);
                /// # Ok::<(), std::io::Error>(())
                /// ```
                pub fn name(&self) -> &str {
                    self.object.name()
                }

                fn raw(&self) -> &RawSemaphore {
                    self.object.body().as_raw()
                }

                /// Takes a permit, waiting while there is none. Python: `acquire()`.
                ///
                /// ```
                #[doc = concat!("let name = format!(\"/locksmith-doc-", stringify!($name), "-acquire-{}\", std::process::id());")]
                #[doc = concat!("let sem = locksmith::process::", stringify!($name), "::create(&name, 1)?;")]
                /// sem.acquire();
                /// assert_eq!(sem.value(), 0);
                /// # Ok::<(), std::io::Error>(())
                /// ```
                pub fn acquire(&self) {
                    self.raw().acquire_until(&Deadline::never());
                }

                /// Takes a permit if there is one; never waits. Python: `acquire(False)`.
                ///
                /// ```
                #[doc = concat!("let name = format!(\"/locksmith-doc-", stringify!($name), "-try-{}\", std::process::id());")]
                #[doc = concat!("let sem = locksmith::process::", stringify!($name), "::create(&name, 1)?;")]
                /// assert!(sem.try_acquire());
                /// assert!(!sem.try_acquire());
                /// # Ok::<(), std::io::Error>(())
                /// ```
                pub fn try_acquire(&self) -> bool {
                    self.raw().try_acquire()
                }

                /// Waits at most `timeout` for a permit. Python: `acquire(timeout=t)`.
                ///
                /// ```
                /// use std::time::Duration;
                #[doc = concat!("let name = format!(\"/locksmith-doc-", stringify!($name), "-timeout-{}\", std::process::id());")]
                #[doc = concat!("let sem = locksmith::process::", stringify!($name), "::create(&name, 0)?;")]
                /// assert!(!sem.acquire_timeout(Duration::from_millis(5)));
                /// # Ok::<(), std::io::Error>(())
                /// ```
                pub fn acquire_timeout(&self, timeout: Duration) -> bool {
                    self.raw().acquire_until(&Deadline::after(timeout))
                }

                #[doc = $release_doc]
                ///
                /// ```
                #[doc = concat!("let name = format!(\"/locksmith-doc-", stringify!($name), "-release-{}\", std::process::id());")]
                #[doc = concat!("let sem = locksmith::process::", stringify!($name), "::create(&name, 1)?;")]
                /// sem.acquire();
                /// let _ = sem.release();
                /// assert_eq!(sem.value(), 1);
                /// # Ok::<(), std::io::Error>(())
                /// ```
                pub fn release(&self) -> $release_ty {
                    self.release_n(1)
                }

                /// Adds `n` permits at once and wakes up to `n` waiters; `n == 0` does nothing.
                /// Python: `release(n)`.
                ///
                /// ```
                #[doc = concat!("let name = format!(\"/locksmith-doc-", stringify!($name), "-release-n-{}\", std::process::id());")]
                #[doc = concat!("let sem = locksmith::process::", stringify!($name), "::create(&name, 2)?;")]
                /// sem.acquire();
                /// sem.acquire();
                /// let _ = sem.release_n(2);
                /// assert_eq!(sem.value(), 2);
                /// # Ok::<(), std::io::Error>(())
                /// ```
                pub fn release_n(&self, n: usize) -> $release_ty {
                    $answer(self.raw().release_n(n, $bounded))
                }

                /// The permits free now. A snapshot.
                ///
                /// ```
                #[doc = concat!("let name = format!(\"/locksmith-doc-", stringify!($name), "-value-{}\", std::process::id());")]
                #[doc = concat!("let sem = locksmith::process::", stringify!($name), "::create(&name, 3)?;")]
                /// assert_eq!(sem.value(), 3);
                /// # Ok::<(), std::io::Error>(())
                /// ```
                pub fn value(&self) -> usize {
                    self.raw().value()
                }

                /// Takes a permit and returns a guard that gives it back when dropped.
                /// Python: `with sem:`.
                ///
                /// ```
                #[doc = concat!("let name = format!(\"/locksmith-doc-", stringify!($name), "-guard-{}\", std::process::id());")]
                #[doc = concat!("let sem = locksmith::process::", stringify!($name), "::create(&name, 1)?;")]
                /// {
                ///     let _permit = sem.guard();
                ///     assert_eq!(sem.value(), 0);
                /// }
                /// assert_eq!(sem.value(), 1);
                /// # Ok::<(), std::io::Error>(())
                /// ```
                pub fn guard(&self) -> $guard<'_> {
                    self.acquire();
                    $guard { semaphore: self }
                }
            }

            impl fmt::Debug for $name {
                /// Shows the name and the permits free now.
                ///
                /// ```
                #[doc = concat!("let name = format!(\"/locksmith-doc-", stringify!($name), "-debug-{}\", std::process::id());")]
                #[doc = concat!("let sem = locksmith::process::", stringify!($name), "::create(&name, 1)?;")]
                #[doc = concat!("assert_eq!(format!(\"{sem:?}\"), format!(\"", stringify!($name), " {{ name: {name:?}, value: 1 }}\"));")]
                /// # Ok::<(), std::io::Error>(())
                /// ```
                fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                    f.debug_struct(stringify!($name))
                        .field("name", &self.name())
                        .field("value", &self.value())
                        .finish()
                }
            }

            #[doc = concat!("Holds a permit of a [`", stringify!($name), "`]; gives it back when dropped.")]
            ///
            /// ```
            #[doc = concat!("let name = format!(\"/locksmith-doc-", stringify!($guard), "-{}\", std::process::id());")]
            #[doc = concat!("let sem = locksmith::process::", stringify!($name), "::create(&name, 1)?;")]
            /// drop(sem.guard());
            /// assert_eq!(sem.value(), 1);
            /// # Ok::<(), std::io::Error>(())
            /// ```
            #[must_use = "the permit is given back as soon as the guard is dropped"]
            pub struct $guard<'a> {
                semaphore: &'a $name,
            }

            impl Drop for $guard<'_> {
                fn drop(&mut self) {
                    // The permit this guard took: giving it back stays within any bound
                    // unless another process released past it meanwhile, which is that
                    // process's error, reported to it.
                    let _ = self.semaphore.raw().release_n(1, $bounded);
                }
            }

            impl fmt::Debug for $guard<'_> {
                /// Shows the semaphore.
                ///
                /// ```
                #[doc = concat!("let name = format!(\"/locksmith-doc-", stringify!($guard), "-debug-{}\", std::process::id());")]
                #[doc = concat!("let sem = locksmith::process::", stringify!($name), "::create(&name, 1)?;")]
                /// let guard = sem.guard();
                #[doc = concat!("assert!(format!(\"{guard:?}\").starts_with(\"", stringify!($guard), "\"));")]
                /// # Ok::<(), std::io::Error>(())
                /// ```
                fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                    f.debug_struct(stringify!($guard))
                        .field("semaphore", self.semaphore)
                        .finish()
                }
            }
        };
    }

    /// An unbounded release refuses nothing (past the maximum it panics instead).
    fn unbounded_answer(released: Result<(), ReleaseError>) {
        debug_assert!(released.is_ok());
    }

    fn bounded_answer(released: Result<(), ReleaseError>) -> Result<(), ReleaseError> {
        released
    }

    trait AsRaw {
        fn as_raw(&self) -> &RawSemaphore;
    }

    impl AsRaw for RawSemaphore {
        fn as_raw(&self) -> &RawSemaphore {
            self
        }
    }

    impl AsRaw for RawBounded {
        fn as_raw(&self) -> &RawSemaphore {
            &self.0
        }
    }

    process_semaphore! {
        /// `multiprocessing.Semaphore` in named shared memory: a count of permits shared by
        /// processes. Permits held by a process that dies are not given back, as in Python.
        ///
        /// ```
        /// let name = format!("/locksmith-doc-semaphore-{}", std::process::id());
        /// let sem = locksmith::process::Semaphore::create(&name, 2)?;
        /// let other = locksmith::process::Semaphore::open(sem.name())?;
        /// sem.acquire();
        /// assert_eq!(other.value(), 1);
        /// # Ok::<(), std::io::Error>(())
        /// ```
        Semaphore, SemaphoreGuard, raw: RawSemaphore, bounded: false,
        release: (), answer: unbounded_answer,
        release_doc: "Adds a permit and wakes one waiter. Python: `release()`. Panics past [`MAX_PERMITS`]."
    }

    process_semaphore! {
        /// `multiprocessing.BoundedSemaphore` in named shared memory: a [`Semaphore`] that
        /// refuses to rise above its initial value.
        ///
        /// ```
        /// use locksmith::ReleaseError;
        /// let name = format!("/locksmith-doc-bounded-{}", std::process::id());
        /// let sem = locksmith::process::BoundedSemaphore::create(&name, 1)?;
        /// assert_eq!(sem.release(), Err(ReleaseError::TooManyReleases));
        /// # Ok::<(), std::io::Error>(())
        /// ```
        BoundedSemaphore, BoundedSemaphoreGuard, raw: RawBounded, bounded: true,
        release: Result<(), ReleaseError>, answer: bounded_answer,
        release_doc: "Adds a permit and wakes one waiter; [`ReleaseError::TooManyReleases`] (value unchanged) past the initial value. Python: `release()`, whose `ValueError` reads `semaphore or lock released too many times`."
    }
}

#[cfg(all(not(any(loom, shuttle)), target_os = "linux"))]
pub use named::{BoundedSemaphore, BoundedSemaphoreGuard, Semaphore, SemaphoreGuard};
