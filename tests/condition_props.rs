#![cfg(not(loom))]
//! Property tests for [`Condition`]: a reference model driven over several actor threads
//! (over a Lock or an RLock, one condition or two sharing the lock), producers and consumers
//! on real threads, an RLock held k times across waits, and which waiters `notify_n` wakes.
//!
//! Invariant IDs: COND-1 no lost notification, no spurious return; COND-2 `wait` releases the
//! lock fully (an RLock held k times: k levels) and restores exactly k, also on timeout;
//! COND-3 `wait_timeout` returns `Ok(false)` only on timeout and re-acquires either way;
//! COND-4 `wait` / `notify` without holding the lock is an `Err` and changes nothing;
//! COND-5 `notify_n(n)` wakes at most n, oldest first, never a thread that started waiting
//! after the call; `wait_for` returns the predicate's last value; several Conditions may share
//! one lock.

// This file uses the actors, the real-thread runners and `Section`, not every helper.
#[allow(dead_code)]
mod props_support;

use std::collections::VecDeque;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError, TryLockError};
use std::thread;
use std::time::{Duration, Instant};

use locksmith::{Condition, ConditionLock, Lock, RLock, ReleaseError};
use proptest::collection::vec;
use proptest::prelude::*;
use proptest::strategy::Union;
use proptest::test_runner::TestCaseError;
use proptest_state_machine::{ReferenceStateMachine, StateMachineTest, prop_state_machine};

use props_support::{
    Actors, PropLock, Section, TINY_TIMEOUT_MAX, any_timeout, tiny_timeout, together, within_limit,
};

/// A wait that does not time out while a passing scenario runs.
const LONG: Duration = Duration::from_secs(3600);

/// How long a real-thread scenario polls for threads to queue before it reports failure.
const POLL_LIMIT: Duration = Duration::from_secs(10);

// ---------------------------------------------------------------------------------------
// The lock as one thread sees it.

/// What the calling thread observes of a condition's lock: whether it may wait and notify
/// ([`ConditionLock::is_held`]), its hold (an RLock's recursion count; 1 for a locked Lock),
/// and whether anyone holds it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct View {
    held: bool,
    levels: usize,
    locked: bool,
}

/// [`View`] for the locks a condition is built on.
trait ViewLock {
    fn view(&self) -> View;
}

impl ViewLock for Lock {
    fn view(&self) -> View {
        let locked = self.locked();
        View {
            held: locked,
            levels: usize::from(locked),
            locked,
        }
    }
}

impl ViewLock for RLock {
    fn view(&self) -> View {
        View {
            held: self.is_owned(),
            levels: self.recursion_count(),
            locked: self.locked(),
        }
    }
}

impl<L: ViewLock> ViewLock for Arc<L> {
    fn view(&self) -> View {
        (**self).view()
    }
}

// ---------------------------------------------------------------------------------------
// The reference model.

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Lock,
    RLock,
}

/// What the model knows: the lock's kind, how many conditions share it (1 or 2), the actors,
/// who took the lock last (for a Lock only whether it is locked matters: it has no owner)
/// and the RLock's count.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Model {
    kind: Kind,
    conds: usize,
    actors: usize,
    owner: Option<usize>,
    count: usize,
}

impl Model {
    /// Whether `actor` would get the lock at once.
    fn can_take(&self, actor: usize) -> bool {
        match self.kind {
            Kind::Lock => self.owner.is_none(),
            Kind::RLock => self.owner.is_none_or(|owner| owner == actor),
        }
    }

    /// Whether `actor` may wait and notify: it owns the RLock; anyone holds the Lock (as
    /// Python's `Condition._is_owned` decides for a Lock).
    fn held_by(&self, actor: usize) -> bool {
        match self.kind {
            Kind::Lock => self.owner.is_some(),
            Kind::RLock => self.owner == Some(actor),
        }
    }

    /// COND-4: what a wait or notify by `actor` answers before doing anything.
    fn check_held(&self, actor: usize) -> Result<(), ReleaseError> {
        if self.held_by(actor) {
            Ok(())
        } else if self.owner.is_none() {
            Err(ReleaseError::NotLocked)
        } else {
            Err(ReleaseError::NotOwner)
        }
    }

    fn view(&self, actor: usize) -> View {
        let locked = self.owner.is_some();
        View {
            held: self.held_by(actor),
            levels: match self.kind {
                Kind::Lock => usize::from(locked),
                Kind::RLock if self.owner == Some(actor) => self.count,
                Kind::RLock => 0,
            },
            locked,
        }
    }

    fn take(&mut self, actor: usize) {
        assert!(self.can_take(actor), "the model never blocks an actor");
        self.owner = Some(actor);
        self.count += 1;
    }

