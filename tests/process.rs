//! locksmith::process across real processes: the test binary re-runs itself as children, each
//! given its role in `LOCKSMITH_PROCESS_ROLE` and the objects' names in `LOCKSMITH_PROCESS_NAME`.
//! Every wait has a deadline, so a bug fails a test instead of hanging it; every object a
//! test creates is unlinked when its creating handle drops.
#![cfg(all(target_os = "linux", not(any(loom, shuttle))))]

use std::io::ErrorKind;
use std::process::{Child, Command, ExitStatus};
use std::time::{Duration, Instant};

use locksmith::ReleaseError;
use locksmith::process::{Event, Lock, OWNER_CHECK_INTERVAL, RLock, Semaphore, Value};

const ROLE: &str = "LOCKSMITH_PROCESS_ROLE";
const NAME: &str = "LOCKSMITH_PROCESS_NAME";
/// What any child may take before its parent calls it hung.
const CHILD_DEADLINE: Duration = Duration::from_secs(60);
const LONG: Duration = Duration::from_secs(20);

/// A name no other test (or run) uses.
fn unique(tag: &str) -> String {
    format!("/locksmith-test-{}-{tag}", std::process::id())
}

/// Runs this test again as a child process with `role`.
fn spawn(test: &str, role: &str, name: &str) -> Child {
    Command::new(std::env::current_exe().unwrap())
        .args([test, "--exact", "--nocapture", "--test-threads=1"])
        .env(ROLE, role)
        .env(NAME, name)
        .spawn()
        .unwrap()
}

/// The role this process plays, if it is a child.
fn role() -> Option<(String, String)> {
    Some((std::env::var(ROLE).ok()?, std::env::var(NAME).ok()?))
}

