//! Demonstrations: loom finding the bugs from the Python notes, and proving their fixes.
//!
//! Each demonstration passes when loom does what the notes predict: it finds the lost update
//! in the unlocked balance, it finds no interleaving that loses one with a `Lock`, it reports
//! the deadlock of a `Lock` acquired twice by one thread, and the lost wake-up of an event
//! whose waiter checks its flag outside the wait core's protocol.
//!
//! A loom deadlock aborts the model (and with it the test binary), so each demonstration that
//! expects one runs its model in a child process: the same test binary, asked for one
//! `#[ignore]`d test by name, with `LOCKSMITH_DEMO_CHILD` set. The parent asserts that the
//! child failed and that loom's report says "deadlock".
//!
//! Run: `RUSTFLAGS="--cfg loom" cargo test --release --test loom_demonstrations -- --nocapture`
//! to see what each one found.
#![cfg(loom)]

mod common;

use common::{Protected, exhaustive};
use locksmith::__internals::{Deadline, Token, WaitQueue};
use locksmith::{Lock, RLock};
use loom::sync::Arc;
use loom::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use loom::thread;
use std::collections::BTreeSet;
use std::process::Command;
use std::sync::Mutex as StdMutex;

// ---------------------------------------------------------------------------------------
// The balance race: `balance = balance + n; balance = balance - n` from two threads.
// ---------------------------------------------------------------------------------------

/// The notes' `change_it(n)`: a read and a write, then another read and write. Each access
/// is atomic on its own, as each bytecode is under Python's GIL; the pair is not.
fn change_it(balance: &AtomicI64, n: i64) {
    // SeqCst: Python's interpreter makes every single read and write of `balance` sequentially
    // consistent; the lost update below comes from the interleaving alone, not from weak
    // memory.
    let read = balance.load(Ordering::SeqCst);
    balance.store(read + n, Ordering::SeqCst); // SeqCst: as above.
    let read = balance.load(Ordering::SeqCst); // SeqCst: as above.
    balance.store(read - n, Ordering::SeqCst); // SeqCst: as above.
}

/// Runs the two threads of the notes (n = 5 and n = 8) under loom, each through `call`, and
/// returns every final balance loom saw and how many interleavings it explored.
fn explore_balances(
    call: impl Fn(&(AtomicI64, Lock), i64) + Sync + Send + Copy + 'static,
) -> (BTreeSet<i64>, usize) {
    // Outside the model: collected across loom's executions (std's Mutex, which loom does not
    // schedule).
    let seen = std::sync::Arc::new(StdMutex::new((BTreeSet::new(), 0usize)));
    let record = seen.clone();
    exhaustive(move || {
        let shared = Arc::new((AtomicI64::new(0), Lock::new()));
        let threads: Vec<_> = [5, 8]
            .into_iter()
            .map(|n| {
                let shared = shared.clone();
                thread::spawn(move || call(&shared, n))
            })
            .collect();
        for thread in threads {
            thread.join().unwrap();
        }
        // SeqCst: as in `change_it`; both threads have been joined anyway.
        let balance = shared.0.load(Ordering::SeqCst);
        let mut record = record.lock().unwrap();
        record.0.insert(balance);
        record.1 += 1;
    });
    let seen = seen.lock().unwrap();
    (seen.0.clone(), seen.1)
}

/// Without a lock, loom finds interleavings where one thread's write overwrites the other's:
/// the balance ends at 5, -5, 8 or -8 instead of 0.
#[test]
fn balance_race_without_a_lock_loses_updates() {
    let (balances, executions) = explore_balances(|shared, n| change_it(&shared.0, n));
    println!("without a lock: {executions} interleavings, final balances {balances:?}");
    assert!(
        balances.contains(&0),
        "some interleavings do keep the balance"
    );
    assert!(
        balances.iter().any(|&balance| balance != 0),
        "loom found no lost update: {balances:?}"
    );
}

