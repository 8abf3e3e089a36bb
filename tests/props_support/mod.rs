//! Shared by `lock_props.rs`, `rlock_props.rs`, `semaphore_props.rs` and `event_props.rs`
//! (each includes it with `mod props_support;`).
//!
//! Two harnesses:
//!
//! * [`Actors`]: long-lived actor threads that run one operation at a time on a shared
//!   target, each sent over a channel by the test driver, which waits for the answer before
//!   it sends the next. Operations therefore run one after another (deterministic, so a
//!   reference model can predict every answer) but on different threads, which is what makes
//!   RLock ownership and a Lock released by another thread observable.
//! * [`contend`] and [`Section`]: real threads that really contend, each running its own plan
//!   of [`Entry`]s into a critical section that checks "never two holders" and does a
//!   read-modify-write that loses updates without mutual exclusion. [`together`] is the
//!   same runner (start barrier, stuck-thread limit) for any shared target and any roles.
//!
//! Both turn a hang (an operation that blocks when it should not, a lost wake-up) into a test
//! failure instead of a stuck test.

use std::any::Any;
use std::cell::Cell;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender};
use std::sync::{Arc, Barrier, Mutex, PoisonError};
use std::thread::{self, JoinHandle};
use std::time::Duration;

use locksmith::ReleaseError;
use proptest::prelude::*;
use proptest::test_runner::TestCaseError;

/// How long the driver waits for one actor's answer. Every operation the models generate
/// finishes within milliseconds; the limit only turns a blocked operation into a failure.
pub const ANSWER_LIMIT: Duration = Duration::from_secs(10);

/// How long a real-thread scenario may take before it counts as stuck (deadlock or lost
/// wake-up). A scenario normally takes well under a second.
pub const SCENARIO_LIMIT: Duration = Duration::from_secs(60);

/// The longest timeout the models give a timed acquire that must fail.
pub const TINY_TIMEOUT_MAX: Duration = Duration::from_millis(3);

/// A timeout for a timed acquire that must fail: zero (the try-once path) or 1..=3 ms.
pub fn tiny_timeout() -> impl Strategy<Value = Duration> + Clone {
    prop_oneof![
        Just(Duration::ZERO),
        (1..=TINY_TIMEOUT_MAX.as_millis() as u64).prop_map(Duration::from_millis),
    ]
}

/// A timeout for a timed acquire that must succeed at once: anything, up to `Duration::MAX`.
pub fn any_timeout() -> impl Strategy<Value = Duration> + Clone {
    prop_oneof![
        tiny_timeout(),
        Just(Duration::from_secs(3600)),
        Just(Duration::MAX),
    ]
}

// ---------------------------------------------------------------------------------------
// Actor threads, for the reference-model tests.

type Answer = Box<dyn Any + Send>;
type Job<T> = Box<dyn FnOnce(&T) -> Answer + Send>;

struct Actor<T> {
    jobs: Option<Sender<Job<T>>>,
    answers: Receiver<Answer>,
    thread: Option<JoinHandle<()>>,
}

/// `count` long-lived threads sharing one `target`; [`Actors::run`] has one of them run an
/// operation and returns its answer.
pub struct Actors<T: Send + Sync + 'static> {
    target: Arc<T>,
    actors: Vec<Actor<T>>,
    /// Set when an actor did not answer: it is blocked, so it must not be joined.
    stuck: Cell<bool>,
}

