#![cfg(not(loom))]
//! Property tests for [`RLock`]: a reference model driven over several actor threads (so
//! ownership is per thread), and real threads contending with nested re-entry.
//!
//! Invariant IDs: RLOCK-1 mutual exclusion between threads; RLOCK-2 the owner re-acquires
//! without blocking, count + 1; RLOCK-3 only the owner may release (`NotOwner` /
//! `NotLocked`, nothing changes); RLOCK-4 at count 0 the owner is cleared and the lock is
//! free; RLOCK-5 `recursion_count` is the owner's count and 0 for others, `is_owned` only for
//! the owner; RLOCK-6 timed acquire as LOCK-5/7; RLOCK-7 guards release one level on drop.

mod props_support;

use std::time::Duration;

use locksmith::{RLock, ReleaseError};
use proptest::collection::vec;
use proptest::prelude::*;
use proptest_state_machine::{ReferenceStateMachine, StateMachineTest, prop_state_machine};

use props_support::{
    Actors, Entry, Section, TINY_TIMEOUT_MAX, any_timeout, contend, entry, tiny_timeout,
};

// ---------------------------------------------------------------------------------------
// The reference model.

/// What the model knows: the actors, which of them owns the RLock, and its count.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Model {
    actors: usize,
    owner: Option<usize>,
    count: usize,
}

/// What one thread observes: `is_owned()`, `recursion_count()`, `locked()`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct View {
    owned: bool,
    count: usize,
    locked: bool,
}

impl View {
    /// What the calling thread observes now.
    fn of(rlock: &RLock) -> View {
        View {
            owned: rlock.is_owned(),
            count: rlock.recursion_count(),
            locked: rlock.locked(),
        }
    }
}

impl Model {
    /// Whether `actor` would get the RLock at once: it is free or `actor` owns it.
    fn can_take(&self, actor: usize) -> bool {
        self.owner.is_none_or(|owner| owner == actor)
    }

    /// What `actor` should observe (RLOCK-5).
    fn view(&self, actor: Option<usize>) -> View {
        let owned = self.owner.is_some() && self.owner == actor;
        View {
            owned,
            count: if owned { self.count } else { 0 },
            locked: self.owner.is_some(),
        }
    }

    /// `actor` takes (or re-enters) the RLock: RLOCK-2.
    fn take(&mut self, actor: usize) {
        assert!(self.can_take(actor), "the model never blocks an actor");
        self.owner = Some(actor);
        self.count += 1;
    }

    /// `actor` releases one level: RLOCK-3, RLOCK-4.
    fn release(&mut self, actor: usize) -> Result<(), ReleaseError> {
        match self.owner {
            None => Err(ReleaseError::NotLocked),
            Some(owner) if owner != actor => Err(ReleaseError::NotOwner),
            Some(_) => {
                self.count -= 1;
                if self.count == 0 {
                    self.owner = None;
                }
                Ok(())
            }
        }
    }
}

/// One operation, run by one actor.
#[derive(Clone, Debug)]
enum Op {
    Acquire,
    TryAcquire,
    AcquireTimeout(Duration),
    Release,
    IsOwned,
    RecursionCount,
    Locked,
    /// `lock()`; the view while the guard lives; the guard dropped.
    Guard,
    /// `try_lock()`, as `Guard` if it got one.
    TryGuard,
    /// `lock_timeout(t)`, as `Guard` if it got one.
    TimeoutGuard(Duration),
    /// `depth` nested `lock()` guards (1..=3), dropped innermost first.
    Nested(usize),
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
    Owned(bool),
    Count(usize),
    Locked(bool),
    /// `None` if no guard was had, else the view while it lived.
    Guarded(Option<View>),
    /// The view after each guard was taken, then after each was dropped.
    Nested {
        taken: Vec<View>,
        dropped: Vec<View>,
    },
}

