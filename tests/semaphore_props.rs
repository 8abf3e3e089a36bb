#![cfg(not(loom))]
//! Property tests for [`Semaphore`] and [`BoundedSemaphore`]: a reference model driven over
//! several actor threads, and real threads contending for the permits, racing timed waiters
//! against releasers, and over-releasing a bounded semaphore.
//!
//! Invariant IDs: SEM-1 the value never goes below zero, acquire takes exactly one permit or
//! waits; SEM-2 release adds one and wakes one, `release_n(n)` adds n and wakes up to n,
//! `release_n(0)` is a no-op; SEM-3 `try_acquire` never blocks, a failed timed acquire takes
//! nothing; SEM-4 a permit released while a waiter times out is never lost; SEM-5 a
//! BoundedSemaphore refuses releases past its initial value (`TooManyReleases`, value
//! unchanged), also concurrently; SEM-6 guards give the permit back on drop.

// This file uses the actors and the real-thread runner, not the lock-only helpers.
#[allow(dead_code)]
mod props_support;

use std::fmt::Debug;
use std::marker::PhantomData;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, PoisonError};
use std::thread;
use std::time::Duration;

use locksmith::{BoundedSemaphore, BoundedSemaphoreGuard, ReleaseError, Semaphore, SemaphoreGuard};
use proptest::collection::vec;
use proptest::prelude::*;
use proptest::test_runner::TestCaseError;
use proptest_state_machine::{ReferenceStateMachine, StateMachineTest, prop_state_machine};

use props_support::{Actors, TINY_TIMEOUT_MAX, any_timeout, tiny_timeout, together};

// ---------------------------------------------------------------------------------------
// One interface over both semaphores.

/// The operations the tests use, forwarding to `Semaphore`'s and `BoundedSemaphore`'s own
/// methods. `Semaphore`'s releases cannot fail; they answer `Ok(())` here.
trait PropSemaphore: Send + Sync + Debug + 'static {
    /// Whether releases past the initial value are refused.
    const BOUNDED: bool;
    /// The guard `guard()` returns.
    type Guard<'a>;

    fn with_value(value: usize) -> Self;
    fn acquire(&self);
    fn try_acquire(&self) -> bool;
    fn acquire_timeout(&self, timeout: Duration) -> bool;
    fn release(&self) -> Result<(), ReleaseError>;
    fn release_n(&self, n: usize) -> Result<(), ReleaseError>;
    fn value(&self) -> usize;
    fn queued_waiters(&self) -> usize;
    fn guard(&self) -> Self::Guard<'_>;
}

impl PropSemaphore for Semaphore {
    const BOUNDED: bool = false;
    type Guard<'a> = SemaphoreGuard<'a>;

    fn with_value(value: usize) -> Self {
        Semaphore::new(value)
    }
    fn acquire(&self) {
        Semaphore::acquire(self)
    }
    fn try_acquire(&self) -> bool {
        Semaphore::try_acquire(self)
    }
    fn acquire_timeout(&self, timeout: Duration) -> bool {
        Semaphore::acquire_timeout(self, timeout)
    }
    fn release(&self) -> Result<(), ReleaseError> {
        Semaphore::release(self);
        Ok(())
    }
    fn release_n(&self, n: usize) -> Result<(), ReleaseError> {
        Semaphore::release_n(self, n);
        Ok(())
    }
    fn value(&self) -> usize {
        Semaphore::value(self)
    }
    fn queued_waiters(&self) -> usize {
        Semaphore::queued_waiters(self)
    }
    fn guard(&self) -> SemaphoreGuard<'_> {
        Semaphore::guard(self)
    }
}

impl PropSemaphore for BoundedSemaphore {
    const BOUNDED: bool = true;
    type Guard<'a> = BoundedSemaphoreGuard<'a>;

    fn with_value(value: usize) -> Self {
        BoundedSemaphore::new(value)
    }
    fn acquire(&self) {
        BoundedSemaphore::acquire(self)
    }
    fn try_acquire(&self) -> bool {
        BoundedSemaphore::try_acquire(self)
    }
    fn acquire_timeout(&self, timeout: Duration) -> bool {
        BoundedSemaphore::acquire_timeout(self, timeout)
    }
    fn release(&self) -> Result<(), ReleaseError> {
        BoundedSemaphore::release(self)
    }
    fn release_n(&self, n: usize) -> Result<(), ReleaseError> {
        BoundedSemaphore::release_n(self, n)
    }
    fn value(&self) -> usize {
        BoundedSemaphore::value(self)
    }
    fn queued_waiters(&self) -> usize {
        BoundedSemaphore::queued_waiters(self)
    }
    fn guard(&self) -> BoundedSemaphoreGuard<'_> {
        BoundedSemaphore::guard(self)
    }
}

