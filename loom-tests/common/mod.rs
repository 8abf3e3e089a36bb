//! Shared pieces of the loom models.
#![allow(dead_code)]

use loom::cell::UnsafeCell;

/// A model with no preemption bound: loom tries every interleaving. For 2-thread models.
pub fn exhaustive(f: impl Fn() + Sync + Send + 'static) {
    loom::model::Builder::new().check(f);
}

/// A model bounded to `preemptions` forced context switches per execution (the bound each
/// 3-thread-or-more model states next to its call). Every schedule with at most that many
/// preemptions is tried; bugs needing more are out of reach.
pub fn bounded(preemptions: usize, f: impl Fn() + Sync + Send + 'static) {
    let mut builder = loom::model::Builder::new();
    builder.preemption_bound = Some(preemptions);
    builder.check(f);
}

/// Data the primitive under test must protect. Touching it without mutual exclusion is a
/// data race that loom reports (its accesses are tracked for causality).
pub struct Protected(UnsafeCell<usize>);

// SAFETY: every access goes through loom's UnsafeCell, which checks that accesses from
// different threads are ordered by happens-before and fails the model when they are not.
unsafe impl Sync for Protected {}

impl Protected {
    pub fn new() -> Self {
        Protected(UnsafeCell::new(0))
    }

    /// Increments the value: a read and a write that must not interleave with another's.
    pub fn increment(&self) {
        // SAFETY: the caller holds the primitive under test; loom checks that claim.
        self.0.with_mut(|value| unsafe { *value += 1 });
    }

    pub fn get(&self) -> usize {
        // SAFETY: as in `increment`.
        self.0.with(|value| unsafe { *value })
    }
}

/// Starts the model's clock: a thread that makes every timed wait time out, at whatever
/// point loom schedules it.
pub fn spawn_clock() -> loom::thread::JoinHandle<()> {
    loom::thread::spawn(locksmith::__internals::model::expire_timeouts)
}

/// Counts arrivals and lets one thread (the model's main) block until enough have come,
/// without spinning (a spin is a branch per iteration for loom).
pub struct Arrivals {
    count: loom::sync::atomic::AtomicUsize,
    notify: loom::sync::Notify,
}

impl Arrivals {
    pub fn new() -> Self {
        Arrivals {
            count: loom::sync::atomic::AtomicUsize::new(0),
            notify: loom::sync::Notify::new(),
        }
    }

    /// Records one arrival and returns its ticket (0 for the first).
    pub fn arrive(&self) -> usize {
        use loom::sync::atomic::Ordering;
        // AcqRel: the arrival's earlier writes are visible to the thread that waits for it.
        let ticket = self.count.fetch_add(1, Ordering::AcqRel);
        self.notify.notify();
        ticket
    }

    /// Blocks until `n` arrivals have been recorded. Only one thread may call this.
    pub fn wait_for(&self, n: usize) {
        use loom::sync::atomic::Ordering;
        while self.count.load(Ordering::Acquire) < n {
            self.notify.wait();
        }
    }
}
