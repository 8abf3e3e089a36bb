//! shuttle scenarios: every primitive and the queues with more threads and operations than a
//! loom model can hold (3 to 8 threads, tens of operations each, timed and untimed waits
//! mixed), each run under shuttle's random scheduler and its PCT scheduler.
//!
//! ```sh
//! RUSTFLAGS="--cfg shuttle" cargo test --release --test shuttle
//! ```
//!
//! `LOCKSMITH_SHUTTLE_ITERATIONS` sets how many schedules each scheduler tries per scenario
//! (default 1000). A failing schedule is printed by shuttle as an encoded string; run it
//! again with `LOCKSMITH_SHUTTLE_REPLAY='<string>'` and the scenario's name as the test
//! filter. Under shuttle, spurious wake-ups come from shuttle's `park`, and timeouts from the
//! shim's model clock (src/sync/shuttle_backend.rs), both drawn from the schedule's seed.
#![cfg(shuttle)]

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

use locksmith::queue::{GetError, LifoQueue, PriorityQueue, PutError, Queue, SimpleQueue};
use locksmith::{
    Barrier, BoundedSemaphore, Condition, Event, Lock, RLock, ReleaseError, Semaphore,
};
use shuttle::rand::Rng;
use shuttle::sync::atomic::{AtomicUsize, Ordering};
use shuttle::sync::mpsc;
use shuttle::thread;

use lin_support::specs::{EventOp, LockOp, Order, QueueOp, RLockOp, SemOp};
use lin_support::subjects::{AnyQueue, AnySemaphore, Subject};
use lin_support::{Recorder, check};

mod lin_support;

/// Any timed wait: the length does not matter under the model clock, only that it is timed.
const TIMED: Duration = Duration::from_millis(10);

