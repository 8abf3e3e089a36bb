//! `Deadline`, written once for every backend: when a timed wait gives up.
//!
//! A deadline is one of three things, whatever the clock: it never passes (an untimed wait, or
//! a timeout too large for the clock), it had passed when it was made (a zero timeout: the
//! wait is one look, without spinning or parking), or it passes at a `Tick` of the backend's
//! clock. Only the tick is the backend's: std's is an `Instant`, shuttle's a count of its
//! model clock, loom's nothing at all (the model fires every timeout at once). Each backend
//! offers the same four clock functions, used nowhere else:
//!
//! | function | answers |
//! |---|---|
//! | `tick_after(timeout)` | the tick `timeout` (nonzero) from now; `None` if it never comes |
//! | `tick_at(instant)` | lock_api's `try_lock_until`; `None` if `instant` has passed |
//! | `tick_passed(tick)` | whether the clock has reached `tick` |
//! | `park_until_tick(tick)` | park (or yield) until unparked or, at the latest, `tick` |

use std::time::Duration;

use super::backend::{Tick, park, park_until_tick, tick_after, tick_passed};

/// When a timed wait gives up. Built once per wait from the caller's `Duration`.
#[derive(Clone, Copy, Debug)]
pub struct Deadline {
    when: When,
}

#[derive(Clone, Copy, Debug)]
enum When {
    /// Untimed, or a timeout too large for the clock.
    Never,
    /// Already passed when it was made: a zero timeout, or an instant in the past. A wait
    /// with it looks once and never parks.
    Now,
    /// When the backend's clock reaches this tick.
    At(Tick),
}

impl Deadline {
    /// A deadline that never passes.
    pub const fn never() -> Self {
        Deadline { when: When::Never }
    }

    /// `timeout` from now. A zero timeout has already passed; a timeout too large for the
    /// clock (up to `Duration::MAX`) never passes rather than overflowing.
    pub fn after(timeout: Duration) -> Self {
        let when = if timeout.is_zero() {
            When::Now
        } else {
            tick_after(timeout).map_or(When::Never, When::At)
        };
        Deadline { when }
    }

    /// At `instant` (lock_api's `try_lock_until`); an instant already past is now.
    #[cfg(feature = "lock_api")]
    pub fn at(instant: super::Instant) -> Self {
        let when = super::backend::tick_at(instant).map_or(When::Now, When::At);
        Deadline { when }
    }

    /// Whether the deadline has passed.
    #[inline]
    pub fn expired(&self) -> bool {
        match &self.when {
            When::Never => false,
            When::Now => true,
            When::At(tick) => tick_passed(tick),
        }
    }

    /// Whether the deadline had already passed when it was made: the wait it bounds is one
    /// look, without parking or spinning.
    #[inline]
    pub fn is_now(&self) -> bool {
        matches!(self.when, When::Now)
    }
}

/// Blocks until unparked or the deadline passes; may return spuriously.
pub(crate) fn park_until(deadline: &Deadline) {
    match &deadline.when {
        When::Never => park(),
        When::Now => {}
        When::At(tick) => park_until_tick(tick),
    }
}

impl Deadline {
    /// Whichever of the two passes first.
    pub(crate) fn earlier(self, other: Deadline) -> Deadline {
        let when = match (self.when, other.when) {
            (When::Now, _) | (_, When::Now) => When::Now,
            (When::Never, when) | (when, When::Never) => when,
            // (loom's tick is `()`, which clippy would rather not see passed along.)
            #[allow(clippy::unit_arg)]
            (When::At(a), When::At(b)) => When::At(a.min(b)),
        };
        Deadline { when }
    }
}

/// Sleeps while `word` holds `expected` (in this process or any other sharing it): until a
/// `futex_wake` on it, the deadline, or spuriously. Callers loop.
#[cfg(any(loom, shuttle, target_os = "linux"))]
pub(crate) fn futex_wait(word: &super::AtomicU32, expected: u32, deadline: &Deadline) {
    match &deadline.when {
        When::Never => super::futex_wait_until(word, expected, None),
        When::Now => {}
        When::At(tick) => super::futex_wait_until(word, expected, Some(tick)),
    }
}
