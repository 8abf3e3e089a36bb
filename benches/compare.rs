//! Every primitive beside what a user would pick instead, in one run, as one table.
//!
//! `cargo bench --bench compare` runs it all (a few minutes on 2 cores);
//! `cargo bench --bench compare -- lock queue` runs the groups whose names contain a word;
//! `-- --quick` runs fewer, shorter rounds. Each figure is the median of its rounds; the
//! ratio is locksmith's figure over the anchor's, and the target says which way is better.

#[cfg(loom)]
fn main() {}

#[cfg(not(loom))]
fn main() {
    // A child process of the process group's ping-pong rows (see `process_child`).
    #[cfg(target_os = "linux")]
    if bench::process_child() {
        return;
    }
    bench::main();
}

#[cfg(not(loom))]
mod bench {
    use std::collections::VecDeque;
    use std::hint::black_box;
    use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
    use std::sync::mpsc;
    use std::sync::{Barrier, Condvar, Mutex as StdMutex};
    use std::thread;
    use std::time::{Duration, Instant};

    use parking_lot::lock_api::RawMutex as _;

    /// Keeps each shared object on cache lines of its own, so neighbours do not false-share.
    #[repr(align(128))]
    struct Padded<T>(T);

    impl<T> std::ops::Deref for Padded<T> {
        type Target = T;
        fn deref(&self) -> &T {
            &self.0
        }
    }

    struct Config {
        /// Rounds per measurement inside one pass (1: the passes give the rounds).
        rounds: usize,
        /// Passes over every selected group. Each row's figures are medians over the passes, so
        /// a row's locksmith and anchor rounds alternate in time and drift hits both alike.
        passes: usize,
        /// How long one round of a throughput row runs.
        window: Duration,
        /// Operations per round of a per-operation row.
        ops: u64,
        /// Items per round of a queue row.
        items: u64,
        filters: Vec<String>,
    }

    /// Which way a row's figure is better, and what ratio meets its target.
    #[derive(Clone, Copy)]
    enum Target {
        /// ns per op: locksmith / anchor must be at most this.
        AtMost(f64),
        /// ops per second: locksmith / anchor must be at least this.
        AtLeast(f64),
        /// Reported for comparison only.
        None,
    }

    struct Row {
        group: &'static str,
        name: String,
        unit: &'static str,
        ours: f64,
        anchor: String,
        theirs: f64,
        target: Target,
    }

    fn median(mut samples: Vec<f64>) -> f64 {
        samples.sort_by(f64::total_cmp);
        samples[samples.len() / 2]
    }

    /// ns per call of `op`, the median over the rounds.
    fn per_op(config: &Config, mut op: impl FnMut()) -> f64 {
        for _ in 0..config.ops / 10 {
            op();
        }
        let samples = (0..config.rounds)
            .map(|_| {
                let start = Instant::now();
                for _ in 0..config.ops {
                    op();
                }
                start.elapsed().as_nanos() as f64 / config.ops as f64
            })
            .collect();
        median(samples)
    }

    /// Calls of `op` per second, summed over `threads` threads that start together on a barrier
    /// and run for the config's window; the median over the rounds.
    fn throughput<S: Sync>(
        config: &Config,
        threads: usize,
        shared: &S,
        op: impl Fn(&S) + Sync,
    ) -> f64 {
        let samples = (0..config.rounds)
            .map(|_| {
                let stop = AtomicBool::new(false);
                let total = AtomicU64::new(0);
                let start = Barrier::new(threads + 1);
                let elapsed = thread::scope(|scope| {
                    for _ in 0..threads {
                        scope.spawn(|| {
                            start.wait();
                            let mut count = 0u64;
                            // Relaxed: a stop flag; the scope's join publishes the counts.
                            while !stop.load(Ordering::Relaxed) {
                                for _ in 0..16 {
                                    op(shared);
                                }
                                count += 16;
                            }
                            // Relaxed: read after the scope joins every thread.
                            total.fetch_add(count, Ordering::Relaxed);
                        });
                    }
                    start.wait();
                    let began = Instant::now();
                    thread::sleep(config.window);
                    // Relaxed: only asks the threads to stop; no data rides on it.
                    stop.store(true, Ordering::Relaxed);
                    began
                });
                let seconds = elapsed.elapsed().as_secs_f64();
                // Relaxed: every thread has been joined.
                total.load(Ordering::Relaxed) as f64 / seconds
            })
            .collect();
        median(samples)
    }

    /// Items per second through a channel-like pair of closures: `producers` threads each
    /// putting their share of the config's items, `consumers` threads each taking theirs.
    fn transfer<S: Sync>(
        config: &Config,
        producers: u64,
        consumers: u64,
        shared: &S,
        put: impl Fn(&S, u64) + Sync,
        get: impl Fn(&S) -> u64 + Sync,
    ) -> f64 {
        let items = config.items - config.items % (producers * consumers);
        let samples = (0..config.rounds)
            .map(|_| {
                let start = Barrier::new((producers + consumers) as usize + 1);
                let sum = AtomicU64::new(0);
                let began = thread::scope(|scope| {
                    for _ in 0..producers {
                        scope.spawn(|| {
                            start.wait();
                            for item in 0..items / producers {
                                put(shared, item);
                            }
                        });
                    }
                    for _ in 0..consumers {
                        scope.spawn(|| {
                            start.wait();
                            let mut local = 0u64;
                            for _ in 0..items / consumers {
                                local = local.wrapping_add(get(shared));
                            }
                            // Relaxed: read after the scope joins every thread.
                            sum.fetch_add(local, Ordering::Relaxed);
                        });
                    }
                    start.wait();
                    Instant::now()
                });
                let seconds = began.elapsed().as_secs_f64();
                let per_producer = items / producers;
                let expected = producers * (per_producer * (per_producer.saturating_sub(1)) / 2);
                // Relaxed: every thread has been joined.
                assert_eq!(
                    sum.load(Ordering::Relaxed),
                    expected,
                    "items lost or doubled"
                );
                items as f64 / seconds
            })
            .collect();
        median(samples)
    }

