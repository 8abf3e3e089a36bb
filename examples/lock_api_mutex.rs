//! The crate's `Lock` with its data inside: `locksmith::Mutex<T>`, which is
//! `lock_api::Mutex<Lock, T>` (feature `lock_api`).
//!
//! Python guards data with a lock by convention (`with lock: balance += n`); here the balance
//! lives inside the mutex and can only be reached through a guard.
//! Run with `cargo run --example lock_api_mutex --features lock_api`.

use locksmith::Mutex;
use std::thread;
use std::time::Duration;

fn main() {
    let balance = Mutex::new(0i64);
    thread::scope(|scope| {
        for n in [5, 8] {
            let balance = &balance;
            scope.spawn(move || {
                for _ in 0..100_000 {
                    let mut guard = balance.lock();
                    *guard += n;
                    *guard -= n;
                }
            });
        }
    });
    println!("final balance {}", *balance.lock());
    assert_eq!(*balance.lock(), 0);

    // A guard may be dropped on another thread: a Lock has no owner.
    let held = balance.lock();
    assert!(balance.try_lock_for(Duration::from_millis(10)).is_none());
    thread::scope(|scope| {
        scope.spawn(move || drop(held));
    });
    assert!(balance.try_lock().is_some());
    println!("a guard taken here and dropped on another thread released the lock");
}