    fn release(&mut self, actor: usize) -> Result<(), ReleaseError> {
        match (self.kind, self.owner) {
            (_, None) => Err(ReleaseError::NotLocked),
            (Kind::RLock, Some(owner)) if owner != actor => Err(ReleaseError::NotOwner),
            _ => {
                self.count -= 1;
                if self.count == 0 {
                    self.owner = None;
                }
                Ok(())
            }
        }
    }
}

/// One operation, run by one actor on one of the conditions.
#[derive(Clone, Debug)]
enum Op {
    Acquire,
    TryAcquire,
    Release,
    Notify,
    NotifyN(usize),
    NotifyAll,
    /// Held: 0-3 ms with nobody to notify. Not held: any timeout, refused at once.
    WaitTimeout(Duration),
    /// Only when not held: refused at once.
    Wait,
    /// `wait_for(|| value, timeout)`. A true predicate returns at once, held or not; a
    /// false one times out after 0-3 ms when held, is refused at once when not.
    WaitFor {
        value: bool,
        timeout: Option<Duration>,
    },
    View,
}

#[derive(Clone, Debug)]
struct Step {
    actor: usize,
    cond: usize,
    op: Op,
}

/// What an operation returned, as the model predicts it and as the actor saw it.
#[derive(Debug, PartialEq, Eq)]
enum Answer {
    Done,
    Acquired(bool),
    Result(Result<(), ReleaseError>),
    /// A wait's answer and the lock as the actor sees it right after.
    Waited(Result<bool, ReleaseError>, View),
    View(View),
}

impl Op {
    /// Whether the op might block `actor` (so the model never generates it).
    fn blocks(&self, model: &Model, actor: usize) -> bool {
        let held = model.held_by(actor);
        match *self {
            Op::Acquire => !model.can_take(actor),
            Op::Wait => held,
            Op::WaitTimeout(timeout) => held && timeout > TINY_TIMEOUT_MAX,
            Op::WaitFor { value: true, .. } => false,
            Op::WaitFor {
                value: false,
                timeout,
            } => match timeout {
                // A refusal is only certain for a wait that cannot time out first.
                Some(timeout) if timeout <= TINY_TIMEOUT_MAX => !held,
                _ => held,
            },
            _ => false,
        }
    }

    /// Runs the operation on the real condition (on an actor thread).
    fn run(&self, cond: &dyn Cond) -> Answer {
        match *self {
            Op::Acquire => {
                cond.acquire();
                Answer::Done
            }
            Op::TryAcquire => Answer::Acquired(cond.try_acquire()),
            Op::Release => Answer::Result(cond.release()),
            Op::Notify => Answer::Result(cond.notify()),
            Op::NotifyN(n) => Answer::Result(cond.notify_n(n)),
            Op::NotifyAll => Answer::Result(cond.notify_all()),
            Op::WaitTimeout(timeout) => Answer::Waited(cond.wait_timeout(timeout), cond.view()),
            Op::Wait => Answer::Result(cond.wait()),
            Op::WaitFor { value, timeout } => {
                Answer::Waited(cond.wait_for(value, timeout), cond.view())
            }
            Op::View => Answer::View(cond.view()),
        }
    }
}

/// The model's transition: the next state and the answer the operation must give.
fn model_step(model: &Model, actor: usize, op: &Op) -> (Model, Answer) {
    let mut next = model.clone();
    let answer = match *op {
        Op::Acquire => {
            next.take(actor);
            Answer::Done
        }
        Op::TryAcquire => {
            let acquired = model.can_take(actor);
            if acquired {
                next.take(actor);
            }
            Answer::Acquired(acquired)
        }
        Op::Release => Answer::Result(next.release(actor)),
        // COND-4: refused unless held; with nobody waiting, a no-op otherwise.
        Op::Notify | Op::NotifyN(_) | Op::NotifyAll | Op::Wait => {
            Answer::Result(model.check_held(actor))
        }
        // COND-1, COND-2, COND-3: nobody notifies, so a held wait times out and takes the
        // lock back exactly as it was; COND-4: refused, nothing changes.
        Op::WaitTimeout(_) | Op::WaitFor { value: false, .. } => {
            Answer::Waited(model.check_held(actor).map(|()| false), model.view(actor))
        }
        // The predicate's last value, without waiting: no lock needed (as in Python).
        Op::WaitFor { value: true, .. } => Answer::Waited(Ok(true), model.view(actor)),
        Op::View => Answer::View(model.view(actor)),
    };
    (next, answer)
}