    /// ns per round trip between two threads: `ping(i)` hands the turn over and waits for it
    /// back; `pong(i)` waits for the turn and hands it back.
    fn round_trip<S: Sync>(
        config: &Config,
        shared: &S,
        ping: impl Fn(&S) + Sync,
        pong: impl Fn(&S) + Sync,
    ) -> f64 {
        let trips = (config.items / 10).max(1000);
        let samples = (0..config.rounds)
            .map(|_| {
                let start = Barrier::new(2);
                thread::scope(|scope| {
                    scope.spawn(|| {
                        start.wait();
                        for _ in 0..trips {
                            pong(shared);
                        }
                    });
                    start.wait();
                    let began = Instant::now();
                    for _ in 0..trips {
                        ping(shared);
                    }
                    began.elapsed().as_nanos() as f64 / trips as f64
                })
            })
            .collect();
        median(samples)
    }

    // ---- anchors written here: the textbook forms a user would write by hand ----------------

    /// A semaphore from a Mutex and a Condvar, as in any textbook.
    struct TextbookSemaphore {
        permits: StdMutex<usize>,
        available: Condvar,
    }

    impl TextbookSemaphore {
        fn new(permits: usize) -> Self {
            TextbookSemaphore {
                permits: StdMutex::new(permits),
                available: Condvar::new(),
            }
        }
        fn acquire(&self) {
            let mut permits = self.permits.lock().unwrap();
            while *permits == 0 {
                permits = self.available.wait(permits).unwrap();
            }
            *permits -= 1;
        }
        fn release(&self) {
            *self.permits.lock().unwrap() += 1;
            self.available.notify_one();
        }
    }

    /// A bounded queue from a Mutex<VecDeque> and two Condvars.
    struct TextbookQueue {
        items: StdMutex<VecDeque<u64>>,
        not_empty: Condvar,
        not_full: Condvar,
        capacity: usize,
    }

    impl TextbookQueue {
        fn new(capacity: usize) -> Self {
            TextbookQueue {
                items: StdMutex::new(VecDeque::with_capacity(capacity)),
                not_empty: Condvar::new(),
                not_full: Condvar::new(),
                capacity,
            }
        }
        fn put(&self, item: u64) {
            let mut items = self.items.lock().unwrap();
            while items.len() == self.capacity {
                items = self.not_full.wait(items).unwrap();
            }
            items.push_back(item);
            drop(items);
            self.not_empty.notify_one();
        }
        fn get(&self) -> u64 {
            let mut items = self.items.lock().unwrap();
            loop {
                if let Some(item) = items.pop_front() {
                    drop(items);
                    self.not_full.notify_one();
                    return item;
                }
                items = self.not_empty.wait(items).unwrap();
            }
        }
    }

    /// An event from a Mutex<bool> and a Condvar (std or parking_lot).
    struct StdEvent {
        flag: StdMutex<bool>,
        changed: Condvar,
    }

    impl StdEvent {
        fn new() -> Self {
            StdEvent {
                flag: StdMutex::new(false),
                changed: Condvar::new(),
            }
        }
        fn set(&self) {
            *self.flag.lock().unwrap() = true;
            self.changed.notify_all();
        }
        fn clear(&self) {
            *self.flag.lock().unwrap() = false;
        }
        /// Waits for the flag, then clears it (one side of a ping-pong).
        fn wait_and_clear(&self) {
            let mut flag = self.flag.lock().unwrap();
            while !*flag {
                flag = self.changed.wait(flag).unwrap();
            }
            *flag = false;
        }
    }

    struct PlEvent {
        flag: parking_lot::Mutex<bool>,
        changed: parking_lot::Condvar,
    }

    impl PlEvent {
        fn new() -> Self {
            PlEvent {
                flag: parking_lot::Mutex::new(false),
                changed: parking_lot::Condvar::new(),
            }
        }
        fn set(&self) {
            *self.flag.lock() = true;
            self.changed.notify_all();
        }
        fn clear(&self) {
            *self.flag.lock() = false;
        }
        fn wait_and_clear(&self) {
            let mut flag = self.flag.lock();
            while !*flag {
                self.changed.wait(&mut flag);
            }
            *flag = false;
        }
    }

    /// Work inside a "long" critical section: a little arithmetic the optimiser cannot drop.
    #[inline]
    fn long_section(counter: &mut u64) {
        let mut x = *counter;
        for i in 0..100u64 {
            x = black_box(x.wrapping_mul(6364136223846793005).wrapping_add(i));
        }
        *counter = x;
    }

    // ---- the rows ----------------------------------------------------------------------------

    fn lock_rows(config: &Config, rows: &mut Vec<Row>) {
        let group = "lock";
        let lock = Padded(locksmith::Lock::new());
        let ours = per_op(config, || {
            black_box(&*lock).acquire();
            black_box(&*lock).release().unwrap();
        });
        let ours_guard = per_op(config, || drop(black_box(&*lock).lock()));
        let raw = Padded(parking_lot::RawMutex::INIT);
        let pl = per_op(config, || {
            black_box(&*raw).lock();
            // SAFETY: locked on the line above, by this thread.
            unsafe { black_box(&*raw).unlock() };
        });
        let std_mutex = Padded(StdMutex::new(()));
        let std_time = per_op(config, || drop(black_box(&*std_mutex).lock().unwrap()));
        let flag = Padded(AtomicBool::new(false));
        let floor = per_op(config, || {
            // Acquire/Release: the pair a spin lock needs, and nothing more: the floor.
            let _ = black_box(&*flag).compare_exchange(
                false,
                true,
                Ordering::Acquire,
                Ordering::Relaxed,
            );
            black_box(&*flag).store(false, Ordering::Release);
        });
        let uncontended = "uncontended acquire+release";
        rows.push(Row {
            group,
            name: uncontended.into(),
            unit: "ns/op",
            ours,
            anchor: "parking_lot RawMutex".into(),
            theirs: pl,
            target: Target::AtMost(1.0),
        });
        rows.push(Row {
            group,
            name: "uncontended lock() guard".into(),
            unit: "ns/op",
            ours: ours_guard,
            anchor: "parking_lot RawMutex".into(),
            theirs: pl,
            target: Target::AtMost(1.0),
        });
        rows.push(Row {
            group,
            name: uncontended.into(),
            unit: "ns/op",
            ours,
            anchor: "std Mutex<()>".into(),
            theirs: std_time,
            target: Target::None,
        });
        rows.push(Row {
            group,
            name: uncontended.into(),
            unit: "ns/op",
            ours,
            anchor: "CAS+store floor".into(),
            theirs: floor,
            target: Target::None,
        });

        for threads in [2, 4, 8] {
            for long in [false, true] {
                let section = if long { "long" } else { "short" };
                let name = format!("contended, {threads} threads, {section} section");
                let ours_lock = Padded((locksmith::Lock::new(), std::cell::UnsafeCell::new(0u64)));
                struct Shared<L>(L);
                // SAFETY: the counter inside is touched only while the lock beside it is held.
                unsafe impl<L> Sync for Shared<L> {}
                let ours_shared = Shared(&*ours_lock);
                let ours = throughput(config, threads, &ours_shared, |shared| {
                    let _held = shared.0.0.lock();
                    // SAFETY: the lock is held, so no other thread touches the counter.
                    let counter = unsafe { &mut *shared.0.1.get() };
                    if long {
                        long_section(counter)
                    } else {
                        *counter += 1
                    }
                });
                let pl_mutex = Padded(parking_lot::Mutex::new(0u64));
                let pl = throughput(config, threads, &pl_mutex, |m| {
                    let mut counter = m.lock();
                    if long {
                        long_section(&mut counter)
                    } else {
                        *counter += 1
                    }
                });
                let std_mutex = Padded(StdMutex::new(0u64));
                let std_ops = throughput(config, threads, &std_mutex, |m| {
                    let mut counter = m.lock().unwrap();
                    if long {
                        long_section(&mut counter)
                    } else {
                        *counter += 1
                    }
                });
                let (anchor, theirs) = if pl >= std_ops {
                    ("parking_lot Mutex (the better)", pl)
                } else {
                    ("std Mutex (the better)", std_ops)
                };
                rows.push(Row {
                    group,
                    name: name.clone(),
                    unit: "ops/s",
                    ours,
                    anchor: anchor.into(),
                    theirs,
                    target: Target::AtLeast(1.0),
                });
                let (other, other_ops) = if pl >= std_ops {
                    ("std Mutex", std_ops)
                } else {
                    ("parking_lot Mutex", pl)
                };
                rows.push(Row {
                    group,
                    name,
                    unit: "ops/s",
                    ours,
                    anchor: other.into(),
                    theirs: other_ops,
                    target: Target::None,
                });
            }
        }
    }

