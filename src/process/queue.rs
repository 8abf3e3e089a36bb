//! `process::Queue`: `multiprocessing.JoinableQueue` of byte messages, a bounded ring in named
//! shared memory.
//!
//! ```text
//!   head  lock (the owned lock of RLock and Value: a dead holder is taken over)
//!         maxsize, max_item_len          written by the creator, checked on open
//!         ring = first << 32 | len       the slots in use, one word so a commit is one store
//!         unfinished, shut_down
//!         journal + targets              a commit, written before it is applied
//!         not_empty, not_full, all_done  futex signals: a sequence word and a sleepers count
//!         holders[HOLDERS]               (process, items it got and has not task_done)
//!   tail  slot 0 | slot 1 | ... | slot maxsize-1      each: len (u32), then max_item_len bytes
//! ```
//!
//! Everything is done under the lock. What makes a process's death harmless is that every
//! change to the counts is a *commit*: the holder writes the values it is about to set into
//! the journal's targets, marks the journal COMMITTING (Release), sets them, and marks it
//! NONE. A process that takes the lock over from a dead holder replays a COMMITTING journal
//! (setting the same values twice changes nothing) and so finds the counts either before or
//! after the dead holder's step, never half-way. Message bytes are written before the commit
//! that makes their slot part of the ring, so a put that dies leaves nothing behind; its one
//! item is lost and was never counted.
//!
//! A consumer that dies after a `get` and before its `task_done` would leave `join` waiting
//! for ever. So each process's gotten-but-not-done items are counted in `holders`, in the same
//! commit as the `get`; `join` (and whoever takes the lock from a dead holder) subtracts a dead
//! process's count from `unfinished`.

use core::fmt;

use super::owned::{OWNER_CHECK_INTERVAL, RawOwnedLock, Taken};
use crate::queue::{GetError, TaskDoneError};
use crate::sync::{
    AtomicU32, AtomicU64, Deadline, Ordering, current_process, futex_wait, futex_wake,
    process_alive,
};

/// No commit under way.
const JOURNAL_NONE: u32 = 0;
/// The targets are written; setting them is under way.
const JOURNAL_COMMITTING: u32 = 1;
/// A commit that touches no holder.
const NO_HOLDER: u32 = u32::MAX;
/// How many processes' gotten-but-not-done items are tracked at once (4 in the model builds,
/// to keep the models small). A get by a process
/// beyond that, with every entry taken by a live process, is not tracked: if that process
/// dies before its task_done, `join` waits for it for ever, as Python's would.
pub const HOLDERS: usize = if cfg!(any(loom, shuttle)) { 4 } else { 64 };
/// The longest message a queue may be made for: 1 GiB (any more, and a slot would be most of
/// the 4 GiB an object may be).
pub const MAX_ITEM_LEN: usize = 1 << 30;

/// A futex signal, used under the queue's lock: a waiter reads `seq`, counts itself, lets go
/// of the lock and sleeps while `seq` is unchanged; a notifier bumps `seq` and wakes.
#[repr(C)]
struct Signal {
    seq: AtomicU32,
    sleepers: AtomicU32,
}

/// One process's items got and not yet task_done.
#[repr(C)]
struct Holder {
    process: AtomicU64,
    outstanding: AtomicU32,
    _pad: AtomicU32,
}

/// The queue's words before its slots.
#[doc(hidden)]
#[repr(C)]
pub struct RawQueueHead {
    lock: RawOwnedLock,
    maxsize: AtomicU32,
    max_item_len: AtomicU32,
    ring: AtomicU64,
    unfinished: AtomicU32,
    shut_down: AtomicU32,
    journal: AtomicU32,
    target_holder: AtomicU32,
    target_ring: AtomicU64,
    target_unfinished: AtomicU32,
    target_outstanding: AtomicU32,
    not_empty: Signal,
    not_full: Signal,
    all_done: Signal,
    _pad: AtomicU32,
    holders: [Holder; HOLDERS],
}

/// Bytes per slot: the length word, then the message, rounded up to 4 for the next word.
#[cfg_attr(any(loom, shuttle), allow(dead_code))]
fn stride(max_item_len: usize) -> usize {
    (4 + max_item_len).next_multiple_of(4)
}

fn pack(first: u32, len: u32) -> u64 {
    (u64::from(first) << 32) | u64::from(len)
}

/// Why a put was refused. Nothing was enqueued. `GetError` and `TaskDoneError` are the queue
/// module's.
///
/// ```
/// use locksmith::process::PutError;
/// assert_eq!(PutError::Full.to_string(), "queue is full");
/// assert_eq!(
///     PutError::TooLarge { len: 9, max: 8 }.to_string(),
///     "message of 9 bytes is longer than the queue's 8"
/// );
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum PutError {
    /// No room (at the deadline, for a waiting put). Python: `queue.Full`.
    Full,
    /// The queue is shut down. Python: `queue.ShutDown`.
    ShutDown,
    /// The message is longer than the queue's `max_item_len`.
    TooLarge {
        /// The message's length.
        len: usize,
        /// The queue's `max_item_len`.
        max: usize,
    },
}

