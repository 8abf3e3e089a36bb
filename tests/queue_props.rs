#![cfg(not(loom))]
//! Property tests for the `queue` module ([`Queue`], [`LifoQueue`], [`PriorityQueue`] and
//! [`SimpleQueue`]): a reference model for each type driven over several actor threads, real
//! producers and consumers stopped by sentinels, by `shutdown(false)` and after `join`,
//! timed operations under contention, and `shutdown(true)` racing blocked putters and getters.
//!
//! Invariant IDs: QUEUE-1 no item lost or duplicated; QUEUE-2 `len` never exceeds `maxsize`
//! (`maxsize` 0 = unbounded); QUEUE-3 order (FIFO, FIFO per producer, LIFO, smallest first);
//! QUEUE-4 put waits while full, get waits while empty, and each is woken when that changes
//! (no lost wake-up); QUEUE-5 `try_*` never block, a failed or timed-out put/get changes
//! nothing and gives the item back; QUEUE-6 `task_done`/`join`; QUEUE-7 `shutdown(false)`;
//! QUEUE-8 `shutdown(true)` drains, counts drained items done, wakes `join`; QUEUE-9 an item
//! is dropped as soon as it is taken out; QUEUE-10 `SimpleQueue` put never blocks.
//!
//! Semantics are CPython 3.13's `queue.py`: put checks shutdown first; get answers `ShutDown`
//! only when shut down and empty; `shutdown(true)` drains, counting each drained item done
//! but never below zero.

// This file uses the actors and the real-thread runner, not the lock-only helpers.
#[allow(dead_code)]
mod props_support;

use std::collections::{BTreeMap, BTreeSet};
use std::marker::PhantomData;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread;
use std::time::{Duration, Instant};

use locksmith::queue::{
    GetError, LifoQueue, PriorityQueue, PutError, Queue, SimpleQueue, TaskDoneError,
};
use proptest::collection::vec;
use proptest::prelude::*;
use proptest::strategy::Union;
use proptest::test_runner::TestCaseError;
use proptest_state_machine::{ReferenceStateMachine, StateMachineTest, prop_state_machine};

use props_support::{Actors, TINY_TIMEOUT_MAX, any_timeout, tiny_timeout, together};

/// A timeout that never expires in a passing run.
const LONG: Duration = Duration::from_secs(3600);

/// The most [`jitter`] between two operations of a thread in the wake-up stress tests: about
/// as long as a waiter spins before it parks.
const PIPE_WORK: Duration = Duration::from_micros(40);

/// How long a waker waits at most for a blocked helper to park (it normally parks within
/// microseconds; past this the waker wakes it anyway).
const PARK_LIMIT: Duration = Duration::from_secs(1);

// ---------------------------------------------------------------------------------------
// One interface over the four queues.

/// Which queue a test drives.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Fifo,
    Lifo,
    Priority,
    Simple,
}

impl Kind {
    /// Whether items from one producer must come out in that producer's order.
    fn fifo(self) -> bool {
        matches!(self, Kind::Fifo | Kind::Simple)
    }
}

/// The operations the tests use, forwarding to each queue's own methods. `SimpleQueue` has no
/// bound, no task accounting and no shutdown: its `try_put` and `put_timeout` are its `put`
/// (which never blocks and never fails), `is_full` is false, `maxsize` 0, `is_shutdown`
/// false, and the tests never call its `task_done`, `join` or `shutdown`.
trait PropQueue<T>: Send + Sync + 'static {
    const KIND: Kind;

    fn with_maxsize(maxsize: usize) -> Self;
    fn put(&self, item: T) -> Result<(), PutError<T>>;
    fn try_put(&self, item: T) -> Result<(), PutError<T>>;
    fn put_timeout(&self, item: T, timeout: Duration) -> Result<(), PutError<T>>;
    fn get(&self) -> Result<T, GetError>;
    fn try_get(&self) -> Result<T, GetError>;
    fn get_timeout(&self, timeout: Duration) -> Result<T, GetError>;
    fn len(&self) -> usize;
    fn is_empty(&self) -> bool;
    fn is_full(&self) -> bool;
    fn maxsize(&self) -> usize;
    fn task_done(&self) -> Result<(), TaskDoneError>;
    fn join(&self);
    fn shutdown(&self, immediate: bool);
    fn is_shutdown(&self) -> bool;
    /// Python's `unfinished_tasks` (the queues' hidden test helper).
    fn unfinished_tasks(&self) -> usize;
    /// Threads parked in get, put and join (the queues' hidden test helper).
    fn queued_waiters(&self) -> (usize, usize, usize);
}

macro_rules! prop_queue {
    ($queue:ident, $kind:expr) => {
        impl<T: Ord + Send + 'static> PropQueue<T> for $queue<T> {
            const KIND: Kind = $kind;

            fn with_maxsize(maxsize: usize) -> Self {
                $queue::new(maxsize)
            }
            fn put(&self, item: T) -> Result<(), PutError<T>> {
                $queue::put(self, item)
            }
            fn try_put(&self, item: T) -> Result<(), PutError<T>> {
                $queue::try_put(self, item)
            }
            fn put_timeout(&self, item: T, timeout: Duration) -> Result<(), PutError<T>> {
                $queue::put_timeout(self, item, timeout)
            }
            fn get(&self) -> Result<T, GetError> {
                $queue::get(self)
            }
            fn try_get(&self) -> Result<T, GetError> {
                $queue::try_get(self)
            }
            fn get_timeout(&self, timeout: Duration) -> Result<T, GetError> {
                $queue::get_timeout(self, timeout)
            }
            fn len(&self) -> usize {
                $queue::len(self)
            }
            fn is_empty(&self) -> bool {
                $queue::is_empty(self)
            }
            fn is_full(&self) -> bool {
                $queue::is_full(self)
            }
            fn maxsize(&self) -> usize {
                $queue::maxsize(self)
            }
            fn task_done(&self) -> Result<(), TaskDoneError> {
                $queue::task_done(self)
            }
            fn join(&self) {
                $queue::join(self)
            }
            fn shutdown(&self, immediate: bool) {
                $queue::shutdown(self, immediate)
            }
            fn is_shutdown(&self) -> bool {
                $queue::is_shutdown(self)
            }
            fn unfinished_tasks(&self) -> usize {
                $queue::unfinished_tasks(self)
            }
            fn queued_waiters(&self) -> (usize, usize, usize) {
                $queue::queued_waiters(self)
            }
        }
    };
}

prop_queue!(Queue, Kind::Fifo);
prop_queue!(LifoQueue, Kind::Lifo);
prop_queue!(PriorityQueue, Kind::Priority);

impl<T: Ord + Send + 'static> PropQueue<T> for SimpleQueue<T> {
    const KIND: Kind = Kind::Simple;

    fn with_maxsize(maxsize: usize) -> Self {
        assert_eq!(maxsize, 0, "a SimpleQueue is unbounded");
        SimpleQueue::new()
    }
    fn put(&self, item: T) -> Result<(), PutError<T>> {
        SimpleQueue::put(self, item);
        Ok(())
    }
    fn try_put(&self, item: T) -> Result<(), PutError<T>> {
        SimpleQueue::put(self, item);
        Ok(())
    }
    fn put_timeout(&self, item: T, _timeout: Duration) -> Result<(), PutError<T>> {
        SimpleQueue::put(self, item);
        Ok(())
    }
    fn get(&self) -> Result<T, GetError> {
        SimpleQueue::get(self)
    }
    fn try_get(&self) -> Result<T, GetError> {
        SimpleQueue::try_get(self)
    }
    fn get_timeout(&self, timeout: Duration) -> Result<T, GetError> {
        SimpleQueue::get_timeout(self, timeout)
    }
    fn len(&self) -> usize {
        SimpleQueue::len(self)
    }
    fn is_empty(&self) -> bool {
        SimpleQueue::is_empty(self)
    }
    fn is_full(&self) -> bool {
        false
    }
    fn maxsize(&self) -> usize {
        0
    }
    fn task_done(&self) -> Result<(), TaskDoneError> {
        unreachable!("a SimpleQueue has no task_done")
    }
    fn join(&self) {
        unreachable!("a SimpleQueue has no join")
    }
    fn shutdown(&self, _immediate: bool) {
        unreachable!("a SimpleQueue has no shutdown")
    }
    fn is_shutdown(&self) -> bool {
        false
    }
    fn unfinished_tasks(&self) -> usize {
        0
    }
    fn queued_waiters(&self) -> (usize, usize, usize) {
        (SimpleQueue::queued_waiters(self), 0, 0)
    }
}

// ---------------------------------------------------------------------------------------
// Items whose life the model tests track.

/// What identifies an item: a small key (so the priority queue sees ties) and a unique id.
/// Ordered by key, then id, as the items are.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
struct Tag {
    key: u8,
    id: u64,
}

/// Which items are alive, and any item dropped twice.
#[derive(Default)]
struct Tracker {
    live: Mutex<BTreeSet<u64>>,
    dropped_twice: Mutex<Vec<u64>>,
}

