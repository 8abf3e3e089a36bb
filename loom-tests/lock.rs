//! loom models of `Lock` (src/lock.rs): LOCK-1 .. LOCK-7 in docs/lock.md.
#![cfg(loom)]

mod common;

use common::{Arrivals, Protected, bounded, exhaustive, spawn_clock};
use locksmith::{Lock, ReleaseError};
use loom::sync::Arc;
use loom::thread;
use std::time::Duration;

/// LOCK-1, LOCK-6, LOCK-8: two threads increment data under the lock, released by guards. A second holder would race
/// on the data (loom reports it); a lost wake-up leaves one parked forever (loom reports a
/// deadlock). Afterwards the lock is free and nobody is queued.
#[test]
fn lock_excludes_and_wakes() {
    exhaustive(|| {
        let shared = Arc::new((Lock::new(), Protected::new()));
        let other = {
            let shared = shared.clone();
            thread::spawn(move || {
                let _held = shared.0.lock();
                shared.1.increment();
            })
        };
        {
            let _held = shared.0.lock();
            shared.1.increment();
        }
        other.join().unwrap();
        let (lock, data) = &*shared;
        assert_eq!(data.get(), 2);
        assert!(!lock.locked());
        assert_eq!(lock.queued_waiters(), 0);
    });
}

/// LOCK-2: a thread that never acquired the lock releases it, and the acquirer blocked
/// behind it gets in. A second release of the same acquisition is refused and changes
/// nothing.
#[test]
fn release_by_another_thread() {
    exhaustive(|| {
        let lock = Arc::new(Lock::new());
        lock.acquire();
        let releaser = {
            let lock = lock.clone();
            thread::spawn(move || lock.release())
        };
        lock.acquire(); // blocks until the other thread's release
        assert_eq!(releaser.join().unwrap(), Ok(()));
        assert!(lock.locked());
        assert_eq!(lock.release(), Ok(()));
        assert_eq!(lock.release(), Err(ReleaseError::NotLocked));
        assert!(!lock.locked());
        assert!(
            lock.try_acquire(),
            "a refused release left the lock unusable"
        );
    });
}

/// LOCK-3, LOCK-4: try_acquire racing a holder's release never blocks, and succeeds exactly
/// when it took the lock (a success while held would race on the data).
#[test]
fn try_acquire_racing_release() {
    exhaustive(|| {
        let shared = Arc::new((Lock::new(), Protected::new()));
        shared.0.acquire();
        assert!(!shared.0.try_acquire(), "a Lock is not re-entrant");
        let trier = {
            let shared = shared.clone();
            thread::spawn(move || {
                let took = shared.0.try_acquire();
                if took {
                    shared.1.increment();
                    shared.0.release().unwrap();
                }
                took
            })
        };
        shared.1.increment();
        shared.0.release().unwrap();
        let took = trier.join().unwrap();
        assert_eq!(shared.1.get(), 1 + usize::from(took));
        assert!(!shared.0.locked());
    });
}

/// LOCK-5, LOCK-7: a timed acquire racing the holder's release and the model's clock.
/// Whatever wins, the waiter holds the lock exactly when it says so, the lock ends free,
/// and no waiter is left queued.
#[test]
fn timeout_racing_release() {
    // 3 threads (main, waiter, clock): bounded at 3 preemptions.
    bounded(3, || {
        let shared = Arc::new((Lock::new(), Protected::new()));
        shared.0.acquire();
        let waiter = {
            let shared = shared.clone();
            thread::spawn(move || {
                let took = shared.0.acquire_timeout(Duration::from_secs(1));
                if took {
                    shared.1.increment();
                    shared.0.release().unwrap();
                }
                took
            })
        };
        let clock = spawn_clock();
        shared.1.increment();
        shared.0.release().unwrap();
        let took = waiter.join().unwrap();
        clock.join().unwrap();
        assert_eq!(shared.1.get(), 1 + usize::from(took));
        assert!(!shared.0.locked(), "a timed-out waiter holds the lock");
        assert_eq!(
            shared.0.queued_waiters(),
            0,
            "a timed-out waiter was left queued"
        );
    });
}

