#![cfg(not(loom))]
//! CPython 3.13's `Lib/test/test_queue.py`, ported for the queues of [`locksmith::queue`]:
//! `BaseQueueTestMixin` (written once below, over [`TestQueue`], and run by
//! [`base_queue_tests!`] as `QueueTest`, `LifoQueueTest` and `PriorityQueueTest`, in the
//! modules `queue`, `lifo_queue` and `priority_queue`) and `BaseSimpleQueueTest` (module
//! `simple_queue`).
//!
//! Invariant IDs (docs/queue.md): QUEUE-1 no item lost or duplicated; QUEUE-2 `len` never
//! exceeds `maxsize` (0 = unbounded); QUEUE-3 order (FIFO, FIFO per producer, LIFO, smallest
//! first); QUEUE-4 put waits while full, get waits while empty, and each is woken when that
//! changes (no lost wake-up); QUEUE-5 `try_*` never block, a failed or timed-out put/get
//! changes nothing and gives the item back; QUEUE-6 `join` returns once every put item is
//! done, `task_done` past that is an error and changes nothing; QUEUE-7 `shutdown(false)`:
//! later puts fail `ShutDown`, gets drain then fail `ShutDown`, blocked putters and getters
//! wake; QUEUE-8 `shutdown(true)` also drains, counts the drained items done, wakes `join`;
//! QUEUE-9 an item is dropped as soon as it is taken out; QUEUE-10 `SimpleQueue::put` never
//! blocks.
//!
//! Python's calls map to the Rust API: `put(block=False)` / `put_nowait` is `try_put`,
//! `put(timeout=t)` is `put_timeout(t)` (the same for `get`), `qsize()` is `len`, `empty()` is
//! `is_empty`, `full()` is `is_full`. Python's exceptions are `Err`s: `Full` and `ShutDown`
//! from a put are `PutError::Full(item)` / `PutError::ShutDown(item)` (the item comes back,
//! and the tests check it is the one given), `Empty` and `ShutDown` from a get are
//! `GetError::Empty` / `GetError::ShutDown`, `task_done`'s `ValueError` is `TaskDoneError`.
//!
//! Where CPython's `_TriggerThread` sleeps 0.1 s before unblocking a call, or a CPython test
//! starts threads that should block and goes on, these tests poll the queues' hidden
//! `queued_waiters()` hook until the threads are really parked (and check they have not
//! returned). CPython's `q.unfinished_tasks` is the hidden `unfinished_tasks()` hook. Every
//! thread is joined with a bound ([`Worker::join`], 10 s), and every test runs under a
//! [`watchdog`], so a lost wake-up fails the test instead of hanging it.
//!
//! CPython runs each test twice, against the Python and the C implementation (`PyQueueTest`,
//! `CQueueTest`, ...); there is one implementation here, so each test runs once per queue
//! type.
//!
//! Not ported:
//! * `test_negative_timeout_raises_exception` (in `BaseQueueTestMixin` and
//!   `BaseSimpleQueueTest`): a `Duration` cannot be negative, so there is no `ValueError` to
//!   raise. `Duration::ZERO` (try once) is checked in `test_basic` instead.
//! * `test_shrinking_queue` (issue 10110): it assigns `q.maxsize = 2` on a live queue; the
//!   Rust queues fix `maxsize` at construction (no setter).
//! * `FailingQueueTest.test_failing_queue`: it subclasses `Queue` to make `_put` / `_get`
//!   raise; the Rust queues have no overridable storage hooks.
//! * `CSimpleQueueTest.test_is_default`: checks that `queue.SimpleQueue` is the C
//!   implementation, a C-versus-Python detail.
//! * `CSimpleQueueTest.test_reentrancy` (bpo-14976): a `put` re-entered from `__del__`, run
//!   by Python's garbage collector in the middle of another `put`; Rust has no such
//!   asynchronous callback.
//!
//! Added (CPython's `queue.py` has the behaviour, `test_queue.py` no test):
//! * `test_references` for `Queue`, `LifoQueue` and `PriorityQueue` (a taken, a drained and
//!   a refused item), and `simple_queue::test_blocking_get`.
//! * `test_shutdown_immediate_pending_get`, `test_shutdown_pending_put` and
//!   `test_shutdown_immediate_pending_put`: threads blocked *before* the shutdown.
//! * `test_shutdown_immediate_join_waits_for_gotten_items` and
//!   `test_shutdown_immediate_after_early_task_done`: how `shutdown(immediate=True)` counts
//!   tasks.
//! * `test_shutdown_immediate_is_atomic` and `test_shutdown_immediate_is_atomic_bounded`:
//!   `shutdown(immediate=True)` drains in one critical section, so nobody who sees
//!   `is_shutdown` can still get an item.

// The lock-only helpers of `common` (`base`'s bodies, `TestLock`, `Bunch`) are not used here.
#[allow(dead_code)]
mod common;

use std::collections::{HashMap, HashSet};
use std::panic::{self, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::sync::{Arc, Condvar, Mutex, PoisonError, Weak};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use common::base::TIMEOUT;
use common::{SHORT_TIMEOUT, assert_timeout, wait_for_queued};
use locksmith::queue::{
    GetError, LifoQueue, PriorityQueue, PutError, Queue, SimpleQueue, TaskDoneError,
};

/// CPython's `QUEUE_SIZE`: the `maxsize` of `test_basic`'s and `test_nowait`'s queues.
const QUEUE_SIZE: usize = 5;

/// How long a test lets a thread go on blocking before it checks it still does.
const STILL_BLOCKED_DELAY: Duration = Duration::from_millis(50);

/// A timeout that does not expire in a passing run, kept below [`Worker::join`]'s 10 s bound
/// so that a call that is never woken reports its timeout instead of failing the join.
const LONG: Duration = Duration::from_secs(5);

/// A size or a count: `full` on real threads, `miri` under Miri, which interprets every step
/// and whose virtual clock ticks with each one (a smaller figure for Miri only; every check
/// stays the same).
const fn scaled(full: usize, miri: usize) -> usize {
    if cfg!(miri) { miri } else { full }
}

/// The most any one test may take before the [`watchdog`] fails it.
const TEST_LIMIT: Duration = Duration::from_secs(30);

/// The item type of the shutdown tests (CPython's strings, `"data"`, `"L"`, `"O"`, ...).
type Str = &'static str;

// ---------------------------------------------------------------------------------------
// Threads with bounded joins.

/// A thread whose result the test collects with a bounded wait: a thread stuck in the
/// queue fails the test instead of hanging it (it is left behind, still blocked).
struct Worker<R> {
    result: mpsc::Receiver<thread::Result<R>>,
    handle: JoinHandle<()>,
}

impl<R> Worker<R> {
    /// Whether the thread has returned (its function is done).
    fn is_finished(&self) -> bool {
        self.handle.is_finished()
    }
}

impl<R: Send + 'static> Worker<R> {
    fn spawn(f: impl FnOnce() -> R + Send + 'static) -> Self {
        let (tx, result) = mpsc::channel();
        let handle = thread::spawn(move || {
            // The receiver may be gone if the test already failed.
            let _ = tx.send(panic::catch_unwind(AssertUnwindSafe(f)));
        });
        Worker { result, handle }
    }

    /// The thread's result; fails the test if it does not come within [`SHORT_TIMEOUT`]. A
    /// panic in the thread (a failed assertion there) is re-raised here.
    #[track_caller]
    fn join(self) -> R {
        self.join_within(SHORT_TIMEOUT)
    }

    #[track_caller]
    fn join_within(self, limit: Duration) -> R {
        match self.result.recv_timeout(limit) {
            Ok(Ok(result)) => {
                let _ = self.handle.join();
                result
            }
            Ok(Err(payload)) => panic::resume_unwind(payload),
            Err(RecvTimeoutError::Timeout) => {
                panic!("a thread is still blocked after {limit:?}: a lost wake-up?")
            }
            Err(RecvTimeoutError::Disconnected) => unreachable!("the thread always sends"),
        }
    }
}

/// Runs a test's body on a thread of its own and fails the test if it takes longer than
/// [`TEST_LIMIT`] (a call that should not block did, or a wake-up was lost).
#[track_caller]
fn watchdog(body: impl FnOnce() + Send + 'static) {
    Worker::spawn(body).join_within(TEST_LIMIT);
}

