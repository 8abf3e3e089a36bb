//! loom models of the wait core (src/wait.rs): WAIT-1 .. WAIT-4 in docs/wait.md.
#![cfg(loom)]

mod common;

use common::{Arrivals, bounded, exhaustive, spawn_clock};
use locksmith::__internals::{Deadline, Token, WaitQueue, WaitResult, Woke};
use loom::sync::Arc;
use loom::sync::atomic::{AtomicBool, Ordering};
use loom::thread;
use std::time::Duration;

/// A flag and a queue: the smallest primitive there is. Waiting re-checks the flag under the
/// list lock (`should_park`), which is the core's contract with every primitive.
struct Flag {
    set: AtomicBool,
    waiters: WaitQueue,
}

impl Flag {
    fn new() -> Self {
        Flag {
            set: AtomicBool::new(false),
            waiters: WaitQueue::new(),
        }
    }

    fn wait(&self) {
        while !self.set.load(Ordering::Acquire) {
            self.waiters.wait(
                &Deadline::never(),
                || !self.set.load(Ordering::Relaxed),
                |_| {},
            );
        }
    }

    fn set(&self) {
        self.set.store(true, Ordering::Release);
        self.waiters.wake(usize::MAX, |_| Token::new(0));
    }
}

/// WAIT-1: a wake-up after the condition changed reaches a waiter that checked it just
/// before: no lost wake-up. (A lost one leaves the waiter parked forever: loom reports a
/// deadlock.) Parks may return spuriously here, so the waiter's loop is exercised too.
#[test]
fn wake_after_condition_change_is_not_lost() {
    exhaustive(|| {
        let flag = Arc::new(Flag::new());
        let waiter = {
            let flag = flag.clone();
            thread::spawn(move || flag.wait())
        };
        flag.set();
        waiter.join().unwrap();
        assert!(flag.waiters.is_empty());
    });
}

/// WAIT-2: a timeout racing a wake. Either the waker found the waiter and the waiter
/// returns that wake's token (even if its deadline passed meanwhile), or the waker found
/// nobody and the waiter timed out. Never both, never neither, and nobody is left queued.
/// A waiter that times out tells its primitive so, through `on_timeout`, exactly once and
/// with the queue found empty (primitives clear their "someone waits" mark there); a woken
/// one never does.
#[test]
fn timeout_racing_wake_delivers_or_times_out_never_both() {
    // 3 threads (main, waker, clock): bounded at 3 preemptions.
    bounded(3, || {
        let queue = Arc::new(WaitQueue::new());
        let waker = {
            let queue = queue.clone();
            thread::spawn(move || queue.wake(1, |_| Token::new(7)))
        };
        let clock = spawn_clock();
        let mut left = Vec::new();
        let result = queue.wait(
            &Deadline::after(Duration::from_secs(1)),
            || true,
            |now_empty| left.push(now_empty),
        );
        let woken = waker.join().unwrap();
        clock.join().unwrap();
        match result {
            WaitResult::Woken(token) => {
                assert_eq!(token, Token::new(7));
                assert_eq!(woken, 1, "waiter saw a wake nobody sent");
                assert!(left.is_empty(), "a woken waiter ran on_timeout");
            }
            WaitResult::TimedOut => {
                assert_eq!(woken, 0, "a wake-up was lost to a timeout");
                assert_eq!(
                    left,
                    [true],
                    "on_timeout not run once, with the queue empty"
                );
            }
            WaitResult::Skipped => panic!("should_park said park"),
        }
        assert!(queue.is_empty(), "a timed-out waiter was left queued");
    });
}