/// Operations that cannot block `actor` in state `model`.
fn ops(model: &Model, actor: usize) -> BoxedStrategy<Op> {
    let held = model.held_by(actor);
    let mut arms: Vec<(u32, BoxedStrategy<Op>)> = vec![
        (2, Just(Op::TryAcquire).boxed()),
        (4, Just(Op::Release).boxed()),
        (2, Just(Op::Notify).boxed()),
        (2, (0usize..=3).prop_map(Op::NotifyN).boxed()),
        (1, Just(Op::NotifyAll).boxed()),
        (
            1,
            proptest::option::of(any_timeout())
                .prop_map(|timeout| Op::WaitFor {
                    value: true,
                    timeout,
                })
                .boxed(),
        ),
        (1, Just(Op::View).boxed()),
    ];
    if model.can_take(actor) {
        arms.push((4, Just(Op::Acquire).boxed()));
    }
    if held {
        arms.push((3, tiny_timeout().prop_map(Op::WaitTimeout).boxed()));
        arms.push((
            2,
            tiny_timeout()
                .prop_map(|timeout| Op::WaitFor {
                    value: false,
                    timeout: Some(timeout),
                })
                .boxed(),
        ));
    } else {
        arms.push((1, any_timeout().prop_map(Op::WaitTimeout).boxed()));
        arms.push((1, Just(Op::Wait).boxed()));
        arms.push((
            1,
            prop_oneof![Just(None), Just(Some(LONG)), Just(Some(Duration::MAX))]
                .prop_map(|timeout| Op::WaitFor {
                    value: false,
                    timeout,
                })
                .boxed(),
        ));
    }
    Union::new_weighted(arms).boxed()
}

struct ConditionModel;

impl ReferenceStateMachine for ConditionModel {
    type State = Model;
    type Transition = Step;

    fn init_state() -> BoxedStrategy<Model> {
        (
            prop_oneof![Just(Kind::Lock), Just(Kind::RLock)],
            1usize..=2,
            2usize..=3,
        )
            .prop_map(|(kind, conds, actors)| Model {
                kind,
                conds,
                actors,
                owner: None,
                count: 0,
            })
            .boxed()
    }

    fn transitions(state: &Model) -> BoxedStrategy<Step> {
        let state = state.clone();
        (0..state.actors, 0..state.conds)
            .prop_flat_map(move |(actor, cond)| {
                ops(&state, actor).prop_map(move |op| Step { actor, cond, op })
            })
            .boxed()
    }

    fn apply(state: Model, step: &Step) -> Model {
        model_step(&state, step.actor, &step.op).0
    }

    /// Checked again while shrinking: never hand an actor an operation that would block.
    fn preconditions(state: &Model, step: &Step) -> bool {
        step.actor < state.actors && step.cond < state.conds && !step.op.blocks(state, step.actor)
    }
}

/// A condition, whatever its lock: what the actors run.
trait Cond: Send + Sync {
    fn acquire(&self);
    fn try_acquire(&self) -> bool;
    fn release(&self) -> Result<(), ReleaseError>;
    fn wait(&self) -> Result<(), ReleaseError>;
    fn wait_timeout(&self, timeout: Duration) -> Result<bool, ReleaseError>;
    /// `wait_for` with a predicate that always answers `value`.
    fn wait_for(&self, value: bool, timeout: Option<Duration>) -> Result<bool, ReleaseError>;
    fn notify(&self) -> Result<(), ReleaseError>;
    fn notify_n(&self, n: usize) -> Result<(), ReleaseError>;
    fn notify_all(&self) -> Result<(), ReleaseError>;
    fn queued_waiters(&self) -> usize;
    fn view(&self) -> View;
}

impl<L: ConditionLock + ViewLock + Send + Sync> Cond for Condition<L> {
    fn acquire(&self) {
        Condition::acquire(self)
    }
    fn try_acquire(&self) -> bool {
        Condition::try_acquire(self)
    }
    fn release(&self) -> Result<(), ReleaseError> {
        Condition::release(self)
    }
    fn wait(&self) -> Result<(), ReleaseError> {
        Condition::wait(self)
    }
    fn wait_timeout(&self, timeout: Duration) -> Result<bool, ReleaseError> {
        Condition::wait_timeout(self, timeout)
    }
    fn wait_for(&self, value: bool, timeout: Option<Duration>) -> Result<bool, ReleaseError> {
        Condition::wait_for(self, || value, timeout)
    }
    fn notify(&self) -> Result<(), ReleaseError> {
        Condition::notify(self)
    }
    fn notify_n(&self, n: usize) -> Result<(), ReleaseError> {
        Condition::notify_n(self, n)
    }
    fn notify_all(&self) -> Result<(), ReleaseError> {
        Condition::notify_all(self)
    }
    fn queued_waiters(&self) -> usize {
        Condition::queued_waiters(self)
    }
    fn view(&self) -> View {
        self.lock().view()
    }
}