impl<T: Send + Sync + 'static> Actors<T> {
    /// Starts `count` actor threads on `target`.
    pub fn spawn(target: T, count: usize) -> Self {
        let target = Arc::new(target);
        let actors = (0..count)
            .map(|index| {
                let (job_tx, job_rx) = mpsc::channel::<Job<T>>();
                let (answer_tx, answer_rx) = mpsc::channel();
                let target = Arc::clone(&target);
                let thread = thread::Builder::new()
                    .name(format!("actor-{index}"))
                    .spawn(move || {
                        for job in job_rx {
                            if answer_tx.send(job(&target)).is_err() {
                                break;
                            }
                        }
                    })
                    .expect("spawn an actor thread");
                Actor {
                    jobs: Some(job_tx),
                    answers: answer_rx,
                    thread: Some(thread),
                }
            })
            .collect();
        Actors {
            target,
            actors,
            stuck: Cell::new(false),
        }
    }

    /// The shared target, for the driver's own (non-actor) thread.
    pub fn target(&self) -> &T {
        &self.target
    }

    /// How many actors there are.
    pub fn count(&self) -> usize {
        self.actors.len()
    }

    /// Has actor `index` run `job` on the target and returns its answer. Panics (failing the
    /// test case) if the actor does not answer within [`ANSWER_LIMIT`] or panicked.
    pub fn run<R, F>(&self, index: usize, job: F) -> R
    where
        R: Send + 'static,
        F: FnOnce(&T) -> R + Send + 'static,
    {
        let actor = &self.actors[index];
        let job: Job<T> = Box::new(move |target: &T| Box::new(job(target)) as Answer);
        let sent = actor.jobs.as_ref().map(|jobs| jobs.send(job));
        assert!(
            matches!(sent, Some(Ok(()))),
            "actor {index} is gone: it panicked earlier"
        );
        match actor.answers.recv_timeout(ANSWER_LIMIT) {
            Ok(answer) => *answer
                .downcast::<R>()
                .expect("an actor answers with its job's type"),
            Err(RecvTimeoutError::Timeout) => {
                self.stuck.set(true);
                panic!(
                    "actor {index} did not answer within {ANSWER_LIMIT:?}: \
                     an operation the model says cannot block did block"
                );
            }
            Err(RecvTimeoutError::Disconnected) => {
                panic!("actor {index} panicked while running an operation")
            }
        }
    }
}

impl<T: Send + Sync + 'static> Drop for Actors<T> {
    fn drop(&mut self) {
        // Closing the job channels ends every actor's loop.
        for actor in &mut self.actors {
            actor.jobs.take();
        }
        if self.stuck.get() {
            // A blocked actor never ends: leave them all behind rather than hang.
            return;
        }
        for actor in &mut self.actors {
            if let Some(thread) = actor.thread.take() {
                // An actor that panicked already failed the case through `run`.
                let _ = thread.join();
            }
        }
    }
}

// ---------------------------------------------------------------------------------------
// One interface over Lock and RLock, for the real-thread tests.

#[path = "../common/any_lock.rs"]
mod any_lock;
pub use any_lock::TestLock as PropLock;

/// One way into a critical section, as the real-thread tests pick it.
#[derive(Clone, Copy, Debug)]
pub enum Entry {
    /// `acquire()` ... `release()`.
    Acquire,
    /// `try_acquire()` ... `release()`.
    TryAcquire,
    /// `acquire_timeout(t)` ... `release()`.
    AcquireTimeout(Duration),
    /// `lock()`, guard dropped.
    Guard,
    /// `try_lock()`, guard dropped.
    TryGuard,
    /// `lock_timeout(t)`, guard dropped.
    TimeoutGuard(Duration),
}

/// Any [`Entry`], with timeouts of 0..=2 ms.
pub fn entry() -> impl Strategy<Value = Entry> + Clone {
    let timeout = (0u64..=2000).prop_map(Duration::from_micros);
    prop_oneof![
        3 => Just(Entry::Acquire),
        2 => Just(Entry::TryAcquire),
        2 => timeout.clone().prop_map(Entry::AcquireTimeout),
        2 => Just(Entry::Guard),
        1 => Just(Entry::TryGuard),
        1 => timeout.prop_map(Entry::TimeoutGuard),
    ]
}

impl Entry {
    /// Takes `lock` the way this entry says; `None` if that did not work.
    pub fn take<L: PropLock>(self, lock: &L) -> Option<Held<'_, L>> {
        let plain = |acquired: bool| acquired.then_some(Held::Plain(lock));
        match self {
            Entry::Acquire => {
                lock.acquire();
                plain(true)
            }
            Entry::TryAcquire => plain(lock.try_acquire()),
            Entry::AcquireTimeout(timeout) => plain(lock.acquire_timeout(timeout)),
            Entry::Guard => Some(Held::Guard(lock.lock())),
            Entry::TryGuard => lock.try_lock().map(Held::Guard),
            Entry::TimeoutGuard(timeout) => lock.lock_timeout(timeout).map(Held::Guard),
        }
    }

    /// Takes `lock` the way this entry says; if that worked, runs `body` holding it, then
    /// lets go the same way. Returns `None` if the lock was not taken, else what letting go
    /// returned.
    pub fn hold<L: PropLock>(
        self,
        lock: &L,
        body: impl FnOnce(),
    ) -> Option<Result<(), ReleaseError>> {
        let held = self.take(lock)?;
        body();
        Some(held.let_go())
    }
}