    fn rlock_rows(config: &Config, rows: &mut Vec<Row>) {
        let group = "rlock";
        for depth in [1, 3] {
            let rlock = Padded(locksmith::RLock::new());
            let ours = per_op(config, || {
                for _ in 0..depth {
                    black_box(&*rlock).acquire();
                }
                for _ in 0..depth {
                    black_box(&*rlock).release().unwrap();
                }
            });
            let pl = Padded(parking_lot::ReentrantMutex::new(()));
            let theirs = per_op(config, || {
                if depth == 1 {
                    drop(black_box(&*pl).lock());
                } else {
                    let a = black_box(&*pl).lock();
                    let b = black_box(&*pl).lock();
                    let c = black_box(&*pl).lock();
                    drop((c, b, a));
                }
            });
            rows.push(Row {
                group,
                name: format!("re-entrant acquire+release, depth {depth}"),
                unit: "ns/op",
                ours,
                anchor: "parking_lot ReentrantMutex".into(),
                theirs,
                target: Target::AtMost(1.0),
            });
        }
    }

    fn semaphore_rows(config: &Config, rows: &mut Vec<Row>) {
        let group = "semaphore";
        let sem = Padded(locksmith::Semaphore::new(1));
        let ours = per_op(config, || {
            black_box(&*sem).acquire();
            black_box(&*sem).release();
        });
        let textbook = Padded(TextbookSemaphore::new(1));
        let tb = per_op(config, || {
            black_box(&*textbook).acquire();
            black_box(&*textbook).release();
        });
        let async_sem = Padded(async_lock::Semaphore::new(1));
        let asl = per_op(config, || drop(black_box(&*async_sem).acquire_blocking()));
        let name = "uncontended acquire+release";
        rows.push(Row {
            group,
            name: name.into(),
            unit: "ns/op",
            ours,
            anchor: "Mutex<usize>+Condvar".into(),
            theirs: tb,
            target: Target::AtMost(0.1),
        });
        rows.push(Row {
            group,
            name: name.into(),
            unit: "ns/op",
            ours,
            anchor: "async-lock acquire_blocking".into(),
            theirs: asl,
            target: Target::None,
        });

        let threads = 8;
        let name = "8 threads on 2 permits";
        let sem = Padded(locksmith::Semaphore::new(2));
        let ours = throughput(config, threads, &sem, |s| {
            s.acquire();
            black_box(0);
            s.release();
        });
        let textbook = Padded(TextbookSemaphore::new(2));
        let tb = throughput(config, threads, &textbook, |s| {
            s.acquire();
            black_box(0);
            s.release();
        });
        let async_sem = Padded(async_lock::Semaphore::new(2));
        let asl = throughput(config, threads, &async_sem, |s| drop(s.acquire_blocking()));
        rows.push(Row {
            group,
            name: name.into(),
            unit: "ops/s",
            ours,
            anchor: "Mutex<usize>+Condvar".into(),
            theirs: tb,
            target: Target::AtLeast(10.0),
        });
        rows.push(Row {
            group,
            name: name.into(),
            unit: "ops/s",
            ours,
            anchor: "async-lock acquire_blocking".into(),
            theirs: asl,
            target: Target::None,
        });
    }

