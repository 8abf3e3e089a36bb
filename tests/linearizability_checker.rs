#![cfg(not(any(loom, shuttle)))]
//! Tests of the linearizability checker in `lin_support` itself, before anything trusts it:
//! the specs step by step, hand-written histories that are and are not linearizable, and
//! generated 200-operation histories to show the search stays fast at 4-way concurrency.

mod lin_support;

use std::fmt::Debug;
use std::time::Instant;

use lin_support::specs::{
    EventOp, EventSpec, LockOp, LockSpec, Order, QueueOp, QueueSpec, RLockOp, RLockSpec, Ret,
    SemOp, SemaphoreSpec,
};
use lin_support::{History, Operation, PENDING, Recorder, Spec, check};

// ---------------------------------------------------------------------------------------
// Helpers

/// One sequential step: who, what, and the answer expected (`None`: cannot take effect).
type Step<S> = (usize, <S as Spec>::Op, Option<<S as Spec>::Ret>);

/// Runs `steps` (thread, op, expected answer or `None` for "cannot take effect") one after
/// another from the spec's initial state, asserting each answer.
fn sequential<S: Spec>(spec: &S, steps: &[Step<S>]) -> S::State {
    let mut state = spec.init();
    for (k, (thread, op, expected)) in steps.iter().enumerate() {
        match (spec.step(&state, *thread, op), expected) {
            (Some((next, ret)), Some(want)) => {
                assert_eq!(
                    &ret, want,
                    "step {k}: {op:?} by thread {thread} in {state:?}"
                );
                state = next;
            }
            (None, None) => {}
            (got, want) => {
                panic!("step {k}: {op:?} by thread {thread} in {state:?}: {got:?}, wanted {want:?}")
            }
        }
    }
    state
}

/// A completed operation, shorter.
fn op<Op, R>(thread: usize, op: Op, ret: R, invoked: u64, returned: u64) -> Operation<Op, R> {
    Operation::done(thread, op, ret, invoked, returned)
}

/// Asserts the history is linearizable and returns the witness order.
fn linearizable<S: Spec>(spec: &S, ops: Vec<Operation<S::Op, S::Ret>>) -> Vec<usize> {
    let history = History::from_ops(ops);
    match check(spec, &history) {
        Ok(order) => order,
        Err(e) => panic!("expected linearizable:\n{e}"),
    }
}

/// Asserts the history is not linearizable and returns the report.
fn not_linearizable<S: Spec>(spec: &S, ops: Vec<Operation<S::Op, S::Ret>>) -> String
where
    S::Op: Debug,
{
    let history = History::from_ops(ops);
    match check(spec, &history) {
        Ok(order) => panic!("expected not linearizable, got witness {order:?}"),
        Err(e) => e.to_string(),
    }
}

// ---------------------------------------------------------------------------------------
// Specs, sequentially

#[test]
fn lock_spec_steps() {
    use LockOp::*;
    let end = sequential(
        &LockSpec,
        &[
            (0, Locked, Some(Ret::Bool(false))),
            (0, Release, Some(Ret::Err)),
            (0, Acquire, Some(Ret::Done)),
            (0, Acquire, None),
            (1, TryAcquire, Some(Ret::Bool(false))),
            (1, AcquireTimeout, Some(Ret::Bool(false))),
            (0, Locked, Some(Ret::Bool(true))),
            (1, Release, Some(Ret::Ok)),
            (1, TryAcquire, Some(Ret::Bool(true))),
            (2, Release, Some(Ret::Ok)),
            (2, AcquireTimeout, Some(Ret::Bool(true))),
        ],
    );
    assert!(end);
}

#[test]
fn rlock_spec_steps() {
    use RLockOp::*;
    let end = sequential(
        &RLockSpec,
        &[
            (0, Release, Some(Ret::Err)),
            (0, Acquire, Some(Ret::Done)),
            (0, Acquire, Some(Ret::Done)),
            (0, RecursionCount, Some(Ret::Value(2))),
            (1, RecursionCount, Some(Ret::Value(0))),
            (1, IsOwned, Some(Ret::Bool(false))),
            (1, Locked, Some(Ret::Bool(true))),
            (1, Acquire, None),
            (1, TryAcquire, Some(Ret::Bool(false))),
            (1, AcquireTimeout, Some(Ret::Bool(false))),
            (1, Release, Some(Ret::Err)),
            (0, IsOwned, Some(Ret::Bool(true))),
            (0, TryAcquire, Some(Ret::Bool(true))),
            (0, Release, Some(Ret::Ok)),
            (0, Release, Some(Ret::Ok)),
            (0, RecursionCount, Some(Ret::Value(1))),
            (0, Release, Some(Ret::Ok)),
            (0, Locked, Some(Ret::Bool(false))),
            (0, Release, Some(Ret::Err)),
            (1, AcquireTimeout, Some(Ret::Bool(true))),
        ],
    );
    assert_eq!(end, Some((1, 1)));
}

