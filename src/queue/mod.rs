//! Python's `queue` module: [`Queue`] (FIFO), [`LifoQueue`], [`PriorityQueue`] (smallest
//! first) and [`SimpleQueue`], with CPython 3.13's `task_done`/`join` and `shutdown`.
//!
//! | Python                          | locksmith                                   |
//! |---------------------------------|---------------------------------------------|
//! | `q.put(x)` / `q.put(x, timeout=t)` / `q.put_nowait(x)` | [`put`](Queue::put) / [`put_timeout`](Queue::put_timeout) / [`try_put`](Queue::try_put) |
//! | `q.get()` / `q.get(timeout=t)` / `q.get_nowait()`      | [`get`](Queue::get) / [`get_timeout`](Queue::get_timeout) / [`try_get`](Queue::try_get) |
//! | `q.qsize()`, `q.empty()`, `q.full()`, `q.maxsize`       | [`len`](Queue::len), [`is_empty`](Queue::is_empty), [`is_full`](Queue::is_full), [`maxsize`](Queue::maxsize) |
//! | `q.task_done()`, `q.join()`     | [`task_done`](Queue::task_done), [`join`](Queue::join) |
//! | `q.shutdown(immediate=...)`, `q.is_shutdown` | [`shutdown`](Queue::shutdown), [`is_shutdown`](Queue::is_shutdown) |
//! | `queue.Full`, `queue.Empty`, `queue.ShutDown` | [`PutError::Full`], [`GetError::Empty`], [`PutError::ShutDown`] / [`GetError::ShutDown`] |
//!
//! A refused put hands the item back inside its [`PutError`]; an item is dropped (or
//! returned) as soon as it is taken out, never kept alive by the queue.
//!
//! A bounded `Queue` is a lock-free ring: a put or get that finds room (or an item) is a
//! couple of atomic operations and touches no lock. `LifoQueue`, `PriorityQueue`,
//! `SimpleQueue` and an unbounded `Queue` keep their items behind the crate's [`Lock`],
//! held for one push or pop. Every queue waits the same way: a brief spin, then a park in
//! the crate's wait core, woken by the thread that makes room or brings an item.
//!
//! ```
//! # if locksmith::__internals::LOOM_BUILD { return; }
//! use locksmith::queue::Queue;
//! use std::thread;
//!
//! let queue = Queue::new(4);
//! thread::scope(|s| {
//!     s.spawn(|| {
//!         for n in 0..10 {
//!             queue.put(n).unwrap(); // waits while the queue is full
//!         }
//!         queue.shutdown(false); // getters drain what is left, then see ShutDown
//!     });
//!     let mut got = Vec::new();
//!     while let Ok(n) = queue.get() {
//!         got.push(n);
//!     }
//!     assert_eq!(got, (0..10).collect::<Vec<_>>());
//! });
//! ```
//!
//! [`Lock`]: crate::Lock

mod blocking;
mod error;
mod fifo;
mod locked;
mod ring;

use core::fmt;
use core::time::Duration;

pub use error::{GetError, PutError, TaskDoneError};

use crate::sync::Deadline;
use blocking::{Core, Store};
use fifo::FifoStore;
use locked::{Fifo, Lifo, Locked, Smallest};

