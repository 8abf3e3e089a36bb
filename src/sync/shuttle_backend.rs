//! The shuttle backend (`--cfg shuttle`): shuttle's atomics, threads and parking, so its
//! schedulers (random, PCT) decide who runs at every atomic access, over thousands of
//! executions with more threads and operations than loom can hold. Shuttle runs one thread at
//! a time and does not model weak memory (every access acts `SeqCst`): loom covers orderings,
//! shuttle covers schedules. Two things are modelled:
//! - **Spurious wakeups** are shuttle's own: its `park` may return without an unpark, and its
//!   schedulers choose when.
//! - **Time.** Shuttle has no clock (its `park_timeout` is `park`). A timed deadline lies a
//!   few ticks ahead of a per-execution model clock, and every look at a deadline may advance
//!   that clock one tick, by a coin flip from shuttle's seeded random source, so a replayed
//!   seed times out at the same points. A timed waiter yields instead of parking: a park that
//!   only a timeout could end would read as a deadlock to shuttle.

use std::time::Duration;

use shuttle::rand::Rng;

pub(crate) use super::cell::UnsafeCell;
pub(crate) use shuttle::sync::atomic::{
    AtomicBool, AtomicU32, AtomicU64, AtomicUsize, Ordering, fence,
};
pub(crate) use shuttle::thread::yield_now;

/// Shuttle's mutex: a spin lock would only spend schedule steps while the holder waits
/// to be scheduled. (The std spin lock is textbook; see the std backend.)
pub(crate) struct SpinLock(shuttle::sync::Mutex<()>);

/// Holds a [`SpinLock`]; unlocks on drop.
pub(crate) struct SpinGuard<'a>(#[allow(dead_code)] shuttle::sync::MutexGuard<'a, ()>);

impl SpinLock {
    pub(crate) const fn new() -> Self {
        SpinLock(shuttle::sync::Mutex::new(()))
    }

    pub(crate) fn lock(&self) -> SpinGuard<'_> {
        SpinGuard(
            self.0
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner()),
        )
    }
}

/// A handle that wakes one parked thread.
#[derive(Clone, Debug)]
pub(crate) struct Thread(shuttle::thread::Thread);

impl Thread {
    pub(crate) fn current() -> Self {
        Thread(shuttle::thread::current())
    }

    pub(crate) fn unpark(&self) {
        self.0.unpark();
    }
}

/// Shuttle's park, which may return spuriously.
pub(crate) fn park() {
    shuttle::thread::park();
}

shuttle::lazy_static! {
    /// The model clock, in ticks; a fresh one for every execution.
    static ref MODEL_CLOCK: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
}

/// The model clock now. Relaxed (here and in `tick_passed`): shuttle runs its threads one at
/// a time on one OS thread, so any ordering reads the latest tick; the clock publishes no data.
fn now() -> u64 {
    MODEL_CLOCK.load(std::sync::atomic::Ordering::Relaxed)
}

/// A count of the model clock.
pub(crate) type Tick = u64;

/// `Duration::MAX` never passes (as in the std build); any other timeout lies one to three
/// ticks ahead, chosen by the seed.
pub(crate) fn tick_after(timeout: Duration) -> Option<Tick> {
    (timeout != Duration::MAX).then(|| now() + shuttle::rand::thread_rng().gen_range(1..=3))
}

/// A point in real time (lock_api's `try_lock_until`): the model has no real time, so a past
/// instant has passed and any other is a few ticks ahead.
#[cfg(feature = "lock_api")]
pub(crate) fn tick_at(instant: super::Instant) -> Option<Tick> {
    let timeout = instant.saturating_duration_since(super::Instant::now());
    if timeout.is_zero() {
        None
    } else {
        tick_after(timeout)
    }
}

/// Each look may first move the clock a tick.
pub(crate) fn tick_passed(tick: &Tick) -> bool {
    if shuttle::rand::thread_rng().gen_ratio(1, 4) {
        MODEL_CLOCK.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    }
    now() >= *tick
}

/// One yield (see the module docs), and the caller's loop looks at the deadline again.
pub(crate) fn park_until_tick(tick: &Tick) {
    if !tick_passed(tick) {
        yield_now();
    }
}

shuttle::thread_local! {
    /// This thread's identity; 0 until first asked for.
    static THREAD_ID: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
}

/// A nonzero number identifying the calling shuttle thread. The counter is a plain std
/// atomic: ids only need to be distinct and nonzero (Relaxed, for the same reason as the
/// std backend's).
pub(crate) fn thread_id() -> usize {
    static NEXT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(1);
    THREAD_ID.with(|id| {
        if id.get() == 0 {
            id.set(NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed));
        }
        id.get()
    })
}

shuttle::lazy_static! {
    /// The modelled kernel's futex table and the dead "processes", fresh for every execution.
    static ref FUTEX_TABLE: super::model_futex::FutexTable = super::model_futex::FutexTable::new();
}

/// This execution's futex table (see `model_futex`).
pub(crate) fn futex_table() -> &'static super::model_futex::FutexTable {
    &FUTEX_TABLE
}

/// What shuttle scenarios drive that the model cannot see by itself.
pub mod model {
    /// Makes the calling shuttle thread a process that has died (the process primitives'
    /// scenarios treat each thread as a process): whatever it holds stays held, and a
    /// waiter's liveness check now answers "dead". The thread should return right after.
    pub fn exit_process() {
        super::futex_table().exit_process();
    }
}
