//! One producer, two consumers around a bounded queue: the classic teaching example.
//!
//! The Python (3.13) it mirrors:
//!
//! ```python
//! q = queue.Queue(maxsize=3)
//! def consumer(name):
//!     try:
//!         while True:
//!             print(f"consumer {name} consumed {q.get()}")
//!     except queue.ShutDown:
//!         pass
//! threads = [threading.Thread(target=consumer, args=(c,)) for c in "AB"]
//! for t in threads: t.start()
//! for n in range(12):
//!     print(f"produced {n}")
//!     q.put(n)      # blocks while 3 items are waiting
//! q.shutdown()      # consumers drain the rest, then get() raises ShutDown
//! for t in threads: t.join()
//! ```

use locksmith::queue::{GetError, Queue};
use std::thread;
use std::time::Duration;

const ITEMS: u32 = 12;

fn main() {
    let queue = Queue::new(3);

    let consumed: Vec<(&str, Vec<u32>)> = thread::scope(|s| {
        let consumers: Vec<_> = ["A", "B"]
            .into_iter()
            .map(|name| {
                let queue = &queue;
                s.spawn(move || {
                    let mut got = Vec::new();
                    // get() without a timeout fails only with ShutDown, and only once the
                    // queue is shut down *and* empty: every item put has been handed out.
                    while let Ok(n) = queue.get() {
                        println!("consumer {name} consumed {n}");
                        got.push(n);
                        // Slower than the producer, so the queue fills up.
                        thread::sleep(Duration::from_millis(5));
                    }
                    (name, got)
                })
            })
            .collect();

        for n in 0..ITEMS {
            // Printed before the put, so "produced N" always precedes "consumed N".
            println!("produced {n}");
            // try_put hands the item back when the queue is full; put then parks the
            // producer until a consumer makes room (backpressure).
            if let Err(full) = queue.try_put(n) {
                println!("  queue full (maxsize {}): producer waits", queue.maxsize());
                queue
                    .put(full.into_inner())
                    .expect("only the producer shuts down");
            }
        }
        // Python 3.13's way to say "no more items". Before 3.13 the producer put one
        // sentinel per consumer (say `None`, here a `Queue<Option<u32>>`) and each consumer
        // returned on taking one; that needs a count of consumers and a special item type.
        queue.shutdown(false);

        consumers.into_iter().map(|c| c.join().unwrap()).collect()
    });

    let mut all = Vec::new();
    for (name, got) in &consumed {
        println!("consumer {name} consumed {} items: {got:?}", got.len());
        // One producer and a FIFO queue: each consumer sees its items in order.
        assert!(got.windows(2).all(|w| w[0] < w[1]), "out of order: {got:?}");
        all.extend_from_slice(got);
    }
    all.sort_unstable();
    assert_eq!(
        all,
        (0..ITEMS).collect::<Vec<_>>(),
        "lost or duplicated items"
    );
    assert_eq!(queue.get(), Err(GetError::ShutDown));
    println!(
        "total: {} of {ITEMS} items consumed, each exactly once",
        all.len()
    );
}
