//! `Event`: Python's `threading.Event`. A flag in a [`ParkedWord`]: the word and the queue
//! of threads waiting for it to change.

use core::fmt;
use core::time::Duration;

use crate::sync::{Deadline, Ordering};
use crate::wait::{PARKED, ParkedWord, Step};

/// The flag is set. (The word's lowest bit is the wait core's [`PARKED`]: a thread may be
/// parked in the queue, so `set` must look there.)
const SET: usize = 0b10;
/// One generation: the bits above the flags count the `set`s that raised the flag (modulo
/// the word). `set` raises the flag and then wakes; a waiter that began after a `clear` that
/// slipped in between would be woken by that stale wake. It tells the cases apart by the
/// generation: woken, it returns true only if a `set` happened since it began waiting.
const GENERATION: usize = 0b100;

/// A flag threads can wait for: Python's `threading.Event`.
///
/// [`set`](Event::set) raises the flag and wakes every waiter; [`clear`](Event::clear)
/// lowers it; [`wait`](Event::wait) returns once the flag is set. A waiter woken by `set`
/// returns true even if `clear` ran before it got to run (CPython's `test_set_and_clear`).
/// With nobody waiting, `set`, `clear` and `is_set` are one atomic operation each and never
/// enter the kernel.
///
/// ```
/// # if locksmith::__internals::LOOM_BUILD { return; }
/// use locksmith::Event;
/// use std::time::Duration;
///
/// let ready = Event::new();
/// std::thread::scope(|s| {
///     s.spawn(|| ready.wait());
///     ready.set();
/// });
/// assert!(ready.is_set());
/// ready.clear();
/// assert!(!ready.wait_timeout(Duration::from_millis(5)));
/// ```
pub struct Event {
    word: ParkedWord,
}

impl Event {
    /// A new event with the flag clear. Python: `Event()`.
    ///
    /// ```
    /// # if locksmith::__internals::LOOM_BUILD { return; }
    /// assert!(!locksmith::Event::new().is_set());
    /// ```
    #[cfg(not(loom))]
    pub const fn new() -> Event {
        Event {
            word: ParkedWord::new(0),
        }
    }

    /// A new event with the flag clear.
    #[cfg(loom)]
    pub fn new() -> Event {
        Event {
            word: ParkedWord::new(0),
        }
    }

    /// Sets the flag and wakes every waiting thread. Python: `event.set()`.
    ///
    /// ```
    /// # if locksmith::__internals::LOOM_BUILD { return; }
    /// let event = locksmith::Event::new();
    /// event.set();
    /// assert!(event.is_set());
    /// ```
    #[inline]
    pub fn set(&self) {
        let mut state = self.word.state().load(Ordering::Relaxed);
        loop {
            if state & SET != 0 {
                // Already set: nobody parks while the flag is up, and the `set` that raised
                // it wakes whoever parked before.
                return;
            }
            // Release: what the setter did before `set` happens before a waiter's return
            // (through `is_set`'s Acquire, or the wake-up token's Release/Acquire).
            match self.word.state().compare_exchange_weak(
                state,
                (state | SET).wrapping_add(GENERATION),
                Ordering::Release,
                Ordering::Relaxed,
            ) {
                Ok(_) => break,
                Err(actual) => state = actual,
            }
        }
        if state & PARKED != 0 {
            self.word.wake(usize::MAX);
        }
    }

    /// Clears the flag; later waits block until the next `set`. Python: `event.clear()`.
    ///
    /// ```
    /// # if locksmith::__internals::LOOM_BUILD { return; }
    /// let event = locksmith::Event::new();
    /// event.set();
    /// event.clear();
    /// assert!(!event.is_set());
    /// ```
    #[inline]
    pub fn clear(&self) {
        // Relaxed: clearing publishes nothing; a waiter woken by an earlier `set` already has
        // its token and returns true regardless.
        self.word.state().fetch_and(!SET, Ordering::Relaxed);
    }

    /// Whether the flag is set now. Python: `event.is_set()`.
    ///
    /// ```
    /// # if locksmith::__internals::LOOM_BUILD { return; }
    /// let event = locksmith::Event::new();
    /// assert!(!event.is_set());
    /// ```
    #[inline]
    pub fn is_set(&self) -> bool {
        // Acquire: pairs with `set`'s Release, so seeing the flag means seeing what the
        // setter did before setting it.
        self.word.state().load(Ordering::Acquire) & SET != 0
    }

    /// Blocks until the flag is set. Python: `event.wait()`.
    ///
    /// ```
    /// # if locksmith::__internals::LOOM_BUILD { return; }
    /// let event = locksmith::Event::new();
    /// event.set();
    /// event.wait(); // returns at once
    /// ```
    #[inline]
    pub fn wait(&self) {
        if !self.is_set() {
            self.wait_slow(&Deadline::never());
        }
    }

    /// Blocks until the flag is set or `timeout` passes; returns false only if it timed out
    /// with the flag clear. `Duration::ZERO` never blocks; a timeout too large for the clock
    /// waits forever. Python: `event.wait(timeout=t)`.
    ///
    /// ```
    /// # if locksmith::__internals::LOOM_BUILD { return; }
    /// use std::time::Duration;
    /// let event = locksmith::Event::new();
    /// assert!(!event.wait_timeout(Duration::from_millis(5)));
    /// event.set();
    /// assert!(event.wait_timeout(Duration::from_millis(5)));
    /// ```
    #[inline]
    pub fn wait_timeout(&self, timeout: Duration) -> bool {
        self.is_set() || self.wait_slow(&Deadline::after(timeout))
    }

    /// How many threads are parked waiting now: a snapshot, for tests.
    #[doc(hidden)]
    pub fn queued_waiters(&self) -> usize {
        self.word.queued()
    }

    #[cold]
    #[inline(never)]
    fn wait_slow(&self, deadline: &Deadline) -> bool {
        // Acquire: as in `is_set`.
        let began = self.word.state().load(Ordering::Acquire);
        if began & SET != 0 {
            return true;
        }
        let generation = |state: usize| state / GENERATION;
        self.word.wait(
            deadline,
            // No spin: a waiter for an Event usually waits for long.
            false,
            // Set now, or set (and maybe cleared) since we began: true, as in Python, where a
            // waiter notified by `set` returns true whatever `clear` did since. A stale
            // wake-up, from a `set` that raced an earlier `clear`, parks us again.
            |state| {
                if state & SET != 0 || generation(state) != generation(began) {
                    Step::Done(true)
                } else {
                    Step::Park
                }
            },
            // Timed out while queued: false unless the flag has been set meanwhile.
            || self.is_set(),
        )
    }
}

impl Default for Event {
    fn default() -> Self {
        Event::new()
    }
}

impl fmt::Debug for Event {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Event")
            .field("set", &self.is_set())
            .finish()
    }
}
