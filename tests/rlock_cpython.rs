#![cfg(not(loom))]
//! CPython 3.13's `Lib/test/lock_tests.py`, ported for [`RLock`]: `BaseLockTests` (shared
//! with `lock_cpython.rs`, in `common/base.rs`) and `RLockTests`.
//!
//! Invariant IDs: RLOCK-1 mutual exclusion between threads; RLOCK-2 the owner re-acquires
//! without blocking (count +1, also try/timed); RLOCK-3 only the owner may release:
//! non-owner gets `Err(NotOwner)`, unlocked gets `Err(NotLocked)`, nothing changes; RLOCK-4
//! at count 0 the owner is cleared, the lock is free and a waiter proceeds; RLOCK-5
//! `recursion_count` is the owner's count and 0 for every other thread, `is_owned` only for
//! the owner; RLOCK-6 timed acquire as LOCK-5/LOCK-7; RLOCK-7 guards release one level on
//! drop, also during a panic.
//!
//! Not ported, because it cannot exist in Rust: `test_repr` and `test_locked_repr` (no
//! `repr`), `test_weakref_exists` and `test_weakref_deleted` (no weak references to an
//! `RLock`), `test_release_save_unacquired` (no `_release_save`: that is Condition's
//! internal protocol, not part of the RLock API).

mod common;

use std::panic::{self, AssertUnwindSafe};
use std::sync::Arc;
use std::sync::mpsc;
use std::time::Duration;

use common::base::{self, TypeError};
use common::{Bunch, SHORT_TIMEOUT, wait_for_waiters};
use locksmith::{RLock, ReleaseError};

// ---------------------------------------------------------------------------------------
// BaseLockTests

/// Ports `test_constructor` (also `const`, in a `static`): RLOCK-3, RLOCK-5.
#[test]
fn test_constructor() {
    base::constructor::<RLock>();
    static LOCK: RLock = RLock::new();
    assert!(!LOCK.locked());
    assert!(!LOCK.is_owned());
    assert_eq!(LOCK.recursion_count(), 0);
}

// test_repr, test_locked_repr: skipped, Rust has no repr (Debug is not Python's repr).

/// Ports `test_acquire_destroy`: RLOCK-1.
#[test]
fn test_acquire_destroy() {
    base::acquire_destroy::<RLock>();
}

/// Ports `test_acquire_release`: RLOCK-3, RLOCK-4.
#[test]
fn test_acquire_release() {
    base::acquire_release::<RLock>();
}

/// Ports `test_try_acquire`: RLOCK-1, RLOCK-4.
#[test]
fn test_try_acquire() {
    base::try_acquire::<RLock>();
}

/// Ports `test_try_acquire_contended`: RLOCK-1.
#[test]
fn test_try_acquire_contended() {
    base::try_acquire_contended::<RLock>();
}

/// Ports `test_acquire_contended`: RLOCK-1, RLOCK-4.
#[test]
fn test_acquire_contended() {
    base::acquire_contended::<RLock>();
}

/// Ports `test_with` (exception case via `catch_unwind`, plus nested guards): RLOCK-7.
#[test]
fn test_with() {
    base::with::<RLock>();

    // Nested guards release one level each, also while unwinding.
    let lock = RLock::new();
    {
        let _outer = lock.lock();
        {
            let _inner = lock.lock();
            assert_eq!(lock.recursion_count(), 2);
        }
        assert_eq!(lock.recursion_count(), 1);
        let raised = panic::catch_unwind(AssertUnwindSafe(|| {
            let _inner = lock.try_lock().expect("the owner's try_lock");
            assert_eq!(lock.recursion_count(), 2);
            panic::panic_any(TypeError);
        }));
        assert!(
            raised
                .expect_err("the with block did not raise")
                .is::<TypeError>()
        );
        assert_eq!(
            lock.recursion_count(),
            1,
            "a panic released too many levels"
        );
        assert!(lock.is_owned());
    }
    assert!(!lock.locked());
    let raised = panic::catch_unwind(AssertUnwindSafe(|| {
        let _outer = lock.lock();
        let _inner = lock
            .lock_timeout(Duration::ZERO)
            .expect("the owner's lock_timeout");
        panic::panic_any(TypeError);
    }));
    assert!(raised.is_err());
    assert_eq!(lock.recursion_count(), 0);
    assert!(!lock.locked(), "a panic did not release every level");
}

/// Ports `test_thread_leak`: RLOCK-1, RLOCK-4.
#[test]
fn test_thread_leak() {
    base::thread_leak::<RLock>();
}

/// Ports `test_timeout` (invalid timeouts mapped to `Duration::ZERO` and `MAX`): RLOCK-6.
#[test]
fn test_timeout() {
    base::timeout::<RLock>();
}

/// Extends `test_state_after_timeout` (a `LockTests` case) to a release racing a waiter's
/// timeout, for the RLock's non-owners: RLOCK-6.
#[test]
fn test_state_after_timeout_racing_release() {
    base::timeout_racing_release::<RLock>();
}

// test_weakref_exists, test_weakref_deleted: skipped, Rust has no weak references to an RLock.

// ---------------------------------------------------------------------------------------
// RLockTests