/// Waits for `child`, killing it (and failing) past the deadline.
fn finish(mut child: Child) -> ExitStatus {
    let started = Instant::now();
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status;
        }
        if started.elapsed() > CHILD_DEADLINE {
            let _ = child.kill();
            let _ = child.wait();
            panic!("a child process ran past {CHILD_DEADLINE:?}");
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// Children not yet waited for; killed if the test fails first, so none outlives it.
struct KillOnDrop(Vec<Child>);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        for child in &mut self.0 {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

fn succeeded(children: Vec<Child>) {
    let mut waiting = KillOnDrop(children);
    while let Some(child) = waiting.0.pop() {
        let status = finish(child);
        assert!(status.success(), "a child failed: {status}");
    }
}

/// A child's end: exit now, with this test's verdict, before the harness runs anything else.
fn exit_child(ok: bool) -> ! {
    std::process::exit(if ok { 0 } else { 1 })
}

const INCREMENTS: u64 = 20_000;
const WORKERS: usize = 4;

/// A Value's lock excludes across processes: N x M increments, none lost.
#[test]
fn n_processes_incrementing_a_value_lose_nothing() {
    if let Some((_, name)) = role() {
        let value = Value::<u64>::open(&name).unwrap();
        for _ in 0..INCREMENTS {
            *value.lock().unwrap() += 1;
        }
        exit_child(true);
    }
    let name = unique("value-increments");
    let value = Value::create(&name, 0u64).unwrap();
    let children = (0..WORKERS)
        .map(|_| {
            spawn(
                "n_processes_incrementing_a_value_lose_nothing",
                "worker",
                &name,
            )
        })
        .collect();
    succeeded(children);
    assert_eq!(value.load(), WORKERS as u64 * INCREMENTS);
}

/// PROC-1: the notes' balance program across processes: each deposit reads the balance, then writes
/// it back one higher. With the lock around the pair, no deposit is lost; without it, some
/// are (two processes read the same balance).
#[test]
fn the_balance_race_loses_deposits_without_the_lock_and_none_with_it() {
    if let Some((role, name)) = role() {
        let balance = Value::<i64>::open(&name).unwrap();
        let lock = Lock::open(&format!("{name}-lock")).unwrap();
        for _ in 0..INCREMENTS {
            if role == "locked" {
                let _held = lock.lock();
                let read = balance.load();
                balance.store(read + 1);
            } else {
                let read = balance.load();
                balance.store(read + 1);
            }
        }
        exit_child(true);
    }
    let run = |role: &str| {
        let name = unique(&format!("balance-{role}"));
        let balance = Value::create(&name, 0i64).unwrap();
        let _lock = Lock::create(&format!("{name}-lock")).unwrap();
        let children = (0..WORKERS)
            .map(|_| {
                spawn(
                    "the_balance_race_loses_deposits_without_the_lock_and_none_with_it",
                    role,
                    &name,
                )
            })
            .collect();
        succeeded(children);
        balance.load()
    };
    let expected = (WORKERS as u64 * INCREMENTS) as i64;
    assert_eq!(run("locked"), expected, "a deposit was lost under the lock");
    // Lost updates need two processes between a read and its write at once; with four
    // processes making 20,000 deposits each they are near certain, but give it a few runs.
    let lost_once = (0..5).any(|_| run("unlocked") < expected);
    assert!(
        lost_once,
        "no deposit was ever lost without the lock: the race did not show"
    );
}

/// PROC-2: a Lock held by the parent is released by a child.
#[test]
fn a_lock_is_released_by_another_process() {
    if let Some((_, name)) = role() {
        let lock = Lock::open(&name).unwrap();
        let ok = lock.locked() && lock.release().is_ok() && !lock.locked();
        exit_child(ok);
    }
    let name = unique("lock-released-elsewhere");
    let lock = Lock::create(&name).unwrap();
    lock.acquire();
    succeeded(vec![spawn(
        "a_lock_is_released_by_another_process",
        "releaser",
        &name,
    )]);
    assert!(!lock.locked());
    assert_eq!(lock.release(), Err(ReleaseError::NotLocked));
}

/// PROC-5: another process may not release, or take, an owned RLock.
#[test]
fn an_rlock_is_refused_to_a_process_that_does_not_own_it() {
    if let Some((_, name)) = role() {
        let rlock = RLock::open(&name).unwrap();
        let ok = rlock.locked()
            && !rlock.is_owned()
            && rlock.recursion_count() == 0
            && rlock.release() == Err(ReleaseError::NotOwner)
            && rlock.try_acquire() == Ok(false)
            && rlock.acquire_timeout(Duration::from_millis(20)) == Ok(false);
        exit_child(ok);
    }
    let name = unique("rlock-refused");
    let rlock = RLock::create(&name).unwrap();
    rlock.acquire().unwrap();
    rlock.acquire().unwrap();
    succeeded(vec![spawn(
        "an_rlock_is_refused_to_a_process_that_does_not_own_it",
        "stranger",
        &name,
    )]);
    assert_eq!(rlock.recursion_count(), 2);
    rlock.release().unwrap();
    rlock.release().unwrap();
    assert!(!rlock.locked());
}

/// PROC-6: a child takes an RLock and a Value, says so, and is killed with SIGKILL. The survivors
/// take both over, told so once, within the documented bound. In one round the child is left
/// unreaped on purpose (a zombie is dead), and waited for after.
#[allow(clippy::zombie_processes)]
#[test]
fn a_holder_killed_with_sigkill_is_recovered_from() {
    if let Some((_, name)) = role() {
        let rlock = RLock::open(&format!("{name}-rlock")).unwrap();
        let value = Value::<u64>::open(&format!("{name}-value")).unwrap();
        let held = Event::open(&format!("{name}-held")).unwrap();
        rlock.acquire().unwrap();
        let mut guard = value.lock().unwrap();
        *guard = 41; // half-way through an update
        held.set();
        std::thread::sleep(CHILD_DEADLINE);
        exit_child(false);
    }
    for reap in [true, false] {
        let name = unique(&format!("killed-{reap}"));
        let rlock = RLock::create(&format!("{name}-rlock")).unwrap();
        let value = Value::create(&format!("{name}-value"), 0u64).unwrap();
        let held = Event::create(&format!("{name}-held")).unwrap();
        let mut child = spawn(
            "a_holder_killed_with_sigkill_is_recovered_from",
            "holder",
            &name,
        );
        assert!(held.wait_timeout(LONG), "the child never took the locks");
        assert_eq!(
            rlock.try_acquire(),
            Ok(false),
            "a live owner was taken over"
        );
        child.kill().unwrap();
        // Unreaped, the child is a zombie: dead, though its pid is still taken.
        if reap {
            child.wait().unwrap();
        }
        let killed = Instant::now();
        let died = rlock.acquire_timeout(LONG).unwrap_err();
        let noticed = killed.elapsed();
        assert_eq!(died.pid(), child.id());
        assert!(rlock.is_owned());
        assert_eq!(rlock.recursion_count(), 1);
        assert!(
            noticed < OWNER_CHECK_INTERVAL + Duration::from_secs(2),
            "noticed after {noticed:?}"
        );
        rlock.release().unwrap();
        let guard = value
            .lock()
            .expect_err("the value's dead owner went unreported");
        assert_eq!(guard.pid(), child.id());
        assert_eq!(*guard.into_inner(), 41);
        // Reported once: the lock is healthy again.
        assert_eq!(*value.lock().unwrap(), 41);
        if !reap {
            child.wait().unwrap();
        }
        println!("dead owner noticed after {noticed:?} (reaped first: {reap})");
    }
}

/// PROC-4: one set wakes waiters in three processes.
#[test]
fn an_event_wakes_waiters_in_several_processes() {
    if let Some((_, name)) = role() {
        let event = Event::open(&name).unwrap();
        let ready = Semaphore::open(&format!("{name}-ready")).unwrap();
        ready.release();
        exit_child(event.wait_timeout(LONG));
    }
    let name = unique("event-wakes");
    let event = Event::create(&name).unwrap();
    let ready = Semaphore::create(&format!("{name}-ready"), 0).unwrap();
    let children: Vec<_> = (0..3)
        .map(|_| {
            spawn(
                "an_event_wakes_waiters_in_several_processes",
                "waiter",
                &name,
            )
        })
        .collect();
    for _ in 0..3 {
        assert!(ready.acquire_timeout(LONG), "a waiter never started");
    }
    // Most waiters are asleep by now; any that is not sees the flag at once.
    std::thread::sleep(Duration::from_millis(50));
    event.set();
    succeeded(children);
}

/// PROC-3: four processes, two permits: never more than two inside.
#[test]
fn a_semaphore_of_two_never_admits_more_than_two_of_four_processes() {
    if let Some((_, name)) = role() {
        let semaphore = Semaphore::open(&name).unwrap();
        let inside = Value::<[u32; 2]>::open(&format!("{name}-inside")).unwrap();
        for _ in 0..200 {
            assert!(semaphore.acquire_timeout(LONG));
            {
                let mut counts = inside.lock().unwrap();
                counts[0] += 1;
                counts[1] = counts[1].max(counts[0]);
            }
            std::thread::yield_now();
            inside.lock().unwrap()[0] -= 1;
            semaphore.release();
        }
        exit_child(true);
    }
    let name = unique("semaphore-two");
    let semaphore = Semaphore::create(&name, 2).unwrap();
    let inside = Value::create(&format!("{name}-inside"), [0u32; 2]).unwrap();
    let children = (0..4)
        .map(|_| {
            spawn(
                "a_semaphore_of_two_never_admits_more_than_two_of_four_processes",
                "worker",
                &name,
            )
        })
        .collect();
    succeeded(children);
    let [now, most] = inside.load();
    assert_eq!(now, 0);
    assert!(most <= 2, "{most} processes were inside at once");
    assert_eq!(semaphore.value(), 2);
}

/// PROC-7: names are checked before any system call.
#[test]
fn bad_names_are_invalid_input() {
    let long = format!("/{}", "x".repeat(201));
    for bad in [
        "",
        "/",
        "a/b",
        "/a/b",
        ".",
        "/..",
        "nul\0byte",
        long.as_str(),
    ] {
        assert_eq!(
            Lock::create(bad).unwrap_err().kind(),
            ErrorKind::InvalidInput,
            "{bad:?}"
        );
        assert_eq!(
            Lock::open(bad).unwrap_err().kind(),
            ErrorKind::InvalidInput,
            "{bad:?}"
        );
    }
    let prefix = format!("locksmith-{}-", std::process::id());
    let longest = format!("{prefix}{}", "y".repeat(200 - prefix.len()));
    let lock = Lock::create(&longest).unwrap();
    assert_eq!(lock.name(), format!("/{longest}"));
}

#[test]
fn a_taken_name_a_missing_name_and_a_dropped_creator() {
    let name = unique("lifecycle");
    let lock = Lock::create(&name).unwrap();
    assert_eq!(
        Lock::create(&name).unwrap_err().kind(),
        ErrorKind::AlreadyExists
    );
    assert_eq!(
        Event::create(&name).unwrap_err().kind(),
        ErrorKind::AlreadyExists
    );
    let opened = Lock::open(&name).unwrap();
    drop(lock);
    // The name is gone; the opened handle still works on its mapping.
    assert_eq!(Lock::open(&name).unwrap_err().kind(), ErrorKind::NotFound);
    assert!(opened.try_acquire());
    opened.release().unwrap();
}

#[test]
fn objects_are_made_owner_only() {
    use std::os::unix::fs::PermissionsExt;
    let name = unique("mode");
    let _lock = Lock::create(&name).unwrap();
    let mode = std::fs::metadata(format!("/dev/shm{name}"))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600);
}

/// PROC-7: the header's kind (and a Value's size and alignment) are checked on open.
#[test]
fn another_kind_is_invalid_data() {
    let name = unique("kind");
    let _lock = Lock::create(&name).unwrap();
    assert_eq!(
        Event::open(&name).unwrap_err().kind(),
        ErrorKind::InvalidData
    );
    assert_eq!(
        RLock::open(&name).unwrap_err().kind(),
        ErrorKind::InvalidData
    );
    let semaphore_name = unique("kind-semaphore");
    let _semaphore = Semaphore::create(&semaphore_name, 1).unwrap();
    assert_eq!(
        locksmith::process::BoundedSemaphore::open(&semaphore_name)
            .unwrap_err()
            .kind(),
        ErrorKind::InvalidData
    );
    let value_name = unique("kind-value");
    let _value = Value::create(&value_name, 0u32).unwrap();
    assert_eq!(
        Value::<u64>::open(&value_name).unwrap_err().kind(),
        ErrorKind::InvalidData
    );
    // Same size, another alignment.
    assert_eq!(
        Value::<[u16; 2]>::open(&value_name).unwrap_err().kind(),
        ErrorKind::InvalidData
    );
    // Same size and alignment: a Value cannot tell u32 from i32, and need not (both are Pod).
    assert!(Value::<i32>::open(&value_name).is_ok());
}

/// Writes `bytes` over the object's file at `offset`, as a peer with access could.
fn scribble(name: &str, offset: u64, bytes: &[u8]) {
    use std::os::unix::fs::FileExt;
    let file = std::fs::OpenOptions::new()
        .write(true)
        .open(format!("/dev/shm{name}"))
        .unwrap();
    file.write_all_at(bytes, offset).unwrap();
}

/// PROC-7: another layout version is refused.
#[test]
fn another_layout_version_is_invalid_data() {
    let name = unique("version");
    let _lock = Lock::create(&name).unwrap();
    scribble(&name, 8, &2u32.to_le_bytes());
    let error = Lock::open(&name).unwrap_err();
    assert_eq!(error.kind(), ErrorKind::InvalidData);
    assert!(error.to_string().contains("layout version 2"), "{error}");
}

#[test]
fn a_wrong_size_field_is_invalid_data() {
    let name = unique("size-field");
    let _value = Value::create(&name, 0u64).unwrap();
    scribble(&name, 12, &4096u32.to_le_bytes());
    assert_eq!(
        Value::<u64>::open(&name).unwrap_err().kind(),
        ErrorKind::InvalidData
    );
}

/// A file made under /dev/shm by something else, empty or full of garbage.
struct Foreign(String);

impl Foreign {
    fn new(tag: &str, bytes: &[u8]) -> Foreign {
        let name = unique(tag);
        std::fs::write(format!("/dev/shm{name}"), bytes).unwrap();
        Foreign(name)
    }
}

impl Drop for Foreign {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(format!("/dev/shm{}", self.0));
    }
}