/// A lock taken by an [`Entry`]: by a plain acquire, or as a guard.
pub enum Held<'a, L: PropLock + 'a> {
    /// Taken by `acquire`, `try_acquire` or `acquire_timeout`: let go with `release()`.
    Plain(&'a L),
    /// Taken by `lock`, `try_lock` or `lock_timeout`: let go by dropping the guard.
    Guard(L::Guard<'a>),
}

impl<L: PropLock> Held<'_, L> {
    /// Lets go of the lock: `release()`'s answer, or `Ok` once the guard is dropped.
    pub fn let_go(self) -> Result<(), ReleaseError> {
        match self {
            Held::Plain(lock) => lock.release(),
            Held::Guard(guard) => {
                drop(guard);
                Ok(())
            }
        }
    }
}

// ---------------------------------------------------------------------------------------
// The critical section and the real-thread runner.

/// A critical section's bookkeeping: who is inside, a counter bumped by unprotected
/// read-modify-writes, and every violation seen.
#[derive(Default)]
pub struct Section {
    /// Threads inside now: must go 0 -> 1 on entry and 1 -> 0 on exit.
    holders: AtomicUsize,
    /// Bumped with a separate load and store (Relaxed): loses updates without exclusion.
    counter: AtomicUsize,
    /// How many times the section was entered.
    entries: AtomicUsize,
    violations: Mutex<Vec<String>>,
}

impl Section {
    /// Records a broken invariant (threads never panic while others may wait on them).
    pub fn violation(&self, what: String) {
        self.violations
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(what);
    }

    /// Called right after the lock was taken.
    pub fn enter(&self) {
        let before = self.holders.fetch_add(1, Ordering::SeqCst);
        if before != 0 {
            self.violation(format!(
                "mutual exclusion: entered with {before} holder(s) inside"
            ));
        }
        self.entries.fetch_add(1, Ordering::Relaxed);
    }

    /// Called right before the lock is let go.
    pub fn exit(&self) {
        let before = self.holders.fetch_sub(1, Ordering::SeqCst);
        if before != 1 {
            self.violation(format!(
                "mutual exclusion: left with {before} holder(s) inside"
            ));
        }
    }

    /// The first half of the read-modify-write: the counter as it is now.
    pub fn read(&self) -> usize {
        let seen = self.counter.load(Ordering::Relaxed);
        if seen % 4 == 0 {
            // Widen the window between load and store now and then.
            thread::yield_now();
        }
        seen
    }

    /// The second half: stores `seen + 1`.
    pub fn write(&self, seen: usize) {
        self.counter.store(seen + 1, Ordering::Relaxed);
    }

    /// The whole read-modify-write.
    pub fn bump(&self) {
        let seen = self.read();
        self.write(seen);
    }

    /// Takes `lock` by `entry`; if that worked, runs enter / `body` / exit holding it and
    /// lets go. A refused release is a violation. Returns whether the section was entered.
    pub fn critical<L: PropLock>(&self, lock: &L, entry: Entry, body: impl FnOnce()) -> bool {
        let released = entry.hold(lock, || {
            self.enter();
            body();
            self.exit();
        });
        match released {
            None => false,
            Some(Ok(())) => true,
            Some(Err(error)) => {
                self.violation(format!("the holder's release failed: {error:?}"));
                true
            }
        }
    }

