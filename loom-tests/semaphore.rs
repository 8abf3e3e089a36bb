//! loom models of `Semaphore` and `BoundedSemaphore` (src/semaphore.rs): SEM-1 .. SEM-6 in
//! docs/semaphore.md.
#![cfg(loom)]

mod common;

use common::{Protected, bounded, exhaustive, spawn_clock};
use locksmith::{BoundedSemaphore, ReleaseError, Semaphore};
use loom::sync::Arc;
use loom::thread;
use std::time::Duration;

/// SEM-1, SEM-2, SEM-6: one permit, two threads entering through guards. Two holders at
/// once would race on the data; a release that woke nobody would deadlock. The permit is
/// back at the end.
#[test]
fn one_permit_excludes_and_wakes() {
    exhaustive(|| {
        let shared = Arc::new((Semaphore::new(1), Protected::new()));
        let other = {
            let shared = shared.clone();
            thread::spawn(move || {
                let _permit = shared.0.guard();
                shared.1.increment();
            })
        };
        {
            let _permit = shared.0.guard();
            shared.1.increment();
        }
        other.join().unwrap();
        assert_eq!(shared.1.get(), 2);
        assert_eq!(shared.0.value(), 1);
        assert_eq!(shared.0.queued_waiters(), 0);
    });
}

/// SEM-2: release_n(2) lets two blocked acquirers through (waking only one would leave the
/// other parked on a free permit: a deadlock loom reports).
#[test]
fn release_n_wakes_up_to_n() {
    // 3 threads (main + 2 acquirers): bounded at 3 preemptions.
    bounded(3, || {
        let sem = Arc::new(Semaphore::new(0));
        let acquirers: Vec<_> = (0..2)
            .map(|_| {
                let sem = sem.clone();
                thread::spawn(move || sem.acquire())
            })
            .collect();
        sem.release_n(2);
        for acquirer in acquirers {
            acquirer.join().unwrap();
        }
        assert_eq!(sem.value(), 0);
        assert_eq!(sem.queued_waiters(), 0);
    });
}

/// SEM-3, SEM-4: a timed acquire racing a release and the clock. The permit is conserved:
/// the waiter has it or the value does, never both, never neither; nobody is left queued.
#[test]
fn timeout_racing_release_conserves_the_permit() {
    // 3 threads (main, waiter, clock): bounded at 3 preemptions.
    bounded(3, || {
        let sem = Arc::new(Semaphore::new(0));
        let waiter = {
            let sem = sem.clone();
            thread::spawn(move || sem.acquire_timeout(Duration::from_secs(1)))
        };
        let clock = spawn_clock();
        sem.release();
        let took = waiter.join().unwrap();
        clock.join().unwrap();
        assert_eq!(
            usize::from(took) + sem.value(),
            1,
            "a permit was lost or made up"
        );
        assert_eq!(sem.queued_waiters(), 0);
    });
}

/// SEM-4: the lost-permit bug. A timed and an untimed acquirer wait for the one permit
/// released; its wake-up may go to the timed one just as it times out. If that wake-up were
/// dropped, the untimed one would sleep beside a free permit forever (loom reports the
/// deadlock). A timed acquirer that gets the permit hands it on.
#[test]
fn timeout_does_not_strand_a_permit() {
    // 4 threads (main, timed, untimed, clock): bounded at 2 preemptions.
    bounded(2, || {
        let sem = Arc::new(Semaphore::new(0));
        let timed = {
            let sem = sem.clone();
            thread::spawn(move || {
                if sem.acquire_timeout(Duration::from_secs(1)) {
                    sem.release();
                }
            })
        };
        let untimed = {
            let sem = sem.clone();
            thread::spawn(move || sem.acquire())
        };
        let clock = spawn_clock();
        sem.release();
        timed.join().unwrap();
        untimed.join().unwrap();
        clock.join().unwrap();
        assert_eq!(sem.value(), 0);
        assert_eq!(sem.queued_waiters(), 0);
    });
}

/// SEM-5: two threads release a bounded semaphore that has room for one: exactly one is
/// refused, and the value ends at the bound, never above.
#[test]
fn bounded_refuses_the_release_past_the_initial_value() {
    exhaustive(|| {
        let sem = Arc::new(BoundedSemaphore::new(1));
        sem.acquire();
        let other = {
            let sem = sem.clone();
            thread::spawn(move || sem.release())
        };
        let mine = sem.release();
        let theirs = other.join().unwrap();
        let refused = [mine, theirs]
            .iter()
            .filter(|r| **r == Err(ReleaseError::TooManyReleases))
            .count();
        assert_eq!(refused, 1, "{mine:?} {theirs:?}");
        assert_eq!(sem.value(), 1);
    });
}
