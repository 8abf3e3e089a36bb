//! CPython's `BaseLockTests` (`Lib/test/lock_tests.py`), written once for any [`TestLock`].
//!
//! Each function is the body of one CPython test; `lock_cpython.rs` and `rlock_cpython.rs`
//! run it for `Lock` and `RLock` from a `#[test]` that names the invariants it checks there.
//! Only what every lock shares is used here: every thread that acquires releases its own
//! acquisition, so the bodies hold for an owned RLock as well as for a Lock.

use std::panic::{self, AssertUnwindSafe};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::thread;
use std::time::{Duration, Instant};

use locksmith::ReleaseError;

use super::{Bunch, SHORT_TIMEOUT, TestLock, assert_timeout, wait_for_waiters};

/// CPython's `N`: how many threads contend in `test_acquire_contended`.
const N: usize = 5;

/// The timeout of a timed acquire that must fail.
pub const TIMEOUT: Duration = Duration::from_millis(50);

/// What the body of a `with` block raises in `test_with` (CPython raises `TypeError`).
#[derive(Debug)]
pub struct TypeError;

/// A critical section that fails the test if two threads are ever inside it at once.
#[derive(Default)]
struct Section {
    inside: AtomicUsize,
    entries: AtomicUsize,
}

impl Section {
    /// Call with the lock held.
    fn enter(&self) {
        let others = self.inside.fetch_add(1, Ordering::SeqCst);
        assert_eq!(others, 0, "two threads held the lock at once");
        thread::yield_now();
        self.inside.fetch_sub(1, Ordering::SeqCst);
        self.entries.fetch_add(1, Ordering::SeqCst);
    }

    fn entries(&self) -> usize {
        self.entries.load(Ordering::SeqCst)
    }
}

/// `nthread` threads each acquire, pass through `section`, and release; waits for them all.
fn acquire_release_from_threads<L: TestLock>(lock: &Arc<L>, section: &Arc<Section>, n: usize) {
    let (lock, section) = (Arc::clone(lock), Arc::clone(section));
    Bunch::start(n, move || {
        lock.acquire();
        section.enter();
        lock.release().unwrap();
    })
    .join();
}

/// Polls `done` every millisecond until it holds or [`SHORT_TIMEOUT`] passes; returns it.
fn poll_until(done: impl Fn() -> bool) -> bool {
    let deadline = Instant::now() + SHORT_TIMEOUT;
    while !done() && Instant::now() < deadline {
        thread::sleep(Duration::from_millis(1));
    }
    done()
}

/// `test_constructor`: a new lock is unlocked, nobody waits on it, and dropping it is fine.
pub fn constructor<L: TestLock>() {
    let lock = L::default();
    assert!(!lock.locked());
    assert_eq!(lock.queued_waiters(), 0);
    assert_eq!(lock.release(), Err(ReleaseError::NotLocked));
    assert!(!lock.locked());
    drop(lock);
}

/// `test_acquire_destroy`: a lock may be dropped while held; locks are independent.
pub fn acquire_destroy<L: TestLock>() {
    let lock = L::default();
    lock.acquire();
    assert!(lock.locked());
    let other = L::default();
    assert!(!other.locked(), "holding one lock affected another");
    assert!(other.try_acquire());
    drop(lock);
    drop(other);

    // The same through a guard that is never dropped.
    let lock = L::default();
    std::mem::forget(lock.lock());
    assert!(lock.locked());
    drop(lock);
}

/// `test_acquire_release`: acquire then release; a second release is refused.
pub fn acquire_release<L: TestLock>() {
    let lock = L::default();
    lock.acquire();
    assert!(lock.locked());
    assert_eq!(lock.release(), Ok(()));
    assert!(!lock.locked());
    assert_eq!(lock.release(), Err(ReleaseError::NotLocked));
    assert!(!lock.locked(), "a refused release changed the lock");
    assert!(
        lock.try_acquire(),
        "a refused release left the lock unusable"
    );
    assert_eq!(lock.release(), Ok(()));
}

/// `test_try_acquire`: a try on a free lock takes it.
pub fn try_acquire<L: TestLock>() {
    let lock = L::default();
    assert!(lock.try_acquire());
    assert!(lock.locked());
    assert_eq!(lock.release(), Ok(()));
    assert!(!lock.locked());
}

