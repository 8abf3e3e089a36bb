#![cfg(not(loom))]
//! CPython 3.13's `Lib/test/lock_tests.py`, ported for [`Condition`]: `ConditionTests`. Each
//! test runs for `Condition::new()` (over an RLock of its own, Python's `Condition()`) and for
//! `Condition::with_lock(Lock::new())` (Python's `Condition(Lock())`), through [`Kind`].
//!
//! Invariant IDs: COND-1 no lost notification, no spurious return; COND-2 `wait` releases the
//! lock fully (an RLock held k times: k levels) and restores exactly k, also on timeout;
//! COND-3 `wait_timeout` returns `Ok(false)` only on timeout and re-acquires either way;
//! COND-4 `wait` / `notify` without holding the lock is an `Err` and changes nothing;
//! COND-5 `notify_n(n)` wakes at most n, oldest first, never a thread that started waiting
//! after the call; `wait_for` returns the predicate's last value; several Conditions may share
//! one lock.
//!
//! Python's `cond.wait()` returns `True`; Rust's `wait` returns `Ok(())`. Python's
//! `cond.acquire(False)` is `try_acquire`, `cond.notify(n)` is `notify_n(n)`, `with cond:` is
//! the guard of the condition's lock (`cond.lock().lock()`). Where CPython sleeps "long
//! enough" for threads to block (`wait_threads_blocked`, `time.sleep`), these tests poll the
//! hidden `queued_waiters()` hooks of the condition and of its lock instead.
//!
//! Nothing of `ConditionTests` is skipped: every test has a Rust counterpart. Beyond it,
//! `waitfor_zero_timeout_is_a_wait` pins CPython's `wait_for(predicate, timeout=0)` (it
//! caught locksmith skipping the ownership check there).

// The lock-only helpers of `common` (`base`'s bodies, `TestLock`) are not used here.
#[allow(dead_code)]
mod common;

use std::collections::HashSet;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::{self, ThreadId};
use std::time::{Duration, Instant};

use common::{Bunch, assert_timeout, wait_for_queued, wait_until};
use locksmith::{Condition, ConditionLock, Lock, RLock, ReleaseError};

/// CPython's `N`: how many threads wait at once.
const N: usize = 5;

/// `test_timeout`'s timeout, as in CPython.
const TIMEOUT: Duration = Duration::from_millis(500);

/// `test_waitfor_timeout`'s timeout, as in CPython.
const WAITFOR_TIMEOUT: Duration = Duration::from_millis(100);

/// A timeout that does not expire in a passing run, kept below the `Bunch`'s 10 s bound.
const LONG: Duration = Duration::from_secs(5);

// ---------------------------------------------------------------------------------------
// The lock under the condition.

/// The two locks a condition is tested over: what the tests need beyond [`ConditionLock`].
trait Kind: ConditionLock + Send + Sync + 'static {
    /// For messages.
    const NAME: &'static str;
    /// `Condition()` for an RLock, `Condition(Lock())` for a Lock.
    fn condition() -> Condition<Self>
    where
        Self: Sized;
    /// Threads parked on the lock itself (blocked re-acquiring it after a wake-up).
    fn lock_waiters(&self) -> usize;
    /// The calling thread's hold: an RLock's recursion count; 1 if a Lock is locked, else 0.
    fn levels(&self) -> usize;
}

impl Kind for RLock {
    const NAME: &'static str = "Condition()";
    fn condition() -> Condition<RLock> {
        Condition::new()
    }
    fn lock_waiters(&self) -> usize {
        self.queued_waiters()
    }
    fn levels(&self) -> usize {
        self.recursion_count()
    }
}

impl Kind for Lock {
    const NAME: &'static str = "Condition(Lock())";
    fn condition() -> Condition<Lock> {
        Condition::with_lock(Lock::new())
    }
    fn lock_waiters(&self) -> usize {
        self.queued_waiters()
    }
    fn levels(&self) -> usize {
        usize::from(self.locked())
    }
}

