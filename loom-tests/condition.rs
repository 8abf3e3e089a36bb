//! loom models of `Condition` (src/condition.rs): COND-1 .. COND-5 in docs/condition.md.
//!
//! Every model here is bounded, the 2-thread ones included (at 5 preemptions; the 3-thread
//! one at 3), except the one whose only other thread is the clock: a condition model holds
//! two wait queues (the lock's and the condition's) and each thread may wake spuriously.
//! Unbounded, the 2-thread handshake did not finish in 60 s here; bounded, it took 0.04 s at
//! 3, 0.17 s at 4, 0.77 s at 5 and 2.6 s at 6.
#![cfg(loom)]

mod common;

use common::{Arrivals, Protected, bounded, exhaustive, spawn_clock};
use locksmith::{Condition, ConditionLock, Lock, RLock, ReleaseError};
use loom::sync::Arc;
use loom::thread;
use std::time::Duration;

/// COND-1: the classic handshake over `lock`: the waiter waits until the data says ready,
/// the notifier makes it ready and notifies, both under the lock. A notification lost
/// between the waiter's release and its park deadlocks; touching the data without the lock
/// is a race loom reports.
fn handshake<L: ConditionLock + Send + Sync + 'static>(lock: L) {
    let shared = Arc::new((Condition::with_lock(lock), Protected::new()));
    let waiter = {
        let shared = shared.clone();
        thread::spawn(move || {
            let (cond, ready) = &*shared;
            cond.acquire();
            while ready.get() == 0 {
                cond.wait().unwrap();
                assert!(cond.lock().is_held(), "wait returned without the lock");
            }
            cond.release().unwrap();
        })
    };
    let (cond, ready) = &*shared;
    cond.acquire();
    ready.increment();
    cond.notify().unwrap();
    cond.release().unwrap();
    waiter.join().unwrap();
    assert_eq!(cond.queued_waiters(), 0);
}

/// COND-1 over a Lock.
#[test]
fn handshake_over_lock() {
    bounded(5, || handshake(Lock::new()));
}

/// COND-1 over an RLock.
#[test]
fn handshake_over_rlock() {
    bounded(5, || handshake(RLock::new()));
}

/// COND-2: waiting on an RLock held twice releases both levels (else the notifier could
/// never get in: a deadlock) and restores exactly two.
#[test]
fn wait_releases_every_rlock_level_and_restores_them() {
    bounded(5, || {
        let shared = Arc::new((Condition::new(), Protected::new()));
        let waiter = {
            let shared = shared.clone();
            thread::spawn(move || {
                let (cond, ready) = &*shared;
                cond.acquire();
                cond.acquire();
                while ready.get() == 0 {
                    cond.wait().unwrap();
                }
                assert_eq!(cond.lock().recursion_count(), 2);
                cond.release().unwrap();
                cond.release().unwrap();
                assert!(!cond.lock().locked());
            })
        };
        let (cond, ready) = &*shared;
        cond.acquire();
        ready.increment();
        cond.notify_all().unwrap();
        cond.release().unwrap();
        waiter.join().unwrap();
    });
}

/// COND-3: wait_timeout racing a notify and the clock: whichever wins, the waiter returns
/// holding the lock, nobody is left queued, and `Ok(true)` only ever means "notified".
#[test]
fn wait_timeout_racing_notify() {
    // 3 threads (main, waiter, clock): bounded at 3 preemptions.
    bounded(3, || {
        let shared = Arc::new((Condition::with_lock(Lock::new()), Protected::new()));
        let waiter = {
            let shared = shared.clone();
            thread::spawn(move || {
                let (cond, notified) = &*shared;
                cond.acquire();
                let woken = cond.wait_timeout(Duration::from_secs(1)).unwrap();
                assert!(cond.lock().locked(), "returned without the lock");
                // Read under the lock: a notification that woke us was counted first.
                assert!(!woken || notified.get() == 1, "Ok(true) without a notify");
                cond.release().unwrap();
            })
        };
        let clock = spawn_clock();
        let (cond, notified) = &*shared;
        cond.acquire();
        notified.increment();
        cond.notify().unwrap();
        cond.release().unwrap();
        waiter.join().unwrap();
        clock.join().unwrap();
        assert_eq!(cond.queued_waiters(), 0);
        assert!(!cond.lock().locked());
    });
}

/// COND-1 with a waiter leaving on timeout: a timed waiter that unlinks itself must not hide
/// the waiter queued behind it from a later `notify_all` (which skips the wait core's lock
/// when its lock-free "anyone queued" hint says no). A hint cleared while a waiter remains
/// leaves the untimed waiter parked: a deadlock.
#[test]
fn timed_waiter_leaving_keeps_the_next_one_notifiable() {
    // 3 threads (main, two waiters; main is also the clock): bounded at 2 preemptions. With
    // a clock thread of its own and 3 preemptions the model took 555 s here; without it, 44 s
    // at 3 and 0.6 s at 2, which still catches a hint cleared while a waiter remains.
    bounded(2, || {
        let shared = Arc::new((Condition::with_lock(Lock::new()), Protected::new()));
        let timed = {
            let shared = shared.clone();
            thread::spawn(move || {
                let (cond, _) = &*shared;
                cond.acquire();
                let _ = cond.wait_timeout(Duration::from_secs(1)).unwrap();
                cond.release().unwrap();
            })
        };
        let untimed = {
            let shared = shared.clone();
            thread::spawn(move || {
                let (cond, ready) = &*shared;
                cond.acquire();
                while ready.get() == 0 {
                    cond.wait().unwrap();
                }
                cond.release().unwrap();
            })
        };
        let (cond, ready) = &*shared;
        // The clock fires first; loom still runs the timed waiter's link before it in some
        // executions, so the waiter leaves the queue while the other may be behind it.
        locksmith::__internals::model::expire_timeouts();
        cond.acquire();
        ready.increment();
        cond.notify_all().unwrap();
        cond.release().unwrap();
        untimed.join().unwrap();
        timed.join().unwrap();
        assert_eq!(cond.queued_waiters(), 0);
    });
}

