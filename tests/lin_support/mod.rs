//! A small linearizability checker for integration tests: record a concurrent run's
//! invocations and responses with a [`Recorder`], then ask [`check`] whether some sequential
//! order of the operations, consistent with real time, explains every answer under a
//! sequential [`Spec`]. Generic and std-only: it knows nothing about the crate; the specs for
//! the crate's primitives live in `specs.rs`.
//!
//! The search is Wing & Gong's with Lowe's memoisation: it repeatedly linearizes a
//! *minimal* operation (one invoked before the earliest response among the completed
//! operations not yet linearized), backtracks on a dead end, and never revisits a
//! (set of linearized operations, state) pair. That makes the cost exponential only in how
//! many operations overlap, not in how long the history is.
//!
//! Included with `mod lin_support;` by each test binary that needs it, so not every item is
//! used by every binary.
#![allow(dead_code)]

pub mod specs;
pub mod subjects;

use std::collections::HashSet;
use std::fmt;
use std::hash::Hash;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

/// The logical clock every recorder shares, so timestamps from different recorders and
/// threads are totally ordered and distinct (SeqCst `fetch_add`: one global order).
static CLOCK: AtomicU64 = AtomicU64::new(1);

/// Reads and advances the global clock; a fresh timestamp, larger than every earlier one.
fn tick() -> u64 {
    CLOCK.fetch_add(1, Ordering::SeqCst)
}

/// The response time of an operation that never responded: after everything, so a pending
/// operation constrains nothing that came after its invocation.
pub const PENDING: u64 = u64::MAX;

/// One operation of a history: who ran it, what it was, what it answered (`None` while
/// pending) and the interval it ran in. The checker linearizes it at one point inside
/// `invoked..returned`.
#[derive(Clone, Debug, PartialEq)]
pub struct Operation<Op, Ret> {
    /// The thread that ran it; specs whose answers depend on the caller (RLock) read it.
    pub thread: usize,
    /// What was asked.
    pub op: Op,
    /// What came back; `None` for an operation still running when the run ended.
    pub ret: Option<Ret>,
    /// Timestamp taken just before the call.
    pub invoked: u64,
    /// Timestamp taken just after the call returned; [`PENDING`] if it never did.
    pub returned: u64,
}

impl<Op, Ret> Operation<Op, Ret> {
    /// A completed operation, for hand-written histories in unit tests.
    pub fn done(thread: usize, op: Op, ret: Ret, invoked: u64, returned: u64) -> Self {
        Operation {
            thread,
            op,
            ret: Some(ret),
            invoked,
            returned,
        }
    }

    /// An operation that never responded (a blocking call still blocked), for hand-written
    /// histories.
    pub fn pending(thread: usize, op: Op, invoked: u64) -> Self {
        Operation {
            thread,
            op,
            ret: None,
            invoked,
            returned: PENDING,
        }
    }

    /// Whether it never responded.
    pub fn is_pending(&self) -> bool {
        self.ret.is_none()
    }
}

/// A finished run: every operation recorded, in invocation order. What [`check`] judges.
#[derive(Clone, Debug, PartialEq)]
pub struct History<Op, Ret> {
    /// The operations; indices into this vector are what [`check`] returns.
    pub ops: Vec<Operation<Op, Ret>>,
}

impl<Op, Ret> History<Op, Ret> {
    /// Builds a history by hand (unit tests, generated histories). Panics on an operation
    /// that responds before it is invoked, or that is pending but has a response time (or the
    /// reverse), since the checker's answer would mean nothing.
    pub fn from_ops(ops: Vec<Operation<Op, Ret>>) -> Self {
        for (i, op) in ops.iter().enumerate() {
            assert!(
                op.is_pending() == (op.returned == PENDING),
                "operation #{i}: pending exactly when its response time is PENDING"
            );
            assert!(
                op.invoked < op.returned,
                "operation #{i} responds before it is invoked"
            );
        }
        History { ops }
    }

    /// How many operations it holds.
    pub fn len(&self) -> usize {
        self.ops.len()
    }

    /// Whether it holds none.
    pub fn is_empty(&self) -> bool {
        self.ops.is_empty()
    }
}

/// The receipt for one invocation, handed back to [`Recorder::respond`]. Not `Clone`: one
/// invocation gets at most one response.
#[must_use = "an operation never responded to is recorded as pending"]
#[derive(Debug)]
pub struct Token(usize);

/// A thread-safe log of invocations and responses, shared by the threads of a concurrent
/// run. Test code, so a `Mutex` is fine: it serialises only the bookkeeping, and the
/// timestamps, taken outside the critical section of the code under test, bracket each call.
#[derive(Debug)]
pub struct Recorder<Op, Ret> {
    ops: Mutex<Vec<Operation<Op, Ret>>>,
}