/// How many schedules each scheduler tries per scenario.
fn iterations() -> usize {
    std::env::var("LOCKSMITH_SHUTTLE_ITERATIONS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(1000)
}

/// Runs `scenario` under the random scheduler and under PCT (depth 3), `iterations`
/// schedules each, or replays one schedule when `LOCKSMITH_SHUTTLE_REPLAY` is set.
fn explore_n(iterations: usize, scenario: impl Fn() + Send + Sync + 'static) {
    let scenario = Arc::new(scenario);
    let run = move || {
        let scenario = Arc::clone(&scenario);
        move || scenario()
    };
    if let Ok(schedule) = std::env::var("LOCKSMITH_SHUTTLE_REPLAY") {
        shuttle::replay(run(), &schedule);
        return;
    }
    shuttle::check_random(run(), iterations);
    shuttle::check_pct(run(), iterations, 3);
}

fn explore(scenario: fn()) {
    explore_n(iterations(), scenario);
}

/// A counter updated by a separate load and store with a yield between them: without mutual
/// exclusion, shuttle finds the schedule that loses an update.
struct Unguarded(AtomicUsize);

impl Unguarded {
    fn new() -> Self {
        Unguarded(AtomicUsize::new(0))
    }

    fn increment(&self) {
        let seen = self.0.load(Ordering::SeqCst);
        thread::yield_now();
        self.0.store(seen + 1, Ordering::SeqCst);
    }

    fn get(&self) -> usize {
        self.0.load(Ordering::SeqCst)
    }
}

/// Which way thread `t`'s `i`th operation acquires: untimed, timed or try, mixed.
fn attempt(
    t: usize,
    i: usize,
    acquire: impl Fn(),
    timed: impl Fn() -> bool,
    try_: impl Fn() -> bool,
) -> bool {
    match (t + i) % 3 {
        0 => {
            acquire();
            true
        }
        1 => timed(),
        _ => try_(),
    }
}

/// LOCK-1, LOCK-2, LOCK-4, LOCK-5, LOCK-6 at scale: 4 threads x 6 acquisitions of every
/// kind; every acquisition that succeeded entered the section alone (no update lost), and
/// each was released by a thread other than the one that took it half the time (a Lock has
/// no owner).
#[test]
fn lock_four_threads_mixed_acquires() {
    explore(|| {
        let shared = Arc::new((Lock::new(), Unguarded::new(), AtomicUsize::new(0)));
        let threads: Vec<_> = (0..4)
            .map(|t| {
                let shared = Arc::clone(&shared);
                thread::spawn(move || {
                    let (lock, data, entered) = &*shared;
                    for i in 0..6 {
                        if attempt(
                            t,
                            i,
                            || lock.acquire(),
                            || lock.acquire_timeout(TIMED),
                            || lock.try_acquire(),
                        ) {
                            data.increment();
                            entered.fetch_add(1, Ordering::SeqCst);
                            lock.release().unwrap();
                        }
                    }
                })
            })
            .collect();
        for handle in threads {
            handle.join().unwrap();
        }
        let (lock, data, entered) = &*shared;
        assert_eq!(
            data.get(),
            entered.load(Ordering::SeqCst),
            "an update was lost"
        );
        assert!(!lock.locked());
        assert_eq!(lock.release(), Err(ReleaseError::NotLocked));
    });
}

/// LOCK-2, LOCK-6 at scale: a Lock released by a thread that did not take it hands over to
/// the next waiter (a semaphore-like handshake across 3 threads and 8 rounds).
#[test]
fn lock_released_by_other_threads_in_turn() {
    explore(|| {
        let lock = Arc::new(Lock::new());
        lock.acquire();
        let taken = Arc::new(Semaphore::new(0));
        let takers: Vec<_> = (0..3)
            .map(|_| {
                let (lock, taken) = (Arc::clone(&lock), Arc::clone(&taken));
                thread::spawn(move || {
                    for _ in 0..3 {
                        lock.acquire();
                        taken.release();
                    }
                })
            })
            .collect();
        // Nine acquisitions, each released by this thread, which never acquired them: after
        // each release, wait until a taker holds the lock again, then release that too.
        for _ in 0..9 {
            lock.release().unwrap();
            taken.acquire();
        }
        for handle in takers {
            handle.join().unwrap();
        }
        assert!(lock.locked(), "the last taker holds it");
        assert_eq!(taken.value(), 0);
    });
}

/// RLOCK-1, RLOCK-2, RLOCK-3, RLOCK-4, RLOCK-6 at scale: 4 threads re-enter to depth 1..3
/// with every kind of acquire; only the owner's releases succeed, and nobody else ever gets
/// in while it holds.
#[test]
fn rlock_four_threads_reentering() {
    explore(|| {
        let shared = Arc::new((RLock::new(), Unguarded::new(), AtomicUsize::new(0)));
        let threads: Vec<_> = (0..4)
            .map(|t| {
                let shared = Arc::clone(&shared);
                thread::spawn(move || {
                    let (rlock, data, entered) = &*shared;
                    for i in 0..4 {
                        let depth = 1 + (t + i) % 3;
                        if !attempt(
                            t,
                            i,
                            || rlock.acquire(),
                            || rlock.acquire_timeout(TIMED),
                            || rlock.try_acquire(),
                        ) {
                            assert!(!rlock.is_owned());
                            continue;
                        }
                        for _ in 1..depth {
                            assert!(rlock.try_acquire(), "the owner re-enters at once");
                        }
                        assert_eq!(rlock.recursion_count(), depth);
                        data.increment();
                        entered.fetch_add(1, Ordering::SeqCst);
                        for _ in 0..depth {
                            rlock.release().unwrap();
                        }
                        assert_ne!(rlock.release(), Ok(()), "released past its count");
                    }
                })
            })
            .collect();
        for handle in threads {
            handle.join().unwrap();
        }
        let (rlock, data, entered) = &*shared;
        assert_eq!(
            data.get(),
            entered.load(Ordering::SeqCst),
            "an update was lost"
        );
        assert!(!rlock.locked());
    });
}

/// SEM-1, SEM-2, SEM-3, SEM-4 at scale: 6 threads on 2 permits, acquires of every kind and
/// releases of one or two permits at a time; never more than 2 inside, and every permit
/// comes back.
#[test]
fn semaphore_six_threads_on_two_permits() {
    explore(|| {
        let shared = Arc::new((Semaphore::new(2), AtomicUsize::new(0)));
        let threads: Vec<_> = (0..6)
            .map(|t| {
                let shared = Arc::clone(&shared);
                thread::spawn(move || {
                    let (sem, inside) = &*shared;
                    for i in 0..4 {
                        // Every third round takes both permits and gives them back at once.
                        let pair = (t + i) % 4 == 3;
                        let n = if pair { 2 } else { 1 };
                        let mut taken = 0;
                        if attempt(
                            t,
                            i,
                            || sem.acquire(),
                            || sem.acquire_timeout(TIMED),
                            || sem.try_acquire(),
                        ) {
                            taken += 1;
                            // The second permit only with a timeout: two threads each holding
                            // one and blocking for another would deadlock by design.
                            if n == 2 && sem.acquire_timeout(TIMED) {
                                taken += 1;
                            }
                        }
                        let now = inside.fetch_add(taken, Ordering::SeqCst) + taken;
                        assert!(now <= 2, "{now} permits in use out of 2");
                        inside.fetch_sub(taken, Ordering::SeqCst);
                        sem.release_n(taken);
                    }
                })
            })
            .collect();
        for handle in threads {
            handle.join().unwrap();
        }
        assert_eq!(shared.0.value(), 2);
    });
}

/// SEM-5 at scale: a BoundedSemaphore refuses every release past its value, however the
/// releases race, and never loses one that fits.
#[test]
fn bounded_semaphore_racing_releases() {
    explore(|| {
        let sem = Arc::new(BoundedSemaphore::new(3));
        for _ in 0..3 {
            sem.acquire();
        }
        let accepted = Arc::new(AtomicUsize::new(0));
        let threads: Vec<_> = (0..5)
            .map(|t| {
                let (sem, accepted) = (Arc::clone(&sem), Arc::clone(&accepted));
                thread::spawn(move || {
                    let n = 1 + t % 2;
                    match sem.release_n(n) {
                        Ok(()) => {
                            accepted.fetch_add(n, Ordering::SeqCst);
                        }
                        Err(error) => assert_eq!(error, ReleaseError::TooManyReleases),
                    }
                })
            })
            .collect();
        for handle in threads {
            handle.join().unwrap();
        }
        let accepted = accepted.load(Ordering::SeqCst);
        assert!(accepted <= 3);
        assert_eq!(sem.value(), accepted, "a refused release changed the value");
    });
}

/// EVENT-1, EVENT-2, EVENT-3 at scale: 5 waiters (untimed and timed) against a setter and a
/// clearer; the untimed ones all return once the final set lands, and a timed wait that
/// says true saw the flag set at some point (the setter had begun).
#[test]
fn event_five_waiters_setter_and_clearer() {
    explore(|| {
        let shared = Arc::new((Event::new(), AtomicUsize::new(0)));
        let waiters: Vec<_> = (0..5)
            .map(|t| {
                let shared = Arc::clone(&shared);
                thread::spawn(move || {
                    let (event, sets) = &*shared;
                    for _ in 0..2 {
                        if t % 2 == 0 {
                            event.wait();
                        } else if event.wait_timeout(TIMED) {
                            assert!(sets.load(Ordering::SeqCst) > 0, "true before any set");
                        }
                    }
                })
            })
            .collect();
        let clearer = {
            let shared = Arc::clone(&shared);
            thread::spawn(move || {
                for _ in 0..3 {
                    shared.0.clear();
                    thread::yield_now();
                }
            })
        };
        let (event, sets) = &*shared;
        for _ in 0..2 {
            sets.fetch_add(1, Ordering::SeqCst);
            event.set();
        }
        clearer.join().unwrap();
        // The final set, after the last clear: every untimed waiter must come out.
        sets.fetch_add(1, Ordering::SeqCst);
        event.set();
        for handle in waiters {
            handle.join().unwrap();
        }
        assert_eq!(event.queued_waiters(), 0);
    });
}

/// COND-1, COND-3, COND-5 at scale: 3 consumers and 2 producers share a counter of items
/// under one Condition (over a Lock); consumers wait with and without timeouts, producers
/// notify one or all; every item is consumed once and nobody is left waiting.
#[test]
fn condition_producers_and_consumers() {
    explore(|| {
        const ITEMS: usize = 6;
        let shared = Arc::new((
            Condition::with_lock(Lock::new()),
            AtomicUsize::new(0), // items available, read and written under the lock
            AtomicUsize::new(0), // items consumed
        ));
        let consumers: Vec<_> = (0..3)
            .map(|t| {
                let shared = Arc::clone(&shared);
                thread::spawn(move || {
                    let (cond, available, consumed) = &*shared;
                    loop {
                        cond.acquire();
                        let done = || consumed.load(Ordering::SeqCst) == ITEMS;
                        while available.load(Ordering::SeqCst) == 0 && !done() {
                            if t == 0 {
                                cond.wait_timeout(TIMED).unwrap();
                            } else {
                                cond.wait().unwrap();
                            }
                        }
                        if done() {
                            cond.release().unwrap();
                            return;
                        }
                        available.fetch_sub(1, Ordering::SeqCst);
                        if consumed.fetch_add(1, Ordering::SeqCst) + 1 == ITEMS {
                            cond.notify_all().unwrap(); // wake the others to finish
                        }
                        cond.release().unwrap();
                    }
                })
            })
            .collect();
        let producers: Vec<_> = (0..2)
            .map(|t| {
                let shared = Arc::clone(&shared);
                thread::spawn(move || {
                    let (cond, available, _) = &*shared;
                    for i in 0..ITEMS / 2 {
                        cond.acquire();
                        available.fetch_add(1, Ordering::SeqCst);
                        if (t + i) % 2 == 0 {
                            cond.notify().unwrap();
                        } else {
                            cond.notify_all().unwrap();
                        }
                        cond.release().unwrap();
                    }
                })
            })
            .collect();
        for handle in producers.into_iter().chain(consumers) {
            handle.join().unwrap();
        }
        let (cond, available, consumed) = &*shared;
        assert_eq!(consumed.load(Ordering::SeqCst), ITEMS);
        assert_eq!(available.load(Ordering::SeqCst), 0);
        assert_eq!(cond.queued_waiters(), 0);
    });
}

/// BARRIER-1, BARRIER-3 at scale: 5 parties (more threads than a loom model may spawn), 3
/// rounds; each round hands out every index once.
#[test]
fn barrier_five_parties_three_rounds() {
    explore(|| {
        const PARTIES: usize = 5;
        let barrier = Arc::new(Barrier::new(PARTIES));
        let threads: Vec<_> = (0..PARTIES)
            .map(|_| {
                let barrier = Arc::clone(&barrier);
                thread::spawn(move || (0..3).map(|_| barrier.wait().unwrap()).collect::<Vec<_>>())
            })
            .collect();
        let indices: Vec<Vec<usize>> = threads.into_iter().map(|h| h.join().unwrap()).collect();
        for round in 0..3 {
            let seen: BTreeSet<usize> = indices.iter().map(|mine| mine[round]).collect();
            assert_eq!(
                seen,
                (0..PARTIES).collect(),
                "round {round}: an index twice"
            );
        }
        assert!(!barrier.broken());
        assert_eq!(barrier.n_waiting(), 0);
    });
}

/// BARRIER-4, BARRIER-5 at scale: 4 parties, one of which waits with a timeout; either the
/// round completes for everyone or the barrier breaks for everyone, nobody is left waiting,
/// and a reset makes it usable again.
#[test]
fn barrier_timeout_breaks_for_everyone() {
    explore(|| {
        let barrier = Arc::new(Barrier::new(4));
        let threads: Vec<_> = (0..4)
            .map(|t| {
                let barrier = Arc::clone(&barrier);
                thread::spawn(move || {
                    if t == 0 {
                        barrier.wait_timeout(TIMED).is_ok()
                    } else {
                        barrier.wait().is_ok()
                    }
                })
            })
            .collect();
        let passed: Vec<bool> = threads.into_iter().map(|h| h.join().unwrap()).collect();
        assert!(
            passed.iter().all(|&p| p) || passed.iter().all(|&p| !p),
            "a round half passed and half broke: {passed:?}"
        );
        assert_eq!(barrier.broken(), !passed[0]);
        assert_eq!(barrier.n_waiting(), 0);
        barrier.reset();
        assert!(!barrier.broken());
    });
}

/// BARRIER-4, BARRIER-5 over several rounds: a timed party waits in a round that ends by
/// `reset`, by `abort` then `reset`, or by a second party (timed or not) arriving, in turn;
/// after each, two other parties run a round nobody disturbs, which must pass for both, while
/// the timed party may still be on its way out. A timed-out party that broke whatever round
/// was current when it got the barrier's lock back (not checking it is still its own) breaks
/// those clean rounds.
#[test]
fn barrier_timeouts_aborts_and_resets_leave_later_rounds_alone() {
    explore(|| {
        const ROUNDS: usize = 6;
        let barrier = Arc::new(Barrier::new(2));
        let (to_late, late_go) = mpsc::channel::<()>();
        let (late_done, from_late) = mpsc::channel();
        let late = {
            let barrier = Arc::clone(&barrier);
            thread::spawn(move || {
                while late_go.recv().is_ok() {
                    late_done.send(barrier.wait_timeout(TIMED)).unwrap();
                }
            })
        };
        let (to_partner, partner_go) = mpsc::channel::<()>();
        let (partner_done, from_partner) = mpsc::channel();
        let partner = {
            let barrier = Arc::clone(&barrier);
            thread::spawn(move || {
                while partner_go.recv().is_ok() {
                    partner_done.send(barrier.wait()).unwrap();
                }
            })
        };
        for round in 0..ROUNDS {
            to_late.send(()).unwrap();
            // Until the timed party is counted, or has already broken its round alone.
            while barrier.n_waiting() == 0 && !barrier.broken() {
                thread::yield_now();
            }
            match round % 3 {
                0 => barrier.reset(),
                1 => {
                    barrier.abort();
                    barrier.reset();
                }
                _ => {
                    let mine = if round % 2 == 0 {
                        barrier.wait()
                    } else {
                        barrier.wait_timeout(TIMED)
                    };
                    let theirs = from_late.recv().unwrap();
                    assert_eq!(
                        mine.is_ok(),
                        theirs.is_ok(),
                        "round {round} half passed: {mine:?} {theirs:?}"
                    );
                    if mine.is_err() {
                        barrier.reset();
                    }
                }
            }
            // A round nobody disturbs, maybe while the timed party is still leaving.
            to_partner.send(()).unwrap();
            let mine = barrier.wait();
            let theirs = from_partner.recv().unwrap();
            assert!(
                mine.is_ok() && theirs.is_ok(),
                "round {round}'s clean round broke: {mine:?} {theirs:?}"
            );
            if round % 3 != 2 {
                assert!(from_late.recv().unwrap().is_err());
            }
        }
        drop(to_late);
        drop(to_partner);
        late.join().unwrap();
        partner.join().unwrap();
        assert!(!barrier.broken());
        assert_eq!(barrier.n_waiting(), 0);
    });
}

/// QUEUE-1, QUEUE-2, QUEUE-3, QUEUE-4, QUEUE-5, QUEUE-6 at scale: 3 producers put 5 items
/// each into a Queue of capacity 2 (blocking, timed and try puts, retried until taken), 3
/// consumers get with every kind of get; every item arrives exactly once, in each
/// producer's order, and `join` returns once all are done.
#[test]
fn queue_three_producers_three_consumers() {
    explore(|| {
        const PER_PRODUCER: usize = 5;
        let queue = Arc::new(Queue::new(2));
        let producers: Vec<_> = (0..3)
            .map(|p| {
                let queue = Arc::clone(&queue);
                thread::spawn(move || {
                    for i in 0..PER_PRODUCER {
                        let item = p * 100 + i;
                        // Timed and try puts that find the queue full fall back to a blocking
                        // put (a retry loop would only spin the scheduler).
                        let put = match (p + i) % 3 {
                            0 => queue.put(item),
                            1 => queue.put_timeout(item, TIMED),
                            _ => queue.try_put(item),
                        };
                        match put {
                            Ok(()) => {}
                            Err(PutError::Full(back)) => queue.put(back).unwrap(),
                            Err(error) => panic!("unexpected {error:?}"),
                        }
                    }
                })
            })
            .collect();
        let consumers: Vec<_> = (0..3)
            .map(|c| {
                let queue = Arc::clone(&queue);
                thread::spawn(move || {
                    let mut got = Vec::new();
                    for i in 0..PER_PRODUCER {
                        let get = match (c + i) % 3 {
                            0 => queue.get(),
                            1 => queue.get_timeout(TIMED),
                            _ => queue.try_get(),
                        };
                        let item = match get {
                            Ok(item) => item,
                            Err(GetError::Empty) => queue.get().unwrap(),
                            Err(error) => panic!("unexpected {error:?}"),
                        };
                        got.push(item);
                        queue.task_done().unwrap();
                    }
                    got
                })
            })
            .collect();
        let joiner = {
            let queue = Arc::clone(&queue);
            thread::spawn(move || queue.join())
        };
        for handle in producers {
            handle.join().unwrap();
        }
        let mut all = Vec::new();
        for handle in consumers {
            let got = handle.join().unwrap();
            for p in 0..3 {
                let from_p: Vec<_> = got.iter().filter(|&&item| item / 100 == p).collect();
                assert!(
                    from_p.windows(2).all(|w| w[0] < w[1]),
                    "out of order: {got:?}"
                );
            }
            all.extend(got);
        }
        joiner.join().unwrap();
        all.sort_unstable();
        let expected: Vec<_> = (0..3)
            .flat_map(|p| (0..PER_PRODUCER).map(move |i| p * 100 + i))
            .collect();
        assert_eq!(all, expected, "an item lost or duplicated");
        assert!(queue.is_empty());
        assert_eq!(queue.unfinished_tasks(), 0);
    });
}

/// QUEUE-7, QUEUE-8 at scale: shutdown racing 3 blocked putters and 3 blocked getters on a
/// Queue of capacity 1. Nobody stays blocked; every item put is either got or (immediate)
/// dropped and counted done, and `join` returns.
#[test]
fn queue_shutdown_releases_everyone() {
    explore(|| {
        let queue = Arc::new(Queue::new(1));
        let put_ok = Arc::new(AtomicUsize::new(0));
        let got = Arc::new(AtomicUsize::new(0));
        let mut threads = Vec::new();
        for t in 0..3 {
            let (putter_queue, put_ok) = (Arc::clone(&queue), Arc::clone(&put_ok));
            threads.push(thread::spawn(move || {
                for i in 0..2 {
                    match putter_queue.put(t * 10 + i) {
                        Ok(()) => {
                            put_ok.fetch_add(1, Ordering::SeqCst);
                        }
                        Err(error) => assert!(error.is_shutdown()),
                    }
                }
            }));
            let (getter_queue, got) = (Arc::clone(&queue), Arc::clone(&got));
            threads.push(thread::spawn(move || {
                loop {
                    match getter_queue.get() {
                        Ok(_) => {
                            got.fetch_add(1, Ordering::SeqCst);
                            getter_queue.task_done().unwrap();
                        }
                        Err(error) => {
                            assert_eq!(error, GetError::ShutDown);
                            return;
                        }
                    }
                }
            }));
        }
        let immediate = shuttle::rand::thread_rng().gen_bool(0.5);
        queue.shutdown(immediate);
        for handle in threads {
            handle.join().unwrap();
        }
        queue.join();
        assert!(got.load(Ordering::SeqCst) <= put_ok.load(Ordering::SeqCst));
        if !immediate {
            assert_eq!(got.load(Ordering::SeqCst), put_ok.load(Ordering::SeqCst));
        }
        assert_eq!(queue.len(), 0);
        assert_eq!(queue.unfinished_tasks(), 0);
    });
}

/// QUEUE-1, QUEUE-10 at scale: LifoQueue and PriorityQueue of capacity 2, and a
/// SimpleQueue, each with 2 producers and 2 consumers: every item arrives exactly once.
#[test]
fn lifo_and_priority_queues_conserve_items() {
    /// `put` and `get` try with a timeout, then block.
    fn run<Q: Send + Sync + 'static>(queue: Q, put: fn(&Q, usize), get: fn(&Q) -> usize) {
        let queue = Arc::new(queue);
        let producers: Vec<_> = (0..2)
            .map(|p| {
                let queue = Arc::clone(&queue);
                thread::spawn(move || {
                    for i in 0..4 {
                        put(&queue, p * 10 + i);
                    }
                })
            })
            .collect();
        let consumers: Vec<_> = (0..2)
            .map(|_| {
                let queue = Arc::clone(&queue);
                thread::spawn(move || (0..4).map(|_| get(&queue)).collect::<Vec<_>>())
            })
            .collect();
        for handle in producers {
            handle.join().unwrap();
        }
        let mut all: Vec<usize> = consumers
            .into_iter()
            .flat_map(|h| h.join().unwrap())
            .collect();
        all.sort_unstable();
        assert_eq!(all, vec![0, 1, 2, 3, 10, 11, 12, 13]);
    }
    explore(|| {
        run(
            LifoQueue::new(2),
            |q, item| {
                if let Err(back) = q.put_timeout(item, TIMED) {
                    q.put(back.into_inner()).unwrap();
                }
            },
            |q| q.get_timeout(TIMED).or_else(|_| q.get()).unwrap(),
        );
        run(
            PriorityQueue::new(2),
            |q, item| {
                if let Err(back) = q.put_timeout(item, TIMED) {
                    q.put(back.into_inner()).unwrap();
                }
            },
            |q| q.get_timeout(TIMED).or_else(|_| q.get()).unwrap(),
        );
        run(
            SimpleQueue::new(),
            |q, item| q.put(item),
            |q| q.get_timeout(TIMED).or_else(|_| q.get()).unwrap(),
        );
    });
}

