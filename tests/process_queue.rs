//! `locksmith::process::Queue` in one process and across real ones (the test binary re-runs
//! itself as children, its role in `LOCKSMITH_QUEUE_ROLE`). Every wait has a deadline;
//! every child not yet waited for is killed when a test fails.
#![cfg(all(target_os = "linux", not(any(loom, shuttle))))]

use std::io::ErrorKind;
use std::os::unix::fs::FileExt;
use std::process::{Child, Command};
use std::time::{Duration, Instant};

use locksmith::process::{PutError, Queue, Value};
use locksmith::queue::{GetError, TaskDoneError};

const ROLE: &str = "LOCKSMITH_QUEUE_ROLE";
const NAME: &str = "LOCKSMITH_QUEUE_NAME";
const INDEX: &str = "LOCKSMITH_QUEUE_INDEX";
const LONG: Duration = Duration::from_secs(30);

fn unique(tag: &str) -> String {
    format!("/locksmith-qtest-{}-{tag}", std::process::id())
}

fn spawn(test: &str, role: &str, name: &str, index: usize) -> Child {
    Command::new(std::env::current_exe().unwrap())
        .args([test, "--exact", "--nocapture", "--test-threads=1"])
        .env(ROLE, role)
        .env(NAME, name)
        .env(INDEX, index.to_string())
        .spawn()
        .unwrap()
}

fn role() -> Option<(String, String, usize)> {
    Some((
        std::env::var(ROLE).ok()?,
        std::env::var(NAME).ok()?,
        std::env::var(INDEX).ok()?.parse().ok()?,
    ))
}

/// Whether `join` on the queue `name` returns within `LONG`: it runs in a thread of its own,
/// on a handle of its own, so a join that never returns fails the test instead of hanging it.
fn joins(name: &str) -> bool {
    let (tx, rx) = std::sync::mpsc::channel();
    let name = name.to_string();
    std::thread::spawn(move || {
        Queue::open(&name).unwrap().join();
        let _ = tx.send(());
    });
    rx.recv_timeout(LONG).is_ok()
}

/// Children not yet waited for; killed if the test fails first.
struct Children(Vec<Child>);

impl Children {
    fn wait_all(mut self) {
        let started = Instant::now();
        while let Some(mut child) = self.0.pop() {
            let status = loop {
                if let Some(status) = child.try_wait().unwrap() {
                    break status;
                }
                if started.elapsed() > LONG * 2 {
                    let _ = child.kill();
                    let _ = child.wait();
                    panic!("a child ran past {:?}", LONG * 2);
                }
                std::thread::sleep(Duration::from_millis(5));
            };
            assert!(status.success(), "a child failed: {status}");
        }
    }
}