impl Op {
    /// Whether this would block (or might) when another actor owns the RLock.
    fn blocks_for_others(&self) -> bool {
        match self {
            Op::Acquire | Op::Guard | Op::Nested(_) => true,
            Op::AcquireTimeout(timeout) | Op::TimeoutGuard(timeout) => *timeout > TINY_TIMEOUT_MAX,
            Op::TryAcquire
            | Op::Release
            | Op::IsOwned
            | Op::RecursionCount
            | Op::Locked
            | Op::TryGuard => false,
        }
    }

    /// Runs the operation on the real RLock (on an actor thread).
    fn run(&self, rlock: &RLock) -> Answer {
        match *self {
            Op::Acquire => {
                rlock.acquire();
                Answer::Done
            }
            Op::TryAcquire => Answer::Acquired(rlock.try_acquire()),
            Op::AcquireTimeout(timeout) => Answer::Acquired(rlock.acquire_timeout(timeout)),
            Op::Release => Answer::Released(rlock.release()),
            Op::IsOwned => Answer::Owned(rlock.is_owned()),
            Op::RecursionCount => Answer::Count(rlock.recursion_count()),
            Op::Locked => Answer::Locked(rlock.locked()),
            Op::Guard => {
                let guard = rlock.lock();
                let inside = View::of(rlock);
                drop(guard);
                Answer::Guarded(Some(inside))
            }
            Op::TryGuard => Answer::Guarded(rlock.try_lock().map(|_guard| View::of(rlock))),
            Op::TimeoutGuard(timeout) => {
                Answer::Guarded(rlock.lock_timeout(timeout).map(|_guard| View::of(rlock)))
            }
            Op::Nested(depth) => {
                let mut guards = Vec::new();
                let mut taken = Vec::new();
                for _ in 0..depth {
                    guards.push(rlock.lock());
                    taken.push(View::of(rlock));
                }
                let mut dropped = Vec::new();
                while let Some(guard) = guards.pop() {
                    drop(guard);
                    dropped.push(View::of(rlock));
                }
                Answer::Nested { taken, dropped }
            }
        }
    }
}

/// The model's transition: the next state and the answer the operation must give.
fn model_step(model: &Model, actor: usize, op: &Op) -> (Model, Answer) {
    let mut next = model.clone();
    // RLOCK-7: a guard holds one level while it lives; the state after its drop is the
    // state before it was taken.
    let guarded = |levels: usize| {
        let mut inside = model.clone();
        let mut taken = Vec::new();
        for _ in 0..levels {
            inside.take(actor);
            taken.push(inside.view(Some(actor)));
        }
        let mut dropped = Vec::new();
        for _ in 0..levels {
            inside.release(actor).expect("the model's owner releases");
            dropped.push(inside.view(Some(actor)));
        }
        (taken, dropped)
    };
    let answer = match *op {
        Op::Acquire => {
            next.take(actor);
            Answer::Done
        }
        // RLOCK-2, RLOCK-6: the owner always gets in; others do not while it owns it.
        Op::TryAcquire | Op::AcquireTimeout(_) => {
            let acquired = model.can_take(actor);
            if acquired {
                next.take(actor);
            }
            Answer::Acquired(acquired)
        }
        Op::Release => Answer::Released(next.release(actor)),
        Op::IsOwned => Answer::Owned(model.view(Some(actor)).owned),
        Op::RecursionCount => Answer::Count(model.view(Some(actor)).count),
        Op::Locked => Answer::Locked(model.view(Some(actor)).locked),
        Op::Guard => Answer::Guarded(Some(guarded(1).0[0])),
        Op::TryGuard | Op::TimeoutGuard(_) => {
            Answer::Guarded(model.can_take(actor).then(|| guarded(1).0[0]))
        }
        Op::Nested(depth) => {
            let (taken, dropped) = guarded(depth);
            Answer::Nested { taken, dropped }
        }
    };
    (next, answer)
}