impl Tracker {
    fn live(&self) -> BTreeSet<u64> {
        self.live
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    fn dropped_twice(&self) -> Vec<u64> {
        self.dropped_twice
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }
}

/// An item of the model tests: alive (in its tracker) from creation until dropped.
struct Item {
    tag: Tag,
    tracker: Arc<Tracker>,
}

impl Item {
    fn new(tracker: &Arc<Tracker>, tag: Tag) -> Self {
        let fresh = tracker
            .live
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(tag.id);
        assert!(fresh, "item {} created twice", tag.id);
        Item {
            tag,
            tracker: Arc::clone(tracker),
        }
    }
}

impl Drop for Item {
    fn drop(&mut self) {
        let was_live = self
            .tracker
            .live
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(&self.tag.id);
        if !was_live {
            self.tracker
                .dropped_twice
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .push(self.tag.id);
        }
    }
}

impl PartialEq for Item {
    fn eq(&self, other: &Self) -> bool {
        self.tag == other.tag
    }
}

impl Eq for Item {}

impl PartialOrd for Item {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Item {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.tag.cmp(&other.tag)
    }
}

// ---------------------------------------------------------------------------------------
// The reference model.

/// What the model knows: the queue's kind and bound, its items (in put order), the
/// unfinished-task count, whether it is shut down, and the next item's id.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Model {
    kind: Kind,
    actors: usize,
    maxsize: usize,
    items: Vec<Tag>,
    unfinished: usize,
    shutdown: bool,
    next_id: u64,
}

/// What a put answered; a refused put names the item it gave back.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Put {
    Ok,
    Full(Tag),
    ShutDown(Tag),
}

/// What a get answered.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Got {
    Item(Tag),
    Empty,
    ShutDown,
}

/// Everything the queries answer at once.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Observation {
    len: usize,
    is_empty: bool,
    is_full: bool,
    maxsize: usize,
    is_shutdown: bool,
}

impl Model {
    fn full(&self) -> bool {
        self.maxsize > 0 && self.items.len() >= self.maxsize
    }

    /// The next item's tag (every item created gets a fresh id, put or not).
    fn fresh(&mut self, key: u8) -> Tag {
        let tag = Tag {
            key,
            id: self.next_id,
        };
        self.next_id += 1;
        tag
    }

    /// A put that does not wait (QUEUE-5, QUEUE-7): shutdown first, then full, else in.
    fn put(&mut self, tag: Tag) -> Put {
        if self.shutdown {
            Put::ShutDown(tag)
        } else if self.full() {
            Put::Full(tag)
        } else {
            self.items.push(tag);
            // A SimpleQueue counts no tasks.
            if self.kind != Kind::Simple {
                self.unfinished += 1;
            }
            Put::Ok
        }
    }

    /// Takes the next item out (QUEUE-3): the oldest, the newest, or the smallest.
    fn take(&mut self) -> Option<Tag> {
        if self.items.is_empty() {
            return None;
        }
        let index = match self.kind {
            Kind::Fifo | Kind::Simple => 0,
            Kind::Lifo => self.items.len() - 1,
            Kind::Priority => {
                let smallest = self.items.iter().min().expect("not empty");
                self.items
                    .iter()
                    .position(|tag| tag == smallest)
                    .expect("there")
            }
        };
        Some(self.items.remove(index))
    }

    /// A get that does not wait (QUEUE-5, QUEUE-7): `ShutDown` only when shut down and empty.
    fn get(&mut self) -> Got {
        match self.take() {
            Some(tag) => Got::Item(tag),
            None if self.shutdown => Got::ShutDown,
            None => Got::Empty,
        }
    }

    /// QUEUE-6: refused (and nothing changes) when no task is unfinished.
    fn task_done(&mut self) -> bool {
        let ok = self.unfinished > 0;
        if ok {
            self.unfinished -= 1;
        }
        ok
    }

    /// QUEUE-7, QUEUE-8: drains when immediate, counting each drained item done, not below 0.
    fn shutdown(&mut self, immediate: bool) {
        self.shutdown = true;
        if immediate {
            for _ in self.items.drain(..) {
                self.unfinished = self.unfinished.saturating_sub(1);
            }
        }
    }

    fn observe(&self) -> Observation {
        Observation {
            len: self.items.len(),
            is_empty: self.items.is_empty(),
            is_full: self.full(),
            maxsize: self.maxsize,
            is_shutdown: self.shutdown,
        }
    }
}

/// How a helper blocks in a paired operation: only the waker's action can end it.
#[derive(Clone, Copy, Debug)]
enum Wait {
    /// `put`/`get`.
    Forever,
    /// `put_timeout`/`get_timeout` with an hour or `Duration::MAX`.
    Timeout(Duration),
}

fn long_wait() -> impl Strategy<Value = Wait> + Clone {
    prop_oneof![
        Just(Wait::Forever),
        Just(Wait::Timeout(LONG)),
        Just(Wait::Timeout(Duration::MAX)),
    ]
}

/// One operation, run by one actor.
#[derive(Clone, Debug)]
enum Op {
    Put(u8),
    TryPut(u8),
    PutTimeout(u8, Duration),
    Get,
    TryGet,
    GetTimeout(Duration),
    TaskDone,
    /// `join()` with no unfinished task: returns at once.
    Join,
    Shutdown(bool),
    /// `len`, `is_empty`, `is_full`, `maxsize`, `is_shutdown`.
    Observe,
    /// On an empty queue: a helper thread blocks in a get; the actor puts an item after a
    /// pause; the helper must get exactly that item.
    GetWokenByPut(Wait, u8),
    /// On a full queue: a helper thread blocks putting an item; the actor takes one (`get`
    /// or `try_get`) after a pause; the helper's put then goes in.
    PutWokenByGet(Wait, u8, bool),
    /// On an empty queue: a helper blocks in a get; the actor shuts the queue down.
    GetWokenByShutdown(Wait, bool),
    /// On a full queue: a helper blocks putting an item; the actor shuts the queue down; the
    /// helper gets its item back.
    PutWokenByShutdown(Wait, u8, bool),
    /// With unfinished tasks: the actor calls `task_done` for all but one, a helper blocks in
    /// `join`, and the last `task_done` (after a pause) must release it.
    JoinWokenByTaskDone,
    /// With unfinished tasks, all of them still in the queue: a helper blocks in `join`, and
    /// `shutdown(true)` (after a pause) must release it.
    JoinWokenByShutdown,
}

#[derive(Clone, Debug)]
struct Step {
    actor: usize,
    op: Op,
}

/// What an operation returned, as the model predicts it and as the actor saw it.
#[derive(Debug, PartialEq, Eq)]
enum Answer {
    Put(Put),
    Got(Got),
    TaskDone(bool),
    Done,
    Observed(Observation),
    TaskDones(Vec<bool>),
    /// A paired operation: whether the blocked helper returned before the waker acted (it
    /// must not), the helper's answer, and the waker's.
    Woken {
        early: bool,
        helper: Box<Answer>,
        waker: Box<Answer>,
    },
}

fn put_answer(result: Result<(), PutError<Item>>) -> Answer {
    // The item given back is dropped here, after its tag was read.
    Answer::Put(match result {
        Ok(()) => Put::Ok,
        Err(PutError::Full(item)) => Put::Full(item.tag),
        Err(PutError::ShutDown(item)) => Put::ShutDown(item.tag),
    })
}

fn got_answer(result: Result<Item, GetError>) -> Answer {
    // The item got is dropped here: the queue must not keep it alive (QUEUE-9).
    Answer::Got(match result {
        Ok(item) => Got::Item(item.tag),
        Err(GetError::Empty) => Got::Empty,
        Err(GetError::ShutDown) => Got::ShutDown,
    })
}

fn put_waiting<Q: PropQueue<Item>>(queue: &Q, wait: Wait, item: Item) -> Answer {
    put_answer(match wait {
        Wait::Forever => queue.put(item),
        Wait::Timeout(timeout) => queue.put_timeout(item, timeout),
    })
}

fn get_waiting<Q: PropQueue<Item>>(queue: &Q, wait: Wait) -> Answer {
    got_answer(match wait {
        Wait::Forever => queue.get(),
        Wait::Timeout(timeout) => queue.get_timeout(timeout),
    })
}

/// Where a paired operation's helper parks: in get, put or join.
#[derive(Clone, Copy, Debug)]
enum Parks {
    Get,
    Put,
    Join,
}

/// Runs `blocked` on a helper thread, waits until it is parked where `parks` says (or, past
/// [`PARK_LIMIT`], has returned or not), notes whether it has already returned, runs `wake`,
/// and waits for the helper.
fn woken<Q: PropQueue<Item>>(
    queue: &Q,
    parks: Parks,
    blocked: impl FnOnce(&Q) -> Answer + Send,
    wake: impl FnOnce(&Q) -> Answer,
) -> Answer {
    let returned = AtomicBool::new(false);
    thread::scope(|scope| {
        let helper = scope.spawn(|| {
            let answer = blocked(queue);
            returned.store(true, Ordering::SeqCst);
            answer
        });
        let parked = || {
            let (get, put, join) = queue.queued_waiters();
            match parks {
                Parks::Get => get,
                Parks::Put => put,
                Parks::Join => join,
            }
        };
        let start = Instant::now();
        while parked() == 0 && !returned.load(Ordering::SeqCst) && start.elapsed() < PARK_LIMIT {
            thread::sleep(Duration::from_micros(50));
        }
        let early = returned.load(Ordering::SeqCst);
        let waker = wake(queue);
        let helper = helper.join().expect("the blocked helper panicked");
        Answer::Woken {
            early,
            helper: Box::new(helper),
            waker: Box::new(waker),
        }
    })
}

impl Op {
    /// The key of the item this operation puts, if it puts one.
    fn key(&self) -> Option<u8> {
        match *self {
            Op::Put(key)
            | Op::TryPut(key)
            | Op::PutTimeout(key, _)
            | Op::GetWokenByPut(_, key)
            | Op::PutWokenByGet(_, key, _)
            | Op::PutWokenByShutdown(_, key, _) => Some(key),
            _ => None,
        }
    }

