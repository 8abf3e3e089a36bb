//! The crate's types as subjects of a linearizability check: how to call each one for a
//! spec's operation and report the answer in the spec's terms, and what the main thread
//! calls to free a worker that blocked for good. Shared by the real-thread runs
//! (`tests/linearizability.rs`) and the shuttle runs (`tests/shuttle.rs`).

use std::fmt::Debug;
use std::time::Duration;

use locksmith::queue::{GetError, LifoQueue, PriorityQueue, PutError, Queue};
use locksmith::{BoundedSemaphore, Event, Lock, RLock, ReleaseError, Semaphore};

use super::specs::{
    EventOp, EventSpec, LockOp, LockSpec, Order, QueueOp, QueueSpec, RLockOp, RLockSpec, Ret,
    SemOp, SemaphoreSpec,
};
use super::{Recorder, Spec};

/// How long a timed call waits: short, so that timeouts happen under contention.
pub const TIMED: Duration = Duration::from_micros(300);

/// What a scenario runs on: the object, how to call it, and the main thread's rescue call.
pub trait Subject: Sync {
    type Op: Copy + Debug + Send + Sync;
    type Spec: Spec<Op = Self::Op, Ret = Ret>;

    fn spec(&self) -> Self::Spec;

    /// Runs `op` on the calling thread and reports its answer in the spec's terms.
    fn call(&self, op: Self::Op) -> Ret;

    /// The main thread's `n`th rescue call, made while workers are still running.
    fn rescue(&self, n: usize) -> Self::Op;

    /// A call a worker makes once its plan is done, while this returns one (an RLock owner
    /// releasing what it still holds, so that nobody waits on a finished thread).
    fn wind_down(&self) -> Option<Self::Op> {
        None
    }

    /// Runs `op` as thread `thread`, logging its call and its answer in `recorder`.
    fn call_recorded(&self, recorder: &Recorder<Self::Op, Ret>, thread: usize, op: Self::Op) {
        let token = recorder.invoke(thread, op);
        let ret = self.call(op);
        recorder.respond(token, ret);
    }

    /// A worker's whole part: every call of `plan`, then its wind-down calls, all logged.
    fn run_worker(&self, recorder: &Recorder<Self::Op, Ret>, thread: usize, plan: &[Self::Op]) {
        for &op in plan {
            self.call_recorded(recorder, thread, op);
        }
        while let Some(op) = self.wind_down() {
            self.call_recorded(recorder, thread, op);
        }
    }
}

fn lock_answer(released: Result<(), ReleaseError>) -> Ret {
    match released {
        Ok(()) => Ret::Ok,
        Err(_) => Ret::Err,
    }
}

impl Subject for Lock {
    type Op = LockOp;
    type Spec = LockSpec;

    fn spec(&self) -> LockSpec {
        LockSpec
    }

    fn call(&self, op: LockOp) -> Ret {
        match op {
            LockOp::Acquire => {
                self.acquire();
                Ret::Done
            }
            LockOp::TryAcquire => Ret::Bool(self.try_acquire()),
            LockOp::AcquireTimeout => Ret::Bool(self.acquire_timeout(TIMED)),
            LockOp::Release => lock_answer(self.release()),
            LockOp::Locked => Ret::Bool(self.locked()),
        }
    }

    fn rescue(&self, _: usize) -> LockOp {
        LockOp::Release
    }
}

impl Subject for RLock {
    type Op = RLockOp;
    type Spec = RLockSpec;

    fn spec(&self) -> RLockSpec {
        RLockSpec
    }

    fn call(&self, op: RLockOp) -> Ret {
        match op {
            RLockOp::Acquire => {
                self.acquire();
                Ret::Done
            }
            RLockOp::TryAcquire => Ret::Bool(self.try_acquire()),
            RLockOp::AcquireTimeout => Ret::Bool(self.acquire_timeout(TIMED)),
            RLockOp::Release => lock_answer(self.release()),
            RLockOp::IsOwned => Ret::Bool(self.is_owned()),
            RLockOp::RecursionCount => Ret::Value(self.recursion_count()),
            RLockOp::Locked => Ret::Bool(self.locked()),
        }
    }

    /// Only the owner may release an RLock, so the main thread cannot free it: it asks
    /// whether it is locked, and the owner's wind-down does the rest.
    fn rescue(&self, _: usize) -> RLockOp {
        RLockOp::Locked
    }

    fn wind_down(&self) -> Option<RLockOp> {
        self.is_owned().then_some(RLockOp::Release)
    }
}

/// Either kind of semaphore, with the spec that describes it.
pub enum AnySemaphore {
    Plain(Semaphore, usize),
    Bounded(BoundedSemaphore, usize),
}

impl Subject for AnySemaphore {
    type Op = SemOp;
    type Spec = SemaphoreSpec;

    fn spec(&self) -> SemaphoreSpec {
        match self {
            AnySemaphore::Plain(_, initial) => SemaphoreSpec::unbounded(*initial),
            AnySemaphore::Bounded(_, bound) => SemaphoreSpec::bounded(*bound),
        }
    }

