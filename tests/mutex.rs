//! `Mutex<T>` (src/mutex.rs, the `lock_api` feature) on real threads, with a proptest of
//! single-thread scripts against a reference model.
#![cfg(all(not(loom), feature = "lock_api"))]

use locksmith::{Lock, Mutex, MutexGuard};
use proptest::prelude::*;
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

/// LOCK-1: threads incrementing through guards never lose an update, and the data ends
/// where the count says.
#[test]
fn mutex_guards_exclude_on_real_threads() {
    const THREADS: u64 = 4;
    // Under Miri, which interprets every step, 50 rounds per thread (a lower count for Miri
    // only; the check is the same).
    const ROUNDS: u64 = if cfg!(miri) { 50 } else { 20_000 };
    let counter = Arc::new(Mutex::new(0u64));
    let workers: Vec<_> = (0..THREADS)
        .map(|_| {
            let counter = Arc::clone(&counter);
            thread::spawn(move || {
                for _ in 0..ROUNDS {
                    let mut guard = counter.lock();
                    // A read and a separate write: a second holder would lose updates.
                    let value = *guard;
                    *guard = value + 1;
                }
            })
        })
        .collect();
    for worker in workers {
        worker.join().unwrap();
    }
    assert_eq!(*counter.lock(), THREADS * ROUNDS);
    assert!(!counter.is_locked());
}

/// LOCK-2: a guard taken on one thread and dropped on another releases the lock.
#[test]
fn mutex_guard_released_on_another_thread() {
    let mutex = Arc::new(Mutex::new(String::from("a")));
    let mut guard = mutex.lock_arc();
    guard.push('b');
    thread::spawn(move || drop(guard)).join().unwrap();
    assert_eq!(
        *mutex.try_lock().expect("released by the other thread"),
        "ab"
    );
}

/// LOCK-5: a timed lock that cannot get in lasts about its timeout and leaves the data
/// alone; `try_lock_until` with a deadline in the past fails at once; both succeed on a free
/// mutex.
#[test]
fn mutex_timed_locks_give_up_and_succeed() {
    let mutex = Mutex::new(7);
    let held = mutex.lock();
    let timeout = Duration::from_millis(50);
    let started = Instant::now();
    assert!(mutex.try_lock_for(timeout).is_none());
    let waited = started.elapsed();
    assert!(waited >= timeout * 8 / 10, "gave up after {waited:?}");
    assert!(waited < timeout * 10, "gave up only after {waited:?}");
    assert!(mutex.try_lock_until(Instant::now()).is_none());
    drop(held);
    assert_eq!(*mutex.try_lock_for(timeout).unwrap(), 7);
    assert_eq!(*mutex.try_lock_until(Instant::now() + timeout).unwrap(), 7);
    assert!(mutex.try_lock_for(Duration::MAX).is_some());
}

/// LOCK-5: a timed lock waiting for a holder gets in once the holder lets go, whether its
/// deadline is a `Duration` (`try_lock_for`) or an `Instant` ahead (`try_lock_until`; a
/// deadline ahead taken for one already past, which gives up at once, passed every test
/// before).
#[test]
fn mutex_timed_lock_waits_for_the_holder() {
    let mutex = Arc::new(Mutex::new(0));
    for until in [false, true] {
        let held = mutex.lock_arc();
        let waiter = {
            let mutex = Arc::clone(&mutex);
            thread::spawn(move || {
                let guard = if until {
                    mutex.try_lock_until(Instant::now() + Duration::from_secs(10))
                } else {
                    mutex.try_lock_for(Duration::from_secs(10))
                };
                guard.map(|mut g| *g += 1)
            })
        };
        thread::sleep(Duration::from_millis(20));
        drop(held);
        assert!(waiter.join().unwrap().is_some(), "until: {until}");
    }
    assert_eq!(*mutex.lock(), 2);
}

/// The raw lock under the mutex is the crate's Lock, seen through both APIs at once.
#[test]
fn mutex_raw_lock_is_the_crates_lock() {
    let mutex = Mutex::new(());
    let guard: MutexGuard<'_, ()> = mutex.lock();
    // SAFETY: only inspected, never unlocked behind the guard's back.
    let raw: &Lock = unsafe { mutex.raw() };
    assert!(raw.locked());
    assert!(!raw.try_acquire());
    drop(guard);
    assert!(!raw.locked());
}

#[derive(Clone, Debug)]
enum Op {
    Lock(u8),
    TryLock(u8),
    TryLockFor(u8),
    Unlock,
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        any::<u8>().prop_map(Op::Lock),
        any::<u8>().prop_map(Op::TryLock),
        any::<u8>().prop_map(Op::TryLockFor),
        Just(Op::Unlock),
    ]
}

/// The proptest settings: the defaults, except under Miri, where each case is interpreted
/// step by step and isolation forbids the file system: 3 cases and no regression file (a
/// lower count for Miri only; each case checks the same things).
fn config() -> ProptestConfig {
    if cfg!(miri) {
        ProptestConfig {
            cases: 3,
            failure_persistence: None,
            ..ProptestConfig::default()
        }
    } else {
        ProptestConfig::default()
    }
}

proptest! {
    #![proptest_config(config())]

    /// LOCK-1, LOCK-5: one thread's script of locks, tries and unlocks agrees with a model
    /// (held or not; the data's value): a try on a held mutex fails and changes nothing; a
    /// blocking lock is only issued when the model says it is free.
    #[test]
    fn mutex_matches_model(script in proptest::collection::vec(op(), 1..40)) {
        let mutex = Mutex::new(0u8);
        let mut guard: Option<MutexGuard<'_, u8>> = None;
        let mut model_value = 0u8;
        for op in script {
            let held = guard.is_some();
            prop_assert_eq!(mutex.is_locked(), held);
            match op {
                Op::Lock(value) if !held => {
                    let mut g = mutex.lock();
                    prop_assert_eq!(*g, model_value);
                    *g = value;
                    model_value = value;
                    guard = Some(g);
                }
                Op::Lock(_) => {}
                Op::TryLock(value) => match mutex.try_lock() {
                    Some(mut g) => {
                        prop_assert!(!held, "try_lock succeeded on a held mutex");
                        prop_assert_eq!(*g, model_value);
                        *g = value;
                        model_value = value;
                        guard = Some(g);
                    }
                    None => prop_assert!(held, "try_lock failed on a free mutex"),
                },
                Op::TryLockFor(value) => match mutex.try_lock_for(Duration::from_micros(50)) {
                    Some(mut g) => {
                        prop_assert!(!held, "try_lock_for succeeded on a held mutex");
                        *g = value;
                        model_value = value;
                        guard = Some(g);
                    }
                    None => prop_assert!(held, "try_lock_for failed on a free mutex"),
                },
                Op::Unlock => guard = None,
            }
        }
        drop(guard);
        prop_assert_eq!(*mutex.lock(), model_value);
    }
}