/// Runs `f` on the queue `q` in a new thread.
fn spawn_on<Q, R>(q: &Arc<Q>, f: impl FnOnce(&Q) -> R + Send + 'static) -> Worker<R>
where
    Q: Send + Sync + 'static,
    R: Send + 'static,
{
    let q = Arc::clone(q);
    Worker::spawn(move || f(&q))
}

/// Lets `worker` block for [`STILL_BLOCKED_DELAY`], then checks it still does.
#[track_caller]
fn assert_still_blocked<R>(worker: &Worker<R>, what: &str) {
    thread::sleep(STILL_BLOCKED_DELAY);
    assert!(!worker.is_finished(), "{what} returned instead of blocking");
}

/// CPython's `threading.Event` as the tests' `go` signal: threads wait until it is opened.
#[derive(Default)]
struct Gate {
    open: Mutex<bool>,
    opened: Condvar,
}

impl Gate {
    fn open(&self) {
        *self.open.lock().unwrap_or_else(PoisonError::into_inner) = true;
        self.opened.notify_all();
    }

    /// Waits until the gate is open; fails after [`SHORT_TIMEOUT`].
    #[track_caller]
    fn wait(&self) {
        let open = self.open.lock().unwrap_or_else(PoisonError::into_inner);
        let (open, _) = self
            .opened
            .wait_timeout_while(open, SHORT_TIMEOUT, |open| !*open)
            .unwrap_or_else(PoisonError::into_inner);
        assert!(*open, "the gate was not opened within {SHORT_TIMEOUT:?}");
    }
}

/// CPython's `do_blocking_test`: runs `block` while a trigger thread waits until it is
/// parked (`parked(q)` is 1: the queue's hidden `queued_waiters()` hook, where CPython's
/// `_TriggerThread` sleeps 0.1 s), records that it started, and runs `trigger`, which must
/// unblock `block`. Fails if `block` returned before the trigger started (it did not block),
/// or if it is not unblocked within [`SHORT_TIMEOUT`]. Returns both calls' results.
#[track_caller]
fn do_blocking_test<Q, B, T>(
    q: &Arc<Q>,
    parked: impl Fn(&Q) -> usize + Send + 'static,
    block: impl FnOnce(&Q) -> B + Send + 'static,
    trigger: impl FnOnce(&Q) -> T + Send + 'static,
) -> (B, T)
where
    Q: Send + Sync + 'static,
    B: Send + 'static,
    T: Send + 'static,
{
    let started = Arc::new(AtomicBool::new(false));
    let s = Arc::clone(&started);
    let trigger = spawn_on(q, move |q| {
        wait_for_queued(|| parked(q), 1);
        s.store(true, Ordering::SeqCst);
        trigger(q)
    });
    let blocked = spawn_on(q, block).join();
    assert!(
        started.load(Ordering::SeqCst),
        "the blocking call returned before the trigger ran: it did not block"
    );
    (blocked, trigger.join())
}

// ---------------------------------------------------------------------------------------
// The queue under test.

/// In which order a queue hands out its items.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Order {
    /// `Queue`: first in, first out.
    Fifo,
    /// `LifoQueue`: last in, first out.
    Lifo,
    /// `PriorityQueue`: smallest first (Python's `heapq`).
    Smallest,
}

impl Order {
    /// Removes from `model` (the queue's items, in put order) the item the queue's next get
    /// must return.
    #[track_caller]
    fn take<T: Ord>(self, model: &mut Vec<T>) -> T {
        assert!(!model.is_empty(), "the model queue is empty");
        match self {
            Order::Fifo => model.remove(0),
            Order::Lifo => model.pop().unwrap(),
            Order::Smallest => {
                let smallest = (0..model.len())
                    .min_by(|&a, &b| model[a].cmp(&model[b]))
                    .unwrap();
                model.remove(smallest)
            }
        }
    }
}

/// What `Queue`, `LifoQueue` and `PriorityQueue` have in common, so that
/// `BaseQueueTestMixin` is written once.
trait TestQueue: Send + Sync + 'static {
    type Item;
    const ORDER: Order;

    fn new(maxsize: usize) -> Self;
    fn put(&self, item: Self::Item) -> Result<(), PutError<Self::Item>>;
    fn try_put(&self, item: Self::Item) -> Result<(), PutError<Self::Item>>;
    fn put_timeout(&self, item: Self::Item, timeout: Duration) -> Result<(), PutError<Self::Item>>;
    fn get(&self) -> Result<Self::Item, GetError>;
    fn try_get(&self) -> Result<Self::Item, GetError>;
    fn get_timeout(&self, timeout: Duration) -> Result<Self::Item, GetError>;
    fn len(&self) -> usize;
    fn is_empty(&self) -> bool;
    fn is_full(&self) -> bool;
    fn maxsize(&self) -> usize;
    fn task_done(&self) -> Result<(), TaskDoneError>;
    fn join(&self);
    fn shutdown(&self, immediate: bool);
    fn is_shutdown(&self) -> bool;
    /// The hidden hook: threads parked in get, put and join.
    fn queued_waiters(&self) -> (usize, usize, usize);
    /// The hidden hook: Python's `unfinished_tasks`.
    fn unfinished_tasks(&self) -> usize;
}

macro_rules! impl_test_queue {
    ($queue:ident, $order:expr) => {
        impl<T: Ord + Send + 'static> TestQueue for $queue<T> {
            type Item = T;
            const ORDER: Order = $order;

            fn new(maxsize: usize) -> Self {
                $queue::new(maxsize)
            }
            fn put(&self, item: T) -> Result<(), PutError<T>> {
                $queue::put(self, item)
            }
            fn try_put(&self, item: T) -> Result<(), PutError<T>> {
                $queue::try_put(self, item)
            }
            fn put_timeout(&self, item: T, timeout: Duration) -> Result<(), PutError<T>> {
                $queue::put_timeout(self, item, timeout)
            }
            fn get(&self) -> Result<T, GetError> {
                $queue::get(self)
            }
            fn try_get(&self) -> Result<T, GetError> {
                $queue::try_get(self)
            }
            fn get_timeout(&self, timeout: Duration) -> Result<T, GetError> {
                $queue::get_timeout(self, timeout)
            }
            fn len(&self) -> usize {
                $queue::len(self)
            }
            fn is_empty(&self) -> bool {
                $queue::is_empty(self)
            }
            fn is_full(&self) -> bool {
                $queue::is_full(self)
            }
            fn maxsize(&self) -> usize {
                $queue::maxsize(self)
            }
            fn task_done(&self) -> Result<(), TaskDoneError> {
                $queue::task_done(self)
            }
            fn join(&self) {
                $queue::join(self)
            }
            fn shutdown(&self, immediate: bool) {
                $queue::shutdown(self, immediate)
            }
            fn is_shutdown(&self) -> bool {
                $queue::is_shutdown(self)
            }
            fn queued_waiters(&self) -> (usize, usize, usize) {
                $queue::queued_waiters(self)
            }
            fn unfinished_tasks(&self) -> usize {
                $queue::unfinished_tasks(self)
            }
        }
    };
}

impl_test_queue!(Queue, Order::Fifo);
impl_test_queue!(LifoQueue, Order::Lifo);
impl_test_queue!(PriorityQueue, Order::Smallest);

/// Where a thread is parked in a queue.
#[derive(Clone, Copy, Debug)]
enum In {
    Get,
    Put,
    Join,
}

/// How many threads are parked in `q`'s gets, puts or joins (the hidden hook).
fn parked<Q: TestQueue>(q: &Q, place: In) -> usize {
    let (get, put, join) = q.queued_waiters();
    match place {
        In::Get => get,
        In::Put => put,
        In::Join => join,
    }
}

/// Waits until exactly `expected` threads are parked in `q`'s gets, puts or joins; fails
/// after [`SHORT_TIMEOUT`]. Where CPython lets threads block by sleeping.
#[track_caller]
fn wait_parked<Q: TestQueue>(q: &Q, place: In, expected: usize) {
    wait_for_queued(|| parked(q, place), expected);
}

/// Starts a thread blocked in `q.join()`.
fn spawn_join<Q: TestQueue>(q: &Arc<Q>) -> Worker<()> {
    spawn_on(q, |q| q.join())
}

/// `q.join()`, bounded: fails the test if it does not return within [`SHORT_TIMEOUT`].
#[track_caller]
fn join_bounded<Q: TestQueue>(q: &Arc<Q>) {
    spawn_join(q).join();
}

// ---------------------------------------------------------------------------------------
// BaseQueueTestMixin: the bodies.

/// What the trigger of a blocked get puts (CPython's `'empty'`).
const EMPTY: i32 = -1;