/// The conditions of a model: one over a lock of its own (`Condition::new()`,
/// `Condition::with_lock(Lock::new())`), or two sharing one lock through an `Arc`.
fn conditions(kind: Kind, conds: usize) -> Vec<Box<dyn Cond>> {
    fn shared<L: ConditionLock + ViewLock + Send + Sync + 'static>(
        lock: L,
        conds: usize,
    ) -> Vec<Box<dyn Cond>> {
        let lock = Arc::new(lock);
        (0..conds)
            .map(|_| Box::new(Condition::with_lock(Arc::clone(&lock))) as Box<dyn Cond>)
            .collect()
    }
    match (kind, conds) {
        (Kind::RLock, 1) => vec![Box::new(Condition::new())],
        (Kind::Lock, 1) => vec![Box::new(Condition::with_lock(Lock::new()))],
        (Kind::RLock, _) => shared(RLock::new(), conds),
        (Kind::Lock, _) => shared(Lock::new(), conds),
    }
}

/// The real conditions on their actors, and the model state before the next step.
struct ConditionUnderTest {
    actors: Actors<Vec<Box<dyn Cond>>>,
    before: Model,
}

impl StateMachineTest for ConditionUnderTest {
    type SystemUnderTest = Self;
    type Reference = ConditionModel;

    fn init_test(model: &Model) -> Self {
        ConditionUnderTest {
            actors: Actors::spawn(conditions(model.kind, model.conds), model.actors),
            before: model.clone(),
        }
    }

    fn apply(mut sut: Self, after: &Model, step: Step) -> Self {
        let (predicted, expected) = model_step(&sut.before, step.actor, &step.op);
        assert_eq!(&predicted, after, "the model is not deterministic");
        let (op, cond) = (step.op.clone(), step.cond);
        let answer = sut
            .actors
            .run(step.actor, move |conds| op.run(&*conds[cond]));
        assert_eq!(
            answer, expected,
            "actor {} ran {:?} on condition {} from {:?}",
            step.actor, step.op, step.cond, sut.before
        );
        sut.before = after.clone();
        sut
    }

    fn check_invariants(sut: &Self, model: &Model) {
        // COND-2, COND-4, and the shared lock: every actor sees the model's lock through
        // every condition.
        for actor in 0..sut.actors.count() {
            for cond in 0..model.conds {
                let seen = sut.actors.run(actor, move |conds| conds[cond].view());
                assert_eq!(
                    seen,
                    model.view(actor),
                    "the lock seen by actor {actor} through condition {cond}"
                );
            }
        }
        // Every wait has returned: nobody may be left queued.
        for (index, cond) in sut.actors.target().iter().enumerate() {
            assert_eq!(cond.queued_waiters(), 0, "queued on condition {index}");
        }
    }
}

prop_state_machine! {
    #![proptest_config(ProptestConfig {
        cases: 256,
        max_shrink_time: 60_000,
        ..ProptestConfig::default()
    })]

    /// Checks COND-2, COND-3, COND-4 and lock sharing against a reference model: 2-3 actor
    /// threads run generated operations one at a time on one condition (`Condition::new()`
    /// or over a `Lock`) or on either of two conditions sharing an `Arc<Lock>` /
    /// `Arc<RLock>`: acquire, try_acquire, release (errors included), notify / notify_n(0-3)
    /// / notify_all held or not (`Err(NotOwner)` if another actor owns the RLock,
    /// `Err(NotLocked)` if nobody holds the lock; a Lock held by anyone lets anyone notify,
    /// as in Python), wait_timeout(0-3 ms) held with nobody to notify (`Ok(false)`, the lock
    /// held again, the RLock's count as before; COND-1: no spurious `Ok(true)`), wait,
    /// wait_timeout(any) and wait_for(false) without the lock (`Err`, nothing changes),
    /// wait_for returning the predicate's last value. After every step the answer, the lock
    /// as every actor sees it through every condition, and `queued_waiters() == 0` match the
    /// model.
    #[test]
    fn condition_matches_model_across_actors(sequential 1..48 => ConditionUnderTest);
}

// ---------------------------------------------------------------------------------------
// Real threads: shared bookkeeping.

/// Violations seen by the threads of a scenario (threads never panic while others may wait
/// on them).
#[derive(Default)]
struct Violations(Mutex<Vec<String>>);

impl Violations {
    fn push(&self, what: String) {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(what);
    }

    fn check(&self) -> Result<(), TestCaseError> {
        let seen = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        prop_assert!(
            seen.is_empty(),
            "{} violation(s), first ones: {:?}",
            seen.len(),
            &seen[..seen.len().min(5)]
        );
        Ok(())
    }

    /// Records `what` unless `answer` is what was `expected`.
    fn expect<T: PartialEq + std::fmt::Debug>(&self, what: &str, answer: T, expected: T) {
        if answer != expected {
            self.push(format!("{what} answered {answer:?}, expected {expected:?}"));
        }
    }
}

/// The lock kinds the real-thread tests run over, with `Default` to build one.
trait RealLock: ConditionLock + PropLock {}
impl RealLock for Lock {}
impl RealLock for RLock {}

// ---------------------------------------------------------------------------------------
// Real threads: producers and consumers.