/// Operations that cannot block an actor, given whether it could take the RLock at once.
fn ops(can_take: bool) -> BoxedStrategy<Op> {
    if can_take {
        prop_oneof![
            3 => Just(Op::Acquire),
            2 => Just(Op::TryAcquire),
            2 => any_timeout().prop_map(Op::AcquireTimeout),
            5 => Just(Op::Release),
            1 => Just(Op::IsOwned),
            1 => Just(Op::RecursionCount),
            1 => Just(Op::Locked),
            1 => Just(Op::Guard),
            1 => Just(Op::TryGuard),
            1 => any_timeout().prop_map(Op::TimeoutGuard),
            1 => (1usize..=3).prop_map(Op::Nested),
        ]
        .boxed()
    } else {
        prop_oneof![
            3 => Just(Op::TryAcquire),
            3 => tiny_timeout().prop_map(Op::AcquireTimeout),
            3 => Just(Op::Release),
            1 => Just(Op::IsOwned),
            1 => Just(Op::RecursionCount),
            1 => Just(Op::Locked),
            1 => Just(Op::TryGuard),
            1 => tiny_timeout().prop_map(Op::TimeoutGuard),
        ]
        .boxed()
    }
}

struct RLockModel;

impl ReferenceStateMachine for RLockModel {
    type State = Model;
    type Transition = Step;

    fn init_state() -> BoxedStrategy<Model> {
        (2usize..=4)
            .prop_map(|actors| Model {
                actors,
                owner: None,
                count: 0,
            })
            .boxed()
    }

    fn transitions(state: &Model) -> BoxedStrategy<Step> {
        let state = state.clone();
        (0..state.actors)
            .prop_flat_map(move |actor| {
                ops(state.can_take(actor)).prop_map(move |op| Step { actor, op })
            })
            .boxed()
    }

    fn apply(state: Model, step: &Step) -> Model {
        model_step(&state, step.actor, &step.op).0
    }

    /// Checked again while shrinking: never hand an actor an operation that would block.
    fn preconditions(state: &Model, step: &Step) -> bool {
        step.actor < state.actors && (state.can_take(step.actor) || !step.op.blocks_for_others())
    }
}

/// The real RLock on its actors, and the model state before the next step.
struct RLockUnderTest {
    actors: Actors<RLock>,
    before: Model,
}

impl StateMachineTest for RLockUnderTest {
    type SystemUnderTest = Self;
    type Reference = RLockModel;

    fn init_test(model: &Model) -> Self {
        RLockUnderTest {
            actors: Actors::spawn(RLock::new(), model.actors),
            before: model.clone(),
        }
    }

    fn apply(mut sut: Self, after: &Model, step: Step) -> Self {
        let (predicted, expected) = model_step(&sut.before, step.actor, &step.op);
        assert_eq!(&predicted, after, "the model is not deterministic");
        let op = step.op.clone();
        let answer = sut.actors.run(step.actor, move |rlock| op.run(rlock));
        assert_eq!(
            answer, expected,
            "actor {} ran {:?} from {:?}",
            step.actor, step.op, sut.before
        );
        sut.before = after.clone();
        sut
    }

    fn check_invariants(sut: &Self, model: &Model) {
        // RLOCK-5: each actor sees its own ownership and count; the driver owns nothing.
        for actor in 0..sut.actors.count() {
            let seen = sut.actors.run(actor, View::of);
            assert_eq!(seen, model.view(Some(actor)), "view of actor {actor}");
        }
        let rlock = sut.actors.target();
        assert_eq!(
            View::of(rlock),
            model.view(None),
            "view of the driver thread"
        );
        // RLOCK-6: every operation has returned, so nobody may be left queued.
        assert_eq!(rlock.queued_waiters(), 0, "queued_waiters() after a step");
    }
}