/// CPython's `basic_queue_test`, checking every get against a model of the queue.
fn basic_queue_test<Q: TestQueue<Item = i32>>(q: &Arc<Q>) {
    assert_eq!(q.len(), 0, "call this with an empty queue");
    assert!(q.is_empty());
    assert!(!q.is_full());
    assert_eq!(q.maxsize(), QUEUE_SIZE);
    // I guess we better check things actually queue correctly a little :)
    for item in [111, 333, 222] {
        assert_eq!(q.put(item), Ok(()));
    }
    let target_order = match Q::ORDER {
        Order::Fifo => [111, 333, 222],
        Order::Lifo => [222, 333, 111],
        Order::Smallest => [111, 222, 333],
    };
    let actual_order = [q.get(), q.get(), q.get()];
    assert_eq!(
        actual_order,
        target_order.map(Ok),
        "didn't seem to queue the correct data"
    );

    let mut model = Vec::new();
    for i in 0..QUEUE_SIZE as i32 - 1 {
        assert_eq!(q.put(i), Ok(()));
        model.push(i);
        assert_eq!(q.len(), model.len());
        assert!(!q.is_empty(), "queue should not be empty");
    }
    assert!(!q.is_full(), "queue should not be full");
    let last = 2 * QUEUE_SIZE as i32;
    let full = 3 * 2 * QUEUE_SIZE as i32;
    assert_eq!(q.put(last), Ok(()));
    model.push(last);
    assert!(q.is_full(), "queue should be full");
    assert!(!q.is_empty());
    assert_eq!(q.len(), QUEUE_SIZE);

    // A put on a full queue that may not wait fails with the item, and changes nothing.
    assert_eq!(q.try_put(full), Err(PutError::Full(full)));
    assert_eq!(
        q.put_timeout(full, Duration::ZERO),
        Err(PutError::Full(full))
    );
    let t = Instant::now();
    assert_eq!(q.put_timeout(full, TIMEOUT), Err(PutError::Full(full)));
    assert_timeout(t.elapsed(), TIMEOUT);
    assert_eq!(q.len(), QUEUE_SIZE, "a refused put changed the queue");
    assert!(q.is_full());

    // Test a blocking put: it waits until the trigger's get makes room (also with a
    // timeout too large for the clock, which waits forever).
    for timeout in [None, Some(LONG), Some(Duration::MAX)] {
        let (put, got) = do_blocking_test(
            q,
            |q| parked(q, In::Put),
            move |q| match timeout {
                Some(timeout) => q.put_timeout(full, timeout),
                None => q.put(full),
            },
            |q| q.get(),
        );
        assert_eq!(put, Ok(()), "timeout: {timeout:?}");
        assert_eq!(got, Ok(Q::ORDER.take(&mut model)), "timeout: {timeout:?}");
        model.push(full);
        assert_eq!(q.len(), QUEUE_SIZE, "timeout: {timeout:?}");
        assert!(q.is_full());
    }

    // Empty it.
    for _ in 0..QUEUE_SIZE {
        assert_eq!(q.get(), Ok(Q::ORDER.take(&mut model)));
    }
    assert!(model.is_empty());
    assert_eq!(q.len(), 0, "queue should be empty");
    assert!(q.is_empty());
    assert!(!q.is_full());

    // A get on an empty queue that may not wait fails, and changes nothing.
    assert_eq!(q.try_get(), Err(GetError::Empty));
    assert_eq!(q.get_timeout(Duration::ZERO), Err(GetError::Empty));
    let t = Instant::now();
    assert_eq!(q.get_timeout(TIMEOUT), Err(GetError::Empty));
    assert_timeout(t.elapsed(), TIMEOUT);
    assert!(q.is_empty());

    // Test a blocking get: it waits until the trigger's put (also with a timeout too large
    // for the clock).
    for timeout in [None, Some(LONG), Some(Duration::MAX)] {
        let (got, put) = do_blocking_test(
            q,
            |q| parked(q, In::Get),
            move |q| match timeout {
                Some(timeout) => q.get_timeout(timeout),
                None => q.get(),
            },
            |q| q.put(EMPTY),
        );
        assert_eq!(got, Ok(EMPTY), "timeout: {timeout:?}");
        assert_eq!(put, Ok(()), "timeout: {timeout:?}");
        assert!(q.is_empty());
    }
}

/// `test_basic`.
fn basic<Q: TestQueue<Item = i32>>() {
    // Do it a couple of times on the same queue.
    let q = Arc::new(Q::new(QUEUE_SIZE));
    basic_queue_test(&q);
    basic_queue_test(&q);

    // maxsize 0: unbounded, never full.
    let q = Q::new(0);
    assert_eq!(q.maxsize(), 0);
    let mut model = Vec::new();
    let n = scaled(1000, 100) as i32;
    for i in 0..n {
        assert_eq!(q.try_put(i * 7919 % n), Ok(()));
        model.push(i * 7919 % n);
        assert!(!q.is_full(), "an unbounded queue is never full");
    }
    assert_eq!(q.len(), n as usize);
    while !model.is_empty() {
        assert_eq!(q.try_get(), Ok(Q::ORDER.take(&mut model)));
    }
    assert_eq!(q.try_get(), Err(GetError::Empty));
}

/// CPython's `worker`: gets until a negative item, adding the others to `cum`; marks every
/// item done. Returns how many items it got.
fn join_worker<Q: TestQueue<Item = i64>>(q: &Q, cum: &AtomicI64) -> usize {
    let mut got = 0;
    loop {
        let x = q.get().expect("get on a live queue");
        got += 1;
        if x < 0 {
            assert_eq!(q.task_done(), Ok(()));
            return got;
        }
        cum.fetch_add(x, Ordering::SeqCst);
        assert_eq!(q.task_done(), Ok(()), "task_done for a gotten item");
    }
}

/// CPython's `queue_join_test`.
fn queue_join_test<Q: TestQueue<Item = i64>>(q: &Arc<Q>) {
    let cum = Arc::new(AtomicI64::new(0));
    let threads: Vec<_> = (0..2)
        .map(|_| {
            let cum = Arc::clone(&cum);
            spawn_on(q, move |q| join_worker(q, &cum))
        })
        .collect();
    for i in 0..100 {
        assert_eq!(q.put(i), Ok(()));
    }
    join_bounded(q);
    assert_eq!(
        cum.load(Ordering::SeqCst),
        (0..100).sum::<i64>(),
        "q.join() did not block until all tasks were done"
    );
    for _ in 0..2 {
        assert_eq!(q.put(-1), Ok(())); // instruct the threads to close
    }
    join_bounded(q); // verify that you can join twice
    let got: usize = threads.into_iter().map(Worker::join).sum();
    assert_eq!(got, 102, "the workers got the wrong number of items");
    assert!(q.is_empty());
}

/// `test_queue_task_done`, plus: a refused `task_done` changes nothing.
fn queue_task_done<Q: TestQueue<Item = i32>>() {
    let q = Arc::new(Q::new(0));
    assert_eq!(
        q.task_done(),
        Err(TaskDoneError),
        "did not detect task count going negative"
    );
    assert_eq!(q.task_done(), Err(TaskDoneError));
    join_bounded(&q); // nothing is unfinished

    // The refused calls did not count ahead: one put item keeps join waiting until it is
    // done, and only one task_done is accepted.
    assert_eq!(q.put(7), Ok(()));
    let joiner = spawn_join(&q);
    assert_eq!(q.get(), Ok(7));
    wait_parked(&*q, In::Join, 1);
    assert!(!joiner.is_finished(), "join returned with a task not done");
    assert_eq!(q.unfinished_tasks(), 1);
    assert_eq!(q.task_done(), Ok(()));
    joiner.join();
    assert_eq!(q.task_done(), Err(TaskDoneError));
    join_bounded(&q);
}

/// `test_queue_join`.
fn queue_join<Q: TestQueue<Item = i64>>() {
    // Done twice for insurance.
    let q = Arc::new(Q::new(0));
    queue_join_test(&q);
    queue_join_test(&q);
    assert_eq!(
        q.task_done(),
        Err(TaskDoneError),
        "did not detect task count going negative"
    );
}

/// `test_nowait`.
fn nowait<Q: TestQueue<Item = i32>>() {
    let q = Q::new(QUEUE_SIZE);
    for i in 0..QUEUE_SIZE as i32 {
        assert_eq!(q.try_put(i), Ok(()));
    }
    assert_eq!(q.try_put(99), Err(PutError::Full(99)));
    assert_eq!(q.len(), QUEUE_SIZE, "a refused try_put changed the queue");

    let mut model: Vec<i32> = (0..QUEUE_SIZE as i32).collect();
    for _ in 0..QUEUE_SIZE {
        assert_eq!(q.try_get(), Ok(Q::ORDER.take(&mut model)));
    }
    assert_eq!(q.try_get(), Err(GetError::Empty));
    assert_eq!(q.len(), 0);
    assert!(!q.is_shutdown(), "Empty and Full are not shutdowns");
}

/// Checks (QUEUE-9) that every item handed out is the last reference to its value, so
/// nothing is kept once it is taken out.
#[track_caller]
fn assert_sole_owner(item: Arc<u32>) {
    assert_eq!(
        Arc::strong_count(&item),
        1,
        "the queue kept a reference to item {item}"
    );
    let weak = Arc::downgrade(&item);
    drop(item);
    assert!(weak.upgrade().is_none());
}