/// How a producer announces a batch of `b` units on `not_empty`.
#[derive(Clone, Copy, Debug)]
enum Announce {
    /// `notify()`, b times.
    One,
    /// `notify_n(b)`.
    N,
    /// `notify_all()`.
    All,
}

/// How a consumer waits for a unit on `not_empty`.
#[derive(Clone, Copy, Debug)]
enum Take {
    /// `wait_for(|| !empty, None)`.
    WaitFor,
    /// `wait_for(|| !empty, Some(an hour))`.
    WaitForLong,
    /// `while empty { wait() }`.
    Loop,
}

#[derive(Clone, Debug)]
enum Role {
    /// Puts its batches of units, numbered `id * 1000 + i`.
    Producer {
        id: u32,
        batches: Vec<usize>,
        announce: Announce,
    },
    /// Takes `quota` units, one at a time.
    Consumer { quota: usize, take: Take },
}

/// queue.Queue's shape: two conditions sharing one lock, over a buffer only touched with
/// the lock held. `not_full` is used only with a `capacity`.
struct Buffer<L> {
    lock: Arc<L>,
    not_empty: Condition<Arc<L>>,
    not_full: Condition<Arc<L>>,
    capacity: Option<usize>,
    /// Touched only with the condition's lock held, so `try_lock` always succeeds.
    items: Mutex<VecDeque<u32>>,
    violations: Violations,
}

impl<L: RealLock> Buffer<L> {
    fn new(capacity: Option<usize>) -> Self {
        let lock = Arc::new(L::default());
        Buffer {
            not_empty: Condition::with_lock(Arc::clone(&lock)),
            not_full: Condition::with_lock(Arc::clone(&lock)),
            lock,
            capacity,
            items: Mutex::new(VecDeque::new()),
            violations: Violations::default(),
        }
    }

    /// The buffer; a violation if another thread is using it (the lock did not exclude).
    fn items(&self) -> MutexGuard<'_, VecDeque<u32>> {
        match self.items.try_lock() {
            Ok(items) => items,
            Err(TryLockError::Poisoned(poisoned)) => poisoned.into_inner(),
            Err(TryLockError::WouldBlock) => {
                self.violations
                    .push("two threads used the buffer at once".to_owned());
                self.items.lock().unwrap_or_else(PoisonError::into_inner)
            }
        }
    }

    fn produce(&self, id: u32, batches: &[usize], announce: Announce) {
        let mut next = 0;
        for &batch in batches {
            self.not_full.acquire();
            if let Some(capacity) = self.capacity {
                let room = self
                    .not_full
                    .wait_for(|| self.items().len() + batch <= capacity, None);
                self.violations
                    .expect("a producer's wait_for", room, Ok(true));
            }
            {
                let mut items = self.items();
                for _ in 0..batch {
                    items.push_back(id * 1000 + next);
                    next += 1;
                }
            }
            let announced = match announce {
                Announce::One => (0..batch).try_for_each(|_| self.not_empty.notify()),
                Announce::N => self.not_empty.notify_n(batch),
                Announce::All => self.not_empty.notify_all(),
            };
            self.violations
                .expect("a producer's notify", announced, Ok(()));
            self.violations
                .expect("a producer's release", self.not_full.release(), Ok(()));
        }
    }

    fn consume(&self, quota: usize, take: Take) -> Vec<u32> {
        let mut taken = Vec::new();
        for _ in 0..quota {
            self.not_empty.acquire();
            let waited = match take {
                Take::WaitFor => self.not_empty.wait_for(|| !self.items().is_empty(), None),
                Take::WaitForLong => self
                    .not_empty
                    .wait_for(|| !self.items().is_empty(), Some(LONG)),
                Take::Loop => loop {
                    if !self.items().is_empty() {
                        break Ok(true);
                    }
                    if let Err(refused) = self.not_empty.wait() {
                        break Err(refused);
                    }
                },
            };
            self.violations
                .expect(&format!("a consumer's {take:?}"), waited, Ok(true));
            match self.items().pop_front() {
                Some(unit) => taken.push(unit),
                None => self
                    .violations
                    .push(format!("a consumer's {take:?} returned on an empty buffer")),
            }
            if self.capacity.is_some() {
                // Producers wait for room for batches of different sizes: wake them all.
                self.violations.expect(
                    "a consumer's notify_all",
                    self.not_full.notify_all(),
                    Ok(()),
                );
            }
            self.violations
                .expect("a consumer's release", self.not_empty.release(), Ok(()));
        }
        taken
    }
}

fn announce() -> impl Strategy<Value = Announce> + Clone {
    prop_oneof![Just(Announce::One), Just(Announce::N), Just(Announce::All)]
}

fn take() -> impl Strategy<Value = Take> + Clone {
    prop_oneof![
        Just(Take::WaitFor),
        Just(Take::WaitForLong),
        Just(Take::Loop)
    ]
}

