//! Sequential specifications of the crate's primitives for [`super::check`], written from
//! Python's documented behaviour, each small enough to read at a glance. Timed and `try_`
//! failures are modelled here: a `false`, `Full` or `Empty` answer is only offered in a state
//! where the operation could not have succeeded, so the checker must place it at such a point.

use std::collections::VecDeque;

use super::Spec;

/// The answers every spec here uses: one enum keeps recorded histories uniform across
/// primitives and the specs short.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Ret {
    /// A blocking call (or one with no answer) returned.
    Done,
    /// A boolean answer: `try_acquire`, a timed acquire or wait, `locked`, `is_set`.
    Bool(bool),
    /// A fallible call succeeded (`release`, `try_put`).
    Ok,
    /// A fallible call refused and changed nothing (`release` of what is not held).
    Err,
    /// A count: a semaphore's value, a queue's length, a recursion count.
    Value(usize),
    /// An item taken from a queue.
    Item(i64),
    /// A `try_put` or timed put on a full queue.
    Full,
    /// A `try_get` or timed get on an empty queue.
    Empty,
    /// A put or get refused because the queue is shut down.
    ShutDown,
}

// ---------------------------------------------------------------------------------------
// Lock

/// Operations on a Lock.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LockOp {
    /// `acquire()`: blocks while held.
    Acquire,
    /// `try_acquire()`.
    TryAcquire,
    /// `acquire_timeout(t)`: false only if it stayed held.
    AcquireTimeout,
    /// `release()`: any thread may release; `Err` if not held.
    Release,
    /// `locked()`.
    Locked,
}

/// A plain Lock: held or not, any thread may release. State: whether it is held.
#[derive(Clone, Copy, Debug, Default)]
pub struct LockSpec;

impl Spec for LockSpec {
    type State = bool;
    type Op = LockOp;
    type Ret = Ret;

    fn init(&self) -> bool {
        false
    }

    fn step(&self, &held: &bool, _thread: usize, op: &LockOp) -> Option<(bool, Ret)> {
        Some(match op {
            LockOp::Acquire if held => return None,
            LockOp::Acquire => (true, Ret::Done),
            LockOp::TryAcquire | LockOp::AcquireTimeout if held => (true, Ret::Bool(false)),
            LockOp::TryAcquire | LockOp::AcquireTimeout => (true, Ret::Bool(true)),
            LockOp::Release if held => (false, Ret::Ok),
            LockOp::Release => (false, Ret::Err),
            LockOp::Locked => (held, Ret::Bool(held)),
        })
    }
}

// ---------------------------------------------------------------------------------------
// RLock

/// Operations on an RLock; the caller is the operation's thread.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RLockOp {
    /// `acquire()`: re-enters if the caller owns it, blocks while another thread does.
    Acquire,
    /// `try_acquire()`: false only if another thread owns it.
    TryAcquire,
    /// `acquire_timeout(t)`: false only if another thread owned it throughout.
    AcquireTimeout,
    /// `release()`: `Err` unless the caller owns it; frees it when the count reaches 0.
    Release,
    /// `is_owned()`: whether the caller owns it.
    IsOwned,
    /// `recursion_count()`: the caller's count, 0 if it does not own it.
    RecursionCount,
    /// `locked()`: whether any thread owns it.
    Locked,
}

/// A re-entrant lock. State: the owner and its recursion count, or `None` when free.
#[derive(Clone, Copy, Debug, Default)]
pub struct RLockSpec;

impl Spec for RLockSpec {
    type State = Option<(usize, usize)>;
    type Op = RLockOp;
    type Ret = Ret;

    fn init(&self) -> Self::State {
        None
    }

    fn step(
        &self,
        &state: &Self::State,
        thread: usize,
        op: &RLockOp,
    ) -> Option<(Self::State, Ret)> {
        let mine = matches!(state, Some((owner, _)) if owner == thread);
        let taken = match state {
            Some((_, count)) if mine => Some((thread, count + 1)),
            Some(_) => None,
            None => Some((thread, 1)),
        };
        Some(match op {
            RLockOp::Acquire => (Some(taken?), Ret::Done),
            RLockOp::TryAcquire | RLockOp::AcquireTimeout => match taken {
                Some(next) => (Some(next), Ret::Bool(true)),
                None => (state, Ret::Bool(false)),
            },
            RLockOp::Release => match state {
                Some((_, 1)) if mine => (None, Ret::Ok),
                Some((owner, count)) if mine => (Some((owner, count - 1)), Ret::Ok),
                _ => (state, Ret::Err),
            },
            RLockOp::IsOwned => (state, Ret::Bool(mine)),
            RLockOp::RecursionCount => match state {
                Some((_, count)) if mine => (state, Ret::Value(count)),
                _ => (state, Ret::Value(0)),
            },
            RLockOp::Locked => (state, Ret::Bool(state.is_some())),
        })
    }
}