    /// Whether the model allows this operation now: nothing that would block is ever run
    /// alone, and the paired ones only when their helper does block.
    fn allowed(&self, model: &Model) -> bool {
        let simple = model.kind == Kind::Simple;
        let put_returns = simple || model.shutdown || !model.full();
        let get_returns = model.shutdown || !model.items.is_empty();
        let get_blocks = !model.shutdown && model.items.is_empty();
        let put_blocks = !simple && !model.shutdown && model.full();
        let tiny = |timeout: Duration| timeout <= TINY_TIMEOUT_MAX;
        match *self {
            Op::Put(_) => put_returns,
            Op::PutTimeout(_, timeout) => put_returns || tiny(timeout),
            Op::Get => get_returns,
            Op::GetTimeout(timeout) => get_returns || tiny(timeout),
            Op::TryPut(_) | Op::TryGet | Op::Observe => true,
            Op::GetWokenByPut(..) => get_blocks,
            Op::TaskDone | Op::Shutdown(_) => !simple,
            Op::Join => !simple && model.unfinished == 0,
            Op::PutWokenByGet(..) | Op::PutWokenByShutdown(..) => put_blocks,
            Op::GetWokenByShutdown(..) => !simple && get_blocks,
            Op::JoinWokenByTaskDone => !simple && model.unfinished > 0,
            Op::JoinWokenByShutdown => {
                !simple && model.unfinished > 0 && model.items.len() >= model.unfinished
            }
        }
    }

    /// Runs the operation on the real queue (on an actor thread). `item` is the item it puts,
    /// if any; `unfinished` the model's count (for `JoinWokenByTaskDone`).
    fn run<Q: PropQueue<Item>>(&self, queue: &Q, item: Option<Item>, unfinished: usize) -> Answer {
        let item = || item.expect("this operation puts an item");
        match *self {
            Op::Put(_) => put_answer(queue.put(item())),
            Op::TryPut(_) => put_answer(queue.try_put(item())),
            Op::PutTimeout(_, timeout) => put_answer(queue.put_timeout(item(), timeout)),
            Op::Get => got_answer(queue.get()),
            Op::TryGet => got_answer(queue.try_get()),
            Op::GetTimeout(timeout) => got_answer(queue.get_timeout(timeout)),
            Op::TaskDone => Answer::TaskDone(queue.task_done().is_ok()),
            Op::Join => {
                queue.join();
                Answer::Done
            }
            Op::Shutdown(immediate) => {
                queue.shutdown(immediate);
                Answer::Done
            }
            Op::Observe => Answer::Observed(Observation {
                len: queue.len(),
                is_empty: queue.is_empty(),
                is_full: queue.is_full(),
                maxsize: queue.maxsize(),
                is_shutdown: queue.is_shutdown(),
            }),
            Op::GetWokenByPut(wait, _) => {
                let item = item();
                woken(
                    queue,
                    Parks::Get,
                    |queue| get_waiting(queue, wait),
                    |queue| put_answer(queue.put(item)),
                )
            }
            Op::PutWokenByGet(wait, _, nowait) => {
                let item = item();
                woken(
                    queue,
                    Parks::Put,
                    |queue| put_waiting(queue, wait, item),
                    |queue| got_answer(if nowait { queue.try_get() } else { queue.get() }),
                )
            }
            Op::GetWokenByShutdown(wait, immediate) => woken(
                queue,
                Parks::Get,
                |queue| get_waiting(queue, wait),
                |queue| {
                    queue.shutdown(immediate);
                    Answer::Done
                },
            ),
            Op::PutWokenByShutdown(wait, _, immediate) => {
                let item = item();
                woken(
                    queue,
                    Parks::Put,
                    |queue| put_waiting(queue, wait, item),
                    |queue| {
                        queue.shutdown(immediate);
                        Answer::Done
                    },
                )
            }
            Op::JoinWokenByTaskDone => {
                let mut done: Vec<bool> =
                    (1..unfinished).map(|_| queue.task_done().is_ok()).collect();
                let woken = woken(
                    queue,
                    Parks::Join,
                    |queue| {
                        queue.join();
                        Answer::Done
                    },
                    |queue| Answer::TaskDone(queue.task_done().is_ok()),
                );
                let Answer::Woken {
                    early,
                    helper,
                    waker,
                } = woken
                else {
                    unreachable!()
                };
                done.push(*waker == Answer::TaskDone(true));
                Answer::Woken {
                    early,
                    helper,
                    waker: Box::new(Answer::TaskDones(done)),
                }
            }
            Op::JoinWokenByShutdown => woken(
                queue,
                Parks::Join,
                |queue| {
                    queue.join();
                    Answer::Done
                },
                |queue| {
                    queue.shutdown(true);
                    Answer::Done
                },
            ),
        }
    }
}

/// A paired operation's answer: the helper did not return before the waker acted.
fn woke(helper: Answer, waker: Answer) -> Answer {
    Answer::Woken {
        early: false,
        helper: Box::new(helper),
        waker: Box::new(waker),
    }
}

/// The model's transition: the next state and the answer the operation must give.
fn model_step(model: &Model, op: &Op) -> (Model, Answer) {
    let mut next = model.clone();
    let tag = op.key().map(|key| next.fresh(key));
    let tag = || tag.expect("this operation puts an item");
    let answer = match *op {
        // QUEUE-1, QUEUE-5, QUEUE-7 (the model never has a put wait).
        Op::Put(_) | Op::TryPut(_) | Op::PutTimeout(..) => Answer::Put(next.put(tag())),
        // QUEUE-1, QUEUE-3, QUEUE-5, QUEUE-7.
        Op::Get | Op::TryGet | Op::GetTimeout(_) => Answer::Got(next.get()),
        // QUEUE-6.
        Op::TaskDone => Answer::TaskDone(next.task_done()),
        Op::Join => Answer::Done,
        // QUEUE-7, QUEUE-8.
        Op::Shutdown(immediate) => {
            next.shutdown(immediate);
            Answer::Done
        }
        Op::Observe => Answer::Observed(model.observe()),
        // QUEUE-4: the helper gets exactly the item put.
        Op::GetWokenByPut(..) => {
            let put = next.put(tag());
            let got = next.get();
            woke(Answer::Got(got), Answer::Put(put))
        }
        // QUEUE-4: the waker takes the head of the full queue, then the helper's item goes in.
        Op::PutWokenByGet(..) => {
            let got = next.get();
            let put = next.put(tag());
            woke(Answer::Put(put), Answer::Got(got))
        }
        // QUEUE-7, QUEUE-8: a blocked get on an empty queue answers `ShutDown`.
        Op::GetWokenByShutdown(_, immediate) => {
            next.shutdown(immediate);
            woke(Answer::Got(Got::ShutDown), Answer::Done)
        }
        // QUEUE-7, QUEUE-8: a blocked put answers `ShutDown` and gives its item back.
        Op::PutWokenByShutdown(_, _, immediate) => {
            next.shutdown(immediate);
            woke(Answer::Put(Put::ShutDown(tag())), Answer::Done)
        }
        // QUEUE-6.
        Op::JoinWokenByTaskDone => {
            let done = (0..model.unfinished).map(|_| next.task_done()).collect();
            woke(Answer::Done, Answer::TaskDones(done))
        }
        // QUEUE-8: draining counts the drained items done and wakes join.
        Op::JoinWokenByShutdown => {
            next.shutdown(true);
            woke(Answer::Done, Answer::Done)
        }
    };
    (next, answer)
}

/// The operations the model allows now (see [`Op::allowed`]), weighted.
fn ops(model: &Model) -> BoxedStrategy<Op> {
    let key = || 0u8..6;
    let simple = model.kind == Kind::Simple;
    let put_returns = simple || model.shutdown || !model.full();
    let get_returns = model.shutdown || !model.items.is_empty();
    let get_blocks = !model.shutdown && model.items.is_empty();
    let put_blocks = !simple && !model.shutdown && model.full();
    // A timed put/get that must fail gets a tiny timeout; one that returns at once, any.
    let timeout = |returns: bool| {
        if returns {
            any_timeout().boxed()
        } else {
            tiny_timeout().boxed()
        }
    };
    let mut choices: Vec<(u32, BoxedStrategy<Op>)> = Vec::new();
    let mut add = |weight: u32, allowed: bool, strategy: BoxedStrategy<Op>| {
        if allowed {
            choices.push((weight, strategy));
        }
    };
    add(4, put_returns, key().prop_map(Op::Put).boxed());
    add(2, !simple, key().prop_map(Op::TryPut).boxed());
    add(
        2,
        !simple,
        (key(), timeout(put_returns))
            .prop_map(|(key, timeout)| Op::PutTimeout(key, timeout))
            .boxed(),
    );
    add(3, get_returns, Just(Op::Get).boxed());
    add(2, true, Just(Op::TryGet).boxed());
    add(
        2,
        true,
        timeout(get_returns).prop_map(Op::GetTimeout).boxed(),
    );
    add(2, !simple, Just(Op::TaskDone).boxed());
    add(1, !simple && model.unfinished == 0, Just(Op::Join).boxed());
    add(1, !simple, any::<bool>().prop_map(Op::Shutdown).boxed());
    add(1, true, Just(Op::Observe).boxed());
    add(
        2,
        get_blocks,
        (long_wait(), key())
            .prop_map(|(wait, key)| Op::GetWokenByPut(wait, key))
            .boxed(),
    );
    add(
        4,
        put_blocks,
        (long_wait(), key(), any::<bool>())
            .prop_map(|(wait, key, nowait)| Op::PutWokenByGet(wait, key, nowait))
            .boxed(),
    );
    add(
        1,
        !simple && get_blocks,
        (long_wait(), any::<bool>())
            .prop_map(|(wait, immediate)| Op::GetWokenByShutdown(wait, immediate))
            .boxed(),
    );
    add(
        2,
        put_blocks,
        (long_wait(), key(), any::<bool>())
            .prop_map(|(wait, key, immediate)| Op::PutWokenByShutdown(wait, key, immediate))
            .boxed(),
    );
    add(
        1,
        !simple && model.unfinished > 0,
        Just(Op::JoinWokenByTaskDone).boxed(),
    );
    add(
        1,
        !simple && model.unfinished > 0 && model.items.len() >= model.unfinished,
        Just(Op::JoinWokenByShutdown).boxed(),
    );
    Union::new_weighted(choices).boxed()
}