    fn event_rows(config: &Config, rows: &mut Vec<Row>) {
        let group = "event";
        let event = Padded(locksmith::Event::new());
        let ours = per_op(config, || {
            black_box(&*event).set();
            black_box(&*event).clear();
        });
        let std_event = Padded(StdEvent::new());
        let std_time = per_op(config, || {
            black_box(&*std_event).set();
            black_box(&*std_event).clear();
        });
        let pl_event = Padded(PlEvent::new());
        let pl_time = per_op(config, || {
            black_box(&*pl_event).set();
            black_box(&*pl_event).clear();
        });
        let name = "set+clear, no waiter";
        rows.push(Row {
            group,
            name: name.into(),
            unit: "ns/op",
            ours,
            anchor: "std Mutex<bool>+Condvar".into(),
            theirs: std_time,
            target: Target::None,
        });
        rows.push(Row {
            group,
            name: name.into(),
            unit: "ns/op",
            ours,
            anchor: "parking_lot Mutex<bool>+Condvar".into(),
            theirs: pl_time,
            target: Target::None,
        });

        let cond = Padded(locksmith::Condition::with_lock(locksmith::Lock::new()));
        let ours = per_op(config, || {
            let cond = black_box(&*cond);
            cond.acquire();
            cond.notify().unwrap();
            cond.release().unwrap();
        });
        let std_pair = Padded((StdMutex::new(()), Condvar::new()));
        let std_time = per_op(config, || {
            let pair = black_box(&*std_pair);
            let held = pair.0.lock().unwrap();
            pair.1.notify_one();
            drop(held);
        });
        let pl_pair = Padded((parking_lot::Mutex::new(()), parking_lot::Condvar::new()));
        let pl_time = per_op(config, || {
            let pair = black_box(&*pl_pair);
            let held = pair.0.lock();
            pair.1.notify_one();
            drop(held);
        });
        let name = "Condition lock+notify+unlock, no waiter";
        rows.push(Row {
            group,
            name: name.into(),
            unit: "ns/op",
            ours,
            anchor: "std Mutex+Condvar".into(),
            theirs: std_time,
            target: Target::None,
        });
        rows.push(Row {
            group,
            name: name.into(),
            unit: "ns/op",
            ours,
            anchor: "parking_lot Mutex+Condvar".into(),
            theirs: pl_time,
            target: Target::None,
        });

        // Ping-pong: each side waits for its event, clears it and sets the other side's.
        let pair = Padded((locksmith::Event::new(), locksmith::Event::new()));
        let ours = round_trip(
            config,
            &*pair,
            |p| {
                p.0.set();
                p.1.wait();
                p.1.clear();
            },
            |p| {
                p.0.wait();
                p.0.clear();
                p.1.set();
            },
        );
        let std_pair = Padded((StdEvent::new(), StdEvent::new()));
        let std_time = round_trip(
            config,
            &*std_pair,
            |p| {
                p.0.set();
                p.1.wait_and_clear();
            },
            |p| {
                p.0.wait_and_clear();
                p.1.set();
            },
        );
        let pl_pair = Padded((PlEvent::new(), PlEvent::new()));
        let pl_time = round_trip(
            config,
            &*pl_pair,
            |p| {
                p.0.set();
                p.1.wait_and_clear();
            },
            |p| {
                p.0.wait_and_clear();
                p.1.set();
            },
        );
        let name = "ping-pong round trip, two Events";
        rows.push(Row {
            group,
            name: name.into(),
            unit: "ns/trip",
            ours,
            anchor: "std Mutex<bool>+Condvar".into(),
            theirs: std_time,
            target: Target::None,
        });
        rows.push(Row {
            group,
            name: name.into(),
            unit: "ns/trip",
            ours,
            anchor: "parking_lot Mutex<bool>+Condvar".into(),
            theirs: pl_time,
            target: Target::None,
        });

        // The same over one Condition and a turn counter.
        let cond = Padded((
            locksmith::Condition::with_lock(locksmith::Lock::new()),
            AtomicUsize::new(0),
        ));
        let turn = |shared: &(locksmith::Condition<locksmith::Lock>, AtomicUsize), mine: usize| {
            let (cond, turn) = shared;
            cond.acquire();
            // Relaxed: read and written only while the condition's lock is held.
            while turn.load(Ordering::Relaxed) % 2 != mine {
                cond.wait().unwrap();
            }
            turn.fetch_add(1, Ordering::Relaxed); // Relaxed: under the lock, as above.
            cond.notify().unwrap();
            cond.release().unwrap();
        };
        let ours = round_trip(
            config,
            &*cond,
            |c| {
                turn(c, 0);
            },
            |c| {
                turn(c, 1);
            },
        );
        let std_cond = Padded((StdMutex::new(0usize), Condvar::new()));
        let std_turn = |shared: &(StdMutex<usize>, Condvar), mine: usize| {
            let mut turn = shared.0.lock().unwrap();
            while *turn % 2 != mine {
                turn = shared.1.wait(turn).unwrap();
            }
            *turn += 1;
            shared.1.notify_one();
        };
        let std_time = round_trip(config, &*std_cond, |c| std_turn(c, 0), |c| std_turn(c, 1));
        let pl_cond = Padded((parking_lot::Mutex::new(0usize), parking_lot::Condvar::new()));
        let pl_turn = |shared: &(parking_lot::Mutex<usize>, parking_lot::Condvar), mine: usize| {
            let mut turn = shared.0.lock();
            while *turn % 2 != mine {
                shared.1.wait(&mut turn);
            }
            *turn += 1;
            shared.1.notify_one();
        };
        let pl_time = round_trip(config, &*pl_cond, |c| pl_turn(c, 0), |c| pl_turn(c, 1));
        // A round trip is two turns, one on each side.
        let name = "ping-pong round trip, one Condition";
        rows.push(Row {
            group,
            name: name.into(),
            unit: "ns/trip",
            ours,
            anchor: "std Mutex+Condvar".into(),
            theirs: std_time,
            target: Target::None,
        });
        rows.push(Row {
            group,
            name: name.into(),
            unit: "ns/trip",
            ours,
            anchor: "parking_lot Mutex+Condvar".into(),
            theirs: pl_time,
            target: Target::None,
        });
    }