#[test]
fn semaphore_spec_steps() {
    use SemOp::*;
    let end = sequential(
        &SemaphoreSpec::unbounded(1),
        &[
            (0, Value, Some(Ret::Value(1))),
            (0, Acquire, Some(Ret::Done)),
            (0, Acquire, None),
            (1, TryAcquire, Some(Ret::Bool(false))),
            (1, AcquireTimeout, Some(Ret::Bool(false))),
            (2, Release, Some(Ret::Ok)),
            (2, ReleaseN(3), Some(Ret::Ok)),
            (1, TryAcquire, Some(Ret::Bool(true))),
            (1, Value, Some(Ret::Value(3))),
        ],
    );
    assert_eq!(end, 3);

    let end = sequential(
        &SemaphoreSpec::bounded(2),
        &[
            (0, Release, Some(Ret::Err)),
            (0, Value, Some(Ret::Value(2))),
            (0, Acquire, Some(Ret::Done)),
            (0, ReleaseN(2), Some(Ret::Err)),
            (0, Value, Some(Ret::Value(1))),
            (1, ReleaseN(1), Some(Ret::Ok)),
            (1, ReleaseN(0), Some(Ret::Ok)),
            (1, AcquireTimeout, Some(Ret::Bool(true))),
        ],
    );
    assert_eq!(end, 1);
}

#[test]
fn event_spec_steps() {
    use EventOp::*;
    let end = sequential(
        &EventSpec,
        &[
            (0, IsSet, Some(Ret::Bool(false))),
            (0, Wait, None),
            (0, WaitTimeout, Some(Ret::Bool(false))),
            (1, Set, Some(Ret::Done)),
            (0, Wait, Some(Ret::Done)),
            (0, WaitTimeout, Some(Ret::Bool(true))),
            (1, Set, Some(Ret::Done)),
            (1, Clear, Some(Ret::Done)),
            (0, IsSet, Some(Ret::Bool(false))),
            (0, Wait, None),
        ],
    );
    assert!(!end);
}

#[test]
fn queue_spec_steps() {
    use QueueOp::*;
    let fifo = QueueSpec {
        order: Order::Fifo,
        maxsize: 2,
    };
    let end = sequential(
        &fifo,
        &[
            (0, Get, None),
            (0, TryGet, Some(Ret::Empty)),
            (0, GetTimeout, Some(Ret::Empty)),
            (0, Put(1), Some(Ret::Done)),
            (0, TryPut(2), Some(Ret::Ok)),
            (0, Put(3), None),
            (0, TryPut(3), Some(Ret::Full)),
            (0, PutTimeout(3), Some(Ret::Full)),
            (0, Len, Some(Ret::Value(2))),
            (1, Get, Some(Ret::Item(1))),
            (1, PutTimeout(3), Some(Ret::Ok)),
            (1, TryGet, Some(Ret::Item(2))),
        ],
    );
    assert_eq!(end.items, [3]);

    let lifo = QueueSpec {
        order: Order::Lifo,
        maxsize: 0,
    };
    let end = sequential(
        &lifo,
        &[
            (0, Put(1), Some(Ret::Done)),
            (0, Put(2), Some(Ret::Done)),
            (0, Put(3), Some(Ret::Done)),
            (0, TryPut(4), Some(Ret::Ok)),
            (0, Get, Some(Ret::Item(4))),
            (0, GetTimeout, Some(Ret::Item(3))),
            (0, Len, Some(Ret::Value(2))),
        ],
    );
    assert_eq!(end.items, [2, 1]);

    let priority = QueueSpec {
        order: Order::Priority,
        maxsize: 0,
    };
    let end = sequential(
        &priority,
        &[
            (0, Put(5), Some(Ret::Done)),
            (0, Put(1), Some(Ret::Done)),
            (0, Put(3), Some(Ret::Done)),
            (0, Put(1), Some(Ret::Done)),
            (0, Get, Some(Ret::Item(1))),
            (0, Get, Some(Ret::Item(1))),
            (0, TryGet, Some(Ret::Item(3))),
        ],
    );
    assert_eq!(end.items, [5]);
}