/// Runs producers and consumers (consumer quotas split the units evenly) over a fresh
/// buffer; checks every unit is consumed exactly once and nothing is left behind.
fn producers_consumers<L: RealLock>(
    producers: Vec<(Vec<usize>, Announce)>,
    consumers: Vec<Take>,
    capacity: Option<usize>,
) -> Result<(), TestCaseError> {
    let mut produced: Vec<u32> = Vec::new();
    let mut roles = Vec::new();
    for (id, (batches, announce)) in (0u32..).zip(producers) {
        let total = batches.iter().sum::<usize>() as u32;
        produced.extend((0..total).map(|i| id * 1000 + i));
        roles.push(Role::Producer {
            id,
            batches,
            announce,
        });
    }
    let (share, extra) = (
        produced.len() / consumers.len(),
        produced.len() % consumers.len(),
    );
    for (index, take) in consumers.into_iter().enumerate() {
        let quota = share + usize::from(index < extra);
        roles.push(Role::Consumer { quota, take });
    }
    let (buffer, results) = together(
        "producers_consumers",
        Buffer::<L>::new(capacity),
        roles,
        |buffer, role| match role {
            Role::Producer {
                id,
                batches,
                announce,
            } => {
                buffer.produce(*id, batches, *announce);
                Vec::new()
            }
            Role::Consumer { quota, take } => buffer.consume(*quota, *take),
        },
    );
    buffer.violations.check()?;
    let mut consumed: Vec<u32> = results.into_iter().flatten().collect();
    consumed.sort_unstable();
    produced.sort_unstable();
    prop_assert_eq!(consumed, produced, "units consumed vs produced");
    prop_assert!(buffer.items().is_empty(), "units left in the buffer");
    prop_assert_eq!(buffer.not_empty.queued_waiters(), 0, "queued on not_empty");
    prop_assert_eq!(buffer.not_full.queued_waiters(), 0, "queued on not_full");
    prop_assert!(!buffer.lock.locked(), "the lock is still held");
    prop_assert_eq!(buffer.lock.queued_waiters(), 0, "queued on the lock");
    Ok(())
}

// ---------------------------------------------------------------------------------------
// Real threads: an RLock held k times across waits.

/// One wait of a waiter in the recursion scenario.
#[derive(Clone, Copy, Debug)]
enum Hold {
    /// `wait()`.
    Wait,
    /// `wait_timeout(t)`, t an hour or `Duration::MAX`: must answer `Ok(true)`.
    Long(Duration),
    /// `wait_timeout(0-2 ms)`: either answer.
    Short(Duration),
    /// `wait_for(|| a notify happened since, None)`: must answer `Ok(true)`.
    WaitFor,
}

fn hold() -> impl Strategy<Value = Hold> + Clone {
    prop_oneof![
        Just(Hold::Wait),
        Just(Hold::Long(LONG)),
        Just(Hold::Long(Duration::MAX)),
        (0u64..=2000).prop_map(|micros| Hold::Short(Duration::from_micros(micros))),
        Just(Hold::WaitFor),
    ]
}

#[derive(Clone, Debug)]
enum HoldRole {
    /// Holds the RLock `levels` times around each of its waits.
    Waiter { levels: usize, waits: Vec<Hold> },
    /// Until every waiter is done: takes the lock, and notifies (all) if anyone waits.
    Notifier { all: bool },
}

struct Recursion {
    cond: Condition,
    /// Notifications so far: written by the notifier with the lock held.
    notified: AtomicUsize,
    waiters: usize,
    /// Waiters that have finished.
    done: AtomicUsize,
    section: Section,
}

impl Recursion {
    /// Enters and leaves the critical section (the lock must be held); counts it.
    fn inside(&self, entries: &mut usize) {
        self.section.enter();
        self.section.bump();
        self.section.exit();
        *entries += 1;
    }

    /// Records a violation unless the calling thread holds the RLock exactly `levels` times.
    fn expect_levels(&self, what: &str, levels: usize) {
        let rlock = self.cond.lock();
        let seen = (rlock.is_owned(), rlock.recursion_count());
        if seen != (levels > 0, levels) {
            self.section.violation(format!(
                "{what}: (is_owned, recursion_count) = {seen:?}, expected {levels} levels"
            ));
        }
    }

