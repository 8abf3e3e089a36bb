#![cfg(not(loom))]
//! CPython 3.13's `Lib/test/lock_tests.py`, ported for [`Semaphore`] and
//! [`BoundedSemaphore`]: `BaseSemaphoreTests` (written once below, over [`TestSemaphore`],
//! and run for both by [`base_semaphore_tests!`]), `SemaphoreTests` and
//! `BoundedSemaphoreTests`.
//!
//! Invariant IDs: SEM-1 the value never goes below zero and acquire takes exactly one
//! permit (or waits); SEM-2 release adds one and wakes one waiter, `release_n(n)` adds `n`
//! and wakes up to `n`, `release_n(0)` is a no-op; SEM-3 `try_acquire` never blocks and a
//! failed timed acquire takes nothing (and waits at least most of its timeout); SEM-4 a
//! permit released while a waiter times out is never lost (the waiter gets it or it stays in
//! the value); SEM-5 `BoundedSemaphore`: a release past the initial value is
//! `Err(TooManyReleases)` and leaves the value unchanged, also with concurrent releasers;
//! SEM-6 guards give the permit back on drop (also during a panic).
//!
//! Python keyword arguments map to the Rust API: `acquire(False)` is `try_acquire`,
//! `acquire(timeout=t)` is `acquire_timeout(t)`, `release(n)` is `release_n(n)`.
//!
//! Not ported, because it cannot exist in Rust: `test_repr` (no `repr`); the negative
//! values of `test_constructor` (a `usize` cannot be negative); Python's `ValueError` for
//! `acquire(False, timeout=1.0)` in `test_acquire_timeout` (no Rust call takes both).

// The lock-only helpers of `common` (`base`, `TestLock`) are not used here.
#[allow(dead_code)]
mod common;

use std::panic::{self, AssertUnwindSafe};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use common::base::{TIMEOUT, TypeError};
use common::{Bunch, assert_timeout, wait_for_queued, wait_until};
use locksmith::{
    BoundedSemaphore, BoundedSemaphoreGuard, MAX_PERMITS, ReleaseError, Semaphore, SemaphoreGuard,
};

// ---------------------------------------------------------------------------------------
// The semaphore under test.

/// What `Semaphore` and `BoundedSemaphore` have in common, so that `BaseSemaphoreTests`
/// is written once. `release` and `release_n` return a `Result` for both: always `Ok` for
/// the unbounded one.
trait TestSemaphore: Default + Send + Sync + 'static {
    type Guard<'a>;

    fn new(value: usize) -> Self;
    fn acquire(&self);
    fn try_acquire(&self) -> bool;
    fn acquire_timeout(&self, timeout: Duration) -> bool;
    fn release(&self) -> Result<(), ReleaseError>;
    fn release_n(&self, n: usize) -> Result<(), ReleaseError>;
    fn value(&self) -> usize;
    fn queued_waiters(&self) -> usize;
    fn guard(&self) -> Self::Guard<'_>;
}

/// A release's outcome as a `Result`: `()` (an unbounded release) is always `Ok`.
trait Released {
    fn into_result(self) -> Result<(), ReleaseError>;
}

impl Released for () {
    fn into_result(self) -> Result<(), ReleaseError> {
        Ok(())
    }
}

impl Released for Result<(), ReleaseError> {
    fn into_result(self) -> Result<(), ReleaseError> {
        self
    }
}

macro_rules! impl_test_semaphore {
    ($sem:ident, $guard:ident) => {
        impl TestSemaphore for $sem {
            type Guard<'a> = $guard<'a>;

            fn new(value: usize) -> Self {
                $sem::new(value)
            }
            fn acquire(&self) {
                $sem::acquire(self)
            }
            fn try_acquire(&self) -> bool {
                $sem::try_acquire(self)
            }
            fn acquire_timeout(&self, timeout: Duration) -> bool {
                $sem::acquire_timeout(self, timeout)
            }
            fn release(&self) -> Result<(), ReleaseError> {
                $sem::release(self).into_result()
            }
            fn release_n(&self, n: usize) -> Result<(), ReleaseError> {
                $sem::release_n(self, n).into_result()
            }
            fn value(&self) -> usize {
                $sem::value(self)
            }
            fn queued_waiters(&self) -> usize {
                $sem::queued_waiters(self)
            }
            fn guard(&self) -> $guard<'_> {
                $sem::guard(self)
            }
        }
    };
}