impl<Op, Ret> Default for Recorder<Op, Ret> {
    fn default() -> Self {
        Recorder {
            ops: Mutex::new(Vec::new()),
        }
    }
}

impl<Op, Ret> Recorder<Op, Ret> {
    /// An empty log.
    pub fn new() -> Self {
        Self::default()
    }

    /// Records that `thread` is about to run `op`; call it right before the call. The
    /// timestamp is taken before the log's lock, so it is no later than the real start.
    pub fn invoke(&self, thread: usize, op: Op) -> Token {
        let invoked = tick();
        let mut ops = self.ops.lock().unwrap_or_else(|e| e.into_inner());
        ops.push(Operation {
            thread,
            op,
            ret: None,
            invoked,
            returned: PENDING,
        });
        Token(ops.len() - 1)
    }

    /// Records what the call answered; call it right after the call returns. The timestamp is
    /// taken before the log's lock, so it is no earlier than the real return.
    pub fn respond(&self, token: Token, ret: Ret) {
        let returned = tick();
        let mut ops = self.ops.lock().unwrap_or_else(|e| e.into_inner());
        let op = &mut ops[token.0];
        op.ret = Some(ret);
        op.returned = returned;
    }

    /// The history, once every thread is done; operations never responded to stay pending.
    pub fn into_history(self) -> History<Op, Ret> {
        let ops = self.ops.into_inner().unwrap_or_else(|e| e.into_inner());
        History::from_ops(ops)
    }
}

/// A sequential specification: the object's state and what each operation does to it. Kept
/// small so it is obviously right; the checker does the concurrency.
pub trait Spec {
    /// The object's abstract state; hashed to memoise the search.
    type State: Clone + Eq + Hash + fmt::Debug;
    /// An operation with its arguments.
    type Op: fmt::Debug;
    /// An operation's answer.
    type Ret: fmt::Debug + PartialEq;

    /// The state of a fresh object.
    fn init(&self) -> Self::State;

    /// Applies `op`, run by `thread`, to `state`: the new state and the answer, or `None` if
    /// the operation cannot take effect in that state (it would block there, so it can only
    /// linearize later). An answer that is only possible in some states (a `try_acquire`
    /// returning false) is a choice the spec offers by returning it only in those states.
    fn step(
        &self,
        state: &Self::State,
        thread: usize,
        op: &Self::Op,
    ) -> Option<(Self::State, Self::Ret)>;
}

/// Why a history is not linearizable, as text ready for a test failure: the history, the
/// longest linearizable prefix the search found and the state it reached.
pub struct NotLinearizable {
    /// The indices, in order, of the longest prefix that could be linearized.
    pub longest_prefix: Vec<usize>,
    report: String,
}

impl fmt::Display for NotLinearizable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.report)
    }
}

impl fmt::Debug for NotLinearizable {
    // `unwrap()` prints Debug: make that the readable report too.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.report)
    }
}

impl std::error::Error for NotLinearizable {}

/// A fixed-size set of operation indices, as words, so histories past 64 operations work and
/// the set hashes cheaply for the memo.
#[derive(Clone, PartialEq, Eq, Hash)]
struct Bits(Vec<u64>);

impl Bits {
    fn new(n: usize) -> Self {
        Bits(vec![0; n.div_ceil(64)])
    }
    fn get(&self, i: usize) -> bool {
        self.0[i / 64] & (1 << (i % 64)) != 0
    }
    fn set(&mut self, i: usize) {
        self.0[i / 64] |= 1 << (i % 64);
    }
    fn clear(&mut self, i: usize) {
        self.0[i / 64] &= !(1 << (i % 64));
    }
}

/// One level of the explicit search stack: the transitions to try from the state reached
/// (operation index, new state) and how far through them the search is.
struct Frame<State> {
    next: Vec<(usize, State)>,
    cursor: usize,
}

