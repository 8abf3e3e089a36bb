//! PROC-7 under fire: random bytes written over a live object's mapping, before and between
//! random operations on it. No call may panic, crash the process, wait past its timeout or allocate
//! more than a little. The proptest runs in a child process (this binary again), so a crash
//! is seen as the child's death rather than taking the test harness with it.
#![cfg(all(target_os = "linux", not(any(loom, shuttle))))]

use std::alloc::{GlobalAlloc, Layout, System};
use std::os::unix::fs::FileExt;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use locksmith::process::{
    BoundedSemaphore, Event, Lock, MAX_PERMITS, Queue, RLock, Semaphore, Value,
};
use proptest::prelude::*;

/// Counts the bytes allocated by the program, so a case can bound what its calls allocate.
struct Counting;

static ALLOCATED: AtomicUsize = AtomicUsize::new(0);

// SAFETY: forwards to the system allocator unchanged; only counts.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // Relaxed: a statistic.
        ALLOCATED.fetch_add(layout.size(), Ordering::Relaxed);
        // SAFETY: the caller's contract, passed on.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: the caller's contract, passed on.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

const ROLE: &str = "LOCKSMITH_SCRIBBLE_CHILD";
/// What the operations of one case may allocate: error messages and a few names, not
/// anything sized by a number read from the mapping.
const ALLOCATION_BOUND: usize = 64 * 1024;
/// Every call below waits at most this (or not at all); a case takes well under a second.
const SHORT: Duration = Duration::from_millis(2);

#[derive(Clone, Debug)]
enum Kind {
    Lock,
    RLock,
    Semaphore,
    Bounded,
    Event,
    Value,
    Queue,
}

fn kind() -> impl Strategy<Value = Kind> {
    prop_oneof![
        Just(Kind::Lock),
        Just(Kind::RLock),
        Just(Kind::Semaphore),
        Just(Kind::Bounded),
        Just(Kind::Event),
        Just(Kind::Value),
        Just(Kind::Queue),
    ]
}

/// Writes over the object's file: at `offset` (past the header, which `open` checks; the
/// body is what a live object trusts) the bytes `bytes`, clipped to the object.
fn scribble(name: &str, offset: usize, bytes: &[u8]) {
    let file = std::fs::OpenOptions::new()
        .write(true)
        .open(format!("/dev/shm{name}"))
        .unwrap();
    let len = file.metadata().unwrap().len() as usize;
    // On a word boundary, where a peer's store would land.
    let start = 16 + ((offset % (len - 16)) & !3);
    let end = (start + bytes.len()).min(len);
    file.write_all_at(&bytes[..end - start], start as u64)
        .unwrap();
}

/// Writes one whole 32-bit word of the body, as a peer's store would: which word from `op`,
/// and a value that means something to some word (0, 1, 2, the top bit, all ones) or not.
fn scribble_word(name: &str, op: u8, bytes: &[u8]) {
    let pick = bytes[usize::from(op) % bytes.len()];
    let value: u32 = match pick % 6 {
        0 => 0,
        1 => 1,
        2 => 2,
        3 => 1 << 31,
        4 => u32::MAX,
        _ => u32::from_le_bytes([pick, op, pick ^ op, pick.wrapping_mul(op)]),
    };
    scribble(name, usize::from(op) * 4, &value.to_le_bytes());
}

/// Scribbles over the live object `name` (just made), then runs `call` for each op, with a
/// word scribbled in place of the call for ops of 200 and up; what the calls allocate must
/// stay under the bound.
fn exercise(name: &str, offset: usize, bytes: &[u8], ops: &[u8], mut call: impl FnMut(u8)) {
    scribble(name, offset, bytes);
    let before = ALLOCATED.load(Ordering::Relaxed);
    for &op in ops {
        if op >= 200 {
            scribble_word(name, op, bytes);
        } else {
            call(op);
        }
    }
    assert!(ALLOCATED.load(Ordering::Relaxed) - before < ALLOCATION_BOUND);
}