/// The reference state machine for queue type `Q`.
struct QueueModel<Q>(PhantomData<Q>);

impl<Q: PropQueue<Item>> ReferenceStateMachine for QueueModel<Q> {
    type State = Model;
    type Transition = Step;

    fn init_state() -> BoxedStrategy<Model> {
        let maxsize = if Q::KIND == Kind::Simple {
            Just(0).boxed()
        } else {
            (0usize..=4).boxed()
        };
        (2usize..=4, maxsize)
            .prop_map(|(actors, maxsize)| Model {
                kind: Q::KIND,
                actors,
                maxsize,
                items: Vec::new(),
                unfinished: 0,
                shutdown: false,
                next_id: 0,
            })
            .boxed()
    }

    fn transitions(state: &Model) -> BoxedStrategy<Step> {
        (0..state.actors, ops(state))
            .prop_map(|(actor, op)| Step { actor, op })
            .boxed()
    }

    fn apply(state: Model, step: &Step) -> Model {
        model_step(&state, &step.op).0
    }

    /// Checked again while shrinking: never hand an actor an operation that would block.
    fn preconditions(state: &Model, step: &Step) -> bool {
        step.actor < state.actors && step.op.allowed(state)
    }
}

/// The real queue on its actors, the tracker of its items, and the model before the next
/// step.
struct QueueUnderTest<Q: PropQueue<Item>> {
    actors: Actors<Q>,
    tracker: Arc<Tracker>,
    before: Model,
}

impl<Q: PropQueue<Item>> StateMachineTest for QueueUnderTest<Q> {
    type SystemUnderTest = Self;
    type Reference = QueueModel<Q>;

    fn init_test(model: &Model) -> Self {
        QueueUnderTest {
            actors: Actors::spawn(Q::with_maxsize(model.maxsize), model.actors),
            tracker: Arc::new(Tracker::default()),
            before: model.clone(),
        }
    }

    fn apply(mut sut: Self, after: &Model, step: Step) -> Self {
        let (predicted, expected) = model_step(&sut.before, &step.op);
        assert_eq!(&predicted, after, "the model is not deterministic");
        let item = step.op.key().map(|key| {
            Item::new(
                &sut.tracker,
                Tag {
                    key,
                    id: sut.before.next_id,
                },
            )
        });
        let op = step.op.clone();
        let unfinished = sut.before.unfinished;
        let answer = sut
            .actors
            .run(step.actor, move |queue: &Q| op.run(queue, item, unfinished));
        assert_eq!(
            answer, expected,
            "actor {} ran {:?} from {:?}",
            step.actor, step.op, sut.before
        );
        sut.before = after.clone();
        sut
    }

    fn check_invariants(sut: &Self, model: &Model) {
        let queue = sut.actors.target();
        let len = queue.len();
        assert_eq!(len, model.items.len(), "len() vs the model");
        if model.maxsize > 0 {
            assert!(len <= model.maxsize, "QUEUE-2: len {len} > maxsize");
        }
        assert_eq!(queue.is_empty(), model.items.is_empty(), "is_empty()");
        assert_eq!(queue.is_full(), model.full(), "is_full()");
        assert_eq!(queue.maxsize(), model.maxsize, "maxsize()");
        assert_eq!(queue.is_shutdown(), model.shutdown, "is_shutdown()");
        // QUEUE-5, QUEUE-6, QUEUE-8: the task count (a refused put counts none), and no thread
        // left parked once every operation has returned.
        assert_eq!(
            queue.unfinished_tasks(),
            model.unfinished,
            "unfinished_tasks()"
        );
        assert_eq!(
            queue.queued_waiters(),
            (0, 0, 0),
            "queued_waiters() after a step"
        );
        // QUEUE-1, QUEUE-9: exactly the items the model has in the queue are alive (every
        // item taken out, given back or drained was dropped at once), none dropped twice.
        let expected: BTreeSet<u64> = model.items.iter().map(|tag| tag.id).collect();
        assert_eq!(sut.tracker.live(), expected, "items alive vs in the model");
        assert_eq!(
            sut.tracker.dropped_twice(),
            Vec::<u64>::new(),
            "dropped twice"
        );
    }
}

/// The state-machine tests, one per queue type.
type FifoUnderTest = QueueUnderTest<Queue<Item>>;
type LifoUnderTest = QueueUnderTest<LifoQueue<Item>>;
type PriorityUnderTest = QueueUnderTest<PriorityQueue<Item>>;
type SimpleUnderTest = QueueUnderTest<SimpleQueue<Item>>;

prop_state_machine! {
    #![proptest_config(ProptestConfig {
        cases: 128,
        max_shrink_time: 60_000,
        ..ProptestConfig::default()
    })]

    /// Checks QUEUE-1, QUEUE-2, QUEUE-3 (FIFO), QUEUE-4, QUEUE-5, QUEUE-6, QUEUE-7, QUEUE-8
    /// and QUEUE-9 against a reference model: a `Queue` of maxsize 0-4 and 2-4 actor threads
    /// each running generated operations one at a time (put, try_put, put_timeout, get,
    /// try_get, get_timeout, task_done, join, shutdown(false/true), the queries), plus paired
    /// ones in which a helper thread blocks in get/put/join (the actor waits until
    /// `queued_waiters()` shows it parked) and must not return until the actor's put, get,
    /// task_done or shutdown wakes it. Every answer (the item got, the error and the item
    /// given back), the queries, `unfinished_tasks()`, nobody left in `queued_waiters()`, and
    /// the set of items alive (none kept once taken out or drained) match the model after
    /// each step.
    #[test]
    fn queue_matches_model_across_actors(sequential 1..48 => FifoUnderTest);

    /// Checks QUEUE-1 to QUEUE-9 for a `LifoQueue` as for `Queue`, the model being a stack
    /// (QUEUE-3: the newest item first).
    #[test]
    fn lifo_queue_matches_model_across_actors(
        sequential 1..48 => LifoUnderTest
    );

    /// Checks QUEUE-1 to QUEUE-9 for a `PriorityQueue` as for `Queue`, the model being a
    /// sorted multiset of keys 0-5 (QUEUE-3: the smallest first; ties broken by the item's
    /// id, which its `Ord` compares next).
    #[test]
    fn priority_queue_matches_model_across_actors(
        sequential 1..48 => PriorityUnderTest
    );

    /// Checks QUEUE-1, QUEUE-3 (FIFO), QUEUE-4, QUEUE-5, QUEUE-9 and QUEUE-10 for a
    /// `SimpleQueue` against the model: put (never blocks, always accepted), get when not
    /// empty, try_get, get_timeout, len/is_empty, and a helper blocked in get woken by a put.
    #[test]
    fn simple_queue_matches_model_across_actors(
        sequential 1..48 => SimpleUnderTest
    );
}

// ---------------------------------------------------------------------------------------
// Real threads: producers and consumers.

/// Busy-waits a pseudo-random 0..=`max` (drawn from `seed`, a xorshift state), standing in
/// for work between operations: it spreads the moments at which a thread's put or get meets
/// a neighbour that is just about to park, where a lost wake-up hides.
fn jitter(seed: &mut u64, max: Duration) {
    if max.is_zero() {
        return;
    }
    *seed ^= *seed << 13;
    *seed ^= *seed >> 7;
    *seed ^= *seed << 17;
    let nanos = *seed % (max.as_nanos() as u64 + 1);
    let until = Instant::now() + Duration::from_nanos(nanos);
    while Instant::now() < until {
        std::hint::spin_loop();
    }
}

/// An item of the real-thread tests: a producer's `seq`-th item, or a stop sentinel (which
/// orders after every item, so a priority queue hands it out last).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Msg {
    Item { producer: usize, seq: usize },
    Stop,
}

/// How a producer or consumer puts or gets: waiting (forever or up to an hour), or by
/// `try_*`/`*_timeout(0..=2 ms)` retried until it works.
#[derive(Clone, Copy, Debug)]
enum How {
    Wait,
    LongTimeout,
    Try,
    Timeout(Duration),
}

fn waiting() -> impl Strategy<Value = How> + Clone {
    prop_oneof![Just(How::Wait), Just(How::LongTimeout)]
}

fn retrying() -> impl Strategy<Value = How> + Clone {
    prop_oneof![
        Just(How::Try),
        (0u64..=2000).prop_map(|micros| How::Timeout(Duration::from_micros(micros))),
    ]
}

/// The roles of a producer/consumer scenario.
#[derive(Clone, Debug)]
enum Role {
    /// Puts `count` items, each by one of `hows` in turn.
    Producer {
        index: usize,
        count: usize,
        hows: Vec<How>,
    },
    /// Gets by `hows` in turn until told to stop.
    Consumer { index: usize, hows: Vec<How> },
    /// Samples `len()` until every producer and consumer is done (QUEUE-2).
    Watcher,
    /// Waits for the producers, then stops the consumers (how depends on the scenario).
    Closer,
}