    fn queue_rows(config: &Config, rows: &mut Vec<Row>) {
        let group = "queue";
        for (name, producers, consumers) in
            [("bounded(64) SPSC", 1, 1), ("bounded(64) 4P/4C", 4, 4)]
        {
            let queue = Padded(locksmith::queue::Queue::new(64));
            let ours = transfer(
                config,
                producers,
                consumers,
                &queue,
                |q, item| q.put(item).unwrap(),
                |q| q.get().unwrap(),
            );
            let (tx, rx) = crossbeam_channel::bounded(64);
            let cb_pair = Padded((tx, rx));
            let cb = transfer(
                config,
                producers,
                consumers,
                &*cb_pair,
                |p, item| p.0.send(item).unwrap(),
                |p| p.1.recv().unwrap(),
            );
            let (tx, rx) = mpsc::sync_channel(64);
            let std_pair = Padded((tx, StdMutex::new(rx)));
            // std's Receiver is single-consumer: the 4-consumer row shares it behind a Mutex.
            let std_ops = transfer(
                config,
                producers,
                consumers,
                &*std_pair,
                |p, item| p.0.send(item).unwrap(),
                |p| p.1.lock().unwrap().recv().unwrap(),
            );
            let textbook = Padded(TextbookQueue::new(64));
            let tb = transfer(
                config,
                producers,
                consumers,
                &textbook,
                |q, item| q.put(item),
                |q| q.get(),
            );
            rows.push(Row {
                group,
                name: name.into(),
                unit: "items/s",
                ours,
                anchor: "crossbeam-channel bounded".into(),
                theirs: cb,
                target: Target::AtLeast(1.0),
            });
            rows.push(Row {
                group,
                name: name.into(),
                unit: "items/s",
                ours,
                anchor: "std sync_channel".into(),
                theirs: std_ops,
                target: Target::AtLeast(10.0),
            });
            rows.push(Row {
                group,
                name: name.into(),
                unit: "items/s",
                ours,
                anchor: "Mutex<VecDeque>+Condvar".into(),
                theirs: tb,
                target: Target::None,
            });
        }

        let name = "bounded(1) ping-pong round trip";
        let pair = Padded((
            locksmith::queue::Queue::new(1),
            locksmith::queue::Queue::new(1),
        ));
        let ours = round_trip(
            config,
            &*pair,
            |p| {
                p.0.put(1u64).unwrap();
                p.1.get().unwrap();
            },
            |p| {
                let x = p.0.get().unwrap();
                p.1.put(x).unwrap();
            },
        );
        let (a_tx, a_rx) = crossbeam_channel::bounded(1);
        let (b_tx, b_rx) = crossbeam_channel::bounded(1);
        let cb_pair = Padded((a_tx, a_rx, b_tx, b_rx));
        let cb = round_trip(
            config,
            &*cb_pair,
            |p| {
                p.0.send(1u64).unwrap();
                p.3.recv().unwrap();
            },
            |p| {
                let x = p.1.recv().unwrap();
                p.2.send(x).unwrap();
            },
        );
        let (a_tx, a_rx) = mpsc::sync_channel(1);
        let (b_tx, b_rx) = mpsc::sync_channel(1);
        let std_pair = Padded((a_tx, StdMutex::new(a_rx), b_tx, StdMutex::new(b_rx)));
        let std_time = round_trip(
            config,
            &*std_pair,
            |p| {
                p.0.send(1u64).unwrap();
                p.3.lock().unwrap().recv().unwrap();
            },
            |p| {
                let x = p.1.lock().unwrap().recv().unwrap();
                p.2.send(x).unwrap();
            },
        );
        rows.push(Row {
            group,
            name: name.into(),
            unit: "ns/trip",
            ours,
            anchor: "crossbeam-channel bounded(1)".into(),
            theirs: cb,
            target: Target::AtMost(1.0),
        });
        rows.push(Row {
            group,
            name: name.into(),
            unit: "ns/trip",
            ours,
            anchor: "std sync_channel(1)".into(),
            theirs: std_time,
            target: Target::AtMost(0.1),
        });
    }

    fn print_sizes() {
        use std::mem::size_of;
        println!("\n| type | bytes | | anchor | bytes |");
        println!("|---|---|---|---|---|");
        let pairs: [(&str, usize, &str, usize); 8] = [
            (
                "Lock",
                size_of::<locksmith::Lock>(),
                "parking_lot::Mutex<()>",
                size_of::<parking_lot::Mutex<()>>(),
            ),
            (
                "Lock",
                size_of::<locksmith::Lock>(),
                "std Mutex<()>",
                size_of::<StdMutex<()>>(),
            ),
            (
                "RLock",
                size_of::<locksmith::RLock>(),
                "parking_lot::ReentrantMutex<()>",
                size_of::<parking_lot::ReentrantMutex<()>>(),
            ),
            (
                "Semaphore",
                size_of::<locksmith::Semaphore>(),
                "async_lock::Semaphore",
                size_of::<async_lock::Semaphore>(),
            ),
            (
                "Event",
                size_of::<locksmith::Event>(),
                "std Mutex<bool>+Condvar",
                size_of::<StdMutex<bool>>() + size_of::<Condvar>(),
            ),
            (
                "Condition<Lock>",
                size_of::<locksmith::Condition<locksmith::Lock>>(),
                "parking_lot Mutex<()>+Condvar",
                size_of::<parking_lot::Mutex<()>>() + size_of::<parking_lot::Condvar>(),
            ),
            (
                "Barrier",
                size_of::<locksmith::Barrier>(),
                "std Barrier",
                size_of::<Barrier>(),
            ),
            (
                "Queue<u64>",
                size_of::<locksmith::queue::Queue<u64>>(),
                "crossbeam Sender+Receiver<u64>",
                size_of::<crossbeam_channel::Sender<u64>>()
                    + size_of::<crossbeam_channel::Receiver<u64>>(),
            ),
        ];
        for (ours, our_size, anchor, their_size) in pairs {
            println!("| {ours} | {our_size} | | {anchor} | {their_size} |");
        }
        println!("(Queue<u64> is the handle; the ring is one heap allocation of maxsize slots.)");
    }

    /// The environment variable that makes this binary a ping-pong child, and its kind.
    #[cfg(target_os = "linux")]
    const CHILD_ROLE: &str = "LOCKSMITH_BENCH_CHILD";
    #[cfg(target_os = "linux")]
    const CHILD_NAME: &str = "LOCKSMITH_BENCH_NAME";
    #[cfg(target_os = "linux")]
    const CHILD_TRIPS: &str = "LOCKSMITH_BENCH_TRIPS";

    /// Runs the ping-pong child's side if this process is one; true if it was.
    #[cfg(target_os = "linux")]
    pub fn process_child() -> bool {
        use std::io::{Read, Write};
        let Ok(role) = std::env::var(CHILD_ROLE) else {
            return false;
        };
        let trips: u64 = std::env::var(CHILD_TRIPS).unwrap().parse().unwrap();
        match role.as_str() {
            "events" => {
                let name = std::env::var(CHILD_NAME).unwrap();
                let ping = locksmith::process::Event::open(&format!("{name}-ping")).unwrap();
                let pong = locksmith::process::Event::open(&format!("{name}-pong")).unwrap();
                for _ in 0..trips {
                    ping.wait();
                    ping.clear();
                    pong.set();
                }
            }
            "pipe" => {
                let (mut input, mut output) = (std::io::stdin().lock(), std::io::stdout().lock());
                let mut byte = [0u8];
                for _ in 0..trips {
                    input.read_exact(&mut byte).unwrap();
                    output.write_all(&byte).unwrap();
                    output.flush().unwrap();
                }
            }
            "queue-consumer" => {
                // Gets `trips` messages, then answers on the done event.
                let name = std::env::var(CHILD_NAME).unwrap();
                let queue = locksmith::process::Queue::open(&name).unwrap();
                let done = locksmith::process::Event::open(&format!("{name}-done")).unwrap();
                for _ in 0..trips {
                    black_box(queue.get().unwrap());
                }
                done.set();
            }
            "socket-consumer" => {
                // Reads `trips` length-prefixed messages from stdin (a Unix socket), then
                // answers with one byte.
                let (mut input, mut output) = (std::io::stdin().lock(), std::io::stdout().lock());
                let mut buffer = vec![0u8; 1 << 16];
                for _ in 0..trips {
                    let mut len = [0u8; 4];
                    input.read_exact(&mut len).unwrap();
                    let len = u32::from_le_bytes(len) as usize;
                    input.read_exact(&mut buffer[..len]).unwrap();
                    black_box(&buffer[..len]);
                }
                output.write_all(&[1]).unwrap();
                output.flush().unwrap();
            }
            other => panic!("unknown bench child {other}"),
        }
        true
    }