/// Runs a test body for both kinds of condition.
macro_rules! for_both_kinds {
    ($body:ident) => {
        $body::<RLock>();
        $body::<Lock>();
    };
}

// ---------------------------------------------------------------------------------------
// test_acquire

/// Ports `test_acquire`: `Condition()` is over an RLock (it re-enters), and a condition's
/// acquire and release are its lock's; plus several Conditions sharing one lock (COND-5) and
/// a refused release changing nothing (COND-4).
#[test]
fn test_acquire() {
    // By default we have an RLock: the condition can be acquired several times.
    let cond = Condition::new();
    cond.acquire();
    cond.acquire();
    assert_eq!(cond.lock().recursion_count(), 2);
    assert_eq!(cond.release(), Ok(()));
    assert_eq!(cond.release(), Ok(()));
    assert_eq!(cond.release(), Err(ReleaseError::NotLocked));
    assert!(!cond.lock().locked());

    // Over a Lock (a shared handle, so the test can reach the lock as Python does).
    let lock = Arc::new(Lock::new());
    let cond = Condition::with_lock(Arc::clone(&lock));
    cond.acquire();
    assert!(!lock.try_acquire());
    assert_eq!(cond.release(), Ok(()));
    assert!(lock.try_acquire());
    assert!(!cond.try_acquire());
    assert_eq!(lock.release(), Ok(()));
    {
        // `with cond:`
        let _held = cond.lock().lock();
        assert!(!lock.try_acquire());
    }
    assert!(!lock.locked());

    // Several conditions may share one lock, as queue.Queue's do: they hold it together.
    let other = Condition::with_lock(Arc::clone(&lock));
    assert!(cond.try_acquire());
    assert!(!other.try_acquire());
    assert_eq!(other.notify(), Ok(()), "the shared lock is held");
    assert_eq!(
        other.release(),
        Ok(()),
        "release through the other condition"
    );
    assert!(!lock.locked());
    assert_eq!(cond.release(), Err(ReleaseError::NotLocked));

    // The same over a shared RLock, borrowed.
    let rlock = RLock::new();
    let (first, second) = (Condition::with_lock(&rlock), Condition::with_lock(&rlock));
    first.acquire();
    second.acquire();
    assert_eq!(rlock.recursion_count(), 2);
    assert_eq!(first.release(), Ok(()));
    assert_eq!(second.release(), Ok(()));
    assert!(!rlock.locked());
}

// ---------------------------------------------------------------------------------------
// test_unacquired_wait, test_unacquired_notify

/// `test_unacquired_wait`'s body: every wait by a thread that does not hold the lock is
/// `Err(NotLocked)` and leaves the lock free.
fn unacquired_wait<L: Kind>() {
    let cond = L::condition();
    let name = L::NAME;
    assert_eq!(cond.wait(), Err(ReleaseError::NotLocked), "{name}");
    assert_eq!(
        cond.wait_timeout(Duration::ZERO),
        Err(ReleaseError::NotLocked),
        "{name}"
    );
    assert_eq!(
        cond.wait_timeout(LONG),
        Err(ReleaseError::NotLocked),
        "{name}"
    );
    assert_eq!(
        cond.wait_for(|| false, None),
        Err(ReleaseError::NotLocked),
        "{name}"
    );
    assert_eq!(
        cond.wait_for(|| false, Some(LONG)),
        Err(ReleaseError::NotLocked),
        "{name}"
    );
    // Nothing changed: the lock is free and nobody is queued.
    assert!(!cond.lock().is_held(), "{name}");
    assert_eq!(cond.queued_waiters(), 0, "{name}");
    assert!(
        cond.try_acquire(),
        "{name}: a refused wait left the lock taken"
    );
    assert_eq!(cond.release(), Ok(()));
}