/// How the consumers of a scenario are stopped.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Stop {
    /// The last producer puts one `Stop` per consumer.
    Sentinels,
    /// The closer calls `shutdown(false)` once the producers are done.
    Shutdown,
    /// The closer `join`s once the producers are done (checking every item was done),
    /// then calls `shutdown(false)`; consumers call `task_done` for every item.
    JoinThenShutdown,
    /// Consumers stop once all items were taken (counted), retrying timed/try gets.
    Count,
}

/// What the threads of a producer/consumer scenario share.
struct Flow<Q> {
    queue: Q,
    maxsize: usize,
    stop: Stop,
    /// The most [`jitter`] after each put and get (zero: none).
    work: Duration,
    consumers: usize,
    total: usize,
    /// Producers and consumers still running (the watcher samples until none is).
    working: AtomicUsize,
    producers_left: AtomicUsize,
    /// Items put (counted after put returned).
    put: AtomicUsize,
    /// Items taken out (counted after get returned).
    taken: AtomicUsize,
    /// Items whose processing is done (counted right before `task_done`).
    done: AtomicUsize,
    violations: Mutex<Vec<String>>,
}

impl<Q: PropQueue<Msg>> Flow<Q> {
    fn violation(&self, what: String) {
        self.violations
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(what);
    }

    /// Puts `msg` the way `how` says, retrying `Try`/`Timeout` until it goes in. A refused
    /// put must give back the very item (QUEUE-5); `ShutDown` is a violation here.
    fn put(&self, msg: Msg, how: How) {
        let mut msg = msg;
        loop {
            let result = match how {
                How::Wait => self.queue.put(msg),
                How::LongTimeout => self.queue.put_timeout(msg, LONG),
                How::Try => self.queue.try_put(msg),
                How::Timeout(timeout) => self.queue.put_timeout(msg, timeout),
            };
            match result {
                Ok(()) => return,
                Err(PutError::Full(back)) if matches!(how, How::Try | How::Timeout(_)) => {
                    if back != msg {
                        self.violation(format!("QUEUE-5: put {msg:?}, got back {back:?}"));
                    }
                    msg = back;
                    thread::yield_now();
                }
                Err(PutError::Full(back)) => {
                    self.violation(format!(
                        "QUEUE-4: a waiting put ({how:?}) of {back:?} answered Full"
                    ));
                    return;
                }
                Err(PutError::ShutDown(back)) => {
                    self.violation(format!(
                        "a put of {back:?} answered ShutDown before shutdown"
                    ));
                    return;
                }
            }
        }
    }

    /// One get attempt the way `how` says. `None` means a try/timed get found it empty.
    fn get(&self, how: How) -> Option<Result<Msg, GetError>> {
        let result = match how {
            How::Wait => self.queue.get(),
            How::LongTimeout => self.queue.get_timeout(LONG),
            How::Try => self.queue.try_get(),
            How::Timeout(timeout) => self.queue.get_timeout(timeout),
        };
        match result {
            Err(GetError::Empty) if matches!(how, How::Try | How::Timeout(_)) => None,
            Err(GetError::Empty) => {
                self.violation(format!("QUEUE-4: a waiting get ({how:?}) answered Empty"));
                Some(Err(GetError::ShutDown))
            }
            other => Some(other),
        }
    }

    fn producer(&self, index: usize, count: usize, hows: &[How]) {
        let mut seed = 0x9e37_79b9_7f4a_7c15 ^ index as u64;
        for (seq, how) in (0..count).zip(hows.iter().cycle()) {
            jitter(&mut seed, self.work);
            self.put(
                Msg::Item {
                    producer: index,
                    seq,
                },
                *how,
            );
            self.put.fetch_add(1, Ordering::SeqCst);
        }
        if self.stop == Stop::JoinThenShutdown {
            // QUEUE-6: once join returns, every item put before it was called is done.
            let before = self.put.load(Ordering::SeqCst);
            self.queue.join();
            let done = self.done.load(Ordering::SeqCst);
            if done < before {
                self.violation(format!(
                    "QUEUE-6: producer {index}'s join returned with {done} done of {before} put"
                ));
            }
        }
        if self.producers_left.fetch_sub(1, Ordering::SeqCst) == 1 && self.stop == Stop::Sentinels {
            for _ in 0..self.consumers {
                self.put(Msg::Stop, How::Wait);
            }
        }
        self.working.fetch_sub(1, Ordering::SeqCst);
    }

    /// Gets until stopped; returns what it got, in order.
    fn consumer(&self, index: usize, hows: &[How]) -> Vec<Msg> {
        let mut seed = 0x2545_f491_4f6c_dd1d ^ index as u64;
        let mut got = Vec::new();
        for how in hows.iter().cycle() {
            jitter(&mut seed, self.work);
            if self.stop == Stop::Count && self.taken.load(Ordering::SeqCst) >= self.total {
                break;
            }
            match self.get(*how) {
                None => thread::yield_now(),
                Some(Ok(Msg::Stop)) => {
                    if self.stop != Stop::Sentinels {
                        self.violation("a Stop nobody put".to_owned());
                    }
                    break;
                }
                Some(Ok(msg)) => {
                    self.taken.fetch_add(1, Ordering::SeqCst);
                    got.push(msg);
                    if self.stop == Stop::JoinThenShutdown {
                        if got.len() % 3 == 0 {
                            // Widen the window between get and task_done now and then.
                            thread::yield_now();
                        }
                        self.done.fetch_add(1, Ordering::SeqCst);
                        if self.queue.task_done().is_err() {
                            self.violation("QUEUE-6: task_done for an item got refused".into());
                        }
                    }
                }
                Some(Err(GetError::ShutDown)) => {
                    if !matches!(self.stop, Stop::Shutdown | Stop::JoinThenShutdown) {
                        self.violation("get answered ShutDown; nobody shut down".to_owned());
                    }
                    // QUEUE-7: stays shut down, and a put is refused with its item back.
                    if !matches!(self.queue.try_get(), Err(GetError::ShutDown)) {
                        self.violation("QUEUE-7: try_get after ShutDown was not ShutDown".into());
                    }
                    break;
                }
                Some(Err(GetError::Empty)) => unreachable!("turned into None or a violation"),
            }
        }
        self.working.fetch_sub(1, Ordering::SeqCst);
        got
    }

    fn watcher(&self) {
        while self.working.load(Ordering::SeqCst) > 0 {
            let len = self.queue.len();
            if self.maxsize > 0 && len > self.maxsize {
                self.violation(format!(
                    "QUEUE-2: len() was {len} > maxsize {}",
                    self.maxsize
                ));
            }
            thread::yield_now();
        }
    }

    fn closer(&self) {
        while self.producers_left.load(Ordering::SeqCst) > 0 {
            thread::sleep(Duration::from_micros(200));
        }
        if self.stop == Stop::JoinThenShutdown {
            // QUEUE-6: join returns only after every item put was done, and then no task is
            // unfinished: one more task_done is refused.
            self.queue.join();
            let done = self.done.load(Ordering::SeqCst);
            if done != self.total {
                self.violation(format!(
                    "QUEUE-6: join returned with {done} of {} items done",
                    self.total
                ));
            }
            if self.queue.task_done().is_ok() {
                self.violation("QUEUE-6: task_done with no unfinished task accepted".into());
            }
        }
        if matches!(self.stop, Stop::Shutdown | Stop::JoinThenShutdown) {
            self.queue.shutdown(false);
            // QUEUE-7: a put after shutdown gives its item back.
            match self.queue.try_put(Msg::Stop) {
                Err(PutError::ShutDown(Msg::Stop)) => {}
                Err(PutError::ShutDown(other)) => {
                    self.violation(format!("QUEUE-7: put Stop, got back {other:?}"))
                }
                other => self.violation(format!(
                    "QUEUE-7: try_put after shutdown answered {}",
                    match other {
                        Ok(()) => "Ok",
                        _ => "Full",
                    }
                )),
            }
        }
    }
}

/// What a producer/consumer scenario ended with.
#[derive(Debug)]
struct Flowed {
    violations: Vec<String>,
    /// What each consumer got, in order.
    received: Vec<Vec<Msg>>,
    len_after: usize,
}

impl Flowed {
    /// No violation, every item received exactly once (QUEUE-1), in each producer's order
    /// at each consumer if `fifo` (QUEUE-3), and the queue empty at the end.
    fn check(&self, counts: &[usize], fifo: bool) -> Result<(), TestCaseError> {
        prop_assert!(
            self.violations.is_empty(),
            "{} violation(s), first ones: {:?}",
            self.violations.len(),
            &self.violations[..self.violations.len().min(5)]
        );
        let mut seen: BTreeMap<Msg, usize> = BTreeMap::new();
        for msg in self.received.iter().flatten() {
            *seen.entry(*msg).or_default() += 1;
        }
        let expected: BTreeMap<Msg, usize> = counts
            .iter()
            .enumerate()
            .flat_map(|(producer, &count)| (0..count).map(move |seq| Msg::Item { producer, seq }))
            .map(|msg| (msg, 1))
            .collect();
        if seen != expected {
            let lost: Vec<_> = expected.keys().filter(|m| !seen.contains_key(m)).collect();
            let extra: Vec<_> = seen
                .iter()
                .filter(|&(m, &n)| n != expected.get(m).copied().unwrap_or(0))
                .collect();
            return Err(TestCaseError::fail(format!(
                "QUEUE-1: lost {lost:?}; duplicated or made up (item, times) {extra:?}"
            )));
        }
        if fifo {
            for (consumer, got) in self.received.iter().enumerate() {
                let mut last: BTreeMap<usize, usize> = BTreeMap::new();
                for msg in got {
                    if let Msg::Item { producer, seq } = *msg {
                        if let Some(&before) = last.get(&producer) {
                            prop_assert!(
                                before < seq,
                                "QUEUE-3: consumer {} got producer {}'s item {} after {}",
                                consumer,
                                producer,
                                seq,
                                before
                            );
                        }
                        last.insert(producer, seq);
                    }
                }
            }
        }
        prop_assert_eq!(self.len_after, 0, "items left in the queue");
        Ok(())
    }
}

