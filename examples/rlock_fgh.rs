//! The notes' f/g/h example: `f` calls `g` and `h`, and all three must run under the same lock.
//!
//! The Python it mirrors:
//!
//! ```python
//! lock = threading.Lock()
//! def f():
//!     with lock:
//!         _g(); _h()        # g() here would block forever: a Lock has no owner to re-enter
//! def g():
//!     with lock: _g()
//! def _g(): ...             # the "raw" copies, which assume the lock is held
//!
//! rlock = threading.RLock()
//! def f():
//!     with rlock:
//!         g(); h()          # the owner re-enters; no raw copies needed
//! def g():
//!     with rlock: ...
//! ```
//!
//! Run with `cargo run --example rlock_fgh`.

use locksmith::{Lock, RLock};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::thread;
use std::time::Duration;

/// State shared by the three functions: a count of calls to g and h.
struct Account<L> {
    lock: L,
    calls: AtomicUsize,
}

impl Account<Lock> {
    /// The raw body of g: the caller holds the lock.
    fn raw_g(&self) {
        // Relaxed: the lock orders every access to the count.
        self.calls.fetch_add(1, Ordering::Relaxed);
    }

    /// The raw body of h: the caller holds the lock.
    fn raw_h(&self) {
        // Relaxed: as in raw_g.
        self.calls.fetch_add(1, Ordering::Relaxed);
    }

    fn g(&self) {
        let _held = self.lock.lock();
        self.raw_g();
    }

    fn f(&self) {
        let _held = self.lock.lock();
        // Calling self.g() here would wait forever for a release only this thread can make.
        // Show it without hanging: a timed acquire gives up.
        let reentered = self.lock.acquire_timeout(Duration::from_millis(50));
        println!("  Lock: f holds the lock; g's acquire inside f succeeded: {reentered}");
        assert!(
            !reentered,
            "a Lock has no owner, so it cannot be re-entered"
        );
        self.raw_g();
        self.raw_h();
    }
}

impl Account<RLock> {
    fn g(&self) {
        let _held = self.lock.lock();
        // Relaxed: the RLock orders every access to the count.
        self.calls.fetch_add(1, Ordering::Relaxed);
    }

    fn h(&self) {
        let _held = self.lock.lock();
        println!(
            "  RLock: h runs at recursion depth {}",
            self.lock.recursion_count()
        );
        // Relaxed: as in g.
        self.calls.fetch_add(1, Ordering::Relaxed);
    }

    fn f(&self) {
        let _held = self.lock.lock();
        self.g();
        self.h();
    }
}

fn main() {
    println!("with a Lock, f calls raw copies of g and h:");
    let account = Account {
        lock: Lock::new(),
        calls: AtomicUsize::new(0),
    };
    thread::scope(|scope| {
        scope.spawn(|| account.f());
        scope.spawn(|| account.g());
    });
    // Relaxed: the threads have been joined.
    let calls = account.calls.load(Ordering::Relaxed);
    println!("  calls to g and h: {calls}");
    assert_eq!(calls, 3);

    println!("with an RLock, f calls g and h themselves:");
    let account = Account {
        lock: RLock::new(),
        calls: AtomicUsize::new(0),
    };
    thread::scope(|scope| {
        scope.spawn(|| account.f());
        scope.spawn(|| account.g());
    });
    // Relaxed: the threads have been joined.
    let calls = account.calls.load(Ordering::Relaxed);
    println!("  calls to g and h: {calls}");
    assert_eq!(calls, 3);
}
