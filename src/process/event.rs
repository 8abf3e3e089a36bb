//! `process::Event`: `multiprocessing.Event`, on one futex word.

use crate::sync::{AtomicU32, Deadline, Ordering, futex_wait, futex_wake};

/// The flag.
const SET: u32 = 0b01;
/// A process may be sleeping on the word: `set` must wake everyone.
const SLEEPERS: u32 = 0b10;
/// The rest of the word counts the sets (clear to set), so a waiter that sleeps through a
/// `set` then `clear` still returns true, as a thread waiting on a `threading.Event` does.
const ONE_SET: u32 = 0b100;

/// The event's one word. All zero is clear.
#[doc(hidden)]
#[repr(C)]
pub struct RawEvent {
    state: AtomicU32,
}

impl RawEvent {
    /// A clear event, for models.
    #[allow(clippy::new_without_default)] // a model helper, not API
    #[cfg(any(loom, shuttle))]
    pub fn new() -> Self {
        RawEvent {
            state: AtomicU32::new(0),
        }
    }

    /// Sets the flag and wakes every waiter.
    pub fn set(&self) {
        // Release: what we wrote before `set` happens before what a waiter (Acquire) does
        // after seeing it. Relaxed on failure: the retry reads again.
        let mut state = self.state.load(Ordering::Relaxed);
        loop {
            if state & SET != 0 {
                return;
            }
            let next = (state & !(SET | SLEEPERS)).wrapping_add(ONE_SET) | SET;
            match self.state.compare_exchange_weak(
                state,
                next,
                Ordering::Release,
                Ordering::Relaxed,
            ) {
                Ok(_) => break,
                Err(now) => state = now,
            }
        }
        if state & SLEEPERS != 0 {
            futex_wake(&self.state, u32::MAX);
        }
    }

    /// Clears the flag.
    pub fn clear(&self) {
        // Relaxed: clearing publishes nothing; waiters check the flag, not data behind it.
        self.state.fetch_and(!SET, Ordering::Relaxed);
    }

    /// Whether the flag is set now.
    pub fn is_set(&self) -> bool {
        // Acquire: a caller that sees the flag sees what the setter wrote before `set`.
        self.state.load(Ordering::Acquire) & SET != 0
    }

    /// Whether a waiter has marked the word (it sleeps, or is about to). For the models.
    #[cfg(any(loom, shuttle))]
    pub fn has_sleepers(&self) -> bool {
        // A read-modify-write that changes nothing, not a load: loom lets a Relaxed load read
        // an old value and, finding that enough, never schedules the waiter's mark before it
        // (measured: 702 executions, the mark never seen). An RMW reads the latest value and
        // conflicts with the mark, so loom tries both orders. Relaxed: a snapshot.
        self.state.fetch_or(0, Ordering::Relaxed) & SLEEPERS != 0
    }

    /// Waits until the flag is set or `deadline` passes; returns the flag, true also if a
    /// `set` came and went while we slept.
    pub fn wait_until(&self, deadline: &Deadline) -> bool {
        // Acquire (here and below): as in `is_set`.
        let mut state = self.state.load(Ordering::Acquire);
        let sets_seen = state & !(SET | SLEEPERS);
        loop {
            if state & SET != 0 || state & !(SET | SLEEPERS) != sets_seen {
                return true;
            }
            if deadline.expired() {
                return false;
            }
            if state & SLEEPERS == 0 {
                // Relaxed: the mark publishes nothing; `set` swaps it out and wakes.
                if let Err(now) = self.state.compare_exchange_weak(
                    state,
                    state | SLEEPERS,
                    Ordering::Relaxed,
                    Ordering::Acquire,
                ) {
                    state = now;
                    continue;
                }
            }
            futex_wait(&self.state, state | SLEEPERS, deadline);
            state = self.state.load(Ordering::Acquire);
        }
    }
}

#[cfg(all(not(any(loom, shuttle)), target_os = "linux"))]
mod named {
    use super::*;
    use crate::process::object::{Body, Object};
    use core::fmt;
    use core::time::Duration;
    use std::io;

    // SAFETY: repr(C), one AtomicU32: any bytes are a value, and all zero is clear.
    unsafe impl Body for RawEvent {
        const KIND: u32 = 5;
        const NAME: &'static str = "Event";
    }

    /// `multiprocessing.Event` in named shared memory: a flag that processes wait for.
    ///
    /// ```
    /// let name = format!("/locksmith-doc-event-{}", std::process::id());
    /// let event = locksmith::process::Event::create(&name)?;
    /// let other = locksmith::process::Event::open(event.name())?;
    /// other.set();
    /// assert!(event.wait_timeout(std::time::Duration::from_secs(1)));
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub struct Event {
        object: Object<RawEvent>,
    }