// ---------------------------------------------------------------------------------------
// Semaphore

/// Operations on a Semaphore or BoundedSemaphore.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SemOp {
    /// `acquire()`: blocks while the value is 0.
    Acquire,
    /// `try_acquire()`: false only if the value is 0.
    TryAcquire,
    /// `acquire_timeout(t)`: false only if the value stayed 0.
    AcquireTimeout,
    /// `release()`: `Ok`, or `Err` (nothing added) past a bound.
    Release,
    /// `release_n(n)`: all `n` or, past a bound, none.
    ReleaseN(usize),
    /// `value()`.
    Value,
}

/// A counting semaphore. State: the value. `initial` is the value it starts with; `bounded`
/// is a BoundedSemaphore's ceiling (`None` for a plain Semaphore, whose releases always
/// succeed and are recorded as `Ok`).
#[derive(Clone, Copy, Debug)]
pub struct SemaphoreSpec {
    /// The starting value (for a BoundedSemaphore, normally equal to the bound).
    pub initial: usize,
    /// The ceiling a release may not pass, if bounded.
    pub bounded: Option<usize>,
}

impl SemaphoreSpec {
    /// A plain Semaphore starting at `initial`.
    pub fn unbounded(initial: usize) -> Self {
        SemaphoreSpec {
            initial,
            bounded: None,
        }
    }

    /// A BoundedSemaphore: starts at `bound`, may never pass it.
    pub fn bounded(bound: usize) -> Self {
        SemaphoreSpec {
            initial: bound,
            bounded: Some(bound),
        }
    }

    /// Adds `n` unless that passes the bound.
    fn release(&self, value: usize, n: usize) -> (usize, Ret) {
        match self.bounded {
            Some(bound) if value + n > bound => (value, Ret::Err),
            _ => (value + n, Ret::Ok),
        }
    }
}

impl Spec for SemaphoreSpec {
    type State = usize;
    type Op = SemOp;
    type Ret = Ret;

    fn init(&self) -> usize {
        self.initial
    }

    fn step(&self, &value: &usize, _thread: usize, op: &SemOp) -> Option<(usize, Ret)> {
        Some(match op {
            SemOp::Acquire if value == 0 => return None,
            SemOp::Acquire => (value - 1, Ret::Done),
            SemOp::TryAcquire | SemOp::AcquireTimeout if value == 0 => (0, Ret::Bool(false)),
            SemOp::TryAcquire | SemOp::AcquireTimeout => (value - 1, Ret::Bool(true)),
            SemOp::Release => self.release(value, 1),
            SemOp::ReleaseN(n) => self.release(value, *n),
            SemOp::Value => (value, Ret::Value(value)),
        })
    }
}

// ---------------------------------------------------------------------------------------
// Event

/// Operations on an Event.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EventOp {
    /// `set()`.
    Set,
    /// `clear()`.
    Clear,
    /// `is_set()`.
    IsSet,
    /// `wait()`: blocks while unset.
    Wait,
    /// `wait_timeout(t)`: true once set; false only at a point where it was unset.
    WaitTimeout,
}

/// An Event: a flag threads wait on. State: whether it is set.
#[derive(Clone, Copy, Debug, Default)]
pub struct EventSpec;

impl Spec for EventSpec {
    type State = bool;
    type Op = EventOp;
    type Ret = Ret;

    fn init(&self) -> bool {
        false
    }

    fn step(&self, &set: &bool, _thread: usize, op: &EventOp) -> Option<(bool, Ret)> {
        Some(match op {
            EventOp::Set => (true, Ret::Done),
            EventOp::Clear => (false, Ret::Done),
            EventOp::IsSet => (set, Ret::Bool(set)),
            EventOp::Wait if !set => return None,
            EventOp::Wait => (set, Ret::Done),
            EventOp::WaitTimeout => (set, Ret::Bool(set)),
        })
    }
}

// ---------------------------------------------------------------------------------------
// Queues

