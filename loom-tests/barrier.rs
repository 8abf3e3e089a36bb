//! loom models of `Barrier` (src/barrier.rs): BARRIER-1 .. BARRIER-5 in docs/barrier.md.
#![cfg(loom)]

mod common;

use common::{Protected, bounded, spawn_clock};
use locksmith::{Barrier, BrokenBarrierError};
use loom::sync::Arc;
use loom::thread;
use std::time::Duration;

/// A barrier whose action counts rounds in data only the action writes; parties read it
/// after passing, which races unless the action happens before every release.
fn counting_barrier(parties: usize) -> (Arc<Barrier>, Arc<Protected>) {
    let rounds = Arc::new(Protected::new());
    let in_action = rounds.clone();
    let barrier = Arc::new(Barrier::with_action(parties, move || in_action.increment()));
    (barrier, rounds)
}

/// BARRIER-1, BARRIER-2: two parties pass with distinct indices, and the action ran exactly
/// once, before either was released (reading its count afterwards is race-free).
#[test]
fn round_releases_both_after_the_action() {
    // 2 threads, bounded at 4 preemptions (a barrier model holds two queues: its lock's and
    // its own; unbounded it is out of reach of the suite's time budget).
    bounded(4, || {
        let (barrier, rounds) = counting_barrier(2);
        let other = {
            let (barrier, rounds) = (barrier.clone(), rounds.clone());
            thread::spawn(move || {
                let index = barrier.wait().unwrap();
                assert_eq!(rounds.get(), 1);
                index
            })
        };
        let mine = barrier.wait().unwrap();
        assert_eq!(rounds.get(), 1);
        let theirs = other.join().unwrap();
        assert_ne!(mine, theirs);
        assert!(mine < 2 && theirs < 2);
        assert_eq!(barrier.n_waiting(), 0);
    });
}

/// BARRIER-3: two rounds back to back. A thread of round two never slips into round one:
/// after its k-th pass a thread sees at least k actions, and the action runs exactly once
/// per round.
#[test]
fn rounds_do_not_mix() {
    // 2 threads, bounded at 3 preemptions.
    bounded(3, || {
        let (barrier, rounds) = counting_barrier(2);
        let other = {
            let (barrier, rounds) = (barrier.clone(), rounds.clone());
            thread::spawn(move || {
                for round in 1..=2 {
                    barrier.wait().unwrap();
                    assert!(rounds.get() >= round);
                }
            })
        };
        for round in 1..=2 {
            barrier.wait().unwrap();
            assert!(rounds.get() >= round);
        }
        other.join().unwrap();
        assert_eq!(rounds.get(), 2);
    });
}

/// BARRIER-4: one party's timeout racing the other's arrival. Both see the same outcome:
/// both pass (the round completed first) or both get BrokenBarrierError and the barrier
/// stays broken, broken already when the timed-out party returns; nobody is left waiting.
#[test]
fn timeout_breaks_the_round_for_everyone() {
    // 3 threads (main, timed party, clock): bounded at 3 preemptions.
    bounded(3, || {
        let barrier = Arc::new(Barrier::new(2));
        let timed = {
            let barrier = barrier.clone();
            thread::spawn(move || {
                let result = barrier.wait_timeout(Duration::from_secs(1));
                // A party that timed out broke the barrier before returning, whether or not
                // the other party has arrived yet.
                assert!(
                    result.is_ok() || barrier.broken(),
                    "timed out, barrier not broken"
                );
                result
            })
        };
        let clock = spawn_clock();
        let mine = barrier.wait();
        let theirs = timed.join().unwrap();
        clock.join().unwrap();
        assert_eq!(mine.is_ok(), theirs.is_ok(), "{mine:?} {theirs:?}");
        assert_eq!(barrier.broken(), mine.is_err());
        assert_eq!(barrier.n_waiting(), 0);
    });
}

/// BARRIER-5: abort racing a waiting party: it gets BrokenBarrierError whether it arrived
/// before or after; the barrier stays broken until reset, then works again.
#[test]
fn abort_breaks_until_reset() {
    bounded(4, || {
        let barrier = Arc::new(Barrier::new(2));
        let party = {
            let barrier = barrier.clone();
            thread::spawn(move || barrier.wait())
        };
        barrier.abort();
        assert_eq!(party.join().unwrap(), Err(BrokenBarrierError));
        assert!(barrier.broken());
        assert_eq!(barrier.wait(), Err(BrokenBarrierError));
        barrier.reset();
        assert!(!barrier.broken());
        assert_eq!(barrier.n_waiting(), 0);
    });
}

/// BARRIER-5: reset racing a waiting party: a party waiting when reset runs gets
/// BrokenBarrierError; one arriving after waits in a fresh round, which the abort that
/// follows ends. Either way it returns, and the barrier ends broken by that abort.
#[test]
fn reset_breaks_current_waiters() {
    bounded(4, || {
        let barrier = Arc::new(Barrier::new(2));
        let party = {
            let barrier = barrier.clone();
            thread::spawn(move || barrier.wait())
        };
        barrier.reset();
        barrier.abort();
        assert_eq!(party.join().unwrap(), Err(BrokenBarrierError));
        assert_eq!(barrier.n_waiting(), 0);
    });
}

/// BARRIER-4, BARRIER-5: a late party's timeout breaks only its own round. The timed party
/// waits alone in round one; its deadline passes and it leaves the queue, but before it takes
/// the barrier's lock again, `reset` ends round one and round two starts with two other
/// parties. When the late party gets the lock its round is over: breaking the barrier then
/// would fail round two, whose parties did nothing wrong.
#[test]
fn late_timeout_does_not_break_the_next_round() {
    // 4 threads (main, late party, clock, round-two partner): bounded at 2 preemptions.
    bounded(2, || {
        let barrier = Arc::new(Barrier::new(2));
        let late = {
            let barrier = barrier.clone();
            thread::spawn(move || barrier.wait_timeout(Duration::from_secs(1)))
        };
        let clock = spawn_clock();
        // The runs that matter: the late party is counted in round one when `reset` runs
        // (no one else can be: round two's parties have not started). In the others it
        // arrives later, alone, and its own timeout breaks its round.
        if barrier.n_waiting() == 1 {
            barrier.reset();
            let partner = {
                let barrier = barrier.clone();
                thread::spawn(move || barrier.wait())
            };
            let mine = barrier.wait();
            let theirs = partner.join().unwrap();
            assert!(
                mine.is_ok() && theirs.is_ok(),
                "round two broken by round one's late party: {mine:?} {theirs:?}"
            );
            assert_ne!(mine, theirs);
            assert!(!barrier.broken());
        }
        assert_eq!(late.join().unwrap(), Err(BrokenBarrierError));
        clock.join().unwrap();
        assert_eq!(barrier.n_waiting(), 0);
    });
}
