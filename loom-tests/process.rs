//! loom models of the process primitives' state machines (src/process/) on the modelled
//! futex: PROC-1 .. PROC-6 in docs/process.md. Each model thread stands for a process; a
//! thread that calls `model::exit_process` is a process that died, holding what it held.
#![cfg(loom)]

mod common;

use common::{Protected, bounded, exhaustive, spawn_clock};
use locksmith::__internals::Deadline;
use locksmith::__internals::model::{exit_process, expire_timeouts};
use locksmith::ReleaseError;
use locksmith::process::raw::{RawEvent, RawLock, RawRLock, RawSemaphore, RawValue};
use loom::sync::Arc;
use loom::thread;
use std::time::Duration;

fn never() -> Deadline {
    Deadline::never()
}

fn soon() -> Deadline {
    Deadline::after(Duration::from_millis(10))
}

/// PROC-1: two processes increment data under the lock. A second holder races on the data
/// (loom reports it); a release that does not wake a sleeper leaves it asleep (a deadlock).
#[test]
fn process_lock_excludes_and_wakes() {
    exhaustive(|| {
        let shared = Arc::new((RawLock::new(), Protected::new()));
        let other = {
            let shared = shared.clone();
            thread::spawn(move || {
                assert!(shared.0.acquire_until(&never()));
                shared.1.increment();
                shared.0.release().unwrap();
            })
        };
        assert!(shared.0.acquire_until(&never()));
        shared.1.increment();
        shared.0.release().unwrap();
        other.join().unwrap();
        assert_eq!(shared.1.get(), 2);
        assert!(!shared.0.locked());
    });
}

/// PROC-1: a timed sleeper that gives up (perhaps after the release's one wake was spent on
/// it) leaves the word marked, so the untimed sleeper behind it still gets the lock.
/// Bounded: 4 threads, 2 preemptions.
#[test]
fn process_lock_timed_out_sleeper_leaves_no_one_behind() {
    bounded(2, || {
        let lock = Arc::new(RawLock::new());
        assert!(lock.try_acquire());
        let timed = {
            let lock = lock.clone();
            thread::spawn(move || {
                if lock.acquire_until(&soon()) {
                    lock.release().unwrap();
                }
            })
        };
        let untimed = {
            let lock = lock.clone();
            thread::spawn(move || {
                assert!(lock.acquire_until(&never()));
                lock.release().unwrap();
            })
        };
        let clock = spawn_clock();
        lock.release().unwrap();
        timed.join().unwrap();
        untimed.join().unwrap();
        clock.join().unwrap();
        assert!(!lock.locked());
    });
}

/// PROC-2: a process that never acquired the lock releases it, and the acquirer blocked
/// behind it gets in; a second release of the same hold is refused and changes nothing.
#[test]
fn process_lock_released_by_another_process() {
    exhaustive(|| {
        let lock = Arc::new(RawLock::new());
        assert!(lock.try_acquire());
        let releaser = {
            let lock = lock.clone();
            thread::spawn(move || lock.release())
        };
        assert!(lock.acquire_until(&never()));
        assert_eq!(releaser.join().unwrap(), Ok(()));
        assert_eq!(lock.release(), Ok(()));
        assert_eq!(lock.release(), Err(ReleaseError::NotLocked));
        assert!(lock.try_acquire());
    });
}

/// PROC-3: one permit, two processes: each gets it in turn (data race otherwise), and a
/// sleeper is woken by the release (deadlock otherwise).
#[test]
fn process_semaphore_hands_out_each_permit_once() {
    exhaustive(|| {
        let shared = Arc::new((RawSemaphore::new(1, false), Protected::new()));
        let other = {
            let shared = shared.clone();
            thread::spawn(move || {
                assert!(shared.0.acquire_until(&never()));
                shared.1.increment();
                shared.0.release_n(1, false).unwrap();
            })
        };
        assert!(shared.0.acquire_until(&never()));
        shared.1.increment();
        shared.0.release_n(1, false).unwrap();
        other.join().unwrap();
        assert_eq!(shared.1.get(), 2);
        assert_eq!(shared.0.value(), 1);
    });
}