/// Ports `test_reacquire` (plus try/timed re-entry, and a waiter let in only at count 0):
/// RLOCK-2, RLOCK-4.
#[test]
fn test_reacquire() {
    let lock = RLock::new();
    lock.acquire();
    lock.acquire();
    assert_eq!(lock.recursion_count(), 2);
    assert_eq!(lock.release(), Ok(()));
    lock.acquire();
    assert_eq!(lock.recursion_count(), 2);
    assert_eq!(lock.release(), Ok(()));
    assert_eq!(lock.release(), Ok(()));
    assert!(!lock.locked());

    // The owner's try and timed acquires re-enter at once, whatever the timeout. (A held
    // RLock of another thread would make the timed ones wait; the owner never does.)
    lock.acquire();
    assert!(lock.try_acquire());
    assert!(lock.acquire_timeout(Duration::ZERO));
    assert!(lock.acquire_timeout(Duration::MAX));
    assert_eq!(lock.recursion_count(), 4);

    // A waiter gets in only when the count reaches 0.
    let lock = Arc::new(lock);
    let l = Arc::clone(&lock);
    let waiter = Bunch::start(1, move || {
        l.acquire();
        let count = l.recursion_count();
        l.release().unwrap();
        count
    });
    wait_for_waiters(&*lock, 1);
    for left in (1..4).rev() {
        assert_eq!(lock.release(), Ok(()));
        assert_eq!(lock.recursion_count(), left);
        assert!(lock.is_owned());
    }
    assert_eq!(
        waiter.finished(),
        0,
        "a waiter got in while the count was not 0"
    );
    assert_eq!(lock.release(), Ok(()));
    assert!(!lock.is_owned());
    assert_eq!(waiter.join(), [1]);
    assert!(!lock.locked());
}

/// Ports `test_release_unacquired`: RLOCK-3.
#[test]
fn test_release_unacquired() {
    let lock = RLock::new();
    assert_eq!(lock.release(), Err(ReleaseError::NotLocked));
    assert!(!lock.locked());
    assert_eq!(lock.recursion_count(), 0);
    lock.acquire();
    lock.acquire();
    assert_eq!(lock.release(), Ok(()));
    lock.acquire();
    assert_eq!(lock.release(), Ok(()));
    assert_eq!(lock.release(), Ok(()));
    assert_eq!(lock.release(), Err(ReleaseError::NotLocked));
    assert!(!lock.locked(), "a refused release changed the lock");
    assert_eq!(lock.recursion_count(), 0);
    assert!(
        lock.try_acquire(),
        "a refused release left the lock unusable"
    );
    assert_eq!(lock.recursion_count(), 1);
    assert_eq!(lock.release(), Ok(()));
}

// test_release_save_unacquired: skipped, `_release_save` is Condition's internal protocol,
// not part of the RLock API.

/// Ports `test_recursion_count`: RLOCK-5.
#[test]
fn test_recursion_count() {
    let lock = Arc::new(RLock::new());
    assert_eq!(lock.recursion_count(), 0);
    lock.acquire();
    assert_eq!(lock.recursion_count(), 1);
    lock.acquire();
    lock.acquire();
    assert_eq!(lock.recursion_count(), 3);
    assert_eq!(lock.release(), Ok(()));
    assert_eq!(lock.recursion_count(), 2);
    assert_eq!(lock.release(), Ok(()));
    assert_eq!(lock.release(), Ok(()));
    assert_eq!(lock.recursion_count(), 0);

    let (phase_tx, phase) = mpsc::channel();
    let (go_tx, go) = mpsc::channel::<()>();
    let go = std::sync::Mutex::new(go);
    let l = Arc::clone(&lock);
    let bunch = Bunch::start(1, move || {
        l.acquire();
        phase_tx.send(l.recursion_count()).unwrap();
        go.lock().unwrap().recv_timeout(SHORT_TIMEOUT).unwrap();
        l.release().unwrap();
        phase_tx.send(l.recursion_count()).unwrap();
    });

    // The thread owns the lock: its count is 1, ours is 0.
    let theirs = phase
        .recv_timeout(SHORT_TIMEOUT)
        .expect("the thread's acquire");
    assert_eq!(theirs, 1);
    assert!(lock.locked());
    assert_eq!(lock.recursion_count(), 0);
    assert!(!lock.is_owned());

    // The thread releases.
    go_tx.send(()).unwrap();
    let theirs = phase
        .recv_timeout(SHORT_TIMEOUT)
        .expect("the thread's release");
    assert_eq!(theirs, 0);
    bunch.join();
    assert_eq!(lock.recursion_count(), 0);
    assert!(!lock.locked());
}

/// Ports `test_different_thread`: RLOCK-3.
#[test]
fn test_different_thread() {
    let lock = Arc::new(RLock::new());
    let l = Arc::clone(&lock);
    // The thread acquires and stays alive, owning the lock, until do_finish.
    let bunch = Bunch::start_held(1, move || {
        l.acquire();
        l.acquire();
    });
    bunch.wait_for_finished();
    assert_eq!(lock.release(), Err(ReleaseError::NotOwner));
    // Nothing changed: still held by the thread, not by us.
    assert!(lock.locked());
    assert!(!lock.is_owned());
    assert_eq!(lock.recursion_count(), 0);
    assert!(!lock.try_acquire());
    bunch.do_finish();
    bunch.join();
    // The owner exited without releasing: the lock stays held, as in CPython.
    assert_eq!(lock.release(), Err(ReleaseError::NotOwner));
    assert!(!lock.try_acquire());
}

/// Ports `test__is_owned`: RLOCK-5.
#[test]
fn test_is_owned() {
    let lock = Arc::new(RLock::new());
    assert!(!lock.is_owned());
    lock.acquire();
    assert!(lock.is_owned());
    lock.acquire();
    assert!(lock.is_owned());
    let l = Arc::clone(&lock);
    let results = Bunch::start(1, move || (l.is_owned(), l.recursion_count())).join();
    assert_eq!(results, [(false, 0)]);
    assert_eq!(lock.release(), Ok(()));
    assert!(lock.is_owned());
    assert_eq!(lock.release(), Ok(()));
    assert!(!lock.is_owned());
}
