//! The notes' producer and two consumers, as three processes around one `process::Queue`.
//!
//! The Python (3.13) it mirrors:
//!
//! ```python
//! def consumer(q, name):
//!     try:
//!         while True:
//!             print(f"consumer {name} consumed {q.get()}")
//!     except queue.ShutDown:
//!         pass
//! if __name__ == "__main__":
//!     q = multiprocessing.JoinableQueue(3)
//!     ps = [multiprocessing.Process(target=consumer, args=(q, c)) for c in "AB"]
//!     for p in ps: p.start()
//!     for n in range(12):
//!         print(f"produced {n}")
//!         q.put(n)      # blocks while 3 items are waiting
//!     q.shutdown()      # (3.13's queue.Queue; multiprocessing's has no shutdown yet)
//!     for p in ps: p.join()
//! ```
//!
//! The parent is the producer; it runs this same program again as the two consumers, naming
//! the queue on their command line. Messages are bytes: here, a number's decimal text. Run
//! with `cargo run --example process_producer_consumer`.

#[cfg(all(target_os = "linux", not(any(loom, shuttle))))]
fn main() -> std::io::Result<()> {
    use locksmith::process::Queue;
    use std::process::Command;
    use std::time::Duration;

    let args: Vec<String> = std::env::args().collect();
    if let [_, name, consumer] = args.as_slice() {
        let queue = Queue::open(name)?;
        // get() fails only once the queue is shut down and empty.
        while let Ok(item) = queue.get() {
            println!(
                "consumer {consumer} consumed {}",
                String::from_utf8_lossy(&item)
            );
            std::thread::sleep(Duration::from_millis(5)); // slower than the producer
        }
        return Ok(());
    }

    let name = format!("/locksmith-example-pc-{}", std::process::id());
    let queue = Queue::create(&name, 3, 16)?;
    let me = std::env::current_exe()?;
    let consumers = ["A", "B"].map(|c| Command::new(&me).args([name.as_str(), c]).spawn());
    for n in 0..12 {
        println!("produced {n}");
        queue
            .put(n.to_string().as_bytes())
            .expect("the queue is not shut down yet");
    }
    queue.shutdown(false);
    for consumer in consumers {
        let status = consumer?.wait()?;
        assert!(status.success(), "a consumer failed: {status}");
    }
    Ok(())
}

#[cfg(not(all(target_os = "linux", not(any(loom, shuttle)))))]
fn main() {
    println!("locksmith::process is Linux-only for now, and not in model builds");
}
