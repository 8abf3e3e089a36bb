#![cfg(not(loom))]
//! Property tests for [`Barrier`] on real threads: rounds that must never mix, and rounds
//! broken at random by aborts, resets and short timeouts.
//!
//! Invariant IDs (docs/barrier.md): BARRIER-1 the last arrival of a round releases all
//! parties, with indices unique in `0..parties`; BARRIER-2 the action runs exactly once per
//! round, in the last arrival, before anyone is released; BARRIER-3 the barrier is reusable
//! and no thread of the next round slips into the previous one; BARRIER-4 a timeout breaks
//! the barrier for the whole round, already broken when the timed-out party returns, and a
//! round missing a party is never released; BARRIER-5 `abort` breaks it until `reset`, and
//! `reset` makes it usable again.
//!
//! Every scenario has exactly `parties` threads, so no round can be released without every
//! one of them; that is what lets the tests name the round a thread passed.

// This file uses only the stuck-scenario limit, not the actors or the lock helpers.
#[allow(dead_code)]
mod props_support;

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Barrier as StartLine, Mutex, PoisonError};
use std::thread::{self, ThreadId};
use std::time::Duration;

use locksmith::{Barrier, BrokenBarrierError};
use proptest::collection::vec;
use proptest::prelude::*;

use props_support::within_limit;

/// A timeout that never expires in a passing run.
const LONG: Duration = Duration::from_secs(3600);

// ---------------------------------------------------------------------------------------
// Rounds never mix.

/// How a thread waits in one round.
#[derive(Clone, Copy, Debug)]
enum Wait {
    /// `wait()` (with the barrier's default timeout, if it has one).
    Plain,
    /// `wait_timeout(LONG)`.
    Long,
    /// `wait_timeout(Duration::MAX)`: forever.
    Max,
}

impl Wait {
    fn run(self, barrier: &Barrier) -> Result<usize, BrokenBarrierError> {
        match self {
            Wait::Plain => barrier.wait(),
            Wait::Long => barrier.wait_timeout(LONG),
            Wait::Max => barrier.wait_timeout(Duration::MAX),
        }
    }
}

fn wait_kind() -> impl Strategy<Value = Wait> {
    prop_oneof![Just(Wait::Plain), Just(Wait::Long), Just(Wait::Max)]
}

/// What the threads and the action record about one round (by the round the thread is in).
#[derive(Default)]
struct RoundLog {
    /// Threads that arrived (counted just before they call wait).
    arrived: AtomicUsize,
    /// Threads that passed (counted right after wait returned `Ok`).
    passed: AtomicUsize,
    /// Bit `i` set when a thread got index `i`.
    indices: AtomicUsize,
    /// How many times the action ran for this round.
    actions: AtomicUsize,
    /// The thread the action ran on.
    action_thread: Mutex<Option<ThreadId>>,
}

/// The per-round log, and every broken rule seen (threads never panic while others wait).
struct Log {
    parties: usize,
    rounds: Vec<RoundLog>,
    /// Rounds whose action has run (the action's own round counter).
    actions: AtomicUsize,
    violations: Mutex<Vec<String>>,
}

impl Log {
    fn new(parties: usize, rounds: usize) -> Self {
        Log {
            parties,
            rounds: (0..rounds).map(|_| RoundLog::default()).collect(),
            actions: AtomicUsize::new(0),
            violations: Mutex::new(Vec::new()),
        }
    }

    fn violation(&self, what: String) {
        self.violations
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(what);
    }

