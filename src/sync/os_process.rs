//! Which process holds an owned process lock, and whether it still lives (Linux, std build).
//!
//! A process is named by its pid and its start time, packed in one `u64` so a lock can claim
//! it with one compare-exchange: a pid alone could be reused by an unrelated process once the
//! owner has died, and that process must not be taken for the owner. The start time is the
//! kernel's (`/proc/<pid>/stat`, field 22, in clock ticks since boot); two processes with one
//! pid and one start time would need the pid to wrap around within one tick (10 ms).

use std::io::Read;
use std::sync::OnceLock;

/// A process: its pid in the high half, the low 32 bits of its start time in the low half.
/// Never 0 (pids start at 1), so 0 can mean "nobody".
pub(crate) type ProcessId = u64;

/// The calling process. Read from `/proc/self/stat` once; a fork starts with a fresh copy of
/// this cache, so a forked child would carry its parent's id: the process types are for
/// processes started with exec (`std::process::Command`), as Python's "spawn".
pub(crate) fn current_process() -> ProcessId {
    static CURRENT: OnceLock<ProcessId> = OnceLock::new();
    *CURRENT.get_or_init(|| {
        let pid = std::process::id();
        // Our own stat file can only fail to read on a machine without /proc, where no owner
        // can be checked; a start time of 0 then matches what `process_alive` reads (nothing).
        let start = match read_stat(pid) {
            Stat::Running { start } => start,
            Stat::Dead | Stat::Unknown => 0,
        };
        pack(pid, start)
    })
}

/// Whether `process` has not exited. A zombie (exited, not yet reaped) is dead; a pid now
/// used by a process with another start time is dead; a pid that is not a pid at all (0, or
/// above what Linux hands out), as a corrupt mapping might hold, is dead. When the kernel will
/// not say (no /proc), the answer is "alive": a lock is never taken from a live owner.
pub(crate) fn process_alive(process: ProcessId) -> bool {
    let pid = (process >> 32) as u32;
    let start = process as u32;
    // Linux's PID_MAX_LIMIT is 2^22.
    if pid == 0 || pid > 1 << 22 {
        return false;
    }
    match read_stat(pid) {
        Stat::Running { start: now } => now == start,
        Stat::Dead => false,
        Stat::Unknown => true,
    }
}

fn pack(pid: u32, start: u32) -> ProcessId {
    (u64::from(pid) << 32) | u64::from(start)
}

enum Stat {
    Running { start: u32 },
    Dead,
    Unknown,
}

/// Reads `/proc/<pid>/stat` into a stack buffer: no allocation on a waiter's path.
fn read_stat(pid: u32) -> Stat {
    let mut path = PathBuf::new();
    // "/proc/" + at most 10 digits + "/stat" fits the buffer.
    if std::fmt::write(&mut path, format_args!("/proc/{pid}/stat")).is_err() {
        return Stat::Unknown;
    }
    let mut file = match std::fs::File::open(path.as_str()) {
        Ok(file) => file,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Stat::Dead,
        Err(_) => return Stat::Unknown,
    };
    let mut buffer = [0u8; 1024];
    let mut len = 0;
    while len < buffer.len() {
        match file.read(&mut buffer[len..]) {
            Ok(0) => break,
            Ok(read) => len += read,
            Err(error) if error.kind() == std::io::ErrorKind::Interrupted => {}
            // The process went away between open and read.
            Err(_) => return Stat::Dead,
        }
    }
    parse_stat(&buffer[..len])
}

/// `pid (comm) state ppid ...`: the command name may hold spaces and parentheses, so the
/// fields are counted from the last `)`. The state is field 3, the start time field 22.
fn parse_stat(stat: &[u8]) -> Stat {
    let Some(close) = stat.iter().rposition(|&byte| byte == b')') else {
        return Stat::Unknown;
    };
    let mut fields = stat[close + 1..]
        .split(|&byte| byte == b' ')
        .filter(|field| !field.is_empty());
    match fields.next() {
        Some(b"Z") | Some(b"X") | Some(b"x") => return Stat::Dead,
        Some(_) => {}
        None => return Stat::Unknown,
    }
    // Field 22 is the 19th after the state.
    let Some(start) = fields.nth(18) else {
        return Stat::Unknown;
    };
    match std::str::from_utf8(start)
        .ok()
        .and_then(|s| s.trim().parse::<u64>().ok())
    {
        Some(ticks) => Stat::Running {
            start: ticks as u32,
        },
        None => Stat::Unknown,
    }
}

/// A path built on the stack.
struct PathBuf {
    bytes: [u8; 32],
    len: usize,
}

impl PathBuf {
    fn new() -> Self {
        PathBuf {
            bytes: [0; 32],
            len: 0,
        }
    }

    fn as_str(&self) -> &str {
        // Only `write_str` fills the buffer, with whole `&str`s.
        std::str::from_utf8(&self.bytes[..self.len]).unwrap_or("")
    }
}

impl std::fmt::Write for PathBuf {
    fn write_str(&mut self, s: &str) -> std::fmt::Result {
        let end = self.len + s.len();
        let slot = self.bytes.get_mut(self.len..end).ok_or(std::fmt::Error)?;
        slot.copy_from_slice(s.as_bytes());
        self.len = end;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn this_process_is_alive_and_a_reused_pid_is_not() {
        let me = current_process();
        assert!(process_alive(me));
        assert!(
            !process_alive(me ^ 1),
            "another start time is another process"
        );
        assert!(!process_alive(0));
        assert!(!process_alive(u64::MAX));
    }

    #[test]
    fn a_command_name_with_parentheses_and_spaces_parses() {
        let stat = b"42 (a) b) c) S 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 777 19";
        assert!(matches!(parse_stat(stat), Stat::Running { start: 777 }));
        assert!(matches!(parse_stat(b"42 (zz) Z 1 2"), Stat::Dead));
        assert!(matches!(parse_stat(b"garbage"), Stat::Unknown));
    }
}
