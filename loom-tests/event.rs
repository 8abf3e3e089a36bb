//! loom models of `Event` (src/event.rs): EVENT-1 .. EVENT-4 in docs/event.md.
#![cfg(loom)]

mod common;

use common::{Protected, bounded, exhaustive, spawn_clock};
use locksmith::Event;
use loom::sync::Arc;
use loom::thread;
use std::time::Duration;

/// EVENT-1: a waiter racing `set` returns, and sees what the setter wrote before setting
/// (a lost wake-up deadlocks; a missing Release/Acquire is a data race loom reports).
#[test]
fn set_wakes_the_waiter_and_publishes() {
    exhaustive(|| {
        let shared = Arc::new((Event::new(), Protected::new()));
        let waiter = {
            let shared = shared.clone();
            thread::spawn(move || {
                shared.0.wait();
                assert_eq!(shared.1.get(), 1);
            })
        };
        shared.1.increment();
        shared.0.set();
        waiter.join().unwrap();
        assert_eq!(shared.0.queued_waiters(), 0);
    });
}

/// EVENT-1: one `set` wakes every waiter.
#[test]
fn set_wakes_every_waiter() {
    // 3 threads (main + 2 waiters): bounded at 3 preemptions.
    bounded(3, || {
        let event = Arc::new(Event::new());
        let waiters: Vec<_> = (0..2)
            .map(|_| {
                let event = event.clone();
                thread::spawn(move || event.wait())
            })
            .collect();
        event.set();
        for waiter in waiters {
            waiter.join().unwrap();
        }
        assert_eq!(event.queued_waiters(), 0);
    });
}

/// EVENT-2, EVENT-4: `set` then `clear` at once. A waiter that was queued when `set` ran
/// returns true although the flag is clear again by the time it runs (a waiter that
/// re-checked the flag would park again for good: loom reports the deadlock). The timed
/// wait has no clock here, so it never times out; if the waiter came too late for the first
/// `set`, a second one lets it finish.
#[test]
fn waiter_woken_by_set_returns_true_after_clear() {
    exhaustive(|| {
        let event = Arc::new(Event::new());
        let waiter = {
            let event = event.clone();
            thread::spawn(move || event.wait_timeout(Duration::from_secs(1)))
        };
        let was_queued = event.queued_waiters() == 1;
        event.set();
        event.clear();
        assert!(!event.is_set());
        if !was_queued {
            event.set();
        }
        assert!(waiter.join().unwrap());
    });
}

/// EVENT-3: wait_timeout racing `set` and the clock: whichever wins, the waiter leaves the
/// queue (a timed-out waiter left queued fails here) and the flag stays set.
#[test]
fn wait_timeout_racing_set() {
    // 3 threads (main, waiter, clock): bounded at 3 preemptions.
    bounded(3, || {
        let event = Arc::new(Event::new());
        let waiter = {
            let event = event.clone();
            thread::spawn(move || event.wait_timeout(Duration::from_secs(1)))
        };
        let clock = spawn_clock();
        event.set();
        let _ = waiter.join().unwrap();
        clock.join().unwrap();
        assert!(event.is_set());
        assert_eq!(event.queued_waiters(), 0);
    });
}

/// EVENT-4: a wait that begins after `clear` is not satisfied by a `set` that ran before
/// that `clear`. `set` raises the flag and then wakes the queue; a `clear` and a new wait
/// can slip in between, and that late wake-up must not make the new wait return true. So
/// a late wait that returns true implies the flag is still set at the end (the `set` came
/// after the `clear`, and nobody cleared again).
#[test]
fn stale_wake_does_not_satisfy_a_later_wait() {
    // 4 threads (main, early waiter, late waiter, clock): bounded at 2 preemptions.
    bounded(2, || {
        let event = Arc::new(Event::new());
        let early = {
            let event = event.clone();
            thread::spawn(move || event.wait_timeout(Duration::from_secs(1)))
        };
        let late = {
            let event = event.clone();
            thread::spawn(move || {
                event.clear();
                event.wait_timeout(Duration::from_secs(1))
            })
        };
        let clock = spawn_clock();
        event.set();
        let _ = early.join().unwrap();
        let late = late.join().unwrap();
        clock.join().unwrap();
        assert!(
            !late || event.is_set(),
            "a wait that began after clear returned true with no set since"
        );
        assert_eq!(event.queued_waiters(), 0);
    });
}