    fn violations(&self) -> Vec<String> {
        self.violations
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// The action: it finds its round by its own counter, checks every party of that round
    /// arrived, none passed yet, and all of the previous round passed; then records itself.
    fn action(&self) {
        let k = self.actions.fetch_add(1, Ordering::SeqCst);
        let Some(round) = self.rounds.get(k) else {
            self.violation(format!("the action ran a {}-th time", k + 1));
            return;
        };
        let arrived = round.arrived.load(Ordering::SeqCst);
        if arrived != self.parties {
            self.violation(format!("round {k}: the action ran with {arrived} arrived"));
        }
        let passed = round.passed.load(Ordering::SeqCst);
        if passed != 0 {
            self.violation(format!("round {k}: {passed} passed before the action ran"));
        }
        if k > 0 {
            let before = self.rounds[k - 1].passed.load(Ordering::SeqCst);
            if before != self.parties {
                self.violation(format!(
                    "round {k}: the action ran with {before} of round {} passed",
                    k - 1
                ));
            }
        }
        // Give a party released too early the time to show it.
        thread::yield_now();
        round.actions.fetch_add(1, Ordering::SeqCst);
        *round
            .action_thread
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = Some(thread::current().id());
    }

    /// Whether round `r` is complete as a thread that finished it sees it.
    fn check_complete(&self, r: usize, with_action: bool, who: &str) {
        let round = &self.rounds[r];
        let arrived = round.arrived.load(Ordering::SeqCst);
        if arrived != self.parties {
            self.violation(format!("{who}: round {r} had only {arrived} arrived"));
        }
        let actions = round.actions.load(Ordering::SeqCst);
        if actions != usize::from(with_action) {
            self.violation(format!("{who}: round {r}'s action ran {actions} times"));
        }
    }

    /// One thread's `plan`: one wait per round, with every check around it.
    fn party(&self, barrier: &Barrier, plan: &[Wait], with_action: bool) {
        let me = thread::current().id();
        for (r, wait) in plan.iter().enumerate() {
            if r > 0 {
                // No thread of round r observes round r - 1 incomplete.
                self.check_complete(r - 1, with_action, &format!("arriving at round {r}"));
            }
            let round = &self.rounds[r];
            let before = round.arrived.fetch_add(1, Ordering::SeqCst);
            if before >= self.parties {
                self.violation(format!("round {r}: {} arrivals", before + 1));
            }
            let index = match wait.run(barrier) {
                Ok(index) => index,
                Err(BrokenBarrierError) => {
                    self.violation(format!("round {r}: {wait:?} broke; no one aborts here"));
                    // Free the others rather than leave them waiting for us.
                    barrier.abort();
                    return;
                }
            };
            if index >= self.parties {
                self.violation(format!("round {r}: index {index} of {}", self.parties));
            } else if round.indices.fetch_or(1 << index, Ordering::SeqCst) & (1 << index) != 0 {
                self.violation(format!("round {r}: index {index} given twice"));
            }
            self.check_complete(r, with_action, &format!("passing round {r}"));
            if with_action {
                // The next round's action needs this thread to arrive: the count is exact.
                let actions = self.actions.load(Ordering::SeqCst);
                if actions != r + 1 {
                    self.violation(format!("passing round {r}: {actions} actions ran"));
                }
                if index + 1 == self.parties {
                    let ran_on = *round
                        .action_thread
                        .lock()
                        .unwrap_or_else(PoisonError::into_inner);
                    if ran_on != Some(me) {
                        self.violation(format!(
                            "round {r}: the action ran on {ran_on:?}, the last arrival is {me:?}"
                        ));
                    }
                }
            }
            round.passed.fetch_add(1, Ordering::SeqCst);
        }
    }
}

/// How the barrier is built.
#[derive(Clone, Copy, Debug)]
struct Build {
    action: bool,
    /// A default timeout of [`LONG`].
    default_timeout: bool,
}

/// One thread per plan (each plan one wait per round) on a fresh barrier; returns the
/// violations seen during the run and at the end.
fn rounds_scenario(build: Build, plans: Vec<Vec<Wait>>) -> Vec<String> {
    within_limit("rounds", move || {
        let parties = plans.len();
        let rounds = plans[0].len();
        let log = Arc::new(Log::new(parties, rounds));
        let in_action = Arc::clone(&log);
        let action = move || in_action.action();
        let barrier = match (build.action, build.default_timeout) {
            (false, false) => Barrier::new(parties),
            (false, true) => Barrier::with_timeout(parties, LONG),
            (true, false) => Barrier::with_action(parties, action),
            (true, true) => Barrier::with_action_and_timeout(parties, action, LONG),
        };
        let start = StartLine::new(parties);
        thread::scope(|scope| {
            for plan in &plans {
                let (log, barrier, start) = (&log, &barrier, &start);
                scope.spawn(move || {
                    start.wait();
                    log.party(barrier, plan, build.action);
                });
            }
        });
        for r in 0..rounds {
            log.check_complete(r, build.action, "at the end");
            let round = &log.rounds[r];
            let passed = round.passed.load(Ordering::SeqCst);
            if passed != parties {
                log.violation(format!("round {r}: {passed} of {parties} passed"));
            }
            let indices = round.indices.load(Ordering::SeqCst);
            if indices != (1 << parties) - 1 {
                log.violation(format!("round {r}: indices {indices:#b}"));
            }
        }
        let actions = log.actions.load(Ordering::SeqCst);
        if actions != if build.action { rounds } else { 0 } {
            log.violation(format!("{actions} actions for {rounds} rounds"));
        }
        if barrier.n_waiting() != 0 || barrier.broken() {
            log.violation(format!("at the end: {barrier:?}"));
        }
        log.violations()
    })
}

/// `parties` threads' plans of `rounds` waits each.
fn round_plans() -> impl Strategy<Value = Vec<Vec<Wait>>> {
    (1usize..=5, 1usize..=20)
        .prop_flat_map(|(parties, rounds)| vec(vec(wait_kind(), rounds), parties))
}

// ---------------------------------------------------------------------------------------
// Rounds broken at random.

/// One step of a thread's plan in the chaos scenario.
#[derive(Clone, Copy, Debug)]
enum Op {
    /// `wait()` (with the barrier's default timeout, if any).
    Wait,
    /// `wait_timeout(t)`, `t` of 0..=3 ms.
    WaitTimeout(Duration),
    Abort,
    Reset,
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        4 => Just(Op::Wait),
        4 => (0u64..=3000).prop_map(|us| Op::WaitTimeout(Duration::from_micros(us))),
        1 => Just(Op::Abort),
        1 => Just(Op::Reset),
    ]
}