/// Ports `test_unacquired_wait`, for both kinds, plus an RLock owned by another thread
/// (`Err(NotOwner)`, the owner keeps it): COND-4.
#[test]
fn test_unacquired_wait() {
    for_both_kinds!(unacquired_wait);

    let cond = Arc::new(Condition::new());
    let c = Arc::clone(&cond);
    // The thread owns the RLock twice and stays alive, owning it, until do_finish.
    let owner = Bunch::start_held(1, move || {
        c.acquire();
        c.acquire();
    });
    owner.wait_for_finished();
    assert_eq!(cond.wait(), Err(ReleaseError::NotOwner));
    assert_eq!(cond.wait_timeout(LONG), Err(ReleaseError::NotOwner));
    assert_eq!(
        cond.wait_for(|| false, Some(LONG)),
        Err(ReleaseError::NotOwner)
    );
    assert!(cond.lock().locked(), "the owner lost the lock");
    assert!(!cond.lock().is_owned());
    assert!(!cond.try_acquire());
    assert_eq!(cond.queued_waiters(), 0);
    owner.do_finish();
    owner.join();
}

/// `test_unacquired_notify`'s body: every notify by a thread when nobody holds the lock is
/// `Err(NotLocked)`, and wakes nobody: a queued waiter stays queued.
fn unacquired_notify<L: Kind>() {
    let cond = Arc::new(L::condition());
    let name = L::NAME;
    assert_eq!(cond.notify(), Err(ReleaseError::NotLocked), "{name}");
    assert_eq!(cond.notify_n(0), Err(ReleaseError::NotLocked), "{name}");
    assert_eq!(cond.notify_n(3), Err(ReleaseError::NotLocked), "{name}");
    assert_eq!(cond.notify_all(), Err(ReleaseError::NotLocked), "{name}");
    assert!(!cond.lock().is_held(), "{name}");

    // A waiter parks (and so releases the lock); refused notifies do not wake it.
    let c = Arc::clone(&cond);
    let waiter = Bunch::start(1, move || {
        c.acquire();
        let waited = c.wait();
        let levels = c.lock().levels();
        c.release().unwrap();
        (waited, levels)
    });
    // The waiter links into the queue while it holds the lock and releases it just after,
    // so being queued is not enough: wait for the release too, or a notify in between sees
    // the lock held by the waiter (`NotOwner`). Miri's scheduler found that window.
    wait_for_queued(|| cond.queued_waiters(), 1);
    wait_until("the waiter to release the lock", || {
        !cond.lock().is_locked()
    });
    assert_eq!(cond.notify(), Err(ReleaseError::NotLocked), "{name}");
    assert_eq!(cond.notify_n(1), Err(ReleaseError::NotLocked), "{name}");
    assert_eq!(cond.notify_all(), Err(ReleaseError::NotLocked), "{name}");
    assert_eq!(
        cond.queued_waiters(),
        1,
        "{name}: a refused notify woke the waiter"
    );
    assert_eq!(
        waiter.finished(),
        0,
        "{name}: a refused notify woke the waiter"
    );
    cond.acquire();
    assert_eq!(cond.notify(), Ok(()), "{name}");
    assert_eq!(cond.release(), Ok(()));
    assert_eq!(waiter.join(), [(Ok(()), 1)], "{name}");
}