// ---------------------------------------------------------------------------------------
// Linearizability under shuttle: the scenarios of `tests/linearizability.rs`, with shuttle
// choosing the schedule, and every execution's history checked.

/// A small deterministic generator (xorshift), so that each plan is the same in every
/// schedule shuttle tries and in a replay.
struct Plans(u64);

impl Plans {
    fn pick<T: Copy>(&mut self, choices: &[T]) -> T {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        choices[(self.0 % choices.len() as u64) as usize]
    }

    /// `threads` plans of `calls` calls each, drawn from `choices`; `item` numbers the
    /// `i`th call of thread `t`.
    fn make<T: Copy>(
        seed: u64,
        threads: usize,
        calls: usize,
        choices: &[T],
        mut number: impl FnMut(T, usize, usize) -> T,
    ) -> Vec<Vec<T>> {
        let mut plans = Plans(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1);
        (0..threads)
            .map(|t| {
                (0..calls)
                    .map(|i| number(plans.pick(choices), t, i))
                    .collect()
            })
            .collect()
    }
}

/// Runs `plans` on shuttle threads in every schedule tried, the main thread rescuing
/// blocked workers with recorded calls (as on real threads), and checks each history.
/// Each of the 6 plans gets a tenth of the scenario budget.
fn explore_linearizable<S>(make: fn() -> S, plans: Vec<Vec<Vec<S::Op>>>)
where
    S: Subject + Send + 'static,
    S::Op: 'static,
{
    for plan in plans {
        let plan = Arc::new(plan);
        explore_n(iterations().div_ceil(10), move || {
            let subject = Arc::new(make());
            let recorder = Arc::new(Recorder::new());
            let finished = Arc::new(AtomicUsize::new(0));
            let workers: Vec<_> = (0..plan.len())
                .map(|id| {
                    let (subject, recorder, finished, plan) = (
                        Arc::clone(&subject),
                        Arc::clone(&recorder),
                        Arc::clone(&finished),
                        Arc::clone(&plan),
                    );
                    thread::spawn(move || {
                        subject.run_worker(&recorder, id, &plan[id]);
                        finished.fetch_add(1, Ordering::SeqCst);
                    })
                })
                .collect();
            let main_id = plan.len();
            let mut rescues = 0;
            'rescue: loop {
                for _ in 0..4 {
                    if finished.load(Ordering::SeqCst) == plan.len() {
                        break 'rescue;
                    }
                    thread::yield_now();
                }
                assert!(
                    rescues < 200,
                    "workers still blocked after {rescues} rescues"
                );
                subject.call_recorded(&recorder, main_id, subject.rescue(rescues));
                rescues += 1;
            }
            for worker in workers {
                worker.join().unwrap();
            }
            let history = Arc::try_unwrap(recorder)
                .unwrap_or_else(|_| unreachable!("every worker has finished"))
                .into_history();
            if let Err(error) = check(&subject.spec(), &history) {
                panic!("{error}");
            }
        });
    }
}