impl Drop for Children {
    fn drop(&mut self) {
        for child in &mut self.0 {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// first in, first out; empty messages are messages; `len` follows.
#[test]
fn messages_come_out_in_order_and_whole() {
    let queue = Queue::create(&unique("fifo"), 3, 16).unwrap();
    for item in [&b"one"[..], b"", b"three, full!!!!!"] {
        queue.put(item).unwrap();
    }
    assert_eq!(queue.len(), 3);
    assert_eq!(queue.try_put(b"x"), Err(PutError::Full));
    assert_eq!(queue.get().unwrap(), b"one");
    queue.put(b"four").unwrap(); // wraps around the ring
    assert_eq!(queue.get().unwrap(), b"");
    assert_eq!(queue.get().unwrap(), b"three, full!!!!!");
    assert_eq!(queue.get().unwrap(), b"four");
    assert!(queue.is_empty());
    assert_eq!(queue.try_get(), Err(GetError::Empty));
    assert_eq!(
        queue.get_timeout(Duration::from_millis(5)),
        Err(GetError::Empty)
    );
}

/// a message longer than max_item_len is refused and nothing is enqueued.
#[test]
fn a_message_too_long_is_refused_whole() {
    let queue = Queue::create(&unique("too-long"), 2, 4).unwrap();
    assert_eq!(
        queue.put(b"12345"),
        Err(PutError::TooLarge { len: 5, max: 4 })
    );
    assert!(queue.is_empty());
    queue.put(b"1234").unwrap();
    assert_eq!(queue.get().unwrap(), b"1234");
}

/// task_done and join as Python's JoinableQueue; too many task_dones is an error.
#[test]
fn task_done_and_join_count_every_message() {
    let name = unique("join");
    let queue = Queue::create(&name, 4, 4).unwrap();
    assert_eq!(queue.task_done(), Err(TaskDoneError));
    queue.put(b"a").unwrap();
    queue.put(b"b").unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    let joiner_name = name.clone();
    std::thread::spawn(move || {
        Queue::open(&joiner_name).unwrap().join();
        let _ = tx.send(());
    });
    for _ in 0..2 {
        queue.get().unwrap();
        std::thread::sleep(Duration::from_millis(5));
        assert!(rx.try_recv().is_err(), "join returned with a task not done");
        queue.task_done().unwrap();
    }
    assert!(rx.recv_timeout(LONG).is_ok(), "join did not return");
    assert_eq!(queue.task_done(), Err(TaskDoneError));
}

/// shutdown as Python 3.13's: puts fail; gets drain, then fail; immediate drops what
/// is left and counts it done, so join returns; blocked callers wake.
#[test]
fn shutdown_is_pythons() {
    let queue = Queue::create(&unique("shutdown"), 2, 4).unwrap();
    queue.put(b"a").unwrap();
    queue.shutdown(false);
    assert!(queue.is_shutdown());
    assert_eq!(queue.put(b"b"), Err(PutError::ShutDown));
    assert_eq!(queue.get().unwrap(), b"a");
    assert_eq!(queue.get(), Err(GetError::ShutDown));
    queue.task_done().unwrap();
    assert!(joins(queue.name()));

    let name = unique("shutdown-immediate");
    let queue = Queue::create(&name, 2, 4).unwrap();
    queue.put(b"a").unwrap();
    queue.put(b"b").unwrap();
    std::thread::scope(|s| {
        let putter = s.spawn(|| queue.put_timeout(b"c", LONG));
        std::thread::sleep(Duration::from_millis(20));
        queue.shutdown(true);
        assert_eq!(putter.join().unwrap(), Err(PutError::ShutDown));
    });
    assert!(
        joins(&name),
        "join did not return after shutdown(immediate=True)"
    );
    assert!(queue.is_empty());
    assert_eq!(queue.get(), Err(GetError::ShutDown));

    let queue = Queue::create(&unique("shutdown-getter"), 1, 4).unwrap();
    std::thread::scope(|s| {
        let getter = s.spawn(|| queue.get_timeout(LONG));
        std::thread::sleep(Duration::from_millis(20));
        queue.shutdown(false);
        assert_eq!(getter.join().unwrap(), Err(GetError::ShutDown));
    });
}

/// bad arguments and objects that are not queues of this shape.
#[test]
fn bad_input_is_refused() {
    assert_eq!(
        Queue::create(&unique("zero"), 0, 8).unwrap_err().kind(),
        ErrorKind::InvalidInput
    );
    assert_eq!(
        Queue::create(&unique("huge"), 1 << 20, 1 << 20)
            .unwrap_err()
            .kind(),
        ErrorKind::InvalidInput
    );
    assert_eq!(
        Queue::create(&unique("long"), 1, (1 << 30) + 1)
            .unwrap_err()
            .kind(),
        ErrorKind::InvalidInput
    );
    let lock_name = unique("not-a-queue");
    let _lock = locksmith::process::Lock::create(&lock_name).unwrap();
    assert_eq!(
        Queue::open(&lock_name).unwrap_err().kind(),
        ErrorKind::InvalidData
    );

    // A queue whose maxsize word no longer matches its size.
    let name = unique("scribbled-maxsize");
    let _queue = Queue::create(&name, 4, 8).unwrap();
    let file = std::fs::OpenOptions::new()
        .write(true)
        .open(format!("/dev/shm{name}"))
        .unwrap();
    // The head's maxsize follows the 16-byte header and the 32-byte owned lock.
    file.write_all_at(&1000u32.to_le_bytes(), 48).unwrap();
    assert_eq!(
        Queue::open(&name).unwrap_err().kind(),
        ErrorKind::InvalidData
    );
}

/// a message length a peer scribbled past max_item_len is clamped to it.
#[test]
fn a_scribbled_message_length_is_clamped() {
    let name = unique("scribbled-len");
    let queue = Queue::create(&name, 2, 8).unwrap();
    queue.put(b"abc").unwrap();
    let file = std::fs::OpenOptions::new()
        .write(true)
        .open(format!("/dev/shm{name}"))
        .unwrap();
    let slots = std::fs::metadata(format!("/dev/shm{name}")).unwrap().len() - 2 * 12;
    file.write_all_at(&u32::MAX.to_le_bytes(), slots).unwrap();
    let item = queue.get().unwrap();
    assert_eq!(item.len(), 8);
    assert_eq!(&item[..3], b"abc");
}

const PRODUCERS: usize = 2;
const CONSUMERS: usize = 2;
const PER_PRODUCER: u64 = 50_000;

/// 2 producer and 2 consumer processes move 10^5 numbered messages: every
/// one arrives once, each producer's in its order, and join returns.
#[test]
fn two_producers_and_two_consumers_lose_nothing() {
    const TEST: &str = "two_producers_and_two_consumers_lose_nothing";
    if let Some((role, name, index)) = role() {
        let queue = Queue::open(&name).unwrap();
        if role == "producer" {
            for seq in 0..PER_PRODUCER {
                let mut message = [0u8; 16];
                message[..8].copy_from_slice(&(index as u64).to_le_bytes());
                message[8..].copy_from_slice(&seq.to_le_bytes());
                queue.put_timeout(&message, LONG).unwrap();
            }
        } else {
            let sums = Value::<[u64; 4]>::open(&format!("{name}-sums")).unwrap();
            let mut last = [None::<u64>; PRODUCERS];
            let (mut count, mut sum) = (0u64, 0u64);
            loop {
                match queue.get_timeout(LONG) {
                    Ok(message) => {
                        let producer = u64::from_le_bytes(message[..8].try_into().unwrap());
                        let seq = u64::from_le_bytes(message[8..].try_into().unwrap());
                        let producer = producer as usize;
                        assert!(last[producer].is_none_or(|l| l < seq), "out of order");
                        last[producer] = Some(seq);
                        count += 1;
                        sum += seq;
                        queue.task_done().unwrap();
                    }
                    Err(GetError::ShutDown) => break,
                    Err(GetError::Empty) => panic!("no message for {LONG:?}"),
                }
            }
            let mut sums = sums.lock().unwrap();
            sums[0] += count;
            sums[1] += sum;
        }
        std::process::exit(0);
    }
    let name = unique("mpmc");
    let queue = Queue::create(&name, 64, 16).unwrap();
    let sums = Value::create(&format!("{name}-sums"), [0u64; 4]).unwrap();
    let producers = Children(
        (0..PRODUCERS)
            .map(|i| spawn(TEST, "producer", &name, i))
            .collect(),
    );
    let consumers = Children(
        (0..CONSUMERS)
            .map(|i| spawn(TEST, "consumer", &name, i))
            .collect(),
    );
    producers.wait_all();
    assert!(joins(&name), "join did not return");
    queue.shutdown(false);
    consumers.wait_all();
    let [count, sum, ..] = sums.load();
    let n = PER_PRODUCER;
    assert_eq!(count, PRODUCERS as u64 * n);
    assert_eq!(sum, PRODUCERS as u64 * n * (n - 1) / 2);
}

/// producers and consumers killed with SIGKILL at random points, again and again:
/// the survivors drain what is left and join returns. What was lost is printed.
#[test]
fn killed_producers_and_consumers_never_block_the_rest() {
    const TEST: &str = "killed_producers_and_consumers_never_block_the_rest";
    if let Some((role, name, _)) = role() {
        let queue = Queue::open(&name).unwrap();
        let counts = Value::<[u64; 2]>::open(&format!("{name}-counts")).unwrap();
        let message = [0x5Au8; 32];
        loop {
            if role == "producer" {
                match queue.put_timeout(&message, LONG) {
                    Ok(()) => counts.lock().unwrap_or_else(|d| d.into_inner())[0] += 1,
                    Err(_) => std::process::exit(0),
                }
            } else {
                match queue.get_timeout(LONG) {
                    Ok(got) => {
                        assert_eq!(got, message, "a torn message");
                        queue.task_done().unwrap();
                        counts.lock().unwrap_or_else(|d| d.into_inner())[1] += 1;
                    }
                    Err(_) => std::process::exit(0),
                }
            }
        }
    }
    let name = unique("kills");
    let queue = Queue::create(&name, 8, 32).unwrap();
    let counts = Value::create(&format!("{name}-counts"), [0u64; 2]).unwrap();
    let mut children: Vec<(String, Child)> = Vec::new();
    let mut kills = 0;
    let started = Instant::now();
    let mut round = 0usize;
    while started.elapsed() < Duration::from_secs(3) {
        while children.len() < 4 {
            let role = if (round + children.len()) % 2 == 0 {
                "producer"
            } else {
                "consumer"
            };
            children.push((role.to_string(), spawn(TEST, role, &name, 0)));
        }
        std::thread::sleep(Duration::from_millis(5 + (round % 7) as u64 * 3));
        let (_, mut victim) = children.remove(round % children.len());
        victim.kill().unwrap();
        victim.wait().unwrap();
        kills += 1;
        round += 1;
    }
    for (_, mut child) in children.drain(..) {
        child.kill().unwrap();
        child.wait().unwrap();
        kills += 1;
    }
    // Every child is dead; what is left is ours to drain.
    let mut drained = 0u64;
    while let Ok(got) = queue.try_get() {
        assert_eq!(got, [0x5Au8; 32], "a torn message");
        queue.task_done().unwrap();
        drained += 1;
    }
    let joined = Instant::now();
    assert!(joins(&name), "join did not return after every child died");
    let [put, got] = counts.load();
    println!(
        "{kills} kills in {:.1} s; {put} puts counted, {got} gets counted, {drained} drained; join returned in {:?}; lost or uncounted: {}",
        started.elapsed().as_secs_f64(),
        joined.elapsed(),
        put as i64 - got as i64 - drained as i64
    );
}
