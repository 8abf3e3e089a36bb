//! criterion's per-operation timings: each uncontended operation, locksmith beside its
//! anchors in one group. `cargo bench --bench ops`; the side-by-side table with ratios and
//! the contended rows is `cargo bench --bench compare`.

#[cfg(loom)]
fn main() {}

#[cfg(not(loom))]
mod ops {
    use criterion::{Criterion, black_box};
    use parking_lot::lock_api::RawMutex as _;
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::{Condvar, Mutex as StdMutex};

    pub fn lock(c: &mut Criterion) {
        let mut group = c.benchmark_group("lock acquire+release");
        let lock = locksmith::Lock::new();
        group.bench_function("locksmith Lock", |b| {
            b.iter(|| {
                black_box(&lock).acquire();
                black_box(&lock).release().unwrap();
            })
        });
        let raw = parking_lot::RawMutex::INIT;
        group.bench_function("parking_lot RawMutex", |b| {
            b.iter(|| {
                black_box(&raw).lock();
                // SAFETY: locked on the line above, by this thread.
                unsafe { black_box(&raw).unlock() };
            })
        });
        let std_mutex = StdMutex::new(());
        group.bench_function("std Mutex<()>", |b| {
            b.iter(|| drop(black_box(&std_mutex).lock().unwrap()))
        });
        let flag = AtomicBool::new(false);
        group.bench_function("CAS+store floor", |b| {
            b.iter(|| {
                // Acquire/Release: what any lock needs at least.
                let _ = black_box(&flag).compare_exchange(
                    false,
                    true,
                    Ordering::Acquire,
                    Ordering::Relaxed,
                );
                black_box(&flag).store(false, Ordering::Release);
            })
        });
        group.finish();
    }

    pub fn rlock(c: &mut Criterion) {
        let mut group = c.benchmark_group("rlock acquire+release depth 3");
        let rlock = locksmith::RLock::new();
        group.bench_function("locksmith RLock", |b| {
            b.iter(|| {
                let a = black_box(&rlock).lock();
                let b2 = black_box(&rlock).lock();
                let c2 = black_box(&rlock).lock();
                drop((c2, b2, a));
            })
        });
        let pl = parking_lot::ReentrantMutex::new(());
        group.bench_function("parking_lot ReentrantMutex", |b| {
            b.iter(|| {
                let a = black_box(&pl).lock();
                let b2 = black_box(&pl).lock();
                let c2 = black_box(&pl).lock();
                drop((c2, b2, a));
            })
        });
        group.finish();
    }

    pub fn semaphore(c: &mut Criterion) {
        let mut group = c.benchmark_group("semaphore acquire+release");
        let sem = locksmith::Semaphore::new(1);
        group.bench_function("locksmith Semaphore", |b| {
            b.iter(|| drop(black_box(&sem).guard()))
        });
        let textbook = (StdMutex::new(1usize), Condvar::new());
        group.bench_function("Mutex<usize>+Condvar", |b| {
            b.iter(|| {
                let (permits, available) = black_box(&textbook);
                let mut held = permits.lock().unwrap();
                while *held == 0 {
                    held = available.wait(held).unwrap();
                }
                *held -= 1;
                drop(held);
                *permits.lock().unwrap() += 1;
                available.notify_one();
            })
        });
        let async_sem = async_lock::Semaphore::new(1);
        group.bench_function("async-lock acquire_blocking", |b| {
            b.iter(|| drop(black_box(&async_sem).acquire_blocking()))
        });
        group.finish();
    }

    pub fn event(c: &mut Criterion) {
        let mut group = c.benchmark_group("event set+clear, no waiter");
        let event = locksmith::Event::new();
        group.bench_function("locksmith Event", |b| {
            b.iter(|| {
                black_box(&event).set();
                black_box(&event).clear();
            })
        });
        let pair = (StdMutex::new(false), Condvar::new());
        group.bench_function("std Mutex<bool>+Condvar", |b| {
            b.iter(|| {
                let (flag, changed) = black_box(&pair);
                *flag.lock().unwrap() = true;
                changed.notify_all();
                *flag.lock().unwrap() = false;
            })
        });
        group.finish();
    }

    pub fn queue(c: &mut Criterion) {
        let mut group = c.benchmark_group("queue put+get, one thread");
        let queue = locksmith::queue::Queue::new(64);
        group.bench_function("locksmith Queue(64)", |b| {
            b.iter(|| {
                black_box(&queue).put(1u64).unwrap();
                black_box(black_box(&queue).get().unwrap());
            })
        });
        let (tx, rx) = crossbeam_channel::bounded(64);
        group.bench_function("crossbeam bounded(64)", |b| {
            b.iter(|| {
                black_box(&tx).send(1u64).unwrap();
                black_box(black_box(&rx).recv().unwrap());
            })
        });
        let (tx, rx) = std::sync::mpsc::sync_channel(64);
        group.bench_function("std sync_channel(64)", |b| {
            b.iter(|| {
                black_box(&tx).send(1u64).unwrap();
                black_box(black_box(&rx).recv().unwrap());
            })
        });
        group.finish();
    }
}

#[cfg(not(loom))]
criterion::criterion_group!(
    benches,
    ops::lock,
    ops::rlock,
    ops::semaphore,
    ops::event,
    ops::queue
);
#[cfg(not(loom))]
criterion::criterion_main!(benches);