/// LOCK-1, LOCK-2, LOCK-4, LOCK-5: every shuttle schedule of 3 threads x 4 Lock calls is
/// linearizable (6 plans).
#[test]
fn lock_schedules_are_linearizable() {
    use LockOp::*;
    let choices = [
        Acquire,
        Acquire,
        TryAcquire,
        AcquireTimeout,
        Release,
        Release,
        Locked,
    ];
    let plans = (0..6)
        .map(|seed| Plans::make(seed, 3, 4, &choices, |op, _, _| op))
        .collect();
    explore_linearizable(Lock::new, plans);
}

/// RLOCK-1, RLOCK-2, RLOCK-3, RLOCK-5: the same for an RLock.
#[test]
fn rlock_schedules_are_linearizable() {
    use RLockOp::*;
    let choices = [
        Acquire,
        Acquire,
        TryAcquire,
        AcquireTimeout,
        Release,
        Release,
        IsOwned,
        RecursionCount,
        Locked,
    ];
    let plans = (0..6)
        .map(|seed| Plans::make(seed, 3, 4, &choices, |op, _, _| op))
        .collect();
    explore_linearizable(RLock::new, plans);
}

/// SEM-1, SEM-2, SEM-3, SEM-5: the same for a Semaphore of 1 and a BoundedSemaphore of 2.
#[test]
fn semaphore_schedules_are_linearizable() {
    use SemOp::*;
    let choices = [
        Acquire,
        Acquire,
        TryAcquire,
        AcquireTimeout,
        Release,
        Release,
        ReleaseN(2),
        Value,
    ];
    let plans: Vec<_> = (0..6)
        .map(|seed| Plans::make(seed, 3, 4, &choices, |op, _, _| op))
        .collect();
    explore_linearizable(|| AnySemaphore::Plain(Semaphore::new(1), 1), plans.clone());
    explore_linearizable(|| AnySemaphore::Bounded(BoundedSemaphore::new(2), 2), plans);
}