// ---------------------------------------------------------------------------------------
// The reference model.

/// What the model knows: the actors, the kind of semaphore, its initial and current value.
/// Permits are not tied to threads, so that is all.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Model {
    actors: usize,
    bounded: bool,
    initial: usize,
    value: usize,
}

impl Model {
    /// Takes a permit if one is free (SEM-1, SEM-3).
    fn take(&mut self) -> bool {
        let free = self.value > 0;
        if free {
            self.value -= 1;
        }
        free
    }

    /// Adds `n` permits (SEM-2), unless a bounded semaphore would pass its initial value
    /// (SEM-5: refused, nothing added).
    fn release_n(&mut self, n: usize) -> Result<(), ReleaseError> {
        if self.bounded && self.value + n > self.initial {
            return Err(ReleaseError::TooManyReleases);
        }
        self.value += n;
        Ok(())
    }
}

/// One operation, run by one actor.
#[derive(Clone, Debug)]
enum Op {
    Acquire,
    TryAcquire,
    AcquireTimeout(Duration),
    Release,
    ReleaseN(usize),
    Value,
    /// `guard()`; `value()` seen while it lives; the guard dropped.
    Guard,
    /// `guard()`, then `release()` behind its back and `value()`, then the guard dropped
    /// (its drop releases once more: refused, and ignored, if a bounded semaphore is full).
    GuardReleasedEarly,
}

#[derive(Clone, Debug)]
struct Step {
    actor: usize,
    op: Op,
}

/// What an operation returned, as the model predicts it and as the actor saw it.
#[derive(Debug, PartialEq, Eq)]
enum Answer {
    Done,
    Acquired(bool),
    Released(Result<(), ReleaseError>),
    Value(usize),
    /// `value()` while the guard lived.
    Guarded(usize),
    /// The early `release()`'s answer and `value()` right after it.
    ReleasedEarly(Result<(), ReleaseError>, usize),
}

impl Op {
    /// Whether this would block (or might: a timeout longer than a tiny one) with no permit.
    fn blocks_when_empty(&self) -> bool {
        match self {
            Op::Acquire | Op::Guard | Op::GuardReleasedEarly => true,
            Op::AcquireTimeout(timeout) => *timeout > TINY_TIMEOUT_MAX,
            Op::TryAcquire | Op::Release | Op::ReleaseN(_) | Op::Value => false,
        }
    }

    /// Runs the operation on the real semaphore (on an actor thread).
    fn run<S: PropSemaphore>(&self, sem: &S) -> Answer {
        match *self {
            Op::Acquire => {
                sem.acquire();
                Answer::Done
            }
            Op::TryAcquire => Answer::Acquired(sem.try_acquire()),
            Op::AcquireTimeout(timeout) => Answer::Acquired(sem.acquire_timeout(timeout)),
            Op::Release => Answer::Released(sem.release()),
            Op::ReleaseN(n) => Answer::Released(sem.release_n(n)),
            Op::Value => Answer::Value(sem.value()),
            Op::Guard => {
                let guard = sem.guard();
                let inside = sem.value();
                drop(guard);
                Answer::Guarded(inside)
            }
            Op::GuardReleasedEarly => {
                let guard = sem.guard();
                let released = sem.release();
                let value = sem.value();
                drop(guard);
                Answer::ReleasedEarly(released, value)
            }
        }
    }
}

/// The model's transition: the next state and the answer the operation must give.
fn model_step(model: &Model, op: &Op) -> (Model, Answer) {
    let mut next = model.clone();
    let answer = match *op {
        // SEM-1: exactly one permit.
        Op::Acquire => {
            assert!(next.take(), "the model never blocks an actor");
            Answer::Done
        }
        // SEM-3: true iff a permit was free; a failure takes nothing.
        Op::TryAcquire | Op::AcquireTimeout(_) => Answer::Acquired(next.take()),
        // SEM-2, SEM-5.
        Op::Release => Answer::Released(next.release_n(1)),
        Op::ReleaseN(n) => Answer::Released(next.release_n(n)),
        Op::Value => Answer::Value(model.value),
        // SEM-6: the guard holds one permit while it lives and gives it back on drop.
        Op::Guard => {
            assert!(model.value > 0, "the model never blocks an actor");
            Answer::Guarded(model.value - 1)
        }
        Op::GuardReleasedEarly => {
            assert!(next.take(), "the model never blocks an actor");
            let released = next.release_n(1);
            let value = next.value;
            // The guard's drop releases again; a bounded semaphore's refusal is ignored.
            let _ = next.release_n(1);
            Answer::ReleasedEarly(released, value)
        }
    };
    (next, answer)
}

