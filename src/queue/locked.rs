//! The store behind LifoQueue, PriorityQueue, SimpleQueue and an unbounded (or very large)
//! Queue: the crate's own [`Lock`] around a container.
//!
//! The lock is held for one push or pop, never while waiting (the waiting is in
//! `queue::blocking`). Atomics mirror what a parking thread must check without the lock:
//! that check runs under the wait core's list lock, a spin lock held for a few
//! instructions, and taking this lock there could park a thread while it holds the spin
//! lock, with every thread that waits or wakes on that queue spinning behind it.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, VecDeque};

use crate::lock::Lock;
use crate::queue::blocking::Store;
use crate::queue::{GetError, PutError};
use crate::sync::{AtomicBool, AtomicUsize, Ordering, UnsafeCell};

/// The order a locked store hands items out in.
pub(crate) trait Container {
    type Item;
    fn with_capacity(capacity: usize) -> Self;
    fn push(&mut self, item: Self::Item);
    fn pop(&mut self) -> Option<Self::Item>;
    fn len(&self) -> usize;
}

/// First in, first out.
#[derive(Debug)]
pub(crate) struct Fifo<T>(VecDeque<T>);

/// Last in, first out.
#[derive(Debug)]
pub(crate) struct Lifo<T>(Vec<T>);

/// Smallest first, as Python's `heapq` (`BinaryHeap` is a max-heap, hence `Reverse`).
#[derive(Debug)]
pub(crate) struct Smallest<T: Ord>(BinaryHeap<Reverse<T>>);

impl<T> Container for Fifo<T> {
    type Item = T;
    fn with_capacity(capacity: usize) -> Self {
        Fifo(VecDeque::with_capacity(capacity))
    }
    fn push(&mut self, item: T) {
        self.0.push_back(item);
    }
    fn pop(&mut self) -> Option<T> {
        self.0.pop_front()
    }
    fn len(&self) -> usize {
        self.0.len()
    }
}

impl<T> Container for Lifo<T> {
    type Item = T;
    fn with_capacity(capacity: usize) -> Self {
        Lifo(Vec::with_capacity(capacity))
    }
    fn push(&mut self, item: T) {
        self.0.push(item);
    }
    fn pop(&mut self) -> Option<T> {
        self.0.pop()
    }
    fn len(&self) -> usize {
        self.0.len()
    }
}

impl<T: Ord> Container for Smallest<T> {
    type Item = T;
    fn with_capacity(capacity: usize) -> Self {
        Smallest(BinaryHeap::with_capacity(capacity))
    }
    fn push(&mut self, item: T) {
        self.0.push(Reverse(item));
    }
    fn pop(&mut self) -> Option<T> {
        self.0.pop().map(|Reverse(item)| item)
    }
    fn len(&self) -> usize {
        self.0.len()
    }
}

/// A bounded queue reserves room for this many items up front (or `maxsize`, if smaller),
/// so puts into it do not allocate; past it, the container grows as items arrive.
pub(crate) const PREALLOCATE_LIMIT: usize = 1 << 12;

/// A container behind the crate's [`Lock`] (module docs).
pub(crate) struct Locked<C> {
    lock: Lock,
    /// Read and written only while `lock` is held.
    items: UnsafeCell<C>,
    /// The container's length, written under `lock` after every change; read without it.
    len: AtomicUsize,
    /// Set under `lock` by `shutdown`; read without it.
    shut: AtomicBool,
    /// Set under `lock` by an immediate `shutdown`: pops are refused, except the drain's.
    closed: AtomicBool,
    maxsize: usize,
}

// SAFETY: the container (and the items in it) is only touched while `lock` is held, by one
// thread at a time; items move between threads, hence `C: Send`.
unsafe impl<C: Send> Send for Locked<C> {}
// SAFETY: as above: no `&C` or `&Item` ever escapes the lock.
unsafe impl<C: Send> Sync for Locked<C> {}

impl<C: Container> Locked<C> {
    /// A store holding at most `maxsize` items (0: unbounded).
    pub(crate) fn new(maxsize: usize) -> Self {
        Locked {
            lock: Lock::new(),
            items: UnsafeCell::new(C::with_capacity(maxsize.min(PREALLOCATE_LIMIT))),
            len: AtomicUsize::new(0),
            shut: AtomicBool::new(false),
            closed: AtomicBool::new(false),
            maxsize,
        }
    }

    /// Runs `f` on the container with the lock held. The guard releases the lock even if
    /// `f` unwinds (a panicking `Ord` in a priority queue).
    fn with_items<R>(&self, f: impl FnOnce(&mut C) -> R) -> R {
        let _held = self.lock.lock();
        // SAFETY: the lock is held, so no other thread touches the container.
        self.items.with_mut(|items| f(unsafe { &mut *items }))
    }
}

impl<C: Container> Store for Locked<C> {
    type Item = C::Item;

    fn try_push(&self, item: C::Item, accepted: impl FnOnce()) -> Result<(), PutError<C::Item>> {
        self.with_items(|items| {
            // Relaxed: written under the lock we hold.
            if self.shut.load(Ordering::Relaxed) {
                return Err(PutError::ShutDown(item));
            }
            if self.maxsize != 0 && items.len() >= self.maxsize {
                return Err(PutError::Full(item));
            }
            items.push(item);
            accepted();
            // Relaxed: the lock's release publishes it to the next holder; lock-free readers
            // are ordered by the queue's fences (`blocking` module docs).
            self.len.store(items.len(), Ordering::Relaxed);
            Ok(())
        })
    }

    fn try_pop(&self, draining: bool) -> Result<C::Item, GetError> {
        self.with_items(|items| {
            // Relaxed (both flags): written under the lock we hold.
            if self.closed.load(Ordering::Relaxed) && !draining {
                return Err(GetError::ShutDown);
            }
            match items.pop() {
                Some(item) => {
                    // Relaxed: as in `try_push`.
                    self.len.store(items.len(), Ordering::Relaxed);
                    Ok(item)
                }
                None if self.shut.load(Ordering::Relaxed) => Err(GetError::ShutDown),
                None => Err(GetError::Empty),
            }
        })
    }

    fn can_pop(&self) -> bool {
        // Relaxed: read after the waiter's fence (`blocking` module docs).
        self.len.load(Ordering::Relaxed) != 0
            || self.shut.load(Ordering::Relaxed)
            || self.closed.load(Ordering::Relaxed)
    }

    fn can_push(&self) -> bool {
        // Relaxed: as in `can_pop`.
        self.maxsize == 0
            || self.len.load(Ordering::Relaxed) < self.maxsize
            || self.shut.load(Ordering::Relaxed)
    }

    fn shutdown(&self, immediate: bool) {
        self.with_items(|_| {
            // `closed` Relaxed, then `shut` Release: a thread that sees `shut` without the
            // lock (`is_shutdown`'s Acquire) also sees pops refused and the length at 0.
            if immediate {
                self.closed.store(true, Ordering::Relaxed);
            }
            self.shut.store(true, Ordering::Release);
        });
    }

    fn is_shutdown(&self) -> bool {
        // Acquire: pairs with the Release in `shutdown`, so `closed` is visible too.
        self.shut.load(Ordering::Acquire)
    }

    fn len(&self) -> usize {
        // Relaxed: a snapshot. An immediate shutdown's leftovers are as good as gone.
        if self.closed.load(Ordering::Relaxed) {
            return 0;
        }
        self.len.load(Ordering::Relaxed)
    }

    fn maxsize(&self) -> usize {
        self.maxsize
    }
}
