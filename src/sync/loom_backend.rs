//! The loom backend (`--cfg loom`): loom's checked atomics, cells and threads. Three things
//! are modelled rather than real:
//! - **Time.** loom has no clock. A timed wait's deadline reads a model-scoped "expired" flag
//!   that a model sets with [`model::expire_timeouts`] (usually from a thread of its own, so
//!   loom explores the timeout firing at every point); firing it also unparks every model
//!   thread, so a timed park is a real park that either a waker or the clock ends.
//!   Untimed waits stay real parks, so loom's deadlock detection still covers them.
//! - **Spurious wakeups.** loom's `thread::park` never returns early, so a thread parks on a
//!   per-thread `loom::sync::Notify`, which loom lets return spuriously (once per thread per
//!   execution, as a branch it explores). Every wait loop must therefore re-check its condition.
//! - **Thread identity.** All loom threads share one OS thread, so identity comes from a
//!   loom thread-local rather than the OS.

use std::sync::Arc;
use std::time::Duration;

pub(crate) use loom::cell::UnsafeCell;
pub(crate) use loom::thread::yield_now;
// loom models a SeqCst fence as a full synchronisation point (stronger than C++), which
// is sound for the one pattern we use it for: two threads that each write, fence, then
// read the other's word (see `queue::blocking::Waiters`).
pub(crate) use loom::sync::atomic::{
    AtomicBool, AtomicU32, AtomicU64, AtomicUsize, Ordering, fence,
};

/// Under loom the spin lock is loom's modelled mutex. A spin lock under loom lets two
/// spinners yield to each other forever while the preempted holder waits (an unfair
/// schedule loom explores for free), and models exhaust their branch budget. The std
/// spin lock is textbook (one Acquire compare-exchange, one Release store); what the
/// models check is everything built on it.
pub(crate) struct SpinLock(loom::sync::Mutex<()>);

/// Holds a [`SpinLock`]; unlocks on drop.
pub(crate) struct SpinGuard<'a>(#[allow(dead_code)] loom::sync::MutexGuard<'a, ()>);

impl SpinLock {
    pub(crate) fn new() -> Self {
        SpinLock(loom::sync::Mutex::new(()))
    }

    pub(crate) fn lock(&self) -> SpinGuard<'_> {
        SpinGuard(self.0.lock().unwrap())
    }
}

loom::thread_local! {
    /// Each model thread parks on its own `Notify`: unlike loom's `park`, its `wait` may
    /// return spuriously, and loom explores that branch.
    static PARKER: Arc<loom::sync::Notify> = {
        let parker = Arc::new(loom::sync::Notify::new());
        EVERY_PARKER.lock().unwrap().push(Arc::clone(&parker));
        parker
    };

    /// Identity of a model thread. The counter is a plain std atomic: loom runs every
    /// model thread on one OS thread, and ids only need to be distinct and nonzero.
    static THREAD_ID: usize = {
        static NEXT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(1);
        NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
    };
}

loom::lazy_static! {
    /// The model's clock: set once, by `model::expire_timeouts`, for the whole execution.
    static ref TIMEOUTS_EXPIRED: AtomicBool = AtomicBool::new(false);

    /// Every model thread's parker, so the clock can wake the timed waiters among them.
    /// A std mutex is enough: loom runs all model threads on one OS thread, and the
    /// causality that matters goes through `TIMEOUTS_EXPIRED` and the `Notify`s.
    static ref EVERY_PARKER: std::sync::Mutex<Vec<Arc<loom::sync::Notify>>> =
        std::sync::Mutex::new(Vec::new());
}

#[derive(Clone, Debug)]
pub(crate) struct Thread(Arc<loom::sync::Notify>);

impl Thread {
    pub(crate) fn current() -> Self {
        Thread(PARKER.with(Arc::clone))
    }

    pub(crate) fn unpark(&self) {
        self.0.notify();
    }
}

pub(crate) fn park() {
    PARKER.with(|parker| parker.wait());
}

/// loom has no clock: a timed deadline passes when the model fires every timeout at once
/// ([`model::expire_timeouts`]), so its tick carries nothing.
pub(crate) type Tick = ();

/// Any timeout but `Duration::MAX` passes when the model's clock fires; `Duration::MAX`
/// never does (as in the std build, where it overflows the clock).
pub(crate) fn tick_after(timeout: Duration) -> Option<Tick> {
    (timeout != Duration::MAX).then_some(())
}

/// A point in real time (lock_api's `try_lock_until`): the model has no clock, so like any
/// other timed wait it passes when the model's clock fires.
#[cfg(feature = "lock_api")]
pub(crate) fn tick_at(_instant: super::Instant) -> Option<Tick> {
    Some(())
}

pub(crate) fn tick_passed(_tick: &Tick) -> bool {
    // A read-modify-write, not a load: loom lets a load return a stale value, and a waiter
    // that read "not yet" after the clock had fired and unparked everyone would park for
    // good. An RMW reads the latest value. Acquire pairs with the clock's Release (a clock
    // publishes no data).
    TIMEOUTS_EXPIRED.fetch_or(false, Ordering::Acquire)
}

/// A timed park is a real park that the model's clock also ends. (A yield loop would do,
/// but loom explores every interleaving of every iteration, and models explode.)
pub(crate) fn park_until_tick(tick: &Tick) {
    // The clock sets the flag, then unparks every parker: checking the flag after our
    // parker exists and before parking means we see it set or get its unpark.
    if !tick_passed(tick) {
        park();
    }
}

pub(crate) fn thread_id() -> usize {
    THREAD_ID.with(|id| *id)
}

/// The model's clock, for loom models only.
pub mod model {
    use super::*;

    /// Makes every timed wait of this model execution time out, pending and future alike.
    /// Call it from a thread of the model's own so loom tries it at every point.
    pub fn expire_timeouts() {
        // An RMW, like the deadlines' reads: loom orders plain stores lazily, and a
        // store concurrent with a waiter's RMW reads can leave that waiter's next RMW
        // reading "not yet" after the clock fired. With RMWs only, the flag's history is
        // one chain and every read sees the latest. Release pairs with the deadlines'
        // Acquire (a clock publishes no data).
        TIMEOUTS_EXPIRED.fetch_or(true, Ordering::Release);
        let parkers = EVERY_PARKER.lock().unwrap().clone();
        for parker in parkers {
            parker.notify();
        }
    }

    /// Makes the calling model thread a process that has died (the process primitives' models
    /// treat each model thread as a process): whatever it holds stays held, and a waiter's
    /// liveness check now answers "dead". The thread should return right after.
    pub fn exit_process() {
        super::futex_table().exit_process();
    }
}

loom::lazy_static! {
    /// The modelled kernel's futex table and the dead "processes", fresh for every execution.
    static ref FUTEX_TABLE: super::model_futex::FutexTable = super::model_futex::FutexTable::new();
}

/// This execution's futex table (see `model_futex`).
pub(crate) fn futex_table() -> &'static super::model_futex::FutexTable {
    &FUTEX_TABLE
}