/// Operations that cannot block an actor, given whether a permit is free.
fn ops(free: bool) -> BoxedStrategy<Op> {
    if free {
        prop_oneof![
            3 => Just(Op::Acquire),
            2 => Just(Op::TryAcquire),
            2 => any_timeout().prop_map(Op::AcquireTimeout),
            3 => Just(Op::Release),
            2 => (0usize..4).prop_map(Op::ReleaseN),
            1 => Just(Op::Value),
            2 => Just(Op::Guard),
            1 => Just(Op::GuardReleasedEarly),
        ]
        .boxed()
    } else {
        prop_oneof![
            3 => Just(Op::TryAcquire),
            3 => tiny_timeout().prop_map(Op::AcquireTimeout),
            3 => Just(Op::Release),
            3 => (0usize..4).prop_map(Op::ReleaseN),
            1 => Just(Op::Value),
        ]
        .boxed()
    }
}

/// The reference state machine, for `Semaphore` or `BoundedSemaphore` (`S::BOUNDED`).
struct SemModel<S>(PhantomData<S>);

impl<S: PropSemaphore> ReferenceStateMachine for SemModel<S> {
    type State = Model;
    type Transition = Step;

    fn init_state() -> BoxedStrategy<Model> {
        (2usize..=4, 0usize..=4)
            .prop_map(|(actors, initial)| Model {
                actors,
                bounded: S::BOUNDED,
                initial,
                value: initial,
            })
            .boxed()
    }

    fn transitions(state: &Model) -> BoxedStrategy<Step> {
        (0..state.actors, ops(state.value > 0))
            .prop_map(|(actor, op)| Step { actor, op })
            .boxed()
    }

    fn apply(state: Model, step: &Step) -> Model {
        model_step(&state, &step.op).0
    }

    /// Checked again while shrinking: never hand an actor an operation that would block.
    fn preconditions(state: &Model, step: &Step) -> bool {
        step.actor < state.actors && (state.value > 0 || !step.op.blocks_when_empty())
    }
}

/// The real semaphore on its actors, and the model state before the next step.
struct SemUnderTest<S: PropSemaphore> {
    actors: Actors<S>,
    before: Model,
}

impl<S: PropSemaphore> StateMachineTest for SemUnderTest<S> {
    type SystemUnderTest = Self;
    type Reference = SemModel<S>;

    fn init_test(model: &Model) -> Self {
        SemUnderTest {
            actors: Actors::spawn(S::with_value(model.initial), model.actors),
            before: model.clone(),
        }
    }

    fn apply(mut sut: Self, after: &Model, step: Step) -> Self {
        let (predicted, expected) = model_step(&sut.before, &step.op);
        assert_eq!(&predicted, after, "the model is not deterministic");
        let op = step.op.clone();
        let answer = sut.actors.run(step.actor, move |sem: &S| op.run(sem));
        assert_eq!(
            answer, expected,
            "actor {} ran {:?} from {:?}",
            step.actor, step.op, sut.before
        );
        sut.before = after.clone();
        sut
    }

    fn check_invariants(sut: &Self, model: &Model) {
        let sem = sut.actors.target();
        assert_eq!(sem.value(), model.value, "value() vs the model");
        // Every actor sees the same value (permits are not tied to threads).
        for actor in 0..sut.actors.count() {
            let seen = sut.actors.run(actor, |sem: &S| sem.value());
            assert_eq!(seen, model.value, "value() seen by actor {actor}");
        }
        // SEM-3: every operation has returned, so nobody may be left queued.
        assert_eq!(sem.queued_waiters(), 0, "queued_waiters() after a step");
    }
}

prop_state_machine! {
    #![proptest_config(ProptestConfig {
        cases: 256,
        max_shrink_time: 60_000,
        ..ProptestConfig::default()
    })]

    /// Checks SEM-1, SEM-2, SEM-3 and SEM-6 against a reference model: a `Semaphore` with
    /// initial value 0-4 and 2-4 actor threads each running generated operations (acquire
    /// when a permit is free, try_acquire, acquire_timeout (1-3 ms when it must fail, up to
    /// `Duration::MAX` when it succeeds at once), release, release_n(0..4), value, a guard,
    /// a guard released behind its back) one at a time; after every step the answer,
    /// `value()` as the driver and every actor see it, and `queued_waiters() == 0` match the
    /// model.
    #[test]
    fn semaphore_matches_model_across_actors(sequential 1..48 => SemUnderTest<Semaphore>);

    /// Checks SEM-1, SEM-2, SEM-3, SEM-5 and SEM-6 against the same model for a
    /// `BoundedSemaphore`: a release or release_n(n) past the initial value answers
    /// `Err(TooManyReleases)` and leaves the value unchanged; release_n(0) is always `Ok`;
    /// a guard released behind its back gives its permit back on drop only if that does not
    /// pass the initial value. Same operations and checks as the unbounded test.
    #[test]
    fn bounded_semaphore_matches_model_across_actors(
        sequential 1..48 => SemUnderTest<BoundedSemaphore>
    );
}

