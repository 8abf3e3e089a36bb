//! The std backend (normal builds): real atomics, `std::thread` parking, the monotonic
//! clock and thread-local identities. The spin lock here is the textbook one; the loom and
//! shuttle backends replace it with their own modelled mutex.

use std::cell::Cell;
use std::time::{Duration, Instant};

pub(crate) use std::hint::spin_loop;
pub(crate) use std::sync::atomic::{
    AtomicBool, AtomicU32, AtomicU64, AtomicUsize, Ordering, fence,
};
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

/// The std clock's tick is an `Instant` (see `super::deadline` for the four functions).
pub(crate) type Tick = Instant;

/// `timeout` from now, or `None` if that is past what `Instant` can hold.
pub(crate) fn tick_after(timeout: Duration) -> Option<Tick> {
    Instant::now().checked_add(timeout)
}

/// `instant` itself, or `None` if it has passed.
#[cfg(feature = "lock_api")]
pub(crate) fn tick_at(instant: Instant) -> Option<Tick> {
    (instant > Instant::now()).then_some(instant)
}

#[inline]
pub(crate) fn tick_passed(tick: &Tick) -> bool {
    Instant::now() >= *tick
}

/// Parks for at most what is left until `tick`; may return spuriously.
pub(crate) fn park_until_tick(tick: &Tick) {
    let now = Instant::now();
    if *tick > now {
        std::thread::park_timeout(*tick - now);
    }
}

/// Sleeps while `word` holds `expected`: until a [`futex_wake`] on it, `until` passes, or
/// spuriously. The word may live in memory shared with other processes, so this is the
/// shared futex (no `FUTEX_PRIVATE_FLAG`): the kernel keys it by the page, not the address.
#[cfg(target_os = "linux")]
pub(crate) fn futex_wait_until(word: &AtomicU32, expected: u32, until: Option<&Tick>) {
    let timeout = match until {
        None => None,
        Some(tick) => {
            let left = tick.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return;
            }
            // A timeout past what a timespec holds sleeps until woken, which is what it means.
            rustix::thread::futex::Timespec::try_from(left).ok()
        }
    };
    // EAGAIN (the word no longer held `expected`), ETIMEDOUT and EINTR each end the wait the
    // same way: every caller re-reads the word and decides again.
    let _ = rustix::thread::futex::wait(
        word,
        rustix::thread::futex::Flags::empty(),
        expected,
        timeout.as_ref(),
    );
}

/// Wakes up to `n` threads (of any process) sleeping in [`futex_wait_until`] on `word`.
#[cfg(target_os = "linux")]
pub(crate) fn futex_wake(word: &AtomicU32, n: u32) {
    // The kernel reads the count as a signed int; more than `i32::MAX` means every waiter.
    let n = n.min(i32::MAX as u32);
    // It fails only for a bad address, which a `&AtomicU32` cannot be.
    let _ = rustix::thread::futex::wake(word, rustix::thread::futex::Flags::empty(), n);
}

#[cfg(target_os = "linux")]
pub(crate) use super::os_process::{current_process, process_alive};

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
