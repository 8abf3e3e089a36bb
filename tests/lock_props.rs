#![cfg(not(loom))]
//! Property tests for [`Lock`]: a reference model driven over several actor threads, and
//! real threads contending (also with the lock handed to another thread to release).
//!
//! Invariant IDs: LOCK-1 mutual exclusion; LOCK-2 any thread may release, releasing an
//! unlocked Lock is `Err(NotLocked)` and changes nothing; LOCK-3 not re-entrant; LOCK-4
//! `try_acquire` never blocks, true iff it took the lock; LOCK-5 a failed timed acquire
//! leaves the lock as it was; LOCK-6 no lost wake-up; LOCK-7 a timed-out waiter leaves the
//! queue; LOCK-8 guards release on drop.

mod props_support;

use std::sync::mpsc;
use std::thread;
use std::time::Duration;

use locksmith::{Lock, ReleaseError};
use proptest::collection::vec;
use proptest::prelude::*;
use proptest_state_machine::{ReferenceStateMachine, StateMachineTest, prop_state_machine};

use props_support::{
    Actors, Entry, Held, Section, TINY_TIMEOUT_MAX, any_timeout, contend, entry, tiny_timeout,
    within_limit,
};

// ---------------------------------------------------------------------------------------
// The reference model.

/// What the model knows: how many actors there are and whether the lock is held. A Lock has
/// no owner, so that is all.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Model {
    actors: usize,
    locked: bool,
}

/// One operation, run by one actor.
#[derive(Clone, Debug)]
enum Op {
    Acquire,
    TryAcquire,
    AcquireTimeout(Duration),
    Release,
    Locked,
    /// `lock()`; `locked()` seen while the guard lives; the guard dropped.
    Guard,
    /// `try_lock()`, as `Guard` if it got one.
    TryGuard,
    /// `lock_timeout(t)`, as `Guard` if it got one.
    TimeoutGuard(Duration),
    /// `lock()`, then `release()` behind the guard's back, `locked()`, and the guard dropped
    /// (its drop must then change nothing).
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
    Locked(bool),
    /// `None` if no guard was had, else `locked()` while it lived.
    Guarded(Option<bool>),
    /// The early `release()`'s answer and `locked()` right after it.
    ReleasedEarly(Result<(), ReleaseError>, bool),
}

impl Op {
    /// Whether this would block (or might: a timeout longer than a tiny one) on a held lock.
    fn blocks_when_locked(&self) -> bool {
        match self {
            Op::Acquire | Op::Guard | Op::GuardReleasedEarly => true,
            Op::AcquireTimeout(timeout) | Op::TimeoutGuard(timeout) => *timeout > TINY_TIMEOUT_MAX,
            Op::TryAcquire | Op::Release | Op::Locked | Op::TryGuard => false,
        }
    }

    /// Runs the operation on the real lock (on an actor thread).
    fn run(&self, lock: &Lock) -> Answer {
        match *self {
            Op::Acquire => {
                lock.acquire();
                Answer::Done
            }
            Op::TryAcquire => Answer::Acquired(lock.try_acquire()),
            Op::AcquireTimeout(timeout) => Answer::Acquired(lock.acquire_timeout(timeout)),
            Op::Release => Answer::Released(lock.release()),
            Op::Locked => Answer::Locked(lock.locked()),
            Op::Guard => {
                let guard = lock.lock();
                let inside = lock.locked();
                drop(guard);
                Answer::Guarded(Some(inside))
            }
            Op::TryGuard => Answer::Guarded(lock.try_lock().map(|_guard| lock.locked())),
            Op::TimeoutGuard(timeout) => {
                Answer::Guarded(lock.lock_timeout(timeout).map(|_guard| lock.locked()))
            }
            Op::GuardReleasedEarly => {
                let guard = lock.lock();
                let released = lock.release();
                let locked = lock.locked();
                drop(guard);
                Answer::ReleasedEarly(released, locked)
            }
        }
    }
}