// ---------------------------------------------------------------------------------------
// Real threads.

/// What the real-thread scenarios share besides the semaphore: permits held now (as the
/// holders count them), threads still working, and every violation seen.
struct Shared<S> {
    sem: S,
    initial: usize,
    /// Permits held now, counted by the holders: up on entry (checked), down before release.
    inside: AtomicUsize,
    /// Workers not finished yet; the watcher samples until this reaches zero.
    working: AtomicUsize,
    violations: Mutex<Vec<String>>,
}

impl<S: PropSemaphore> Shared<S> {
    fn new(sem: S, initial: usize, workers: usize) -> Self {
        Shared {
            sem,
            initial,
            inside: AtomicUsize::new(0),
            working: AtomicUsize::new(workers),
            violations: Mutex::new(Vec::new()),
        }
    }

    /// Records a broken invariant (threads never panic while others may wait on them).
    fn violation(&self, what: String) {
        self.violations
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(what);
    }

    /// Called right after `permits` were taken: never more holders than permits (SEM-1).
    fn enter(&self, permits: usize) {
        let now = self.inside.fetch_add(permits, Ordering::SeqCst) + permits;
        if now > self.initial {
            self.violation(format!(
                "SEM-1: {now} permits held of an initial {}",
                self.initial
            ));
        }
        if now % 2 == 0 {
            // Widen the window in which the permits are held now and then.
            thread::yield_now();
        }
    }

    /// Called right before `permits` are given back.
    fn exit(&self, permits: usize) {
        self.inside.fetch_sub(permits, Ordering::SeqCst);
    }

    /// Checks what a holder's `release`/`release_n` answered: must be `Ok`.
    fn released(&self, what: &str, answer: Result<(), ReleaseError>) {
        if let Err(error) = answer {
            self.violation(format!("a holder's {what} was refused: {error:?}"));
        }
    }

    /// A worker is done.
    fn finished(&self) {
        self.working.fetch_sub(1, Ordering::SeqCst);
    }

    /// Samples `value()` until every worker is done: never above the initial value.
    fn watch(&self, id: &str) {
        while self.working.load(Ordering::SeqCst) > 0 {
            let value = self.sem.value();
            if value > self.initial {
                self.violation(format!(
                    "{id}: value() was {value}, above the initial {}",
                    self.initial
                ));
            }
            thread::yield_now();
        }
    }

    fn violations(&self) -> Vec<String> {
        self.violations
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }
}

/// How a holder takes permits.
#[derive(Clone, Copy, Debug)]
enum Take {
    /// `acquire()` ... `release()`.
    Acquire,
    /// `try_acquire()` ... `release()`.
    TryAcquire,
    /// `acquire_timeout(t)` ... `release()`.
    AcquireTimeout(Duration),
    /// `guard()`, dropped.
    Guard,
    /// `acquire()`, then up to `extra` more by `acquire_timeout(t)` (stopping at the first
    /// failure: timed, so holding while waiting cannot deadlock), then one `release_n` of
    /// every permit taken.
    Batch { extra: usize, timeout: Duration },
}

/// Any [`Take`], with timeouts of 0..=2 ms.
fn take() -> impl Strategy<Value = Take> + Clone {
    let timeout = (0u64..=2000).prop_map(Duration::from_micros);
    prop_oneof![
        3 => Just(Take::Acquire),
        2 => Just(Take::TryAcquire),
        2 => timeout.clone().prop_map(Take::AcquireTimeout),
        2 => Just(Take::Guard),
        2 => (1usize..=3, timeout).prop_map(|(extra, timeout)| Take::Batch { extra, timeout }),
    ]
}