/// `BaseSimpleQueueTest.test_references`, for these queues: an item is dropped as soon as
/// it leaves the queue, by a get or by `shutdown(true)`'s drain, and a refused put gives the
/// item itself back; items still queued are kept alive.
fn references<Q: TestQueue<Item = Arc<u32>>>() {
    const N: u32 = 20;
    let q = Q::new(0);
    let weaks: Vec<Weak<u32>> = (0..N)
        .map(|i| {
            let item = Arc::new(i);
            let weak = Arc::downgrade(&item);
            assert!(q.put(item).is_ok());
            weak
        })
        .collect();
    for _ in 0..N / 2 {
        assert_sole_owner(q.get().expect("get"));
    }
    let alive = weaks.iter().filter(|w| w.upgrade().is_some()).count();
    assert_eq!(alive, (N / 2) as usize, "queued items were dropped");
    // shutdown(true) drops what it drains, at once.
    q.shutdown(true);
    assert!(
        weaks.iter().all(|w| w.upgrade().is_none()),
        "shutdown(true) kept drained items"
    );
    assert_eq!(q.len(), 0);

    // A refused put hands back the very item.
    let q = Q::new(1);
    assert!(q.put(Arc::new(0)).is_ok());
    let item = Arc::new(1);
    let refused = match q.try_put(Arc::clone(&item)) {
        Err(PutError::Full(back)) => back,
        other => panic!("try_put on a full queue: {:?}", other.err()),
    };
    assert!(Arc::ptr_eq(&refused, &item));
    assert_eq!(
        Arc::strong_count(&item),
        2,
        "the queue kept the refused item"
    );
    let refused = match q.put_timeout(refused, Duration::from_millis(1)) {
        Err(PutError::Full(back)) => back,
        other => panic!("put_timeout on a full queue: {:?}", other.err()),
    };
    assert_eq!(
        Arc::strong_count(&item),
        2,
        "the queue kept the refused item"
    );
    q.shutdown(false);
    let refused = match q.put(refused) {
        Err(PutError::ShutDown(back)) => back,
        other => panic!("put on a shut-down queue: {:?}", other.err()),
    };
    assert!(Arc::ptr_eq(&refused, &item));
    drop(refused);
    assert_eq!(
        Arc::strong_count(&item),
        1,
        "the queue kept the refused item"
    );
    assert_sole_owner(q.get().expect("shutdown(false) still drains"));
}

// --- shutdown ---

/// `test_shutdown_empty`, with every kind of put and get.
fn shutdown_empty<Q: TestQueue<Item = Str>>() {
    let q = Q::new(0);
    q.shutdown(false);
    assert_eq!(q.put("data"), Err(PutError::ShutDown("data")));
    assert_eq!(q.try_put("data"), Err(PutError::ShutDown("data")));
    assert_eq!(q.put_timeout("data", LONG), Err(PutError::ShutDown("data")));
    assert_eq!(q.get(), Err(GetError::ShutDown));
    assert_eq!(q.try_get(), Err(GetError::ShutDown));
    let t = Instant::now();
    assert_eq!(q.get_timeout(LONG), Err(GetError::ShutDown));
    assert!(
        t.elapsed() < LONG,
        "get_timeout waited on a shut-down queue"
    );
    assert_eq!(q.len(), 0);
}

/// `test_shutdown_nonempty`.
fn shutdown_nonempty<Q: TestQueue<Item = Str>>() {
    let q = Q::new(0);
    assert_eq!(q.put("data"), Ok(()));
    q.shutdown(false);
    assert_eq!(q.get(), Ok("data"));
    assert_eq!(q.get(), Err(GetError::ShutDown));
}

/// `test_shutdown_immediate`.
fn shutdown_immediate<Q: TestQueue<Item = Str>>() {
    let q = Q::new(0);
    assert_eq!(q.put("data"), Ok(()));
    q.shutdown(true);
    assert_eq!(q.get(), Err(GetError::ShutDown));
    assert_eq!(q.len(), 0, "shutdown(true) did not drain");
    assert!(q.is_empty());
}

/// `test_shutdown_allowed_transitions`, plus what a second shutdown does: `shutdown(true)`
/// after `shutdown(false)` drains what is left (counting it done), and `shutdown(false)`
/// after `shutdown(true)` changes nothing.
fn shutdown_allowed_transitions<Q: TestQueue<Item = Str>>() {
    // Allowed transitions would be from alive via shutdown to immediate.
    let q = Q::new(0);
    assert!(!q.is_shutdown());
    q.shutdown(false);
    assert!(q.is_shutdown());
    q.shutdown(true);
    assert!(q.is_shutdown());
    q.shutdown(false);
    assert!(q.is_shutdown());

    let q = Arc::new(Q::new(0));
    let mut model = vec!["a", "b", "c"];
    for item in model.clone() {
        assert_eq!(q.put(item), Ok(()));
    }
    q.shutdown(false);
    q.shutdown(false);
    assert_eq!(q.len(), 3, "shutdown(false) drained");
    assert_eq!(q.get(), Ok(Q::ORDER.take(&mut model)));
    q.shutdown(true);
    assert!(q.is_shutdown());
    assert_eq!(
        q.len(),
        0,
        "shutdown(true) after shutdown(false) did not drain"
    );
    assert_eq!(q.get(), Err(GetError::ShutDown));
    q.shutdown(false);
    assert_eq!(q.len(), 0);
    assert_eq!(q.put("d"), Err(PutError::ShutDown("d")));
    // The two drained items count as done; the gotten one does not until task_done.
    assert_eq!(q.unfinished_tasks(), 1);
    let joiner = spawn_join(&q);
    wait_parked(&*q, In::Join, 1);
    assert!(
        !joiner.is_finished(),
        "join returned with a gotten task not done"
    );
    assert_eq!(q.task_done(), Ok(()));
    joiner.join();
    assert_eq!(q.task_done(), Err(TaskDoneError));
}

/// CPython's `_shutdown_all_methods_in_one_thread`.
fn shutdown_all_methods_in_one_thread<Q: TestQueue<Item = Str>>(immediate: bool) {
    let q = Arc::new(Q::new(2));
    assert_eq!(q.put("L"), Ok(()));
    assert_eq!(q.try_put("O"), Ok(()));
    q.shutdown(immediate);

    // The queue is full (unless drained): ShutDown, not Full, and without waiting.
    assert_eq!(q.put("E"), Err(PutError::ShutDown("E")));
    assert_eq!(q.try_put("W"), Err(PutError::ShutDown("W")));
    let t = Instant::now();
    assert_eq!(q.put_timeout("T", LONG), Err(PutError::ShutDown("T")));
    assert!(
        t.elapsed() < LONG,
        "put_timeout waited on a shut-down queue"
    );
    if immediate {
        assert_eq!(q.get(), Err(GetError::ShutDown));
        assert_eq!(q.try_get(), Err(GetError::ShutDown));
        assert_eq!(q.task_done(), Err(TaskDoneError));
        assert_eq!(q.unfinished_tasks(), 0, "drained items are counted done");
        join_bounded(&q);
    } else {
        let mut model = vec!["L", "O"];
        assert_eq!(q.get(), Ok(Q::ORDER.take(&mut model)));
        assert_eq!(q.task_done(), Ok(()));
        assert_eq!(q.get(), Ok(Q::ORDER.take(&mut model)));
        assert_eq!(q.task_done(), Ok(()));
        join_bounded(&q);
        // On shutdown(immediate=False), when the queue is empty, gets fail with ShutDown.
        assert_eq!(q.get(), Err(GetError::ShutDown));
        assert_eq!(q.try_get(), Err(GetError::ShutDown));
        assert_eq!(
            q.get_timeout(Duration::from_secs(1)),
            Err(GetError::ShutDown)
        );
    }
}

/// What a writer of `_shutdown_all_methods_in_many_threads` did.
struct Written {
    /// It put items `0..puts` (the rest failed or were never tried).
    puts: usize,
    /// It triggered the shutdown (CPython's `True` in `res_puts`).
    triggered: bool,
}