/// EVENT-1, EVENT-3, EVENT-4: the same for an Event.
#[test]
fn event_schedules_are_linearizable() {
    use EventOp::*;
    let choices = [Set, Clear, IsSet, Wait, WaitTimeout, WaitTimeout];
    let plans = (0..6)
        .map(|seed| Plans::make(seed, 3, 4, &choices, |op, _, _| op))
        .collect();
    explore_linearizable(Event::new, plans);
}

/// QUEUE-1, QUEUE-3, QUEUE-4, QUEUE-5, QUEUE-7, QUEUE-8: the same for a Queue, a LifoQueue
/// and a PriorityQueue of capacity 1 and 2, shutdowns included.
#[test]
fn queue_schedules_are_linearizable() {
    use QueueOp::*;
    let choices = [
        Put(0),
        TryPut(0),
        PutTimeout(0),
        Get,
        Get,
        TryGet,
        GetTimeout,
        Shutdown(false),
        Shutdown(true),
    ];
    // Every put's item is unique: 100 * thread + call.
    let unique = |op, t: usize, i: usize| {
        let item = (100 * t + i) as i64;
        match op {
            Put(_) => Put(item),
            TryPut(_) => TryPut(item),
            PutTimeout(_) => PutTimeout(item),
            other => other,
        }
    };
    let plans: Vec<_> = (0..6)
        .map(|seed| Plans::make(seed, 3, 4, &choices, unique))
        .collect();
    explore_linearizable(|| AnyQueue::new(Order::Fifo, 1), plans.clone());
    explore_linearizable(|| AnyQueue::new(Order::Fifo, 2), plans.clone());
    explore_linearizable(|| AnyQueue::new(Order::Lifo, 2), plans.clone());
    explore_linearizable(|| AnyQueue::new(Order::Priority, 2), plans);
}

