//! The bounded FIFO store: a ring of slots, each with a stamp that says whose turn it is.
//!
//! The design is Dmitry Vyukov's bounded MPMC queue (per-slot sequence numbers; claims by a
//! compare-exchange on `head` or `tail`), as crossbeam's `ArrayQueue` and bounded channel also
//! build it; the lap-packed positions follow crossbeam's. Written anew here, with Python's
//! shutdown added as a bit in each position word.
//!
//! Putters claim positions by advancing `tail`, getters by advancing `head`; neither takes a
//! lock. A position is a lap number and a slot index packed in one word. A slot's stamp
//! says which position may use it next:
//!
//! | slot stamp            | meaning                                                     |
//! |-----------------------|-------------------------------------------------------------|
//! | `position`            | empty: the putter at `position` may fill it                  |
//! | `position + 1`        | full: holds the item put at `position`, for the getter there |
//! | `position + ONE_LAP`  | emptied by that getter: free for the putter one lap later    |
//!
//! A putter at `tail` whose slot stamp equals `tail` claims the position with one
//! compare-exchange on `tail`, writes the item, and publishes it by storing `tail + 1` in the
//! stamp. A getter at `head` whose slot stamp equals `head + 1` claims it the same way on
//! `head`, moves the item out, and frees the slot for the next lap. Between the claim and the
//! stamp store the slot belongs to the claimer alone.
//!
//! A thread that meets a slot in that window (a putter finds last lap's item being moved
//! out; a getter finds a claimed slot not yet filled) waits for the claimer: it spins, then
//! yields until the step is done. The window is a few instructions, longer only if the
//! claimer was descheduled in it, and the yield lets it run. Answering "full" or "empty"
//! instead, as if the step had not begun, is not linearizable: the step took effect at the
//! claim, and another thread may already have acted on it. A `try_put` answered "full"
//! because of a put still being written, and a `try_get` after it answered "empty" (found
//! by the linearizability checker under shuttle, `queue_schedules_are_linearizable`).
//! crossbeam's bounded channel waits the same way.
//!
//! Shutdown sets the `shut` bit in `tail`: every later claim by a putter fails on it, and a
//! getter that finds the ring empty reports "shut down" instead of "empty". An immediate
//! shutdown first sets the same bit in `head`: every later claim by a getter fails on it, so
//! from then on only the shutdown's own drain takes items out. `head`'s bit goes first, so
//! whoever sees `is_shutdown()` (the bit in `tail`) also finds gets refused; and a getter
//! refused by `head`'s bit sets `tail`'s itself before it answers, so that no put succeeds
//! after a get was told "shut down". The shutdown takes effect at the first store of
//! `tail`'s bit.

use core::mem::MaybeUninit;

use crate::queue::blocking::Store;
use crate::queue::{GetError, PutError};
use crate::sync::{AtomicUsize, Ordering, PeerWait, SpinWait, UnsafeCell, fence};

/// Keeps a hot atomic on a cache line of its own, so putters (on `tail`) and getters (on
/// `head`) do not slow each other down by sharing one. 128 bytes: adjacent-line prefetch
/// on x86 pairs 64-byte lines.
#[derive(Debug)]
#[repr(align(128))]
struct CachePadded<T>(T);

impl<T> core::ops::Deref for CachePadded<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.0
    }
}

struct Slot<T> {
    /// Which position may use the slot next (module docs).
    stamp: AtomicUsize,
    /// The item, present while the stamp says full.
    item: UnsafeCell<MaybeUninit<T>>,
}

/// A bounded, lock-free FIFO ring (module docs).
pub(crate) struct Ring<T> {
    /// The next position to take from, plus the `shut` bit once an immediate shutdown began.
    head: CachePadded<AtomicUsize>,
    /// The next position to fill, plus the `shut` bit.
    tail: CachePadded<AtomicUsize>,
    slots: Box<[Slot<T>]>,
    /// Set in `tail` once the queue is shut down: a power of two above every slot index.
    shut: usize,
    /// Adding it to a position moves to the same slot one lap later.
    one_lap: usize,
    /// How a thread waits for a peer mid-step (module docs).
    peers: PeerWait,
}

// SAFETY: items move between threads through the ring (so `T: Send` is needed), and a slot's
// item is only touched by the one thread that claimed its position (module docs), with the
// stamp's Release/Acquire publishing it to the next; no `&T` is ever shared.
unsafe impl<T: Send> Send for Ring<T> {}
// SAFETY: as above.
unsafe impl<T: Send> Sync for Ring<T> {}