/// Runs producers (one per element of `producers`: its item count and put styles) and
/// consumers (one per element of `consumers`: their get styles) on a fresh `Q`, plus a
/// watcher and a closer, stopped as `stop` says.
fn flow<Q: PropQueue<Msg>>(
    maxsize: usize,
    stop: Stop,
    work: Duration,
    producers: Vec<(usize, Vec<How>)>,
    consumers: Vec<Vec<How>>,
) -> Flowed {
    let total = producers.iter().map(|(count, _)| count).sum();
    let mut roles: Vec<Role> = producers
        .into_iter()
        .enumerate()
        .map(|(index, (count, hows))| Role::Producer { index, count, hows })
        .collect();
    let producer_count = roles.len();
    let consumer_count = consumers.len();
    roles.extend(
        consumers
            .into_iter()
            .enumerate()
            .map(|(index, hows)| Role::Consumer { index, hows }),
    );
    roles.push(Role::Watcher);
    roles.push(Role::Closer);
    let shared = Flow {
        queue: Q::with_maxsize(maxsize),
        maxsize,
        stop,
        work,
        consumers: consumer_count,
        total,
        working: AtomicUsize::new(producer_count + consumer_count),
        producers_left: AtomicUsize::new(producer_count),
        put: AtomicUsize::new(0),
        taken: AtomicUsize::new(0),
        done: AtomicUsize::new(0),
        violations: Mutex::new(Vec::new()),
    };
    let (shared, results) = together("flow", shared, roles, |flow, role| match role {
        Role::Producer { index, count, hows } => {
            flow.producer(*index, *count, hows);
            None
        }
        Role::Consumer { index, hows } => Some(flow.consumer(*index, hows)),
        Role::Watcher => {
            flow.watcher();
            None
        }
        Role::Closer => {
            flow.closer();
            None
        }
    });
    Flowed {
        violations: shared
            .violations
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone(),
        received: results.into_iter().flatten().collect(),
        len_after: shared.queue.len(),
    }
}

/// Dispatches [`flow`] on `kind`.
fn flow_kind(
    kind: Kind,
    maxsize: usize,
    stop: Stop,
    work: Duration,
    producers: Vec<(usize, Vec<How>)>,
    consumers: Vec<Vec<How>>,
) -> Flowed {
    match kind {
        Kind::Fifo => flow::<Queue<Msg>>(maxsize, stop, work, producers, consumers),
        Kind::Lifo => flow::<LifoQueue<Msg>>(maxsize, stop, work, producers, consumers),
        Kind::Priority => flow::<PriorityQueue<Msg>>(maxsize, stop, work, producers, consumers),
        Kind::Simple => flow::<SimpleQueue<Msg>>(0, stop, work, producers, consumers),
    }
}

/// 1-4 producers of 0-40 items each, putting by `how`.
fn producers(
    how: impl Strategy<Value = How> + Clone,
) -> impl Strategy<Value = Vec<(usize, Vec<How>)>> {
    vec((0usize..=40, vec(how, 1..=4)), 1..=4)
}

/// 1-4 consumers, getting by `how`.
fn consumers(how: impl Strategy<Value = How> + Clone) -> impl Strategy<Value = Vec<Vec<How>>> {
    vec(vec(how, 1..=4), 1..=4)
}

// ---------------------------------------------------------------------------------------
// Real threads: shutdown(true) racing blocked putters and getters.

/// An item that counts its drops, by id.
struct Counted {
    id: usize,
    drops: Arc<Vec<AtomicUsize>>,
}

impl Drop for Counted {
    fn drop(&mut self) {
        self.drops[self.id].fetch_add(1, Ordering::SeqCst);
    }
}

impl PartialEq for Counted {
    fn eq(&self, other: &Self) -> bool {
        self.id == other.id
    }
}

impl Eq for Counted {}

impl PartialOrd for Counted {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Counted {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.id.cmp(&other.id)
    }
}

/// A thread of the immediate-shutdown race.
#[derive(Clone, Debug)]
enum RaceRole {
    /// Puts items with ids `first..first + count` by `how` (waiting) until refused.
    Putter {
        first: usize,
        count: usize,
        how: How,
    },
    /// Gets by `how` (waiting) until `ShutDown`; `task_done` after each if `done`.
    Getter { how: How, done: bool },
    /// After `delay`, maybe `shutdown(false)` and another `delay`, then `shutdown(true)`.
    Shutter { delay: Duration, soft_first: bool },
    /// `join()` (only when getters call task_done): must return.
    Joiner,
}

/// What each thread of the race reports: ids put, ids given back by a refused put, ids got.
#[derive(Debug, Default)]
struct Raced {
    put: Vec<usize>,
    refused: Vec<usize>,
    got: Vec<usize>,
    violations: Vec<String>,
}

/// `prefill` items put by the driver, then putters, getters, a shutter and maybe a joiner
/// race on a fresh `Q` of `maxsize` (at least 1, so putters block).
fn immediate_race<Q: PropQueue<Counted>>(
    maxsize: usize,
    prefill: usize,
    putters: Vec<(usize, How)>,
    getters: Vec<How>,
    done: bool,
    delay: Duration,
    soft_first: bool,
) -> Result<(), TestCaseError> {
    let total = prefill + putters.iter().map(|(count, _)| count).sum::<usize>();
    let drops: Arc<Vec<AtomicUsize>> = Arc::new((0..total).map(|_| AtomicUsize::new(0)).collect());
    let queue = Q::with_maxsize(maxsize);
    for id in 0..prefill {
        let item = Counted {
            id,
            drops: Arc::clone(&drops),
        };
        prop_assert!(queue.try_put(item).is_ok(), "prefilling a fresh queue");
    }
    let mut roles = Vec::new();
    let mut first = prefill;
    for (count, how) in putters {
        roles.push(RaceRole::Putter { first, count, how });
        first += count;
    }
    roles.extend(getters.iter().map(|&how| RaceRole::Getter { how, done }));
    roles.push(RaceRole::Shutter { delay, soft_first });
    if done {
        roles.push(RaceRole::Joiner);
    }
    let drops_for_threads = Arc::clone(&drops);
    let (queue, reports) = together("immediate_race", queue, roles, move |queue, role| {
        let mut raced = Raced::default();
        match *role {
            RaceRole::Putter { first, count, how } => {
                for id in first..first + count {
                    let item = Counted {
                        id,
                        drops: Arc::clone(&drops_for_threads),
                    };
                    let result = match how {
                        How::LongTimeout => queue.put_timeout(item, LONG),
                        _ => queue.put(item),
                    };
                    match result {
                        Ok(()) => raced.put.push(id),
                        Err(PutError::ShutDown(back)) => {
                            raced.refused.push(back.id);
                            if back.id != id {
                                raced
                                    .violations
                                    .push(format!("QUEUE-5: put {id}, got back {}", back.id));
                            }
                            break;
                        }
                        Err(PutError::Full(back)) => {
                            raced.violations.push(format!(
                                "QUEUE-4: a waiting put of {} answered Full",
                                back.id
                            ));
                            break;
                        }
                    }
                }
            }
            RaceRole::Getter { how, done } => loop {
                let result = match how {
                    How::LongTimeout => queue.get_timeout(LONG),
                    _ => queue.get(),
                };
                match result {
                    Ok(item) => {
                        raced.got.push(item.id);
                        drop(item);
                        if done && queue.task_done().is_err() {
                            raced
                                .violations
                                .push("QUEUE-6: task_done for an item got refused".into());
                        }
                    }
                    Err(GetError::ShutDown) => break,
                    Err(GetError::Empty) => {
                        raced
                            .violations
                            .push("QUEUE-4: a waiting get answered Empty".into());
                        break;
                    }
                }
            },
            RaceRole::Shutter { delay, soft_first } => {
                thread::sleep(delay);
                if soft_first {
                    queue.shutdown(false);
                    thread::sleep(delay);
                }
                queue.shutdown(true);
                // QUEUE-8: drained at once; nothing goes in any more.
                if queue.len() != 0 {
                    raced.violations.push(format!(
                        "QUEUE-8: len() {} right after shutdown(true)",
                        queue.len()
                    ));
                }
            }
            RaceRole::Joiner => queue.join(),
        }
        raced
    });
    let mut put: Vec<usize> = (0..prefill).collect();
    let mut refused = Vec::new();
    let mut got = Vec::new();
    let mut violations = Vec::new();
    for report in reports {
        put.extend(report.put);
        refused.extend(report.refused);
        got.extend(report.got);
        violations.extend(report.violations);
    }
    prop_assert!(violations.is_empty(), "violations: {:?}", violations);
    prop_assert_eq!(queue.len(), 0, "len() after shutdown(true)");
    prop_assert!(queue.is_shutdown(), "is_shutdown() after shutdown(true)");
    // QUEUE-1: nothing got twice, nothing got that was not put.
    let put_set: BTreeSet<usize> = put.iter().copied().collect();
    let mut got_set = BTreeSet::new();
    for &id in &got {
        prop_assert!(got_set.insert(id), "QUEUE-1: item {} got twice", id);
        prop_assert!(
            put_set.contains(&id),
            "QUEUE-1: item {} got but never put",
            id
        );
    }
    for &id in &refused {
        prop_assert!(
            !put_set.contains(&id),
            "item {} both put and given back",
            id
        );
    }
    // QUEUE-8, QUEUE-9: with the queue still alive, every item ever created was dropped exactly
    // once: the ones got or given back by their holders, the rest by the drain.
    let created: BTreeSet<usize> = put_set.iter().chain(&refused).copied().collect();
    for id in 0..total {
        let n = drops[id].load(Ordering::SeqCst);
        if created.contains(&id) {
            prop_assert_eq!(
                n,
                1,
                "QUEUE-9: item {} (got: {}) dropped {} times with the queue alive",
                id,
                got_set.contains(&id),
                n
            );
        } else {
            prop_assert_eq!(n, 0, "item {} was never created", id);
        }
    }
    // QUEUE-8: the drain counted every drained item done. Without task_done from the getters
    // exactly one task per item got is left; with it, none (and the joiner returned).
    let left = if done { 0 } else { got_set.len() };
    for k in 0..left {
        prop_assert!(
            queue.task_done().is_ok(),
            "QUEUE-8: task_done {} of {} refused",
            k + 1,
            left
        );
    }
    prop_assert!(
        queue.task_done().is_err(),
        "QUEUE-8: {} unfinished tasks expected, one more was accepted",
        left
    );
    queue.join();
    drop(queue);
    for id in 0..total {
        prop_assert!(
            drops[id].load(Ordering::SeqCst) <= 1,
            "item {} dropped twice",
            id
        );
    }
    Ok(())
}