impl Take {
    /// Takes permits this way, holds them (checked by `enter`), and gives them back.
    fn hold<S: PropSemaphore>(self, shared: &Shared<S>) {
        let sem = &shared.sem;
        let single = |taken: bool| {
            if taken {
                shared.enter(1);
                shared.exit(1);
                shared.released("release()", sem.release());
            }
        };
        match self {
            Take::Acquire => {
                sem.acquire();
                single(true);
            }
            Take::TryAcquire => single(sem.try_acquire()),
            Take::AcquireTimeout(timeout) => single(sem.acquire_timeout(timeout)),
            Take::Guard => {
                let guard = sem.guard();
                shared.enter(1);
                shared.exit(1);
                drop(guard);
            }
            Take::Batch { extra, timeout } => {
                sem.acquire();
                let mut taken = 1;
                while taken <= extra && sem.acquire_timeout(timeout) {
                    taken += 1;
                }
                shared.enter(taken);
                shared.exit(taken);
                shared.released("release_n()", sem.release_n(taken));
            }
        }
    }
}

/// A thread of the holders scenario.
#[derive(Clone, Debug)]
enum HolderRole {
    Holder(Vec<Take>),
    Watcher,
}

/// What a real-thread scenario ended with.
#[derive(Debug)]
struct End {
    violations: Vec<String>,
    value: usize,
    queued: usize,
    /// Permits the holders still counted as held.
    inside: usize,
}

impl<S: PropSemaphore> Shared<S> {
    fn end(&self) -> End {
        End {
            violations: self.violations(),
            value: self.sem.value(),
            queued: self.sem.queued_waiters(),
            inside: self.inside.load(Ordering::SeqCst),
        }
    }
}

impl End {
    /// No violation, nobody queued, and `value()` back to `value`.
    fn check(&self, value: usize) -> Result<(), TestCaseError> {
        prop_assert!(
            self.violations.is_empty(),
            "{} violation(s), first ones: {:?}",
            self.violations.len(),
            &self.violations[..self.violations.len().min(5)]
        );
        prop_assert_eq!(self.inside, 0, "permits still counted held");
        prop_assert_eq!(
            self.value,
            value,
            "value() at the end: permits not conserved"
        );
        prop_assert_eq!(self.queued, 0, "threads still queued at the end");
        Ok(())
    }
}

/// Holders take and give back permits by `plans` while a watcher samples `value()`.
fn holders<S: PropSemaphore>(initial: usize, plans: Vec<Vec<Take>>) -> End {
    let mut roles: Vec<HolderRole> = plans.into_iter().map(HolderRole::Holder).collect();
    let shared = Shared::new(S::with_value(initial), initial, roles.len());
    roles.push(HolderRole::Watcher);
    let (shared, _) = together("holders", shared, roles, |shared, role| match role {
        HolderRole::Holder(plan) => {
            for take in plan {
                take.hold(shared);
            }
            shared.finished();
        }
        HolderRole::Watcher => shared.watch("SEM-1"),
    });
    shared.end()
}

/// How a releaser gives permits in the timed-waiters scenario.
#[derive(Clone, Copy, Debug)]
enum Give {
    Release,
    ReleaseN(usize),
}

impl Give {
    fn permits(self) -> usize {
        match self {
            Give::Release => 1,
            Give::ReleaseN(n) => n,
        }
    }
}

/// A thread of the timed-waiters scenario.
#[derive(Clone, Debug)]
enum TimedRole {
    /// Gives permits (0-3 at a time, `release_n(0)` included), yielding in between.
    Releaser(Vec<Give>),
    /// Takes permits until all given ones are taken, cycling through these attempts:
    /// `try_acquire()` (`None`) or `acquire_timeout(t)`.
    Taker(Vec<Option<Duration>>),
}

/// Releasers give `total` permits in all on an empty semaphore while takers take them only
/// by try and timed attempts (0-2 ms), many of which time out while a release happens.
/// A permit lost to a timeout leaves the takers retrying forever: caught by the stuck limit.
/// Returns the end state, how many permits the takers took and how many were given.
fn timed_waiters<S: PropSemaphore>(roles: Vec<TimedRole>) -> (End, usize, usize) {
    let total: usize = roles
        .iter()
        .map(|role| match role {
            TimedRole::Releaser(gives) => gives.iter().map(|give| give.permits()).sum(),
            TimedRole::Taker(_) => 0,
        })
        .sum();
    // Start from `total` permits (so a bounded semaphore accepts every release), drained.
    let sem = S::with_value(total);
    for _ in 0..total {
        assert!(sem.try_acquire(), "draining a fresh semaphore");
    }
    let shared = Shared::new(sem, total, 0);
    let (shared, taken) = together("timed_waiters", shared, roles, move |shared, role| {
        let sem = &shared.sem;
        match role {
            TimedRole::Releaser(gives) => {
                for give in gives {
                    let answer = match *give {
                        Give::Release => sem.release(),
                        Give::ReleaseN(n) => sem.release_n(n),
                    };
                    shared.released("release within the initial value", answer);
                    thread::yield_now();
                }
                0
            }
            TimedRole::Taker(attempts) => {
                let mut mine = 0;
                for attempt in attempts.iter().cycle() {
                    // `inside` counts permits taken by every taker so far.
                    if shared.inside.load(Ordering::SeqCst) >= total {
                        break;
                    }
                    let taken = match attempt {
                        None => sem.try_acquire(),
                        Some(timeout) => sem.acquire_timeout(*timeout),
                    };
                    if taken {
                        mine += 1;
                        shared.inside.fetch_add(1, Ordering::SeqCst);
                    }
                }
                mine
            }
        }
    });
    let taken: usize = taken.iter().sum();
    // `inside` counted the takes, not held permits: nothing to check there.
    shared.inside.store(0, Ordering::SeqCst);
    (shared.end(), taken, total)
}