fn run_case(kind: &Kind, case: usize, offset: usize, bytes: &[u8], ops: &[u8]) {
    let name = format!("/locksmith-scribble-{}-{case}", std::process::id());
    let started = Instant::now();
    match kind {
        Kind::Lock => {
            let lock = Lock::create(&name).unwrap();
            exercise(&name, offset, bytes, ops, |op| match op % 4 {
                0 => drop(lock.try_acquire()),
                1 => drop(lock.acquire_timeout(SHORT)),
                2 => drop(lock.release()),
                _ => drop(lock.locked()),
            });
        }
        Kind::RLock => {
            let rlock = RLock::create(&name).unwrap();
            exercise(&name, offset, bytes, ops, |op| match op % 5 {
                0 => drop(rlock.try_acquire()),
                1 => drop(rlock.acquire_timeout(SHORT)),
                2 => drop(rlock.release()),
                3 => drop(rlock.recursion_count()),
                _ => drop((rlock.is_owned(), rlock.locked())),
            });
        }
        Kind::Semaphore => {
            let semaphore = Semaphore::create(&name, 3).unwrap();
            exercise(&name, offset, bytes, ops, |op| {
                let n = usize::from(op / 4 % 3);
                match op % 4 {
                    0 => drop(semaphore.try_acquire()),
                    1 => drop(semaphore.acquire_timeout(SHORT)),
                    // An unbounded release past MAX_PERMITS is the caller's documented
                    // panic, not the scribble's: stay below it.
                    2 if semaphore.value() + n <= MAX_PERMITS => semaphore.release_n(n),
                    _ => assert!(semaphore.value() <= MAX_PERMITS),
                }
            });
        }
        Kind::Bounded => {
            let semaphore = BoundedSemaphore::create(&name, 3).unwrap();
            exercise(&name, offset, bytes, ops, |op| match op % 4 {
                0 => drop(semaphore.try_acquire()),
                1 => drop(semaphore.acquire_timeout(SHORT)),
                2 => drop(semaphore.release_n(usize::from(op / 4 % 3))),
                _ => assert!(semaphore.value() <= MAX_PERMITS),
            });
        }
        Kind::Event => {
            let event = Event::create(&name).unwrap();
            exercise(&name, offset, bytes, ops, |op| match op % 4 {
                0 => event.set(),
                1 => event.clear(),
                2 => drop(event.wait_timeout(SHORT)),
                _ => drop(event.is_set()),
            });
        }
        Kind::Value => {
            let value = Value::create(&name, [0u64; 2]).unwrap();
            // A scribbled owner is no live process (its pid and start time are random), so
            // every lock gets through, by a take-over at worst.
            exercise(&name, offset, bytes, ops, |op| match op % 3 {
                0 => drop(value.load()),
                1 => value.store([u64::from(op); 2]),
                _ => drop(value.lock().map(|mut guard| guard[0] = 1)),
            });
        }
        Kind::Queue => {
            let queue = Queue::create(&name, 3, 8).unwrap();
            exercise(&name, offset, bytes, ops, |op| match op % 7 {
                0 => drop(queue.try_put(&bytes[..bytes.len().min(8)])),
                1 => drop(queue.put_timeout(b"x", SHORT)),
                2 => drop(queue.try_get().map(|item| assert!(item.len() <= 8))),
                3 => drop(queue.get_timeout(SHORT)),
                4 => drop(queue.task_done()),
                5 => assert!(queue.len() <= queue.maxsize()),
                _ => drop(queue.is_shutdown()),
            });
        }
    }
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "a case took {:?}",
        started.elapsed()
    );
}

fn child() {
    let case = AtomicUsize::new(0);
    let config = ProptestConfig {
        cases: 1024,
        failure_persistence: None,
        ..ProptestConfig::default()
    };
    proptest!(config, |(
        kind in kind(),
        offset in 0usize..256,
        // Mostly short runs rich in 0x00 and 0xFF (the values that mean free, zero, or far
        // past every bound), sometimes a long run of anything.
        bytes in prop_oneof![
            3 => prop::collection::vec(prop_oneof![3 => Just(0u8), 1 => Just(0xFFu8), 4 => any::<u8>()], 1..12),
            1 => prop::collection::vec(any::<u8>(), 1..64),
        ],
        ops in prop::collection::vec(any::<u8>(), 1..64),
    )| {
        // Relaxed: one thread.
        let case = case.fetch_add(1, Ordering::Relaxed);
        run_case(&kind, case, offset, &bytes, &ops);
    });
}

/// PROC-7: random bytes over live objects, then random calls, in a child process.
#[test]
fn scribbled_objects_survive_random_operations() {
    if std::env::var(ROLE).is_ok() {
        child();
        std::process::exit(0);
    }
    let mut child = std::process::Command::new(std::env::current_exe().unwrap())
        .args([
            "scribbled_objects_survive_random_operations",
            "--exact",
            "--nocapture",
        ])
        .env(ROLE, "1")
        .spawn()
        .unwrap();
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if started.elapsed() > Duration::from_secs(300) {
            let _ = child.kill();
            let _ = child.wait();
            panic!("the scribbling child ran past 5 minutes");
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    assert!(
        status.success(),
        "the scribbling child failed or crashed: {status}"
    );
}