// The process primitives' state machines (src/process/), on the modelled futex: each shuttle
// thread stands for a process, and `model::exit_process` makes one die holding what it holds.

use locksmith::__internals::Deadline;
use locksmith::__internals::model::exit_process;
use locksmith::process::raw::{RawEvent, RawLock, RawRLock, RawSemaphore, RawValue};

fn untimed() -> Deadline {
    Deadline::never()
}

fn timed() -> Deadline {
    Deadline::after(TIMED)
}

fn now() -> Deadline {
    Deadline::after(Duration::ZERO)
}

/// PROC-1, PROC-2 at scale: 6 processes x 5 acquisitions of every kind on a process Lock;
/// every one that succeeded entered alone, and a third of them are released by the next
/// process in line rather than the taker (a Lock has no owner).
#[test]
fn process_lock_six_processes_mixed_acquires() {
    explore(|| {
        let shared = Arc::new((RawLock::new(), Unguarded::new(), AtomicUsize::new(0)));
        let threads: Vec<_> = (0..6)
            .map(|t| {
                let shared = Arc::clone(&shared);
                thread::spawn(move || {
                    let (lock, data, entered) = &*shared;
                    for i in 0..5 {
                        if attempt(
                            t,
                            i,
                            || assert!(lock.acquire_until(&untimed())),
                            || lock.acquire_until(&timed()),
                            || lock.try_acquire(),
                        ) {
                            data.increment();
                            entered.fetch_add(1, Ordering::SeqCst);
                            lock.release().unwrap();
                        }
                    }
                })
            })
            .collect();
        for handle in threads {
            handle.join().unwrap();
        }
        let (lock, data, entered) = &*shared;
        assert_eq!(
            data.get(),
            entered.load(Ordering::SeqCst),
            "an update was lost"
        );
        assert!(!lock.locked());
        assert!(lock.release().is_err());
    });
}