/// Ports `test_unacquired_notify`, for both kinds, plus a lock held by another thread: an
/// RLock refuses (`Err(NotOwner)`), a Lock has no owner and lets any thread notify, as
/// Python's `Condition(Lock())` does: COND-4.
#[test]
fn test_unacquired_notify() {
    for_both_kinds!(unacquired_notify);

    let cond = Arc::new(Condition::new());
    let c = Arc::clone(&cond);
    let owner = Bunch::start_held(1, move || c.acquire());
    owner.wait_for_finished();
    assert_eq!(cond.notify(), Err(ReleaseError::NotOwner));
    assert_eq!(cond.notify_n(2), Err(ReleaseError::NotOwner));
    assert_eq!(cond.notify_all(), Err(ReleaseError::NotOwner));
    assert!(cond.lock().locked(), "the owner lost the lock");
    assert!(!cond.try_acquire());
    owner.do_finish();
    owner.join();

    let cond = Arc::new(Condition::with_lock(Lock::new()));
    let c = Arc::clone(&cond);
    let holder = Bunch::start_held(1, move || c.acquire());
    holder.wait_for_finished();
    assert_eq!(cond.notify(), Ok(()));
    assert_eq!(cond.notify_n(2), Ok(()));
    assert_eq!(cond.notify_all(), Ok(()));
    assert!(cond.lock().locked());
    holder.do_finish();
    holder.join();
    assert_eq!(cond.release(), Ok(()), "any thread may release a Lock");
}

// ---------------------------------------------------------------------------------------
// test_notify

/// One entry of CPython's `results1` / `results2`: what a wait returned, the phase it
/// returned in, and the thread.
type WaitResult = (Result<(), ReleaseError>, usize, ThreadId);

/// What the threads of `_check_notify` share: CPython's `ready`, `results1`, `results2` and
/// `phase_num`. Every entry also names its thread, to check which waiters a notify woke.
#[derive(Default)]
struct Notes {
    phase: AtomicUsize,
    ready: Mutex<Vec<(ThreadId, usize)>>,
    results1: Mutex<Vec<WaitResult>>,
    results2: Mutex<Vec<WaitResult>>,
}

impl Notes {
    fn phase(&self) -> usize {
        self.phase.load(Ordering::SeqCst)
    }

    fn ready_len(&self) -> usize {
        self.ready.lock().unwrap().len()
    }

    fn results1(&self) -> Vec<(Result<(), ReleaseError>, usize)> {
        let results = self.results1.lock().unwrap();
        results.iter().map(|&(r, phase, _)| (r, phase)).collect()
    }

    fn results2(&self) -> Vec<(Result<(), ReleaseError>, usize)> {
        let results = self.results2.lock().unwrap();
        results.iter().map(|&(r, phase, _)| (r, phase)).collect()
    }

    fn results_len(&self) -> usize {
        self.results1.lock().unwrap().len() + self.results2.lock().unwrap().len()
    }
}

/// `count` times `(Ok(()), phase)`, CPython's `[(True, phase)] * count`.
fn woken(count: usize, phase: usize) -> Vec<(Result<(), ReleaseError>, usize)> {
    vec![(Ok(()), phase); count]
}

/// Waits until `expected` threads are parked on the condition and `blocked` on its lock.
#[track_caller]
fn wait_for_blocked<L: Kind>(cond: &Condition<L>, queued: usize, blocked: usize) {
    wait_until(
        &format!("{queued} threads queued on the condition, {blocked} on its lock"),
        || cond.queued_waiters() == queued && cond.lock().lock_waiters() == blocked,
    );
}