/// `test_try_acquire_contended`: a try on a lock held by another thread fails at once.
pub fn try_acquire_contended<L: TestLock>() {
    let lock = Arc::new(L::default());
    lock.acquire();
    let l = Arc::clone(&lock);
    // If a try blocked, it would block until the release below, which comes only after
    // `join`: the bounded join fails the test instead.
    let results = Bunch::start(1, move || (l.try_acquire(), l.try_lock().is_some())).join();
    assert_eq!(results, [(false, false)]);
    assert!(lock.locked(), "a failed try changed the lock");
    assert_eq!(lock.release(), Ok(()));
    assert!(!lock.locked());
}

/// `test_acquire_contended`: N threads block on a held lock; one release lets all through,
/// one at a time.
pub fn acquire_contended<L: TestLock>() {
    let lock = Arc::new(L::default());
    let section = Arc::new(Section::default());
    lock.acquire();
    let (l, s) = (Arc::clone(&lock), Arc::clone(&section));
    let bunch = Bunch::start(N, move || {
        l.acquire();
        s.enter();
        l.release().unwrap();
    });
    // Threads block on acquire.
    wait_for_waiters(&*lock, N);
    assert_eq!(bunch.finished(), 0);
    assert_eq!(section.entries(), 0);

    // Threads unblocked.
    assert_eq!(lock.release(), Ok(()));
    bunch.join();
    assert_eq!(section.entries(), N);
    assert!(!lock.locked());
    assert_eq!(lock.queued_waiters(), 0);
}

/// `test_with`: a guard (`with lock:`) releases on drop, also when its block panics.
pub fn with<L: TestLock>() {
    let lock = Arc::new(L::default());
    let section = Arc::new(Section::default());

    // Acquire the lock, do nothing, the guard releases it.
    {
        let _guard = lock.lock();
        assert!(lock.locked());
    }
    assert!(!lock.locked());
    // Another thread can take it (it would block, and fail the bounded join, if not).
    acquire_release_from_threads(&lock, &section, 1);

    // Acquire the lock, panic, the guard releases it while unwinding.
    let raised = panic::catch_unwind(AssertUnwindSafe(|| {
        let _guard = lock.lock();
        assert!(lock.locked());
        panic::panic_any(TypeError);
    }));
    let payload = raised.expect_err("the with block did not raise");
    assert!(
        payload.is::<TypeError>(),
        "the with block raised something else"
    );
    assert!(!lock.locked(), "the guard did not release during the panic");
    acquire_release_from_threads(&lock, &section, 1);

    // The guards of try_lock and lock_timeout do the same.
    {
        let guard = lock.try_lock();
        assert!(guard.is_some());
        assert!(lock.locked());
    }
    assert!(!lock.locked());
    let raised = panic::catch_unwind(AssertUnwindSafe(|| {
        let _guard = lock
            .lock_timeout(TIMEOUT)
            .expect("lock_timeout on a free lock");
        assert!(lock.locked());
        panic::panic_any(TypeError);
    }));
    assert!(
        raised
            .expect_err("the with block did not raise")
            .is::<TypeError>()
    );
    assert!(!lock.locked(), "the guard did not release during the panic");
    acquire_release_from_threads(&lock, &section, 1);
    assert_eq!(section.entries(), 3);
}

/// `test_thread_leak`: many short-lived threads use the lock in turn, and leave it free.
pub fn thread_leak<L: TestLock>() {
    let lock = Arc::new(L::default());
    let section = Arc::new(Section::default());
    acquire_release_from_threads(&lock, &section, 15);
    assert_eq!(section.entries(), 15);
    assert!(!lock.locked());
    assert_eq!(lock.queued_waiters(), 0);
    assert!(lock.try_acquire());
    assert_eq!(lock.release(), Ok(()));
}

