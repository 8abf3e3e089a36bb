#![cfg(not(loom))]
//! The wait core (src/wait.rs) on real threads: WAIT-1 .. WAIT-5 in docs/wait.md.

use locksmith::__internals::{Deadline, MAX_TOKEN, Token, WaitQueue, WaitResult};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::thread;
use std::time::{Duration, Instant};

/// How many rounds a repeated race runs: `full` on real threads, `miri` under Miri, which
/// interprets every step and picks its own interleavings per seed (a lower count for Miri
/// only; every round checks the same things).
const fn rounds(full: usize, miri: usize) -> usize {
    if cfg!(miri) { miri } else { full }
}

/// Polls `condition` until it holds, failing the test after 10 s.
fn eventually(what: &str, condition: impl Fn() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while !condition() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        thread::yield_now();
    }
}

/// WAIT-1: a flag set just after waiters checked it still wakes them all, round after
/// round (a lost wake-up hangs a waiter and fails the join deadline below).
#[test]
fn set_flag_wakes_every_waiter() {
    for _ in 0..rounds(200, 20) {
        let flag = AtomicBool::new(false);
        let queue = WaitQueue::new();
        thread::scope(|s| {
            for _ in 0..3 {
                s.spawn(|| {
                    while !flag.load(Ordering::Acquire) {
                        queue.wait(
                            &Deadline::after(Duration::from_secs(10)),
                            || !flag.load(Ordering::Relaxed),
                            |_| {},
                        );
                    }
                });
            }
            flag.store(true, Ordering::Release);
            queue.wake(usize::MAX, |_| Token::new(0));
        });
        assert!(queue.is_empty());
    }
}

/// WAIT-2, WAIT-5: short timed waits racing single wakes. Every wake that reports a waiter
/// is received as that waiter's token (never lost to its timeout), and every token carries
/// the waker's earlier write.
#[test]
fn timed_waits_racing_wakes_lose_nothing() {
    let queue = WaitQueue::new();
    let sent = AtomicUsize::new(0);
    let received = AtomicUsize::new(0);
    let stop = AtomicBool::new(false);
    let published = AtomicUsize::new(0);
    thread::scope(|s| {
        for _ in 0..3 {
            s.spawn(|| {
                while !stop.load(Ordering::Relaxed) {
                    let timeout = Duration::from_micros(50);
                    match queue.wait(&Deadline::after(timeout), || true, |_| {}) {
                        WaitResult::Woken(token) => {
                            // The waker wrote `token` before waking us (WAIT-5).
                            assert!(published.load(Ordering::Relaxed) >= token.get());
                            received.fetch_add(1, Ordering::Relaxed);
                        }
                        WaitResult::TimedOut => {}
                        WaitResult::Skipped => unreachable!("should_park said park"),
                    }
                }
            });
        }
        for round in 1..=rounds(3000, 200) {
            published.store(round, Ordering::Relaxed);
            sent.fetch_add(queue.wake(1, |_| Token::new(round)), Ordering::Relaxed);
            if round % 8 == 0 {
                thread::yield_now();
            }
        }
        stop.store(true, Ordering::Relaxed);
        // Wake whoever is still parked so the scope can end; those count too.
        eventually("the waiters to stop", || {
            sent.fetch_add(queue.wake(usize::MAX, |_| Token::new(0)), Ordering::Relaxed);
            received.load(Ordering::Relaxed) == sent.load(Ordering::Relaxed)
        });
    });
    assert_eq!(received.into_inner(), sent.into_inner());
    assert!(queue.is_empty(), "a timed-out waiter was left queued");
}