// ---------------------------------------------------------------------------------------
// The checker: linearizable histories

/// A `locked() -> false` invoked after an acquire began but answered before it finished
/// must be placed before the acquire, against invocation order.
#[test]
fn overlapping_ops_are_reordered() {
    use LockOp::*;
    let order = linearizable(
        &LockSpec,
        vec![
            op(0, Acquire, Ret::Done, 1, 10),
            op(1, Locked, Ret::Bool(false), 2, 5),
        ],
    );
    assert_eq!(order, [1, 0]);

    // A get that answers before the put it takes from has returned.
    let fifo = QueueSpec {
        order: Order::Fifo,
        maxsize: 0,
    };
    let order = linearizable(
        &fifo,
        vec![
            op(0, QueueOp::Put(7), Ret::Done, 1, 10),
            op(1, QueueOp::TryGet, Ret::Item(7), 2, 5),
            op(1, QueueOp::Len, Ret::Value(0), 6, 7),
        ],
    );
    assert_eq!(order, [0, 1, 2]);
}

/// Overlapping puts may land in either order; the gets decide which.
#[test]
fn concurrent_puts_take_the_order_the_gets_saw() {
    use QueueOp::*;
    let fifo = QueueSpec {
        order: Order::Fifo,
        maxsize: 0,
    };
    let order = linearizable(
        &fifo,
        vec![
            op(0, Put(1), Ret::Done, 1, 4),
            op(1, Put(2), Ret::Done, 2, 3),
            op(2, Get, Ret::Item(2), 5, 6),
            op(2, Get, Ret::Item(1), 7, 8),
        ],
    );
    assert_eq!(order, [1, 0, 2, 3]);
}

/// A blocked acquire never answered is left out when nothing needs it.
#[test]
fn a_pending_acquire_may_never_take_effect() {
    use LockOp::*;
    let order = linearizable(
        &LockSpec,
        vec![
            op(0, Acquire, Ret::Done, 1, 2),
            Operation::pending(1, Acquire, 3),
            op(0, Locked, Ret::Bool(true), 4, 5),
        ],
    );
    assert_eq!(order, [0, 2]);
}

/// A pending acquire that got the lock (the run ended before it could record so) explains a
/// later `try_acquire() -> false` after the lock was released.
#[test]
fn a_pending_acquire_may_take_effect() {
    use LockOp::*;
    let order = linearizable(
        &LockSpec,
        vec![
            op(0, Acquire, Ret::Done, 1, 2),
            op(0, Release, Ret::Ok, 3, 4),
            Operation::pending(1, Acquire, 5),
            op(0, TryAcquire, Ret::Bool(false), 6, 7),
        ],
    );
    assert_eq!(order, [0, 1, 2, 3]);
}

/// A pending operation still cannot take effect before it was invoked.
#[test]
fn a_pending_op_cannot_take_effect_before_its_invocation() {
    use LockOp::*;
    not_linearizable(
        &LockSpec,
        vec![
            op(0, Acquire, Ret::Done, 1, 2),
            op(0, Release, Ret::Ok, 3, 4),
            op(0, TryAcquire, Ret::Bool(false), 5, 6),
            Operation::pending(1, Acquire, 7),
        ],
    );
}

/// `try_acquire() -> false` overlapping a release: it saw the lock before the release.
/// `-> true` overlapping it: after.
#[test]
fn try_acquire_false_overlapping_a_release() {
    use LockOp::*;
    let order = linearizable(
        &LockSpec,
        vec![
            op(0, Acquire, Ret::Done, 1, 2),
            op(0, Release, Ret::Ok, 3, 10),
            op(1, TryAcquire, Ret::Bool(false), 4, 6),
            op(1, TryAcquire, Ret::Bool(true), 7, 8),
        ],
    );
    assert_eq!(order, [0, 2, 1, 3]);
}

/// A timed wait that gave up overlapping the set that would have woken it.
#[test]
fn wait_timeout_false_overlapping_a_set() {
    use EventOp::*;
    linearizable(
        &EventSpec,
        vec![
            op(0, WaitTimeout, Ret::Bool(false), 1, 10),
            op(1, Set, Ret::Done, 2, 3),
            op(1, IsSet, Ret::Bool(true), 4, 5),
        ],
    );
}