/// A token of the hand-off ring: `left` hops to go. `Stop` ends a ring member.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Hop {
    Token { id: usize, left: usize },
    Stop,
}

/// What the ring members share: one inbox per member, the tokens retired so far, and every
/// violation seen.
struct Ring<Q> {
    inboxes: Vec<Q>,
    tokens: usize,
    retired: AtomicUsize,
    /// Every hop taken, by token.
    hops: Vec<AtomicUsize>,
    violations: Mutex<Vec<String>>,
}

/// `members` threads in a ring, each getting from its own inbox and putting to the next
/// member's, pass `tokens` (fewer than `members`, so the ring never fills up) around for
/// `hops` hops each; inboxes hold `maxsize` items. Nearly every get finds its inbox empty and
/// every put into a bounded inbox may find it full, so the threads park and wake each other
/// thousands of times: one lost wake-up stops the ring (caught by the stuck limit). The last
/// member to retire a token puts a `Stop` in every inbox. Returns the hops each token made
/// and the violations.
fn hand_off<Q: PropQueue<Hop>>(
    seed: u64,
    maxsize: usize,
    members: Vec<(How, How)>,
    tokens: usize,
    hops: usize,
) -> (Vec<usize>, Vec<String>) {
    let count = members.len();
    let ring = Ring {
        inboxes: (0..count).map(|_| Q::with_maxsize(maxsize)).collect(),
        tokens,
        retired: AtomicUsize::new(0),
        hops: (0..tokens).map(|_| AtomicUsize::new(0)).collect(),
        violations: Mutex::new(Vec::new()),
    };
    for id in 0..tokens {
        let token = Hop::Token { id, left: hops };
        assert!(ring.inboxes[id].try_put(token).is_ok(), "seeding the ring");
    }
    let roles: Vec<(usize, How, How)> = members
        .into_iter()
        .enumerate()
        .map(|(index, (get, put))| (index, get, put))
        .collect();
    let (ring, _) = together("hand_off", ring, roles, move |ring, &(index, get, put)| {
        let violation = |what: String| {
            ring.violations
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .push(what);
        };
        let mut seed = (seed ^ (index as u64 + 1).wrapping_mul(0x9e37_79b9_7f4a_7c15)) | 1;
        let inbox = &ring.inboxes[index];
        let next = &ring.inboxes[(index + 1) % count];
        let send = |hop: Hop, queue: &Q| {
            let result = match put {
                How::LongTimeout => queue.put_timeout(hop, LONG),
                _ => queue.put(hop),
            };
            if result.is_err() {
                violation(format!(
                    "QUEUE-4: member {index}'s waiting put of {hop:?} failed"
                ));
            }
        };
        loop {
            let got = match get {
                How::LongTimeout => inbox.get_timeout(LONG),
                _ => inbox.get(),
            };
            match got {
                Ok(Hop::Token { id, left }) => {
                    ring.hops[id].fetch_add(1, Ordering::SeqCst);
                    jitter(&mut seed, PIPE_WORK);
                    if left > 0 {
                        send(Hop::Token { id, left: left - 1 }, next);
                    } else if ring.retired.fetch_add(1, Ordering::SeqCst) + 1 == ring.tokens {
                        for queue in &ring.inboxes {
                            send(Hop::Stop, queue);
                        }
                    }
                }
                Ok(Hop::Stop) => break,
                Err(_) => {
                    violation(format!("QUEUE-4: member {index}'s waiting get failed"));
                    break;
                }
            }
        }
    });
    let hops = ring.hops.iter().map(|n| n.load(Ordering::SeqCst)).collect();
    let violations = ring
        .violations
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .clone();
    (hops, violations)
}

/// What a looker of the atomic-drain scenario does once it has seen `is_shutdown()`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Look {
    TryGet,
    Get,
    /// `task_done()`: every item was drained, so no task is unfinished any more.
    TaskDone,
}

/// What a looker saw: `len()`, then its get's answer or whether its `task_done` was
/// accepted.
#[derive(Debug, PartialEq, Eq)]
enum Seen {
    Got(usize, Result<usize, GetError>),
    TaskDone(usize, bool),
}

/// A thread of the atomic-drain scenario.
#[derive(Clone, Copy, Debug)]
enum DrainRole {
    /// `shutdown(true)`.
    Shutter,
    /// Spins until `is_shutdown()` answers true, then reads `len()` and does its `Look`.
    Looker(Look),
}

/// A queue of `maxsize` prefilled with `items` items (none got, so `items` tasks are
/// unfinished) is shut down immediately while lookers spin on `is_shutdown()`; returns what
/// each looker saw right after it turned true.
fn look_at_drain<Q: PropQueue<usize>>(maxsize: usize, items: usize, looks: Vec<Look>) -> Vec<Seen> {
    let queue = Q::with_maxsize(maxsize);
    for item in 0..items {
        assert!(queue.try_put(item).is_ok(), "prefilling a fresh queue");
    }
    let roles: Vec<DrainRole> = [DrainRole::Shutter]
        .into_iter()
        .chain(looks.into_iter().map(DrainRole::Looker))
        .collect();
    let (_, seen) = together("look_at_drain", queue, roles, |queue, role| match *role {
        DrainRole::Shutter => {
            queue.shutdown(true);
            None
        }
        DrainRole::Looker(look) => {
            while !queue.is_shutdown() {
                std::hint::spin_loop();
            }
            let len = queue.len();
            Some(match look {
                Look::TryGet => Seen::Got(len, queue.try_get()),
                Look::Get => Seen::Got(len, queue.get()),
                Look::TaskDone => Seen::TaskDone(len, queue.task_done().is_ok()),
            })
        }
    });
    seen.into_iter().flatten().collect()
}

// ---------------------------------------------------------------------------------------