/// CPython's `_shutdown_all_methods_in_many_threads`, checking every item: 4 writers of 16
/// Ki items each, 6 readers (getting and marking done until `ShutDown`), one thread that
/// shuts the queue down once a writer is halfway, and, when `immediate`, 2 joiners.
fn shutdown_all_methods_in_many_threads<Q: TestQueue<Item = (usize, usize)>>(immediate: bool) {
    const WRITE_THREADS: usize = 4;
    const READ_THREADS: usize = 6;
    const JOIN_THREADS: usize = 2;
    const NB_MSGS: usize = scaled(1024 * 64, 256);
    const NB_MSGS_W: usize = NB_MSGS / WRITE_THREADS;
    const WHEN_EXEC_SHUTDOWN: usize = NB_MSGS_W / 2;

    let q = Arc::new(Q::new(0));
    // All writers put their first items, and all readers get at least one, before any
    // writer goes on (and so before the shutdown).
    let nparties = WRITE_THREADS + READ_THREADS + if immediate { JOIN_THREADS } else { 0 };
    let barrier_start = Arc::new(std::sync::Barrier::new(nparties));
    let ev_exec_shutdown = Arc::new(Gate::default());
    let fired = Arc::new(AtomicBool::new(false));

    let writers: Vec<Worker<Written>> = (0..WRITE_THREADS)
        .map(|w| {
            let (barrier, ev, fired) = (
                Arc::clone(&barrier_start),
                Arc::clone(&ev_exec_shutdown),
                Arc::clone(&fired),
            );
            spawn_on(&q, move |q| {
                for i in 0..WHEN_EXEC_SHUTDOWN / 2 {
                    assert_eq!(q.put((i, w)), Ok(()), "a put before the shutdown failed");
                }
                barrier.wait();
                let mut triggered = false;
                for i in WHEN_EXEC_SHUTDOWN / 2..NB_MSGS_W {
                    match q.put((i, w)) {
                        Ok(()) => {}
                        Err(PutError::ShutDown(item)) => {
                            assert_eq!(item, (i, w), "ShutDown gave back another item");
                            return Written { puts: i, triggered };
                        }
                        Err(PutError::Full(_)) => panic!("an unbounded queue was full"),
                    }
                    // Trigger the queue shutdown: only one writer does.
                    if i == WHEN_EXEC_SHUTDOWN && !fired.swap(true, Ordering::SeqCst) {
                        triggered = true;
                        ev.open();
                    }
                }
                Written {
                    puts: NB_MSGS_W,
                    triggered,
                }
            })
        })
        .collect();

    let readers: Vec<Worker<Vec<(usize, usize)>>> = (0..READ_THREADS)
        .map(|_| {
            let barrier = Arc::clone(&barrier_start);
            spawn_on(&q, move |q| {
                // Get at least one item.
                let mut got = vec![q.get().expect("the first get, before the shutdown")];
                assert_eq!(q.task_done(), Ok(()));
                barrier.wait();
                loop {
                    match q.try_get() {
                        Ok(item) => {
                            got.push(item);
                            assert_eq!(q.task_done(), Ok(()), "task_done for a gotten item");
                        }
                        Err(GetError::Empty) => thread::yield_now(),
                        Err(GetError::ShutDown) => return got,
                    }
                }
            })
        })
        .collect();

    let ev = Arc::clone(&ev_exec_shutdown);
    let shutdown = spawn_on(&q, move |q| {
        ev.wait();
        q.shutdown(immediate);
        q.len() == 0
    });

    let joiners: Vec<Worker<()>> = if immediate {
        (0..JOIN_THREADS)
            .map(|_| {
                let barrier = Arc::clone(&barrier_start);
                spawn_on(&q, move |q| {
                    barrier.wait();
                    q.join();
                })
            })
            .collect()
    } else {
        Vec::new()
    };

    let written: Vec<Written> = writers.into_iter().map(Worker::join).collect();
    let read: Vec<Vec<(usize, usize)>> = readers.into_iter().map(Worker::join).collect();
    let empty_after_shutdown = shutdown.join();
    joiners.into_iter().for_each(Worker::join);

    assert_eq!(
        written.iter().filter(|w| w.triggered).count(),
        1,
        "exactly one writer triggers the shutdown"
    );
    // QUEUE-1: every item read was put, and read once.
    let mut seen = HashSet::new();
    for (i, w) in read.iter().flatten() {
        assert!(
            *i < written[*w].puts,
            "read ({i}, {w}), which was never put"
        );
        assert!(seen.insert((*i, *w)), "read ({i}, {w}) twice");
    }
    let total_put: usize = written.iter().map(|w| w.puts).sum();
    if immediate {
        assert!(empty_after_shutdown, "shutdown(true) left items queued");
        assert!(seen.len() <= total_put);
    } else {
        assert_eq!(
            seen.len(),
            total_put,
            "items were lost: readers stop only on ShutDown, with the queue drained"
        );
    }
    // QUEUE-3: each reader got each writer's items in order.
    if Q::ORDER == Order::Fifo {
        for (r, items) in read.iter().enumerate() {
            let mut last: HashMap<usize, usize> = HashMap::new();
            for &(i, w) in items {
                if let Some(prev) = last.insert(w, i) {
                    assert!(prev < i, "reader {r} got ({i}, {w}) after ({prev}, {w})");
                }
            }
        }
    }
    assert!(q.is_empty());
    assert!(q.is_shutdown());
    join_bounded(&q);
    assert_eq!(q.task_done(), Err(TaskDoneError));
}

/// A get that waits for `go`; the tests' `_get`, `_get_shutdown` and `_get_task_done`
/// read their outcome from its result.
fn spawn_get<Q: TestQueue<Item = Str>>(
    q: &Arc<Q>,
    go: &Arc<Gate>,
    task_done: bool,
) -> Worker<Result<Str, GetError>> {
    let go = Arc::clone(go);
    spawn_on(q, move |q| {
        go.wait();
        let got = q.get();
        if task_done && got.is_ok() {
            assert_eq!(q.task_done(), Ok(()), "task_done for a gotten item");
        }
        got
    })
}

/// The items the gets got, sorted, and their errors.
fn sorted_gets(
    results: impl IntoIterator<Item = Result<Str, GetError>>,
) -> (Vec<Str>, Vec<GetError>) {
    let (mut items, mut errors) = (Vec::new(), Vec::new());
    for result in results {
        match result {
            Ok(item) => items.push(item),
            Err(e) => errors.push(e),
        }
    }
    items.sort_unstable();
    (items, errors)
}

/// A put that waits for `go` (the tests' `_put` and `_put_shutdown`).
fn spawn_put<Q: TestQueue<Item = Str>>(
    q: &Arc<Q>,
    item: Str,
    go: &Arc<Gate>,
) -> Worker<Result<(), PutError<Str>>> {
    let go = Arc::clone(go);
    spawn_on(q, move |q| {
        go.wait();
        q.put(item)
    })
}

/// CPython's `_shutdown_get`: on a full queue, getters that start after the shutdown drain
/// it (one of three gets `ShutDown`), or, after `shutdown(true)`, all get `ShutDown`.
fn shutdown_get<Q: TestQueue<Item = Str>>(immediate: bool) {
    let q = Arc::new(Q::new(2));
    let go = Arc::new(Gate::default());
    assert_eq!(q.put("Y"), Ok(()));
    assert_eq!(q.put("D"), Ok(()));
    // Queue full.
    let nthreads = if immediate { 2 } else { 3 };
    let threads: Vec<_> = (0..nthreads).map(|_| spawn_get(&q, &go, false)).collect();
    q.shutdown(immediate);
    go.open();
    let results: Vec<_> = threads.into_iter().map(Worker::join).collect();
    if immediate {
        assert_eq!(results, [Err(GetError::ShutDown); 2]);
    } else {
        // One of these threads should get ShutDown, the others the two items.
        assert_eq!(
            sorted_gets(results),
            (vec!["D", "Y"], vec![GetError::ShutDown])
        );
    }
    assert!(q.is_empty());
}

/// CPython's `_shutdown_put`: on a full queue, putters that start after the shutdown get
/// `ShutDown` with their items. (CPython calls `shutdown()` for both variants; this port
/// calls `shutdown(immediate)`, and checks what is left.)
fn shutdown_put<Q: TestQueue<Item = Str>>(immediate: bool) {
    let q = Arc::new(Q::new(2));
    let go = Arc::new(Gate::default());
    assert_eq!(q.put("Y"), Ok(()));
    assert_eq!(q.put("D"), Ok(()));
    // Queue full.
    let threads = [spawn_put(&q, "E", &go), spawn_put(&q, "W", &go)];
    q.shutdown(immediate);
    go.open();
    let results = threads.map(Worker::join);
    assert_eq!(
        results,
        [Err(PutError::ShutDown("E")), Err(PutError::ShutDown("W"))]
    );
    if immediate {
        assert!(q.is_empty());
    } else {
        let mut model = vec!["Y", "D"];
        assert_eq!(q.get(), Ok(Q::ORDER.take(&mut model)));
        assert_eq!(q.get(), Ok(Q::ORDER.take(&mut model)));
        assert_eq!(q.get(), Err(GetError::ShutDown));
    }
}

/// CPython's `_shutdown_join`: joiners blocked on one unfinished item return once it is
/// drained by `shutdown(true)`, or, after `shutdown(false)`, gotten and marked done.
fn shutdown_join<Q: TestQueue<Item = Str>>(immediate: bool) {
    let q = Arc::new(Q::new(0));
    let go = Arc::new(Gate::default());
    assert_eq!(q.put("Y"), Ok(()));
    let joiners = [spawn_join(&q), spawn_join(&q)];
    let getter = (!immediate).then(|| spawn_get(&q, &go, true));
    wait_parked(&*q, In::Join, 2);
    assert!(
        joiners.iter().all(|j| !j.is_finished()),
        "join returned with an item not done"
    );
    q.shutdown(immediate);
    go.open();
    if let Some(getter) = getter {
        assert_eq!(getter.join(), Ok("Y"));
    }
    joiners.into_iter().for_each(Worker::join);
    assert_eq!(q.task_done(), Err(TaskDoneError));
}

