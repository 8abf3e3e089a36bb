//! Shared by `lock_cpython.rs` and `rlock_cpython.rs` (each includes it with `mod common;`):
//! the Rust counterparts of the helpers in CPython's `Lib/test/lock_tests.py`.
//!
//! * [`Bunch`]: CPython's `Bunch`, a group of threads running one function, started together
//!   and waited on. Every wait is bounded, so a thread stuck on a lock (a lost wake-up, a
//!   try that blocks) fails the test instead of hanging it.
//! * [`TestLock`]: what `Lock` and `RLock` have in common, so that [`base`] (CPython's
//!   `BaseLockTests`) is written once and run for both.
//! * [`wait_for_waiters`]: where CPython sleeps "long enough" for threads to block, we poll
//!   the lock's hidden `queued_waiters()` hook until they are really parked.

pub mod base;

use std::panic::{self, AssertUnwindSafe};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

/// CPython's `support.SHORT_TIMEOUT`: how long a handshake may take before the test fails.
/// Every handshake normally completes within milliseconds.
pub const SHORT_TIMEOUT: Duration = Duration::from_secs(10);

/// Asserts that a timed wait that gave up lasted about `expected`: at least 80% of it (the
/// clock and the scheduler may be a little early or late) and less than ten times it
/// (nothing insane happened). CPython's `assertTimeout`, with the project's 80% floor.
#[track_caller]
pub fn assert_timeout(actual: Duration, expected: Duration) {
    assert!(
        actual >= expected.mul_f64(0.8),
        "gave up after {actual:?}, before 80% of its {expected:?} timeout"
    );
    assert!(
        actual < expected * 10,
        "gave up after {actual:?}, more than 10x its {expected:?} timeout"
    );
}

/// Waits until exactly `expected` threads are parked in `lock`'s wait queue; fails the test
/// if that does not happen within [`SHORT_TIMEOUT`]. Replaces CPython's
/// `wait_threads_blocked` sleep with a check that the threads really block.
#[track_caller]
pub fn wait_for_waiters<L: TestLock>(lock: &L, expected: usize) {
    let deadline = Instant::now() + SHORT_TIMEOUT;
    loop {
        let parked = lock.queued_waiters();
        if parked == expected {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "{parked} threads parked on the lock after {SHORT_TIMEOUT:?}, expected {expected}"
        );
        thread::sleep(Duration::from_millis(1));
    }
}

// ---------------------------------------------------------------------------------------
// The lock under test.

mod any_lock;
pub use any_lock::TestLock;

// ---------------------------------------------------------------------------------------
// Bunch.

/// What the threads of a [`Bunch`] report to the test.
#[derive(Default)]
struct Progress {
    /// Threads that have started running.
    started: usize,
    /// Threads whose function has returned (or panicked).
    finished: usize,
    /// Whether the threads may exit once their function has returned.
    can_exit: bool,
}

#[derive(Default)]
struct Shared {
    progress: Mutex<Progress>,
    changed: Condvar,
}

impl Shared {
    fn progress(&self) -> MutexGuard<'_, Progress> {
        // A panic is never raised while this mutex is held, but do not let one hide another.
        self.progress.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn update(&self, change: impl FnOnce(&mut Progress)) {
        change(&mut self.progress());
        self.changed.notify_all();
    }

    /// Waits until `done` holds, at most [`SHORT_TIMEOUT`]; returns whether it does.
    fn wait_until(&self, done: impl Fn(&Progress) -> bool) -> bool {
        let (progress, _) = self
            .changed
            .wait_timeout_while(self.progress(), SHORT_TIMEOUT, |p| !done(p))
            .unwrap_or_else(PoisonError::into_inner);
        done(&progress)
    }
}

/// CPython's `Bunch`: `nthread` threads running the same function, each returning a `T`.
///
/// [`start`](Bunch::start) returns once every thread runs (CPython's `__enter__`);
/// [`join`](Bunch::join) waits for them all and returns their results in spawn order, or
/// re-raises the first thread's panic (CPython's `__exit__` and its `ExceptionGroup`).
/// With [`start_held`](Bunch::start_held) (CPython's `wait_before_exit=True`) a thread whose
/// function has returned stays alive until [`do_finish`](Bunch::do_finish).
pub struct Bunch<T> {
    nthread: usize,
    shared: Arc<Shared>,
    threads: Vec<JoinHandle<T>>,
}