/// The model's transition: the next state and the answer the operation must give.
fn model_step(model: &Model, op: &Op) -> (Model, Answer) {
    let mut next = model.clone();
    let answer = match *op {
        Op::Acquire => {
            assert!(!model.locked, "the model never blocks an actor");
            next.locked = true;
            Answer::Done
        }
        // LOCK-3, LOCK-4, LOCK-5: a held lock refuses everyone, its holder included.
        Op::TryAcquire | Op::AcquireTimeout(_) => {
            next.locked = true;
            Answer::Acquired(!model.locked)
        }
        // LOCK-2: any actor may release; an unlocked lock refuses.
        Op::Release => {
            next.locked = false;
            Answer::Released(if model.locked {
                Ok(())
            } else {
                Err(ReleaseError::NotLocked)
            })
        }
        Op::Locked => Answer::Locked(model.locked),
        // LOCK-8: the guard holds the lock while it lives and releases it on drop.
        Op::Guard => Answer::Guarded(Some(true)),
        Op::TryGuard | Op::TimeoutGuard(_) => {
            Answer::Guarded(if model.locked { None } else { Some(true) })
        }
        Op::GuardReleasedEarly => Answer::ReleasedEarly(Ok(()), false),
    };
    (next, answer)
}

/// Operations that cannot block an actor given whether the lock is held.
fn ops(locked: bool) -> BoxedStrategy<Op> {
    if locked {
        prop_oneof![
            3 => Just(Op::TryAcquire),
            3 => tiny_timeout().prop_map(Op::AcquireTimeout),
            5 => Just(Op::Release),
            1 => Just(Op::Locked),
            1 => Just(Op::TryGuard),
            1 => tiny_timeout().prop_map(Op::TimeoutGuard),
        ]
        .boxed()
    } else {
        prop_oneof![
            3 => Just(Op::Acquire),
            2 => Just(Op::TryAcquire),
            2 => any_timeout().prop_map(Op::AcquireTimeout),
            1 => Just(Op::Release),
            1 => Just(Op::Locked),
            2 => Just(Op::Guard),
            1 => Just(Op::TryGuard),
            1 => any_timeout().prop_map(Op::TimeoutGuard),
            1 => Just(Op::GuardReleasedEarly),
        ]
        .boxed()
    }
}

struct LockModel;

impl ReferenceStateMachine for LockModel {
    type State = Model;
    type Transition = Step;

    fn init_state() -> BoxedStrategy<Model> {
        (2usize..=4)
            .prop_map(|actors| Model {
                actors,
                locked: false,
            })
            .boxed()
    }

    fn transitions(state: &Model) -> BoxedStrategy<Step> {
        (0..state.actors, ops(state.locked))
            .prop_map(|(actor, op)| Step { actor, op })
            .boxed()
    }

    fn apply(state: Model, step: &Step) -> Model {
        model_step(&state, &step.op).0
    }

    /// Checked again while shrinking: never hand an actor an operation that would block.
    fn preconditions(state: &Model, step: &Step) -> bool {
        step.actor < state.actors && !(state.locked && step.op.blocks_when_locked())
    }
}

/// The real lock on its actors, and the model state before the next step.
struct LockUnderTest {
    actors: Actors<Lock>,
    before: Model,
}

impl StateMachineTest for LockUnderTest {
    type SystemUnderTest = Self;
    type Reference = LockModel;

    fn init_test(model: &Model) -> Self {
        LockUnderTest {
            actors: Actors::spawn(Lock::new(), model.actors),
            before: model.clone(),
        }
    }

    fn apply(mut sut: Self, after: &Model, step: Step) -> Self {
        let (predicted, expected) = model_step(&sut.before, &step.op);
        assert_eq!(&predicted, after, "the model is not deterministic");
        let op = step.op.clone();
        let answer = sut.actors.run(step.actor, move |lock| op.run(lock));
        assert_eq!(
            answer, expected,
            "actor {} ran {:?} from {:?}",
            step.actor, step.op, sut.before
        );
        sut.before = after.clone();
        sut
    }

    fn check_invariants(sut: &Self, model: &Model) {
        let lock = sut.actors.target();
        assert_eq!(lock.locked(), model.locked, "locked() vs the model");
        // Every actor sees the same state (a Lock has no per-thread view).
        for actor in 0..sut.actors.count() {
            let seen = sut.actors.run(actor, |lock| lock.locked());
            assert_eq!(seen, model.locked, "locked() seen by actor {actor}");
        }
        // LOCK-5, LOCK-7: every operation has returned, so nobody may be left queued.
        assert_eq!(lock.queued_waiters(), 0, "queued_waiters() after a step");
    }
}

prop_state_machine! {
    #![proptest_config(ProptestConfig {
        cases: 128,
        max_shrink_time: 60_000,
        ..ProptestConfig::default()
    })]

    /// Checks LOCK-2, LOCK-3, LOCK-4, LOCK-5, LOCK-7 and LOCK-8 against a reference model:
    /// 2-4 actor threads each run generated operations (acquire, try_acquire,
    /// acquire_timeout, release from any actor, locked, lock/try_lock/lock_timeout guards,
    /// a guard released behind its back) one at a time; after every step the answer,
    /// `locked()` as every actor sees it, and `queued_waiters() == 0` match the model.
    #[test]
    fn lock_matches_model_across_actors(sequential 1..48 => LockUnderTest);
}