impl_test_semaphore!(Semaphore, SemaphoreGuard);
impl_test_semaphore!(BoundedSemaphore, BoundedSemaphoreGuard);

// ---------------------------------------------------------------------------------------
// BaseSemaphoreTests: the bodies.

/// `test_constructor`, for the values a `usize` can hold: a semaphore starts with its value
/// (1 by default) and cannot be acquired at 0.
fn constructor<S: TestSemaphore>() {
    assert_eq!(S::default().value(), 1, "Python's default value is 1");
    assert_eq!(S::new(3).value(), 3);
    let empty = S::new(0);
    assert_eq!(empty.value(), 0);
    assert!(!empty.try_acquire(), "acquired a semaphore of value 0");
    assert_eq!(empty.value(), 0);
    assert_eq!(empty.queued_waiters(), 0);
    let full = S::new(MAX_PERMITS);
    assert!(full.try_acquire());
    assert_eq!(full.value(), MAX_PERMITS - 1);
}

/// `test_acquire`: each acquire takes one permit, each release gives one back.
fn acquire<S: TestSemaphore>() {
    let sem = S::new(1);
    sem.acquire();
    assert_eq!(sem.value(), 0);
    assert_eq!(sem.release(), Ok(()));
    assert_eq!(sem.value(), 1);
    let sem = S::new(2);
    sem.acquire();
    assert_eq!(sem.value(), 1);
    sem.acquire();
    assert_eq!(sem.value(), 0);
    assert_eq!(sem.release(), Ok(()));
    assert_eq!(sem.value(), 1);
    assert_eq!(sem.release(), Ok(()));
    assert_eq!(sem.value(), 2);
}

/// `test_acquire_destroy`: a semaphore may be dropped with permits taken (also by a guard
/// that is never dropped).
fn acquire_destroy<S: TestSemaphore>() {
    let sem = S::default();
    sem.acquire();
    assert_eq!(sem.value(), 0);
    drop(sem);
    let sem = S::new(2);
    std::mem::forget(sem.guard());
    assert_eq!(sem.value(), 1);
    drop(sem);
}

