#![cfg(not(loom))]
//! CPython 3.13's `Lib/test/lock_tests.py`, ported for [`Event`]: `EventTests`.
//!
//! Invariant IDs: EVENT-1 once set, every current waiter and every later wait returns true
//! until `clear`; EVENT-2 a waiter woken by `set` returns true even if `clear` ran before it
//! woke; EVENT-3 `wait_timeout` returns false only when it timed out with the flag clear,
//! and waits at least most of its timeout; EVENT-4 `clear` makes later waits block,
//! `is_set` reflects `set` and `clear`.
//!
//! Python's `evt.wait()` returns a bool; Rust's `wait` returns `()`. Each test that waits
//! runs twice, once with `wait` (returning at all is Python's `True`) and once with
//! `wait_timeout` (a bool, as in Python).
//!
//! Not ported, because it cannot exist in Rust: `test_repr` (no `repr`) and
//! `test_at_fork_reinit` (no `_at_fork_reinit`).

// The lock-only helpers of `common` (`base`, `TestLock`) are not used here.
#[allow(dead_code)]
mod common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use common::base::TIMEOUT;
use common::{Bunch, assert_timeout, wait_for_queued};
use locksmith::Event;

/// CPython's `N`: how many threads wait at once.
const N: usize = 5;

/// A timeout that does not expire in a passing run (CPython's `LONG_TIMEOUT`), kept below
/// the `Bunch`'s bound so that a waiter that is never woken reports `false` instead of
/// failing the join.
const LONG: Duration = Duration::from_secs(5);

/// How a thread waits: Python's `evt.wait()` or `evt.wait(timeout)`.
#[derive(Clone, Copy, Debug)]
enum Wait {
    /// `wait()`: true once it returns.
    Blocking,
    /// `wait_timeout(LONG)`: its own result.
    Timed,
}

impl Wait {
    const BOTH: [Wait; 2] = [Wait::Blocking, Wait::Timed];

    /// Waits on `event`; returns what Python's `wait` would.
    fn wait(self, event: &Event) -> bool {
        match self {
            Wait::Blocking => {
                event.wait();
                true
            }
            Wait::Timed => event.wait_timeout(LONG),
        }
    }
}

/// Ports `test_is_set`: EVENT-4.
#[test]
fn test_is_set() {
    let event = Event::new();
    assert!(!event.is_set());
    event.set();
    assert!(event.is_set());
    event.set();
    assert!(event.is_set(), "a second set cleared the flag");
    event.clear();
    assert!(!event.is_set());
    event.clear();
    assert!(!event.is_set(), "a second clear set the flag");
    assert!(!Event::default().is_set());
}

/// CPython's `_check_notify`: `N` threads block on a first wait until `set` wakes them all;
/// their second wait returns at once.
fn check_notify(event: &Arc<Event>, kind: Wait) {
    let e = Arc::clone(event);
    let bunch = Bunch::start(N, move || (kind.wait(&e), kind.wait(&e)));

    // Threads blocked on the first wait.
    wait_for_queued(|| event.queued_waiters(), N);
    assert_eq!(bunch.finished(), 0, "{kind:?}: a wait returned, flag clear");

    // Threads unblocked.
    event.set();
    assert_eq!(bunch.join(), [(true, true); N], "{kind:?}");
    assert!(event.is_set());
    assert_eq!(event.queued_waiters(), 0);
}

/// Ports `test_notify`: EVENT-1, EVENT-4.
#[test]
fn test_notify() {
    for kind in Wait::BOTH {
        let event = Arc::new(Event::new());
        check_notify(&event, kind);
        // Another time, after an explicit clear.
        event.set();
        event.clear();
        check_notify(&event, kind);
    }
}

/// `N` threads each wait with `Duration::ZERO`, then with `timeout`; returns their
/// `(zero, timed, how long the timed wait took)`.
fn timed_waits(event: &Arc<Event>, timeout: Duration) -> Vec<(bool, bool, Duration)> {
    let e = Arc::clone(event);
    Bunch::start(N, move || {
        let zero = e.wait_timeout(Duration::ZERO);
        let t1 = Instant::now();
        let timed = e.wait_timeout(timeout);
        (zero, timed, t1.elapsed())
    })
    .join()
}

/// Ports `test_timeout` (plus `Duration::MAX`, which waits until `set`): EVENT-1, EVENT-3.
#[test]
fn test_timeout() {
    let event = Arc::new(Event::new());

    // The flag is clear: both waits time out, the timed one after about its timeout.
    for (zero, timed, waited) in timed_waits(&event, TIMEOUT) {
        assert!(!zero, "a ZERO wait returned true, flag clear");
        assert!(!timed, "a timed wait returned true, flag clear");
        assert_timeout(waited, TIMEOUT);
    }
    assert!(!event.is_set());
    assert_eq!(
        event.queued_waiters(),
        0,
        "a timed-out waiter stayed queued"
    );

    // The event is set: both return true, without waiting for the timeout.
    event.set();
    for (zero, timed, waited) in timed_waits(&event, LONG) {
        assert!(zero, "a ZERO wait returned false, flag set");
        assert!(timed, "a timed wait returned false, flag set");
        assert!(
            waited < LONG / 2,
            "a wait on a set flag blocked for {waited:?}"
        );
    }

    // Duration::MAX ("forever") is accepted, and waits until the flag is set.
    event.clear();
    let e = Arc::clone(&event);
    let forever = Bunch::start(1, move || e.wait_timeout(Duration::MAX));
    wait_for_queued(|| event.queued_waiters(), 1);
    assert_eq!(forever.finished(), 0);
    event.set();
    assert_eq!(forever.join(), [true]);
}

/// Ports `test_set_and_clear` (gh-57711), over several rounds: EVENT-2, EVENT-4.
#[test]
fn test_set_and_clear() {
    for kind in Wait::BOTH {
        for round in 0..10 {
            let event = Arc::new(Event::new());
            let e = Arc::clone(&event);
            let bunch = Bunch::start(N, move || kind.wait(&e));

            // Threads blocked on the wait.
            wait_for_queued(|| event.queued_waiters(), N);

            // Threads unblocked, even though the flag is clear again before they run.
            event.set();
            event.clear();
            assert_eq!(
                bunch.join(),
                [true; N],
                "{kind:?}, round {round}: a woken waiter saw the clear"
            );
            assert_eq!(event.queued_waiters(), 0);

            // The clear holds for later waits.
            assert!(!event.is_set());
            let t1 = Instant::now();
            assert!(
                !event.wait_timeout(TIMEOUT),
                "a wait after clear returned true"
            );
            assert_timeout(t1.elapsed(), TIMEOUT);
        }
    }
}

// test_at_fork_reinit: skipped, Rust has no fork-time `_at_fork_reinit` hook.

// test_repr: skipped, Rust has no repr (Debug is not Python's repr).