fn bounded_kind() -> impl Strategy<Value = Kind> {
    prop_oneof![Just(Kind::Fifo), Just(Kind::Lifo), Just(Kind::Priority)]
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 32,
        max_shrink_time: 60_000,
        ..ProptestConfig::default()
    })]

    /// Checks QUEUE-1, QUEUE-2, QUEUE-3 (FIFO per producer, for `Queue` and `SimpleQueue`)
    /// and QUEUE-4 on real threads: 1-4 producers put 0-40 items each (put or
    /// put_timeout(1 h)) into a `Queue`, `SimpleQueue` or `PriorityQueue` of maxsize 0-8,
    /// 1-4 consumers get (get or get_timeout(1 h)) until they get a stop sentinel, which the
    /// last producer puts once per consumer; a watcher samples `len() <= maxsize`. Every item
    /// arrives exactly once, FIFO per producer at each consumer, and no waiting get or put
    /// ever answers Empty/Full (a lost wake-up strands a thread: the stuck limit fails it).
    #[test]
    fn sentinels_stop_consumers_and_nothing_is_lost(
        kind in prop_oneof![Just(Kind::Fifo), Just(Kind::Simple), Just(Kind::Priority)],
        maxsize in 0usize..=8,
        producers in producers(waiting()),
        consumers in consumers(waiting()),
    ) {
        let counts: Vec<usize> = producers.iter().map(|(count, _)| *count).collect();
        flow_kind(kind, maxsize, Stop::Sentinels, Duration::ZERO, producers, consumers)
            .check(&counts, kind.fifo())?;
    }

    /// Checks QUEUE-1, QUEUE-2, QUEUE-3 (FIFO per producer, for `Queue`), QUEUE-4 and
    /// QUEUE-7 on real threads: producers and consumers as above on a `Queue`, `LifoQueue` or
    /// `PriorityQueue` of maxsize 0-8, stopped by `shutdown(false)` once every producer is
    /// done: the consumers still get every remaining item, then `ShutDown` (and again on
    /// `try_get`), and a put after the shutdown is refused with its item back.
    #[test]
    fn shutdown_stops_consumers_after_the_last_item(
        kind in bounded_kind(),
        maxsize in 0usize..=8,
        producers in producers(waiting()),
        consumers in consumers(waiting()),
    ) {
        let counts: Vec<usize> = producers.iter().map(|(count, _)| *count).collect();
        flow_kind(kind, maxsize, Stop::Shutdown, Duration::ZERO, producers, consumers)
            .check(&counts, kind.fifo())?;
    }

    /// Checks QUEUE-6 (with QUEUE-1, QUEUE-2, QUEUE-3, QUEUE-7) on real threads: consumers
    /// call `task_done` after each item (counting it done just before); each producer
    /// `join`s after its puts and must then see every item put before its join done; a closer
    /// waits for the producers, `join`s, must see all items done, and finds one more
    /// `task_done` refused; then `shutdown(false)` stops the consumers.
    #[test]
    fn join_returns_only_when_every_item_is_done(
        kind in bounded_kind(),
        maxsize in 0usize..=8,
        producers in producers(waiting()),
        consumers in consumers(waiting()),
    ) {
        let counts: Vec<usize> = producers.iter().map(|(count, _)| *count).collect();
        flow_kind(kind, maxsize, Stop::JoinThenShutdown, Duration::ZERO, producers, consumers)
            .check(&counts, kind.fifo())?;
    }

    /// Checks QUEUE-1, QUEUE-2, QUEUE-3 (FIFO per producer, for `Queue` and `SimpleQueue`),
    /// QUEUE-5 and QUEUE-10 under contention: producers put only by try_put or
    /// put_timeout(0-2 ms), retried with the item given back (which must be the one sent),
    /// consumers get only by try_get or get_timeout(0-2 ms), retried until every item was
    /// taken, on any of the four queues (maxsize 0-8; `SimpleQueue` unbounded). Nothing is
    /// lost to a timeout (else the consumers retry forever: the stuck limit fails it) or
    /// duplicated.
    #[test]
    fn timed_operations_under_contention_lose_nothing(
        kind in prop_oneof![
            Just(Kind::Fifo), Just(Kind::Lifo), Just(Kind::Priority), Just(Kind::Simple)
        ],
        maxsize in 0usize..=8,
        producers in producers(retrying()),
        consumers in consumers(retrying()),
    ) {
        let counts: Vec<usize> = producers.iter().map(|(count, _)| *count).collect();
        flow_kind(kind, maxsize, Stop::Count, Duration::ZERO, producers, consumers)
            .check(&counts, kind.fifo())?;
    }

    /// Checks QUEUE-8 and QUEUE-9 (with QUEUE-1, QUEUE-4, QUEUE-5, QUEUE-6) on real
    /// threads: a `Queue`, `LifoQueue` or `PriorityQueue` of maxsize 1-4, prefilled with
    /// 0-maxsize drop-counted items; 1-3 putters put up to 8 items each (put or
    /// put_timeout(1 h)) until refused, 0-3 getters get until `ShutDown` (with `task_done`
    /// after each, and then a joiner, or without), and a shutter calls `shutdown(true)` after
    /// 0-3 ms (maybe `shutdown(false)` first). Every blocked thread is released; every item
    /// put was got exactly once or drained; with the queue still alive every item was
    /// dropped exactly once (got, given back, or drained: none kept); the drain counted its
    /// items done, so exactly one unfinished task per item got remains (none with task_done,
    /// and the joiner returned).
    #[test]
    fn immediate_shutdown_races_blocked_putters_and_getters(
        kind in bounded_kind(),
        (maxsize, prefill) in (1usize..=4).prop_flat_map(|max| (Just(max), 0..=max)),
        putters in vec((0usize..=8, waiting()), 1..=3),
        getters in vec(waiting(), 0..=3),
        done in any::<bool>(),
        delay in (0u64..=3000).prop_map(Duration::from_micros),
        soft_first in any::<bool>(),
    ) {
        match kind {
            Kind::Fifo => immediate_race::<Queue<Counted>>(
                maxsize, prefill, putters, getters, done, delay, soft_first,
            )?,
            Kind::Lifo => immediate_race::<LifoQueue<Counted>>(
                maxsize, prefill, putters, getters, done, delay, soft_first,
            )?,
            Kind::Priority => immediate_race::<PriorityQueue<Counted>>(
                maxsize, prefill, putters, getters, done, delay, soft_first,
            )?,
            Kind::Simple => unreachable!("SimpleQueue has no shutdown"),
        }
    }

    /// Checks QUEUE-8 (`shutdown(true)` is one step, as CPython's: it sets the flag, drains
    /// and counts the drained items done under the queue's mutex, which `qsize`, `get` and
    /// `task_done` take too): a `Queue` (ring or locked), `LifoQueue` or `PriorityQueue`
    /// holding 256-2048 items, none got, is shut down immediately while 1-2 other threads spin
    /// on `is_shutdown()`. A thread that has seen it true must then see `len() == 0`; its
    /// `try_get()`/`get()` must answer `ShutDown` (never an item the drain has not reached
    /// yet), and its `task_done()` must be refused (every task was drained: CPython raises
    /// `ValueError`), never accepted because the drain has not counted every item done yet.
    #[test]
    fn immediate_shutdown_is_atomic_to_other_threads(
        kind in bounded_kind(),
        ring in any::<bool>(),
        items in 256usize..=2048,
        looks in vec(prop_oneof![Just(Look::TryGet), Just(Look::Get), Just(Look::TaskDone)], 1..=2),
    ) {
        let maxsize = if ring { items } else { 0 };
        let seen = match kind {
            Kind::Fifo => look_at_drain::<Queue<usize>>(maxsize, items, looks),
            Kind::Lifo => look_at_drain::<LifoQueue<usize>>(maxsize, items, looks),
            Kind::Priority => look_at_drain::<PriorityQueue<usize>>(maxsize, items, looks),
            Kind::Simple => unreachable!("SimpleQueue has no shutdown"),
        };
        for seen in seen {
            prop_assert!(
                matches!(
                    seen,
                    Seen::Got(0, Err(GetError::ShutDown)) | Seen::TaskDone(0, false)
                ),
                "QUEUE-8: after is_shutdown() answered true (shutdown(true) of {} items under \
                 way), a looker saw (len(), answer) {:?}",
                items, seen
            );
        }
    }

    /// Checks QUEUE-4 (no lost wake-up) and QUEUE-1 on real threads: 2-4 threads in a ring,
    /// each getting (get or get_timeout(1 h)) from its own inbox (any of the four queues,
    /// maxsize 0-2) and putting (put or put_timeout(1 h)) into the next one's, pass 1 to
    /// members - 1 tokens around 2000 hops each, each thread spending a random
    /// 0-40 µs between hops. Almost every get parks on an empty inbox and
    /// many puts park on a full one, each woken by the neighbour's put or get: a single lost
    /// wake-up stops the ring (the stuck limit fails the case). Every token makes exactly its
    /// hops, and no waiting put or get fails.
    #[test]
    fn hand_offs_never_lose_a_wake_up(
        kind in prop_oneof![
            Just(Kind::Fifo), Just(Kind::Lifo), Just(Kind::Priority), Just(Kind::Simple)
        ],
        maxsize in 0usize..=2,
        seed in any::<u64>(),
        (members, tokens) in vec((waiting(), waiting()), 2..=4)
            .prop_flat_map(|members| {
                let count = members.len();
                (Just(members), 1..count)
            }),
    ) {
        const HOPS: usize = 2000;
        let (hops, violations) = match kind {
            Kind::Fifo => hand_off::<Queue<Hop>>(seed, maxsize, members, tokens, HOPS),
            Kind::Lifo => hand_off::<LifoQueue<Hop>>(seed, maxsize, members, tokens, HOPS),
            Kind::Priority => hand_off::<PriorityQueue<Hop>>(seed, maxsize, members, tokens, HOPS),
            Kind::Simple => hand_off::<SimpleQueue<Hop>>(seed, 0, members, tokens, HOPS),
        };
        prop_assert!(violations.is_empty(), "violations: {:?}", violations);
        prop_assert_eq!(hops, vec![HOPS + 1; tokens], "QUEUE-1: gets per token");
    }

    /// Checks QUEUE-4 (no lost wake-up, the put side above all) and QUEUE-1, QUEUE-2,
    /// QUEUE-3 on real threads: 1-2 producers push 150-400 items each (put or
    /// put_timeout(1 h)) through a `Queue`, `LifoQueue` or `PriorityQueue` of maxsize 1-2 to
    /// 1-2 consumers (get or get_timeout(1 h)), stopped by `shutdown(false)`. The queue is
    /// nearly always full or empty, so putters and getters park and wake each other all the
    /// time: a single lost wake-up strands a thread (the stuck limit fails the case).
    #[test]
    fn narrow_pipe_never_loses_a_wake_up(
        kind in bounded_kind(),
        maxsize in 1usize..=2,
        producers in vec((150usize..=400, vec(waiting(), 1..=2)), 1..=2),
        consumers in vec(vec(waiting(), 1..=2), 1..=2),
    ) {
        let counts: Vec<usize> = producers.iter().map(|(count, _)| *count).collect();
        flow_kind(kind, maxsize, Stop::Shutdown, PIPE_WORK, producers, consumers)
            .check(&counts, kind.fifo())?;
    }
}