    fn call(&self, op: SemOp) -> Ret {
        match (self, op) {
            (AnySemaphore::Plain(s, _), SemOp::Acquire) => {
                s.acquire();
                Ret::Done
            }
            (AnySemaphore::Bounded(s, _), SemOp::Acquire) => {
                s.acquire();
                Ret::Done
            }
            (AnySemaphore::Plain(s, _), SemOp::TryAcquire) => Ret::Bool(s.try_acquire()),
            (AnySemaphore::Bounded(s, _), SemOp::TryAcquire) => Ret::Bool(s.try_acquire()),
            (AnySemaphore::Plain(s, _), SemOp::AcquireTimeout) => {
                Ret::Bool(s.acquire_timeout(TIMED))
            }
            (AnySemaphore::Bounded(s, _), SemOp::AcquireTimeout) => {
                Ret::Bool(s.acquire_timeout(TIMED))
            }
            (AnySemaphore::Plain(s, _), SemOp::Release) => {
                s.release();
                Ret::Ok
            }
            (AnySemaphore::Bounded(s, _), SemOp::Release) => lock_answer(s.release()),
            (AnySemaphore::Plain(s, _), SemOp::ReleaseN(n)) => {
                s.release_n(n);
                Ret::Ok
            }
            (AnySemaphore::Bounded(s, _), SemOp::ReleaseN(n)) => lock_answer(s.release_n(n)),
            (AnySemaphore::Plain(s, _), SemOp::Value) => Ret::Value(s.value()),
            (AnySemaphore::Bounded(s, _), SemOp::Value) => Ret::Value(s.value()),
        }
    }

    fn rescue(&self, _: usize) -> SemOp {
        SemOp::Release
    }
}

impl Subject for Event {
    type Op = EventOp;
    type Spec = EventSpec;

    fn spec(&self) -> EventSpec {
        EventSpec
    }

    fn call(&self, op: EventOp) -> Ret {
        match op {
            EventOp::Set => {
                self.set();
                Ret::Done
            }
            EventOp::Clear => {
                self.clear();
                Ret::Done
            }
            EventOp::IsSet => Ret::Bool(self.is_set()),
            EventOp::Wait => {
                self.wait();
                Ret::Done
            }
            EventOp::WaitTimeout => Ret::Bool(self.wait_timeout(TIMED)),
        }
    }

    fn rescue(&self, _: usize) -> EventOp {
        EventOp::Set
    }
}

/// One of the three bounded queue orders, items `i64`. (One per test run: the size gap
/// between the ring and the locked stores does not matter.)
#[allow(clippy::large_enum_variant)]
pub enum AnyQueue {
    Fifo(Queue<i64>),
    Lifo(LifoQueue<i64>),
    Priority(PriorityQueue<i64>),
}

/// The rescue calls put items no plan uses, so every item in a history is distinct.
pub const RESCUE_ITEMS: i64 = 1_000_000;

macro_rules! queue_call {
    ($queue:expr, $op:expr) => {{
        let queue = $queue;
        match $op {
            QueueOp::Put(x) => match put_answer(queue.put(x)) {
                Ret::Ok => Ret::Done,
                other => other,
            },
            QueueOp::TryPut(x) => put_answer(queue.try_put(x)),
            QueueOp::PutTimeout(x) => put_answer(queue.put_timeout(x, TIMED)),
            QueueOp::Get => get_answer(queue.get()),
            QueueOp::TryGet => get_answer(queue.try_get()),
            QueueOp::GetTimeout => get_answer(queue.get_timeout(TIMED)),
            QueueOp::Len => Ret::Value(queue.len()),
            QueueOp::Shutdown(immediate) => {
                queue.shutdown(immediate);
                Ret::Done
            }
        }
    }};
}

fn put_answer(put: Result<(), PutError<i64>>) -> Ret {
    match put {
        Ok(()) => Ret::Ok,
        Err(PutError::Full(_)) => Ret::Full,
        Err(PutError::ShutDown(_)) => Ret::ShutDown,
    }
}

fn get_answer(got: Result<i64, GetError>) -> Ret {
    match got {
        Ok(x) => Ret::Item(x),
        Err(GetError::Empty) => Ret::Empty,
        Err(GetError::ShutDown) => Ret::ShutDown,
    }
}

impl AnyQueue {
    pub fn new(order: Order, maxsize: usize) -> Self {
        match order {
            Order::Fifo => AnyQueue::Fifo(Queue::new(maxsize)),
            Order::Lifo => AnyQueue::Lifo(LifoQueue::new(maxsize)),
            Order::Priority => AnyQueue::Priority(PriorityQueue::new(maxsize)),
        }
    }

    fn order(&self) -> Order {
        match self {
            AnyQueue::Fifo(_) => Order::Fifo,
            AnyQueue::Lifo(_) => Order::Lifo,
            AnyQueue::Priority(_) => Order::Priority,
        }
    }

    fn maxsize(&self) -> usize {
        match self {
            AnyQueue::Fifo(q) => q.maxsize(),
            AnyQueue::Lifo(q) => q.maxsize(),
            AnyQueue::Priority(q) => q.maxsize(),
        }
    }
}

impl Subject for AnyQueue {
    type Op = QueueOp;
    type Spec = QueueSpec;

    fn spec(&self) -> QueueSpec {
        QueueSpec {
            order: self.order(),
            maxsize: self.maxsize(),
        }
    }

    fn call(&self, op: QueueOp) -> Ret {
        match self {
            AnyQueue::Fifo(q) => queue_call!(q, op),
            AnyQueue::Lifo(q) => queue_call!(q, op),
            AnyQueue::Priority(q) => queue_call!(q, op),
        }
    }

    /// Alternately takes an item (for a blocked putter) and offers one (for a blocked getter),
    /// never blocking itself.
    fn rescue(&self, n: usize) -> QueueOp {
        if n % 2 == 0 {
            QueueOp::TryGet
        } else {
            QueueOp::TryPut(RESCUE_ITEMS + n as i64)
        }
    }
}
