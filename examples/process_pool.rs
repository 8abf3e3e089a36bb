//! The notes' `Pool(4)`: five tasks handed to four worker processes with `apply_async`, then
//! `close()` and `join()`, built from two `process::Queue`s.
//!
//! The Python it mirrors:
//!
//! ```python
//! def long_time_task(name):
//!     print('Run task %s (%s)...' % (name, os.getpid()))
//!     start = time.time()
//!     time.sleep(random.random() * 3)
//!     print('Task %s runs %0.2f seconds.' % (name, time.time() - start))
//!
//! if __name__ == '__main__':
//!     print('Parent process %s.' % os.getpid())
//!     p = Pool(4)
//!     for i in range(5):
//!         p.apply_async(long_time_task, args=(i,))
//!     print('Waiting for all subprocesses done...')
//!     p.close()
//!     p.join()
//!     print('All subprocesses done.')
//! ```
//!
//! Tasks go out on one queue and answers come back on another. `close()` is the task queue's
//! `shutdown(false)`: the workers drain what is queued, then their `get` fails and they exit.
//! `join()` waits for every task's `task_done` and for the workers. The sleeps are a tenth of
//! the notes' (up to 0.3 s). Run with `cargo run --example process_pool`.

#[cfg(all(target_os = "linux", not(any(loom, shuttle))))]
fn main() -> std::io::Result<()> {
    use locksmith::process::Queue;
    use std::process::Command;
    use std::time::{Duration, Instant, SystemTime};

    let args: Vec<String> = std::env::args().collect();
    if let [_, tasks, answers] = args.as_slice() {
        // A worker.
        let (tasks, answers) = (Queue::open(tasks)?, Queue::open(answers)?);
        while let Ok(task) = tasks.get() {
            let name = String::from_utf8_lossy(&task).into_owned();
            println!("Run task {name} ({})...", std::process::id());
            let start = Instant::now();
            // No rand crate for an example: the clock's nanoseconds will do.
            let nanos = SystemTime::now()
                .duration_since(SystemTime::UNIX_EPOCH)
                .map_or(0, |d| d.subsec_nanos());
            std::thread::sleep(Duration::from_millis(u64::from(nanos % 300)));
            let answer = format!(
                "Task {name} runs {:.2} seconds.",
                start.elapsed().as_secs_f64()
            );
            answers
                .put(answer.as_bytes())
                .expect("the answer queue stays open");
            tasks.task_done().expect("one task_done per task got");
        }
        return Ok(());
    }

    println!("Parent process {}.", std::process::id());
    let pid = std::process::id();
    let tasks = Queue::create(&format!("/locksmith-example-pool-tasks-{pid}"), 8, 64)?;
    // Room for every answer: the parent reads them only after `join`.
    let answers = Queue::create(&format!("/locksmith-example-pool-answers-{pid}"), 8, 64)?;
    let me = std::env::current_exe()?;
    let workers: Vec<_> = (0..4)
        .map(|_| {
            Command::new(&me)
                .args([tasks.name(), answers.name()])
                .spawn()
        })
        .collect::<Result<_, _>>()?;
    for i in 0..5 {
        tasks
            .put(i.to_string().as_bytes())
            .expect("open until close()");
    }
    println!("Waiting for all subprocesses done...");
    tasks.shutdown(false); // p.close()
    tasks.join(); // p.join(): every task done ...
    for mut worker in workers {
        let status = worker.wait()?; // ... and every worker gone
        assert!(status.success(), "a worker failed: {status}");
    }
    while let Ok(answer) = answers.try_get() {
        println!("{}", String::from_utf8_lossy(&answer));
    }
    println!("All subprocesses done.");
    Ok(())
}

#[cfg(not(all(target_os = "linux", not(any(loom, shuttle)))))]
fn main() {
    println!("locksmith::process is Linux-only for now, and not in model builds");
}