/// PROC-3: two sleepers and two single releases: both get a permit. A woken sleeper that
/// takes its permit must keep the word marked for the other. Bounded: 3 threads, 3
/// preemptions.
#[test]
fn process_semaphore_wakes_every_sleeper_it_owes() {
    bounded(3, || {
        let semaphore = Arc::new(RawSemaphore::new(0, false));
        let sleepers: Vec<_> = (0..2)
            .map(|_| {
                let semaphore = semaphore.clone();
                thread::spawn(move || assert!(semaphore.acquire_until(&never())))
            })
            .collect();
        semaphore.release_n(1, false).unwrap();
        semaphore.release_n(1, false).unwrap();
        for sleeper in sleepers {
            sleeper.join().unwrap();
        }
        assert_eq!(semaphore.value(), 0);
    });
}

/// PROC-3: a timed sleeper that gives up leaves the word marked, so a permit released later
/// reaches the untimed sleeper. Bounded: 4 threads, 2 preemptions.
#[test]
fn process_semaphore_timed_out_sleeper_leaves_no_one_behind() {
    bounded(2, || {
        let semaphore = Arc::new(RawSemaphore::new(0, false));
        let timed = {
            let semaphore = semaphore.clone();
            thread::spawn(move || {
                if semaphore.acquire_until(&soon()) {
                    semaphore.release_n(1, false).unwrap();
                }
            })
        };
        let untimed = {
            let semaphore = semaphore.clone();
            thread::spawn(move || assert!(semaphore.acquire_until(&never())))
        };
        let clock = spawn_clock();
        semaphore.release_n(1, false).unwrap();
        timed.join().unwrap();
        untimed.join().unwrap();
        clock.join().unwrap();
        assert_eq!(semaphore.value(), 0);
    });
}

/// PROC-3: two processes release a full bounded semaphore at once: both are refused and the
/// value is unchanged; after one acquire, exactly one of two racing releases is accepted.
#[test]
fn process_bounded_semaphore_refuses_past_its_limit() {
    exhaustive(|| {
        let semaphore = Arc::new(RawSemaphore::new(1, true));
        assert!(semaphore.try_acquire());
        let other = {
            let semaphore = semaphore.clone();
            thread::spawn(move || semaphore.release_n(1, true))
        };
        let mine = semaphore.release_n(1, true);
        let theirs = other.join().unwrap();
        assert!(mine.is_ok() != theirs.is_ok(), "{mine:?} {theirs:?}");
        assert_eq!(
            [mine, theirs].into_iter().find_map(Result::err).unwrap(),
            ReleaseError::TooManyReleases
        );
        assert_eq!(semaphore.value(), 1);
    });
}

/// PROC-4: `set` wakes a sleeping waiter, which returns true even when `clear` followed
/// before it ran (the count of sets in the word tells it a set came; a waiter that only
/// re-read the flag would sleep again for good, and loom would report the deadlock). A
/// waiter that had not yet looked when `set` ran is let finish by a second `set`.
#[test]
fn process_event_set_wakes_a_sleeper_even_if_cleared() {
    exhaustive(|| {
        let event = Arc::new(RawEvent::new());
        let waiter = {
            let event = event.clone();
            thread::spawn(move || event.wait_until(&never()))
        };
        let was_sleeping = event.has_sleepers();
        event.set();
        event.clear();
        if !was_sleeping {
            event.set();
        }
        assert!(waiter.join().unwrap());
    });
}

/// PROC-4: a timed waiter returns the flag: true if the set came first, false only on the
/// clock, never stuck. Bounded: 3 threads, 3 preemptions.
#[test]
fn process_event_timed_wait_ends_with_set_or_clock() {
    bounded(3, || {
        let event = Arc::new(RawEvent::new());
        let waiter = {
            let event = event.clone();
            thread::spawn(move || event.wait_until(&soon()))
        };
        let clock = spawn_clock();
        event.set();
        let woke = waiter.join().unwrap();
        clock.join().unwrap();
        assert!(woke || event.is_set());
    });
}

