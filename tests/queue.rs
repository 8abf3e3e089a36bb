#![cfg(not(loom))]
//! Std-thread checks of the queue module that are not ports or proptests: the type-level
//! promises (Send + Sync) and a many-thread stress of every store, including the ring's lap
//! wrap-around at capacities 1, 2 and 3.
//!
//! QUEUE-1 no item lost or duplicated; QUEUE-3 FIFO per producer; QUEUE-4 no lost wake-up.

use std::collections::HashSet;
use std::sync::Arc;
use std::thread;

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
