//! Named shared memory (Linux, std build): `shm_open`, `ftruncate`, `mmap`, and the name rules.
//!
//! A [`Mapping`] is a whole object mapped read-write and shared. What lies in it is the
//! process module's business (src/process/); this file only makes, finds and maps the memory,
//! and checks names.

use std::io;
use std::ptr::NonNull;
use std::time::{Duration, Instant};

use rustix::fs::Mode;
use rustix::mm::{MapFlags, ProtFlags};
use rustix::shm;

/// The longest name, leading `/` not counted (api.md).
pub(crate) const MAX_NAME_LEN: usize = 200;

/// How long `open` waits for a creator that has made the name but not yet sized it.
const CREATOR_GRACE: Duration = Duration::from_secs(1);

/// One object's memory, mapped shared. Unmapped on drop; the creating handle also unlinks
/// the name then.
pub(crate) struct Mapping {
    base: NonNull<u8>,
    len: usize,
    /// With its leading `/`.
    name: String,
    unlink_on_drop: bool,
}

// SAFETY: a Mapping is a pointer to memory that stays mapped until it is dropped; the process
// module reads and writes it only through atomics (and a Value's bytes under its lock), so
// sharing the handle between threads adds nothing a second process does not already do.
unsafe impl Send for Mapping {}
// SAFETY: as for Send.
unsafe impl Sync for Mapping {}

impl Mapping {
    /// Creates the object `name` with `len` zero bytes, mode 0600. `AlreadyExists` if the name
    /// is taken, `InvalidInput` for a bad name.
    pub(crate) fn create(name: &str, len: usize) -> io::Result<Mapping> {
        let name = checked_name(name)?;
        let fd = shm::open(
            name.as_str(),
            shm::OFlags::CREATE | shm::OFlags::EXCL | shm::OFlags::RDWR,
            Mode::RUSR | Mode::WUSR,
        )?;
        let mapped = rustix::fs::ftruncate(&fd, len as u64).and_then(|()| map(&fd, len));
        match mapped {
            Ok(base) => Ok(Mapping {
                base,
                len,
                name,
                unlink_on_drop: true,
            }),
            Err(error) => {
                // Leave nothing behind for an `open` to find half-made.
                let _ = shm::unlink(name.as_str());
                Err(error.into())
            }
        }
    }

    /// Maps the existing object `name`. `NotFound` if there is none; `InvalidData` if its size
    /// is 0 for longer than a creator needs, below `min_len` or above `max_len` (a peer cannot
    /// make us map more than the largest object of the kind asked for).
    pub(crate) fn open(name: &str, min_len: usize, max_len: usize) -> io::Result<Mapping> {
        let name = checked_name(name)?;
        let fd = shm::open(name.as_str(), shm::OFlags::RDWR, Mode::empty())?;
        let started = Instant::now();
        let len = loop {
            let size = rustix::fs::fstat(&fd)?.st_size;
            // A creator between shm_open and ftruncate: give it a moment.
            if size == 0 && started.elapsed() < CREATOR_GRACE {
                pause();
                continue;
            }
            let size = usize::try_from(size).unwrap_or(usize::MAX);
            if size < min_len || size > max_len {
                return Err(invalid_data(format!(
                    "{name} is {size} bytes, not a locksmith object of the type asked for"
                )));
            }
            break size;
        };
        let base = map(&fd, len)?;
        Ok(Mapping {
            base,
            len,
            name,
            unlink_on_drop: false,
        })
    }

    /// The object's name, with its leading `/`.
    pub(crate) fn name(&self) -> &str {
        &self.name
    }

    /// The first byte of the mapping (page-aligned).
    pub(crate) fn base(&self) -> NonNull<u8> {
        self.base
    }

    pub(crate) fn len(&self) -> usize {
        self.len
    }
}

impl Drop for Mapping {
    fn drop(&mut self) {
        // SAFETY: `base` and `len` are what mmap returned and were given, and every reference
        // into the mapping borrows this Mapping, so none outlives the unmap.
        let _ = unsafe { rustix::mm::munmap(self.base.as_ptr().cast(), self.len) };
        if self.unlink_on_drop {
            let _ = shm::unlink(self.name.as_str());
        }
    }
}

fn map(fd: &rustix::fd::OwnedFd, len: usize) -> rustix::io::Result<NonNull<u8>> {
    // SAFETY: a fresh mapping at an address of the kernel's choosing (null hint, no FIXED),
    // so it overlaps nothing of ours; the fd is open read-write, as PROT_WRITE with MAP_SHARED
    // needs. The length is nonzero (callers' minimum sizes are).
    let base = unsafe {
        rustix::mm::mmap(
            std::ptr::null_mut(),
            len,
            ProtFlags::READ | ProtFlags::WRITE,
            MapFlags::SHARED,
            fd,
            0,
        )?
    };
    NonNull::new(base.cast()).ok_or(rustix::io::Errno::NOMEM)
}

/// Waits a moment for a peer that is part-way through making an object.
pub(crate) fn pause() {
    std::thread::sleep(Duration::from_millis(1));
}

/// POSIX's rules, as api.md gives them: `/` then 1 to 200 bytes, no other `/`, no NUL, not
/// `.` or `..`; the leading `/` may be left out.
pub(crate) fn checked_name(name: &str) -> io::Result<String> {
    let bare = name.strip_prefix('/').unwrap_or(name);
    let why = if bare.is_empty() {
        Some("is empty")
    } else if bare.len() > MAX_NAME_LEN {
        Some("is longer than 200 bytes")
    } else if bare.contains('/') {
        Some("has a '/' after the first byte")
    } else if bare.contains('\0') {
        Some("has a NUL byte")
    } else if bare == "." || bare == ".." {
        Some("is '.' or '..'")
    } else {
        None
    };
    match why {
        Some(why) => Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("shared-memory name {name:?} {why}"),
        )),
        None => Ok(format!("/{bare}")),
    }
}

pub(crate) fn invalid_data(message: String) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, message)
}