    /// The end state of a scenario in which the threads counted `acquired` entries.
    pub fn report<L: PropLock>(&self, lock: &L, acquired: usize) -> Report {
        Report {
            violations: self
                .violations
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .clone(),
            acquired,
            entries: self.entries.load(Ordering::Relaxed),
            counter: self.counter.load(Ordering::Relaxed),
            holders: self.holders.load(Ordering::Relaxed),
            locked_after: lock.locked(),
            queued_after: lock.queued_waiters(),
        }
    }
}

/// What a real-thread scenario ended with.
#[derive(Debug)]
pub struct Report {
    pub violations: Vec<String>,
    /// Successful acquisitions, as the threads counted them.
    pub acquired: usize,
    pub entries: usize,
    pub counter: usize,
    pub holders: usize,
    pub locked_after: bool,
    pub queued_after: usize,
}

impl Report {
    /// Nothing broken, nothing lost, and the lock free with nobody queued.
    pub fn check(&self) -> Result<(), TestCaseError> {
        prop_assert!(
            self.violations.is_empty(),
            "{} violation(s), first ones: {:?}",
            self.violations.len(),
            &self.violations[..self.violations.len().min(5)]
        );
        prop_assert_eq!(self.entries, self.acquired, "entries vs acquisitions");
        prop_assert_eq!(self.counter, self.acquired, "lost updates");
        prop_assert_eq!(self.holders, 0, "holders left inside");
        prop_assert!(!self.locked_after, "still locked at the end");
        prop_assert_eq!(self.queued_after, 0, "threads still queued at the end");
        Ok(())
    }
}

/// Runs `scenario` on a thread of its own and returns its result; panics if it takes longer
/// than [`SCENARIO_LIMIT`] (a thread is stuck: deadlock or lost wake-up), and passes a panic
/// of the scenario on.
pub fn within_limit<R, F>(what: &str, scenario: F) -> R
where
    R: Send + 'static,
    F: FnOnce() -> R + Send + 'static,
{
    let (done_tx, done_rx) = mpsc::channel();
    let runner = thread::Builder::new()
        .name(what.to_owned())
        .spawn(move || {
            let _ = done_tx.send(scenario());
        })
        .expect("spawn a scenario thread");
    match done_rx.recv_timeout(SCENARIO_LIMIT) {
        Ok(result) => {
            let _ = runner.join();
            result
        }
        Err(RecvTimeoutError::Disconnected) => match runner.join() {
            Err(panic) => std::panic::resume_unwind(panic),
            Ok(()) => unreachable!("the scenario thread ended without an answer"),
        },
        Err(RecvTimeoutError::Timeout) => panic!(
            "{what}: not finished after {SCENARIO_LIMIT:?}; a thread is stuck \
             (deadlock or lost wake-up)"
        ),
    }
}

/// One real thread per plan, all on a fresh `L`, started together: each runs `step` on every
/// element of its plan, `step` returning how many times it entered the section. Returns the
/// report on the section and the lock at the end. Fails on a stuck scenario.
pub fn contend<L, S>(plans: Vec<Vec<S>>, step: fn(&L, &Section, &S) -> usize) -> Report
where
    L: PropLock + Default + 'static,
    S: Sync + Send + 'static,
{
    within_limit("contend", move || {
        let lock = L::default();
        let section = Section::default();
        let start = Barrier::new(plans.len());
        let acquired = thread::scope(|scope| {
            let workers: Vec<_> = plans
                .iter()
                .map(|plan| {
                    let (lock, section, start) = (&lock, &section, &start);
                    scope.spawn(move || {
                        start.wait();
                        plan.iter().map(|s| step(lock, section, s)).sum::<usize>()
                    })
                })
                .collect();
            workers
                .into_iter()
                .map(|worker| worker.join().expect("a worker panicked"))
                .sum()
        });
        section.report(&lock, acquired)
    })
}

/// One real thread per role, all sharing `target` and started together by a barrier: each
/// runs `worker(&target, role)`. Returns the target and every thread's result, in the order of
/// `roles`. Fails on a stuck scenario, as [`within_limit`] does. The general form of
/// [`contend`], for primitives that are not locks (semaphores, events) and for scenarios
/// whose threads play different roles.
#[allow(dead_code)] // only `semaphore_props.rs` and `event_props.rs` use it
pub fn together<T, P, R, F>(what: &str, target: T, roles: Vec<P>, worker: F) -> (T, Vec<R>)
where
    T: Send + Sync + 'static,
    P: Send + Sync + 'static,
    R: Send + 'static,
    F: Fn(&T, &P) -> R + Send + Sync + 'static,
{
    within_limit(what, move || {
        let start = Barrier::new(roles.len());
        let results = thread::scope(|scope| {
            let workers: Vec<_> = roles
                .iter()
                .map(|role| {
                    let (target, start, worker) = (&target, &start, &worker);
                    scope.spawn(move || {
                        start.wait();
                        worker(target, role)
                    })
                })
                .collect();
            workers
                .into_iter()
                .map(|worker| worker.join().expect("a worker panicked"))
                .collect()
        });
        (target, results)
    })
}