/// Whether `history` is linearizable under `spec`: `Ok` with one witness order (indices into
/// `history.ops`; completed operations all appear, pending ones only if they had to take
/// effect), or the reason it is not.
///
/// Real-time order: operation `a` must come before `b` when `a.returned < b.invoked`; equal
/// timestamps count as overlapping. A pending operation may take effect anywhere after its
/// invocation, with any answer the spec allows, or never.
pub fn check<S: Spec>(
    spec: &S,
    history: &History<S::Op, S::Ret>,
) -> Result<Vec<usize>, NotLinearizable> {
    let ops = &history.ops;
    let n = ops.len();
    let completed = ops.iter().filter(|o| !o.is_pending()).count();

    // Indices in invocation order: the candidates at any point are a prefix of the
    // not-yet-linearized ones in this order.
    let mut by_invoke: Vec<usize> = (0..n).collect();
    by_invoke.sort_by_key(|&i| (ops[i].invoked, i));

    let mut linearized = Bits::new(n);
    let mut done_completed = 0;
    let mut path: Vec<usize> = Vec::new();
    let mut best: Vec<usize> = Vec::new();
    let mut best_state = spec.init();
    let mut seen: HashSet<(Bits, S::State)> = HashSet::new();

    if completed == 0 {
        return Ok(path);
    }

    // The transitions from `state` given what is linearized: each minimal operation the spec
    // lets take effect with its recorded answer (any answer if pending). Completed ones first:
    // pending ones are optional, so trying them last finds a witness sooner.
    let expand = |state: &S::State, linearized: &Bits| -> Vec<(usize, S::State)> {
        let earliest_return = (0..n)
            .filter(|&i| !linearized.get(i) && !ops[i].is_pending())
            .map(|i| ops[i].returned)
            .min()
            .unwrap_or(PENDING);
        let mut completed_moves = Vec::new();
        let mut pending_moves = Vec::new();
        for &i in &by_invoke {
            if ops[i].invoked > earliest_return {
                break;
            }
            if linearized.get(i) {
                continue;
            }
            let o = &ops[i];
            match (spec.step(state, o.thread, &o.op), &o.ret) {
                (Some((next, ret)), Some(recorded)) if ret == *recorded => {
                    completed_moves.push((i, next));
                }
                (Some((next, _)), None) => pending_moves.push((i, next)),
                _ => {}
            }
        }
        completed_moves.extend(pending_moves);
        completed_moves
    };

    let init = spec.init();
    let first = expand(&init, &linearized);
    seen.insert((linearized.clone(), init));
    let mut stack = vec![Frame {
        next: first,
        cursor: 0,
    }];

    while let Some(top) = stack.last_mut() {
        if top.cursor == top.next.len() {
            // Every way on from here is a dead end: undo the step that led here.
            stack.pop();
            if let Some(i) = path.pop() {
                linearized.clear(i);
                if !ops[i].is_pending() {
                    done_completed -= 1;
                }
            }
            continue;
        }
        let (i, next_state) = top.next[top.cursor].clone();
        top.cursor += 1;
        linearized.set(i);
        if !seen.insert((linearized.clone(), next_state.clone())) {
            linearized.clear(i);
            continue;
        }
        path.push(i);
        if !ops[i].is_pending() {
            done_completed += 1;
        }
        if path.len() > best.len() {
            best.clone_from(&path);
            best_state = next_state.clone();
        }
        if done_completed == completed {
            return Ok(path);
        }
        let moves = expand(&next_state, &linearized);
        stack.push(Frame {
            next: moves,
            cursor: 0,
        });
    }

    Err(NotLinearizable {
        report: report(history, &best, &best_state),
        longest_prefix: best,
    })
}

/// The failure text: the whole history in invocation order, then the longest prefix.
fn report<Op: fmt::Debug, Ret: fmt::Debug, State: fmt::Debug>(
    history: &History<Op, Ret>,
    best: &[usize],
    best_state: &State,
) -> String {
    use std::fmt::Write as _;
    let ops = &history.ops;
    let mut order: Vec<usize> = (0..ops.len()).collect();
    order.sort_by_key(|&i| (ops[i].invoked, i));
    let time = |t: u64| {
        if t == PENDING {
            "inf".to_string()
        } else {
            t.to_string()
        }
    };
    let mut s = String::from("history is not linearizable\n");
    let _ = writeln!(s, "history ({} operations, by invocation):", ops.len());
    for &i in &order {
        let o = &ops[i];
        let ret = match &o.ret {
            Some(r) => format!("{r:?}"),
            None => "(pending)".to_string(),
        };
        let _ = writeln!(
            s,
            "  #{i:<4} thread {:<3} [{:>6}, {:>6}]  {:?} -> {ret}",
            o.thread,
            time(o.invoked),
            time(o.returned),
            o.op
        );
    }
    let _ = writeln!(
        s,
        "longest linearizable prefix ({} operations):",
        best.len()
    );
    for &i in best {
        let o = &ops[i];
        let ret = match &o.ret {
            Some(r) => format!("{r:?}"),
            None => "(pending, took effect)".to_string(),
        };
        let _ = writeln!(s, "  #{i:<4} thread {:<3} {:?} -> {ret}", o.thread, o.op);
    }
    let _ = writeln!(s, "state after it: {best_state:?}");
    let unlinearized: Vec<String> = order
        .iter()
        .filter(|i| !best.contains(i) && !ops[**i].is_pending())
        .take(8)
        .map(|i| format!("#{i}"))
        .collect();
    let _ = writeln!(
        s,
        "completed operations left over (first few): {}",
        unlinearized.join(" ")
    );
    s
}