/// LOCK-6, LOCK-7: the lost-permit bug. A timed waiter and an untimed one queue behind the
/// holder; the release's single wake-up may go to the timed waiter just as it times out.
/// If that waiter dropped the wake-up, the untimed one would sleep forever (a deadlock
/// loom reports).
#[test]
fn timeout_does_not_swallow_the_wakeup() {
    // 4 threads (main, timed waiter, untimed waiter, clock): bounded at 2 preemptions.
    bounded(2, || {
        let lock = Arc::new(Lock::new());
        lock.acquire();
        let timed = {
            let lock = lock.clone();
            thread::spawn(move || {
                if lock.acquire_timeout(Duration::from_secs(1)) {
                    lock.release().unwrap();
                }
            })
        };
        let untimed = {
            let lock = lock.clone();
            thread::spawn(move || {
                lock.acquire();
                lock.release().unwrap();
            })
        };
        let clock = spawn_clock();
        lock.release().unwrap();
        timed.join().unwrap();
        untimed.join().unwrap();
        clock.join().unwrap();
        assert!(!lock.locked());
        assert_eq!(lock.queued_waiters(), 0);
    });
}

/// LOCK-1, LOCK-6: three contenders, each in and out once. With three, an earlier release's
/// wake-up can still be under way when the next holder releases: it clears PARKED (its
/// waiter was the last) after the holder's one-step release failed on PARKED, and the waiter
/// it woke finds the lock held, re-sets PARKED and parks. A release that read PARKED in a
/// step of its own before clearing LOCKED (a stale read) wakes nobody then, and the parked
/// contender sleeps forever (loom reports the deadlock). Two contenders cannot reach that
/// schedule, and three need 3 preemptions.
#[test]
fn three_contenders_all_get_in() {
    // 3 threads (main and two contenders): bounded at 3 preemptions.
    bounded(3, || {
        let shared = Arc::new((Lock::new(), Protected::new()));
        let contenders: Vec<_> = (0..2)
            .map(|_| {
                let shared = shared.clone();
                thread::spawn(move || {
                    let _held = shared.0.lock();
                    shared.1.increment();
                })
            })
            .collect();
        {
            let _held = shared.0.lock();
            shared.1.increment();
        }
        for contender in contenders {
            contender.join().unwrap();
        }
        let (lock, data) = &*shared;
        assert_eq!(data.get(), 3);
        assert!(!lock.locked());
        assert_eq!(lock.queued_waiters(), 0);
    });
}

/// LOCK-4, LOCK-5, LOCK-8: `try_lock` and `lock_timeout` against a lock another thread
/// holds. Each fails with `None` and leaves the holder's lock held: a guard built before the
/// outcome was known (`then_some(LockGuard { .. })`) would be dropped on failure and release
/// the holder's lock, which the holder's own release then finds unlocked.
#[test]
fn failed_guard_attempts_leave_the_holders_lock_alone() {
    // 3 threads (main, trier, clock): bounded at 3 preemptions.
    bounded(3, || {
        let shared = Arc::new((Lock::new(), Protected::new(), Arrivals::new()));
        shared.0.acquire();
        let trier = {
            let shared = shared.clone();
            thread::spawn(move || {
                let (lock, data, tried) = &*shared;
                assert!(lock.try_lock().is_none());
                assert!(
                    lock.locked(),
                    "a failed try_lock released the holder's lock"
                );
                assert!(lock.lock_timeout(Duration::from_secs(1)).is_none());
                assert!(
                    lock.locked(),
                    "a failed lock_timeout released the holder's lock"
                );
                tried.arrive();
                // Once the holder lets go, a guard works as usual.
                let _held = lock.lock();
                data.increment();
            })
        };
        let clock = spawn_clock();
        // The holder's critical section: the trier's failed attempts must not open it.
        shared.1.increment();
        // Release only after both attempts failed (the timed one ends by the clock alone).
        shared.2.wait_for(1);
        assert_eq!(
            shared.0.release(),
            Ok(()),
            "the holder's lock was released behind its back"
        );
        trier.join().unwrap();
        clock.join().unwrap();
        assert_eq!(shared.1.get(), 2);
        assert!(!shared.0.locked());
    });
}
