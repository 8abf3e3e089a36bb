#![cfg(not(loom))]
//! CPython 3.13's `Lib/test/lock_tests.py`, ported for [`Lock`]: `BaseLockTests` (shared
//! with `rlock_cpython.rs`, in `common/base.rs`) and `LockTests`.
//!
//! Invariant IDs: LOCK-1 mutual exclusion; LOCK-2 any thread may release, releasing an
//! unlocked Lock is `Err(NotLocked)` and changes nothing; LOCK-3 not re-entrant; LOCK-4
//! `try_acquire` never blocks, true iff it took the lock; LOCK-5 a failed timed acquire waits
//! about its timeout and leaves the lock as it was, any `Duration` accepted; LOCK-6 no lost
//! wake-up; LOCK-7 a timed-out waiter leaves the queue, a wake racing its timeout is not
//! lost; LOCK-8 guards release on drop, also during a panic.
//!
//! Not ported, because it cannot exist in Rust: `test_repr` and `test_locked_repr` (no
//! `repr`), `test_weakref_exists` and `test_weakref_deleted` (no weak references to a
//! `Lock`), `test_at_fork_reinit` (no `_at_fork_reinit`).

mod common;

use std::sync::Arc;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use common::base::{self, TIMEOUT};
use common::{Bunch, SHORT_TIMEOUT, assert_timeout, wait_for_waiters};
use locksmith::{Lock, ReleaseError};

// ---------------------------------------------------------------------------------------
// BaseLockTests

/// Ports `test_constructor` (also `const`, in a `static`): LOCK-2.
#[test]
fn test_constructor() {
    base::constructor::<Lock>();
    static LOCK: Lock = Lock::new();
    assert!(!LOCK.locked());
    assert!(LOCK.try_acquire());
    assert_eq!(LOCK.release(), Ok(()));
}

// test_repr, test_locked_repr: skipped, Rust has no repr (Debug is not Python's repr).

/// Ports `test_acquire_destroy`: LOCK-1.
#[test]
fn test_acquire_destroy() {
    base::acquire_destroy::<Lock>();
}

/// Ports `test_acquire_release`: LOCK-1, LOCK-2.
#[test]
fn test_acquire_release() {
    base::acquire_release::<Lock>();
}

/// Ports `test_try_acquire`: LOCK-4.
#[test]
fn test_try_acquire() {
    base::try_acquire::<Lock>();
}

/// Ports `test_try_acquire_contended`: LOCK-1, LOCK-4.
#[test]
fn test_try_acquire_contended() {
    base::try_acquire_contended::<Lock>();
}

/// Ports `test_acquire_contended`: LOCK-1, LOCK-6.
#[test]
fn test_acquire_contended() {
    base::acquire_contended::<Lock>();
}

/// Ports `test_with` (the exception case through `catch_unwind`): LOCK-8.
#[test]
fn test_with() {
    base::with::<Lock>();
}

/// Ports `test_thread_leak`: LOCK-1, LOCK-6.
#[test]
fn test_thread_leak() {
    base::thread_leak::<Lock>();
}

/// Ports `test_timeout` (invalid timeouts mapped to `Duration::ZERO` and `MAX`): LOCK-4, LOCK-5, LOCK-7.
#[test]
fn test_timeout() {
    base::timeout::<Lock>();
}

// test_weakref_exists, test_weakref_deleted: skipped, Rust has no weak references to a Lock.

// ---------------------------------------------------------------------------------------
// LockTests

/// Ports `test_reacquire`: LOCK-3, LOCK-2 (another thread releases), LOCK-6.
#[test]
fn test_reacquire() {
    let lock = Arc::new(Lock::new());
    let (phase_tx, phase) = mpsc::channel();
    let l = Arc::clone(&lock);
    let bunch = Bunch::start(1, move || {
        l.acquire();
        // The holder cannot re-enter: tries fail...
        let tried = l.try_acquire();
        let timed = l.acquire_timeout(Duration::from_millis(10));
        phase_tx.send((tried, timed)).unwrap();
        // ...and acquire blocks until another thread releases.
        l.acquire();
        phase_tx.send((true, true)).unwrap();
    });

    // Thread blocked on its second acquire.
    let first = phase.recv_timeout(SHORT_TIMEOUT).expect("first acquire");
    assert_eq!(first, (false, false), "the holder re-acquired a Lock");
    wait_for_waiters(&*lock, 1);
    assert!(
        phase.try_recv().is_err(),
        "the second acquire did not block"
    );

    // Thread unblocked.
    assert_eq!(lock.release(), Ok(()));
    phase.recv_timeout(SHORT_TIMEOUT).expect("second acquire");
    bunch.join();
    assert!(
        lock.locked(),
        "the thread's second acquire does not hold the lock"
    );
    assert_eq!(lock.release(), Ok(()));
}

/// Ports `test_different_thread` (also a guard dropped on another thread): LOCK-2, LOCK-8.
#[test]
fn test_different_thread() {
    let lock = Arc::new(Lock::new());
    lock.acquire();
    let l = Arc::clone(&lock);
    let results = Bunch::start(1, move || (l.release(), l.release())).join();
    // The first release works from another thread; the second finds it unlocked.
    assert_eq!(results, [(Ok(()), Err(ReleaseError::NotLocked))]);
    assert!(!lock.locked());
    lock.acquire();
    assert_eq!(lock.release(), Ok(()));

    // A guard (LockGuard is Send) released by the thread it was sent to.
    std::thread::scope(|s| {
        let guard = lock.lock();
        s.spawn(move || drop(guard)).join().unwrap();
        assert!(!lock.locked());
    });
}

/// Ports `test_state_after_timeout` (bpo-11618): LOCK-3, LOCK-5, LOCK-7.
#[test]
fn test_state_after_timeout() {
    let lock = Lock::new();
    lock.acquire();
    let t1 = Instant::now();
    assert!(!lock.acquire_timeout(TIMEOUT));
    assert_timeout(t1.elapsed(), TIMEOUT);
    assert!(lock.locked());
    assert_eq!(lock.queued_waiters(), 0);
    assert_eq!(lock.release(), Ok(()));
    assert!(!lock.locked());
    assert!(lock.try_acquire());
    assert_eq!(lock.release(), Ok(()));
}

/// Extends `test_state_after_timeout` to a release racing a waiter's timeout: LOCK-6, LOCK-7.
#[test]
fn test_state_after_timeout_racing_release() {
    base::timeout_racing_release::<Lock>();
}

// test_at_fork_reinit: skipped, Rust has no fork-time `_at_fork_reinit` hook.