/// `test_acquire_contended` and `test_multirelease`: 10 threads each acquire twice from a
/// semaphore of 7 with one permit taken. The test releases permits in phases, through
/// `release(sem, k)`, and checks that exactly one acquisition goes through per permit, in
/// the phase that released it. Between phases it waits until every thread that is not done
/// is parked with the value at 0, so no acquisition can still be on its way.
fn acquire_in_phases<S: TestSemaphore>(release: impl Fn(&S, usize)) {
    const SEM_VALUE: usize = 7;
    const NTHREAD: usize = 10;
    let sem = Arc::new(S::new(SEM_VALUE));
    sem.acquire();
    let phase = Arc::new(AtomicUsize::new(0));
    let acquired = Arc::new(Mutex::new(Vec::new()));
    let (s, p, a) = (Arc::clone(&sem), Arc::clone(&phase), Arc::clone(&acquired));
    let bunch = Bunch::start(NTHREAD, move || {
        for _ in 0..2 {
            s.acquire();
            a.lock().unwrap().push(p.load(Ordering::SeqCst));
        }
    });
    // Waits until `count` acquisitions happened and the others are parked; returns the
    // phases of the acquisitions, sorted.
    let settle = |count: usize| {
        wait_until(&format!("{count} acquisitions, the rest parked"), || {
            acquired.lock().unwrap().len() >= count
                && sem.queued_waiters() + bunch.finished() == NTHREAD
        });
        assert_eq!(sem.value(), 0, "permits left while threads wait");
        let mut phases = acquired.lock().unwrap().clone();
        phases.sort_unstable();
        phases
    };
    let expected = |counts: &[usize]| -> Vec<usize> {
        (0..counts.len())
            .flat_map(|phase| std::iter::repeat_n(phase, counts[phase]))
            .collect()
    };

    // Phase 0: the 6 free permits go.
    let count1 = SEM_VALUE - 1;
    assert_eq!(settle(count1), expected(&[count1]));
    // Releasing nothing lets nobody through.
    release(&sem, 0);
    assert_eq!(sem.value(), 0, "releasing 0 permits added some");
    assert_eq!(settle(count1), expected(&[count1]));

    // Phase 1.
    phase.store(1, Ordering::SeqCst);
    let count2 = SEM_VALUE;
    release(&sem, count2);
    assert_eq!(settle(count1 + count2), expected(&[count1, count2]));

    // Phase 2.
    phase.store(2, Ordering::SeqCst);
    let count3 = SEM_VALUE - 1;
    release(&sem, count3);
    assert_eq!(
        settle(count1 + count2 + count3),
        expected(&[count1, count2, count3])
    );
    // The semaphore is still locked, and one thread waits for its second permit.
    assert!(!sem.try_acquire());
    assert_eq!(sem.queued_waiters(), 1);
    assert_eq!(bunch.finished(), NTHREAD - 1);

    // Final release, to let the last thread finish.
    phase.store(3, Ordering::SeqCst);
    release(&sem, 1);
    bunch.join();
    let mut phases = acquired.lock().unwrap().clone();
    phases.sort_unstable();
    assert_eq!(phases, expected(&[count1, count2, count3, 1]));
    assert_eq!(sem.value(), 0);
    assert_eq!(sem.queued_waiters(), 0);
}

/// `test_acquire_contended`: permits released one `release` at a time.
fn acquire_contended<S: TestSemaphore>() {
    acquire_in_phases::<S>(|sem, k| {
        for _ in 0..k {
            assert_eq!(sem.release(), Ok(()));
        }
    });
}

/// `test_multirelease`: permits released by one `release_n(k)` per phase (and one
/// `release_n(0)`, which must do nothing).
fn multirelease<S: TestSemaphore>() {
    acquire_in_phases::<S>(|sem, k| assert_eq!(sem.release_n(k), Ok(())));
}

/// `test_try_acquire`: tries take the free permits, then fail without changing anything.
fn try_acquire<S: TestSemaphore>() {
    let sem = S::new(2);
    assert!(sem.try_acquire());
    assert!(sem.try_acquire());
    assert!(!sem.try_acquire());
    assert_eq!(sem.value(), 0, "a failed try changed the value");
    assert_eq!(sem.release(), Ok(()));
    assert!(sem.try_acquire());
    assert_eq!(sem.value(), 0);
}

/// `test_try_acquire_contended`: 5 threads try twice each for the 3 free permits; exactly 3
/// tries succeed, and none blocks (a blocked try would fail the bounded join).
fn try_acquire_contended<S: TestSemaphore>() {
    let sem = Arc::new(S::new(4));
    sem.acquire();
    let s = Arc::clone(&sem);
    let results = Bunch::start(5, move || [s.try_acquire(), s.try_acquire()]).join();
    let taken = results.iter().flatten().filter(|&&took| took).count();
    assert_eq!(
        taken, 3,
        "tries took {taken} of the 3 free permits: {results:?}"
    );
    assert_eq!(sem.value(), 0);
    assert_eq!(sem.queued_waiters(), 0);
}