/// The most memory a ring may take. A `Queue` whose bound needs more uses the locked store,
/// which grows as items arrive, instead (Python users size queues freely: a maxsize of a
/// million should not allocate a million slots up front).
const MAX_RING_BYTES: usize = 1 << 22;

impl<T> Ring<T> {
    /// Whether a ring of `capacity` slots is worth allocating up front.
    pub(crate) fn fits(capacity: usize) -> bool {
        capacity > 0
            && capacity
                .checked_mul(core::mem::size_of::<Slot<T>>())
                .is_some_and(|bytes| bytes <= MAX_RING_BYTES)
    }

    /// A ring of `capacity` slots, allocated here once. `capacity` must be at least 1.
    pub(crate) fn new(capacity: usize) -> Self {
        assert!(capacity > 0, "a ring needs at least one slot");
        let shut = (capacity + 1).next_power_of_two();
        let slots = (0..capacity)
            .map(|index| Slot {
                // Slot `index` is first used by position `index` of lap 0.
                stamp: AtomicUsize::new(index),
                item: UnsafeCell::new(MaybeUninit::uninit()),
            })
            .collect();
        Ring {
            head: CachePadded(AtomicUsize::new(0)),
            tail: CachePadded(AtomicUsize::new(0)),
            slots,
            shut,
            one_lap: shut << 1,
            peers: PeerWait::new(),
        }
    }

    fn capacity(&self) -> usize {
        self.slots.len()
    }

    /// The slot index of a position.
    #[inline]
    fn index(&self, position: usize) -> usize {
        position & (self.shut - 1)
    }

    /// The position after `position`: the next slot, or slot 0 of the next lap.
    #[inline]
    fn next(&self, position: usize) -> usize {
        if self.index(position) + 1 < self.capacity() {
            position + 1
        } else {
            (position & !(self.one_lap - 1)).wrapping_add(self.one_lap)
        }
    }
}

/// Whether stamp `a` is for an earlier position than `b`. Stamps and positions count up
/// through laps and wrap around `usize`, and two that are compared here are never more than
/// a lap or two apart, so the sign of the wrapping difference orders them.
#[inline]
fn is_behind(a: usize, b: usize) -> bool {
    (a.wrapping_sub(b) as isize) < 0
}

/// What a putter found at the slot for `tail`.
enum PushSlot {
    /// Free for this position: claim it.
    Free,
    /// Not yet free for this position: last lap's item is still in it, or is still being
    /// written, or its getter is moving it out.
    Occupied,
    /// The slot is ahead of our `tail`: others moved on while we looked; read it again.
    Stale,
}

/// What a getter found at the slot for `head`.
enum PopSlot {
    /// Holds this position's item: claim it.
    Ready,
    /// Not filled for this position: the ring is empty (also while last lap's getter is
    /// still moving its item out), or a putter that claimed the position is still writing.
    /// `in_flight` tells the two apart; `shut` says whether the queue was shut down at that
    /// same moment (one read of `tail` gives both, so "empty and shut down" is a state the
    /// queue was really in, not two looks at different times).
    Unfilled { in_flight: bool, shut: bool },
    /// The slot is ahead of our `head`: others moved on while we looked; read it again.
    Stale,
}

impl<T> Ring<T> {
    fn look_to_push(&self, tail: usize) -> PushSlot {
        // Acquire: pairs with the Release of the getter that emptied the slot, so its move
        // out of the slot happens before our write into it.
        let stamp = self.slots[self.index(tail)].stamp.load(Ordering::Acquire);
        if stamp == tail {
            PushSlot::Free
        } else if is_behind(stamp, tail) {
            PushSlot::Occupied
        } else {
            PushSlot::Stale
        }
    }

    /// Whether the ring is full for a putter at `tail`, whose slot it found occupied: every
    /// position of the last lap is claimed by a put and not yet by a get.
    fn is_full_at(&self, tail: usize) -> bool {
        // SeqCst fence: judge "full" on a `head` no older than the stamp we read.
        fence(Ordering::SeqCst);
        // Relaxed: ordered by the fence.
        let head = self.head.load(Ordering::Relaxed) & !self.shut;
        head.wrapping_add(self.one_lap) == tail & !self.shut
    }