    /// Messages per second from this process to a child through a process Queue of 1024
    /// slots: the clock runs from the first put to the child's done.
    #[cfg(target_os = "linux")]
    fn process_queue_items_per_s(items: u64, size: usize) -> f64 {
        let name = format!("/locksmith-bench-queue-{}-{size}", std::process::id());
        let queue = locksmith::process::Queue::create(&name, 1024, size).unwrap();
        let done = locksmith::process::Event::create(&format!("{name}-done")).unwrap();
        let mut child = std::process::Command::new(std::env::current_exe().unwrap())
            .env(CHILD_ROLE, "queue-consumer")
            .env(CHILD_NAME, &name)
            .env(CHILD_TRIPS, (items + 1).to_string())
            .spawn()
            .unwrap();
        let message = vec![7u8; size];
        // One message to let the child start before the clock does.
        queue.put(&message).unwrap();
        while !queue.is_empty() {
            thread::yield_now();
        }
        let start = Instant::now();
        for _ in 0..items {
            queue.put(&message).unwrap();
        }
        done.wait();
        let elapsed = start.elapsed();
        assert!(child.wait().unwrap().success());
        items as f64 / elapsed.as_secs_f64()
    }

    /// The same through a Unix socket pair, each message prefixed by its length.
    #[cfg(target_os = "linux")]
    fn socket_items_per_s(items: u64, size: usize) -> f64 {
        use std::io::{Read, Write};
        use std::os::fd::OwnedFd;
        use std::os::unix::net::UnixStream;
        use std::process::Stdio;
        let (mut ours, theirs) = UnixStream::pair().unwrap();
        let reply = ours.try_clone().unwrap();
        let theirs_out = theirs.try_clone().unwrap();
        let mut child = std::process::Command::new(std::env::current_exe().unwrap())
            .env(CHILD_ROLE, "socket-consumer")
            .env(CHILD_TRIPS, (items + 1).to_string())
            .stdin(Stdio::from(OwnedFd::from(theirs)))
            .stdout(Stdio::from(OwnedFd::from(theirs_out)))
            .spawn()
            .unwrap();
        let mut framed = (size as u32).to_le_bytes().to_vec();
        framed.extend(std::iter::repeat_n(7u8, size));
        // One message to let the child start; the socket's buffer takes it at once.
        ours.write_all(&framed).unwrap();
        let start = Instant::now();
        for _ in 0..items {
            ours.write_all(&framed).unwrap();
        }
        let mut answer = [0u8];
        (&reply).read_exact(&mut answer).unwrap();
        let elapsed = start.elapsed();
        assert!(child.wait().unwrap().success());
        items as f64 / elapsed.as_secs_f64()
    }

    /// CPython 3.13's multiprocessing.Queue (or SimpleQueue), items/s from the parent to one
    /// child, if a python3.13 is found.
    #[cfg(target_os = "linux")]
    fn cpython_mp_queue_items_per_s(kind: &str, items: u64, size: usize) -> Option<f64> {
        let home = std::env::var("HOME").unwrap_or_default();
        let candidates = [
            format!("{home}/.pyenv/versions/3.13.0/bin/python3"),
            "python3.13".to_string(),
        ];
        let make = if kind == "Queue" {
            "ctx.Queue(1024)"
        } else {
            "ctx.SimpleQueue()"
        };
        let script = format!(
            "import multiprocessing as mp, time\n\
            def consume(q, n, done):\n\
            \x20   for _ in range(n): q.get()\n\
            \x20   done.set()\n\
            if __name__ == '__main__':\n\
            \x20   ctx = mp.get_context('spawn'); q = {make}; done = ctx.Event()\n\
            \x20   n = {items}; item = bytes({size})\n\
            \x20   p = ctx.Process(target=consume, args=(q, n + 1, done)); p.start()\n\
            \x20   q.put(item)\n\
            \x20   time.sleep(0.5)\n\
            \x20   t = time.perf_counter()\n\
            \x20   for _ in range(n): q.put(item)\n\
            \x20   done.wait(); e = time.perf_counter() - t; p.join()\n\
            \x20   print(n / e)\n"
        );
        let dir = std::env::temp_dir().join(format!("locksmith-bench-{}", std::process::id()));
        std::fs::create_dir_all(&dir).ok()?;
        let path = dir.join("mpqueue.py");
        std::fs::write(&path, script).ok()?;
        let answer = candidates.iter().find_map(|python| {
            let out = std::process::Command::new(python)
                .arg(&path)
                .output()
                .ok()?;
            String::from_utf8(out.stdout).ok()?.trim().parse().ok()
        });
        let _ = std::fs::remove_dir_all(&dir);
        answer
    }

    /// ns per acquire+release of CPython 3.13's multiprocessing.Lock, if a python3.13 is found.
    #[cfg(target_os = "linux")]
    fn cpython_mp_lock_ns() -> Option<f64> {
        let home = std::env::var("HOME").unwrap_or_default();
        let candidates = [
            format!("{home}/.pyenv/versions/3.13.0/bin/python3"),
            "python3.13".to_string(),
        ];
        let script = "import multiprocessing as mp, timeit\n\
            l = mp.Lock(); a, r = l.acquire, l.release\n\
            n = 1_000_000\n\
            t = min(timeit.repeat('a(); r()', globals=globals(), number=n, repeat=5))\n\
            print(t / n * 1e9)";
        candidates.iter().find_map(|python| {
            let out = std::process::Command::new(python)
                .args(["-c", script])
                .output()
                .ok()?;
            String::from_utf8(out.stdout).ok()?.trim().parse().ok()
        })
    }