/// PROC-5: only the owning (process, thread) releases an RLock; another is refused and
/// changes nothing, and its try fails while the owner holds; recursion counts.
#[test]
fn process_rlock_is_released_only_by_its_owner() {
    exhaustive(|| {
        let rlock = Arc::new(RawRLock::new());
        assert_eq!(rlock.acquire_until(&never()), Ok(true));
        assert_eq!(rlock.acquire_until(&never()), Ok(true));
        assert_eq!(rlock.recursion_count(), 2);
        let stranger = {
            let rlock = rlock.clone();
            thread::spawn(move || {
                // NotOwner while the owner holds, NotLocked once it has let go; never Ok.
                let refused = rlock.release().unwrap_err();
                assert!(
                    refused == ReleaseError::NotOwner || refused == ReleaseError::NotLocked,
                    "{refused:?}"
                );
                assert!(!rlock.is_owned());
                // It may find the lock held or free, never someone else's to take.
                match rlock.acquire_until(&Deadline::after(Duration::ZERO)) {
                    Ok(true) => rlock.release().unwrap(),
                    Ok(false) => {}
                    Err(died) => panic!("a live owner was taken over: {died}"),
                }
            })
        };
        rlock.release().unwrap();
        assert_eq!(rlock.recursion_count(), 1);
        rlock.release().unwrap();
        stranger.join().unwrap();
        assert!(!rlock.locked());
    });
}

/// PROC-6: a process that dies holding an RLock: an untimed waiter is not left asleep on it
/// (the liveness check runs when the model's clock ticks, which the dead process's last act
/// stands for: time passing after the death), takes it over and is told so.
#[test]
fn process_rlock_dead_owner_is_taken_over() {
    exhaustive(|| {
        let rlock = Arc::new(RawRLock::new());
        let doomed = {
            let rlock = rlock.clone();
            thread::spawn(move || {
                assert_eq!(rlock.acquire_until(&never()), Ok(true));
                exit_process();
                expire_timeouts();
            })
        };
        match rlock.acquire_until(&never()) {
            // The dead process never got it: we did, first.
            Ok(true) => rlock.release().unwrap(),
            Err(_died) => {
                assert!(rlock.is_owned());
                assert_eq!(rlock.recursion_count(), 1);
                rlock.release().unwrap();
            }
            Ok(false) => unreachable!("an untimed acquire gave up"),
        }
        doomed.join().unwrap();
    });
}

/// PROC-6: an owner that lives is never taken over: a waiter that looks at its liveness
/// (a zero timeout looks at once) finds it alive, and an untimed waiter gets the lock only
/// from its release. (The model's clock is left out: once it has fired, every poll interval
/// is over at once, so a waiter behind a live holder would poll without end, which loom
/// cannot bound. The real-process test `a_holder_killed_with_sigkill_is_recovered_from`
/// polls a live owner for real.)
#[test]
fn process_rlock_live_owner_is_never_taken_over() {
    // 2 threads, but many steps per acquire: bounded at 3 preemptions (exhaustive ran past
    // 2 minutes).
    bounded(3, || {
        let rlock = Arc::new(RawRLock::new());
        let owner = {
            let rlock = rlock.clone();
            thread::spawn(move || {
                assert_eq!(rlock.acquire_until(&never()), Ok(true));
                rlock.release().unwrap();
            })
        };
        match rlock.acquire_until(&Deadline::after(Duration::ZERO)) {
            Ok(true) => rlock.release().unwrap(),
            Ok(false) => {}
            Err(died) => panic!("a live owner was taken over: {died}"),
        }
        assert_eq!(rlock.acquire_until(&never()), Ok(true));
        rlock.release().unwrap();
        owner.join().unwrap();
    });
}

/// PROC-6: a Value whose owner died mid-update: the next lock gets the half-written value
/// with `OwnerDied`, once; the lock after that is healthy.
#[test]
fn process_value_dead_owner_is_reported_once() {
    exhaustive(|| {
        let value = Arc::new(RawValue::new(0u32));
        let doomed = {
            let value = value.clone();
            thread::spawn(move || {
                let mut guard = value.lock_until(&never()).unwrap().unwrap();
                *guard = 41;
                // Killed holding it: the guard's drop (the release) never runs.
                std::mem::forget(guard);
                exit_process();
                expire_timeouts();
            })
        };
        let first = value.lock_until(&never()).unwrap();
        let died = first.is_err();
        let seen = *first.unwrap_or_else(|died| died.into_inner());
        assert_eq!(seen, if died { 41 } else { 0 });
        // (Our guard is dropped: the lock is free again, or still the dead process's.)
        doomed.join().unwrap();
        if !died {
            // We got it first; the doomed process took it next and died with it.
            let again = value.lock_until(&never()).unwrap();
            assert_eq!(*again.unwrap_err().into_inner(), 41);
        }
        assert_eq!(*value.lock_until(&never()).unwrap().unwrap(), 41);
    });
}