/// `test_acquire_timeout` (plus `Duration::ZERO` and `Duration::MAX`).
fn acquire_timeout<S: TestSemaphore>() {
    let short = Duration::from_millis(5);
    let sem = S::new(2);
    assert!(sem.acquire_timeout(short));
    assert!(sem.acquire_timeout(short));
    assert!(!sem.acquire_timeout(short));
    assert_eq!(sem.value(), 0, "a failed timed acquire changed the value");
    assert_eq!(sem.release(), Ok(()));
    assert!(sem.acquire_timeout(short));
    let t1 = Instant::now();
    assert!(!sem.acquire_timeout(TIMEOUT));
    assert_timeout(t1.elapsed(), TIMEOUT);
    assert_eq!(sem.value(), 0, "a failed timed acquire changed the value");
    assert_eq!(sem.queued_waiters(), 0, "a timed-out waiter stayed queued");

    // ZERO is a try; MAX ("forever") is accepted and takes a free permit at once.
    assert!(!sem.acquire_timeout(Duration::ZERO));
    assert_eq!(sem.release(), Ok(()));
    assert!(sem.acquire_timeout(Duration::ZERO));
    assert_eq!(sem.release(), Ok(()));
    assert!(sem.acquire_timeout(Duration::MAX));
    assert_eq!(sem.value(), 0);
}

/// `test_default_value`: the default semaphore has one permit; a second acquirer blocks
/// until it is released.
fn default_value<S: TestSemaphore>() {
    let sem = Arc::new(S::default());
    sem.acquire();
    let s = Arc::clone(&sem);
    let bunch = Bunch::start(1, move || {
        s.acquire();
        s.release()
    });

    // Thread blocked on acquire.
    wait_for_queued(|| sem.queued_waiters(), 1);
    assert_eq!(bunch.finished(), 0, "acquired a second permit of 1");

    // Thread unblocked.
    assert_eq!(sem.release(), Ok(()));
    assert_eq!(bunch.join(), [Ok(())]);
    assert_eq!(sem.value(), 1);
    assert_eq!(sem.queued_waiters(), 0);
}

/// `test_with`: guards (`with sem:`) nest, and give their permit back on drop, also when
/// the block panics.
fn with<S: TestSemaphore>() {
    fn with_block<S: TestSemaphore>(sem: &S, raise: bool) {
        let _outer = sem.guard();
        assert_eq!(sem.value(), 1);
        assert!(sem.try_acquire());
        assert_eq!(sem.release(), Ok(()));
        let _inner = sem.guard();
        assert_eq!(sem.value(), 0);
        assert!(!sem.try_acquire());
        if raise {
            panic::panic_any(TypeError);
        }
    }

    let sem = S::new(2);
    with_block(&sem, false);
    assert_eq!(sem.value(), 2, "guards did not give their permits back");
    assert!(sem.try_acquire());
    assert_eq!(sem.release(), Ok(()));

    let raised = panic::catch_unwind(AssertUnwindSafe(|| with_block(&sem, true)));
    assert!(
        raised
            .expect_err("the with block did not raise")
            .is::<TypeError>(),
        "the with block raised something else"
    );
    assert_eq!(sem.value(), 2, "guards did not give back during the panic");
    assert!(sem.try_acquire());
    assert_eq!(sem.release(), Ok(()));
}

/// Extends `test_acquire_timeout` to a release racing a waiter's timeout: a timed waiter
/// at the head of the queue gives up just as one permit is released. Whether it gets the
/// permit or not, the permit is not lost: a blocked waiter behind it gets it if the timed
/// one did not, and the value ends where the count of permits says.
fn timeout_racing_release<S: TestSemaphore>() {
    for round in 0..40u32 {
        let sem = Arc::new(S::new(1));
        sem.acquire();
        let timeout = Duration::from_millis(5 + u64::from(round % 4));

        // The timed waiter queues first, so the release wakes it.
        let s = Arc::clone(&sem);
        let started = Instant::now();
        let timed = Bunch::start(1, move || s.acquire_timeout(timeout));
        let t = &timed;
        wait_until("the timed waiter parked or gave up", || {
            sem.queued_waiters() == 1 || t.finished() == 1
        });

        // A blocked waiter behind it.
        let s = Arc::clone(&sem);
        let blocked = Bunch::start(1, move || s.acquire());
        wait_until("the blocked waiter parked", || {
            sem.queued_waiters() == 2 - t.finished()
        });

        // Release around the moment the timed waiter gives up (a deliberate race, not a
        // handshake: the test holds whichever way it goes).
        let jitter = Duration::from_micros(250 * u64::from(round % 8));
        let release_at = started + timeout + jitter - Duration::from_millis(1);
        thread::sleep(release_at.saturating_duration_since(Instant::now()));
        assert_eq!(sem.release(), Ok(()));

        let [got] = timed.join()[..] else {
            unreachable!()
        };
        if got {
            // The timed waiter took the permit: the blocked one needs another.
            assert_eq!(sem.release(), Ok(()));
        }
        blocked.join(); // bounded: fails if the permit was lost
        assert_eq!(
            sem.value(),
            0,
            "round {round}: got {got}, permits miscounted"
        );
        assert_eq!(sem.queued_waiters(), 0, "round {round}: waiter left queued");
    }
}