/// PROC-3 at scale: 5 processes on 2 permits, taking one or (with a timeout) two, timed,
/// untimed and try: never more than 2 inside, and all permits back at the end.
#[test]
fn process_semaphore_five_processes_on_two_permits() {
    explore(|| {
        let shared = Arc::new((RawSemaphore::new(2, true), AtomicUsize::new(0)));
        let threads: Vec<_> = (0..5)
            .map(|t| {
                let shared = Arc::clone(&shared);
                thread::spawn(move || {
                    let (semaphore, inside) = &*shared;
                    for i in 0..4 {
                        let mut taken = 0;
                        if attempt(
                            t,
                            i,
                            || assert!(semaphore.acquire_until(&untimed())),
                            || semaphore.acquire_until(&timed()),
                            || semaphore.try_acquire(),
                        ) {
                            taken += 1;
                            if (t + i) % 4 == 3 && semaphore.acquire_until(&timed()) {
                                taken += 1;
                            }
                        }
                        let now = inside.fetch_add(taken, Ordering::SeqCst) + taken;
                        assert!(now <= 2, "{now} permits in use out of 2");
                        inside.fetch_sub(taken, Ordering::SeqCst);
                        semaphore.release_n(taken, true).unwrap();
                    }
                })
            })
            .collect();
        for handle in threads {
            handle.join().unwrap();
        }
        assert_eq!(shared.0.value(), 2);
        assert!(shared.0.release_n(1, true).is_err());
    });
}

