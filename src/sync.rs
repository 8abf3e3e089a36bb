//! The shim: the one place that chooses between std and loom.
//!
//! Everything the crate needs from the platform comes through here: atomics, `UnsafeCell`,
//! parking and unparking a thread, the calling thread's identity, deadlines and the spin
//! policy. Normal builds get std; `--cfg loom` builds get loom's checked versions. No other
//! file names `std::sync::atomic`, `std::thread`, `Instant` or `loom`.
//!
//! Under loom three things are modelled rather than real:
//! - **Time.** loom has no clock. A timed wait's deadline reads a model-scoped "expired" flag
//!   that a model sets with [`model::expire_timeouts`] (usually from a thread of its own, so
//!   loom explores the timeout firing at every point), and a timed park becomes a yield.
//!   Untimed waits stay real parks, so loom's deadlock detection still covers them.
//! - **Spurious wakeups.** loom's `thread::park` never returns early, so a thread parks on a
//!   per-thread `loom::sync::Notify`, which loom lets return spuriously (once per thread per
//!   execution, as a branch it explores). Every wait loop must therefore re-check its condition.
//! - **Thread identity.** All loom threads share one OS thread, so identity comes from a
//!   loom thread-local rather than the OS.

pub(crate) use imp::*;
// Public (through `__internals`) so the crate's own models and tests can drive the core.
pub use imp::Deadline;
#[cfg(loom)]
pub use imp::model;

/// How many times a contended path spins before it parks. Waking a parked thread costs tens
/// of microseconds on a small VM, so a short spin pays; under loom every spin iteration is a
/// branch to explore, so the model spins at most once.
#[cfg(not(loom))]
const SPIN_ROUNDS: u32 = 10;
#[cfg(loom)]
const SPIN_ROUNDS: u32 = 1;

/// Bounded spinning before a thread parks: a few rounds of `spin_loop` hints, doubling each
/// time, then a few `yield_now`s (which matter when threads outnumber cores).
pub(crate) struct SpinWait {
    round: u32,
}

impl SpinWait {
    pub(crate) const fn new() -> Self {
        SpinWait { round: 0 }
    }

    pub(crate) fn reset(&mut self) {
        self.round = 0;
    }

    /// Spins once more and returns true, or returns false when it is time to park.
    #[inline]
    pub(crate) fn spin(&mut self) -> bool {
        if self.round >= SPIN_ROUNDS {
            return false;
        }
        self.round += 1;
        if cfg!(not(loom)) && self.round <= 3 {
            for _ in 0..(1u32 << self.round) {
                spin_loop();
            }
        } else {
            yield_now();
        }
        true
    }
}

#[cfg(not(loom))]
mod imp {
    use std::cell::Cell;
    use std::time::{Duration, Instant};

    pub(crate) use std::hint::spin_loop;
    pub(crate) use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
    pub(crate) use std::thread::yield_now;

    /// `UnsafeCell` with loom's closure API, so code reads the same in both builds.
    #[derive(Debug)]
    pub(crate) struct UnsafeCell<T>(std::cell::UnsafeCell<T>);

    impl<T> UnsafeCell<T> {
        pub(crate) const fn new(value: T) -> Self {
            UnsafeCell(std::cell::UnsafeCell::new(value))
        }

        #[inline]
        pub(crate) fn with<R>(&self, f: impl FnOnce(*const T) -> R) -> R {
            f(self.0.get())
        }

        #[inline]
        pub(crate) fn with_mut<R>(&self, f: impl FnOnce(*mut T) -> R) -> R {
            f(self.0.get())
        }
    }

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
        match deadline.at {
            None => std::thread::park(),
            Some(at) => {
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
        /// `None`: never (untimed, or a timeout too large for the clock).
        at: Option<Instant>,
    }

    impl Deadline {
        /// A deadline that never passes.
        pub const fn never() -> Self {
            Deadline { at: None }
        }

        /// `timeout` from now. A timeout too large for the clock (up to `Duration::MAX`)
        /// never passes rather than overflowing.
        pub fn after(timeout: Duration) -> Self {
            Deadline {
                at: Instant::now().checked_add(timeout),
            }
        }

        /// Whether the deadline has passed.
        #[inline]
        pub fn expired(&self) -> bool {
            match self.at {
                None => false,
                Some(at) => Instant::now() >= at,
            }
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
}

#[cfg(loom)]
mod imp {
    use std::sync::Arc;
    use std::time::Duration;

    pub(crate) use loom::cell::UnsafeCell;
    pub(crate) use loom::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
    pub(crate) use loom::thread::yield_now;

    /// loom models no CPU pause; a yield is how a spin lets other model threads run.
    pub(crate) fn spin_loop() {
        loom::thread::yield_now();
    }

    loom::thread_local! {
        /// Each model thread parks on its own `Notify`: unlike loom's `park`, its `wait` may
        /// return spuriously, and loom explores that branch.
        static PARKER: Arc<loom::sync::Notify> = Arc::new(loom::sync::Notify::new());

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

    /// A timed park is a yield: the caller's loop re-checks its wake-up and the model clock.
    pub(crate) fn park_until(deadline: &Deadline) {
        match deadline.kind {
            DeadlineKind::Never => park(),
            DeadlineKind::Now => {}
            DeadlineKind::Model => loom::thread::yield_now(),
        }
    }

    #[derive(Clone, Copy, Debug)]
    enum DeadlineKind {
        Never,
        Now,
        Model,
    }

    /// When a timed wait gives up, read from the model's clock.
    #[derive(Clone, Copy, Debug)]
    pub struct Deadline {
        kind: DeadlineKind,
    }

    impl Deadline {
        /// A deadline that never passes.
        pub const fn never() -> Self {
            Deadline {
                kind: DeadlineKind::Never,
            }
        }

        /// A zero timeout has already passed; `Duration::MAX` never passes (as in the std
        /// build, where it overflows the clock); any other timeout passes when the model's
        /// clock fires.
        pub fn after(timeout: Duration) -> Self {
            let kind = if timeout.is_zero() {
                DeadlineKind::Now
            } else if timeout == Duration::MAX {
                DeadlineKind::Never
            } else {
                DeadlineKind::Model
            };
            Deadline { kind }
        }

        /// Whether the deadline has passed.
        pub fn expired(&self) -> bool {
            match self.kind {
                DeadlineKind::Never => false,
                DeadlineKind::Now => true,
                // Acquire pairs with the clock's Release; a clock carries no data, so this
                // only keeps the model honest, not correct.
                DeadlineKind::Model => TIMEOUTS_EXPIRED.load(Ordering::Acquire),
            }
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
            TIMEOUTS_EXPIRED.store(true, Ordering::Release);
        }
    }
}
