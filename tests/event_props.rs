#![cfg(not(loom))]
//! Property tests for [`Event`]: a reference model driven over several actor threads, and
//! real threads waiting while a setter sets and clears.
//!
//! Invariant IDs: EVENT-1 once set, every current waiter and every later wait returns true
//! until `clear`; EVENT-2 a waiter woken by `set` returns true even if `clear` ran before it
//! woke; EVENT-3 `wait_timeout` returns false only if it timed out with the flag clear;
//! EVENT-4 `clear` makes later waits block, `is_set` reflects `set`/`clear`.

// This file uses the actors and the real-thread runner, not the lock-only helpers.
#[allow(dead_code)]
mod props_support;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, PoisonError};
use std::thread;
use std::time::Duration;

use locksmith::Event;
use proptest::collection::vec;
use proptest::prelude::*;
use proptest::test_runner::TestCaseError;
use proptest_state_machine::{ReferenceStateMachine, StateMachineTest, prop_state_machine};

use props_support::{Actors, TINY_TIMEOUT_MAX, any_timeout, tiny_timeout, together};

// ---------------------------------------------------------------------------------------
// The reference model.

/// What the model knows: the actors and the flag.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Model {
    actors: usize,
    set: bool,
}

/// One operation, run by one actor.
#[derive(Clone, Debug)]
enum Op {
    Set,
    Clear,
    IsSet,
    Wait,
    WaitTimeout(Duration),
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
    IsSet(bool),
    Waited(bool),
}

impl Op {
    /// Whether this would block (or might: a timeout longer than a tiny one) on a clear flag.
    fn blocks_when_clear(&self) -> bool {
        match self {
            Op::Wait => true,
            Op::WaitTimeout(timeout) => *timeout > TINY_TIMEOUT_MAX,
            Op::Set | Op::Clear | Op::IsSet => false,
        }
    }

    /// Runs the operation on the real event (on an actor thread).
    fn run(&self, event: &Event) -> Answer {
        match *self {
            Op::Set => {
                event.set();
                Answer::Done
            }
            Op::Clear => {
                event.clear();
                Answer::Done
            }
            Op::IsSet => Answer::IsSet(event.is_set()),
            Op::Wait => {
                event.wait();
                Answer::Done
            }
            Op::WaitTimeout(timeout) => Answer::Waited(event.wait_timeout(timeout)),
        }
    }
}

/// The model's transition: the next state and the answer the operation must give.
fn model_step(model: &Model, op: &Op) -> (Model, Answer) {
    let mut next = model.clone();
    let answer = match *op {
        // EVENT-4: set and clear are idempotent; is_set reflects the last of them.
        Op::Set => {
            next.set = true;
            Answer::Done
        }
        Op::Clear => {
            next.set = false;
            Answer::Done
        }
        Op::IsSet => Answer::IsSet(model.set),
        // EVENT-1: a set flag lets every wait through at once.
        Op::Wait => {
            assert!(model.set, "the model never blocks an actor");
            Answer::Done
        }
        // EVENT-1, EVENT-3, EVENT-4: true iff the flag is set (a clear one times out).
        Op::WaitTimeout(_) => Answer::Waited(model.set),
    };
    (next, answer)
}

/// Operations that cannot block an actor, given whether the flag is set.
fn ops(set: bool) -> BoxedStrategy<Op> {
    if set {
        prop_oneof![
            2 => Just(Op::Set),
            3 => Just(Op::Clear),
            1 => Just(Op::IsSet),
            2 => Just(Op::Wait),
            2 => any_timeout().prop_map(Op::WaitTimeout),
        ]
        .boxed()
    } else {
        prop_oneof![
            3 => Just(Op::Set),
            2 => Just(Op::Clear),
            1 => Just(Op::IsSet),
            3 => tiny_timeout().prop_map(Op::WaitTimeout),
        ]
        .boxed()
    }
}

struct EventModel;

impl ReferenceStateMachine for EventModel {
    type State = Model;
    type Transition = Step;

    fn init_state() -> BoxedStrategy<Model> {
        (2usize..=4)
            .prop_map(|actors| Model { actors, set: false })
            .boxed()
    }

