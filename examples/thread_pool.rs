//! A fixed pool of worker threads fed by a [`Queue`], after the old Python `threadpool`
//! module:
//!
//! ```python
//! import threadpool, time
//! def square(n):
//!     time.sleep(0.01)
//!     return n * n
//! def collect(request, result):
//!     results.append((request.args[0], result))
//! pool = threadpool.ThreadPool(4)
//! for req in threadpool.makeRequests(square, range(1, 21), collect):
//!     pool.putRequest(req)
//! pool.wait()
//! ```
//!
//! The original ran callbacks in the thread calling `wait()`, via a second results queue;
//! here the worker calls it, so a callback must be `Send`.

use locksmith::queue::Queue;
use std::panic::{self, AssertUnwindSafe};
use std::sync::{Arc, Mutex};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

/// A job and its callback as one closure, so any argument and result types share a queue.
struct Request(Box<dyn FnOnce() + Send>);

/// `threadpool.makeRequests`: one request per argument set, each calling `func` and handing
/// the arguments and result to `callback`.
fn make_requests<A, R, F, C>(
    func: F,
    args_list: impl IntoIterator<Item = A>,
    callback: C,
) -> Vec<Request>
where
    A: Send + 'static,
    F: Fn(&A) -> R + Send + Sync + 'static,
    C: Fn(A, R) + Send + Sync + 'static,
{
    let (func, callback) = (Arc::new(func), Arc::new(callback));
    args_list
        .into_iter()
        .map(|args| {
            let (func, callback) = (Arc::clone(&func), Arc::clone(&callback));
            Request(Box::new(move || {
                let result = func(&args);
                callback(args, result);
            }))
        })
        .collect()
}

struct ThreadPool {
    queue: Arc<Queue<Request>>,
    workers: Vec<JoinHandle<()>>,
}

impl ThreadPool {
    fn new(workers: usize) -> Self {
        // Unbounded, as threadpool's default `q_size=0`: submit never blocks.
        let queue = Arc::new(Queue::new(0));
        let workers = (0..workers)
            .map(|i| {
                let queue = Arc::clone(&queue);
                thread::Builder::new()
                    .name(format!("worker-{i}"))
                    .spawn(move || work(&queue))
                    .expect("spawn a worker")
            })
            .collect();
        ThreadPool { queue, workers }
    }

    fn submit(&self, request: Request) {
        // Unbounded and only shut down by Drop: this put neither waits nor fails.
        self.queue.put(request).expect("the pool's queue is open");
    }

    /// Waits until every request submitted so far has run, callback included.
    fn wait(&self) {
        self.queue.join();
    }
}

fn work(queue: &Queue<Request>) {
    // get() fails only once the queue is shut down and drained: then the worker retires.
    while let Ok(Request(job)) = queue.get() {
        // Like threadpool's exc_callback, a panicking job is reported rather than fatal;
        // otherwise its task_done would never come and wait() would hang.
        if panic::catch_unwind(AssertUnwindSafe(job)).is_err() {
            eprintln!("a request panicked; its worker carries on");
        }
        queue.task_done().expect("one task_done per get");
    }
}

impl Drop for ThreadPool {
    fn drop(&mut self) {
        // Not immediate: requests still queued run first, then every worker sees ShutDown.
        self.queue.shutdown(false);
        for worker in self.workers.drain(..) {
            let _ = worker.join(); // a worker's own panic was already printed
        }
    }
}

fn main() {
    const WORKERS: usize = 4;
    let results = Arc::new(Mutex::new(Vec::new()));
    let sink = Arc::clone(&results);
    let requests = make_requests(
        |&n: &u64| {
            thread::sleep(Duration::from_millis(10 + n % 3 * 5));
            n * n
        },
        1..=20,
        move |n, square| {
            let worker = thread::current().name().unwrap_or("?").to_owned();
            println!("{worker}: {n}^2 = {square}");
            sink.lock().unwrap().push((n, square));
        },
    );

    let pool = ThreadPool::new(WORKERS);
    let started = Instant::now();
    for request in requests {
        pool.submit(request);
    }
    pool.wait();
    let elapsed = started.elapsed();

    // Checked before the pool is dropped: wait() alone must mean "every callback ran".
    let mut results = results.lock().unwrap().clone();
    results.sort_unstable();
    println!(
        "{} results from {WORKERS} workers in {elapsed:.0?}: {results:?}",
        results.len()
    );
    assert_eq!(results, (1..=20).map(|n| (n, n * n)).collect::<Vec<_>>());
    drop(pool); // shuts the queue down and joins the idle workers
}