/// The `#[test]`s of `BaseSemaphoreTests`, for the semaphore type `$sem`.
macro_rules! base_semaphore_tests {
    ($sem:ty) => {
        // test_constructor's negative values: skipped, a `usize` cannot be negative.
        /// Ports `test_constructor` (values 0, 1 by default, 3, `MAX_PERMITS`): SEM-1.
        #[test]
        fn test_constructor() {
            super::constructor::<$sem>();
        }

        /// Ports `test_acquire`: SEM-1, SEM-2.
        #[test]
        fn test_acquire() {
            super::acquire::<$sem>();
        }

        /// Ports `test_acquire_destroy`: SEM-1, SEM-6.
        #[test]
        fn test_acquire_destroy() {
            super::acquire_destroy::<$sem>();
        }

        /// Ports `test_acquire_contended` (exact counts per phase): SEM-1, SEM-2.
        #[test]
        fn test_acquire_contended() {
            super::acquire_contended::<$sem>();
        }

        /// Ports `test_multirelease` (plus `release_n(0)`): SEM-1, SEM-2.
        #[test]
        fn test_multirelease() {
            super::multirelease::<$sem>();
        }

        /// Ports `test_try_acquire`: SEM-1, SEM-3.
        #[test]
        fn test_try_acquire() {
            super::try_acquire::<$sem>();
        }

        /// Ports `test_try_acquire_contended`: SEM-1, SEM-3.
        #[test]
        fn test_try_acquire_contended() {
            super::try_acquire_contended::<$sem>();
        }

        // ValueError of acquire(False, timeout=1.0): skipped, no Rust call takes both.
        /// Ports `test_acquire_timeout` (plus `Duration::ZERO` and `MAX`): SEM-1, SEM-3.
        #[test]
        fn test_acquire_timeout() {
            super::acquire_timeout::<$sem>();
        }

        /// Ports `test_default_value`: SEM-1, SEM-2.
        #[test]
        fn test_default_value() {
            super::default_value::<$sem>();
        }

        /// Ports `test_with` (the exception case through `catch_unwind`): SEM-6.
        #[test]
        fn test_with() {
            super::with::<$sem>();
        }

        /// Extends `test_acquire_timeout` to a release racing a timed waiter: SEM-3, SEM-4.
        #[test]
        fn test_acquire_timeout_racing_release() {
            super::timeout_racing_release::<$sem>();
        }
    };
}

// ---------------------------------------------------------------------------------------
// SemaphoreTests

mod semaphore {
    use super::*;

    base_semaphore_tests!(Semaphore);

    /// Ports `SemaphoreTests.test_release_unacquired` (plus `release_n`): SEM-2.
    #[test]
    fn test_release_unacquired() {
        // Unbounded releases are allowed and increment the value.
        let sem = Semaphore::new(1);
        sem.release();
        assert_eq!(sem.value(), 2);
        sem.acquire();
        sem.acquire();
        assert_eq!(sem.value(), 0);
        sem.release();
        assert_eq!(sem.value(), 1);
        sem.release_n(3);
        assert_eq!(sem.value(), 4);
        sem.release_n(0);
        assert_eq!(sem.value(), 4, "release_n(0) changed the value");
        for _ in 0..4 {
            assert!(sem.try_acquire());
        }
        assert!(!sem.try_acquire());
    }
}