/// `test_timeout`. CPython's invalid timeouts (negative, too large for the clock) cannot be
/// written as a `Duration` or are valid there: `Duration::ZERO` is a non-blocking try and
/// any larger timeout, up to `Duration::MAX`, is accepted ("forever" if too large).
pub fn timeout<L: TestLock>() {
    let lock = Arc::new(L::default());

    // ZERO on a free lock: a try, which takes it.
    assert!(lock.acquire_timeout(Duration::ZERO));
    assert!(lock.locked());
    assert_eq!(lock.release(), Ok(()));

    // Timeouts too large for the clock are accepted, like CPython's TIMEOUT_MAX.
    for huge in [
        Duration::MAX,
        Duration::from_secs(u64::MAX),
        Duration::from_secs(100 * 365 * 24 * 3600),
    ] {
        assert!(lock.acquire_timeout(huge), "{huge:?} on a free lock");
        assert!(lock.locked());
        assert_eq!(lock.release(), Ok(()));
    }

    // A free lock is taken at once, not after the timeout.
    let t1 = Instant::now();
    assert!(lock.acquire_timeout(Duration::from_secs(5)));
    assert!(t1.elapsed() < Duration::from_secs(5));

    // Held: another thread's ZERO try fails without blocking, and its timed acquire fails
    // after about the timeout.
    let l = Arc::clone(&lock);
    let results = Bunch::start(1, move || {
        let zero = l.acquire_timeout(Duration::ZERO);
        let t1 = Instant::now();
        let timed = l.acquire_timeout(TIMEOUT);
        let waited = t1.elapsed();
        let t2 = Instant::now();
        let guarded = l.lock_timeout(TIMEOUT).is_some();
        (zero, timed, waited, guarded, t2.elapsed())
    })
    .join();
    let (zero, timed, waited, guarded, guard_waited) = results[0];
    assert!(!zero, "ZERO took a held lock");
    assert!(!timed, "a timed acquire took a held lock");
    assert_timeout(waited, TIMEOUT);
    assert!(!guarded, "lock_timeout took a held lock");
    assert_timeout(guard_waited, TIMEOUT);
    // The failed attempts left the lock as it was, and the waiter left the queue.
    assert!(lock.locked(), "a failed timed attempt changed the lock");
    assert_eq!(lock.queued_waiters(), 0);

    // Duration::MAX on a held lock waits ("forever") until the lock is released.
    let l = Arc::clone(&lock);
    let forever = Bunch::start(1, move || {
        let got = l.acquire_timeout(Duration::MAX);
        if got {
            l.release().unwrap();
        }
        got
    });
    wait_for_waiters(&*lock, 1);
    assert_eq!(forever.finished(), 0);
    assert_eq!(lock.release(), Ok(()));
    assert_eq!(forever.join(), [true]);
    assert!(!lock.locked());
    assert_eq!(lock.queued_waiters(), 0);
}

/// Extends `test_state_after_timeout` (bpo-11618) to a release racing a timeout: a timed
/// waiter at the head of the queue gives up just as the lock is released. Whether it gets
/// the lock or not, the wake-up must not be lost (a blocked waiter behind it still gets the
/// lock) and the lock and queue must end clean.
pub fn timeout_racing_release<L: TestLock>() {
    for round in 0..40u32 {
        let lock = Arc::new(L::default());
        lock.acquire();
        let timeout = Duration::from_millis(5 + u64::from(round % 4));

        // The timed waiter queues first, so the release wakes it.
        let l = Arc::clone(&lock);
        let started = Instant::now();
        let timed = Bunch::start(1, move || {
            let got = l.acquire_timeout(timeout);
            if got {
                l.release().unwrap();
            }
            got
        });
        poll_until(|| lock.queued_waiters() == 1 || timed.finished() == 1);

        // A blocked waiter behind it.
        let l = Arc::clone(&lock);
        let blocked = Bunch::start(1, move || {
            l.acquire();
            l.release().unwrap();
        });
        poll_until(|| lock.queued_waiters() == 2 || timed.finished() == 1);

        // Release around the moment the timed waiter gives up (a deliberate race, not a
        // handshake: the test holds whichever way it goes).
        let jitter = Duration::from_micros(250 * u64::from(round % 8));
        let release_at = started + timeout + jitter - Duration::from_millis(1);
        thread::sleep(release_at.saturating_duration_since(Instant::now()));
        assert_eq!(lock.release(), Ok(()));

        timed.join();
        blocked.join(); // bounded: fails if the wake-up was lost
        assert!(!lock.locked(), "round {round}: lock left held");
        assert_eq!(
            lock.queued_waiters(),
            0,
            "round {round}: waiter left queued"
        );
    }
}