/// COND-1, COND-3: a notify that nobody heard is gone; a condition keeps no credit for the
/// next waiter (Python's Condition wakes only threads already waiting). A timed wait after
/// it, with nobody to notify again, must time out: `Ok(false)`. A kept notification would
/// end the wait at once with `Ok(true)`.
#[test]
fn unheard_notify_is_not_kept_for_a_timed_wait() {
    // 2 threads (main, clock): exhaustive.
    exhaustive(|| {
        let cond = Condition::with_lock(Lock::new());
        let clock = spawn_clock();
        cond.acquire();
        cond.notify().unwrap();
        cond.notify_all().unwrap();
        assert_eq!(
            cond.wait_timeout(Duration::from_secs(1)),
            Ok(false),
            "a notify sent before anyone waited woke a later wait"
        );
        assert!(cond.lock().locked());
        cond.release().unwrap();
        clock.join().unwrap();
        assert_eq!(cond.queued_waiters(), 0);
    });
}

/// COND-1: as above for an untimed wait: after an unheard notify, a waiter returns only
/// when notified again, and then it sees what the second notifier wrote (a kept
/// notification would let it return before, reading the data unset).
#[test]
fn unheard_notify_is_not_kept_for_an_untimed_wait() {
    // 2 threads (main, waiter), bounded at 3 preemptions: 0.4 s here (at 5, over a Condition's
    // default RLock, 42 s); the kept notification fails the first execution.
    bounded(3, || {
        let shared = Arc::new((
            Condition::with_lock(Lock::new()),
            Protected::new(),
            Arrivals::new(),
        ));
        let (cond, ready, waiting) = &*shared;
        cond.acquire();
        cond.notify().unwrap();
        cond.release().unwrap();
        let waiter = {
            let shared = shared.clone();
            thread::spawn(move || {
                let (cond, ready, waiting) = &*shared;
                cond.acquire();
                // Under the lock, which the wait below releases only once queued: a notifier
                // who takes the lock after this finds the waiter queued.
                waiting.arrive();
                cond.wait().unwrap();
                assert_eq!(ready.get(), 1, "woken by the notify nobody heard");
                cond.release().unwrap();
            })
        };
        waiting.wait_for(1);
        cond.acquire();
        ready.increment();
        cond.notify().unwrap();
        cond.release().unwrap();
        waiter.join().unwrap();
        assert_eq!(cond.queued_waiters(), 0);
    });
}

/// COND-4: wait and notify without the lock fail and change nothing: the lock stays free
/// (or held by its owner), and nobody is woken.
#[test]
fn unheld_wait_and_notify_are_refused() {
    bounded(5, || {
        let cond = Arc::new(Condition::new());
        let owner = {
            let cond = cond.clone();
            thread::spawn(move || {
                cond.acquire();
                assert_eq!(cond.wait_timeout(Duration::ZERO), Ok(false));
                assert_eq!(cond.lock().recursion_count(), 1);
                cond.release().unwrap();
            })
        };
        let refused = cond.notify();
        assert!(
            refused == Err(ReleaseError::NotOwner) || refused == Err(ReleaseError::NotLocked),
            "{refused:?}"
        );
        assert!(cond.wait().is_err());
        owner.join().unwrap();
        assert!(!cond.lock().locked());
    });
}

/// COND-5: two conditions share one lock (as Python's queue.Queue shares its mutex between
/// `not_empty` and `not_full`). A notify on the other condition must leave this condition's
/// waiter parked (it is still queued right after it), and `notify_n(0)` wakes nobody; the
/// waiter's `wait_for` returns the predicate's last value, true, once its own condition is
/// notified. A notify that crossed conditions shows as an empty queue; one that was lost
/// deadlocks.
#[test]
fn conditions_sharing_a_lock_wake_only_their_own() {
    // 2 threads, bounded at 5 preemptions like the other 2-thread condition models.
    bounded(5, || {
        // A std Arc: the crate implements ConditionLock for it (loom's Arc is only the
        // models' way to share the whole tuple).
        let lock = std::sync::Arc::new(Lock::new());
        let shared = Arc::new((
            Condition::with_lock(std::sync::Arc::clone(&lock)),
            Condition::with_lock(lock),
            Protected::new(), // the waiter has taken the lock (and so is queued or done)
            Protected::new(), // the notifier has made the predicate true
        ));
        let waiter = {
            let shared = shared.clone();
            thread::spawn(move || {
                let (mine, _other, started, ready) = &*shared;
                mine.acquire();
                started.increment();
                let last = mine.wait_for(|| ready.get() == 1, None).unwrap();
                assert!(last, "wait_for returned an earlier value of the predicate");
                mine.release().unwrap();
            })
        };
        let (mine, other, started, ready) = &*shared;
        mine.acquire();
        if started.get() == 1 {
            // The waiter took the lock first and released it only by waiting: it is queued.
            other.notify_all().unwrap();
            mine.notify_n(0).unwrap();
            assert_eq!(
                mine.queued_waiters(),
                1,
                "a notify woke another condition's waiter"
            );
        }
        ready.increment();
        mine.notify().unwrap();
        mine.release().unwrap();
        waiter.join().unwrap();
        assert_eq!(mine.queued_waiters(), 0);
    });
}