/// The methods Python's `Queue`, `LifoQueue` and `PriorityQueue` share, written once. Only
/// the store (and so the order) differs between the three.
macro_rules! python_queue {
    (
        $(#[$doc:meta])*
        $name:ident<T $(: $bound:ident)?>, store: $store:ty, new: $new:path
    ) => {
        $(#[$doc])*
        pub struct $name<T $(: $bound)?> {
            core: Core<$store>,
        }

        impl<T $(: $bound)?> $name<T> {
            /// A queue holding at most `maxsize` items; `0` means unbounded, as in Python.
            ///
            /// ```
            /// # if locksmith::__internals::LOOM_BUILD { return; }
            #[doc = concat!("let bounded = locksmith::queue::", stringify!($name), "::<u32>::new(8);")]
            /// assert_eq!(bounded.maxsize(), 8);
            #[doc = concat!("let unbounded = locksmith::queue::", stringify!($name), "::<u32>::new(0);")]
            /// assert!(!unbounded.is_full());
            /// ```
            pub fn new(maxsize: usize) -> Self {
                $name {
                    core: Core::new($new(maxsize)),
                }
            }

            /// Puts `item` in, waiting while the queue is full. Python: `put(item)`.
            ///
            /// Fails only if the queue is, or while waiting becomes, shut down; the item
            /// comes back in [`PutError::ShutDown`].
            ///
            /// ```
            /// # if locksmith::__internals::LOOM_BUILD { return; }
            #[doc = concat!("let queue = locksmith::queue::", stringify!($name), "::new(1);")]
            /// queue.put("job").unwrap();
            /// assert_eq!(queue.len(), 1);
            /// ```
            pub fn put(&self, item: T) -> Result<(), PutError<T>> {
                self.core.put(item, &Deadline::never())
            }

            /// Puts `item` in if there is room now; never waits. Python: `put_nowait(item)`.
            ///
            /// ```
            /// # if locksmith::__internals::LOOM_BUILD { return; }
            /// use locksmith::queue::PutError;
            #[doc = concat!("let queue = locksmith::queue::", stringify!($name), "::new(1);")]
            /// assert_eq!(queue.try_put(1), Ok(()));
            /// assert_eq!(queue.try_put(2), Err(PutError::Full(2)));
            /// ```
            pub fn try_put(&self, item: T) -> Result<(), PutError<T>> {
                self.core.try_put(item)
            }

            /// Puts `item` in, waiting at most `timeout` for room. Python:
            /// `put(item, timeout=t)`. `Duration::ZERO` tries once; a timeout too large for
            /// the clock waits forever. On [`PutError::Full`] nothing changed.
            ///
            /// ```
            /// # if locksmith::__internals::LOOM_BUILD { return; }
            /// use std::time::Duration;
            #[doc = concat!("let queue = locksmith::queue::", stringify!($name), "::new(1);")]
            /// queue.put(1).unwrap();
            /// let refused = queue.put_timeout(2, Duration::from_millis(5)).unwrap_err();
            /// assert_eq!(refused.into_inner(), 2);
            /// assert_eq!(queue.len(), 1);
            /// ```
            pub fn put_timeout(&self, item: T, timeout: Duration) -> Result<(), PutError<T>> {
                self.core.put(item, &Deadline::after(timeout))
            }

            /// Takes the next item out, waiting while the queue is empty. Python: `get()`.
            ///
            /// A shut-down queue still hands out what is left in it; once it is empty,
            /// `get` fails with [`GetError::ShutDown`] (also for a thread already waiting).
            ///
            /// ```
            /// # if locksmith::__internals::LOOM_BUILD { return; }
            /// use std::{sync::Arc, thread};
            #[doc = concat!("let queue = Arc::new(locksmith::queue::", stringify!($name), "::new(0));")]
            /// let producer = Arc::clone(&queue);
            /// thread::spawn(move || producer.put(42).unwrap());
            /// assert_eq!(queue.get(), Ok(42)); // waits for the producer
            /// ```
            pub fn get(&self) -> Result<T, GetError> {
                self.core.get(&Deadline::never())
            }

            /// Takes the next item out if there is one now; never waits. Python:
            /// `get_nowait()`.
            ///
            /// ```
            /// # if locksmith::__internals::LOOM_BUILD { return; }
            /// use locksmith::queue::GetError;
            #[doc = concat!("let queue = locksmith::queue::", stringify!($name), "::new(0);")]
            /// assert_eq!(queue.try_get(), Err::<u8, _>(GetError::Empty));
            /// queue.put(3).unwrap();
            /// assert_eq!(queue.try_get(), Ok(3));
            /// ```
            pub fn try_get(&self) -> Result<T, GetError> {
                self.core.try_get()
            }

            /// Takes the next item out, waiting at most `timeout` for one. Python:
            /// `get(timeout=t)`. `Duration::ZERO` tries once; a timeout too large for the
            /// clock waits forever.
            ///
            /// ```
            /// # if locksmith::__internals::LOOM_BUILD { return; }
            /// use locksmith::queue::GetError;
            /// use std::time::Duration;
            #[doc = concat!("let queue = locksmith::queue::", stringify!($name), "::<u8>::new(0);")]
            /// assert_eq!(queue.get_timeout(Duration::from_millis(5)), Err(GetError::Empty));
            /// ```
            pub fn get_timeout(&self, timeout: Duration) -> Result<T, GetError> {
                self.core.get(&Deadline::after(timeout))
            }

            /// How many items are in the queue now. Python: `qsize()`. A snapshot: other
            /// threads may change it at once.
            ///
            /// ```
            /// # if locksmith::__internals::LOOM_BUILD { return; }
            #[doc = concat!("let queue = locksmith::queue::", stringify!($name), "::new(0);")]
            /// queue.put('a').unwrap();
            /// queue.put('b').unwrap();
            /// assert_eq!(queue.len(), 2);
            /// ```
            pub fn len(&self) -> usize {
                self.core.store.len()
            }

            /// Whether the queue is empty now. Python: `empty()`. A snapshot.
            ///
            /// ```
            /// # if locksmith::__internals::LOOM_BUILD { return; }
            #[doc = concat!("let queue = locksmith::queue::", stringify!($name), "::new(0);")]
            /// assert!(queue.is_empty());
            /// queue.put(1).unwrap();
            /// assert!(!queue.is_empty());
            /// ```
            pub fn is_empty(&self) -> bool {
                self.len() == 0
            }

            /// Whether the queue is full now (never, for an unbounded one). Python:
            /// `full()`. A snapshot.
            ///
            /// ```
            /// # if locksmith::__internals::LOOM_BUILD { return; }
            #[doc = concat!("let queue = locksmith::queue::", stringify!($name), "::new(1);")]
            /// assert!(!queue.is_full());
            /// queue.put(1).unwrap();
            /// assert!(queue.is_full());
            /// ```
            pub fn is_full(&self) -> bool {
                let maxsize = self.maxsize();
                maxsize != 0 && self.len() >= maxsize
            }

            /// The bound given to [`new`](Self::new); 0 for unbounded. Python: `maxsize`.
            ///
            /// ```
            /// # if locksmith::__internals::LOOM_BUILD { return; }
            #[doc = concat!("let queue = locksmith::queue::", stringify!($name), "::<u8>::new(16);")]
            /// assert_eq!(queue.maxsize(), 16);
            /// ```
            pub fn maxsize(&self) -> usize {
                self.core.store.maxsize()
            }

            /// Marks one item that was taken out as fully processed. Python:
            /// `task_done()`.
            ///
            /// Every successful put counts one unfinished task; [`join`](Self::join) returns
            /// once the count is zero. Calling `task_done` more often than items were put is
            /// a [`TaskDoneError`] and changes nothing.
            ///
            /// ```
            /// # if locksmith::__internals::LOOM_BUILD { return; }
            #[doc = concat!("let queue = locksmith::queue::", stringify!($name), "::new(0);")]
            /// queue.put("task").unwrap();
            /// queue.get().unwrap();
            /// assert!(queue.task_done().is_ok());
            /// assert!(queue.task_done().is_err()); // one put, one task_done
            /// ```
            pub fn task_done(&self) -> Result<(), TaskDoneError> {
                self.core.tasks.done()
            }

            /// Waits until every item ever put has been marked done with
            /// [`task_done`](Self::task_done) (or thrown away by `shutdown(true)`). Python:
            /// `join()`.
            ///
            /// ```
            /// # if locksmith::__internals::LOOM_BUILD { return; }
            /// use std::thread;
            #[doc = concat!("let queue = locksmith::queue::", stringify!($name), "::new(0);")]
            /// for n in 0..3 {
            ///     queue.put(n).unwrap();
            /// }
            /// thread::scope(|s| {
            ///     s.spawn(|| {
            ///         while let Ok(_job) = queue.try_get() {
            ///             queue.task_done().unwrap();
            ///         }
            ///     });
            ///     queue.join(); // returns once the worker marked all three done
            /// });
            /// assert!(queue.is_empty());
            /// ```
            pub fn join(&self) {
                self.core.tasks.join();
            }

            /// Shuts the queue down, as Python 3.13's `shutdown(immediate)`.
            ///
            /// Every later put fails with [`PutError::ShutDown`], and so does every put
            /// waiting now. Gets go on handing out the items left, then fail with
            /// [`GetError::ShutDown`]; getters waiting on an empty queue fail at once.
            /// With `immediate`, the items left are dropped now instead, each counted as
            /// done for [`join`](Self::join), which returns if that brings the count of
            /// unfinished tasks to zero. Shutting down again is allowed (an `immediate` one
            /// then still drains).
            ///
            /// # Panics
            ///
            /// If dropping a drained item panics, that panic comes out of `shutdown`, but
            /// only at the end: every item is still dropped and counted as done first, so
            /// `task_done` and `join` carry on as if no drop had panicked.
            ///
            /// ```
            /// # if locksmith::__internals::LOOM_BUILD { return; }
            /// use locksmith::queue::GetError;
            #[doc = concat!("let queue = locksmith::queue::", stringify!($name), "::new(0);")]
            /// queue.put(1).unwrap();
            /// queue.put(2).unwrap();
            /// queue.shutdown(true);
            /// assert!(queue.is_empty());
            /// assert_eq!(queue.get(), Err(GetError::ShutDown));
            /// queue.join(); // both drained items counted as done
            /// ```
            pub fn shutdown(&self, immediate: bool) {
                self.core.shutdown(immediate);
            }

            /// Whether [`shutdown`](Self::shutdown) has been called. Python:
            /// `is_shutdown`.
            ///
            /// ```
            /// # if locksmith::__internals::LOOM_BUILD { return; }
            #[doc = concat!("let queue = locksmith::queue::", stringify!($name), "::<u8>::new(0);")]
            /// assert!(!queue.is_shutdown());
            /// queue.shutdown(false);
            /// assert!(queue.is_shutdown());
            /// ```
            pub fn is_shutdown(&self) -> bool {
                self.core.store.is_shutdown()
            }

            /// How many threads are parked in get, put and join, in that order. For the
            /// crate's tests; a snapshot.
            #[doc(hidden)]
            pub fn queued_waiters(&self) -> (usize, usize, usize) {
                self.core.parked()
            }

            /// Python's `unfinished_tasks`. For the crate's tests; a snapshot.
            #[doc(hidden)]
            pub fn unfinished_tasks(&self) -> usize {
                self.core.tasks.unfinished()
            }
        }

        impl<T $(: $bound)?> Default for $name<T> {
            /// An unbounded queue, as Python's default `maxsize=0`.
            ///
            /// ```
            /// # if locksmith::__internals::LOOM_BUILD { return; }
            #[doc = concat!("let queue: locksmith::queue::", stringify!($name), "<u8> = Default::default();")]
            /// assert_eq!(queue.maxsize(), 0);
            /// ```
            fn default() -> Self {
                Self::new(0)
            }
        }

        impl<T $(: $bound)?> fmt::Debug for $name<T> {
            /// Shows the queue's size, bound and shutdown state, not its items.
            ///
            /// ```
            /// # if locksmith::__internals::LOOM_BUILD { return; }
            #[doc = concat!("let queue = locksmith::queue::", stringify!($name), "::<u8>::new(2);")]
            /// assert!(format!("{queue:?}").contains("maxsize: 2"));
            /// ```
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.debug_struct(stringify!($name))
                    .field("len", &self.len())
                    .field("maxsize", &self.maxsize())
                    .field("unfinished_tasks", &self.core.tasks.unfinished())
                    .field("is_shutdown", &self.is_shutdown())
                    .finish()
            }
        }
    };
}

python_queue! {
    /// A first-in, first-out queue: Python's `queue.Queue`.
    ///
    /// Bounded (`maxsize > 0`), it is a lock-free ring allocated once, at construction:
    /// put and get are a few atomic operations while there is room and an item, and each
    /// producer's items come out in the order it put them. Unbounded, or with a bound too
    /// large to allocate up front (over 4 MiB of slots), its items sit behind the crate's
    /// [`Lock`](crate::Lock) instead.
    ///
    /// ```
    /// # if locksmith::__internals::LOOM_BUILD { return; }
    /// use locksmith::queue::Queue;
    ///
    /// let queue = Queue::new(3);
    /// for n in [1, 2, 3] {
    ///     queue.put(n).unwrap();
    /// }
    /// assert!(queue.is_full());
    /// assert_eq!(queue.get(), Ok(1));
    /// ```
    Queue<T>, store: FifoStore<T>, new: FifoStore::new
}

python_queue! {
    /// A last-in, first-out queue (a stack): Python's `queue.LifoQueue`.
    ///
    /// ```
    /// # if locksmith::__internals::LOOM_BUILD { return; }
    /// use locksmith::queue::LifoQueue;
    ///
    /// let stack = LifoQueue::new(0);
    /// for n in [1, 2, 3] {
    ///     stack.put(n).unwrap();
    /// }
    /// assert_eq!(stack.get(), Ok(3));
    /// ```
    LifoQueue<T>, store: Locked<Lifo<T>>, new: Locked::new
}

python_queue! {
    /// A queue that hands out its smallest item first: Python's `queue.PriorityQueue`.
    ///
    /// As with Python's `heapq`, equal items come out in no particular order; put
    /// `(priority, sequence, item)` tuples to make it stable.
    ///
    /// ```
    /// # if locksmith::__internals::LOOM_BUILD { return; }
    /// use locksmith::queue::PriorityQueue;
    ///
    /// let queue = PriorityQueue::new(0);
    /// queue.put((2, "later")).unwrap();
    /// queue.put((1, "first")).unwrap();
    /// assert_eq!(queue.get(), Ok((1, "first")));
    /// ```
    PriorityQueue<T: Ord>, store: Locked<Smallest<T>>, new: Locked::new
}

impl<T> Queue<T> {
    /// Whether this queue runs on the lock-free ring (bounded, and small enough to allocate
    /// up front) rather than on the locked store. For the crate's tests: both behave the
    /// same, so nothing else can tell them apart.
    #[doc(hidden)]
    pub fn uses_ring(&self) -> bool {
        matches!(self.core.store, FifoStore::Ring(_))
    }
}

/// An unbounded first-in, first-out queue whose put never waits or fails: Python's
/// `queue.SimpleQueue`. It has no `task_done`, `join` or `shutdown`.
///
/// ```
/// # if locksmith::__internals::LOOM_BUILD { return; }
/// use locksmith::queue::SimpleQueue;
/// use std::thread;
///
/// let queue = SimpleQueue::new();
/// thread::scope(|s| {
///     s.spawn(|| queue.put("hello"));
///     assert_eq!(queue.get(), Ok("hello"));
/// });
/// ```
pub struct SimpleQueue<T> {
    core: Core<Locked<Fifo<T>>>,
}

impl<T> SimpleQueue<T> {
    /// An empty queue.
    ///
    /// ```
    /// # if locksmith::__internals::LOOM_BUILD { return; }
    /// let queue = locksmith::queue::SimpleQueue::<u8>::new();
    /// assert!(queue.is_empty());
    /// ```
    pub fn new() -> Self {
        SimpleQueue {
            core: Core::new(Locked::new(0)),
        }
    }

    /// Puts `item` in. Never waits and never fails. Python: `put(item)`.
    ///
    /// ```
    /// # if locksmith::__internals::LOOM_BUILD { return; }
    /// let queue = locksmith::queue::SimpleQueue::new();
    /// queue.put(1);
    /// assert_eq!(queue.len(), 1);
    /// ```
    pub fn put(&self, item: T) {
        // An unbounded store that is never shut down refuses nothing.
        let accepted = self.core.try_put_untracked(item);
        debug_assert!(accepted.is_ok());
    }

    /// Takes the next item out, waiting while the queue is empty. Python: `get()`.
    /// A `SimpleQueue` is never shut down, so this never fails.
    ///
    /// ```
    /// # if locksmith::__internals::LOOM_BUILD { return; }
    /// let queue = locksmith::queue::SimpleQueue::new();
    /// queue.put("x");
    /// assert_eq!(queue.get(), Ok("x"));
    /// ```
    pub fn get(&self) -> Result<T, GetError> {
        self.core.get(&Deadline::never())
    }

    /// Takes the next item out if there is one now; never waits. Python: `get_nowait()`.
    ///
    /// ```
    /// # if locksmith::__internals::LOOM_BUILD { return; }
    /// use locksmith::queue::{GetError, SimpleQueue};
    /// let queue = SimpleQueue::<u8>::new();
    /// assert_eq!(queue.try_get(), Err(GetError::Empty));
    /// ```
    pub fn try_get(&self) -> Result<T, GetError> {
        self.core.try_get()
    }

    /// Takes the next item out, waiting at most `timeout` for one. Python:
    /// `get(timeout=t)`. `Duration::ZERO` tries once; a timeout too large for the clock
    /// waits forever.
    ///
    /// ```
    /// # if locksmith::__internals::LOOM_BUILD { return; }
    /// use locksmith::queue::{GetError, SimpleQueue};
    /// use std::time::Duration;
    /// let queue = SimpleQueue::<u8>::new();
    /// assert_eq!(queue.get_timeout(Duration::from_millis(5)), Err(GetError::Empty));
    /// ```
    pub fn get_timeout(&self, timeout: Duration) -> Result<T, GetError> {
        self.core.get(&Deadline::after(timeout))
    }

    /// How many items are in the queue now. Python: `qsize()`. A snapshot.
    ///
    /// ```
    /// # if locksmith::__internals::LOOM_BUILD { return; }
    /// let queue = locksmith::queue::SimpleQueue::new();
    /// queue.put(());
    /// assert_eq!(queue.len(), 1);
    /// ```
    pub fn len(&self) -> usize {
        self.core.store.len()
    }

    /// Whether the queue is empty now. Python: `empty()`. A snapshot.
    ///
    /// ```
    /// # if locksmith::__internals::LOOM_BUILD { return; }
    /// let queue = locksmith::queue::SimpleQueue::<u8>::new();
    /// assert!(queue.is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// How many threads are parked in get. For the crate's tests; a snapshot.
    #[doc(hidden)]
    pub fn queued_waiters(&self) -> usize {
        self.core.parked().0
    }
}

impl<T> Default for SimpleQueue<T> {
    /// An empty queue.
    ///
    /// ```
    /// # if locksmith::__internals::LOOM_BUILD { return; }
    /// let queue: locksmith::queue::SimpleQueue<u8> = Default::default();
    /// assert!(queue.is_empty());
    /// ```
    fn default() -> Self {
        Self::new()
    }
}

impl<T> fmt::Debug for SimpleQueue<T> {
    /// Shows the queue's size, not its items.
    ///
    /// ```
    /// # if locksmith::__internals::LOOM_BUILD { return; }
    /// let queue = locksmith::queue::SimpleQueue::<u8>::new();
    /// assert_eq!(format!("{queue:?}"), "SimpleQueue { len: 0 }");
    /// ```
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SimpleQueue")
            .field("len", &self.len())
            .finish()
    }
}