/// With every `change_it` inside the `Lock`, no interleaving loses an update.
#[test]
fn balance_race_with_a_lock_is_gone() {
    let (balances, executions) = explore_balances(|shared, n| {
        let _held = shared.1.lock();
        change_it(&shared.0, n);
    });
    println!("with a Lock: {executions} interleavings, final balances {balances:?}");
    assert!(executions > 1, "loom explored only one interleaving");
    assert_eq!(balances, BTreeSet::from([0]));
}

// ---------------------------------------------------------------------------------------
// Children: models that end in a deadlock, run in a child process by the tests below.
// ---------------------------------------------------------------------------------------

const CHILD_ENV: &str = "LOCKSMITH_DEMO_CHILD";

/// Runs the `#[ignore]`d test `name` of this binary in a child process and returns whether it
/// succeeded and what it printed on stderr.
fn run_child(name: &str) -> (bool, String) {
    let output = Command::new(std::env::current_exe().expect("the test binary's path"))
        .args([
            name,
            "--exact",
            "--ignored",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(CHILD_ENV, name)
        .output()
        .expect("the test binary runs as a child");
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    (output.status.success(), stderr)
}

/// True in the child process that was asked to run `name`; a child test does nothing
/// otherwise (also when someone runs the ignored tests directly).
fn is_child(name: &str) -> bool {
    std::env::var(CHILD_ENV).as_deref() == Ok(name)
}

/// Asserts that the child model `name` ended in loom's deadlock report.
fn assert_child_deadlocks(name: &str) {
    let (succeeded, stderr) = run_child(name);
    let report = stderr
        .lines()
        .find(|line| line.contains("deadlock"))
        .unwrap_or("");
    println!("{name}: {report}");
    assert!(
        !succeeded,
        "{name} finished; it should deadlock. stderr:\n{stderr}"
    );
    assert!(
        stderr.contains("deadlock; threads"),
        "{name} failed, but not with loom's deadlock report:\n{stderr}"
    );
}

// ---------------------------------------------------------------------------------------
// f calls g and h, each synchronised: a Lock deadlocks, an RLock does not.
// ---------------------------------------------------------------------------------------

/// The notes' example with a plain `Lock`: `f` holds the lock and calls `g`, which acquires
/// it again. A `Lock` has no owner, so the second acquire waits for a release that only the
/// waiting thread could make.
#[test]
#[ignore = "run in a child process by lock_acquired_twice_by_one_thread_deadlocks"]
fn child_lock_fgh() {
    if !is_child("child_lock_fgh") {
        return;
    }
    exhaustive(|| {
        let lock = Lock::new();
        let g = |lock: &Lock| drop(lock.lock());
        let h = |lock: &Lock| drop(lock.lock());
        let f = |lock: &Lock| {
            let _held = lock.lock();
            g(lock);
            h(lock);
        };
        f(&lock);
    });
}

/// loom reports the deadlock of `f` calling `g` over one `Lock`.
#[test]
fn lock_acquired_twice_by_one_thread_deadlocks() {
    assert_child_deadlocks("child_lock_fgh");
}

/// The same `f`, `g` and `h` over an `RLock`, with a second thread calling `g` at the same
/// time: the owner re-enters, the other thread waits its turn, and the data they share is
/// never touched by both at once (loom checks every access to it).
#[test]
fn rlock_lets_f_call_g_and_h() {
    exhaustive(|| {
        let shared = Arc::new((RLock::new(), Protected::new()));
        let g = |shared: &(RLock, Protected)| {
            let _held = shared.0.lock();
            shared.1.increment();
        };
        let h = g;
        let f = move |shared: &(RLock, Protected)| {
            let _held = shared.0.lock();
            assert_eq!(shared.0.recursion_count(), 1);
            let before = shared.1.get();
            g(shared);
            h(shared);
            // Nobody else ran g between our calls: we held the RLock throughout.
            assert_eq!(shared.1.get(), before + 2);
        };
        let other = {
            let shared = shared.clone();
            thread::spawn(move || g(&shared))
        };
        f(&shared);
        other.join().unwrap();
        assert_eq!(shared.1.get(), 3);
        assert!(!shared.0.locked());
    });
}

/// With a plain `Lock`, the notes' fix: `f` takes the lock once and calls "raw" copies `_g`
/// and `_h` that assume it is held. Also correct, at the price of two copies of each body.
#[test]
fn lock_with_raw_copies_of_g_and_h_works() {
    exhaustive(|| {
        let shared = Arc::new((Lock::new(), Protected::new()));
        let raw_g = |shared: &(Lock, Protected)| shared.1.increment();
        let raw_h = raw_g;
        let g = move |shared: &(Lock, Protected)| {
            let _held = shared.0.lock();
            raw_g(shared);
        };
        let f = move |shared: &(Lock, Protected)| {
            let _held = shared.0.lock();
            raw_g(shared);
            raw_h(shared);
        };
        let other = {
            let shared = shared.clone();
            thread::spawn(move || g(&shared))
        };
        f(&shared);
        other.join().unwrap();
        assert_eq!(shared.1.get(), 3);
    });
}

// ---------------------------------------------------------------------------------------
// An event waiter that checks its flag outside the wait core's protocol.
// ---------------------------------------------------------------------------------------

/// A hand-rolled event on the wait core. `careful` chooses how the waiter decides to park:
/// by re-checking the flag inside `should_park`, under the queue's list lock (the core's
/// protocol, as `Event` does), or by checking it once beforehand and then parking regardless.
struct HandRolledEvent {
    flag: AtomicBool,
    waiters: WaitQueue,
    careful: bool,
}

impl HandRolledEvent {
    fn new(careful: bool) -> Self {
        HandRolledEvent {
            flag: AtomicBool::new(false),
            waiters: WaitQueue::new(),
            careful,
        }
    }

    fn set(&self) {
        // Release: a waiter that sees the flag sees what the setter wrote before setting.
        self.flag.store(true, Ordering::Release);
        // `wake` takes the list lock, so it runs wholly before or after a careful waiter's
        // `should_park`: either that check sees the flag, or this call finds the waiter queued.
        self.waiters.wake(usize::MAX, |_| Token::new(0));
    }

    fn wait(&self) {
        // Acquire: pairs with `set`'s Release store.
        if self.flag.load(Ordering::Acquire) {
            return;
        }
        // The gap: `set` may run here, find nobody queued, and wake nobody.
        let careful = self.careful;
        let flag = &self.flag;
        // Acquire: as above. Under the list lock, this check cannot fall into the gap.
        let should_park = || !careful || !flag.load(Ordering::Acquire);
        self.waiters.wait(&Deadline::never(), should_park, |_| {});
    }
}

/// Runs one waiter and one setter over a hand-rolled event.
fn event_model(careful: bool) {
    exhaustive(move || {
        let event = Arc::new(HandRolledEvent::new(careful));
        let waiter = {
            let event = event.clone();
            thread::spawn(move || event.wait())
        };
        event.set();
        waiter.join().unwrap();
    });
}

/// The careless waiter: checks the flag, then parks without checking again.
#[test]
#[ignore = "run in a child process by event_waiter_outside_the_protocol_loses_its_wakeup"]
fn child_careless_event() {
    if !is_child("child_careless_event") {
        return;
    }
    event_model(false);
}

/// loom finds the schedule where `set` runs between the careless waiter's check and its
/// park: the wake-up goes to nobody and the waiter sleeps forever.
#[test]
fn event_waiter_outside_the_protocol_loses_its_wakeup() {
    assert_child_deadlocks("child_careless_event");
}

/// The same event with the check inside `should_park`: every schedule ends.
#[test]
fn event_waiter_inside_the_protocol_always_wakes() {
    event_model(true);
}