    fn waiter(&self, levels: usize, waits: &[Hold]) -> usize {
        let mut entries = 0;
        for &wait in waits {
            for _ in 0..levels {
                self.cond.acquire();
            }
            self.expect_levels("before the wait", levels);
            self.inside(&mut entries);
            let since = self.notified.load(Ordering::SeqCst);
            let woken = match wait {
                Hold::Wait => self.cond.wait().map(|()| true),
                Hold::Long(timeout) => self.cond.wait_timeout(timeout),
                Hold::Short(timeout) => self.cond.wait_timeout(timeout).map(|_| true),
                Hold::WaitFor => self
                    .cond
                    .wait_for(|| self.notified.load(Ordering::SeqCst) > since, None),
            };
            if woken != Ok(true) {
                self.section
                    .violation(format!("{wait:?} answered {woken:?}"));
            }
            // COND-2: exactly `levels` again, after every wake-up or timeout.
            self.expect_levels(&format!("after {wait:?}"), levels);
            self.inside(&mut entries);
            for _ in 0..levels {
                if let Err(refused) = self.cond.release() {
                    self.section
                        .violation(format!("a waiter's release: {refused:?}"));
                }
            }
            self.expect_levels("after the releases", 0);
        }
        self.done.fetch_add(1, Ordering::SeqCst);
        entries
    }

    fn notifier(&self, all: bool) -> usize {
        let mut entries = 0;
        while self.done.load(Ordering::SeqCst) < self.waiters {
            self.cond.acquire();
            // COND-2: a waiter gave up all its levels: the notifier holds the lock once.
            self.expect_levels("the notifier", 1);
            self.inside(&mut entries);
            if self.cond.queued_waiters() > 0 {
                self.notified.fetch_add(1, Ordering::SeqCst);
                let answer = if all {
                    self.cond.notify_all()
                } else {
                    self.cond.notify()
                };
                if answer.is_err() {
                    self.section
                        .violation(format!("the notifier's notify: {answer:?}"));
                }
            }
            if let Err(refused) = self.cond.release() {
                self.section
                    .violation(format!("the notifier's release: {refused:?}"));
            }
            thread::yield_now();
        }
        entries
    }
}

// ---------------------------------------------------------------------------------------
// Real threads: which waiters notify_n wakes.

/// Polls `done` (yielding) until it holds or [`POLL_LIMIT`] passes; returns whether it holds.
fn poll(done: impl Fn() -> bool) -> bool {
    let deadline = Instant::now() + POLL_LIMIT;
    while !done() {
        if Instant::now() >= deadline {
            return false;
        }
        thread::yield_now();
    }
    true
}