    /// `position` carries no `shut` bit.
    fn look_to_pop(&self, position: usize) -> PopSlot {
        // Acquire: pairs with the putter's Release stamp store, so the item it wrote is
        // visible before we move it out.
        let stamp = self.slots[self.index(position)]
            .stamp
            .load(Ordering::Acquire);
        if stamp == position.wrapping_add(1) {
            PopSlot::Ready
        } else if is_behind(stamp, position.wrapping_add(1)) {
            // SeqCst fence: do not judge "empty" on a `tail` older than the stamp we read.
            fence(Ordering::SeqCst);
            // Acquire: where it shows the shut bit, pairs with `shutdown`'s Release, as
            // `is_shutdown` does; the fence orders the load after the stamp we read.
            let tail = self.tail.load(Ordering::Acquire);
            PopSlot::Unfilled {
                in_flight: tail & !self.shut != position,
                shut: tail & self.shut != 0,
            }
        } else {
            PopSlot::Stale
        }
    }
}

impl<T> Store for Ring<T> {
    type Item = T;

    #[inline]
    fn try_push(&self, item: T, accepted: impl FnOnce()) -> Result<(), PutError<T>> {
        let mut spin = SpinWait::new();
        // Relaxed: a stale position only fails the claim below, which reloads.
        let mut tail = self.tail.load(Ordering::Relaxed);
        loop {
            if tail & self.shut != 0 {
                return Err(PutError::ShutDown(item));
            }
            match self.look_to_push(tail) {
                PushSlot::Free => {}
                PushSlot::Occupied => {
                    if self.is_full_at(tail) {
                        return Err(PutError::Full(item));
                    }
                    // Not full: the getter that claimed this slot last lap is moving its item
                    // out. By count there is room (that get took effect at its claim), so we
                    // wait for it rather than answer "full" (module docs).
                    self.peers.wait_while(
                        || {
                            matches!(self.look_to_push(tail), PushSlot::Occupied)
                                && !self.is_full_at(tail)
                        },
                        &mut spin,
                    );
                    tail = self.tail.load(Ordering::Relaxed);
                    continue;
                }
                PushSlot::Stale => {
                    // Our `tail` is old; another putter took this position (see `pop`).
                    spin.snooze();
                    tail = self.tail.load(Ordering::Relaxed);
                    continue;
                }
            }
            // Relaxed: one winner per position is all the claim needs; the item is published
            // through the stamp, not through `tail`.
            match self.tail.compare_exchange_weak(
                tail,
                self.next(tail),
                Ordering::Relaxed,
                Ordering::Relaxed,
            ) {
                Ok(_) => {
                    accepted();
                    let slot = &self.slots[self.index(tail)];
                    // SAFETY: winning the claim on `tail` makes this slot ours until the stamp
                    // store below, and the stamp said it was empty.
                    slot.item.with_mut(|cell| unsafe { (*cell).write(item) });
                    // Release: publishes the item (and `accepted`'s effects) to the getter
                    // that Acquire-loads this stamp.
                    slot.stamp.store(tail.wrapping_add(1), Ordering::Release);
                    self.peers.step_done();
                    return Ok(());
                }
                Err(current) => {
                    tail = current;
                    spin.spin();
                }
            }
        }
    }