/// What one wait of the chaos scenario returned.
#[derive(Clone, Copy, Debug)]
struct Returned {
    thread: usize,
    #[allow(dead_code)] // read by Debug, in failure messages
    op: Op,
    result: Result<usize, BrokenBarrierError>,
    /// After `Ok`: rounds whose action had run, which names the round this one passed (the
    /// next round's action needs this thread to arrive first).
    round: usize,
    /// After `Err`: whether the barrier was broken right after.
    broken_after: bool,
}

/// What the chaos scenario ended with.
#[derive(Debug)]
struct Chaos {
    returns: Vec<Returned>,
    /// Once every thread was done and `reset` ran: `broken()`, `n_waiting()`.
    after_reset: (bool, usize),
    /// A clean round after that reset: each thread's result.
    clean: Vec<Result<usize, BrokenBarrierError>>,
    /// Actions run before and after the clean round.
    actions: (usize, usize),
}

/// One thread per plan on a barrier whose action counts rounds (and then sleeps
/// `action_delay`, holding up the round's release); a thread done with its plan
/// aborts any round still waiting (it could never be released without it) until all are
/// done. Then `reset` with nobody inside, and one clean round.
fn chaos_scenario(
    default_timeout: Option<Duration>,
    action_delay: Duration,
    plans: Vec<Vec<Op>>,
) -> Chaos {
    within_limit("chaos", move || {
        let parties = plans.len();
        let actions = Arc::new(AtomicUsize::new(0));
        let counter = Arc::clone(&actions);
        let action = move || {
            counter.fetch_add(1, Ordering::SeqCst);
            if !action_delay.is_zero() {
                // Parties time out, abort and reset while the last arrival is in here.
                thread::sleep(action_delay);
            }
        };
        let barrier = match default_timeout {
            None => Barrier::with_action(parties, action),
            Some(timeout) => Barrier::with_action_and_timeout(parties, action, timeout),
        };
        let done = AtomicUsize::new(0);
        let start = StartLine::new(parties);
        let returns = thread::scope(|scope| {
            let workers: Vec<_> = plans
                .iter()
                .enumerate()
                .map(|(thread, plan)| {
                    let (barrier, actions, done, start) = (&barrier, &actions, &done, &start);
                    scope.spawn(move || {
                        start.wait();
                        let mut returns = Vec::new();
                        for &op in plan {
                            let result = match op {
                                Op::Wait => barrier.wait(),
                                Op::WaitTimeout(timeout) => barrier.wait_timeout(timeout),
                                Op::Abort => {
                                    barrier.abort();
                                    continue;
                                }
                                Op::Reset => {
                                    barrier.reset();
                                    continue;
                                }
                            };
                            let (round, broken_after) = match result {
                                Ok(_) => (actions.load(Ordering::SeqCst), false),
                                Err(_) => (0, barrier.broken()),
                            };
                            returns.push(Returned {
                                thread,
                                op,
                                result,
                                round,
                                broken_after,
                            });
                        }
                        done.fetch_add(1, Ordering::SeqCst);
                        while done.load(Ordering::SeqCst) < parties {
                            if barrier.n_waiting() > 0 {
                                barrier.abort();
                            }
                            thread::sleep(Duration::from_micros(200));
                        }
                        returns
                    })
                })
                .collect();
            workers
                .into_iter()
                .flat_map(|worker| worker.join().expect("a party panicked"))
                .collect()
        });

        barrier.reset();
        let after_reset = (barrier.broken(), barrier.n_waiting());
        let before = actions.load(Ordering::SeqCst);
        let start = StartLine::new(parties);
        let clean = thread::scope(|scope| {
            let workers: Vec<_> = (0..parties)
                .map(|_| {
                    let (barrier, start) = (&barrier, &start);
                    scope.spawn(move || {
                        start.wait();
                        barrier.wait_timeout(Duration::from_secs(10))
                    })
                })
                .collect();
            workers
                .into_iter()
                .map(|worker| worker.join().expect("a party panicked"))
                .collect()
        });
        Chaos {
            returns,
            after_reset,
            clean,
            actions: (before, actions.load(Ordering::SeqCst)),
        }
    })
}

