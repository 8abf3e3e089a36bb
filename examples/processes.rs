//! The notes' balance race, across processes: two processes change a shared balance without
//! a lock, and it drifts; with a process `Lock` around each change it stays 0.
//!
//! The Python it mirrors, with `multiprocessing` in place of `threading`:
//!
//! ```python
//! balance = multiprocessing.Value('q', 0, lock=False)
//! lock = multiprocessing.Lock()
//! def change_it(n):
//!     balance.value = balance.value + n
//!     balance.value = balance.value - n
//! def run(n):
//!     for i in range(ROUNDS):
//!         change_it(n)          # or: with lock: change_it(n)
//! p1 = multiprocessing.Process(target=run, args=(5,))
//! p2 = multiprocessing.Process(target=run, args=(8,))
//! ```
//!
//! The balance is a `process::Value<i64>`: each `load` and `store` is whole (each takes the
//! Value's own lock), but the pair is not, which is exactly the notes' bug. The parent runs
//! this same program again as the two children, telling them what to do on the command line.
//! Run with `cargo run --release --example processes`.

#[cfg(all(target_os = "linux", not(any(loom, shuttle))))]
fn main() -> std::io::Result<()> {
    use locksmith::process::{Lock, Value};
    use std::process::Command;

    const ROUNDS: usize = 100_000;

    let args: Vec<String> = std::env::args().collect();
    if let [_, role, name, n] = args.as_slice() {
        // A child: `role` is "locked" or "unlocked", `n` the amount.
        let balance = Value::<i64>::open(name)?;
        let lock = Lock::open(&format!("{name}-lock"))?;
        let n: i64 = n.parse().expect("a number");
        for _ in 0..ROUNDS {
            let _held = (role == "locked").then(|| lock.lock());
            let read = balance.load();
            balance.store(read + n);
            let read = balance.load();
            balance.store(read - n);
        }
        return Ok(());
    }

    let me = std::env::current_exe()?;
    for role in ["unlocked", "locked"] {
        let name = format!("/locksmith-example-balance-{}-{role}", std::process::id());
        let balance = Value::create(&name, 0i64)?;
        let _lock = Lock::create(&format!("{name}-lock"))?;
        let children = ["5", "8"].map(|n| Command::new(&me).args([role, name.as_str(), n]).spawn());
        for child in children {
            let status = child?.wait()?;
            assert!(status.success(), "a child failed: {status}");
        }
        println!(
            "{role:>8}: balance = {} after 2 x {ROUNDS} changes",
            balance.load()
        );
    }
    Ok(())
}

#[cfg(not(all(target_os = "linux", not(any(loom, shuttle)))))]
fn main() {
    println!("locksmith::process is Linux-only for now, and not in model builds");
}
