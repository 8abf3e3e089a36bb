//! Waiting out a peer that is in the middle of a step of a few instructions.

use super::SpinWait;
#[cfg(loom)]
use super::{AtomicUsize, Ordering, fence};

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