/// CPython's `_shutdown_put_join`: a putter that starts after the shutdown gets `ShutDown`;
/// a joiner returns once the one item is drained, or gotten and marked done.
fn shutdown_put_join<Q: TestQueue<Item = Str>>(immediate: bool) {
    let q = Arc::new(Q::new(2));
    let go = Arc::new(Gate::default());
    assert_eq!(q.put("Y"), Ok(()));
    // Queue not full.
    let putter = spawn_put(&q, "E", &go);
    let joiner = spawn_join(&q);
    assert_eq!(q.unfinished_tasks(), 1);
    wait_parked(&*q, In::Join, 1);
    assert!(!joiner.is_finished(), "join returned with an item not done");
    q.shutdown(immediate);
    go.open();
    if immediate {
        assert_eq!(q.try_get(), Err(GetError::ShutDown));
    } else {
        assert_eq!(q.get(), Ok("Y"));
        assert_eq!(q.task_done(), Ok(()));
    }
    assert_eq!(putter.join(), Err(PutError::ShutDown("E")));
    joiner.join();
    assert_eq!(q.task_done(), Err(TaskDoneError));
}

/// `test_shutdown_get_task_done_join`: two getters that mark done and two joiners, racing
/// `shutdown(false)`: both items are gotten, and both joiners return.
fn shutdown_get_task_done_join<Q: TestQueue<Item = Str>>() {
    let q = Arc::new(Q::new(2));
    let go = Arc::new(Gate::default());
    assert_eq!(q.put("Y"), Ok(()));
    assert_eq!(q.put("D"), Ok(()));
    assert_eq!(q.unfinished_tasks(), q.len());
    let getters = [spawn_get(&q, &go, true), spawn_get(&q, &go, true)];
    let joiners = [spawn_join(&q), spawn_join(&q)];
    go.open();
    q.shutdown(false);
    let got = getters.map(Worker::join);
    assert_eq!(sorted_gets(got), (vec!["D", "Y"], vec![]));
    joiners.into_iter().for_each(Worker::join);
    assert!(q.is_empty());
    assert_eq!(q.task_done(), Err(TaskDoneError));
}

/// `test_shutdown_pending_get`, with `get` and `get_timeout`, after `shutdown(immediate)`:
/// getters blocked on an empty queue wake with `ShutDown`.
fn shutdown_pending_get<Q: TestQueue<Item = Str>>(immediate: bool) {
    let q = Arc::new(Q::new(0));
    let get = spawn_on(&q, |q| q.get());
    let timed = spawn_on(&q, |q| {
        let t = Instant::now();
        (q.get_timeout(LONG), t.elapsed())
    });
    wait_parked(&*q, In::Get, 2);
    assert!(!get.is_finished(), "get on an empty queue returned");
    assert!(
        !timed.is_finished(),
        "get_timeout on an empty queue returned"
    );
    q.shutdown(immediate);
    assert_eq!(get.join(), Err(GetError::ShutDown));
    let (got, waited) = timed.join();
    assert_eq!(got, Err(GetError::ShutDown));
    assert!(waited < LONG, "get_timeout was not woken by the shutdown");
    assert!(q.is_empty());
}

/// Added: putters blocked on a full queue wake at `shutdown(immediate)` with `ShutDown` and
/// their items; the queued item is still there after `shutdown(false)`.
fn shutdown_pending_put<Q: TestQueue<Item = Str>>(immediate: bool) {
    let q = Arc::new(Q::new(1));
    assert_eq!(q.put("Y"), Ok(()));
    let put = spawn_on(&q, |q| q.put("E"));
    let timed = spawn_on(&q, |q| {
        let t = Instant::now();
        (q.put_timeout("W", LONG), t.elapsed())
    });
    wait_parked(&*q, In::Put, 2);
    assert!(!put.is_finished(), "put on a full queue returned");
    assert!(!timed.is_finished(), "put_timeout on a full queue returned");
    q.shutdown(immediate);
    assert_eq!(put.join(), Err(PutError::ShutDown("E")));
    let (result, waited) = timed.join();
    assert_eq!(result, Err(PutError::ShutDown("W")));
    assert!(waited < LONG, "put_timeout was not woken by the shutdown");
    if immediate {
        assert_eq!(q.try_get(), Err(GetError::ShutDown));
    } else {
        assert_eq!(q.try_get(), Ok("Y"));
        assert_eq!(q.try_get(), Err(GetError::ShutDown));
    }
    assert!(q.is_empty());
}

/// Added: `shutdown(true)` counts only the drained items done: a joiner waits on for an
/// item gotten before the shutdown until it is marked done.
fn shutdown_immediate_join_waits_for_gotten_items<Q: TestQueue<Item = Str>>() {
    let q = Arc::new(Q::new(0));
    for item in ["A", "B", "C"] {
        assert_eq!(q.put(item), Ok(()));
    }
    let gotten = q.get().expect("get");
    let joiner = spawn_join(&q);
    wait_parked(&*q, In::Join, 1);
    assert!(
        !joiner.is_finished(),
        "join returned with three items not done"
    );
    assert_eq!(q.unfinished_tasks(), 3);
    q.shutdown(true);
    assert_eq!(q.len(), 0);
    assert_eq!(
        q.unfinished_tasks(),
        1,
        "shutdown(true) miscounted the drained items"
    );
    assert_still_blocked(
        &joiner,
        "join after shutdown(true) with a gotten item not done",
    );
    wait_parked(&*q, In::Join, 1);
    assert!(["A", "B", "C"].contains(&gotten));
    assert_eq!(q.task_done(), Ok(()));
    joiner.join();
    assert_eq!(q.task_done(), Err(TaskDoneError));
}

/// Added: items marked done before they are gotten are not counted again when
/// `shutdown(true)` drains them (CPython decrements only while `unfinished_tasks > 0`).
fn shutdown_immediate_after_early_task_done<Q: TestQueue<Item = Str>>() {
    let q = Arc::new(Q::new(0));
    assert_eq!(q.put("A"), Ok(()));
    assert_eq!(q.put("B"), Ok(()));
    assert_eq!(q.task_done(), Ok(()));
    assert_eq!(q.task_done(), Ok(()));
    assert_eq!(q.task_done(), Err(TaskDoneError));
    assert_eq!(q.unfinished_tasks(), 0);
    join_bounded(&q);
    assert_eq!(q.len(), 2);
    q.shutdown(true);
    assert_eq!(q.len(), 0);
    assert_eq!(q.unfinished_tasks(), 0);
    assert_eq!(q.task_done(), Err(TaskDoneError));
    join_bounded(&q);
    // Still counting right: nothing can be put any more, and nothing is unfinished.
    assert_eq!(q.put("C"), Err(PutError::ShutDown("C")));
    assert_eq!(q.task_done(), Err(TaskDoneError));
}

/// Added: `shutdown(true)` is one step, as CPython's: it sets `is_shutdown` and drains in
/// one critical section under the queue's mutex, which `get` and `qsize` take too. So a
/// thread that sees `is_shutdown()` (the only shutdown being immediate), even in the middle
/// of the drain, gets `ShutDown`, never an item, and then `len() == 0`. A long queue makes
/// the drain long enough for the thread to look in the middle of it (CPython 3.13 passes
/// this with 50,000 items, its observer seeing `is_shutdown` with ~40,000 still queued).
fn shutdown_immediate_is_atomic<Q: TestQueue<Item = u32>>(maxsize: usize) {
    const ITEMS: u32 = scaled(50_000, 300) as u32;
    for round in 0..scaled(5, 2) {
        let q = Arc::new(Q::new(maxsize));
        for i in 0..ITEMS {
            assert_eq!(q.try_put(i), Ok(()));
        }
        let ready = Arc::new(AtomicBool::new(false));
        let r = Arc::clone(&ready);
        let observer = spawn_on(&q, move |q| {
            r.store(true, Ordering::SeqCst);
            while !q.is_shutdown() {
                std::hint::spin_loop();
            }
            let got = q.try_get();
            (got, q.len())
        });
        while !ready.load(Ordering::SeqCst) {
            thread::yield_now();
        }
        q.shutdown(true);
        let (got, len) = observer.join();
        assert_eq!(
            got,
            Err(GetError::ShutDown),
            "round {round}: a get after is_shutdown() (immediate) returned an item"
        );
        assert_eq!(
            len, 0,
            "round {round}: len() after is_shutdown() (immediate)"
        );
        assert_eq!(q.len(), 0);
        assert_eq!(q.unfinished_tasks(), 0);
    }
}

// ---------------------------------------------------------------------------------------
// BaseQueueTestMixin: the tests.