impl fmt::Display for PutError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PutError::Full => f.write_str("queue is full"),
            PutError::ShutDown => f.write_str("queue is shut down"),
            PutError::TooLarge { len, max } => {
                write!(f, "message of {len} bytes is longer than the queue's {max}")
            }
        }
    }
}

impl std::error::Error for PutError {}

/// Where a queue's slots are: the mapping's tail in a named queue, a vector of cells in the
/// models. Every call is made under the queue's lock, with `index < maxsize`.
#[doc(hidden)]
pub trait Slots {
    /// The slot's length word.
    fn len_word(&self, index: u32) -> &AtomicU32;
    /// Copies `item` (at most `max_item_len` bytes) into the slot.
    fn write(&self, index: u32, item: &[u8]);
    /// Copies the slot's first `len` bytes (at most `max_item_len`) out.
    fn read(&self, index: u32, len: usize) -> Vec<u8>;
}

/// The queue's state machine over its head and its slots, wherever they are.
#[doc(hidden)]
pub struct RawQueue<'a, S> {
    head: &'a RawQueueHead,
    slots: S,
    /// Checked when the queue was made or opened: later scribbles on the words cannot move
    /// a slot outside the slots.
    maxsize: u32,
    max_item_len: usize,
}

/// Holds the queue's lock; lets go when dropped.
struct Locked<'q, 'a, S> {
    queue: &'q RawQueue<'a, S>,
}

impl<S> Drop for Locked<'_, '_, S> {
    fn drop(&mut self) {
        self.queue.head.lock.release();
    }
}

impl<'a, S: Slots> RawQueue<'a, S> {
    fn head(&self) -> &RawQueueHead {
        self.head
    }

    /// Takes the queue's lock (repairing after a dead holder), waiting without limit: it is
    /// held only for a step of a live process's call.
    fn lock(&self) -> Locked<'_, 'a, S> {
        let taken = self.head().lock.acquire_until(&Deadline::never());
        let locked = Locked { queue: self };
        if let Some(Taken::FromDead(_)) = taken {
            self.repair();
        }
        locked
    }

    /// After a dead holder: finishes its commit if it had begun one, then drops what dead
    /// processes had got and not done.
    fn repair(&self) {
        let head = self.head();
        // Acquire: the dead holder's targets, written before its Release of COMMITTING.
        if head.journal.load(Ordering::Acquire) == JOURNAL_COMMITTING {
            self.apply();
        }
        self.sweep_dead_holders();
    }

    /// The ring as (first, len), clamped to the slots this handle checked on open.
    fn ring(&self) -> (u32, u32) {
        // Relaxed: under the lock.
        let ring = self.head().ring.load(Ordering::Relaxed);
        let first = ((ring >> 32) as u32) % self.maxsize;
        let len = (ring as u32).min(self.maxsize);
        (first, len)
    }

    fn unfinished(&self) -> u32 {
        // Relaxed: under the lock.
        self.head().unfinished.load(Ordering::Relaxed)
    }

    /// Commits new counts: journal first, then the values, so a death anywhere leaves them
    /// all old or all new once the next holder has replayed the journal.
    fn commit(&self, ring: u64, unfinished: u32, holder: Option<(usize, u32)>) {
        let head = self.head();
        // Relaxed: published by the journal's Release below.
        head.target_ring.store(ring, Ordering::Relaxed);
        head.target_unfinished.store(unfinished, Ordering::Relaxed);
        let (index, outstanding) = holder.map_or((NO_HOLDER, 0), |(i, n)| (i as u32, n));
        head.target_holder.store(index, Ordering::Relaxed);
        head.target_outstanding
            .store(outstanding, Ordering::Relaxed);
        // Release: a taker that reads COMMITTING (Acquire) reads the targets above.
        head.journal.store(JOURNAL_COMMITTING, Ordering::Release);
        self.apply();
    }

    /// Sets the journal's targets (again, after a death) and closes the journal.
    fn apply(&self) {
        let head = self.head();
        // Relaxed, all: under the lock, or after a take-over's Acquire of the journal.
        head.ring
            .store(head.target_ring.load(Ordering::Relaxed), Ordering::Relaxed);
        head.unfinished.store(
            head.target_unfinished.load(Ordering::Relaxed),
            Ordering::Relaxed,
        );
        let index = head.target_holder.load(Ordering::Relaxed) as usize;
        if let Some(holder) = head.holders.get(index) {
            holder.outstanding.store(
                head.target_outstanding.load(Ordering::Relaxed),
                Ordering::Relaxed,
            );
        }
        head.journal.store(JOURNAL_NONE, Ordering::Relaxed);
    }