prop_state_machine! {
    #![proptest_config(ProptestConfig {
        cases: 128,
        max_shrink_time: 60_000,
        ..ProptestConfig::default()
    })]

    /// Checks RLOCK-2, RLOCK-3, RLOCK-4, RLOCK-5, RLOCK-6 and RLOCK-7 against a reference
    /// model: 2-4 actor threads each run generated operations (acquire, try_acquire,
    /// acquire_timeout, release by owner and non-owners, is_owned, recursion_count, locked,
    /// lock/try_lock/lock_timeout guards, nested guards) one at a time; after every step the
    /// answer, every actor's `is_owned()` / `recursion_count()` / `locked()`, the driver's
    /// view, and `queued_waiters() == 0` match the model.
    #[test]
    fn rlock_matches_model_across_actors(sequential 1..48 => RLockUnderTest);
}

// ---------------------------------------------------------------------------------------
// Real threads.

/// One step of a contending thread: enter by `entry`, then re-enter once per `reentries`.
#[derive(Clone, Debug)]
struct ReentrantStep {
    entry: Entry,
    reentries: Vec<Entry>,
}

/// Checks the calling thread's view: owner at `count`, or (at 0) not the owner.
fn expect_count(section: &Section, rlock: &RLock, count: usize, when: &str) {
    let seen = View::of(rlock);
    let owned = count > 0;
    if seen.owned != owned || seen.count != count || (owned && !seen.locked) {
        section.violation(format!(
            "RLOCK-5: {when}: saw {seen:?}, expected owned={owned} count={count}"
        ));
    }
}

/// Re-enters the held RLock once per entry of `rest` (each must succeed at once), bumps the
/// counter at the innermost level, and lets go level by level.
fn reenter(section: &Section, rlock: &RLock, rest: &[Entry], depth: usize) {
    let Some((entry, rest)) = rest.split_first() else {
        section.bump();
        return;
    };
    let released = entry.hold(rlock, || {
        expect_count(section, rlock, depth + 1, "after re-entry");
        reenter(section, rlock, rest, depth + 1);
    });
    match released {
        Some(Ok(())) => {}
        None => section.violation(format!("RLOCK-2: the owner's re-entry {entry:?} failed")),
        Some(Err(error)) => {
            section.violation(format!("RLOCK-7: the owner's release failed: {error:?}"))
        }
    }
    expect_count(section, rlock, depth, "after letting go of a re-entry");
}

fn reentrant_step(rlock: &RLock, section: &Section, step: &ReentrantStep) -> usize {
    let entered = section.critical(rlock, step.entry, || {
        expect_count(section, rlock, 1, "after taking it");
        reenter(section, rlock, &step.reentries, 1);
    });
    // RLOCK-3, RLOCK-4, RLOCK-5: having let go (or never got in), this thread owns nothing,
    // and its release is refused (whoever holds the lock meanwhile keeps it).
    expect_count(section, rlock, 0, "outside the section");
    match rlock.release() {
        Err(ReleaseError::NotOwner | ReleaseError::NotLocked) => {}
        other => section.violation(format!("RLOCK-3: a non-owner's release gave {other:?}")),
    }
    usize::from(entered)
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 32,
        max_shrink_time: 60_000,
        ..ProptestConfig::default()
    })]

    /// Checks RLOCK-1, RLOCK-2, RLOCK-3, RLOCK-4, RLOCK-5, RLOCK-6 and RLOCK-7 on 2-6 real
    /// threads, each entering a critical section up to 60 times by a random mix of
    /// acquire/release, try_acquire, acquire_timeout (0-2 ms) and guards, then re-entering
    /// 0-3 more levels (total depth 1-4) by the same mix: never two holders, no counter
    /// update lost, the owner's count right at every level, a non-owner's release refused,
    /// every thread finishes (no lost wake-up), and the RLock ends free with nobody queued.
    #[test]
    fn rlock_contention_excludes_and_reenters(
        plans in vec(
            vec(
                (entry(), vec(entry(), 0..=3))
                    .prop_map(|(entry, reentries)| ReentrantStep { entry, reentries }),
                1..=60,
            ),
            2..=6,
        ),
    ) {
        contend(plans, reentrant_step).check()?;
    }
}