/// PROC-7: a peer writes garbage into the words while this process works on them: every call
/// returns (none waits past its deadline), nothing panics, and the clamped values stay in
/// range. Loom runs the scribble at every point of the other thread's calls.
#[test]
fn process_scribbled_words_never_panic() {
    exhaustive(|| {
        let lock = Arc::new(RawLock::new());
        let semaphore = Arc::new(RawSemaphore::new(1, false));
        let peer = {
            let (lock, semaphore) = (lock.clone(), semaphore.clone());
            thread::spawn(move || {
                lock.scribble(0xDEAD_BEEF);
                semaphore.scribble(u32::MAX);
            })
        };
        let now = Deadline::after(Duration::ZERO);
        let _ = lock.acquire_until(&now);
        let _ = lock.release();
        let _ = semaphore.acquire_until(&now);
        let _ = semaphore.release_n(1, false);
        peer.join().unwrap();
        assert!(semaphore.value() <= locksmith::process::MAX_PERMITS);
    });
}

/// PROC-5: two processes increment a Value under its owned lock: a second holder races on
/// the data (loom reports it), a release that publishes nothing (Relaxed) races too, and a
/// release that does not wake leaves a sleeper asleep (a deadlock).
#[test]
fn process_value_lock_excludes_and_wakes() {
    exhaustive(|| {
        let value = Arc::new(RawValue::new(0u32));
        let other = {
            let value = value.clone();
            thread::spawn(move || *value.lock_until(&never()).unwrap().unwrap() += 1)
        };
        *value.lock_until(&never()).unwrap().unwrap() += 1;
        other.join().unwrap();
        assert_eq!(*value.lock_until(&never()).unwrap().unwrap(), 2);
    });
}

// The process Queue's state machine (`RawQueue`) on heap slots in loom's cells.

use locksmith::process::raw::ModelQueue;
use locksmith::queue::GetError;

/// A capacity-one queue: the second put waits for the get, and the messages come out whole
/// and in order (a slot written and read at once is a data race loom reports).
#[test]
fn process_queue_capacity_one_put_waits_for_get() {
    bounded(2, || {
        let queue = Arc::new(ModelQueue::new(1, 2));
        let consumer = {
            let queue = queue.clone();
            thread::spawn(move || {
                let first = queue.raw().get_until(&never()).unwrap();
                let second = queue.raw().get_until(&never()).unwrap();
                (first, second)
            })
        };
        queue.raw().put_until(b"a", &never()).unwrap();
        queue.raw().put_until(b"bc", &never()).unwrap();
        let (first, second) = consumer.join().unwrap();
        assert_eq!(
            (first.as_slice(), second.as_slice()),
            (&b"a"[..], &b"bc"[..])
        );
        assert!(queue.raw().is_empty());
    });
}

/// join returns once the one message is got and marked done, and not before.
#[test]
fn process_queue_join_waits_for_task_done() {
    bounded(2, || {
        let queue = Arc::new(ModelQueue::new(1, 1));
        queue.raw().put_until(b"x", &never()).unwrap();
        let consumer = {
            let queue = queue.clone();
            thread::spawn(move || {
                queue.raw().get_until(&never()).unwrap();
                queue.raw().task_done().unwrap();
            })
        };
        queue.raw().join();
        assert!(
            queue.raw().task_done().is_err(),
            "join returned before the task_done"
        );
        consumer.join().unwrap();
    });
}

/// A consumer that dies holding a message it got: join does not wait for it (the clock's
/// tick after the death stands for join's poll interval passing).
#[test]
fn process_queue_dead_consumer_is_not_waited_for() {
    bounded(2, || {
        let queue = Arc::new(ModelQueue::new(1, 1));
        queue.raw().put_until(b"x", &never()).unwrap();
        let doomed = {
            let queue = queue.clone();
            thread::spawn(move || {
                queue.raw().get_until(&never()).unwrap();
                exit_process();
                expire_timeouts();
            })
        };
        queue.raw().join();
        doomed.join().unwrap();
        assert!(queue.raw().task_done().is_err());
    });
}

/// shutdown wakes a getter blocked on an empty queue, which then fails with ShutDown.
#[test]
fn process_queue_shutdown_wakes_a_blocked_getter() {
    bounded(2, || {
        let queue = Arc::new(ModelQueue::new(1, 1));
        let getter = {
            let queue = queue.clone();
            thread::spawn(move || queue.raw().get_until(&never()))
        };
        queue.raw().shutdown(false);
        assert_eq!(getter.join().unwrap(), Err(GetError::ShutDown));
    });
}