    /// The calling process's holder entry, claiming a free (or dead) one if it has none.
    fn my_holder(&self) -> Option<usize> {
        let me = current_process();
        let holders = &self.head().holders;
        // Relaxed, all: under the lock.
        if let Some(index) = holders
            .iter()
            .position(|h| h.process.load(Ordering::Relaxed) == me)
        {
            return Some(index);
        }
        let free = holders.iter().position(|h| {
            h.outstanding.load(Ordering::Relaxed) == 0 || h.process.load(Ordering::Relaxed) == 0
        })?;
        // An entry with nothing outstanding is nobody's: naming ourselves in it needs no
        // commit (a death now leaves an entry with 0, which is free again).
        holders[free].outstanding.store(0, Ordering::Relaxed);
        holders[free].process.store(me, Ordering::Relaxed);
        Some(free)
    }

    /// Drops from `unfinished` what dead processes had got and not done.
    fn sweep_dead_holders(&self) {
        for (index, holder) in self.head().holders.iter().enumerate() {
            // Relaxed: under the lock.
            let outstanding = holder.outstanding.load(Ordering::Relaxed);
            if outstanding == 0 || process_alive(holder.process.load(Ordering::Relaxed)) {
                continue;
            }
            let ring = self.head().ring.load(Ordering::Relaxed);
            let unfinished = self.unfinished().saturating_sub(outstanding);
            self.commit(ring, unfinished, Some((index, 0)));
            if unfinished == 0 {
                self.head().all_done.notify(u32::MAX);
            }
        }
    }

    /// Whether the queue is shut down.
    pub fn shut(&self) -> bool {
        // Relaxed: under the lock, or a snapshot.
        self.head().shut_down.load(Ordering::Relaxed) != 0
    }

    /// Puts `item` in, waiting until `deadline` for room.
    pub fn put_until(&self, item: &[u8], deadline: &Deadline) -> Result<(), PutError> {
        if item.len() > self.max_item_len {
            return Err(PutError::TooLarge {
                len: item.len(),
                max: self.max_item_len,
            });
        }
        let mut locked = self.lock();
        loop {
            if self.shut() {
                return Err(PutError::ShutDown);
            }
            let (first, len) = self.ring();
            if len < self.maxsize {
                let index = (first + len) % self.maxsize;
                // Relaxed: the commit below publishes it (under the lock).
                self.slots
                    .len_word(index)
                    .store(item.len() as u32, Ordering::Relaxed);
                self.slots.write(index, item);
                let unfinished = self.unfinished().saturating_add(1);
                self.commit(pack(first, len + 1), unfinished, None);
                self.head().not_empty.notify(1);
                return Ok(());
            }
            if deadline.expired() {
                return Err(PutError::Full);
            }
            locked = self.head().not_full.wait(locked, deadline);
        }
    }

    /// Takes the oldest message out, waiting until `deadline` for one.
    pub fn get_until(&self, deadline: &Deadline) -> Result<Vec<u8>, GetError> {
        let mut locked = self.lock();
        loop {
            let (first, len) = self.ring();
            if len > 0 {
                // Relaxed: under the lock. A peer's length past max_item_len is clamped.
                let size = (self.slots.len_word(first).load(Ordering::Relaxed) as usize)
                    .min(self.max_item_len);
                let item = self.slots.read(first, size);
                let holder = self.my_holder().map(|index| {
                    // Relaxed: under the lock.
                    let held = self.head().holders[index]
                        .outstanding
                        .load(Ordering::Relaxed);
                    (index, held.saturating_add(1))
                });
                let next = pack((first + 1) % self.maxsize, len - 1);
                self.commit(next, self.unfinished(), holder);
                self.head().not_full.notify(1);
                return Ok(item);
            }
            if self.shut() {
                return Err(GetError::ShutDown);
            }
            if deadline.expired() {
                return Err(GetError::Empty);
            }
            locked = self.head().not_empty.wait(locked, deadline);
        }
    }

    /// How many messages are in the queue now. A snapshot.
    pub fn len(&self) -> usize {
        // Relaxed: a snapshot (without the lock), clamped as under it.
        let ring = self.head().ring.load(Ordering::Relaxed);
        (ring as u32).min(self.maxsize) as usize
    }

