#![cfg(not(loom))]
//! No acquire, release, wait, notify, put or get path allocates: waiter nodes live on the
//! waiters' stacks, and a bounded queue's storage is allocated once, at construction. A
//! counting global allocator counts allocations made by the measuring thread inside a
//! measured section only, on uncontended paths and on contended ones where the thread really
//! parks and is woken.

use locksmith::queue::{LifoQueue, Queue};
use locksmith::{Barrier, BoundedSemaphore, Condition, Event, Lock, RLock, Semaphore};
use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::thread;
use std::time::{Duration, Instant};

struct CountingAllocator;

thread_local! {
    static MEASURING: Cell<bool> = const { Cell::new(false) };
    static ALLOCATIONS: Cell<usize> = const { Cell::new(0) };
}

// SAFETY: every call forwards to the system allocator unchanged; the counting touches only
// const-initialised thread-locals without destructors, which never allocate.
unsafe impl GlobalAlloc for CountingAllocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if MEASURING.with(Cell::get) {
            ALLOCATIONS.with(|n| n.set(n.get() + 1));
        }
        // SAFETY: forwarded with the caller's layout, as GlobalAlloc requires.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` came from `System.alloc` with this layout.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static ALLOCATOR: CountingAllocator = CountingAllocator;

/// Runs `f` on this thread and returns how many allocations it made.
fn allocations_in(f: impl FnOnce()) -> usize {
    ALLOCATIONS.with(|n| n.set(0));
    MEASURING.with(|m| m.set(true));
    f();
    MEASURING.with(|m| m.set(false));
    ALLOCATIONS.with(Cell::get)
}

/// Polls `condition` until it holds (10 s at most).
fn eventually(condition: impl Fn() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while !condition() {
        assert!(
            Instant::now() < deadline,
            "timed out waiting for a thread to park"
        );
        thread::yield_now();
    }
}

/// LOCK-1, RLOCK-1: uncontended and parked paths of Lock and RLock allocate nothing.
#[test]
fn lock_and_rlock_paths_do_not_allocate() {
    let lock = Lock::new();
    let rlock = RLock::new();
    assert_eq!(
        allocations_in(|| {
            lock.acquire();
            assert!(!lock.try_acquire());
            assert!(!lock.acquire_timeout(Duration::from_millis(2)));
            lock.release().unwrap();
            drop(lock.lock());
            rlock.acquire();
            rlock.acquire();
            rlock.release().unwrap();
            rlock.release().unwrap();
        }),
        0
    );
    lock.acquire();
    rlock.acquire();
    thread::scope(|s| {
        let waiter = s.spawn(|| {
            allocations_in(|| {
                lock.acquire(); // parks until the release below
                lock.release().unwrap();
                rlock.acquire(); // parks likewise
                rlock.release().unwrap();
            })
        });
        eventually(|| lock.queued_waiters() == 1);
        let releasing = allocations_in(|| lock.release().unwrap());
        eventually(|| rlock.queued_waiters() == 1);
        let releasing = releasing + allocations_in(|| rlock.release().unwrap());
        assert_eq!(releasing, 0, "a release that woke a waiter allocated");
        assert_eq!(waiter.join().unwrap(), 0, "a parked acquire allocated");
    });
}

/// SEM-1, SEM-2: Semaphore and BoundedSemaphore, uncontended and parked.
#[test]
fn semaphore_paths_do_not_allocate() {
    let sem = Semaphore::new(0);
    let bounded = BoundedSemaphore::new(1);
    assert_eq!(
        allocations_in(|| {
            sem.release_n(2);
            sem.acquire();
            assert!(sem.try_acquire());
            assert!(!sem.acquire_timeout(Duration::from_millis(2)));
            assert!(bounded.release().is_err());
            drop(bounded.guard());
        }),
        0
    );
    thread::scope(|s| {
        let waiter = s.spawn(|| allocations_in(|| sem.acquire()));
        eventually(|| sem.queued_waiters() == 1);
        assert_eq!(allocations_in(|| sem.release()), 0);
        assert_eq!(waiter.join().unwrap(), 0);
    });
}

/// EVENT-1: Event set/clear/wait, uncontended and parked.
#[test]
fn event_paths_do_not_allocate() {
    let event = Event::new();
    assert_eq!(
        allocations_in(|| {
            assert!(!event.wait_timeout(Duration::from_millis(2)));
            event.set();
            event.wait();
            event.clear();
        }),
        0
    );
    thread::scope(|s| {
        let waiter = s.spawn(|| allocations_in(|| event.wait()));
        eventually(|| event.queued_waiters() == 1);
        assert_eq!(allocations_in(|| event.set()), 0);
        assert_eq!(waiter.join().unwrap(), 0);
    });
}

