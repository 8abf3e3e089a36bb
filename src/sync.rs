//! The shim: the one place that chooses between std, loom and shuttle.
//!
//! Everything the crate needs from the platform comes through here: atomics, `UnsafeCell`,
//! parking and unparking a thread, the calling thread's identity, deadlines and the spin
//! policy. Normal builds get std; `--cfg loom` builds get loom's checked versions;
//! `--cfg shuttle` builds get shuttle's scheduled ones (see the shuttle `imp` below). No
//! other file names `std::sync::atomic`, `std::thread`, `Instant`, `loom` or `shuttle`.
//!
//! Under loom three things are modelled rather than real:
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

pub(crate) use imp::*;
/// The wall clock's instant, for lock_api's `try_lock_until`: loom has no clock of its own, so
/// both builds name std's (the loom build turns it into a model deadline, see `Deadline::at`).
#[cfg(feature = "lock_api")]
pub(crate) use std::time::Instant;
// Public (through `__internals`) so the crate's own models and tests can drive the core.
pub use imp::Deadline;
#[cfg(loom)]
pub use imp::model;

/// Bounded spinning before a thread parks: a few rounds of `spin_loop` hints, doubling each
/// time, then a few `yield_now`s (which matter when threads outnumber cores).
///
/// Waking a parked thread costs tens of microseconds on a small VM, so a short spin pays.
/// Under loom it does not spin at all: a spin yields, loom never runs a yielded thread while
/// another can run, so a spinning contender always let the holder finish first and the
/// models never saw it park (a release that woke nobody passed the mutual-exclusion model).
///
/// Under shuttle it does not spin either: shuttle runs one thread at a time, so a spin only
/// spends schedule steps; what shuttle explores is who runs next, not how long.
pub(crate) struct SpinWait {
    #[cfg(not(any(loom, shuttle)))]
    round: u32,
}

impl SpinWait {
    /// Rounds before parking.
    #[cfg(not(any(loom, shuttle)))]
    const ROUNDS: u32 = 10;

    pub(crate) const fn new() -> Self {
        SpinWait {
            #[cfg(not(any(loom, shuttle)))]
            round: 0,
        }
    }

    pub(crate) fn reset(&mut self) {
        *self = SpinWait::new();
    }

    /// Spins once more and returns true, or returns false when it is time to park.
    #[cfg(not(any(loom, shuttle)))]
    #[inline]
    pub(crate) fn spin(&mut self) -> bool {
        if self.round >= Self::ROUNDS {
            return false;
        }
        self.round += 1;
        if self.round <= 3 {
            for _ in 0..(1u32 << self.round) {
                spin_loop();
            }
        } else {
            yield_now();
        }
        true
    }

    /// Under loom and shuttle: park at once (see the type's docs).
    #[cfg(any(loom, shuttle))]
    #[inline]
    pub(crate) fn spin(&mut self) -> bool {
        false
    }

    /// Waits a moment for another thread that is in the middle of a few-instruction step
    /// (a queue slot claimed but not yet filled): spins while spinning pays, then yields on
    /// every call, because that thread may have been descheduled mid-step.
    #[cfg(not(any(loom, shuttle)))]
    #[inline]
    pub(crate) fn snooze(&mut self) {
        if !self.spin() {
            yield_now();
        }
    }

    /// Under loom and shuttle: yield, so the scheduler runs the thread we wait for.
    #[cfg(any(loom, shuttle))]
    #[inline]
    pub(crate) fn snooze(&mut self) {
        imp::yield_now();
    }
}

/// Waiting for a peer in the middle of a step of a few instructions (a queue slot claimed and
/// not yet filled or emptied). On real threads, and under shuttle, the waiter spins, then
/// yields ([`SpinWait::snooze`]) and its caller looks again: the scheduler runs the peer.
///
/// loom's scheduler is not fair: two waiters yielding to each other may starve the preempted
/// peer forever, and the model runs out of branches (the same reason the spin lock is loom's
/// mutex there). So under loom a waiter blocks on a condition variable until `busy()` says
/// the step is done, and every finished step signals it. The ring's logic is the same in
/// every build; only how a waiter passes the time differs.
pub(crate) struct PeerWait {
    /// Under loom: how many threads wait, so that a step nobody waits for costs no lock.
    #[cfg(loom)]
    waiters: AtomicUsize,
    #[cfg(loom)]
    lock: loom::sync::Mutex<()>,
    #[cfg(loom)]
    step_done: loom::sync::Condvar,
}