    /// Whether the queue is empty now. A snapshot.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Marks one message got earlier as processed; `TaskDoneError` if none is left to mark.
    pub fn task_done(&self) -> Result<(), TaskDoneError> {
        let _locked = self.lock();
        let unfinished = self.unfinished();
        if unfinished == 0 {
            return Err(TaskDoneError);
        }
        // Ours if we got one; else whoever's (Python lets any process call task_done).
        let me = current_process();
        let holders = &self.head().holders;
        // Relaxed, all: under the lock.
        let outstanding = |h: &Holder| h.outstanding.load(Ordering::Relaxed);
        let holder = holders
            .iter()
            .position(|h| h.process.load(Ordering::Relaxed) == me && outstanding(h) > 0)
            .or_else(|| holders.iter().position(|h| outstanding(h) > 0))
            .map(|index| (index, outstanding(&holders[index]) - 1));
        let ring = self.head().ring.load(Ordering::Relaxed);
        self.commit(ring, unfinished - 1, holder);
        if unfinished == 1 {
            self.head().all_done.notify(u32::MAX);
        }
        Ok(())
    }

    /// Blocks until every message put is done (or dropped, or lost with a dead process).
    pub fn join(&self) {
        let mut locked = self.lock();
        loop {
            self.sweep_dead_holders();
            if self.unfinished() == 0 {
                return;
            }
            // Wake up now and then to look for consumers that died holding work.
            locked = self
                .head()
                .all_done
                .wait(locked, &Deadline::after(OWNER_CHECK_INTERVAL));
        }
    }

    /// Shuts the queue down, as Python 3.13's `shutdown(immediate)`.
    pub fn shutdown(&self, immediate: bool) {
        let _locked = self.lock();
        let head = self.head();
        // Relaxed: under the lock.
        head.shut_down.store(1, Ordering::Relaxed);
        if immediate {
            let (first, len) = self.ring();
            let unfinished = self.unfinished().saturating_sub(len);
            self.commit(pack((first + len) % self.maxsize, 0), unfinished, None);
            if unfinished == 0 {
                head.all_done.notify(u32::MAX);
            }
        }
        head.not_empty.notify(u32::MAX);
        head.not_full.notify(u32::MAX);
    }
}

impl Signal {
    /// Lets go of `locked`, sleeps until a notify, `deadline` or spuriously, and takes the lock
    /// again (repairing after a dead holder).
    fn wait<'q, 'a, S: Slots>(
        &self,
        locked: Locked<'q, 'a, S>,
        deadline: &Deadline,
    ) -> Locked<'q, 'a, S> {
        let queue = locked.queue;
        // Relaxed: under the lock; a notifier changes `seq` only under it too.
        let seen = self.seq.load(Ordering::Relaxed);
        self.sleepers.fetch_add(1, Ordering::Relaxed);
        drop(locked);
        futex_wait(&self.seq, seen, deadline);
        let locked = queue.lock();
        // Relaxed: a count (a dead sleeper's leaves it high: spare wakes only).
        self.sleepers.fetch_sub(1, Ordering::Relaxed);
        locked
    }

    /// Wakes up to `n` sleepers (under the lock).
    fn notify(&self, n: u32) {
        // Relaxed: under the lock; the kernel compares `seq` for the sleepers.
        self.seq.fetch_add(1, Ordering::Relaxed);
        if self.sleepers.load(Ordering::Relaxed) != 0 {
            futex_wake(&self.seq, n);
        }
    }
}

/// A queue for the models: its head and slots on the heap, in loom's (or shuttle's) cells.
#[cfg(any(loom, shuttle))]
#[doc(hidden)]
pub struct ModelQueue {
    head: RawQueueHead,
    slots: Vec<ModelSlot>,
    max_item_len: usize,
}

#[cfg(any(loom, shuttle))]
#[doc(hidden)]
pub struct ModelSlot {
    len: AtomicU32,
    bytes: crate::sync::UnsafeCell<Vec<u8>>,
}

#[cfg(any(loom, shuttle))]
impl ModelQueue {
    /// An empty queue of `maxsize` slots of `max_item_len` bytes.
    #[allow(clippy::new_without_default)]
    pub fn new(maxsize: u32, max_item_len: usize) -> Self {
        let zero = || AtomicU32::new(0);
        let signal = || Signal {
            seq: zero(),
            sleepers: zero(),
        };
        let head = RawQueueHead {
            lock: RawOwnedLock::new(),
            maxsize: AtomicU32::new(maxsize),
            max_item_len: AtomicU32::new(max_item_len as u32),
            ring: AtomicU64::new(0),
            unfinished: zero(),
            shut_down: zero(),
            journal: zero(),
            target_holder: zero(),
            target_ring: AtomicU64::new(0),
            target_unfinished: zero(),
            target_outstanding: zero(),
            not_empty: signal(),
            not_full: signal(),
            all_done: signal(),
            _pad: zero(),
            holders: core::array::from_fn(|_| Holder {
                process: AtomicU64::new(0),
                outstanding: zero(),
                _pad: zero(),
            }),
        };
        let slots = (0..maxsize)
            .map(|_| ModelSlot {
                len: zero(),
                bytes: crate::sync::UnsafeCell::new(vec![0; max_item_len]),
            })
            .collect();
        ModelQueue {
            head,
            slots,
            max_item_len,
        }
    }

