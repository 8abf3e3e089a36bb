#![cfg(not(loom))]
//! `{:?}` of every type shows the state Python's `repr` shows (lock_tests.py's `test_repr`
//! and `test_locked_repr`: locked or not, the count, the flag), here as Rust's `Debug`, so
//! the exact text is pinned. A `Debug` that printed nothing passed every other test (found by
//! mutation testing, `.ci/mutants`).

use locksmith::queue::{LifoQueue, Queue, SimpleQueue};
use locksmith::{Barrier, BoundedSemaphore, Condition, Event, Lock, RLock, Semaphore};
use std::thread;

#[test]
fn lock_and_guard_show_whether_held() {
    let lock = Lock::new();
    assert_eq!(format!("{lock:?}"), "Lock { locked: false }");
    let guard = lock.lock();
    assert_eq!(format!("{lock:?}"), "Lock { locked: true }");
    assert_eq!(
        format!("{guard:?}"),
        "LockGuard { lock: Lock { locked: true } }"
    );
    drop(guard);
    assert_eq!(format!("{lock:?}"), "Lock { locked: false }");
}

#[test]
fn rlock_shows_owner_and_count_from_each_side() {
    let rlock = RLock::new();
    assert_eq!(
        format!("{rlock:?}"),
        "RLock { locked: false, owned_by_caller: false, recursion_count: 0 }"
    );
    let outer = rlock.lock();
    let inner = rlock.lock();
    assert_eq!(
        format!("{inner:?}"),
        "RLockGuard { rlock: RLock { locked: true, owned_by_caller: true, recursion_count: 2 } }"
    );
    // Another thread sees it held, not by itself, and (as Python's `_recursion_count()`
    // does for a non-owner) a count of 0.
    let seen = thread::scope(|s| s.spawn(|| format!("{rlock:?}")).join().unwrap());
    assert_eq!(
        seen,
        "RLock { locked: true, owned_by_caller: false, recursion_count: 0 }"
    );
    drop(inner);
    drop(outer);
    assert_eq!(
        format!("{rlock:?}"),
        "RLock { locked: false, owned_by_caller: false, recursion_count: 0 }"
    );
}

#[test]
fn semaphores_show_their_value() {
    let semaphore = Semaphore::new(2);
    assert_eq!(format!("{semaphore:?}"), "Semaphore { value: 2 }");
    let guard = semaphore.guard();
    assert_eq!(
        format!("{guard:?}"),
        "SemaphoreGuard { semaphore: Semaphore { value: 1 } }"
    );
    drop(guard);
    assert_eq!(format!("{semaphore:?}"), "Semaphore { value: 2 }");

    let bounded = BoundedSemaphore::new(2);
    assert_eq!(
        format!("{bounded:?}"),
        "BoundedSemaphore { value: 2, initial: 2 }"
    );
    let guard = bounded.guard();
    assert_eq!(
        format!("{guard:?}"),
        "BoundedSemaphoreGuard { semaphore: BoundedSemaphore { value: 1, initial: 2 } }"
    );
}

#[test]
fn event_shows_its_flag() {
    let event = Event::new();
    assert_eq!(format!("{event:?}"), "Event { set: false }");
    event.set();
    assert_eq!(format!("{event:?}"), "Event { set: true }");
    event.clear();
    assert_eq!(format!("{event:?}"), "Event { set: false }");
}

#[test]
fn condition_and_barrier_show_their_state() {
    let condition = Condition::new();
    assert_eq!(
        format!("{condition:?}"),
        "Condition { lock: RLock { locked: false, owned_by_caller: false, recursion_count: 0 }, waiters: 0 }"
    );
    let barrier = Barrier::new(2);
    assert_eq!(
        format!("{barrier:?}"),
        "Barrier { parties: 2, n_waiting: 0, broken: false }"
    );
    barrier.abort();
    assert_eq!(
        format!("{barrier:?}"),
        "Barrier { parties: 2, n_waiting: 0, broken: true }"
    );
}

#[test]
fn queues_show_length_bound_and_tasks() {
    let queue = Queue::new(3);
    queue.put(1).unwrap();
    assert_eq!(
        format!("{queue:?}"),
        "Queue { len: 1, maxsize: 3, unfinished_tasks: 1, is_shutdown: false }"
    );
    queue.shutdown(false);
    assert_eq!(
        format!("{queue:?}"),
        "Queue { len: 1, maxsize: 3, unfinished_tasks: 1, is_shutdown: true }"
    );
    let lifo: LifoQueue<u8> = LifoQueue::new(0);
    assert_eq!(
        format!("{lifo:?}"),
        "LifoQueue { len: 0, maxsize: 0, unfinished_tasks: 0, is_shutdown: false }"
    );
    let simple: SimpleQueue<u8> = SimpleQueue::new();
    simple.put(7);
    assert_eq!(format!("{simple:?}"), "SimpleQueue { len: 1 }");
}

/// The queue's errors: each `PutError` answers `is_full` and `is_shutdown` for its own kind
/// only, hides the item in Debug (which needs no `T: Debug`), and every error displays the
/// words of Python's exception. Four mutants of src/queue/error.rs (`is_full` and
/// `is_shutdown` always true, Debug and Display printing nothing) passed every test before.
#[test]
fn queue_errors_say_which_and_show_pythons_words() {
    use locksmith::queue::{GetError, PutError, TaskDoneError};
    struct NoDebug;
    let full = PutError::Full(NoDebug);
    let shut = PutError::ShutDown(NoDebug);
    assert!(full.is_full() && !full.is_shutdown());
    assert!(shut.is_shutdown() && !shut.is_full());
    assert_eq!(format!("{full:?}"), "Full(..)");
    assert_eq!(format!("{shut:?}"), "ShutDown(..)");
    assert_eq!(full.to_string(), "queue is full");
    assert_eq!(shut.to_string(), "queue is shut down");
    assert_eq!(GetError::Empty.to_string(), "queue is empty");
    assert_eq!(GetError::ShutDown.to_string(), "queue is shut down");
    assert_eq!(
        TaskDoneError.to_string(),
        "task_done() called too many times"
    );
}

/// The barrier's error displays a message (Python's `BrokenBarrierError` carries none, so the
/// words are the crate's, and pinned here). Display printing nothing passed every test before.
#[test]
fn broken_barrier_error_says_so() {
    assert_eq!(
        locksmith::BrokenBarrierError.to_string(),
        "barrier is broken"
    );
    assert_eq!(
        locksmith::ReleaseError::NotLocked.to_string(),
        "release unlocked lock"
    );
}