/// `waiters` threads queue one after another on a fresh condition; with the lock held,
/// `notify_n(n)`; then a late thread waits. Returns the violations: `notify_n` must take
/// exactly the `min(n, waiters)` oldest off the queue at once, those (and only those) wake,
/// and the late one stays queued until the final `notify_all`, after which everyone wakes,
/// once.
fn notify_n_order<L: RealLock>(waiters: usize, n: usize) -> Vec<String> {
    within_limit("notify_n_order", move || {
        const LATE: usize = usize::MAX;
        let cond = Condition::with_lock(L::default());
        let woken = Mutex::new(Vec::new());
        let mut violations = Vec::new();
        let woken_now = || woken.lock().unwrap_or_else(PoisonError::into_inner).clone();
        thread::scope(|scope| {
            let wait = |index: usize| {
                let (cond, woken) = (&cond, &woken);
                move || {
                    cond.acquire();
                    let answer = cond.wait();
                    woken
                        .lock()
                        .unwrap_or_else(PoisonError::into_inner)
                        .push(index);
                    let released = cond.release();
                    (answer, released)
                }
            };
            let mut threads = Vec::new();
            for index in 0..waiters {
                threads.push(scope.spawn(wait(index)));
                if !poll(|| cond.queued_waiters() == index + 1) {
                    violations.push(format!(
                        "waiter {index} did not queue: {} queued",
                        cond.queued_waiters()
                    ));
                }
            }
            let expected = n.min(waiters);
            cond.acquire();
            if let Err(refused) = cond.notify_n(n) {
                violations.push(format!("notify_n({n}) refused: {refused:?}"));
            }
            let left = cond.queued_waiters();
            if left != waiters - expected {
                violations.push(format!(
                    "notify_n({n}) of {waiters} left {left} queued, expected {}",
                    waiters - expected
                ));
            }
            if let Err(refused) = cond.release() {
                violations.push(format!("release: {refused:?}"));
            }
            // A thread that starts waiting after the call.
            threads.push(scope.spawn(wait(LATE)));
            let settled = poll(|| {
                woken_now().len() >= expected && cond.queued_waiters() == waiters - expected + 1
            });
            let mut first = woken_now();
            first.sort_unstable();
            if !settled || first != (0..expected).collect::<Vec<_>>() {
                violations.push(format!(
                    "after notify_n({n}) of {waiters} and a late waiter: woken {first:?}, \
                     {} queued; expected woken 0..{expected}, {} queued",
                    cond.queued_waiters(),
                    waiters - expected + 1
                ));
            }
            // Let everyone go.
            cond.acquire();
            if let Err(refused) = cond.notify_all() {
                violations.push(format!("notify_all refused: {refused:?}"));
            }
            let _ = cond.release();
            for thread in threads {
                let (answer, released) = thread.join().expect("a waiter panicked");
                if answer.is_err() || released.is_err() {
                    violations.push(format!(
                        "a waiter's wait / release: {answer:?} / {released:?}"
                    ));
                }
            }
        });
        let mut all = woken_now();
        all.sort_unstable();
        let mut expected: Vec<usize> = (0..waiters).collect();
        expected.push(LATE);
        if all != expected {
            violations.push(format!("woken in the end: {all:?}, expected each once"));
        }
        if cond.queued_waiters() != 0 {
            violations.push("threads still queued at the end".to_owned());
        }
        violations
    })
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 256,
        max_shrink_time: 60_000,
        ..ProptestConfig::default()
    })]

    /// Checks COND-1 (no consumer sleeps through a notify, none returns without a unit to
    /// take) and lock sharing on real threads, queue.Queue's way: 1-3 producers put 1-6
    /// batches of 1-3 units each into a buffer guarded by the lock of two conditions sharing
    /// it (`Arc<Lock>` or `Arc<RLock>`), announcing each batch on `not_empty` by b
    /// `notify()`s, `notify_n(b)` or `notify_all()`; 1-4 consumers take their share one unit
    /// at a time, by `wait_for(non-empty)` (no timeout or an hour: `Ok(true)`, the
    /// predicate's last value) or a `wait()` loop. With a capacity (3-5), producers also
    /// `wait_for` room on `not_full`, which consumers `notify_all`. Every produced unit is
    /// consumed exactly once, the buffer is never used by two threads at once, and everyone
    /// finishes: a lost notification leaves a thread asleep and the stuck limit fails the
    /// case.
    #[test]
    fn every_unit_is_consumed_exactly_once(
        producers in vec((vec(1usize..=3, 1..=6), announce()), 1..=3),
        consumers in vec(take(), 1..=4),
        capacity in proptest::option::of(3usize..=5),
        rlock in any::<bool>(),
    ) {
        if rlock {
            producers_consumers::<RLock>(producers, consumers, capacity)?;
        } else {
            producers_consumers::<Lock>(producers, consumers, capacity)?;
        }
    }

    /// Checks COND-2 (and COND-1, COND-3) on real threads: 1-4 waiters on `Condition::new()` each
    /// hold the RLock 1-3 times around 1-4 waits (wait; wait_timeout(an hour or `Duration::MAX`),
    /// which must answer `Ok(true)`; wait_timeout(0-2 ms); wait_for(a notify happened), which must
    /// answer `Ok(true)`), while a notifier takes the lock and notifies (or notifies all) whenever
    /// someone waits. After every wake-up or timeout the waiter owns the RLock exactly k times; the
    /// notifier always gets it at count 1 (a wait gave up every level, else the notifier blocks and
    /// the stuck limit fails the case); the critical section is never shared and loses no update;
    /// the lock ends free with nobody queued.
    #[test]
    fn rlock_levels_survive_every_wait(
        waiters in vec((1usize..=3, vec(hold(), 1..=4)), 1..=4),
        all in any::<bool>(),
    ) {
        let count = waiters.len();
        let roles: Vec<HoldRole> = waiters
            .into_iter()
            .map(|(levels, waits)| HoldRole::Waiter { levels, waits })
            .chain([HoldRole::Notifier { all }])
            .collect();
        let shared = Recursion {
            cond: Condition::new(),
            notified: AtomicUsize::new(0),
            waiters: count,
            done: AtomicUsize::new(0),
            section: Section::default(),
        };
        let (shared, entries) = together("rlock_levels", shared, roles, |shared, role| {
            match role {
                HoldRole::Waiter { levels, waits } => shared.waiter(*levels, waits),
                HoldRole::Notifier { all } => shared.notifier(*all),
            }
        });
        let acquired = entries.iter().sum();
        shared.section.report(shared.cond.lock(), acquired).check()?;
        prop_assert_eq!(shared.cond.queued_waiters(), 0, "queued on the condition");
    }

    /// Checks COND-5 on real threads: 1-5 threads queue one after another on a condition
    /// (over a Lock or an RLock); holding the lock, the test calls `notify_n(0-7)`, which
    /// must take exactly the `min(n, waiters)` oldest waiters off the queue at once; then
    /// a late thread starts waiting. Exactly the oldest `min(n, waiters)` wake; the others
    /// and the late one stay queued (no spurious return, COND-1; no notification saved for
    /// later) until a final `notify_all` wakes each of them once.
    #[test]
    fn notify_n_wakes_the_oldest_n_only(
        waiters in 1usize..=5,
        n in 0usize..=7,
        rlock in any::<bool>(),
    ) {
        let violations = if rlock {
            notify_n_order::<RLock>(waiters, n)
        } else {
            notify_n_order::<Lock>(waiters, n)
        };
        prop_assert!(violations.is_empty(), "{:?}", violations);
    }
}