/// RLock ownership follows the thread: a second thread acquires only after the owner's last
/// release, which overlaps it.
#[test]
fn rlock_handover_between_threads() {
    use RLockOp::*;
    let order = linearizable(
        &RLockSpec,
        vec![
            op(0, Acquire, Ret::Done, 1, 2),
            op(0, Acquire, Ret::Done, 3, 4),
            op(1, Acquire, Ret::Done, 5, 20),
            op(0, Release, Ret::Ok, 6, 7),
            op(1, TryAcquire, Ret::Bool(false), 8, 9),
            op(0, Release, Ret::Ok, 10, 11),
            op(0, IsOwned, Ret::Bool(false), 12, 13),
            op(1, RecursionCount, Ret::Value(1), 21, 22),
        ],
    );
    let at = |i| order.iter().position(|&j| j == i).unwrap();
    assert_eq!(order.len(), 8);
    assert!(at(4) < at(5) && at(5) < at(2), "{order:?}");
}

/// Semaphore permits: two acquires on one permit, the second waiting for a release.
#[test]
fn semaphore_acquire_waits_for_a_release() {
    use SemOp::*;
    linearizable(
        &SemaphoreSpec::bounded(1),
        vec![
            op(0, Acquire, Ret::Done, 1, 2),
            op(1, Acquire, Ret::Done, 3, 10),
            op(0, AcquireTimeout, Ret::Bool(false), 4, 5),
            op(0, Release, Ret::Ok, 6, 7),
            op(2, Value, Ret::Value(0), 11, 12),
        ],
    );
}

/// Nothing to check is trivially fine; all-pending too.
#[test]
fn empty_and_all_pending_histories() {
    assert_eq!(linearizable(&LockSpec, vec![]), Vec::<usize>::new());
    let order = linearizable(
        &LockSpec,
        vec![
            Operation::pending(0, LockOp::Acquire, 1),
            Operation::pending(1, LockOp::Acquire, 2),
        ],
    );
    assert!(order.is_empty());
}

// ---------------------------------------------------------------------------------------
// The checker: histories that are not linearizable

/// Two overlapping acquires both succeed and nobody releases.
#[test]
fn two_acquires_without_a_release() {
    use LockOp::*;
    let report = not_linearizable(
        &LockSpec,
        vec![
            op(0, Acquire, Ret::Done, 1, 5),
            op(1, Acquire, Ret::Done, 2, 6),
        ],
    );
    assert!(report.contains("Acquire"), "{report}");
    assert!(report.contains("thread 1"), "{report}");
    assert!(
        report.contains("longest linearizable prefix (1 operations)"),
        "{report}"
    );
}

/// FIFO: items put one after the other come out in the other order.
#[test]
fn fifo_out_of_order() {
    use QueueOp::*;
    not_linearizable(
        &QueueSpec {
            order: Order::Fifo,
            maxsize: 0,
        },
        vec![
            op(0, Put(1), Ret::Done, 1, 2),
            op(0, Put(2), Ret::Done, 3, 4),
            op(1, Get, Ret::Item(2), 5, 6),
            op(1, Get, Ret::Item(1), 7, 8),
        ],
    );
    // The same answers are right for a LIFO queue.
    linearizable(
        &QueueSpec {
            order: Order::Lifo,
            maxsize: 0,
        },
        vec![
            op(0, Put(1), Ret::Done, 1, 2),
            op(0, Put(2), Ret::Done, 3, 4),
            op(1, Get, Ret::Item(2), 5, 6),
            op(1, Get, Ret::Item(1), 7, 8),
        ],
    );
}

/// `try_get() -> Empty` strictly after a put finished, with no get between.
#[test]
fn try_get_empty_after_a_put() {
    use QueueOp::*;
    not_linearizable(
        &QueueSpec {
            order: Order::Fifo,
            maxsize: 0,
        },
        vec![
            op(0, Put(1), Ret::Done, 1, 2),
            op(1, TryGet, Ret::Empty, 3, 4),
        ],
    );
}

/// A released lock reports itself locked later, and nobody acquired it.
#[test]
fn locked_after_release_without_acquire() {
    use LockOp::*;
    not_linearizable(
        &LockSpec,
        vec![
            op(0, Acquire, Ret::Done, 1, 2),
            op(0, Release, Ret::Ok, 3, 4),
            op(1, Locked, Ret::Bool(true), 5, 6),
        ],
    );
}