/// PROC-4 at scale: 4 waiters (two untimed, two timed), a clearer and a setter: every untimed
/// waiter returns true, and a timed one returns false only if it had not seen a set.
#[test]
fn process_event_four_waiters_a_setter_and_a_clearer() {
    explore(|| {
        let event = Arc::new(RawEvent::new());
        let waiters: Vec<_> = (0..4)
            .map(|t| {
                let event = Arc::clone(&event);
                thread::spawn(move || {
                    if t % 2 == 0 {
                        assert!(event.wait_until(&untimed()));
                    } else {
                        let _ = event.wait_until(&timed());
                    }
                })
            })
            .collect();
        let clearer = {
            let event = Arc::clone(&event);
            thread::spawn(move || {
                for _ in 0..3 {
                    event.clear();
                    thread::yield_now();
                }
            })
        };
        event.set();
        clearer.join().unwrap();
        // The untimed waiters need a set after the clearer is done to be sure of one.
        event.set();
        for waiter in waiters {
            waiter.join().unwrap();
        }
        assert!(event.is_set());
    });
}

/// PROC-5, PROC-6 at scale: 4 processes share an RLock, re-entering it; one of them dies
/// holding it (twice over). Every other process still gets in, exactly one of them is told
/// the owner died, and no update under the lock is lost.
#[test]
fn process_rlock_four_processes_one_dies_holding() {
    explore(|| {
        let shared = Arc::new((RawRLock::new(), Unguarded::new(), AtomicUsize::new(0)));
        let doomed = {
            let shared = Arc::clone(&shared);
            thread::spawn(move || {
                let (rlock, data, _) = &*shared;
                if rlock.acquire_until(&untimed()).is_err() {
                    unreachable!("nobody died before the doomed process");
                }
                assert_eq!(rlock.acquire_until(&now()), Ok(true));
                data.increment();
                exit_process();
            })
        };
        let threads: Vec<_> = (0..3)
            .map(|t| {
                let shared = Arc::clone(&shared);
                thread::spawn(move || {
                    let (rlock, data, deaths) = &*shared;
                    for i in 0..3 {
                        let got = match (t + i) % 3 {
                            0 => rlock.acquire_until(&untimed()),
                            1 => rlock.acquire_until(&timed()),
                            _ => rlock.acquire_until(&now()),
                        };
                        let held = match got {
                            Ok(held) => held,
                            Err(_died) => {
                                deaths.fetch_add(1, Ordering::SeqCst);
                                true
                            }
                        };
                        if held {
                            assert_eq!(rlock.acquire_until(&now()), Ok(true));
                            data.increment();
                            rlock.release().unwrap();
                            rlock.release().unwrap();
                        }
                    }
                })
            })
            .collect();
        doomed.join().unwrap();
        for handle in threads {
            handle.join().unwrap();
        }
        let (rlock, _, deaths) = &*shared;
        let deaths = deaths.load(Ordering::SeqCst);
        // The doomed process holds it until someone takes it over; if nobody untimed came
        // after its death, it may still hold it.
        assert!(deaths <= 1, "{deaths} take-overs of one death");
        if deaths == 0 {
            assert!(
                rlock.locked(),
                "the dead process's lock was freed without a take-over"
            );
        }
    });
}

/// PROC-6 at scale: 6 processes increment a Value; one dies mid-update holding it. The
/// take-over is reported to exactly one process (the main one, if the death came last), with
/// the half-done value, and every finished increment of the others counts.
#[test]
fn process_value_six_processes_one_dies_mid_update() {
    explore(|| {
        let shared = Arc::new((RawValue::new(0u64), AtomicUsize::new(0)));
        let doomed = {
            let shared = Arc::clone(&shared);
            thread::spawn(move || {
                let mut guard = shared.0.lock_until(&untimed()).unwrap().unwrap();
                *guard += 1000; // half-way through an update that would have undone it
                std::mem::forget(guard);
                exit_process();
            })
        };
        let threads: Vec<_> = (0..5)
            .map(|_| {
                let shared = Arc::clone(&shared);
                thread::spawn(move || {
                    let (value, deaths) = &*shared;
                    for _ in 0..2 {
                        let mut guard = match value.lock_until(&untimed()).unwrap() {
                            Ok(guard) => guard,
                            Err(died) => {
                                deaths.fetch_add(1, Ordering::SeqCst);
                                died.into_inner()
                            }
                        };
                        *guard += 1;
                    }
                })
            })
            .collect();
        doomed.join().unwrap();
        for handle in threads {
            handle.join().unwrap();
        }
        let (value, deaths) = &*shared;
        let deaths = deaths.load(Ordering::SeqCst);
        assert!(deaths <= 1, "{deaths} take-overs of one death");
        // If the doomed process locked last, nobody has taken it over yet: we do now.
        let last = value.lock_until(&now()).unwrap();
        assert_eq!(
            last.is_err(),
            deaths == 0,
            "the death was reported {deaths} times before"
        );
        assert_eq!(*last.unwrap_or_else(|died| died.into_inner()), 1000 + 10);
    });
}