    impl Event {
        /// Creates the event `name`, clear, mode 0600; unlinked when this handle is dropped.
        /// `AlreadyExists` if the name is taken; `InvalidInput` for a bad name.
        ///
        /// ```
        /// let name = format!("/locksmith-doc-event-create-{}", std::process::id());
        /// let event = locksmith::process::Event::create(&name)?;
        /// assert!(!event.is_set());
        /// # Ok::<(), std::io::Error>(())
        /// ```
        pub fn create(name: &str) -> io::Result<Event> {
            Object::create(name, |_| {}).map(|object| Event { object })
        }

        /// Opens the event another handle created. `NotFound` if there is none;
        /// `InvalidData` if `name` is not a locksmith `Event` of this layout.
        ///
        /// ```
        /// let missing = locksmith::process::Event::open("/locksmith-doc-no-such-event");
        /// assert_eq!(missing.unwrap_err().kind(), std::io::ErrorKind::NotFound);
        /// ```
        pub fn open(name: &str) -> io::Result<Event> {
            Object::open(name).map(|object| Event { object })
        }

        /// The event's name, with its leading `/`.
        ///
        /// ```
        /// let name = format!("/locksmith-doc-event-name-{}", std::process::id());
        /// let event = locksmith::process::Event::create(&name)?;
        /// assert_eq!(event.name(), name);
        /// # Ok::<(), std::io::Error>(())
        /// ```
        pub fn name(&self) -> &str {
            self.object.name()
        }

        /// Sets the flag and wakes every waiter, in every process. Python: `set()`.
        ///
        /// ```
        /// let name = format!("/locksmith-doc-event-set-{}", std::process::id());
        /// let event = locksmith::process::Event::create(&name)?;
        /// event.set();
        /// assert!(event.is_set());
        /// # Ok::<(), std::io::Error>(())
        /// ```
        pub fn set(&self) {
            self.object.body().set();
        }

        /// Clears the flag. Python: `clear()`.
        ///
        /// ```
        /// let name = format!("/locksmith-doc-event-clear-{}", std::process::id());
        /// let event = locksmith::process::Event::create(&name)?;
        /// event.set();
        /// event.clear();
        /// assert!(!event.is_set());
        /// # Ok::<(), std::io::Error>(())
        /// ```
        pub fn clear(&self) {
            self.object.body().clear();
        }

        /// Whether the flag is set now. Python: `is_set()`.
        ///
        /// ```
        /// let name = format!("/locksmith-doc-event-is-set-{}", std::process::id());
        /// let event = locksmith::process::Event::create(&name)?;
        /// assert!(!event.is_set());
        /// # Ok::<(), std::io::Error>(())
        /// ```
        pub fn is_set(&self) -> bool {
            self.object.body().is_set()
        }

        /// Blocks until the flag is set. Python: `wait()`.
        ///
        /// ```
        /// let name = format!("/locksmith-doc-event-wait-{}", std::process::id());
        /// let event = locksmith::process::Event::create(&name)?;
        /// event.set();
        /// event.wait();
        /// # Ok::<(), std::io::Error>(())
        /// ```
        pub fn wait(&self) {
            self.object.body().wait_until(&Deadline::never());
        }

        /// Waits at most `timeout` for the flag; returns it. True also when a `set` came
        /// while waiting and a `clear` followed before this waiter ran. Python:
        /// `wait(timeout)`.
        ///
        /// ```
        /// use std::time::Duration;
        /// let name = format!("/locksmith-doc-event-wait-timeout-{}", std::process::id());
        /// let event = locksmith::process::Event::create(&name)?;
        /// assert!(!event.wait_timeout(Duration::from_millis(5)));
        /// # Ok::<(), std::io::Error>(())
        /// ```
        pub fn wait_timeout(&self, timeout: Duration) -> bool {
            self.object.body().wait_until(&Deadline::after(timeout))
        }
    }

    impl fmt::Debug for Event {
        /// Shows the name and the flag.
        ///
        /// ```
        /// let name = format!("/locksmith-doc-event-debug-{}", std::process::id());
        /// let event = locksmith::process::Event::create(&name)?;
        /// assert_eq!(format!("{event:?}"), format!("Event {{ name: {name:?}, set: false }}"));
        /// # Ok::<(), std::io::Error>(())
        /// ```
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.debug_struct("Event")
                .field("name", &self.name())
                .field("set", &self.is_set())
                .finish()
        }
    }
}

#[cfg(all(not(any(loom, shuttle)), target_os = "linux"))]
pub use named::Event;