/// Which item a get takes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Order {
    /// `Queue`: oldest first.
    Fifo,
    /// `LifoQueue`: newest first.
    Lifo,
    /// `PriorityQueue`: smallest first.
    Priority,
}

/// Operations on a queue, items being `i64`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum QueueOp {
    /// `put(x)`: blocks while full; answers `Done`.
    Put(i64),
    /// `try_put(x)`: `Ok`, or `Full` only if full.
    TryPut(i64),
    /// `put_timeout(x, t)`: `Ok`, or `Full` only at a point where it was full.
    PutTimeout(i64),
    /// `get()`: blocks while empty; answers `Item(x)`.
    Get,
    /// `try_get()`: `Item(x)`, or `Empty` only if empty.
    TryGet,
    /// `get_timeout(t)`: `Item(x)`, or `Empty` only at a point where it was empty.
    GetTimeout,
    /// `len()`: answers `Value(n)`.
    Len,
    /// `shutdown(immediate)`: answers `Done`. Later puts answer `ShutDown`; gets hand out
    /// what is left and then answer `ShutDown` (at once, and with nothing left, if
    /// `immediate`).
    Shutdown(bool),
}

/// A queue's state: its items, front first, where the front is what the next get takes (for
/// `Priority` kept sorted, smallest at the front), and whether it is shut down.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct QueueState {
    /// The items.
    pub items: VecDeque<i64>,
    /// Whether `shutdown` ran.
    pub shut: bool,
}

/// A queue of the given order; `maxsize` 0 means unbounded (Python's convention). State: a
/// [`QueueState`].
#[derive(Clone, Copy, Debug)]
pub struct QueueSpec {
    /// Which item a get takes.
    pub order: Order,
    /// The capacity; 0 for unbounded.
    pub maxsize: usize,
}

impl QueueSpec {
    /// Whether a put must wait.
    fn full(&self, items: &VecDeque<i64>) -> bool {
        self.maxsize != 0 && items.len() >= self.maxsize
    }

    /// The items after putting `x`.
    fn put(&self, items: &VecDeque<i64>, x: i64) -> VecDeque<i64> {
        let mut items = items.clone();
        match self.order {
            Order::Fifo => items.push_back(x),
            Order::Lifo => items.push_front(x),
            Order::Priority => {
                let at = items.partition_point(|&y| y <= x);
                items.insert(at, x);
            }
        }
        items
    }
}

impl Spec for QueueSpec {
    type State = QueueState;
    type Op = QueueOp;
    type Ret = Ret;

    fn init(&self) -> QueueState {
        QueueState::default()
    }

    fn step(&self, state: &QueueState, _thread: usize, op: &QueueOp) -> Option<(QueueState, Ret)> {
        let QueueState { items, shut } = state;
        let full = self.full(items);
        let same = |ret| Some((state.clone(), ret));
        match *op {
            // Python checks shutdown before room.
            QueueOp::Put(_) | QueueOp::TryPut(_) | QueueOp::PutTimeout(_) if *shut => {
                same(Ret::ShutDown)
            }
            QueueOp::Put(_) if full => None,
            QueueOp::TryPut(_) | QueueOp::PutTimeout(_) if full => same(Ret::Full),
            QueueOp::Put(x) | QueueOp::TryPut(x) | QueueOp::PutTimeout(x) => {
                let ret = if matches!(op, QueueOp::Put(_)) {
                    Ret::Done
                } else {
                    Ret::Ok
                };
                Some((
                    QueueState {
                        items: self.put(items, x),
                        shut: false,
                    },
                    ret,
                ))
            }
            QueueOp::Get | QueueOp::TryGet | QueueOp::GetTimeout => {
                let mut rest = items.clone();
                match (rest.pop_front(), op) {
                    (Some(x), _) => Some((
                        QueueState {
                            items: rest,
                            shut: *shut,
                        },
                        Ret::Item(x),
                    )),
                    (None, _) if *shut => same(Ret::ShutDown),
                    (None, QueueOp::Get) => None,
                    (None, _) => same(Ret::Empty),
                }
            }
            QueueOp::Len => same(Ret::Value(items.len())),
            QueueOp::Shutdown(immediate) => Some((
                QueueState {
                    // An immediate shutdown drains the queue as one step.
                    items: if immediate {
                        VecDeque::new()
                    } else {
                        items.clone()
                    },
                    shut: true,
                },
                Ret::Done,
            )),
        }
    }
}
