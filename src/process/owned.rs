//! The owned lock under `process::RLock` and `process::Value`: it records its holder as
//! (process, thread), so a waiter can notice a holder whose process died and take over.
//!
//! ```text
//!   owner    0 (free) | holder's ProcessId | holder's ProcessId + CLAIMING
//!   thread   holder's thread id, meaningful only once `owner` has lost CLAIMING
//!   count    the holder's recursion count (RLock; a Value's is 1)
//!   wakes    the futex word: bumped by a release that saw sleepers
//!   sleepers how many threads (of any process) sleep, or are about to, on `wakes`
//! ```
//!
//! A claim is two steps: a compare-exchange puts our ProcessId with CLAIMING into `owner`,
//! we write `thread` and `count`, then a Release store drops CLAIMING. A thread that reads
//! `owner` without CLAIMING (Acquire) therefore reads the `thread` its claimer wrote, never a
//! dead holder's left-over one; and a claimer that dies between the steps is still named in
//! `owner`, so it is found dead like any holder.

use crate::sync::{
    AtomicU32, AtomicU64, Deadline, Ordering, current_process, fence, futex_wait, futex_wake,
    process_alive, thread_id,
};
use core::time::Duration;

/// Nobody holds the lock.
const FREE: u64 = 0;
/// Set in `owner` while its claimer writes `thread` and `count`. A ProcessId's pid half is
/// below 2^22, so this bit is never part of one.
const CLAIMING: u64 = 1 << 63;

/// How often a waiter for an [`RLock`](super::RLock) or a [`Value`](super::Value) looks at
/// whether the holder's process still lives: a dead holder is noticed within this much
/// waiting (plus one read of `/proc`), and at once by a call that does not wait.
///
/// ```
/// assert_eq!(locksmith::process::OWNER_CHECK_INTERVAL.as_millis(), 100);
/// ```
pub const OWNER_CHECK_INTERVAL: Duration = Duration::from_millis(100);

/// How an acquire got the lock.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Taken {
    /// It was free.
    Free,
    /// Its holder's process had died holding it; this is that process's pid.
    FromDead(u32),
}

/// The owned lock's words. All zero is free.
#[doc(hidden)]
#[repr(C)]
pub struct RawOwnedLock {
    owner: AtomicU64,
    thread: AtomicU64,
    count: AtomicU32,
    wakes: AtomicU32,
    sleepers: AtomicU32,
    /// Keeps the size a multiple of 8 for whatever follows.
    _pad: AtomicU32,
}

impl RawOwnedLock {
    /// A free lock, for models.
    #[allow(clippy::new_without_default)] // a model helper, not API
    #[cfg(any(loom, shuttle))]
    pub fn new() -> Self {
        RawOwnedLock {
            owner: AtomicU64::new(FREE),
            thread: AtomicU64::new(0),
            count: AtomicU32::new(0),
            wakes: AtomicU32::new(0),
            sleepers: AtomicU32::new(0),
            _pad: AtomicU32::new(0),
        }
    }

    /// Whether the calling thread holds the lock.
    pub fn is_mine(&self) -> bool {
        // Acquire: pairs with the claim's Release, so `thread` below is the claimer's.
        self.owner.load(Ordering::Acquire) == current_process()
            // Relaxed: ordered by the Acquire above.
            && self.thread.load(Ordering::Relaxed) == thread_id() as u64
    }

    /// Whether anyone holds the lock now. A snapshot.
    pub fn locked(&self) -> bool {
        // Relaxed: a snapshot.
        self.owner.load(Ordering::Relaxed) != FREE
    }

    /// The holder's recursion count, as the holder sees it.
    pub(crate) fn count(&self) -> u32 {
        // Relaxed: only the holder writes it (a peer's scribble is only a number).
        self.count.load(Ordering::Relaxed)
    }

    /// Sets the holder's recursion count (the holder only).
    pub(crate) fn set_count(&self, count: u32) {
        // Relaxed: read by the holder only, or by a later holder after the release's Release.
        self.count.store(count, Ordering::Relaxed);
    }