/// WAIT-3: wakes are FIFO, and wake(n) takes exactly min(n, queued).
#[test]
fn wakes_are_fifo_and_counted() {
    let queue = WaitQueue::new();
    thread::scope(|s| {
        let waiters: Vec<_> = (0..4)
            .map(|arrival| {
                let queue = &queue;
                let handle =
                    s.spawn(move || (arrival, queue.wait(&Deadline::never(), || true, |_| {})));
                // Start the next waiter only once this one is queued.
                eventually("a waiter to queue", || queue.len() == arrival + 1);
                handle
            })
            .collect();
        let mut token = 0;
        assert_eq!(
            queue.wake(1, |woke| {
                assert_eq!((woke.count, woke.more), (1, true));
                token += 1;
                Token::new(token)
            }),
            1
        );
        assert_eq!(
            queue.wake(2, |woke| {
                assert_eq!((woke.count, woke.more), (2, true));
                token += 1;
                Token::new(token)
            }),
            2
        );
        assert_eq!(
            queue.wake(5, |woke| {
                assert_eq!((woke.count, woke.more), (1, false));
                token += 1;
                Token::new(token)
            }),
            1
        );
        let expected = [1, 2, 2, 3];
        for waiter in waiters {
            let (arrival, result) = waiter.join().unwrap();
            assert_eq!(
                result,
                WaitResult::Woken(Token::new(expected[arrival])),
                "waiter {arrival}"
            );
        }
    });
    assert_eq!(
        queue.wake(1, |woke| {
            assert_eq!((woke.count, woke.more), (0, false));
            Token::new(0)
        }),
        0
    );
}

/// WAIT-4: wake-all racing timed waiters: the count it reports equals the waiters that
/// received its token, and nothing is left queued.
#[test]
fn wake_all_count_matches_receivers() {
    for round in 0..rounds(300, 30) as u64 {
        let queue = WaitQueue::new();
        let received = AtomicUsize::new(0);
        let woken = thread::scope(|s| {
            for _ in 0..3 {
                s.spawn(|| {
                    let timeout = Duration::from_micros(20 * (round % 5));
                    if queue.wait(&Deadline::after(timeout), || true, |_| {})
                        == WaitResult::Woken(Token::new(7))
                    {
                        received.fetch_add(1, Ordering::Relaxed);
                    }
                });
            }
            thread::yield_now();
            queue.wake(usize::MAX, |_| Token::new(7))
        });
        assert_eq!(woken, received.into_inner());
        assert!(queue.is_empty());
    }
}

/// The largest token, `usize::MAX - 2`, reaches its waiter intact: the two values above it
/// are the wait core's own marks (still linked; being handed its token), every value below
/// is the primitive's to use. (Written for a mutant that shrank the range to `usize::MAX / 2`
/// and passed every other test.) The waiter is a detached thread with its own handle on the
/// queue: a wake that refuses the token panics after taking the waiter out, which then waits
/// for a token that never comes; the test must fail, not hang joining it.
#[test]
fn the_largest_token_is_handed_over_intact() {
    let largest = MAX_TOKEN;
    assert_eq!(largest, usize::MAX - 2);
    let queue = std::sync::Arc::new(WaitQueue::new());
    let waiter = thread::spawn({
        let queue = std::sync::Arc::clone(&queue);
        move || queue.wait(&Deadline::after(Duration::from_secs(10)), || true, |_| {})
    });
    eventually("the waiter to queue", || queue.len() == 1);
    assert_eq!(queue.wake(1, |_| Token::new(largest)), 1);
    assert_eq!(
        waiter.join().unwrap(),
        WaitResult::Woken(Token::new(largest))
    );
}

/// The snapshots agree with each other: `{:?}`, `len`, `is_empty` and `has_waiters`, with
/// nobody queued, one waiter queued, and after it is woken and gone. (`is_empty` and
/// `has_waiters` replaced by `true`, and `{:?}` by an empty string, passed every other test.)
#[test]
fn snapshots_agree_on_who_is_queued() {
    let queue = WaitQueue::new();
    let nobody = |queue: &WaitQueue| {
        assert_eq!(format!("{queue:?}"), "WaitQueue { queued: 0 }");
        assert_eq!(queue.len(), 0);
        assert!(queue.is_empty());
        assert!(!queue.has_waiters());
    };
    nobody(&queue);
    thread::scope(|s| {
        let waiter =
            s.spawn(|| queue.wait(&Deadline::after(Duration::from_secs(10)), || true, |_| {}));
        eventually("the waiter to queue", || queue.len() == 1);
        assert_eq!(format!("{queue:?}"), "WaitQueue { queued: 1 }");
        assert!(!queue.is_empty());
        assert!(queue.has_waiters());
        queue.wake(1, |_| Token::new(0));
        assert_eq!(waiter.join().unwrap(), WaitResult::Woken(Token::new(0)));
    });
    nobody(&queue);
}
