//! The std backend (normal builds): real atomics, `std::thread` parking, the monotonic
//! clock and thread-local identities. The spin lock here is the textbook one; the loom and
//! shuttle backends replace it with their own modelled mutex.

use std::cell::Cell;
use std::time::{Duration, Instant};

pub(crate) use std::hint::spin_loop;
pub(crate) use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering, fence};
pub(crate) use std::thread::yield_now;

/// A lock held for a handful of instructions at a time (the wait core's list edits), so
/// spinning beats parking, and parking is what it protects anyway.
pub(crate) struct SpinLock {
    locked: AtomicBool,
}

/// Holds a [`SpinLock`]; unlocks on drop.
pub(crate) struct SpinGuard<'a>(&'a SpinLock);

impl SpinLock {
    pub(crate) const fn new() -> Self {
        SpinLock {
            locked: AtomicBool::new(false),
        }
    }

    #[inline]
    pub(crate) fn lock(&self) -> SpinGuard<'_> {
        let mut spin = super::SpinWait::new();
        // Acquire: the previous holder's writes happen before ours.
        while self
            .locked
            .compare_exchange_weak(false, true, Ordering::Acquire, Ordering::Relaxed)
            .is_err()
        {
            // If the holder was descheduled mid-edit, give it the CPU.
            if !spin.spin() {
                yield_now();
            }
        }
        SpinGuard(self)
    }
}

impl Drop for SpinGuard<'_> {
    #[inline]
    fn drop(&mut self) {
        // Release: our writes happen before the next holder's Acquire.
        self.0.locked.store(false, Ordering::Release);
    }
}

pub(crate) use super::cell::UnsafeCell;

/// A handle that wakes one parked thread.
#[derive(Clone, Debug)]
pub(crate) struct Thread(std::thread::Thread);

impl Thread {
    /// The calling thread's handle. Cloning std's handle bumps a reference count; it does
    /// not allocate (std allocates a thread's handle once, at its first use).
    #[inline]
    pub(crate) fn current() -> Self {
        Thread(std::thread::current())
    }

    #[inline]
    pub(crate) fn unpark(&self) {
        self.0.unpark();
    }
}

/// Blocks until this thread's unpark token is available; may return spuriously.
#[inline]
pub(crate) fn park() {
    std::thread::park();
}

/// Blocks until unparked or the deadline passes; may return spuriously.
pub(crate) fn park_until(deadline: &Deadline) {
    match deadline.when {
        When::Never => std::thread::park(),
        When::Now => {}
        When::At(at) => {
            let now = Instant::now();
            if at > now {
                std::thread::park_timeout(at - now);
            }
        }
    }
}

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
    At(Instant),
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
            Instant::now()
                .checked_add(timeout)
                .map_or(When::Never, When::At)
        };
        Deadline { when }
    }

    /// At `instant` (lock_api's `try_lock_until`); an instant already past is now.
    #[cfg(feature = "lock_api")]
    pub fn at(instant: Instant) -> Self {
        let when = if instant <= Instant::now() {
            When::Now
        } else {
            When::At(instant)
        };
        Deadline { when }
    }

    /// Whether the deadline has passed.
    #[inline]
    pub fn expired(&self) -> bool {
        match self.when {
            When::Never => false,
            When::Now => true,
            When::At(at) => Instant::now() >= at,
        }
    }

    /// Whether the deadline had already passed when it was made: the wait it bounds is one
    /// look, without parking or spinning.
    #[inline]
    pub fn is_now(&self) -> bool {
        matches!(self.when, When::Now)
    }
}

thread_local! {
    /// This thread's identity; 0 until first asked for.
    static THREAD_ID: Cell<usize> = const { Cell::new(0) };
}

/// The next identity to hand out. Identities are never reused, unlike OS thread ids, so a
/// thread that starts after an RLock's owner died cannot mistake itself for the owner.
static NEXT_THREAD_ID: AtomicUsize = AtomicUsize::new(1);

/// A nonzero number identifying the calling thread, unique for the life of the process.
#[inline]
pub(crate) fn thread_id() -> usize {
    THREAD_ID.with(|id| {
        let current = id.get();
        if current != 0 {
            return current;
        }
        // Relaxed: the counter only has to hand out distinct numbers, which any single
        // read-modify-write on one location guarantees; it publishes no other data.
        let fresh = NEXT_THREAD_ID.fetch_add(1, Ordering::Relaxed);
        id.set(fresh);
        fresh
    })
}