/// PROC-7: an empty, garbage, too large or too small object is refused, in bounded time.
#[test]
fn an_empty_or_garbage_object_is_invalid_data() {
    let empty = Foreign::new("empty", &[]);
    let started = Instant::now();
    assert_eq!(
        Lock::open(&empty.0).unwrap_err().kind(),
        ErrorKind::InvalidData
    );
    // It waited for a creator a bounded while, then gave up.
    assert!(started.elapsed() < Duration::from_secs(10));
    let garbage = Foreign::new("garbage", &[0xA5; 16 + 4]);
    assert_eq!(
        Lock::open(&garbage.0).unwrap_err().kind(),
        ErrorKind::InvalidData
    );
    let huge = Foreign::new("huge", &vec![0u8; 1 << 20]);
    assert_eq!(
        Lock::open(&huge.0).unwrap_err().kind(),
        ErrorKind::InvalidData
    );
    let short = Foreign::new("short", &[1, 2, 3]);
    assert_eq!(
        Event::open(&short.0).unwrap_err().kind(),
        ErrorKind::InvalidData
    );
}

/// PROC-7: garbage written into a live object's words: every call still returns (or waits only as its
/// timeout allows), and nothing panics.
#[test]
fn scribbled_words_never_panic() {
    let name = unique("scribbled");
    let semaphore = locksmith::process::BoundedSemaphore::create(&name, 3).unwrap();
    scribble(&name, 16, &u32::MAX.to_le_bytes());
    scribble(&name, 20, &u32::MAX.to_le_bytes());
    assert!(semaphore.value() <= locksmith::process::MAX_PERMITS);
    assert!(semaphore.try_acquire());
    let _ = semaphore.release();

    let name = unique("scribbled-rlock");
    let rlock = RLock::create(&name).unwrap();
    // An owner that is no process at all: found dead at once.
    scribble(&name, 16, &u64::MAX.to_le_bytes());
    assert!(rlock.try_acquire().is_err());
    assert!(rlock.is_owned());
    scribble(&name, 32, &0u32.to_le_bytes()); // the count, zeroed under us
    assert_eq!(rlock.release(), Ok(()));
    assert!(!rlock.locked());

    let name = unique("scribbled-lock");
    let lock = Lock::create(&name).unwrap();
    scribble(&name, 16, &7u32.to_le_bytes());
    assert!(lock.locked());
    assert_eq!(lock.release(), Ok(()));
    assert!(lock.try_acquire());

    let name = unique("scribbled-event");
    let event = Event::create(&name).unwrap();
    scribble(&name, 16, &0xFFFF_FFF0u32.to_le_bytes());
    assert!(!event.wait_timeout(Duration::from_millis(10)));
    event.set();
    assert!(event.is_set());
}

/// The primitive types are `Send + Sync` and everything is `Debug` (api.md).
#[test]
fn the_types_are_send_sync_and_debug() {
    fn shared<T: Send + Sync + std::fmt::Debug>() {}
    fn debug<T: std::fmt::Debug>() {}
    shared::<Lock>();
    shared::<RLock>();
    shared::<Semaphore>();
    shared::<locksmith::process::BoundedSemaphore>();
    shared::<Event>();
    shared::<Value<u64>>();
    shared::<Value<[f32; 3]>>();
    debug::<locksmith::process::LockGuard<'static>>();
    debug::<locksmith::process::SemaphoreGuard<'static>>();
    debug::<locksmith::process::BoundedSemaphoreGuard<'static>>();
    debug::<locksmith::process::ValueGuard<'static, u8>>();
    debug::<locksmith::process::OwnerDied>();
    debug::<locksmith::process::OwnerDied<locksmith::process::ValueGuard<'static, u8>>>();
    fn error<E: std::error::Error>() {}
    error::<locksmith::process::OwnerDied>();
    error::<locksmith::process::OwnerDied<locksmith::process::ValueGuard<'static, u8>>>();
}
