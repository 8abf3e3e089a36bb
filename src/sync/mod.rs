//! The shim: the one place that chooses between std, loom and shuttle, and the only one that
//! calls the OS.
//!
//! Everything the crate needs from the platform comes through here: atomics, `UnsafeCell`,
//! parking and unparking a thread, the calling thread's identity, deadlines and the spin
//! policy, and for the process types the futex, shared memory and process liveness. No other
//! module names `std::sync::atomic`, `std::thread`, `Instant`, `loom`, `shuttle` or an OS
//! call.
//!
//! | build | backend | what it is |
//! |---|---|---|
//! | normal | `std_backend.rs` | real atomics, parking, clock and thread ids; the shared futex |
//! | `--cfg loom` | `loom_backend.rs` | loom's checked atomics and threads; a model clock; spurious wake-ups |
//! | `--cfg shuttle` | `shuttle_backend.rs` | shuttle's scheduled atomics and threads; a seeded model clock |
//!
//! Each backend offers the same names: `AtomicBool`, `AtomicU32`, `AtomicU64`, `AtomicUsize`,
//! `Ordering`, `fence`, `UnsafeCell`, `SpinLock`/`SpinGuard`, `Thread` (a handle to unpark),
//! `park`, `thread_id`, `yield_now`, a clock (`Tick` and four functions for `Deadline`), and
//! for the process types `futex_wait_until`, `futex_wake`, `current_process` and
//! `process_alive`. Beside them, one file per mechanism shared by all three: `Deadline` (when
//! a timed wait gives up), `SpinWait` (how long to spin before parking) and `PeerWait`
//! (waiting out a peer mid-step). And the process floor: `shm.rs` (named shared memory) and
//! `os_process.rs` (who a process is, and whether it lives) in the std build on Linux;
//! `model_futex.rs` (the futex table and deaths, modelled) under loom and shuttle.

#[cfg(all(loom, shuttle))]
compile_error!("build with --cfg loom or --cfg shuttle, not both");

#[cfg(not(any(loom, shuttle)))]
mod std_backend;
#[cfg(not(any(loom, shuttle)))]
use std_backend as backend;

#[cfg(loom)]
mod loom_backend;
#[cfg(loom)]
use loom_backend as backend;

#[cfg(all(shuttle, not(loom)))]
mod shuttle_backend;
#[cfg(all(shuttle, not(loom)))]
use shuttle_backend as backend;

/// loom brings its own `UnsafeCell`; the other backends share this one.
#[cfg(not(loom))]
mod cell;
mod deadline;
/// The futex and process liveness under loom and shuttle.
#[cfg(any(loom, shuttle))]
mod model_futex;
/// Process identity and liveness, read from /proc.
#[cfg(all(not(any(loom, shuttle)), target_os = "linux"))]
mod os_process;
mod peer_wait;
/// Named shared memory: the one place that calls shm_open and mmap.
#[cfg(all(not(any(loom, shuttle)), target_os = "linux"))]
pub(crate) mod shm;
mod spin_wait;

pub(crate) use backend::*;
#[cfg(any(loom, shuttle, target_os = "linux"))]
pub(crate) use deadline::futex_wait;
pub(crate) use deadline::park_until;
#[cfg(any(loom, shuttle))]
pub(crate) use model_futex::{current_process, futex_wait_until, futex_wake, process_alive};
pub(crate) use peer_wait::PeerWait;
pub(crate) use spin_wait::SpinWait;

/// The wall clock's instant, for lock_api's `try_lock_until`: loom has no clock of its own, so
/// both builds name std's (the loom build turns it into a model deadline, see `Deadline::at`).
#[cfg(feature = "lock_api")]
pub(crate) use std::time::Instant;
// Public (through `__internals`) so the crate's own models and tests can drive the core.
#[cfg(any(loom, shuttle))]
pub use backend::model;
pub use deadline::Deadline;