impl PeerWait {
    pub(crate) fn new() -> Self {
        PeerWait {
            #[cfg(loom)]
            waiters: AtomicUsize::new(0),
            #[cfg(loom)]
            lock: loom::sync::Mutex::new(()),
            #[cfg(loom)]
            step_done: loom::sync::Condvar::new(),
        }
    }

    /// Waits a moment while `busy()` (a peer is mid-step); the caller then looks again.
    #[cfg(not(loom))]
    #[inline]
    pub(crate) fn wait_while(&self, _busy: impl Fn() -> bool, spin: &mut SpinWait) {
        spin.snooze();
    }

    /// Under loom: blocks until `busy()` is false. `busy` is checked under the lock that
    /// [`PeerWait::step_done`] takes after the step, so the wait cannot miss it.
    #[cfg(loom)]
    pub(crate) fn wait_while(&self, busy: impl Fn() -> bool, _spin: &mut SpinWait) {
        let mut guard = self.lock.lock().unwrap();
        // Relaxed: ordered by the fence. SeqCst fence: store buffering against
        // `step_done`'s, so either `busy` below sees the finished step or the peer sees us.
        self.waiters.fetch_add(1, Ordering::Relaxed);
        fence(Ordering::SeqCst);
        while busy() {
            guard = self.step_done.wait(guard).unwrap();
        }
        // Relaxed: under the lock; a stale count only costs a peer a needless signal.
        self.waiters.fetch_sub(1, Ordering::Relaxed);
    }

    /// Called by the peer once its step is visible (after its stamp store).
    #[cfg(not(loom))]
    #[inline(always)]
    pub(crate) fn step_done(&self) {}

    #[cfg(loom)]
    pub(crate) fn step_done(&self) {
        // SeqCst fence: the other half of `wait_while`'s. Relaxed: ordered by it.
        fence(Ordering::SeqCst);
        if self.waiters.load(Ordering::Relaxed) != 0 {
            // Taking the lock orders the signal after a waiter's check or before it.
            drop(self.lock.lock().unwrap());
            self.step_done.notify_all();
        }
    }
}

impl core::fmt::Debug for PeerWait {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("PeerWait")
    }
}

/// `UnsafeCell` with loom's closure API, so code reads the same in every build. (loom
/// brings its own, which checks accesses.)
#[cfg(not(loom))]
mod cell {
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
}

#[cfg(not(any(loom, shuttle)))]
mod imp {
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