// ---------------------------------------------------------------------------------------
// Real threads.

/// One step of a contending thread: enter the section by `entry`, bump the counter.
fn contend_step(lock: &Lock, section: &Section, entry: &Entry) -> usize {
    usize::from(section.critical(lock, *entry, || section.bump()))
}

/// One step of an acquirer in the hand-over scenario.
#[derive(Clone, Copy, Debug)]
struct HandStep {
    entry: Entry,
    /// Whether a releaser thread (rather than this one) finishes the section and releases.
    hand_over: bool,
}

/// Finishes a section begun elsewhere (`seen` is what it read) and lets go of the lock.
fn finish(section: &Section, seen: usize, held: Held<'_, Lock>) {
    section.write(seen);
    section.exit();
    if let Err(error) = held.let_go() {
        section.violation(format!("LOCK-2: release of a held lock failed: {error:?}"));
    }
}

/// Acquirers take the lock (every entry kind) and begin the section; for a `hand_over`
/// step they send the held lock (`Held::Plain` or the `LockGuard` itself) to a releaser
/// thread, which finishes the section and releases it.
fn hand_over(acquirers: Vec<Vec<HandStep>>, releasers: usize) -> props_support::Report {
    within_limit("hand_over", move || {
        let lock = Lock::new();
        let section = Section::default();
        let acquired = thread::scope(|scope| {
            let (lock, section) = (&lock, &section);
            let mut outboxes = Vec::new();
            for _ in 0..releasers {
                let (outbox, inbox) = mpsc::channel::<(usize, Held<'_, Lock>)>();
                outboxes.push(outbox);
                scope.spawn(move || {
                    for (seen, held) in inbox {
                        finish(section, seen, held);
                    }
                });
            }
            let workers: Vec<_> = acquirers
                .iter()
                .enumerate()
                .map(|(index, plan)| {
                    let outbox = outboxes[index % releasers].clone();
                    scope.spawn(move || {
                        let mut acquired = 0;
                        for step in plan {
                            let Some(held) = step.entry.take(lock) else {
                                continue;
                            };
                            acquired += 1;
                            section.enter();
                            let seen = section.read();
                            if step.hand_over {
                                outbox.send((seen, held)).expect("a releaser is gone");
                            } else {
                                finish(section, seen, held);
                            }
                        }
                        acquired
                    })
                })
                .collect();
            // The releasers stop once every acquirer's outbox is dropped.
            drop(outboxes);
            workers
                .into_iter()
                .map(|worker| worker.join().expect("an acquirer panicked"))
                .sum()
        });
        section.report(&lock, acquired)
    })
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 32,
        max_shrink_time: 60_000,
        ..ProptestConfig::default()
    })]

    /// Checks LOCK-1, LOCK-4, LOCK-5, LOCK-6, LOCK-7 and LOCK-8 on 2-6 real threads, each
    /// entering a critical section up to 60 times by a random mix of acquire/release,
    /// try_acquire, acquire_timeout (0-2 ms) and lock/try_lock/lock_timeout guards: never
    /// two holders, no counter update lost, every thread finishes (no lost wake-up), and the
    /// lock ends unlocked with no thread queued.
    #[test]
    fn lock_contention_excludes_and_loses_nothing(
        plans in vec(vec(entry(), 1..=60), 2..=6),
    ) {
        contend(plans, contend_step).check()?;
    }

    /// Checks LOCK-2 (a thread other than the acquirer releases), LOCK-1, LOCK-6 and LOCK-8
    /// (a `LockGuard` sent to and dropped by another thread): 1-4 acquirers take the lock by
    /// any entry and hand it, mid-section, to one of 1-2 releaser threads, or finish
    /// themselves; never two holders, nothing lost, every release of the held lock is `Ok`,
    /// and the lock ends unlocked with no thread queued.
    #[test]
    fn lock_released_by_another_thread_stays_consistent(
        acquirers in vec(
            vec(
                (entry(), any::<bool>())
                    .prop_map(|(entry, hand_over)| HandStep { entry, hand_over }),
                1..=60,
            ),
            1..=4,
        ),
        releasers in 1usize..=2,
    ) {
        hand_over(acquirers, releasers).check()?;
    }
}