// ---------------------------------------------------------------------------------------
// BoundedSemaphoreTests

mod bounded_semaphore {
    use super::*;

    base_semaphore_tests!(BoundedSemaphore);

    /// Ports `BoundedSemaphoreTests.test_release_unacquired` (plus `release_n`): SEM-2, SEM-5.
    #[test]
    fn test_release_unacquired() {
        // Cannot go past the initial value.
        let sem = BoundedSemaphore::default();
        assert_eq!(sem.release(), Err(ReleaseError::TooManyReleases));
        assert_eq!(sem.value(), 1, "a refused release changed the value");
        sem.acquire();
        assert_eq!(sem.release(), Ok(()));
        assert_eq!(sem.release(), Err(ReleaseError::TooManyReleases));
        assert_eq!(sem.value(), 1, "a refused release changed the value");

        // release_n: all or nothing.
        let sem = BoundedSemaphore::new(3);
        sem.acquire();
        sem.acquire();
        assert_eq!(sem.release_n(3), Err(ReleaseError::TooManyReleases));
        assert_eq!(
            sem.value(),
            1,
            "a refused release_n added part of its permits"
        );
        assert_eq!(sem.release_n(0), Ok(()));
        assert_eq!(sem.value(), 1, "release_n(0) changed the value");
        assert_eq!(sem.release_n(2), Ok(()));
        assert_eq!(sem.value(), 3);
        assert_eq!(sem.release_n(0), Ok(()), "release_n(0) at the bound");
        assert_eq!(sem.release_n(1), Err(ReleaseError::TooManyReleases));
        assert_eq!(sem.value(), 3);
    }

    /// Extends `test_release_unacquired` to threads releasing at once: SEM-5.
    #[test]
    fn test_release_unacquired_concurrent() {
        const NTHREAD: usize = 8;
        // (initial value, permits taken, permits per release, releases that fit, end value)
        let cases = [(5, 3, 1, 3, 5), (6, 6, 2, 3, 6), (5, 3, 2, 1, 4)];
        for (initial, taken, n, fit, end) in cases {
            for round in 0..20 {
                let sem = Arc::new(BoundedSemaphore::new(initial));
                for _ in 0..taken {
                    sem.acquire();
                }
                let start = Arc::new(std::sync::Barrier::new(NTHREAD));
                let s = Arc::clone(&sem);
                let results = Bunch::start(NTHREAD, move || {
                    start.wait();
                    s.release_n(n)
                })
                .join();
                let ok = results.iter().filter(|r| r.is_ok()).count();
                let case = format!("BoundedSemaphore({initial}), {taken} taken, release_n({n})");
                assert_eq!(ok, fit, "{case}, round {round}: {results:?}");
                assert!(
                    results
                        .iter()
                        .all(|r| matches!(r, Ok(()) | Err(ReleaseError::TooManyReleases))),
                    "{case}: {results:?}"
                );
                assert_eq!(sem.value(), end, "{case}, round {round}");
            }
        }
    }

    // test_repr: skipped, Rust has no repr (Debug is not Python's repr).
}

/// SEM-5: a bounded release that could not even be counted (past `MAX_PERMITS`) is refused
/// like any release past the initial value, never an overflow panic.
#[test]
fn bounded_release_far_past_the_bound_is_refused() {
    let sem = locksmith::BoundedSemaphore::new(1);
    assert_eq!(
        sem.release_n(locksmith::MAX_PERMITS),
        Err(locksmith::ReleaseError::TooManyReleases)
    );
    assert_eq!(
        sem.release_n(usize::MAX),
        Err(locksmith::ReleaseError::TooManyReleases)
    );
    assert_eq!(sem.value(), 1);
}

/// SEM-2: an unbounded semaphore released past `MAX_PERMITS` panics with a clear message
/// and never wraps.
#[test]
#[should_panic(expected = "semaphore value would pass the maximum")]
fn unbounded_release_past_the_maximum_panics() {
    let sem = locksmith::Semaphore::new(locksmith::MAX_PERMITS);
    sem.release();
}