impl Chaos {
    fn check(&self, parties: usize, resets: bool) -> Result<(), TestCaseError> {
        // Released rounds, by the round the action counter names.
        let mut rounds: BTreeMap<usize, Vec<(usize, usize)>> = BTreeMap::new();
        for r in &self.returns {
            match r.result {
                Ok(index) => {
                    prop_assert!(index < parties, "{r:?}: index out of range");
                    prop_assert!(r.round > 0, "{r:?}: released before any action ran");
                    rounds.entry(r.round).or_default().push((index, r.thread));
                }
                Err(BrokenBarrierError) => {
                    // Broken stays broken until reset: a party that got the error (its own
                    // timeout included) finds the barrier broken, unless a reset came between.
                    prop_assert!(resets || r.broken_after, "{r:?}: not broken after Err");
                }
            }
        }
        for (round, mut passed) in rounds {
            passed.sort_unstable();
            let indices: Vec<usize> = passed.iter().map(|&(index, _)| index).collect();
            prop_assert_eq!(
                indices,
                (0..parties).collect::<Vec<_>>(),
                "round {} released with (index, thread) {:?}",
                round,
                passed
            );
            let mut threads: Vec<usize> = passed.iter().map(|&(_, thread)| thread).collect();
            threads.sort_unstable();
            threads.dedup();
            prop_assert_eq!(
                threads.len(),
                parties,
                "a thread passed round {} twice",
                round
            );
        }
        prop_assert_eq!(
            self.after_reset,
            (false, 0),
            "(broken, n_waiting) after reset"
        );
        let mut clean: Vec<usize> = Vec::new();
        for result in &self.clean {
            prop_assert!(
                result.is_ok(),
                "the clean round after reset: {:?}",
                self.clean
            );
            clean.extend(result.iter());
        }
        clean.sort_unstable();
        prop_assert_eq!(clean, (0..parties).collect::<Vec<_>>());
        prop_assert_eq!(
            self.actions.1,
            self.actions.0 + 1,
            "actions in the clean round"
        );
        Ok(())
    }
}