/// A timed wait gives up strictly after a set, with no clear.
#[test]
fn wait_timeout_false_after_set() {
    use EventOp::*;
    not_linearizable(
        &EventSpec,
        vec![
            op(0, Set, Ret::Done, 1, 2),
            op(1, WaitTimeout, Ret::Bool(false), 3, 4),
        ],
    );
}

/// An RLock released by a thread that does not own it.
#[test]
fn rlock_release_by_another_thread() {
    use RLockOp::*;
    not_linearizable(
        &RLockSpec,
        vec![
            op(0, Acquire, Ret::Done, 1, 2),
            op(1, Release, Ret::Ok, 3, 4),
        ],
    );
}

/// A bounded semaphore accepting a release past its bound.
#[test]
fn bounded_semaphore_release_past_bound() {
    use SemOp::*;
    not_linearizable(
        &SemaphoreSpec::bounded(1),
        vec![
            op(0, Acquire, Ret::Done, 1, 2),
            op(1, ReleaseN(2), Ret::Ok, 3, 4),
        ],
    );
}

// ---------------------------------------------------------------------------------------
// The recorder

/// Real threads record through one recorder; a sequential run on a real (std) mutex-backed
/// model is linearizable, and an operation never responded to comes out pending.
#[test]
fn recorder_builds_a_history() {
    let recorder = Recorder::new();
    let held = std::sync::Mutex::new(false);
    std::thread::scope(|s| {
        for thread in 0..4 {
            let (recorder, held) = (&recorder, &held);
            s.spawn(move || {
                for _ in 0..50 {
                    let token = recorder.invoke(thread, LockOp::TryAcquire);
                    let mut h = held.lock().unwrap();
                    let got = !*h;
                    *h = true;
                    drop(h);
                    recorder.respond(token, Ret::Bool(got));
                    if got {
                        let token = recorder.invoke(thread, LockOp::Release);
                        *held.lock().unwrap() = false;
                        recorder.respond(token, Ret::Ok);
                    }
                }
            });
        }
    });
    let _never = recorder.invoke(0, LockOp::Acquire);
    let history = recorder.into_history();
    assert!(history.len() >= 201);
    let last = history.ops.last().unwrap();
    assert!(last.is_pending() && last.returned == PENDING);
    let start = Instant::now();
    let order = check(&LockSpec, &history).unwrap();
    println!(
        "recorded {} ops checked in {:?}",
        history.len(),
        start.elapsed()
    );
    assert!(order.len() >= 200);
}

// ---------------------------------------------------------------------------------------
// Performance: generated histories

/// xorshift64*: a few random numbers without a dependency.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        (self.0.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 33) % n
    }
}

/// A random valid sequential run of `n` operations, chosen by `pick`, skipping those that
/// would block, on threads 0..4 in turn; then each operation's interval is widened around its
/// sequential point so it overlaps up to three neighbours on either side (never its own
/// thread's previous or next operation). The sequential order stays a witness.
fn generate<S: Spec>(
    spec: &S,
    n: usize,
    seed: u64,
    mut pick: impl FnMut(&mut Rng) -> S::Op,
) -> History<S::Op, S::Ret> {
    let mut rng = Rng(seed | 1);
    let mut state = spec.init();
    let mut ops = Vec::with_capacity(n);
    while ops.len() < n {
        let k = ops.len() as u64;
        let thread = ops.len() % 4;
        let op = pick(&mut rng);
        let Some((next, ret)) = spec.step(&state, thread, &op) else {
            continue;
        };
        state = next;
        let point = 100 * (k + 2);
        let invoked = point - 140 + rng.below(30);
        let returned = point + 190 - rng.below(30);
        ops.push(Operation::done(thread, op, ret, invoked, returned));
    }
    History::from_ops(ops)
}

fn lock_history(seed: u64) -> History<LockOp, Ret> {
    use LockOp::*;
    let choices = [
        Acquire,
        TryAcquire,
        AcquireTimeout,
        Release,
        Release,
        Locked,
    ];
    generate(&LockSpec, 200, seed, |rng| {
        choices[rng.below(choices.len() as u64) as usize]
    })
}