    /// Takes the lock, waiting until `deadline`; `None` if it passed first. Looks at whether
    /// the holder's process lives every [`OWNER_CHECK_INTERVAL`] of waiting, and once more
    /// before giving up (so a zero timeout, or a short one, still finds a dead holder).
    pub(crate) fn acquire_until(&self, deadline: &Deadline) -> Option<Taken> {
        // Started at the first contended look, not before: an uncontended acquire reads no
        // clock.
        let mut check_due: Option<Deadline> = None;
        loop {
            // Relaxed: the claim's compare-exchange decides.
            let owner = self.owner.load(Ordering::Relaxed);
            if owner == FREE {
                if self.claim(FREE) {
                    return Some(Taken::Free);
                }
                continue;
            }
            let mut due = *check_due.get_or_insert_with(|| Deadline::after(OWNER_CHECK_INTERVAL));
            let expired = deadline.expired();
            if expired || due.expired() {
                let holder = owner & !CLAIMING;
                if !process_alive(holder) {
                    if self.claim(owner) {
                        return Some(Taken::FromDead((holder >> 32) as u32));
                    }
                    continue;
                }
                if expired {
                    return None;
                }
                due = Deadline::after(OWNER_CHECK_INTERVAL);
                check_due = Some(due);
            }
            self.sleep_while_held_by(owner, &deadline.earlier(due));
        }
    }

    /// Replaces `expected` with us as the holder.
    fn claim(&self, expected: u64) -> bool {
        let me = current_process();
        // Acquire: the previous holder's writes under the lock (published by its release's
        // Release) happen before ours. A dead holder published nothing; what it left is
        // what OwnerDied warns of.
        if self
            .owner
            .compare_exchange(
                expected,
                me | CLAIMING,
                Ordering::Acquire,
                Ordering::Relaxed,
            )
            .is_err()
        {
            return false;
        }
        // Relaxed: published by the Release store below.
        self.thread.store(thread_id() as u64, Ordering::Relaxed);
        self.count.store(1, Ordering::Relaxed);
        // Release: a thread of ours that reads `owner == me` (Acquire) reads our `thread`.
        self.owner.store(me, Ordering::Release);
        true
    }

    /// Sleeps until a release that may concern us, `deadline`, or spuriously.
    fn sleep_while_held_by(&self, owner: u64, deadline: &Deadline) {
        // Relaxed: `wakes` is only compared, by the kernel, to what we read here.
        let seen = self.wakes.load(Ordering::Relaxed);
        // Relaxed, then the fence: with the release's fence, either we see its FREE below or
        // it sees our count and bumps `wakes` (so the futex wait returns at once).
        self.sleepers.fetch_add(1, Ordering::Relaxed);
        fence(Ordering::SeqCst);
        // Relaxed: ordered by the fence.
        if self.owner.load(Ordering::Relaxed) == owner {
            futex_wait(&self.wakes, seen, deadline);
        }
        // Relaxed: a count; a peer's scribble on it costs spare wakes at most.
        self.sleepers.fetch_sub(1, Ordering::Relaxed);
    }

    /// Frees the lock (the holder only) and wakes one sleeper if there is one.
    pub(crate) fn release(&self) {
        // Relaxed: ordered before the Release store that frees the lock.
        self.thread.store(0, Ordering::Relaxed);
        self.count.store(0, Ordering::Relaxed);
        // Release: our writes under the lock happen before the next holder's Acquire claim.
        self.owner.store(FREE, Ordering::Release);
        // SeqCst fence: pairs with the sleeper's (see `sleep_while_held_by`).
        fence(Ordering::SeqCst);
        // Relaxed: ordered by the fence.
        if self.sleepers.load(Ordering::Relaxed) != 0 {
            // Relaxed: the kernel compares it; nothing is published through it.
            self.wakes.fetch_add(1, Ordering::Relaxed);
            futex_wake(&self.wakes, 1);
        }
    }

    /// The process the holder runs in, for messages; 0 if free.
    #[cfg_attr(any(loom, shuttle), allow(dead_code))]
    pub(crate) fn owner_pid(&self) -> u32 {
        // Relaxed: a snapshot.
        ((self.owner.load(Ordering::Relaxed) & !CLAIMING) >> 32) as u32
    }
}