    /// The state machine over this queue.
    pub fn raw(&self) -> RawQueue<'_, &[ModelSlot]> {
        RawQueue {
            head: &self.head,
            slots: &self.slots,
            maxsize: self.slots.len() as u32,
            max_item_len: self.max_item_len,
        }
    }
}

#[cfg(any(loom, shuttle))]
impl Slots for &[ModelSlot] {
    fn len_word(&self, index: u32) -> &AtomicU32 {
        &self[index as usize].len
    }

    fn write(&self, index: u32, item: &[u8]) {
        // SAFETY: under the queue's lock, the only access to this slot's bytes; loom checks
        // that claim (a write racing a read is a reported data race).
        self[index as usize]
            .bytes
            .with_mut(|bytes| unsafe { (&mut *bytes)[..item.len()].copy_from_slice(item) });
    }

    fn read(&self, index: u32, len: usize) -> Vec<u8> {
        // SAFETY: as in `write`.
        self[index as usize]
            .bytes
            .with(|bytes| unsafe { (&*bytes)[..len].to_vec() })
    }
}

#[cfg(all(not(any(loom, shuttle)), target_os = "linux"))]
mod named {
    use super::*;
    use crate::process::object::{Body, Object};
    use crate::sync::shm::invalid_data;
    use core::time::Duration;
    use std::io;
    use std::marker::PhantomData;

    // SAFETY: repr(C), atomics only (the owned lock, u32s and u64s laid out with no padding a
    // peer could not also write): any bytes are a value; all zero is an empty, open queue with no
    // commit under way (the creator then sets maxsize and max_item_len).
    unsafe impl Body for RawQueueHead {
        const KIND: u32 = 7;
        const NAME: &'static str = "Queue";
    }

