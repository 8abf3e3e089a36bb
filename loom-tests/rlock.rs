//! loom models of `RLock` (src/rlock.rs): RLOCK-1 .. RLOCK-6 in docs/rlock.md.
#![cfg(loom)]

mod common;

use common::{Protected, bounded, exhaustive, spawn_clock};
use locksmith::{RLock, ReleaseError};
use loom::sync::Arc;
use loom::thread;
use std::time::Duration;

/// RLOCK-1, RLOCK-2, RLOCK-4, RLOCK-7: two threads each enter twice through guards (the second re-entrant) and
/// touch the data at both depths. A thread let in while the other still owns it at depth 1
/// would race on the data; a lost hand-over at count 0 would deadlock.
#[test]
fn reentry_excludes_other_threads() {
    exhaustive(|| {
        let shared = Arc::new((RLock::new(), Protected::new()));
        let enter_twice = |shared: &(RLock, Protected)| {
            let (rlock, data) = shared;
            let _outer = rlock.lock();
            data.increment();
            {
                let _inner = rlock.lock();
                assert_eq!(rlock.recursion_count(), 2);
                data.increment();
            }
            assert_eq!(rlock.recursion_count(), 1);
            data.increment();
        };
        let other = {
            let shared = shared.clone();
            thread::spawn(move || enter_twice(&shared))
        };
        enter_twice(&shared);
        other.join().unwrap();
        let (rlock, data) = &*shared;
        assert_eq!(data.get(), 6);
        assert!(!rlock.locked());
        assert_eq!(rlock.recursion_count(), 0);
        assert_eq!(rlock.queued_waiters(), 0);
    });
}

/// RLOCK-3, RLOCK-5: another thread's release is refused whatever the timing (NotOwner
/// while held, NotLocked before or after) and changes nothing: the owner's count survives
/// and the other thread never sees itself as owner.
#[test]
fn non_owner_release_changes_nothing() {
    exhaustive(|| {
        let rlock = Arc::new(RLock::new());
        let intruder = {
            let rlock = rlock.clone();
            thread::spawn(move || {
                let refused = rlock.release();
                assert!(!rlock.is_owned());
                assert_eq!(rlock.recursion_count(), 0);
                refused
            })
        };
        rlock.acquire();
        rlock.acquire();
        let refused = intruder.join().unwrap();
        assert!(
            refused == Err(ReleaseError::NotOwner) || refused == Err(ReleaseError::NotLocked),
            "a non-owner's release was accepted: {refused:?}"
        );
        assert_eq!(rlock.recursion_count(), 2);
        rlock.release().unwrap();
        rlock.release().unwrap();
        assert!(!rlock.locked());
    });
}

/// RLOCK-4, RLOCK-6: a timed acquire racing the owner's last release and the clock. If it
/// succeeds the waiter owns the RLock at count 1 alone; if not it owns nothing; either way
/// the RLock ends free with nobody queued.
#[test]
fn timeout_racing_last_release() {
    // 3 threads (main, waiter, clock): bounded at 3 preemptions.
    bounded(3, || {
        let shared = Arc::new((RLock::new(), Protected::new()));
        shared.0.acquire();
        shared.0.acquire();
        let waiter = {
            let shared = shared.clone();
            thread::spawn(move || {
                let took = shared.0.acquire_timeout(Duration::from_secs(1));
                assert_eq!(shared.0.is_owned(), took);
                assert_eq!(shared.0.recursion_count(), usize::from(took));
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
        shared.1.increment(); // still owned at depth 1: nobody else may be in
        shared.0.release().unwrap();
        let took = waiter.join().unwrap();
        clock.join().unwrap();
        assert_eq!(shared.1.get(), 2 + usize::from(took));
        assert!(!shared.0.locked());
        assert_eq!(shared.0.queued_waiters(), 0);
    });
}

/// RLOCK-4, RLOCK-5: after its last release the former owner owns nothing: `is_owned` is
/// false, its count is 0, and its next acquire waits its turn behind the other thread like
/// anyone's. An owner id left in place at count 0 would let it "re-enter" without the inner
/// lock while the other thread holds it (a race on the data, which loom reports).
#[test]
fn full_release_clears_the_owner() {
    // 2 threads, bounded at 3 preemptions: exhaustive, the main thread's three acquisitions
    // took over 6 minutes here.
    bounded(3, || {
        let shared = Arc::new((RLock::new(), Protected::new()));
        let other = {
            let shared = shared.clone();
            thread::spawn(move || {
                let _held = shared.0.lock();
                assert!(shared.0.is_owned());
                shared.1.increment();
            })
        };
        let (rlock, data) = &*shared;
        {
            let _outer = rlock.lock();
            let _inner = rlock.lock();
            data.increment();
        }
        assert!(!rlock.is_owned(), "the owner was not cleared at count 0");
        assert_eq!(rlock.recursion_count(), 0);
        {
            let _again = rlock.lock();
            assert_eq!(rlock.recursion_count(), 1);
            data.increment();
        }
        other.join().unwrap();
        assert_eq!(data.get(), 3);
        assert!(!rlock.locked());
        assert_eq!(rlock.queued_waiters(), 0);
    });
}