/// CPython's `_check_notify`: `N` threads wait twice; the test wakes 3 with `notify_n(3)`,
/// then 5 with `notify_n(5)` (the 2 still in their first wait and the 3 in their second),
/// then all with `notify_all`, and checks in which phase each wait returned. Where CPython
/// sleeps until the woken threads block on the lock (`wait_threads_blocked`), this polls the
/// lock's queue; beyond CPython, it checks that each notify took exactly the oldest waiters
/// off the condition's queue at once.
fn check_notify<L: Kind>(cond: &Arc<Condition<L>>) {
    let name = L::NAME;
    let notes = Arc::new(Notes::default());
    let (c, n) = (Arc::clone(cond), Arc::clone(&notes));
    let bunch = Bunch::start(N, move || {
        let me = thread::current().id();
        c.acquire();
        n.ready.lock().unwrap().push((me, n.phase()));
        let result = c.wait();
        c.release().unwrap();
        n.results1.lock().unwrap().push((result, n.phase(), me));

        c.acquire();
        n.ready.lock().unwrap().push((me, n.phase()));
        let result = c.wait();
        c.release().unwrap();
        n.results2.lock().unwrap().push((result, n.phase(), me));
    });

    // First wait, to ensure all workers settle into cond.wait() before we continue. Each
    // thread writes `ready` and links into the queue under the lock: `ready` is the order
    // in which they queued.
    wait_until("every worker ready", || notes.ready_len() >= N);
    wait_for_blocked(cond, N, 0);
    let queued_order: Vec<ThreadId> = notes.ready.lock().unwrap().drain(..).map(|r| r.0).collect();
    assert_eq!(notes.results1(), [], "{name}");

    // Notify 3 threads at first.
    let count1 = 3;
    cond.acquire();
    assert_eq!(cond.notify_n(count1), Ok(()), "{name}");
    assert_eq!(
        cond.queued_waiters(),
        N - count1,
        "{name}: notify_n({count1}) did not take exactly {count1} waiters"
    );
    wait_for_blocked(cond, N - count1, count1);

    // Phase 1.
    notes.phase.store(1, Ordering::SeqCst);
    assert_eq!(cond.release(), Ok(()));
    wait_until("phase 1 results", || notes.results_len() >= count1);
    assert_eq!(notes.results1(), woken(count1, 1), "{name}");
    assert_eq!(notes.results2(), [], "{name}");
    // COND-5: the oldest waiters first.
    let first_woken: HashSet<ThreadId> =
        notes.results1.lock().unwrap().iter().map(|r| r.2).collect();
    let oldest: HashSet<ThreadId> = queued_order[..count1].iter().copied().collect();
    assert_eq!(
        first_woken, oldest,
        "{name}: notify_n did not wake the oldest waiters"
    );

    // Wait until awoken workers are blocked on cond.wait().
    wait_until("woken workers ready again", || notes.ready_len() >= count1);
    wait_for_blocked(cond, N, 0);

    // Notify 5 threads: they might be in their first or second wait.
    cond.acquire();
    assert_eq!(cond.notify_n(5), Ok(()), "{name}");
    assert_eq!(cond.queued_waiters(), 0, "{name}");
    wait_for_blocked(cond, 0, N);

    // Phase 2.
    notes.phase.store(2, Ordering::SeqCst);
    assert_eq!(cond.release(), Ok(()));
    wait_until("phase 2 results", || notes.results_len() >= N + count1);
    let count2 = N - count1;
    let mut expected1 = woken(count1, 1);
    expected1.extend(woken(count2, 2));
    assert_eq!(notes.results1(), expected1, "{name}");
    assert_eq!(notes.results2(), woken(count1, 2), "{name}");

    // Make sure all workers settle into cond.wait(): the `count2` still running are in
    // their second wait, the others are done.
    wait_until("every worker ready again", || notes.ready_len() >= N);
    wait_for_blocked(cond, count2, 0);

    // Notify all threads: they are all in their second wait.
    cond.acquire();
    assert_eq!(cond.notify_all(), Ok(()), "{name}");
    assert_eq!(cond.queued_waiters(), 0, "{name}");
    wait_for_blocked(cond, 0, count2);

    // Phase 3.
    notes.phase.store(3, Ordering::SeqCst);
    assert_eq!(cond.release(), Ok(()));
    wait_until("phase 3 results", || notes.results_len() >= 2 * N);
    assert_eq!(notes.results1(), expected1, "{name}");
    let mut expected2 = woken(count1, 2);
    expected2.extend(woken(count2, 3));
    assert_eq!(notes.results2(), expected2, "{name}");

    bunch.join();
    assert_eq!(cond.queued_waiters(), 0, "{name}");
    assert!(!cond.lock().is_held(), "{name}: the lock is still held");
}

