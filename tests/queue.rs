#![cfg(not(loom))]
//! Std-thread checks of the queue module that are not ports or proptests: the type-level
//! promises (Send + Sync) and a many-thread stress of every store, including the ring's lap
//! wrap-around at capacities 1, 2 and 3.
//!
//! QUEUE-1 no item lost or duplicated; QUEUE-3 FIFO per producer; QUEUE-4 no lost wake-up.

use std::collections::HashSet;
use std::panic::{self, AssertUnwindSafe};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, mpsc};
use std::thread;
use std::time::Duration;

use locksmith::queue::{GetError, LifoQueue, PriorityQueue, Queue, SimpleQueue};

fn assert_send_sync<T: Send + Sync>() {}

/// Every queue type is `Send + Sync` when its items are `Send`.
#[test]
fn queues_are_send_and_sync() {
    assert_send_sync::<Queue<Box<u8>>>();
    assert_send_sync::<LifoQueue<Box<u8>>>();
    assert_send_sync::<PriorityQueue<Box<u8>>>();
    assert_send_sync::<SimpleQueue<Box<u8>>>();
}

const PRODUCERS: usize = 3;
const CONSUMERS: usize = 3;
/// Items per producer. Under Miri, which interprets every step, 40 instead of 20 000: still
/// enough to wrap the small rings many times (a lower count for Miri only; the checks are
/// the same).
const PER_PRODUCER: usize = if cfg!(miri) { 40 } else { 20_000 };

/// Three producers and three consumers through a small ring (and the locked FIFO): every
/// item arrives exactly once, and each producer's items arrive in order at each consumer.
/// QUEUE-1, QUEUE-3, QUEUE-4.
#[test]
fn fifo_stress_every_item_once_in_producer_order() {
    for maxsize in [1, 2, 3, 64, 0] {
        let queue = Arc::new(Queue::new(maxsize));
        let received: Vec<Vec<(usize, usize)>> = thread::scope(|s| {
            for producer in 0..PRODUCERS {
                let queue = &queue;
                s.spawn(move || {
                    for n in 0..PER_PRODUCER {
                        queue.put((producer, n)).unwrap();
                    }
                });
            }
            let consumers: Vec<_> = (0..CONSUMERS)
                .map(|_| {
                    let queue = &queue;
                    s.spawn(move || {
                        let mut got = Vec::new();
                        loop {
                            match queue.get() {
                                Ok(item) => got.push(item),
                                Err(GetError::ShutDown) => return got,
                                Err(GetError::Empty) => unreachable!("an untimed get"),
                            }
                        }
                    })
                })
                .collect();
            // Shut down once every item is in: consumers drain, then stop.
            while queue.unfinished_tasks() < PRODUCERS * PER_PRODUCER {
                thread::yield_now();
            }
            queue.shutdown(false);
            consumers.into_iter().map(|c| c.join().unwrap()).collect()
        });
        let mut seen = HashSet::new();
        for got in &received {
            let mut last = [None; PRODUCERS];
            for &(producer, n) in got {
                assert!(
                    seen.insert((producer, n)),
                    "maxsize {maxsize}: {producer}/{n} twice"
                );
                assert!(
                    last[producer].is_none_or(|previous| previous < n),
                    "maxsize {maxsize}: producer {producer}'s items out of order"
                );
                last[producer] = Some(n);
            }
        }
        assert_eq!(seen.len(), PRODUCERS * PER_PRODUCER, "maxsize {maxsize}");
    }
}

/// An item that counts its drops and, when `bomb` is set, panics in `Drop`.
struct Bomb {
    bomb: bool,
    dropped: Arc<AtomicUsize>,
}

impl Drop for Bomb {
    fn drop(&mut self) {
        self.dropped.fetch_add(1, Ordering::Relaxed);
        // Not while unwinding from a failed check: a second panic would abort the run.
        if self.bomb && !thread::panicking() {
            panic!("an item's Drop panicked");
        }
    }
}

