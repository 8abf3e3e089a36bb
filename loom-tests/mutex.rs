//! loom models of `Mutex<T>` (src/mutex.rs): the Lock as a lock_api raw mutex, with the data
//! inside. Needs the `lock_api` feature (`--all-features`).
#![cfg(all(loom, feature = "lock_api"))]

mod common;

use common::{Protected, bounded, exhaustive, spawn_clock};
use locksmith::{Lock, Mutex};
use loom::sync::Arc;
use loom::thread;
use std::time::Duration;

/// A mutex over loom-tracked data: loom's own `Mutex::new` needs a `const` Lock, which the
/// loom build lacks, so models build it from a raw Lock.
fn mutex() -> Mutex<Protected> {
    Mutex::from_raw(Lock::new(), Protected::new())
}

/// LOCK-1, LOCK-6: two threads update the data through `lock()` guards. If the raw lock let
/// both in, loom would report the race on the data; a lost wake-up would deadlock.
#[test]
fn mutex_guards_exclude_each_other() {
    exhaustive(|| {
        let shared = Arc::new(mutex());
        let other = {
            let shared = shared.clone();
            thread::spawn(move || shared.lock().increment())
        };
        shared.lock().increment();
        other.join().unwrap();
        assert_eq!(shared.lock().get(), 2);
        assert!(!shared.is_locked());
    });
}

/// LOCK-2: a Lock has no owner, so a guard is `Send`: taken on one thread (an owned
/// `lock_arc` guard), it is dropped on another, and the lock is free again.
#[test]
fn mutex_guard_dropped_on_another_thread_releases() {
    exhaustive(|| {
        // std's Arc: `lock_arc` takes one. loom's Arc would only add a leak check.
        let shared = std::sync::Arc::new(mutex());
        let taker = {
            let shared = shared.clone();
            thread::spawn(move || {
                let guard = shared.lock_arc();
                guard.increment();
                guard
            })
        };
        let guard = taker.join().unwrap();
        assert!(shared.try_lock().is_none());
        drop(guard);
        assert_eq!(shared.lock().get(), 1);
    });
}

/// LOCK-5, LOCK-7: `try_lock_for` racing the holder's unlock and the clock either gets the
/// data (and then alone) or gives up with the lock untouched; the holder's unlock is never
/// lost to a waiter that timed out.
#[test]
fn mutex_try_lock_for_racing_unlock_and_clock() {
    // 3 threads (main, trier, clock): bounded at 3 preemptions (34 s exhaustive, for no more
    // coverage of the raw lock than loom-tests/lock.rs already has).
    bounded(3, || {
        let shared = Arc::new(mutex());
        let held = shared.lock();
        let trier = {
            let shared = shared.clone();
            thread::spawn(move || match shared.try_lock_for(Duration::from_secs(1)) {
                Some(guard) => {
                    guard.increment();
                    true
                }
                None => false,
            })
        };
        let clock = spawn_clock();
        held.increment();
        drop(held);
        let took = trier.join().unwrap();
        clock.join().unwrap();
        let guard = shared.try_lock().expect("nobody holds the mutex any more");
        assert_eq!(guard.get(), if took { 2 } else { 1 });
    });
}