impl<T: Send + 'static> Bunch<T> {
    /// Starts `nthread` threads running `func` and waits until they all run.
    pub fn start(nthread: usize, func: impl Fn() -> T + Send + Sync + 'static) -> Self {
        Self::spawn(nthread, func, true)
    }

    /// As [`start`](Bunch::start), but the threads do not exit until
    /// [`do_finish`](Bunch::do_finish) (or [`join`](Bunch::join)) is called.
    #[allow(dead_code)] // only `rlock_cpython.rs` uses it
    pub fn start_held(nthread: usize, func: impl Fn() -> T + Send + Sync + 'static) -> Self {
        Self::spawn(nthread, func, false)
    }

    fn spawn(nthread: usize, func: impl Fn() -> T + Send + Sync + 'static, can_exit: bool) -> Self {
        let shared = Arc::new(Shared::default());
        shared.update(|p| p.can_exit = can_exit);
        let func = Arc::new(func);
        let threads = (0..nthread)
            .map(|_| {
                let shared = Arc::clone(&shared);
                let func = Arc::clone(&func);
                thread::spawn(move || {
                    shared.update(|p| p.started += 1);
                    let result = panic::catch_unwind(AssertUnwindSafe(|| func()));
                    shared.update(|p| p.finished += 1);
                    // Unbounded: `do_finish` is called by `join`, or by `drop` if the test
                    // panicked first.
                    drop(
                        shared
                            .changed
                            .wait_while(shared.progress(), |p| !p.can_exit)
                            .unwrap_or_else(PoisonError::into_inner),
                    );
                    result.unwrap_or_else(|payload| panic::resume_unwind(payload))
                })
            })
            .collect();
        let bunch = Bunch {
            nthread,
            shared,
            threads,
        };
        bunch.wait_for_started();
        bunch
    }

    /// How many threads' functions have returned so far.
    pub fn finished(&self) -> usize {
        self.shared.progress().finished
    }

    /// Waits until every thread runs; fails the test after [`SHORT_TIMEOUT`].
    #[track_caller]
    pub fn wait_for_started(&self) {
        let n = self.nthread;
        assert!(
            self.shared.wait_until(|p| p.started >= n),
            "only {} of {n} threads started within {SHORT_TIMEOUT:?}",
            self.shared.progress().started
        );
    }

    /// Waits until every thread's function has returned; fails the test after
    /// [`SHORT_TIMEOUT`] (a thread is stuck, most likely blocked on the lock).
    #[track_caller]
    pub fn wait_for_finished(&self) {
        let n = self.nthread;
        assert!(
            self.shared.wait_until(|p| p.finished >= n),
            "only {} of {n} threads finished within {SHORT_TIMEOUT:?}: blocked on the lock?",
            self.finished()
        );
    }

    /// Lets threads started with [`start_held`](Bunch::start_held) exit.
    pub fn do_finish(&self) {
        self.shared.update(|p| p.can_exit = true);
    }

    /// Waits for every thread (bounded, see [`wait_for_finished`](Bunch::wait_for_finished)),
    /// lets them exit, and returns their results in spawn order. A thread's panic (a failed
    /// assertion in it) is re-raised here.
    #[track_caller]
    pub fn join(mut self) -> Vec<T> {
        self.wait_for_finished();
        self.do_finish();
        self.threads
            .drain(..)
            .map(|t| {
                t.join()
                    .unwrap_or_else(|payload| panic::resume_unwind(payload))
            })
            .collect()
    }
}

impl<T> Drop for Bunch<T> {
    /// If the test fails before `join`, let the threads that can still finish exit.
    fn drop(&mut self) {
        self.shared.update(|p| p.can_exit = true);
    }
}

// ---------------------------------------------------------------------------------------
// Polling for primitives other than locks (`semaphore_cpython.rs`, `event_cpython.rs`).

/// Polls `done` every millisecond until it holds; fails the test, naming `what`, if that
/// does not happen within [`SHORT_TIMEOUT`]. CPython's `support.sleeping_retry` loop.
#[allow(dead_code)] // not every test file polls
#[track_caller]
pub fn wait_until(what: &str, done: impl Fn() -> bool) {
    let deadline = Instant::now() + SHORT_TIMEOUT;
    while !done() {
        assert!(
            Instant::now() < deadline,
            "{what}: still not the case after {SHORT_TIMEOUT:?}"
        );
        thread::sleep(Duration::from_millis(1));
    }
}

/// [`wait_for_waiters`] for any primitive with a hidden `queued_waiters()` hook (a
/// semaphore, an event): waits until exactly `expected` threads are parked, as `queued`
/// reports; fails the test after [`SHORT_TIMEOUT`].
#[allow(dead_code)] // not every test file polls
#[track_caller]
pub fn wait_for_queued(queued: impl Fn() -> usize, expected: usize) {
    let deadline = Instant::now() + SHORT_TIMEOUT;
    loop {
        let parked = queued();
        if parked == expected {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "{parked} threads parked after {SHORT_TIMEOUT:?}, expected {expected}"
        );
        thread::sleep(Duration::from_millis(1));
    }
}
