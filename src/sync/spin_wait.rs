//! How long a thread keeps trying before it parks.

#[cfg(not(any(loom, shuttle)))]
use super::spin_loop;
use super::yield_now;

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
        yield_now();
    }
}