    /// Memory shared with child processes, for the pthread and POSIX-semaphore anchors.
    #[cfg(target_os = "linux")]
    struct SharedAnon<T> {
        ptr: *mut T,
    }

    #[cfg(target_os = "linux")]
    impl<T> SharedAnon<T> {
        fn new() -> Self {
            // SAFETY: an anonymous shared mapping of the size of T, zero-filled, at an address
            // of the kernel's choosing; checked for failure below.
            let ptr = unsafe {
                libc::mmap(
                    std::ptr::null_mut(),
                    size_of::<T>(),
                    libc::PROT_READ | libc::PROT_WRITE,
                    libc::MAP_SHARED | libc::MAP_ANONYMOUS,
                    -1,
                    0,
                )
            };
            assert_ne!(ptr, libc::MAP_FAILED);
            SharedAnon { ptr: ptr.cast() }
        }
    }

    #[cfg(target_os = "linux")]
    impl<T> Drop for SharedAnon<T> {
        fn drop(&mut self) {
            // SAFETY: the mapping made in `new`, of that size; nothing refers to it after.
            unsafe { libc::munmap(self.ptr.cast(), size_of::<T>()) };
        }
    }

    /// A process-shared pthread mutex, ns per uncontended lock+unlock.
    #[cfg(target_os = "linux")]
    fn pthread_shared_mutex_ns(config: &Config) -> f64 {
        let shared = SharedAnon::<libc::pthread_mutex_t>::new();
        // SAFETY: initialising a mutex in zeroed shared memory with a process-shared attribute,
        // as POSIX prescribes; the attribute is destroyed after use.
        unsafe {
            let mut attr: libc::pthread_mutexattr_t = std::mem::zeroed();
            libc::pthread_mutexattr_init(&mut attr);
            libc::pthread_mutexattr_setpshared(&mut attr, libc::PTHREAD_PROCESS_SHARED);
            assert_eq!(libc::pthread_mutex_init(shared.ptr, &attr), 0);
            libc::pthread_mutexattr_destroy(&mut attr);
        }
        let ns = per_op(config, || {
            // SAFETY: the mutex initialised above, locked and unlocked by this thread only.
            unsafe {
                libc::pthread_mutex_lock(black_box(shared.ptr));
                libc::pthread_mutex_unlock(black_box(shared.ptr));
            }
        });
        // SAFETY: unlocked, and no other user.
        unsafe { libc::pthread_mutex_destroy(shared.ptr) };
        ns
    }

    /// A process-shared POSIX semaphore, ns per uncontended wait+post.
    #[cfg(target_os = "linux")]
    fn posix_semaphore_ns(config: &Config) -> f64 {
        let shared = SharedAnon::<libc::sem_t>::new();
        // SAFETY: sem_init on zeroed shared memory, pshared = 1, value 1.
        assert_eq!(unsafe { libc::sem_init(shared.ptr, 1, 1) }, 0);
        let ns = per_op(config, || {
            // SAFETY: the semaphore initialised above, value 1: wait never blocks.
            unsafe {
                libc::sem_wait(black_box(shared.ptr));
                libc::sem_post(black_box(shared.ptr));
            }
        });
        // SAFETY: no waiter, no other user.
        unsafe { libc::sem_destroy(shared.ptr) };
        ns
    }

    /// ns per round trip between this process and a child, over two process Events.
    #[cfg(target_os = "linux")]
    fn event_ping_pong_ns(trips: u64) -> f64 {
        let name = format!("/locksmith-bench-pingpong-{}", std::process::id());
        let ping = locksmith::process::Event::create(&format!("{name}-ping")).unwrap();
        let pong = locksmith::process::Event::create(&format!("{name}-pong")).unwrap();
        let mut child = std::process::Command::new(std::env::current_exe().unwrap())
            .env(CHILD_ROLE, "events")
            .env(CHILD_NAME, &name)
            .env(CHILD_TRIPS, (trips + 1).to_string())
            .spawn()
            .unwrap();
        let trip = || {
            ping.set();
            pong.wait();
            pong.clear();
        };
        // One trip to let the child start before the clock does.
        trip();
        let start = Instant::now();
        for _ in 0..trips {
            trip();
        }
        let elapsed = start.elapsed();
        assert!(child.wait().unwrap().success());
        elapsed.as_nanos() as f64 / trips as f64
    }

    /// ns per round trip of one byte through a pair of pipes to a child and back.
    #[cfg(target_os = "linux")]
    fn pipe_ping_pong_ns(trips: u64) -> f64 {
        use std::io::{Read, Write};
        use std::process::Stdio;
        let mut child = std::process::Command::new(std::env::current_exe().unwrap())
            .env(CHILD_ROLE, "pipe")
            .env(CHILD_TRIPS, (trips + 1).to_string())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let mut to_child = child.stdin.take().unwrap();
        let mut from_child = child.stdout.take().unwrap();
        let mut byte = [7u8];
        let mut trip = || {
            to_child.write_all(&byte).unwrap();
            from_child.read_exact(&mut byte).unwrap();
        };
        // One trip to let the child start before the clock does.
        trip();
        let start = Instant::now();
        for _ in 0..trips {
            trip();
        }
        let elapsed = start.elapsed();
        drop(to_child);
        assert!(child.wait().unwrap().success());
        elapsed.as_nanos() as f64 / trips as f64
    }