    fn transitions(state: &Model) -> BoxedStrategy<Step> {
        (0..state.actors, ops(state.set))
            .prop_map(|(actor, op)| Step { actor, op })
            .boxed()
    }

    fn apply(state: Model, step: &Step) -> Model {
        model_step(&state, &step.op).0
    }

    /// Checked again while shrinking: never hand an actor an operation that would block.
    fn preconditions(state: &Model, step: &Step) -> bool {
        step.actor < state.actors && (state.set || !step.op.blocks_when_clear())
    }
}

/// The real event on its actors, and the model state before the next step.
struct EventUnderTest {
    actors: Actors<Event>,
    before: Model,
}

impl StateMachineTest for EventUnderTest {
    type SystemUnderTest = Self;
    type Reference = EventModel;

    fn init_test(model: &Model) -> Self {
        EventUnderTest {
            actors: Actors::spawn(Event::new(), model.actors),
            before: model.clone(),
        }
    }

    fn apply(mut sut: Self, after: &Model, step: Step) -> Self {
        let (predicted, expected) = model_step(&sut.before, &step.op);
        assert_eq!(&predicted, after, "the model is not deterministic");
        let op = step.op.clone();
        let answer = sut.actors.run(step.actor, move |event| op.run(event));
        assert_eq!(
            answer, expected,
            "actor {} ran {:?} from {:?}",
            step.actor, step.op, sut.before
        );
        sut.before = after.clone();
        sut
    }

    fn check_invariants(sut: &Self, model: &Model) {
        let event = sut.actors.target();
        assert_eq!(event.is_set(), model.set, "is_set() vs the model");
        // EVENT-4: every actor sees the same flag.
        for actor in 0..sut.actors.count() {
            let seen = sut.actors.run(actor, Event::is_set);
            assert_eq!(seen, model.set, "is_set() seen by actor {actor}");
        }
        // EVENT-3: every wait has returned, so nobody may be left queued.
        assert_eq!(event.queued_waiters(), 0, "queued_waiters() after a step");
    }
}

prop_state_machine! {
    #![proptest_config(ProptestConfig {
        cases: 256,
        max_shrink_time: 60_000,
        ..ProptestConfig::default()
    })]

    /// Checks EVENT-1, EVENT-3 and EVENT-4 against a reference model: 2-4 actor threads each
    /// run generated operations (set, clear, is_set, wait when set, wait_timeout: 0-3 ms on
    /// a clear flag, which must answer false, anything up to `Duration::MAX` on a set one,
    /// which must answer true at once) one at a time; after every step the answer,
    /// `is_set()` as the driver and every actor see it, and `queued_waiters() == 0` match
    /// the model.
    #[test]
    fn event_matches_model_across_actors(sequential 1..48 => EventUnderTest);
}

// ---------------------------------------------------------------------------------------
// Real threads.

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
}

/// A wait that only `set` can end: it cannot time out while the scenario runs.
#[derive(Clone, Copy, Debug)]
enum LongWait {
    /// `wait()`.
    Wait,
    /// `wait_timeout(t)` with t of an hour or `Duration::MAX`: must answer true.
    WaitTimeout(Duration),
}

impl LongWait {
    /// Waits; returns what the wait answered (`wait()` answers true by returning).
    fn wait(self, event: &Event) -> bool {
        match self {
            LongWait::Wait => {
                event.wait();
                true
            }
            LongWait::WaitTimeout(timeout) => event.wait_timeout(timeout),
        }
    }
}

fn long_wait() -> impl Strategy<Value = LongWait> + Clone {
    prop_oneof![
        Just(LongWait::Wait),
        Just(LongWait::WaitTimeout(Duration::from_secs(3600))),
        Just(LongWait::WaitTimeout(Duration::MAX)),
    ]
}

/// A thread of the one-set scenario.
#[derive(Clone, Debug)]
enum SetRole {
    Waiter(LongWait),
    /// Waits until at least `parked` waiters are queued, sets, and clears right after if
    /// `clear`.
    Setter {
        parked: usize,
        clear: bool,
    },
}