fn queue_history(seed: u64, order: Order) -> History<QueueOp, Ret> {
    let spec = QueueSpec { order, maxsize: 3 };
    let mut next_item = 0;
    generate(&spec, 200, seed, |rng| {
        next_item += 1;
        match rng.below(7) {
            0 => QueueOp::Put(next_item),
            1 => QueueOp::TryPut(next_item),
            2 => QueueOp::PutTimeout(next_item),
            3 => QueueOp::Get,
            4 => QueueOp::TryGet,
            5 => QueueOp::GetTimeout,
            _ => QueueOp::Len,
        }
    })
}

/// Every order of `ops` (all completed ones plus any subset of the pending ones) that respects
/// real time, tried one by one: the definition of linearizability, for small histories.
fn brute_force<S: Spec>(spec: &S, history: &History<S::Op, S::Ret>) -> bool {
    fn extend<S: Spec>(
        spec: &S,
        history: &History<S::Op, S::Ret>,
        state: &S::State,
        used: &mut Vec<bool>,
    ) -> bool {
        let ops = &history.ops;
        if (0..ops.len()).all(|i| used[i] || ops[i].is_pending()) {
            return true;
        }
        for i in 0..ops.len() {
            // `i` may go next if no unused operation finished before `i` began.
            let blocked =
                (0..ops.len()).any(|j| !used[j] && j != i && ops[j].returned < ops[i].invoked);
            if used[i] || blocked {
                continue;
            }
            let Some((next, ret)) = spec.step(state, ops[i].thread, &ops[i].op) else {
                continue;
            };
            if ops[i].ret.as_ref().is_some_and(|r| *r != ret) {
                continue;
            }
            used[i] = true;
            let found = extend(spec, history, &next, used);
            used[i] = false;
            if found {
                return true;
            }
        }
        false
    }
    extend(spec, history, &spec.init(), &mut vec![false; history.len()])
}

/// Random small histories (random intervals, random answers, some pending): the checker
/// agrees with brute force on every one, and each verdict it gives is backed by a witness
/// that really replays.
#[test]
fn agrees_with_brute_force_on_small_histories() {
    /// Operations at random times; answers mostly from replaying them in invocation order
    /// (so many histories are linearizable), otherwise random (so many are not).
    fn random_history<S: Spec<Ret = Ret>>(
        spec: &S,
        rng: &mut Rng,
        ops: &[S::Op],
        rets: &[Ret],
    ) -> History<S::Op, Ret>
    where
        S::Op: Copy,
    {
        let n = 2 + rng.below(6) as usize;
        let mut out = Vec::new();
        let mut state = spec.init();
        let mut invoked = 0;
        for _ in 0..n {
            let thread = rng.below(3) as usize;
            let op = ops[rng.below(ops.len() as u64) as usize];
            invoked += 1 + rng.below(4);
            let replayed = spec.step(&state, thread, &op);
            if rng.below(8) == 0 || (replayed.is_none() && rng.below(2) == 0) {
                out.push(Operation::pending(thread, op, invoked));
                continue;
            }
            let ret = match replayed {
                Some((next, ret)) if rng.below(4) != 0 => {
                    state = next;
                    ret
                }
                _ => rets[rng.below(rets.len() as u64) as usize],
            };
            out.push(Operation::done(
                thread,
                op,
                ret,
                invoked,
                invoked + 1 + rng.below(10),
            ));
        }
        History::from_ops(out)
    }

    /// The witness replays: every completed op in it, real time respected, answers match.
    fn replays<S: Spec>(spec: &S, history: &History<S::Op, S::Ret>, order: &[usize]) -> bool {
        let ops = &history.ops;
        let mut state = spec.init();
        for (k, &i) in order.iter().enumerate() {
            if order[k + 1..]
                .iter()
                .any(|&j| ops[j].returned < ops[i].invoked)
            {
                return false;
            }
            match spec.step(&state, ops[i].thread, &ops[i].op) {
                Some((next, ret)) if ops[i].ret.as_ref().is_none_or(|r| *r == ret) => state = next,
                _ => return false,
            }
        }
        (0..ops.len()).all(|i| ops[i].is_pending() || order.contains(&i))
    }

    fn agree<S: Spec>(spec: &S, history: &History<S::Op, S::Ret>) -> bool {
        let expected = brute_force(spec, history);
        match check(spec, history) {
            Ok(order) => {
                assert!(
                    replays(spec, history, &order),
                    "bad witness {order:?}: {history:?}"
                );
                assert!(
                    expected,
                    "checker accepted what brute force rejects: {history:?}"
                );
            }
            Err(e) => assert!(!expected, "checker rejected what brute force accepts:\n{e}"),
        }
        expected
    }

    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let mut accepted = 0;
    let lock_ops = [
        LockOp::Acquire,
        LockOp::TryAcquire,
        LockOp::Release,
        LockOp::Locked,
    ];
    let lock_rets = [
        Ret::Done,
        Ret::Bool(true),
        Ret::Bool(false),
        Ret::Ok,
        Ret::Err,
    ];
    let rlock_ops = [
        RLockOp::Acquire,
        RLockOp::TryAcquire,
        RLockOp::Release,
        RLockOp::RecursionCount,
    ];
    let rlock_rets = [
        Ret::Done,
        Ret::Bool(true),
        Ret::Bool(false),
        Ret::Ok,
        Ret::Err,
        Ret::Value(1),
        Ret::Value(0),
    ];
    let queue_ops = [
        QueueOp::Put(1),
        QueueOp::Put(2),
        QueueOp::TryPut(3),
        QueueOp::Get,
        QueueOp::TryGet,
        QueueOp::Len,
    ];
    let queue_rets = [
        Ret::Done,
        Ret::Ok,
        Ret::Full,
        Ret::Item(1),
        Ret::Item(2),
        Ret::Item(3),
        Ret::Empty,
        Ret::Value(1),
    ];
    let queue = QueueSpec {
        order: Order::Fifo,
        maxsize: 2,
    };
    for _ in 0..3000 {
        accepted += agree(
            &LockSpec,
            &random_history(&LockSpec, &mut rng, &lock_ops, &lock_rets),
        ) as usize;
        accepted += agree(
            &RLockSpec,
            &random_history(&RLockSpec, &mut rng, &rlock_ops, &rlock_rets),
        ) as usize;
        accepted += agree(
            &queue,
            &random_history(&queue, &mut rng, &queue_ops, &queue_rets),
        ) as usize;
    }
    // Both verdicts were exercised, not just one.
    println!("brute force: {accepted} of 9000 random histories linearizable");
    assert!(accepted > 300 && accepted < 8700, "{accepted}");
}