        /// At `instant` (lock_api's `try_lock_until`).
        #[cfg(feature = "lock_api")]
        pub fn at(instant: Instant) -> Self {
            Deadline { at: Some(instant) }
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
    pub(crate) use loom::thread::yield_now;
    // loom models a SeqCst fence as a full synchronisation point (stronger than C++), which
    // is sound for the one pattern we use it for: two threads that each write, fence, then
    // read the other's word (see `queue::blocking::Waiters`).
    pub(crate) use loom::sync::atomic::{AtomicBool, AtomicUsize, Ordering, fence};

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

    /// A timed park is a real park that the model's clock also ends. (A yield loop would do,
    /// but loom explores every interleaving of every iteration, and models explode.)
    pub(crate) fn park_until(deadline: &Deadline) {
        // The clock sets the flag, then unparks every parker: checking the flag after our
        // parker exists and before parking means we see it set or get its unpark.
        if !deadline.expired() {
            park();
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

        /// At a point in real time (lock_api's `try_lock_until`). The model has no clock, so
        /// like any other timed wait it passes when the model's clock fires.
        #[cfg(feature = "lock_api")]
        pub fn at(_instant: super::Instant) -> Self {
            Deadline {
                kind: DeadlineKind::Model,
            }
        }

        /// Whether the deadline has passed.
        pub fn expired(&self) -> bool {
            match self.kind {
                DeadlineKind::Never => false,
                DeadlineKind::Now => true,
                // A read-modify-write, not a load: loom lets a load return a stale value,
                // and a waiter that read "not yet" after the clock had fired and unparked
                // everyone would park for good. An RMW reads the latest value. Acquire pairs
                // with the clock's Release (a clock publishes no data).
                DeadlineKind::Model => TIMEOUTS_EXPIRED.fetch_or(false, Ordering::Acquire),
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
    }
}

#[cfg(all(loom, shuttle))]
compile_error!("build with --cfg loom or --cfg shuttle, not both");

/// The shuttle backend (`--cfg shuttle`): shuttle's atomics, threads and parking, so its
/// schedulers (random, PCT) decide who runs at every atomic access, over thousands of
/// executions with more threads and operations than loom can hold. Shuttle runs one thread at
/// a time and does not model weak memory (every access acts `SeqCst`): loom covers orderings,
/// shuttle covers schedules. Two things are modelled:
/// - **Spurious wakeups** are shuttle's own: its `park` may return without an unpark, and its
///   schedulers choose when.
/// - **Time.** Shuttle has no clock (its `park_timeout` is `park`). A timed deadline lies a
///   few ticks ahead of a per-execution model clock, and every look at a deadline may advance
///   that clock one tick, by a coin flip from shuttle's seeded random source, so a replayed
///   seed times out at the same points. A timed waiter yields instead of parking: a park that
///   only a timeout could end would read as a deadlock to shuttle.
#[cfg(all(shuttle, not(loom)))]
mod imp {
    use std::time::Duration;

    use shuttle::rand::Rng;

    pub(crate) use super::cell::UnsafeCell;
    pub(crate) use shuttle::sync::atomic::{AtomicBool, AtomicUsize, Ordering, fence};
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

    /// Untimed: a real park. Timed: one yield (see the module docs), and the caller's loop
    /// looks at the deadline again.
    pub(crate) fn park_until(deadline: &Deadline) {
        match deadline.at {
            None => park(),
            Some(_) => {
                if !deadline.expired() {
                    yield_now();
                }
            }
        }
    }

    shuttle::lazy_static! {
        /// The model clock, in ticks; a fresh one for every execution.
        static ref MODEL_CLOCK: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    }

    /// The model clock now. Relaxed (both helpers): shuttle runs its threads one at a time on
    /// one OS thread, so any ordering reads the latest tick; the clock publishes no data.
    fn now() -> u64 {
        MODEL_CLOCK.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// When a timed wait gives up, on the model clock.
    #[derive(Clone, Copy, Debug)]
    pub struct Deadline {
        /// `None`: never.
        at: Option<u64>,
    }

    impl Deadline {
        /// A deadline that never passes.
        pub const fn never() -> Self {
            Deadline { at: None }
        }

        /// A zero timeout has already passed; `Duration::MAX` never passes (as in the std
        /// build); any other lies one to three ticks ahead, chosen by the seed.
        pub fn after(timeout: Duration) -> Self {
            let at = if timeout.is_zero() {
                Some(now())
            } else if timeout == Duration::MAX {
                None
            } else {
                Some(now() + shuttle::rand::thread_rng().gen_range(1..=3))
            };
            Deadline { at }
        }

        /// At a point in real time (lock_api's `try_lock_until`): the model has no real time,
        /// so a past instant has passed and any other is a few ticks ahead.
        #[cfg(feature = "lock_api")]
        pub fn at(instant: super::Instant) -> Self {
            Deadline::after(instant.saturating_duration_since(super::Instant::now()))
        }

        /// Whether the deadline has passed. Each look may first move the clock a tick.
        pub fn expired(&self) -> bool {
            let Some(at) = self.at else {
                return false;
            };
            if shuttle::rand::thread_rng().gen_ratio(1, 4) {
                MODEL_CLOCK.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            }
            now() >= at
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
}
