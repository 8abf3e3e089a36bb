//! The futex and process liveness under loom and shuttle: what the kernel does for the
//! process primitives, modelled with the backend's own lock, parking and clock.
//!
//! A sleeper checks the word and joins the table under the table's lock, as the kernel checks
//! it under its hash-bucket lock: a waker that changed the word and then takes the lock either
//! came first (the sleeper sees the new value and does not sleep) or finds the sleeper in the
//! table. Sleeping is the backend's park, so it may return spuriously, and a timed sleep ends
//! when the model's clock fires. Each model thread is a process of its own for liveness;
//! `exit_process` makes the calling one dead, as a process killed while holding a lock.

use super::backend::{SpinLock, Thread, Tick, futex_table, park, park_until_tick, thread_id};
use super::{AtomicU32, Ordering};

struct Sleeper {
    word: usize,
    thread_id: usize,
    thread: Thread,
}

pub(crate) struct FutexTable {
    lock: SpinLock,
    /// Touched only with `lock` held; a std mutex so no model operation runs inside it.
    sleepers: std::sync::Mutex<Vec<Sleeper>>,
    dead: std::sync::Mutex<Vec<u64>>,
}

impl FutexTable {
    pub(crate) fn new() -> Self {
        FutexTable {
            lock: SpinLock::new(),
            sleepers: std::sync::Mutex::new(Vec::new()),
            dead: std::sync::Mutex::new(Vec::new()),
        }
    }

    pub(crate) fn wait(&self, word: &AtomicU32, expected: u32, until: Option<&Tick>) {
        let address = word as *const AtomicU32 as usize;
        {
            let _table = self.lock.lock();
            // Relaxed: the table's lock orders this after any waker's change it must see.
            if word.load(Ordering::Relaxed) != expected {
                return;
            }
            self.sleepers.lock().unwrap().push(Sleeper {
                word: address,
                thread_id: thread_id(),
                thread: Thread::current(),
            });
        }
        match until {
            None => park(),
            Some(tick) => park_until_tick(tick),
        }
        let _table = self.lock.lock();
        let me = thread_id();
        self.sleepers
            .lock()
            .unwrap()
            .retain(|sleeper| sleeper.thread_id != me);
    }

    pub(crate) fn wake(&self, word: &AtomicU32, n: u32) {
        let address = word as *const AtomicU32 as usize;
        let _table = self.lock.lock();
        let mut woken = Vec::new();
        {
            let mut sleepers = self.sleepers.lock().unwrap();
            while woken.len() < n as usize {
                match sleepers.iter().position(|sleeper| sleeper.word == address) {
                    Some(index) => woken.push(sleepers.remove(index)),
                    None => break,
                }
            }
        }
        for sleeper in woken {
            sleeper.thread.unpark();
        }
    }

    pub(crate) fn current_process(&self) -> u64 {
        ((thread_id() as u64) << 32) | 1
    }

    pub(crate) fn process_alive(&self, process: u64) -> bool {
        !self.dead.lock().unwrap().contains(&process)
    }

    pub(crate) fn exit_process(&self) {
        let me = self.current_process();
        self.dead.lock().unwrap().push(me);
    }
}

/// The modelled futex wait.
pub(crate) fn futex_wait_until(word: &AtomicU32, expected: u32, until: Option<&Tick>) {
    futex_table().wait(word, expected, until);
}

/// The modelled futex wake.
pub(crate) fn futex_wake(word: &AtomicU32, n: u32) {
    futex_table().wake(word, n);
}

/// Each model thread is a process of its own.
pub(crate) fn current_process() -> u64 {
    futex_table().current_process()
}

/// Alive until it called `exit_process`.
pub(crate) fn process_alive(process: u64) -> bool {
    futex_table().process_alive(process)
}