/// `test_notify`'s body: `_check_notify` twice on one condition.
fn notify<L: Kind>() {
    let cond = Arc::new(L::condition());
    check_notify(&cond);
    // A second time, to check internal state is still ok.
    check_notify(&cond);
}

/// Ports `test_notify`, for both kinds: COND-1 (each wait returns exactly in the phase of
/// the notify that woke it, never before), COND-2 (woken waiters block on the lock until
/// the notifier releases it), COND-5 (`notify_n(3)` takes exactly the 3 oldest waiters,
/// `notify_n(5)` waiters in their first or second wait, `notify_all` the rest).
#[test]
fn test_notify() {
    for_both_kinds!(notify);
}

// ---------------------------------------------------------------------------------------
// test_timeout

/// `test_timeout`'s body: `N` threads each `wait_timeout(TIMEOUT)` with nobody to notify.
fn timeout<L: Kind>() {
    let name = L::NAME;
    let cond = Arc::new(L::condition());
    let c = Arc::clone(&cond);
    let results = Bunch::start(N, move || {
        c.acquire();
        let t1 = Instant::now();
        let result = c.wait_timeout(TIMEOUT);
        let dt = t1.elapsed();
        // COND-2, COND-3: re-acquired, as it was, although the wait timed out.
        let held = (c.lock().is_held(), c.lock().levels());
        c.release().unwrap();
        (dt, result, held)
    })
    .join();
    assert_eq!(results.len(), N);
    for (dt, result, held) in results {
        assert_timeout(dt, TIMEOUT);
        // No spurious wake-ups: nobody notifies, so every wait times out.
        assert_eq!(result, Ok(false), "{name}");
        assert_eq!(held, (true, 1), "{name}: not re-acquired after the timeout");
    }
    assert_eq!(
        cond.queued_waiters(),
        0,
        "{name}: a timed-out waiter stayed queued"
    );
    assert!(!cond.lock().is_held(), "{name}");
}

/// Ports `test_timeout`, for both kinds: COND-1 (no spurious return), COND-2, COND-3 (every
/// wait returns `Ok(false)` after about its timeout, holding the lock again).
#[test]
fn test_timeout() {
    for_both_kinds!(timeout);
}

// ---------------------------------------------------------------------------------------
// test_waitfor, test_waitfor_timeout

/// `test_waitfor`'s body, with `wait_for`'s `timeout`: a thread waits for `state == 4`
/// while the test raises `state` 4 times, each time notifying once the thread is parked
/// (where CPython sleeps 10 ms). The predicate runs once at the start and once per
/// notify: 5 times.
fn waitfor<L: Kind>(timeout: Option<Duration>) {
    let name = L::NAME;
    let cond = Arc::new(L::condition());
    // Written only with the condition's lock held.
    let state = Arc::new(AtomicUsize::new(0));
    let (c, s) = (Arc::clone(&cond), Arc::clone(&state));
    let bunch = Bunch::start(1, move || {
        c.acquire();
        let mut checks = 0;
        let result = c.wait_for(
            || {
                checks += 1;
                s.load(Ordering::SeqCst) == 4
            },
            timeout,
        );
        let seen = s.load(Ordering::SeqCst);
        c.release().unwrap();
        (result, seen, checks)
    });
    for _ in 0..4 {
        wait_for_queued(|| cond.queued_waiters(), 1);
        cond.acquire();
        state.fetch_add(1, Ordering::SeqCst);
        assert_eq!(cond.notify(), Ok(()), "{name}");
        assert_eq!(cond.release(), Ok(()));
    }
    assert_eq!(
        bunch.join(),
        [(Ok(true), 4, 5)],
        "{name}, timeout {timeout:?}: (result, state, predicate calls)"
    );
}