/// The `#[test]`s of `BaseQueueTestMixin`, for the queue type `$queue`.
macro_rules! base_queue_tests {
    ($queue:ident) => {
        /// Ports `test_basic` (plus `Duration::ZERO`, timed waits and `maxsize` 0): QUEUE-1,
        /// QUEUE-2, QUEUE-3, QUEUE-4, QUEUE-5.
        #[test]
        fn test_basic() {
            watchdog(super::basic::<$queue<i32>>);
        }

        /// Ports `test_queue_task_done` (plus: a refused `task_done` changes nothing):
        /// QUEUE-6.
        #[test]
        fn test_queue_task_done() {
            watchdog(super::queue_task_done::<$queue<i32>>);
        }

        /// Ports `test_queue_join`: QUEUE-1, QUEUE-6.
        #[test]
        fn test_queue_join() {
            watchdog(super::queue_join::<$queue<i64>>);
        }

        // test_negative_timeout_raises_exception: skipped, a Duration cannot be negative.
        // test_shrinking_queue: skipped, maxsize is fixed at construction.

        /// Ports `test_nowait`: QUEUE-2, QUEUE-3, QUEUE-5.
        #[test]
        fn test_nowait() {
            watchdog(super::nowait::<$queue<i32>>);
        }

        /// Ports `BaseSimpleQueueTest.test_references` to this queue (plus the drain of
        /// `shutdown(true)` and refused puts): QUEUE-5, QUEUE-8, QUEUE-9.
        #[test]
        fn test_references() {
            watchdog(super::references::<$queue<Arc<u32>>>);
        }

        /// Ports `test_shutdown_empty` (every kind of put and get): QUEUE-7.
        #[test]
        fn test_shutdown_empty() {
            watchdog(super::shutdown_empty::<$queue<Str>>);
        }

        /// Ports `test_shutdown_nonempty`: QUEUE-7.
        #[test]
        fn test_shutdown_nonempty() {
            watchdog(super::shutdown_nonempty::<$queue<Str>>);
        }

        /// Ports `test_shutdown_immediate`: QUEUE-8.
        #[test]
        fn test_shutdown_immediate() {
            watchdog(super::shutdown_immediate::<$queue<Str>>);
        }

        /// Ports `test_shutdown_allowed_transitions` (plus a second shutdown's effect):
        /// QUEUE-6, QUEUE-7, QUEUE-8.
        #[test]
        fn test_shutdown_allowed_transitions() {
            watchdog(super::shutdown_allowed_transitions::<$queue<Str>>);
        }

        /// Ports `test_shutdown_all_methods_in_one_thread`: QUEUE-3, QUEUE-6, QUEUE-7.
        #[test]
        fn test_shutdown_all_methods_in_one_thread() {
            watchdog(|| super::shutdown_all_methods_in_one_thread::<$queue<Str>>(false));
        }

        /// Ports `test_shutdown_immediate_all_methods_in_one_thread`: QUEUE-6, QUEUE-8.
        #[test]
        fn test_shutdown_immediate_all_methods_in_one_thread() {
            watchdog(|| super::shutdown_all_methods_in_one_thread::<$queue<Str>>(true));
        }

        /// Ports `test_shutdown_all_methods_in_many_threads` (every item checked): QUEUE-1,
        /// QUEUE-3, QUEUE-6, QUEUE-7.
        #[test]
        fn test_shutdown_all_methods_in_many_threads() {
            watchdog(|| {
                super::shutdown_all_methods_in_many_threads::<$queue<(usize, usize)>>(false)
            });
        }

        /// Ports `test_shutdown_immediate_all_methods_in_many_threads` (every item
        /// checked): QUEUE-1, QUEUE-6, QUEUE-8.
        #[test]
        fn test_shutdown_immediate_all_methods_in_many_threads() {
            watchdog(|| {
                super::shutdown_all_methods_in_many_threads::<$queue<(usize, usize)>>(true)
            });
        }

        /// Ports `test_shutdown_get`: QUEUE-1, QUEUE-7.
        #[test]
        fn test_shutdown_get() {
            watchdog(|| super::shutdown_get::<$queue<Str>>(false));
        }

        /// Ports `test_shutdown_immediate_get`: QUEUE-8.
        #[test]
        fn test_shutdown_immediate_get() {
            watchdog(|| super::shutdown_get::<$queue<Str>>(true));
        }

        /// Ports `test_shutdown_put`: QUEUE-5, QUEUE-7.
        #[test]
        fn test_shutdown_put() {
            watchdog(|| super::shutdown_put::<$queue<Str>>(false));
        }

        /// Ports `test_shutdown_immediate_put` (with `shutdown(true)`, where CPython calls
        /// `shutdown()`): QUEUE-5, QUEUE-8.
        #[test]
        fn test_shutdown_immediate_put() {
            watchdog(|| super::shutdown_put::<$queue<Str>>(true));
        }

        /// Ports `test_shutdown_join`: QUEUE-6, QUEUE-7.
        #[test]
        fn test_shutdown_join() {
            watchdog(|| super::shutdown_join::<$queue<Str>>(false));
        }

        /// Ports `test_shutdown_immediate_join`: QUEUE-8.
        #[test]
        fn test_shutdown_immediate_join() {
            watchdog(|| super::shutdown_join::<$queue<Str>>(true));
        }

        /// Ports `test_shutdown_put_join`: QUEUE-6, QUEUE-7.
        #[test]
        fn test_shutdown_put_join() {
            watchdog(|| super::shutdown_put_join::<$queue<Str>>(false));
        }

        /// Ports `test_shutdown_immediate_put_join`: QUEUE-8.
        #[test]
        fn test_shutdown_immediate_put_join() {
            watchdog(|| super::shutdown_put_join::<$queue<Str>>(true));
        }

        /// Ports `test_shutdown_get_task_done_join`: QUEUE-1, QUEUE-6, QUEUE-7.
        #[test]
        fn test_shutdown_get_task_done_join() {
            watchdog(super::shutdown_get_task_done_join::<$queue<Str>>);
        }

        /// Ports `test_shutdown_pending_get` (with `get` and `get_timeout`): QUEUE-4,
        /// QUEUE-7.
        #[test]
        fn test_shutdown_pending_get() {
            watchdog(|| super::shutdown_pending_get::<$queue<Str>>(false));
        }

        /// Extends `test_shutdown_pending_get` to `shutdown(true)`: QUEUE-4, QUEUE-8.
        #[test]
        fn test_shutdown_immediate_pending_get() {
            watchdog(|| super::shutdown_pending_get::<$queue<Str>>(true));
        }

        /// Extends `test_shutdown_pending_get` to putters blocked on a full queue: QUEUE-4,
        /// QUEUE-5, QUEUE-7.
        #[test]
        fn test_shutdown_pending_put() {
            watchdog(|| super::shutdown_pending_put::<$queue<Str>>(false));
        }

        /// Extends `test_shutdown_pending_get` to putters blocked on a full queue and
        /// `shutdown(true)`: QUEUE-4, QUEUE-5, QUEUE-8.
        #[test]
        fn test_shutdown_immediate_pending_put() {
            watchdog(|| super::shutdown_pending_put::<$queue<Str>>(true));
        }

        /// Added: `shutdown(true)` counts only the drained items done: QUEUE-6, QUEUE-8.
        #[test]
        fn test_shutdown_immediate_join_waits_for_gotten_items() {
            watchdog(super::shutdown_immediate_join_waits_for_gotten_items::<$queue<Str>>);
        }

        /// Added: `shutdown(true)` is one step: whoever sees `is_shutdown()` sees the queue
        /// drained (an unbounded queue): QUEUE-8.
        #[test]
        fn test_shutdown_immediate_is_atomic() {
            watchdog(|| super::shutdown_immediate_is_atomic::<$queue<u32>>(0));
        }

        /// Added: as `test_shutdown_immediate_is_atomic`, for a bounded queue: QUEUE-8.
        #[test]
        fn test_shutdown_immediate_is_atomic_bounded() {
            watchdog(|| {
                super::shutdown_immediate_is_atomic::<$queue<u32>>(super::scaled(60_000, 400))
            });
        }

        /// Added: `shutdown(true)` after items were marked done early does not count them
        /// again: QUEUE-6, QUEUE-8.
        #[test]
        fn test_shutdown_immediate_after_early_task_done() {
            watchdog(super::shutdown_immediate_after_early_task_done::<$queue<Str>>);
        }
    };
}

// ---------------------------------------------------------------------------------------
// QueueTest, LifoQueueTest, PriorityQueueTest

mod queue {
    use super::*;

    base_queue_tests!(Queue);
}

mod lifo_queue {
    use super::*;

    base_queue_tests!(LifoQueue);
}

mod priority_queue {
    use super::*;

    base_queue_tests!(PriorityQueue);
}

// ---------------------------------------------------------------------------------------
// BaseSimpleQueueTest

mod simple_queue {
    use super::*;

    /// The items of the threaded tests; `None` is CPython's sentinel.
    type Item = Option<u32>;

    /// A small deterministic generator for the feeders' random sleeps (CPython's
    /// `random.Random(42)`): xorshift64*.
    struct Rng(u64);