/// A thread of the over-release scenario.
#[derive(Clone, Debug)]
enum OverRole {
    /// Releases without having acquired: `release_n(n)` per element (`release()` for 1).
    OverReleaser(Vec<usize>),
    /// Takes a permit by `try_acquire()` (`None`) or `acquire_timeout(t)`, then releases it,
    /// per element; its release may be refused if over-releasers filled the semaphore.
    Acquirer(Vec<Option<Duration>>),
    Watcher,
}

/// What the over-release scenario counted.
#[derive(Debug, Default)]
struct OverCounts {
    /// Permits the acquirers took.
    acquired: AtomicUsize,
    /// Permits added by accepted releases (over-releasers' and acquirers').
    returned: AtomicUsize,
    /// The `n` of every refused over-release.
    refused: Mutex<Vec<usize>>,
}

/// Over-releasers (and maybe acquirers) race on a `BoundedSemaphore` of `initial` permits,
/// `drained` of which the driver took first and never gives back, while a watcher samples
/// `value()`. Returns the end state and the counts.
fn over_release(initial: usize, drained: usize, roles: Vec<OverRole>) -> (End, OverCounts) {
    let sem = BoundedSemaphore::new(initial);
    for _ in 0..drained {
        assert!(sem.try_acquire(), "draining a fresh semaphore");
    }
    let workers = roles
        .iter()
        .filter(|role| !matches!(role, OverRole::Watcher))
        .count();
    let shared = (Shared::new(sem, initial, workers), OverCounts::default());
    let (shared, _) = together("over_release", shared, roles, |(shared, counts), role| {
        let sem = &shared.sem;
        let refused = |n: usize, answer: Result<(), ReleaseError>| match answer {
            Ok(()) => {
                counts.returned.fetch_add(n, Ordering::SeqCst);
                false
            }
            Err(ReleaseError::TooManyReleases) if n > 0 => true,
            Err(error) => {
                shared.violation(format!("SEM-5: release_n({n}) answered {error:?}"));
                false
            }
        };
        match role {
            OverRole::OverReleaser(releases) => {
                for &n in releases {
                    let answer = if n == 1 {
                        sem.release()
                    } else {
                        sem.release_n(n)
                    };
                    if refused(n, answer) {
                        counts
                            .refused
                            .lock()
                            .unwrap_or_else(PoisonError::into_inner)
                            .push(n);
                    }
                }
                shared.finished();
            }
            OverRole::Acquirer(attempts) => {
                for attempt in attempts {
                    let taken = match attempt {
                        None => sem.try_acquire(),
                        Some(timeout) => sem.acquire_timeout(*timeout),
                    };
                    if taken {
                        counts.acquired.fetch_add(1, Ordering::SeqCst);
                        refused(1, sem.release());
                    }
                }
                shared.finished();
            }
            OverRole::Watcher => shared.watch("SEM-5"),
        }
    });
    (shared.0.end(), shared.1)
}

/// How a parked waiter takes its permit in the wake-up scenario: only a release ends it.
#[derive(Clone, Copy, Debug)]
enum LongTake {
    Acquire,
    /// `acquire_timeout(t)` with t of an hour or `Duration::MAX`: must answer true.
    AcquireTimeout(Duration),
    Guard,
}

fn long_take() -> impl Strategy<Value = LongTake> + Clone {
    prop_oneof![
        Just(LongTake::Acquire),
        Just(LongTake::AcquireTimeout(Duration::from_secs(3600))),
        Just(LongTake::AcquireTimeout(Duration::MAX)),
        Just(LongTake::Guard),
    ]
}

/// A thread of the wake-up scenario.
#[derive(Clone, Debug)]
enum WakeRole {
    Waiter(LongTake),
    /// Waits until `parked` waiters are queued, then gives one permit per waiter in chunks
    /// of these sizes (`release()` for 1, `release_n` otherwise, 0 included), the rest in one
    /// last `release_n`.
    Releaser {
        parked: usize,
        chunks: Vec<usize>,
    },
}