    /// locksmith::process beside the thread types, the process-shared C primitives, CPython's
    /// multiprocessing.Lock, and a pipe.
    #[cfg(target_os = "linux")]
    fn process_rows(config: &Config, rows: &mut Vec<Row>) {
        let group = "process";
        let name = format!("/locksmith-bench-{}", std::process::id());
        let lock = locksmith::process::Lock::create(&format!("{name}-lock")).unwrap();
        let ours = per_op(config, || {
            black_box(&lock).acquire();
            black_box(&lock).release().unwrap();
        });
        let thread_lock = Padded(locksmith::Lock::new());
        let thread_ns = per_op(config, || {
            black_box(&*thread_lock).acquire();
            black_box(&*thread_lock).release().unwrap();
        });
        let uncontended = "Lock, uncontended acquire+release";
        rows.push(Row {
            group,
            name: uncontended.into(),
            unit: "ns/op",
            ours,
            anchor: "locksmith::Lock (threads)".into(),
            theirs: thread_ns,
            target: Target::AtMost(1.5),
        });
        rows.push(Row {
            group,
            name: uncontended.into(),
            unit: "ns/op",
            ours,
            anchor: "pthread mutex, process-shared".into(),
            theirs: pthread_shared_mutex_ns(config),
            target: Target::AtMost(1.0),
        });
        if let Some(python) = cpython_mp_lock_ns() {
            rows.push(Row {
                group,
                name: uncontended.into(),
                unit: "ns/op",
                ours,
                anchor: "CPython 3.13 multiprocessing.Lock".into(),
                theirs: python,
                target: Target::None,
            });
        }
        let semaphore = locksmith::process::Semaphore::create(&format!("{name}-sem"), 1).unwrap();
        let ours_sem = per_op(config, || {
            black_box(&semaphore).acquire();
            black_box(&semaphore).release();
        });
        let thread_sem = Padded(locksmith::Semaphore::new(1));
        let thread_sem_ns = per_op(config, || {
            black_box(&*thread_sem).acquire();
            black_box(&*thread_sem).release();
        });
        let sem_row = "Semaphore, uncontended acquire+release";
        rows.push(Row {
            group,
            name: sem_row.into(),
            unit: "ns/op",
            ours: ours_sem,
            anchor: "locksmith::Semaphore (threads)".into(),
            theirs: thread_sem_ns,
            target: Target::None,
        });
        rows.push(Row {
            group,
            name: sem_row.into(),
            unit: "ns/op",
            ours: ours_sem,
            anchor: "POSIX sem_t, process-shared".into(),
            theirs: posix_semaphore_ns(config),
            target: Target::None,
        });
        for size in [8usize, 1024] {
            let items = config.items;
            let ours = process_queue_items_per_s(items, size);
            let row = format!("Queue SPSC between processes, {size}-byte messages");
            rows.push(Row {
                group,
                name: row.clone(),
                unit: "items/s",
                ours,
                anchor: "Unix socket pair, length-prefixed".into(),
                theirs: socket_items_per_s(items, size),
                target: if size == 8 {
                    Target::AtLeast(1.0)
                } else {
                    Target::None
                },
            });
            for kind in ["Queue", "SimpleQueue"] {
                // CPython is slow: a tenth of the items is plenty for its rate.
                if let Some(python) = cpython_mp_queue_items_per_s(kind, items / 10, size) {
                    rows.push(Row {
                        group,
                        name: row.clone(),
                        unit: "items/s",
                        ours,
                        anchor: format!("CPython 3.13 multiprocessing.{kind}"),
                        theirs: python,
                        target: if size == 8 && kind == "Queue" {
                            Target::AtLeast(50.0)
                        } else {
                            Target::None
                        },
                    });
                }
            }
        }
        let trips = (config.ops / 200).max(2_000);
        rows.push(Row {
            group,
            name: "ping-pong between two processes".into(),
            unit: "ns/trip",
            ours: event_ping_pong_ns(trips),
            anchor: "a pipe each way".into(),
            theirs: pipe_ping_pong_ns(trips),
            target: Target::AtMost(1.0),
        });
    }

    /// One group's measurements: adds its rows.
    type Group = fn(&Config, &mut Vec<Row>);

    fn format_figure(value: f64, unit: &str) -> String {
        if unit.ends_with("/s") {
            format!("{:.2} M", value / 1e6)
        } else {
            format!("{value:.1}")
        }
    }

    pub fn main() {
        let args: Vec<String> = std::env::args().skip(1).collect();
        let quick = args.iter().any(|a| a == "--quick");
        let filters: Vec<String> = args.into_iter().filter(|a| !a.starts_with("--")).collect();
        let config = Config {
            rounds: 1,
            passes: if quick { 3 } else { 7 },
            window: Duration::from_millis(if quick { 50 } else { 200 }),
            ops: if quick { 200_000 } else { 2_000_000 },
            items: if quick { 50_000 } else { 200_000 },
            filters,
        };
        let groups: &[(&str, Group)] = &[
            ("lock", lock_rows),
            ("rlock", rlock_rows),
            ("semaphore", semaphore_rows),
            ("event", event_rows),
            ("queue", queue_rows),
            #[cfg(target_os = "linux")]
            ("process", process_rows),
        ];
        let started = Instant::now();
        let mut passes: Vec<Vec<Row>> = Vec::new();
        for pass in 0..config.passes {
            let mut rows = Vec::new();
            for &(name, run) in groups {
                if config.filters.is_empty()
                    || config.filters.iter().any(|f| name.contains(f.as_str()))
                {
                    eprintln!("pass {}/{}: {name} ...", pass + 1, config.passes);
                    run(&config, &mut rows);
                }
            }
            passes.push(rows);
        }
        let mut rows = passes.pop().unwrap_or_default();
        for (index, row) in rows.iter_mut().enumerate() {
            let ours = passes
                .iter()
                .map(|pass| pass[index].ours)
                .chain([row.ours])
                .collect();
            let theirs = passes
                .iter()
                .map(|pass| pass[index].theirs)
                .chain([row.theirs])
                .collect();
            row.ours = median(ours);
            row.theirs = median(theirs);
        }
        println!(
            "locksmith vs anchors: medians of {} passes, each measuring every row once; {} logical CPUs",
            config.passes,
            thread::available_parallelism().map_or(0, |n| n.get())
        );
        println!(
            "\n| group | row | unit | locksmith | anchor | anchor's | ratio (locksmith/anchor) | target | met? |"
        );
        println!("|---|---|---|---|---|---|---|---|---|");
        let mut missed = 0;
        for row in &rows {
            let ratio = row.ours / row.theirs;
            let (target, met) = match row.target {
                Target::AtMost(limit) => (
                    format!("<= {limit:.2}"),
                    if ratio <= limit { "yes" } else { "**no**" },
                ),
                Target::AtLeast(limit) => (
                    format!(">= {limit:.2}"),
                    if ratio >= limit { "yes" } else { "**no**" },
                ),
                Target::None => ("-".to_string(), "-"),
            };
            if met == "**no**" {
                missed += 1;
            }
            println!(
                "| {} | {} | {} | {} | {} | {} | {:.2} | {} | {} |",
                row.group,
                row.name,
                row.unit,
                format_figure(row.ours, row.unit),
                row.anchor,
                format_figure(row.theirs, row.unit),
                ratio,
                target,
                met
            );
        }
        println!("\ntargets missed: {missed}");
        print_sizes();
        println!("\ntook {:.0} s", started.elapsed().as_secs_f64());
    }
}