/// `shutdown(true)` drops what it drains. An item whose `Drop` panics must not leave the
/// drain open (every later `task_done` would wait for it forever) nor stop the drain half
/// way (the items after it would stay in the queue, unfinished, and `join` would hang): the
/// drain goes on, drops and counts every item, and the first panic comes out of `shutdown`
/// at the end. QUEUE-6.
#[test]
fn a_panicking_drop_does_not_wedge_the_drain() {
    struct Ops<Q> {
        put: fn(&Q, Bomb),
        shutdown: fn(&Q),
        task_done: fn(&Q) -> bool,
        join: fn(&Q),
    }
    fn check<Q: Sync>(name: &str, queue: Q, ops: Ops<Q>) {
        let dropped = Arc::new(AtomicUsize::new(0));
        for bomb in [false, true, false, true] {
            let dropped = Arc::clone(&dropped);
            (ops.put)(&queue, Bomb { bomb, dropped });
        }
        let outcome = panic::catch_unwind(AssertUnwindSafe(|| (ops.shutdown)(&queue)));
        assert!(
            outcome.is_err(),
            "{name}: the item's panic must come out of shutdown"
        );
        assert_eq!(
            dropped.load(Ordering::Relaxed),
            4,
            "{name}: the drain stopped at the panicking item"
        );
        let (done_tx, done_rx) = mpsc::channel();
        thread::scope(|s| {
            s.spawn(|| {
                // Every item was drained and counted done, so nothing is left to finish.
                let accepted = (ops.task_done)(&queue);
                (ops.join)(&queue);
                done_tx.send(accepted).unwrap();
            });
            match done_rx.recv_timeout(Duration::from_secs(10)) {
                Ok(accepted) => assert!(!accepted, "{name}: task_done with nothing unfinished"),
                Err(_) => {
                    eprintln!("{name}: task_done or join still blocked after 10 s");
                    std::process::abort();
                }
            }
        });
    }
    // The queue types share no trait, so the same calls are spelled out once per type here.
    macro_rules! check_queue {
        ($name:expr, $queue:expr) => {
            check(
                $name,
                $queue,
                Ops {
                    put: |q, b| q.put(b).unwrap(),
                    shutdown: |q| q.shutdown(true),
                    task_done: |q| q.task_done().is_ok(),
                    join: |q| q.join(),
                },
            )
        };
    }
    check_queue!("Queue(8)", Queue::new(8));
    check_queue!("Queue(0)", Queue::new(0));
    check_queue!("LifoQueue(8)", LifoQueue::new(8));
}

/// A bounded `Queue` runs on the ring while its slots fit in 4 MiB, and on the locked store
/// past that (or unbounded). Both behave the same, so only this can tell that a bounded queue
/// silently fell back to the slower store.
#[test]
fn bounded_queues_up_to_four_mebibytes_use_the_ring() {
    // A slot is its stamp word and the item: 16 bytes for a u64.
    let most_slots = (4 << 20) / 16;
    assert!(Queue::<u64>::new(1).uses_ring());
    assert!(Queue::<u64>::new(64).uses_ring());
    assert!(
        !Queue::<u64>::new(0).uses_ring(),
        "an unbounded queue has no ring"
    );
    // Under Miri, which interprets every step, the 4 MiB ring would take minutes to build.
    if !cfg!(miri) {
        assert!(Queue::<u64>::new(most_slots).uses_ring());
        assert!(!Queue::<u64>::new(most_slots + 1).uses_ring());
    }
}

/// Dropping a queue drops the items still in it, in every store, including a ring whose
/// items sit across the lap boundary.
#[test]
fn dropping_a_queue_drops_what_is_left() {
    let item = Arc::new(());
    let left_behind = |queue: &dyn Fn(Arc<()>)| {
        for _ in 0..3 {
            queue(Arc::clone(&item));
        }
    };
    {
        let ring = Queue::new(4);
        assert!(ring.uses_ring());
        // Move the ring's positions on, so that what is left wraps around its end.
        for _ in 0..3 {
            ring.put(Arc::clone(&item)).unwrap();
            ring.get().unwrap();
        }
        left_behind(&|i| ring.put(i).unwrap());
        let locked = Queue::new(0);
        left_behind(&|i| locked.put(i).unwrap());
        let lifo = LifoQueue::new(0);
        left_behind(&|i| lifo.put(i).unwrap());
        let priority = PriorityQueue::new(0);
        left_behind(&|i| priority.put(i).unwrap());
        let simple = SimpleQueue::new();
        left_behind(&|i| simple.put(i));
        assert_eq!(Arc::strong_count(&item), 1 + 5 * 3);
    }
    assert_eq!(
        Arc::strong_count(&item),
        1,
        "a dropped queue kept items alive"
    );
}