/// Waiters block on an empty semaphore; a releaser gives exactly one permit per waiter, by
/// release and release_n, once some are queued. Nobody gives a permit back until every
/// waiter has one, so a release_n(n) that wakes fewer than n of the queued waiters strands
/// the rest (caught by the stuck limit). Then the waiters give their permits back. Returns
/// the end state; `value()` must then be the number of waiters.
fn wake_up<S: PropSemaphore>(waits: Vec<LongTake>, parked: usize, chunks: Vec<usize>) -> End {
    let waiters = waits.len();
    // Start from one permit per waiter (so a bounded semaphore accepts every release), drained.
    let sem = S::with_value(waiters);
    for _ in 0..waiters {
        assert!(sem.try_acquire(), "draining a fresh semaphore");
    }
    let shared = Shared::new(sem, waiters, 0);
    let roles: Vec<WakeRole> = waits
        .into_iter()
        .map(WakeRole::Waiter)
        .chain([WakeRole::Releaser { parked, chunks }])
        .collect();
    let (shared, _) = together("wake_up", shared, roles, move |shared, role| {
        let sem = &shared.sem;
        // `inside` counts the waiters that have their permit.
        let all_have_one = || {
            while shared.inside.load(Ordering::SeqCst) < waiters {
                thread::yield_now();
            }
        };
        match role {
            WakeRole::Waiter(take) => {
                let guard = match *take {
                    LongTake::Acquire => {
                        sem.acquire();
                        None
                    }
                    LongTake::AcquireTimeout(timeout) => {
                        if !sem.acquire_timeout(timeout) {
                            shared
                                .violation(format!("acquire_timeout({timeout:?}) answered false"));
                        }
                        None
                    }
                    LongTake::Guard => Some(sem.guard()),
                };
                shared.inside.fetch_add(1, Ordering::SeqCst);
                all_have_one();
                match guard {
                    Some(guard) => drop(guard),
                    None => shared.released("release()", sem.release()),
                }
            }
            WakeRole::Releaser { parked, chunks } => {
                while sem.queued_waiters() < *parked {
                    thread::yield_now();
                }
                let mut left = waiters;
                for &chunk in chunks {
                    let n = chunk.min(left);
                    let answer = if n == 1 {
                        sem.release()
                    } else {
                        sem.release_n(n)
                    };
                    shared.released("release within the initial value", answer);
                    left -= n;
                }
                if left > 0 {
                    shared.released("release_n()", sem.release_n(left));
                }
            }
        }
    });
    // `inside` counted the waiters served, not held permits: nothing to check there.
    shared.inside.store(0, Ordering::SeqCst);
    shared.end()
}