/// COND-1: Condition wait/notify over an RLock, with a real wait and a real wake.
#[test]
fn condition_paths_do_not_allocate() {
    let cond = Condition::new();
    thread::scope(|s| {
        let waiter = s.spawn(|| {
            allocations_in(|| {
                cond.acquire();
                cond.wait().unwrap();
                cond.release().unwrap();
            })
        });
        eventually(|| cond.queued_waiters() == 1);
        let notifying = allocations_in(|| {
            cond.acquire();
            cond.notify_all().unwrap();
            cond.release().unwrap();
        });
        assert_eq!(notifying, 0);
        assert_eq!(waiter.join().unwrap(), 0);
    });
}

/// BARRIER-1: Barrier rounds (the action's box is allocated once, at construction).
#[test]
fn barrier_paths_do_not_allocate() {
    let barrier = Barrier::with_action(2, || {});
    thread::scope(|s| {
        let other = s.spawn(|| {
            allocations_in(|| {
                barrier.wait().unwrap();
            })
        });
        eventually(|| barrier.n_waiting() == 1);
        assert_eq!(
            allocations_in(|| {
                barrier.wait().unwrap();
            }),
            0
        );
        assert_eq!(other.join().unwrap(), 0);
    });
}

/// QUEUE-1, QUEUE-4, QUEUE-6: a bounded Queue (the ring, allocated at construction) and a
/// bounded LifoQueue (its container reserved at construction): put, get, the try and timed
/// forms, task_done and join, uncontended and with a getter, a putter and a joiner parked.
#[test]
fn bounded_queue_paths_do_not_allocate() {
    let fifo = Queue::new(2);
    let lifo = LifoQueue::new(2);
    assert_eq!(
        allocations_in(|| {
            fifo.put(1).unwrap();
            fifo.try_put(2).unwrap();
            assert!(fifo.put_timeout(3, Duration::from_millis(2)).is_err());
            assert_eq!(fifo.get(), Ok(1));
            assert_eq!(fifo.get_timeout(Duration::from_millis(2)), Ok(2));
            assert!(fifo.try_get().is_err());
            fifo.task_done().unwrap();
            fifo.task_done().unwrap();
            fifo.join();
            lifo.put(1).unwrap();
            lifo.put(2).unwrap();
            assert!(lifo.try_put(3).is_err());
            assert_eq!(lifo.get(), Ok(2));
            assert_eq!(lifo.try_get(), Ok(1));
        }),
        0
    );
    thread::scope(|s| {
        let getter = s.spawn(|| allocations_in(|| assert_eq!(fifo.get(), Ok(7))));
        eventually(|| fifo.queued_waiters().0 == 1);
        assert_eq!(allocations_in(|| fifo.put(7).unwrap()), 0);
        assert_eq!(getter.join().unwrap(), 0);

        fifo.put(8).unwrap();
        fifo.put(9).unwrap();
        let putter = s.spawn(|| allocations_in(|| fifo.put(10).unwrap()));
        eventually(|| fifo.queued_waiters().1 == 1);
        assert_eq!(allocations_in(|| assert_eq!(fifo.get(), Ok(8))), 0);
        assert_eq!(putter.join().unwrap(), 0);

        let joiner = s.spawn(|| allocations_in(|| fifo.join()));
        eventually(|| fifo.queued_waiters().2 == 1);
        assert_eq!(
            allocations_in(|| {
                for _ in 0..4 {
                    fifo.task_done().unwrap();
                }
            }),
            0
        );
        assert_eq!(joiner.join().unwrap(), 0);
    });
}

/// LOCK-1: the lock_api `Mutex<T>` over a Lock allocates nothing to lock, try, time out or
/// unlock.
#[cfg(feature = "lock_api")]
#[test]
fn mutex_paths_do_not_allocate() {
    let mutex = locksmith::Mutex::new(0u64);
    assert_eq!(
        allocations_in(|| {
            *mutex.lock() += 1;
            let held = mutex.lock();
            assert!(mutex.try_lock().is_none());
            assert!(mutex.try_lock_for(Duration::from_millis(2)).is_none());
            assert!(
                mutex
                    .try_lock_until(Instant::now() + Duration::from_millis(2))
                    .is_none()
            );
            drop(held);
            assert_eq!(*mutex.try_lock().unwrap(), 1);
        }),
        0
    );
}
