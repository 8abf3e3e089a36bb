//! The notes' balance race: two threads change a shared balance without a lock, and the
//! balance drifts; with a `Lock` around each change it stays 0.
//!
//! The Python it mirrors:
//!
//! ```python
//! balance = 0
//! lock = threading.Lock()
//! def change_it(n):
//!     global balance
//!     balance = balance + n
//!     balance = balance - n
//! def run_thread(n):
//!     for i in range(ROUNDS):
//!         change_it(n)          # or: with lock: change_it(n)
//! t1 = threading.Thread(target=run_thread, args=(5,))
//! t2 = threading.Thread(target=run_thread, args=(8,))
//! ```
//!
//! Rust will not compile two threads writing a plain `i64` (that is a data race, and
//! `&mut` cannot be shared), so the balance is an atomic read and a separate atomic write:
//! each access is whole, as each bytecode is under Python's GIL, but the pair is not, which is
//! exactly the notes' bug. Run with `cargo run --release --example balance_race`.

use locksmith::Lock;
use std::sync::atomic::{AtomicI64, Ordering};
use std::thread;

const ROUNDS: usize = 1_000_000;

fn change_it(balance: &AtomicI64, n: i64) {
    // Relaxed: this example is about the interleaving of whole reads and writes, not about
    // memory ordering; with the lock, its acquire and release order the accesses.
    let read = balance.load(Ordering::Relaxed);
    balance.store(read + n, Ordering::Relaxed); // Relaxed: as above.
    let read = balance.load(Ordering::Relaxed); // Relaxed: as above.
    balance.store(read - n, Ordering::Relaxed); // Relaxed: as above.
}

/// Runs the two threads of the notes and returns the final balance.
fn run(lock: Option<&Lock>) -> i64 {
    let balance = AtomicI64::new(0);
    thread::scope(|scope| {
        for n in [5, 8] {
            let balance = &balance;
            scope.spawn(move || {
                for _ in 0..ROUNDS {
                    match lock {
                        Some(lock) => {
                            let _held = lock.lock();
                            change_it(balance, n);
                        }
                        None => change_it(balance, n),
                    }
                }
            });
        }
    });
    // Relaxed: both threads have been joined by the end of the scope.
    balance.load(Ordering::Relaxed)
}

fn main() {
    let unlocked = run(None);
    println!("without a lock: final balance {unlocked}");
    if unlocked == 0 {
        println!("  (this run happened to keep it; the race is still there: run it again,");
        println!("   or see loom find it every time: loom-tests/demonstrations.rs)");
    } else {
        println!("  updates were lost: one thread's write replaced the other's");
    }

    let lock = Lock::new();
    let locked = run(Some(&lock));
    println!("with a Lock:    final balance {locked}");
    assert_eq!(locked, 0, "the Lock must make each change_it whole");
}