/// WAIT-3: wakes are FIFO and a wake of n takes exactly min(n, queued), oldest first.
/// The second waiter is started only once the first is queued (it reports from inside
/// `should_park`, under the list lock), so the queue's order is known.
#[test]
fn wake_one_takes_the_oldest_waiter() {
    // 3 threads (main + 2 waiters): bounded at 3 preemptions.
    bounded(3, || {
        let queue = Arc::new(WaitQueue::new());
        let arrivals = Arc::new(Arrivals::new());
        let spawn_waiter = |expected_ticket: usize| {
            let queue = queue.clone();
            let arrivals = arrivals.clone();
            thread::spawn(move || {
                let result = queue.wait(
                    &Deadline::never(),
                    || {
                        assert_eq!(arrivals.arrive(), expected_ticket);
                        true
                    },
                    |_| {},
                );
                (expected_ticket, result)
            })
        };
        let first = spawn_waiter(0);
        arrivals.wait_for(1);
        let second = spawn_waiter(1);
        arrivals.wait_for(2);
        let woken_first = queue.wake(1, |woke| {
            assert_eq!(
                woke,
                Woke {
                    count: 1,
                    more: true
                }
            );
            Token::new(1)
        });
        assert_eq!(woken_first, 1);
        let woken_rest = queue.wake(usize::MAX, |woke| {
            assert_eq!(
                woke,
                Woke {
                    count: 1,
                    more: false
                }
            );
            Token::new(2)
        });
        assert_eq!(woken_rest, 1);
        // The first to arrive (ticket 0) got the first wake (token 1).
        for waiter in [first, second] {
            let (ticket, result) = waiter.join().unwrap();
            assert_eq!(
                result,
                WaitResult::Woken(Token::new(ticket + 1)),
                "wake order is not FIFO"
            );
        }
        assert!(queue.is_empty());
    });
}

/// WAIT-4: a wake of everyone racing one waiter's timeout: the timed waiter is either woken
/// or out of the queue (and then it ran `on_timeout`, once), the untimed one is always woken,
/// the count matches, and nothing is left queued.
#[test]
fn wake_all_racing_a_timeout() {
    // 4 threads (main, 2 waiters, clock): bounded at 2 preemptions.
    bounded(2, || {
        let queue = Arc::new(WaitQueue::new());
        let untimed_queued = Arc::new(Arrivals::new());
        let timed = {
            let queue = queue.clone();
            thread::spawn(move || {
                let mut left = Vec::new();
                let result = queue.wait(
                    &Deadline::after(Duration::from_secs(1)),
                    || true,
                    |now_empty| left.push(now_empty),
                );
                (result, left)
            })
        };
        let untimed = {
            let queue = queue.clone();
            let untimed_queued = untimed_queued.clone();
            thread::spawn(move || {
                queue.wait(
                    &Deadline::never(),
                    || {
                        untimed_queued.arrive();
                        true
                    },
                    |_| {},
                )
            })
        };
        let clock = spawn_clock();
        untimed_queued.wait_for(1);
        let woken = queue.wake(usize::MAX, |_| Token::new(5));
        let (timed, left) = timed.join().unwrap();
        assert_eq!(untimed.join().unwrap(), WaitResult::Woken(Token::new(5)));
        assert_eq!(
            left.len(),
            usize::from(timed == WaitResult::TimedOut),
            "on_timeout must run exactly when the waiter timed out"
        );
        clock.join().unwrap();
        let timed_woken = usize::from(timed == WaitResult::Woken(Token::new(5)));
        assert!(timed == WaitResult::TimedOut || timed_woken == 1);
        assert_eq!(
            woken,
            1 + timed_woken,
            "wake count disagrees with who was woken"
        );
        assert!(queue.is_empty());
    });
}

/// WAIT-5: the token publishes what the waker wrote before waking. A primitive that hands
/// something over with the wake-up (a permit, "the event was set") relies on it: the waiter
/// may see its token without ever parking, so the unpark's own synchronisation is not
/// enough. A Relaxed token store lets the waiter read the data before the waker's write
/// (loom reports the race). The waker starts once the waiter is queued; that handshake
/// orders the waiter before the waker, never the other way, so only the token carries the
/// write.
#[test]
fn token_publishes_the_wakers_writes() {
    exhaustive(|| {
        let shared = Arc::new((WaitQueue::new(), common::Protected::new(), Arrivals::new()));
        let waiter = {
            let shared = shared.clone();
            thread::spawn(move || {
                let result = shared.0.wait(
                    &Deadline::never(),
                    || {
                        shared.2.arrive();
                        true
                    },
                    |_| {},
                );
                assert_eq!(result, WaitResult::Woken(Token::new(1)));
                assert_eq!(shared.1.get(), 1);
            })
        };
        shared.2.wait_for(1);
        shared.1.increment();
        assert_eq!(shared.0.wake(1, |_| Token::new(1)), 1);
        waiter.join().unwrap();
    });
}