/// A try (`None`) or timed (0-2 ms) attempt.
fn attempt() -> impl Strategy<Value = Option<Duration>> + Clone {
    prop_oneof![
        Just(None),
        (0u64..=2000).prop_map(|micros| Some(Duration::from_micros(micros))),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 256,
        max_shrink_time: 60_000,
        ..ProptestConfig::default()
    })]

    /// Checks SEM-1, SEM-2, SEM-3, SEM-4 and SEM-6 on real threads, for both semaphores
    /// (initial value 1-4): 1-5 holders plus a watcher (2-6 threads) each take permits up to
    /// 40 times by a random mix of acquire, try_acquire, acquire_timeout (0-2 ms), guard,
    /// and a batch of k permits given back by one release_n(k). Never more permits held than
    /// the initial value (an "inside" counter checked on entry), `value()` never above it,
    /// every holder's release accepted, every thread finishes (no lost wake-up), and at the
    /// end `value()` is the initial value again with nobody queued.
    #[test]
    fn holders_never_exceed_the_permits_and_conserve_them(
        bounded in any::<bool>(),
        initial in 1usize..=4,
        plans in vec(vec(take(), 1..=40), 1..=5),
    ) {
        let end = if bounded {
            holders::<BoundedSemaphore>(initial, plans)
        } else {
            holders::<Semaphore>(initial, plans)
        };
        end.check(initial)?;
    }

    /// Checks SEM-4, SEM-2 and SEM-3 on real threads, for both semaphores: 1-3 releasers
    /// give permits by release and release_n(0..=3) on an empty semaphore while 1-3 takers
    /// take them by try_acquire and acquire_timeout (0-2 ms) only, many timing out as a
    /// release lands. Every released permit is taken exactly once (none lost to a timeout:
    /// else the takers retry forever and the stuck limit fails the case; none made up), and
    /// the semaphore ends empty with nobody queued.
    #[test]
    fn permits_released_while_waiters_time_out_are_not_lost(
        bounded in any::<bool>(),
        releasers in vec(
            vec(
                prop_oneof![
                    Just(Give::Release),
                    (0usize..=3).prop_map(Give::ReleaseN),
                ],
                1..=20,
            ),
            1..=3,
        ),
        takers in vec(vec(attempt(), 1..=8), 1..=3),
    ) {
        let roles: Vec<TimedRole> = releasers
            .into_iter()
            .map(TimedRole::Releaser)
            .chain(takers.into_iter().map(TimedRole::Taker))
            .collect();
        let (end, taken, total) = if bounded {
            timed_waiters::<BoundedSemaphore>(roles)
        } else {
            timed_waiters::<Semaphore>(roles)
        };
        prop_assert_eq!(taken, total, "permits taken vs released");
        end.check(0)?;
    }

    /// Checks SEM-2 and SEM-1 on real threads, for both semaphores: 1-5 waiters block on an
    /// empty semaphore by acquire, acquire_timeout(an hour or `Duration::MAX`) or guard; a
    /// releaser waits until 0-5 of them are queued, then gives exactly one permit per waiter
    /// by release and release_n chunks (release_n(0) included). Nobody gives a permit back
    /// before every waiter has one, so each release_n(n) must wake up to n queued waiters
    /// (one that wakes fewer strands a waiter: the stuck limit fails the case); a long timed
    /// acquire never answers false. Then every waiter gives its permit back, and `value()`
    /// ends at the number of waiters with nobody queued.
    #[test]
    fn release_n_wakes_up_to_n_queued_waiters(
        bounded in any::<bool>(),
        waits in vec(long_take(), 1..=5),
        parked in 0usize..=5,
        chunks in vec(0usize..=3, 0..=4),
    ) {
        let parked = parked.min(waits.len());
        let waiters = waits.len();
        let end = if bounded {
            wake_up::<BoundedSemaphore>(waits, parked, chunks)
        } else {
            wake_up::<Semaphore>(waits, parked, chunks)
        };
        end.check(waiters)?;
    }

    /// Checks SEM-5 on real threads: a `BoundedSemaphore` of 1-4 permits, 0..=initial of
    /// them taken by the driver and kept; 1-3 over-releasers call release() and
    /// release_n(0..=3) without having acquired, concurrently with 0-2 acquirers (try and
    /// 0-2 ms timed) and a watcher sampling `value()` (2-6 threads). The value never exceeds
    /// the initial value; every refusal is `TooManyReleases` (never for release_n(0)) and
    /// adds nothing: at the end `value() == initial - kept - acquired + accepted`; with no
    /// acquirers (the value only rises) every refused release_n(n) would indeed have passed
    /// the initial value, so on a full semaphore every over-release is refused.
    #[test]
    fn bounded_semaphore_refuses_concurrent_over_releases(
        (initial, kept) in (1usize..=4).prop_flat_map(|initial| (Just(initial), 0..=initial)),
        over_releasers in vec(vec(0usize..=3, 1..=20), 1..=3),
        acquirers in vec(vec(attempt(), 1..=20), 0..=2),
    ) {
        let without_acquirers = acquirers.is_empty();
        let roles: Vec<OverRole> = over_releasers
            .into_iter()
            .map(OverRole::OverReleaser)
            .chain(acquirers.into_iter().map(OverRole::Acquirer))
            .chain([OverRole::Watcher])
            .collect();
        let (end, counts) = over_release(initial, kept, roles);
        prop_assert!(
            end.violations.is_empty(),
            "{} violation(s), first ones: {:?}",
            end.violations.len(),
            &end.violations[..end.violations.len().min(5)]
        );
        let acquired = counts.acquired.load(Ordering::SeqCst);
        let returned = counts.returned.load(Ordering::SeqCst);
        prop_assert!(end.value <= initial, "value() {} above {}", end.value, initial);
        prop_assert_eq!(
            end.value + kept + acquired,
            initial + returned,
            "value() {} vs initial {} - kept {} - acquired {} + accepted {}",
            end.value, initial, kept, acquired, returned
        );
        if without_acquirers {
            let refused = counts.refused.lock().unwrap_or_else(PoisonError::into_inner);
            for &n in refused.iter() {
                prop_assert!(
                    end.value + n > initial,
                    "release_n({}) refused though the value ended at {} of {}",
                    n, end.value, initial
                );
            }
            if kept == 0 {
                prop_assert_eq!(returned, 0, "an over-release on a full semaphore was accepted");
            }
        }
        prop_assert_eq!(end.queued, 0, "threads still queued at the end");
    }
}