/// 200-operation Lock and queue histories at 4-way overlap are checked quickly, both when
/// linearizable and when the search must exhaust every order up to a bad answer.
#[test]
fn generated_200_op_histories_check_fast() {
    let start = Instant::now();
    for seed in 1..=20 {
        let history = lock_history(seed);
        let order = check(&LockSpec, &history).unwrap();
        assert_eq!(order.len(), 200);

        for queue_order in [Order::Fifo, Order::Lifo, Order::Priority] {
            let spec = QueueSpec {
                order: queue_order,
                maxsize: 3,
            };
            let history = queue_history(seed, queue_order);
            assert_eq!(check(&spec, &history).unwrap().len(), 200);
        }
    }
    println!("80 linearizable 200-op histories: {:?}", start.elapsed());

    let start = Instant::now();
    for seed in 1..=20 {
        // An answer no state explains, late in the history: the search fails only after
        // exhausting every order of the first 150 operations.
        let mut history = lock_history(seed);
        history.ops[150].ret = Some(Ret::Value(7));
        let err = check(&LockSpec, &history).unwrap_err();
        assert!(
            err.longest_prefix.len() >= 140,
            "{}",
            err.longest_prefix.len()
        );

        let spec = QueueSpec {
            order: Order::Fifo,
            maxsize: 3,
        };
        let mut history = queue_history(seed, Order::Fifo);
        let get = (150..200)
            .find(|&i| matches!(history.ops[i].ret, Some(Ret::Item(_))))
            .expect("a get late in the run");
        history.ops[get].ret = Some(Ret::Item(-1));
        assert!(check(&spec, &history).is_err());
    }
    println!(
        "40 non-linearizable 200-op histories: {:?}",
        start.elapsed()
    );

    // Each thread's last operation left pending: the search may place or drop them.
    let start = Instant::now();
    for seed in 1..=20 {
        let mut history = lock_history(seed);
        for o in &mut history.ops[196..] {
            o.ret = None;
            o.returned = PENDING;
        }
        check(&LockSpec, &history).unwrap();
    }
    println!(
        "20 histories ending in pending operations: {:?}",
        start.elapsed()
    );
}