/// Ports `test_waitfor`, for both kinds, without a timeout and with one that does not
/// expire: `wait_for` returns the predicate's last value (true), rechecked after every
/// notify and only then (COND-1: no lost notification, no spurious return).
#[test]
fn test_waitfor() {
    waitfor::<RLock>(None);
    waitfor::<Lock>(None);
    waitfor::<RLock>(Some(LONG));
    waitfor::<Lock>(Some(LONG));
}

/// `test_waitfor_timeout`'s body: the thread waits at most `WAITFOR_TIMEOUT` for
/// `state == 4`; the test raises `state` only 3 times (each time once the thread is parked,
/// unless it already gave up), so `state == 4` is never reached.
fn waitfor_timeout<L: Kind>() {
    let name = L::NAME;
    let cond = Arc::new(L::condition());
    let state = Arc::new(AtomicUsize::new(0));
    let (c, s) = (Arc::clone(&cond), Arc::clone(&state));
    let bunch = Bunch::start(1, move || {
        c.acquire();
        let t1 = Instant::now();
        let result = c.wait_for(|| s.load(Ordering::SeqCst) == 4, Some(WAITFOR_TIMEOUT));
        let dt = t1.elapsed();
        let held = (c.lock().is_held(), c.lock().levels());
        c.release().unwrap();
        (result, dt, held)
    });
    // Only increment 3 times, so state == 4 is never reached.
    for _ in 0..3 {
        wait_until("the waiter parked, or done", || {
            cond.queued_waiters() == 1 || bunch.finished() == 1
        });
        cond.acquire();
        state.fetch_add(1, Ordering::SeqCst);
        assert_eq!(cond.notify(), Ok(()), "{name}");
        assert_eq!(cond.release(), Ok(()));
    }
    let [(result, dt, held)] = bunch.join()[..] else {
        unreachable!("one thread")
    };
    assert_eq!(result, Ok(false), "{name}: the predicate's last value");
    assert_timeout(dt, WAITFOR_TIMEOUT);
    assert_eq!(held, (true, 1), "{name}: not re-acquired after the timeout");
    assert_eq!(cond.queued_waiters(), 0, "{name}");
}

/// Ports `test_waitfor_timeout`, for both kinds: `wait_for` returns the predicate's last
/// value (false) after about its timeout, holding the lock again (COND-2, COND-3).
#[test]
fn test_waitfor_timeout() {
    for_both_kinds!(waitfor_timeout);
}

// ---------------------------------------------------------------------------------------
// Beyond ConditionTests: CPython's `wait_for` with a zero timeout.

/// CPython's `wait_for(predicate, timeout=0)` with a false predicate still calls
/// `wait(0)`: without the lock it raises `RuntimeError` (COND-4), with it it returns the
/// predicate's last value, checked again after that wait (twice in all). Checked for both
/// kinds.
fn waitfor_zero_timeout<L: Kind>() {
    let name = L::NAME;
    let cond = L::condition();
    let mut checks = 0;
    let unheld = cond.wait_for(
        || {
            checks += 1;
            false
        },
        Some(Duration::ZERO),
    );
    assert_eq!(
        (unheld, checks),
        (Err(ReleaseError::NotLocked), 1),
        "{name}: wait_for(false, ZERO) without the lock"
    );
    cond.acquire();
    let mut checks = 0;
    let held = cond.wait_for(
        || {
            checks += 1;
            false
        },
        Some(Duration::ZERO),
    );
    assert_eq!(
        (held, checks),
        (Ok(false), 2),
        "{name}: wait_for(false, ZERO) holding the lock"
    );
    assert_eq!(cond.lock().levels(), 1, "{name}");
    assert_eq!(cond.release(), Ok(()));
}

/// CPython's `wait_for(false, timeout=0)`: `Err` without the lock (COND-4), and the
/// predicate's last value after one `wait(0)` with it.
#[test]
fn waitfor_zero_timeout_is_a_wait() {
    for_both_kinds!(waitfor_zero_timeout);
}