/// Waiters wait, a setter sets once they are queued (and maybe clears at once). Each waiter
/// answers what its wait returned.
fn one_set(waits: Vec<LongWait>, parked: usize, clear: bool) -> (Event, Vec<Option<bool>>) {
    let roles: Vec<SetRole> = waits
        .into_iter()
        .map(SetRole::Waiter)
        .chain([SetRole::Setter { parked, clear }])
        .collect();
    together("one_set", Event::new(), roles, |event, role| match *role {
        SetRole::Waiter(wait) => Some(wait.wait(event)),
        SetRole::Setter { parked, clear } => {
            while event.queued_waiters() < parked {
                thread::yield_now();
            }
            event.set();
            if clear {
                event.clear();
            }
            None
        }
    })
}

/// The setter's phase counter in the rounds scenario: it moves to `4r + 1` before the r-th
/// `set()`, `4r + 2` after it, `4r + 3` before the `clear()`, `4r + 4` after it. So the flag
/// is surely clear while the phase is `0 mod 4` and surely set while it is `2 mod 4`.
struct Rounds {
    event: Event,
    phase: AtomicUsize,
    /// Waiters that have finished their probes.
    finished: AtomicUsize,
    waiters: usize,
    violations: Violations,
}

impl Rounds {
    fn step(&self) {
        self.phase.fetch_add(1, Ordering::SeqCst);
    }

    fn phase(&self) -> usize {
        self.phase.load(Ordering::SeqCst)
    }

    /// Yields until a waiter is queued (so the next set has someone to wake), every waiter
    /// has finished, or `patience` yields have passed.
    fn settle(&self, patience: u16) {
        for _ in 0..patience {
            if self.event.queued_waiters() > 0
                || self.finished.load(Ordering::SeqCst) == self.waiters
            {
                return;
            }
            thread::yield_now();
        }
    }

    /// Checks what an observation of the flag answered, given the phase before and after it.
    fn judge(&self, what: &Probe, answer: bool, before: usize, after: usize) {
        let unchanged = before == after;
        if answer && unchanged && before % 4 == 0 {
            // The flag was clear all along and no set started: EVENT-4 (and EVENT-3).
            self.violations.push(format!(
                "{what:?} answered true though the flag was clear throughout (phase {before})"
            ));
        }
        if !answer && unchanged && before % 4 == 2 {
            // The flag was set all along: EVENT-1.
            self.violations.push(format!(
                "{what:?} answered false though the flag was set throughout (phase {before})"
            ));
        }
        if !answer && matches!(what, Probe::Long(_)) {
            // EVENT-3: a wait that cannot time out must not answer false.
            self.violations.push(format!(
                "{what:?} answered false without timing out (phases {before}..={after})"
            ));
        }
    }
}

/// One observation of the flag by a waiter in the rounds scenario.
#[derive(Clone, Copy, Debug)]
enum Probe {
    IsSet,
    /// `wait_timeout(t)`, t of 0-2 ms.
    Short(Duration),
    /// A wait only `set` ends (the setter's last set is never cleared).
    Long(LongWait),
}

fn probe() -> impl Strategy<Value = Probe> + Clone {
    prop_oneof![
        1 => Just(Probe::IsSet),
        3 => (0u64..=2000).prop_map(|micros| Probe::Short(Duration::from_micros(micros))),
        2 => long_wait().prop_map(Probe::Long),
    ]
}

/// A thread of the rounds scenario.
#[derive(Clone, Debug)]
enum RoundRole {
    Waiter(Vec<Probe>),
    /// Rounds of set and clear; then a last set.
    Setter(Vec<Round>),
}

/// One round of the setter: wait up to `settle` yields for a queued waiter, set, yield
/// `set_for` times, clear, yield `clear_for` times.
#[derive(Clone, Copy, Debug)]
struct Round {
    settle: u16,
    set_for: u8,
    clear_for: u8,
}

fn round() -> impl Strategy<Value = Round> + Clone {
    (0u16..2000, 0u8..8, 0u8..8).prop_map(|(settle, set_for, clear_for)| Round {
        settle,
        set_for,
        clear_for,
    })
}