/// `parties` threads, each with a plan of 1..=12 operations.
fn chaos_plans() -> impl Strategy<Value = Vec<Vec<Op>>> {
    (1usize..=5).prop_flat_map(|parties| vec(vec(op(), 1..=12), parties))
}

/// How long the action takes: nothing, or up to 2 ms.
fn action_delay() -> impl Strategy<Value = Duration> {
    prop_oneof![
        Just(Duration::ZERO),
        (0u64..=2000).prop_map(Duration::from_micros),
    ]
}

fn default_timeout() -> impl Strategy<Value = Option<Duration>> {
    prop_oneof![
        Just(None),
        (1u64..=5).prop_map(|ms| Some(Duration::from_millis(ms))),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 1024,
        max_shrink_time: 60_000,
        ..ProptestConfig::default()
    })]

    /// Checks BARRIER-1, BARRIER-2 and BARRIER-3 on 1-5 real threads passing 1-20 rounds
    /// (each wait a `wait()`, `wait_timeout(1 h)` or `wait_timeout(Duration::MAX)`), with or
    /// without an action and a default timeout: in every round the indices are `0..parties`,
    /// each once; nobody passes before all arrived; the action runs exactly once per round,
    /// on the last arrival's thread, after all of the round arrived and all of the previous
    /// round passed, and before anyone of its round passed; no thread arriving at round
    /// `r + 1` sees round `r` incomplete; the barrier ends unbroken with nobody waiting.
    #[test]
    fn rounds_never_mix(
        plans in round_plans(),
        action in any::<bool>(),
        default_timeout in any::<bool>(),
    ) {
        let violations = rounds_scenario(Build { action, default_timeout }, plans);
        prop_assert!(
            violations.is_empty(),
            "{} violation(s), first ones: {:?}",
            violations.len(),
            &violations[..violations.len().min(5)]
        );
    }

    /// Checks BARRIER-1, BARRIER-3, BARRIER-4 and BARRIER-5 with breaks mixed in: 1-5 real
    /// threads each run 1-12 random `wait()`, `wait_timeout(0..=3 ms)`, `abort()` and
    /// `reset()` on a barrier with a round-counting action (taking 0-2 ms) and maybe a 1-5 ms
    /// default timeout. Every wait returns (within the stuck-scenario limit), with `Ok(index)` or
    /// `Err(BrokenBarrierError)`; every released round has all parties, each index in
    /// `0..parties` once, each thread once (a round missing a party is never released);
    /// without resets, the barrier is broken whenever a wait returns `Err`; after a `reset`
    /// with nobody inside it is unbroken and empty, and a clean round passes with indices
    /// `0..parties` and one more action.
    #[test]
    fn breaks_and_resets_never_strand_a_party(
        plans in chaos_plans(),
        default_timeout in default_timeout(),
        action_delay in action_delay(),
    ) {
        let parties = plans.len();
        let resets = plans.iter().flatten().any(|op| matches!(op, Op::Reset));
        chaos_scenario(default_timeout, action_delay, plans).check(parties, resets)?;
    }
}