    /// A named queue's slots: the mapping's tail, `maxsize` slots of `stride` bytes.
    pub(super) struct MappedSlots<'q> {
        tail: *mut u8,
        stride: usize,
        maxsize: u32,
        queue: PhantomData<&'q Queue>,
    }

    impl MappedSlots<'_> {
        /// The first byte of slot `index` (its length word), inside the mapping: `index <
        /// maxsize`, and the slots were checked to fill the tail exactly.
        fn slot(&self, index: u32) -> *mut u8 {
            debug_assert!(index < self.maxsize);
            self.tail.wrapping_add(index as usize * self.stride)
        }
    }

    impl Slots for MappedSlots<'_> {
        fn len_word(&self, index: u32) -> &AtomicU32 {
            // SAFETY: the slot's first 4 bytes are inside the mapping (see `slot`) and
            // 4-aligned (the tail starts 8-aligned after the head and every stride is a
            // multiple of 4); any bytes are a u32; the reference lives no longer than the
            // queue handle (`'q`), which owns the mapping.
            unsafe { &*self.slot(index).cast::<AtomicU32>() }
        }

        fn write(&self, index: u32, item: &[u8]) {
            // SAFETY: the slot's message bytes (4 .. 4 + max_item_len) are inside the
            // mapping, `item` is no longer than max_item_len (put checks), and a caller's
            // slice cannot overlap shared memory we mapped ourselves. Other processes touch
            // this slot only under the lock our caller holds.
            unsafe {
                core::ptr::copy_nonoverlapping(
                    item.as_ptr(),
                    self.slot(index).wrapping_add(4),
                    item.len(),
                );
            }
        }

        fn read(&self, index: u32, len: usize) -> Vec<u8> {
            let mut item = vec![0u8; len];
            // SAFETY: the slot's first `len` message bytes are inside the mapping (len <=
            // max_item_len, which get clamps), and `item` is a fresh Vec of that length.
            unsafe {
                core::ptr::copy_nonoverlapping(
                    self.slot(index).wrapping_add(4),
                    item.as_mut_ptr(),
                    len,
                );
            }
            item
        }
    }

    /// `multiprocessing.JoinableQueue` of byte messages in named shared memory: a bounded ring of
    /// `maxsize` slots of up to `max_item_len` bytes, with `task_done`/`join` and Python 3.13's
    /// `shutdown`.
    ///
    /// A put never allocates; a get allocates the `Vec` it returns, and only that. A process
    /// killed at any point loses at most the one message it was putting or getting, which `join`
    /// then does not wait for (docs/process.md, "The queue").
    ///
    /// ```
    /// let name = format!("/locksmith-doc-queue-{}", std::process::id());
    /// let queue = locksmith::process::Queue::create(&name, 4, 64)?;
    /// let other = locksmith::process::Queue::open(queue.name())?;
    /// queue.put(b"job 1").unwrap();
    /// assert_eq!(other.get().unwrap(), b"job 1");
    /// other.task_done().unwrap();
    /// queue.join();
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub struct Queue {
        object: Object<RawQueueHead>,
        /// Read once, when made or opened and checked: later scribbles on the words cannot move
        /// a slot outside the mapping.
        maxsize: u32,
        max_item_len: usize,
    }

    impl Queue {
        /// Creates the queue `name` for at most `maxsize` messages of at most `max_item_len`
        /// bytes each, mode 0600; unlinked when this handle is dropped. `InvalidInput` for a bad
        /// name, a `maxsize` of 0, a `max_item_len` above [`MAX_ITEM_LEN`], or slots past 4 GiB;
        /// `AlreadyExists` if the name is taken. The memory is `maxsize` slots of `max_item_len`
        /// bytes (plus 4 each, and a header).
        ///
        /// ```
        /// let name = format!("/locksmith-doc-queue-create-{}", std::process::id());
        /// let queue = locksmith::process::Queue::create(&name, 8, 1024)?;
        /// assert_eq!((queue.maxsize(), queue.max_item_len()), (8, 1024));
        /// # Ok::<(), std::io::Error>(())
        /// ```
        pub fn create(name: &str, maxsize: usize, max_item_len: usize) -> io::Result<Queue> {
            let refuse = |why: String| Err(io::Error::new(io::ErrorKind::InvalidInput, why));
            if maxsize == 0 {
                return refuse("a process Queue needs a maxsize of at least 1".into());
            }
            if max_item_len > MAX_ITEM_LEN {
                return refuse(format!(
                    "max_item_len {max_item_len} is above the maximum, {MAX_ITEM_LEN}"
                ));
            }
            let Some(tail) = stride(max_item_len)
                .checked_mul(maxsize)
                .filter(|_| u32::try_from(maxsize).is_ok())
            else {
                return refuse(format!(
                    "{maxsize} slots of {max_item_len} bytes are past 4 GiB"
                ));
            };
            let object = Object::create_with_tail(name, tail, |head: &RawQueueHead, _| {
                // Relaxed: published by the object's magic.
                head.maxsize.store(maxsize as u32, Ordering::Relaxed);
                head.max_item_len
                    .store(max_item_len as u32, Ordering::Relaxed);
            })?;
            Ok(Queue {
                object,
                maxsize: maxsize as u32,
                max_item_len,
            })
        }

        /// Opens the queue another handle created. `NotFound` if there is none; `InvalidData` if
        /// `name` is not a locksmith `Queue` of this layout, or its sizes do not add up.
        ///
        /// ```
        /// let missing = locksmith::process::Queue::open("/locksmith-doc-no-such-queue");
        /// assert_eq!(missing.unwrap_err().kind(), std::io::ErrorKind::NotFound);
        /// ```
        pub fn open(name: &str) -> io::Result<Queue> {
            let object = Object::<RawQueueHead>::open_with_tail(name, u32::MAX as usize)?;
            let head = object.body();
            // Relaxed: written before the object was published (the opener's Acquire).
            let maxsize = head.maxsize.load(Ordering::Relaxed);
            let max_item_len = head.max_item_len.load(Ordering::Relaxed) as usize;
            let (_, tail) = object.tail();
            let fits = maxsize >= 1
                && max_item_len <= MAX_ITEM_LEN
                && stride(max_item_len).checked_mul(maxsize as usize) == Some(tail);
            if !fits {
                return Err(invalid_data(format!(
                    "{name}: a queue of {maxsize} slots of {max_item_len} bytes cannot be {tail} bytes of slots"
                )));
            }
            Ok(Queue {
                object,
                maxsize,
                max_item_len,
            })
        }

        /// The queue's name, with its leading `/`.
        ///
        /// ```
        /// let name = format!("/locksmith-doc-queue-name-{}", std::process::id());
        /// let queue = locksmith::process::Queue::create(&name, 1, 1)?;
        /// assert_eq!(queue.name(), name);
        /// # Ok::<(), std::io::Error>(())
        /// ```
        pub fn name(&self) -> &str {
            self.object.name()
        }

        /// The most messages the queue holds.
        ///
        /// ```
        /// let name = format!("/locksmith-doc-queue-maxsize-{}", std::process::id());
        /// assert_eq!(locksmith::process::Queue::create(&name, 3, 1)?.maxsize(), 3);
        /// # Ok::<(), std::io::Error>(())
        /// ```
        pub fn maxsize(&self) -> usize {
            self.maxsize as usize
        }

        /// The longest message the queue takes, in bytes.
        ///
        /// ```
        /// let name = format!("/locksmith-doc-queue-max-item-{}", std::process::id());
        /// assert_eq!(locksmith::process::Queue::create(&name, 1, 32)?.max_item_len(), 32);
        /// # Ok::<(), std::io::Error>(())
        /// ```
        pub fn max_item_len(&self) -> usize {
            self.max_item_len
        }

        /// The state machine over this handle's mapping.
        fn raw(&self) -> RawQueue<'_, MappedSlots<'_>> {
            let (tail, _) = self.object.tail();
            RawQueue {
                head: self.object.body(),
                slots: MappedSlots {
                    tail,
                    stride: stride(self.max_item_len),
                    maxsize: self.maxsize,
                    queue: PhantomData,
                },
                maxsize: self.maxsize,
                max_item_len: self.max_item_len,
            }
        }

        /// Puts `item` in, waiting while the queue is full. Python: `put(item)`.
        ///
        /// ```
        /// let name = format!("/locksmith-doc-queue-put-{}", std::process::id());
        /// let queue = locksmith::process::Queue::create(&name, 1, 8)?;
        /// queue.put(b"x").unwrap();
        /// assert_eq!(queue.len(), 1);
        /// # Ok::<(), std::io::Error>(())
        /// ```
        pub fn put(&self, item: &[u8]) -> Result<(), PutError> {
            self.raw().put_until(item, &Deadline::never())
        }

        /// Puts `item` in if there is room now; never waits for room. Python: `put_nowait`.
        ///
        /// ```
        /// use locksmith::process::PutError;
        /// let name = format!("/locksmith-doc-queue-try-put-{}", std::process::id());
        /// let queue = locksmith::process::Queue::create(&name, 1, 8)?;
        /// queue.try_put(b"a").unwrap();
        /// assert_eq!(queue.try_put(b"b"), Err(PutError::Full));
        /// # Ok::<(), std::io::Error>(())
        /// ```
        pub fn try_put(&self, item: &[u8]) -> Result<(), PutError> {
            self.raw().put_until(item, &Deadline::after(Duration::ZERO))
        }

        /// Puts `item` in, waiting at most `timeout` for room. Python: `put(item, timeout=t)`.
        ///
        /// ```
        /// use locksmith::process::PutError;
        /// use std::time::Duration;
        /// let name = format!("/locksmith-doc-queue-put-timeout-{}", std::process::id());
        /// let queue = locksmith::process::Queue::create(&name, 1, 8)?;
        /// queue.put(b"a").unwrap();
        /// assert_eq!(queue.put_timeout(b"b", Duration::from_millis(5)), Err(PutError::Full));
        /// # Ok::<(), std::io::Error>(())
        /// ```
        pub fn put_timeout(&self, item: &[u8], timeout: Duration) -> Result<(), PutError> {
            self.raw().put_until(item, &Deadline::after(timeout))
        }

        /// Takes the oldest message out, waiting while the queue is empty. Python: `get()`.
        /// A shut-down queue hands out what is left, then [`GetError::ShutDown`].
        ///
        /// ```
        /// let name = format!("/locksmith-doc-queue-get-{}", std::process::id());
        /// let queue = locksmith::process::Queue::create(&name, 2, 8)?;
        /// queue.put(b"first").unwrap();
        /// queue.put(b"").unwrap(); // empty messages are messages
        /// assert_eq!(queue.get().unwrap(), b"first");
        /// assert_eq!(queue.get().unwrap(), b"");
        /// # Ok::<(), std::io::Error>(())
        /// ```
        pub fn get(&self) -> Result<Vec<u8>, GetError> {
            self.raw().get_until(&Deadline::never())
        }

        /// Takes the oldest message out if there is one now. Python: `get_nowait()`.
        ///
        /// ```
        /// use locksmith::queue::GetError;
        /// let name = format!("/locksmith-doc-queue-try-get-{}", std::process::id());
        /// let queue = locksmith::process::Queue::create(&name, 1, 8)?;
        /// assert_eq!(queue.try_get(), Err(GetError::Empty));
        /// # Ok::<(), std::io::Error>(())
        /// ```
        pub fn try_get(&self) -> Result<Vec<u8>, GetError> {
            self.raw().get_until(&Deadline::after(Duration::ZERO))
        }

        /// Takes the oldest message out, waiting at most `timeout`. Python: `get(timeout=t)`.
        ///
        /// ```
        /// use locksmith::queue::GetError;
        /// use std::time::Duration;
        /// let name = format!("/locksmith-doc-queue-get-timeout-{}", std::process::id());
        /// let queue = locksmith::process::Queue::create(&name, 1, 8)?;
        /// assert_eq!(queue.get_timeout(Duration::from_millis(5)), Err(GetError::Empty));
        /// # Ok::<(), std::io::Error>(())
        /// ```
        pub fn get_timeout(&self, timeout: Duration) -> Result<Vec<u8>, GetError> {
            self.raw().get_until(&Deadline::after(timeout))
        }

        /// How many messages are in the queue now. Python: `qsize()`. A snapshot.
        ///
        /// ```
        /// let name = format!("/locksmith-doc-queue-len-{}", std::process::id());
        /// let queue = locksmith::process::Queue::create(&name, 2, 1)?;
        /// queue.put(b"a").unwrap();
        /// assert_eq!(queue.len(), 1);
        /// # Ok::<(), std::io::Error>(())
        /// ```
        pub fn len(&self) -> usize {
            self.raw().len()
        }

        /// Whether the queue is empty now. Python: `empty()`. A snapshot.
        ///
        /// ```
        /// let name = format!("/locksmith-doc-queue-empty-{}", std::process::id());
        /// assert!(locksmith::process::Queue::create(&name, 1, 1)?.is_empty());
        /// # Ok::<(), std::io::Error>(())
        /// ```
        pub fn is_empty(&self) -> bool {
            self.len() == 0
        }

        /// Marks one message got earlier (by any process) as processed. Python: `task_done()`.
        /// [`TaskDoneError`] if every message put has already been marked.
        ///
        /// ```
        /// let name = format!("/locksmith-doc-queue-task-done-{}", std::process::id());
        /// let queue = locksmith::process::Queue::create(&name, 1, 1)?;
        /// assert!(queue.task_done().is_err());
        /// queue.put(b"a").unwrap();
        /// queue.get().unwrap();
        /// assert!(queue.task_done().is_ok());
        /// # Ok::<(), std::io::Error>(())
        /// ```
        pub fn task_done(&self) -> Result<(), TaskDoneError> {
            self.raw().task_done()
        }

        /// Blocks until every message put has been got and marked with `task_done` (or dropped
        /// by an immediate shutdown, or lost with a process that died). Python: `join()`.
        ///
        /// ```
        /// let name = format!("/locksmith-doc-queue-join-{}", std::process::id());
        /// let queue = locksmith::process::Queue::create(&name, 1, 1)?;
        /// queue.join(); // nothing put: returns at once
        /// # Ok::<(), std::io::Error>(())
        /// ```
        pub fn join(&self) {
            self.raw().join()
        }

        /// Shuts the queue down, as Python 3.13's `shutdown(immediate)`: puts fail from now on,
        /// and every waiting put and get wakes. Gets drain what is left, then fail; with
        /// `immediate`, what is left is dropped at once (and counted done for `join`).
        ///
        /// ```
        /// use locksmith::queue::GetError;
        /// let name = format!("/locksmith-doc-queue-shutdown-{}", std::process::id());
        /// let queue = locksmith::process::Queue::create(&name, 2, 1)?;
        /// queue.put(b"a").unwrap();
        /// queue.shutdown(false);
        /// assert_eq!(queue.get().unwrap(), b"a");
        /// assert_eq!(queue.get(), Err(GetError::ShutDown));
        /// # Ok::<(), std::io::Error>(())
        /// ```
        pub fn shutdown(&self, immediate: bool) {
            self.raw().shutdown(immediate)
        }

        /// Whether the queue has been shut down.
        ///
        /// ```
        /// let name = format!("/locksmith-doc-queue-is-shutdown-{}", std::process::id());
        /// let queue = locksmith::process::Queue::create(&name, 1, 1)?;
        /// queue.shutdown(false);
        /// assert!(queue.is_shutdown());
        /// # Ok::<(), std::io::Error>(())
        /// ```
        pub fn is_shutdown(&self) -> bool {
            self.raw().shut()
        }
    }

    impl fmt::Debug for Queue {
        /// Shows the name, the sizes and the messages in it now.
        ///
        /// ```
        /// let name = format!("/locksmith-doc-queue-debug-{}", std::process::id());
        /// let queue = locksmith::process::Queue::create(&name, 2, 8)?;
        /// assert_eq!(
        ///     format!("{queue:?}"),
        ///     format!("Queue {{ name: {name:?}, len: 0, maxsize: 2, max_item_len: 8 }}")
        /// );
        /// # Ok::<(), std::io::Error>(())
        /// ```
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.debug_struct("Queue")
                .field("name", &self.name())
                .field("len", &self.len())
                .field("maxsize", &self.maxsize)
                .field("max_item_len", &self.max_item_len)
                .finish()
        }
    }
}

#[cfg(all(not(any(loom, shuttle)), target_os = "linux"))]
pub use named::Queue;