    #[inline]
    fn try_pop(&self, draining: bool) -> Result<T, GetError> {
        let mut spin = SpinWait::new();
        // Relaxed: a stale position only fails the claim below, which reloads.
        let mut head = self.head.load(Ordering::Relaxed);
        loop {
            let closed = head & self.shut;
            if closed != 0 && !draining {
                // An immediate shutdown sets `head`'s bit, then `tail`'s. Between the two a
                // put could still succeed after we answered "shut down", which no single
                // moment of the shutdown explains; so we set `tail`'s bit ourselves first
                // (idempotent), and the shutdown takes effect at whichever store is first.
                // Release: as in `shutdown`; the `head` we read (with its bit) happens
                // before, so whoever sees this bit in `tail` sees gets refused. Found by the
                // linearizability checker under shuttle.
                self.tail.fetch_or(self.shut, Ordering::Release);
                return Err(GetError::ShutDown);
            }
            let position = head & !self.shut;
            match self.look_to_pop(position) {
                PopSlot::Ready => {}
                PopSlot::Unfilled {
                    in_flight: false,
                    shut,
                } => {
                    // Empty, and shut down or not, at the one moment `tail` was read. (Two
                    // reads would let a put claim between them: a getter then answered
                    // `ShutDown` with that item on its way, and it was never got. Found by
                    // shuttle, `queue_shutdown_releases_everyone`.)
                    return Err(if shut {
                        GetError::ShutDown
                    } else {
                        GetError::Empty
                    });
                }
                PopSlot::Unfilled {
                    in_flight: true, ..
                } => {
                    // A putter claimed this position and is writing: its put took effect at
                    // the claim, so the item is in the queue; wait for it rather than answer
                    // "empty" (module docs).
                    self.peers.wait_while(
                        || {
                            matches!(
                                self.look_to_pop(position),
                                PopSlot::Unfilled {
                                    in_flight: true,
                                    ..
                                }
                            )
                        },
                        &mut spin,
                    );
                    head = self.head.load(Ordering::Relaxed);
                    continue;
                }
                PopSlot::Stale => {
                    // Our `head` is old; another getter took this position. Under loom a
                    // re-read may return the same old value until this thread yields.
                    spin.snooze();
                    head = self.head.load(Ordering::Relaxed);
                    continue;
                }
            }
            // Relaxed: one winner per position is all the claim needs; the item comes
            // through the stamp, not through `head`.
            match self.head.compare_exchange_weak(
                head,
                self.next(position) | closed,
                Ordering::Relaxed,
                Ordering::Relaxed,
            ) {
                Ok(_) => {
                    let slot = &self.slots[self.index(position)];
                    // SAFETY: winning the claim makes the slot ours until the stamp store
                    // below, and the stamp said it holds an initialised item, which we move
                    // out exactly once.
                    let item = slot
                        .item
                        .with_mut(|cell| unsafe { (*cell).assume_init_read() });
                    // Release: our move out happens before the next lap's putter writes.
                    slot.stamp
                        .store(position.wrapping_add(self.one_lap), Ordering::Release);
                    self.peers.step_done();
                    return Ok(item);
                }
                Err(current) => {
                    head = current;
                    spin.spin();
                }
            }
        }
    }

    fn can_pop(&self) -> bool {
        // Relaxed: read after the waiter's fence (`blocking` module docs).
        let head = self.head.load(Ordering::Relaxed);
        // Gets refused by an immediate shutdown: `try_pop` answers at once.
        if head & self.shut != 0 {
            return true;
        }
        match self.look_to_pop(head & !self.shut) {
            PopSlot::Ready | PopSlot::Stale => true,
            // In flight: `try_pop` waits for the put rather than answer "empty".
            PopSlot::Unfilled { in_flight, shut } => in_flight || shut,
        }
    }

    fn can_push(&self) -> bool {
        // Relaxed: read after the waiter's fence (`blocking` module docs).
        let tail = self.tail.load(Ordering::Relaxed);
        tail & self.shut != 0
            || !matches!(self.look_to_push(tail), PushSlot::Occupied)
            || !self.is_full_at(tail)
    }

    fn shutdown(&self, immediate: bool) {
        if immediate {
            // Relaxed: the RMW's atomicity puts the bit before every later claim on `head`;
            // the Release below carries it to whoever sees the bit in `tail`.
            self.head.fetch_or(self.shut, Ordering::Relaxed);
        }
        // Release: pairs with `is_shutdown`'s Acquire, so a thread that sees the queue shut
        // down also sees `head`'s bit (its gets are refused) (module docs).
        self.tail.fetch_or(self.shut, Ordering::Release);
    }

    fn is_shutdown(&self) -> bool {
        // Acquire: pairs with `shutdown`'s Release (see there).
        self.tail.load(Ordering::Acquire) & self.shut != 0
    }

    fn len(&self) -> usize {
        loop {
            // Relaxed: a snapshot; reading `tail` twice makes `head` and `tail` a pair that
            // existed together (`tail` did not move while we read `head`).
            let tail = self.tail.load(Ordering::Relaxed) & !self.shut;
            let head = self.head.load(Ordering::Relaxed);
            if self.tail.load(Ordering::Relaxed) & !self.shut != tail {
                continue;
            }
            if head & self.shut != 0 {
                // An immediate shutdown is draining: what is left is as good as gone.
                return 0;
            }
            let (head_index, tail_index) = (self.index(head), self.index(tail));
            return if head_index < tail_index {
                tail_index - head_index
            } else if head_index > tail_index {
                self.capacity() - head_index + tail_index
            } else if tail == head {
                0
            } else {
                self.capacity()
            };
        }
    }

    fn maxsize(&self) -> usize {
        self.capacity()
    }
}

impl<T> Drop for Ring<T> {
    fn drop(&mut self) {
        // Nobody else can reach the ring now, so no slot is mid-claim: take out and drop
        // what is left.
        while self.try_pop(true).is_ok() {}
    }
}