/// Waiters probe the flag while a setter runs rounds of set/clear and finally sets for good;
/// every answer is judged against the setter's phase before and after it.
fn rounds(roles: Vec<RoundRole>) -> Rounds {
    let waiters = roles
        .iter()
        .filter(|role| matches!(role, RoundRole::Waiter(_)))
        .count();
    let shared = Rounds {
        event: Event::new(),
        phase: AtomicUsize::new(0),
        finished: AtomicUsize::new(0),
        waiters,
        violations: Violations::default(),
    };
    let (shared, _) = together("rounds", shared, roles, |shared, role| match role {
        RoundRole::Setter(rounds) => {
            let pause = |yields: u8| {
                for _ in 0..yields {
                    thread::yield_now();
                }
            };
            for round in rounds {
                shared.settle(round.settle);
                shared.step();
                shared.event.set();
                shared.step();
                pause(round.set_for);
                shared.step();
                shared.event.clear();
                shared.step();
                pause(round.clear_for);
            }
            shared.step();
            shared.event.set();
            shared.step();
        }
        RoundRole::Waiter(probes) => {
            for probe in probes {
                let before = shared.phase();
                let answer = match *probe {
                    Probe::IsSet => shared.event.is_set(),
                    Probe::Short(timeout) => shared.event.wait_timeout(timeout),
                    Probe::Long(wait) => wait.wait(&shared.event),
                };
                let after = shared.phase();
                shared.judge(probe, answer, before, after);
            }
            shared.finished.fetch_add(1, Ordering::SeqCst);
        }
    });
    shared
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 256,
        max_shrink_time: 60_000,
        ..ProptestConfig::default()
    })]

    /// Checks EVENT-1 and EVENT-2 (no waiter sleeps through a set) on real threads: 1-5
    /// waiters call wait() or wait_timeout(an hour or `Duration::MAX`); a setter waits until
    /// some of them (all of them, when it clears) are queued, then sets, and maybe clears
    /// right after. Every waiter returns true, woken by the set even if the clear ran first;
    /// a lost wake-up leaves a waiter asleep and the stuck limit fails the case. At the end
    /// the flag is what the setter left and nobody is queued.
    #[test]
    fn set_wakes_every_waiter_even_if_cleared_at_once(
        waits in vec(long_wait(), 1..=5),
        parked in 0usize..=5,
        clear in any::<bool>(),
    ) {
        let waiters = waits.len();
        // With a clear right after the set, a waiter that queues later would never wake:
        // the setter waits for all of them to be queued.
        let parked = if clear { waiters } else { parked.min(waiters) };
        let (event, answers) = one_set(waits, parked, clear);
        for (waiter, answer) in answers.iter().enumerate().take(waiters) {
            prop_assert_eq!(*answer, Some(true), "waiter {} answered", waiter);
        }
        prop_assert_eq!(event.is_set(), !clear, "is_set() at the end");
        prop_assert_eq!(event.queued_waiters(), 0, "threads still queued at the end");
    }

    /// Checks EVENT-1, EVENT-2, EVENT-3 and EVENT-4 on real threads: a setter runs 1-8
    /// rounds of (wait a little for a queued waiter) set / pause / clear / pause and then
    /// sets for good, while 1-5 waiters each
    /// probe the flag up to 12 times by is_set(), wait_timeout(0-2 ms), wait() or
    /// wait_timeout(long). Every true answer came while a set had begun (woken by or after
    /// a set, maybe answering after a clear); no false answer came while the flag was set
    /// throughout; a long wait never answers false; every waiter finishes (the stuck limit
    /// catches a lost wake-up); the flag ends set with nobody queued.
    #[test]
    fn waits_answer_true_only_by_or_after_a_set(
        rounds_plan in vec(round(), 1..=8),
        waiters in vec(vec(probe(), 1..=12), 1..=5),
    ) {
        let roles: Vec<RoundRole> = waiters
            .into_iter()
            .map(RoundRole::Waiter)
            .chain([RoundRole::Setter(rounds_plan)])
            .collect();
        let shared = rounds(roles);
        shared.violations.check()?;
        prop_assert!(shared.event.is_set(), "the flag is not set at the end");
        prop_assert_eq!(shared.event.queued_waiters(), 0, "threads still queued at the end");
    }
}