    impl Rng {
        fn new(seed: u64) -> Self {
            Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
        }

        /// Uniform in [0, 1).
        fn random(&mut self) -> f64 {
            self.0 ^= self.0 >> 12;
            self.0 ^= self.0 << 25;
            self.0 ^= self.0 >> 27;
            (self.0.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 11) as f64 / (1u64 << 53) as f64
        }
    }

    /// CPython's `feed`: puts items popped from the shared `seq` until it is empty, then the
    /// sentinel; sleeps up to 1 ms after half of the puts.
    fn feed(q: &SimpleQueue<Item>, seq: &Mutex<Vec<u32>>, mut rnd: Rng) {
        loop {
            let val = seq.lock().unwrap_or_else(PoisonError::into_inner).pop();
            let Some(val) = val else {
                q.put(None);
                return;
            };
            q.put(Some(val));
            if rnd.random() > 0.5 {
                thread::sleep(Duration::from_secs_f64(rnd.random() * 1e-3));
            }
        }
    }

    /// How a consumer gets (CPython's `consume`, `consume_nonblock`, `consume_timeout`).
    #[derive(Clone, Copy)]
    enum Consume {
        /// `get()`.
        Blocking,
        /// `try_get()`, sleeping 10 µs on `Empty`.
        Nonblock,
        /// `get_timeout(10 µs)`, again on `Empty`.
        Timeout,
    }

    /// Gets until the sentinel; returns the items, in the order gotten.
    fn consume(q: &SimpleQueue<Item>, how: Consume) -> Vec<u32> {
        let mut results = Vec::new();
        loop {
            let val = match how {
                Consume::Blocking => q.get().expect("get on a SimpleQueue"),
                Consume::Nonblock => loop {
                    match q.try_get() {
                        Ok(val) => break val,
                        Err(GetError::Empty) => thread::sleep(Duration::from_micros(10)),
                        Err(e) => panic!("try_get on a SimpleQueue: {e:?}"),
                    }
                },
                Consume::Timeout => loop {
                    match q.get_timeout(Duration::from_micros(10)) {
                        Ok(val) => break val,
                        Err(GetError::Empty) => {}
                        Err(e) => panic!("get_timeout on a SimpleQueue: {e:?}"),
                    }
                },
            };
            match val {
                Some(val) => results.push(val),
                None => return results,
            }
        }
    }

    /// CPython's `run_threads`: `n_threads` feeders share `inputs`, `n_threads` consumers
    /// get until a sentinel each. Returns what the consumers got, consumer by consumer.
    fn run_threads(n_threads: usize, inputs: &[u32], how: Consume) -> Vec<u32> {
        let q = Arc::new(SimpleQueue::new());
        let seq: Vec<u32> = inputs.iter().rev().copied().collect();
        let seq = Arc::new(Mutex::new(seq));
        let feeders: Vec<Worker<()>> = (0..n_threads)
            .map(|i| {
                let seq = Arc::clone(&seq);
                spawn_on(&q, move |q| feed(q, &seq, Rng::new(42 + i as u64)))
            })
            .collect();
        let consumers: Vec<Worker<Vec<u32>>> = (0..n_threads)
            .map(|_| spawn_on(&q, move |q| consume(q, how)))
            .collect();
        feeders.into_iter().for_each(Worker::join);
        let results = consumers.into_iter().flat_map(Worker::join).collect();
        assert!(q.is_empty());
        assert_eq!(q.len(), 0);
        results
    }

    /// Ports `test_basic` (plus `Duration::ZERO` and many puts without a consumer):
    /// QUEUE-1, QUEUE-3, QUEUE-5, QUEUE-10.
    #[test]
    fn test_basic() {
        watchdog(|| {
            let q = SimpleQueue::new();
            assert!(q.is_empty());
            assert_eq!(q.len(), 0);
            q.put(1);
            assert!(!q.is_empty());
            assert_eq!(q.len(), 1);
            q.put(2);
            q.put(3); // put_nowait
            q.put(4);
            assert!(!q.is_empty());
            assert_eq!(q.len(), 4);

            assert_eq!(q.get(), Ok(1));
            assert_eq!(q.len(), 3);

            assert_eq!(q.try_get(), Ok(2)); // get_nowait
            assert_eq!(q.len(), 2);

            assert_eq!(q.try_get(), Ok(3)); // get(block=False)
            assert!(!q.is_empty());
            assert_eq!(q.len(), 1);

            assert_eq!(q.get_timeout(Duration::from_millis(100)), Ok(4));
            assert!(q.is_empty());
            assert_eq!(q.len(), 0);

            assert_eq!(q.try_get(), Err(GetError::Empty));
            assert_eq!(q.get_timeout(Duration::ZERO), Err(GetError::Empty));
            let t = Instant::now();
            assert_eq!(q.get_timeout(TIMEOUT), Err(GetError::Empty));
            assert_timeout(t.elapsed(), TIMEOUT);
            assert_eq!(q.try_get(), Err(GetError::Empty));
            assert!(q.is_empty());
            assert_eq!(q.len(), 0);

            // put never blocks: no bound, nobody getting.
            let n = scaled(10_000, 200) as u32;
            for i in 0..n {
                q.put(i);
            }
            assert_eq!(q.len(), n as usize);
            for i in 0..n {
                assert_eq!(q.try_get(), Ok(i));
            }
            assert!(q.is_empty());
        });
    }

    /// Extends `test_basic` to a blocked get (CPython's `BaseQueueTestMixin` does this for
    /// the other queues): `get` and `get_timeout` wait until a put. QUEUE-4.
    #[test]
    fn test_blocking_get() {
        watchdog(|| {
            let q = Arc::new(SimpleQueue::new());
            let parked = |q: &SimpleQueue<Str>| q.queued_waiters();
            let (got, ()) = do_blocking_test(&q, parked, |q| q.get(), |q| q.put("empty"));
            assert_eq!(got, Ok("empty"));
            let (got, ()) =
                do_blocking_test(&q, parked, |q| q.get_timeout(LONG), |q| q.put("empty"));
            assert_eq!(got, Ok("empty"));
            assert!(q.is_empty());
        });
    }

    // test_negative_timeout_raises_exception: skipped, a Duration cannot be negative.

    /// Ports `test_order`: one producer, one consumer: QUEUE-1, QUEUE-3, QUEUE-4.
    #[test]
    fn test_order() {
        watchdog(|| {
            let inputs: Vec<u32> = (0..100).collect();
            let results = run_threads(1, &inputs, Consume::Blocking);
            // One producer, one consumer => results in a well-defined order.
            assert_eq!(results, inputs);
        });
    }

    /// Ports `test_many_threads`: 50 producers, 50 consumers (6 of each under Miri): QUEUE-1,
    /// QUEUE-4.
    #[test]
    fn test_many_threads() {
        watchdog(|| {
            let inputs: Vec<u32> = (0..scaled(10_000, 200) as u32).collect();
            let mut results = run_threads(scaled(50, 6), &inputs, Consume::Blocking);
            results.sort_unstable();
            assert_eq!(results, inputs);
        });
    }

    /// Ports `test_many_threads_nonblock`: QUEUE-1, QUEUE-5.
    #[test]
    fn test_many_threads_nonblock() {
        watchdog(|| {
            let inputs: Vec<u32> = (0..scaled(10_000, 200) as u32).collect();
            let mut results = run_threads(scaled(50, 6), &inputs, Consume::Nonblock);
            results.sort_unstable();
            assert_eq!(results, inputs);
        });
    }

    /// Ports `test_many_threads_timeout`: QUEUE-1, QUEUE-5.
    #[test]
    fn test_many_threads_timeout() {
        watchdog(|| {
            let inputs: Vec<u32> = (0..scaled(1000, 100) as u32).collect();
            let mut results = run_threads(scaled(50, 6), &inputs, Consume::Timeout);
            results.sort_unstable();
            assert_eq!(results, inputs);
        });
    }

    /// Ports `test_references`: the queue drops its reference to an item as soon as the
    /// item leaves the queue; items still queued stay alive. QUEUE-9.
    #[test]
    fn test_references() {
        watchdog(|| {
            const N: u32 = 20;
            let q = SimpleQueue::new();
            let weaks: Vec<Weak<u32>> = (0..N)
                .map(|i| {
                    let item = Arc::new(i);
                    let weak = Arc::downgrade(&item);
                    q.put(item);
                    weak
                })
                .collect();
            for taken in 0..N as usize {
                assert_sole_owner(q.get().expect("get"));
                assert!(weaks[taken].upgrade().is_none());
                assert!(
                    weaks[taken + 1..].iter().all(|w| w.upgrade().is_some()),
                    "queued items were dropped"
                );
            }
            assert!(q.is_empty());
        });
    }

    // test_is_default: skipped, C-versus-Python implementation detail.
    // test_reentrancy: skipped, a put re-entered from __del__ during the GC has no Rust
    // counterpart.
}
