//! A named object: a header checked on `open`, then one primitive's words (its `Body`).
//!
//! ```text
//!   offset 0   magic    "LKSM", stored last by the creator (Release): an object whose magic
//!                       reads right is fully made
//!          4   kind     which primitive (the `KIND` constants below)
//!          8   version  of the layout; this crate reads LAYOUT_VERSION only
//!         12   size     bytes in the object, header included
//!         16   body     the primitive's words (all atomics: any bytes are a valid value)
//! ```

use std::io;
use std::marker::PhantomData;
use std::time::{Duration, Instant};

use crate::sync::shm::{self, Mapping};
use crate::sync::{AtomicU32, Ordering};

/// "LKSM", little-endian.
const MAGIC: u32 = u32::from_le_bytes(*b"LKSM");
/// The layout this crate writes and reads. A change to any body's words changes it.
pub(crate) const LAYOUT_VERSION: u32 = 1;
/// How long `open` waits for a creator that has sized the object but not yet stored its magic.
const CREATOR_GRACE: Duration = Duration::from_secs(1);

#[repr(C)]
struct Header {
    magic: AtomicU32,
    kind: AtomicU32,
    version: AtomicU32,
    size: AtomicU32,
}

/// The words one primitive keeps in shared memory. Implementors are `#[repr(C)]` structs of
/// atomics only (so every byte pattern a peer may write is a value), valid when all zero.
///
/// # Safety
/// `Self` must be `#[repr(C)]`, made only of the shim's atomics (or arrays of them, or other
/// `Body` types), so that any bytes are a valid `Self` and it is sound to share between
/// processes.
pub(crate) unsafe trait Body: Sync {
    /// Which primitive, in the header.
    const KIND: u32;
    /// Python's name for it, for error messages.
    const NAME: &'static str;
}

#[repr(C)]
struct Shared<B> {
    header: Header,
    body: B,
}

/// A mapped object whose header has been checked: its body is a `B`.
pub(crate) struct Object<B> {
    mapping: Mapping,
    body: PhantomData<B>,
}

impl<B: Body> Object<B> {
    const SIZE: usize = size_of::<Shared<B>>();

    /// Creates `name` (mode 0600), lets `init` give the body its first values, then publishes
    /// it (the magic, last).
    pub(crate) fn create(name: &str, init: impl FnOnce(&B)) -> io::Result<Self> {
        Self::create_with_tail(name, 0, |body, _| init(body))
    }

    /// As `create`, with `tail` more bytes after the body (a queue's slots), which `init`
    /// may fill through the pointer it is given. `InvalidInput` if the whole would not fit
    /// the header's 32-bit size.
    pub(crate) fn create_with_tail(
        name: &str,
        tail: usize,
        init: impl FnOnce(&B, *mut u8),
    ) -> io::Result<Self> {
        let size = Self::SIZE
            .checked_add(tail)
            .filter(|&size| u32::try_from(size).is_ok())
            .ok_or_else(|| {
                io::Error::new(
                    io::ErrorKind::InvalidInput,
                    format!("a {} of {tail} bytes of slots is past 4 GiB", B::NAME),
                )
            })?;
        let object = Object {
            mapping: Mapping::create(name, size)?,
            body: PhantomData,
        };
        let shared = object.shared();
        init(&shared.body, object.tail().0);
        // Relaxed: the magic's Release store below publishes these with the body.
        shared.header.kind.store(B::KIND, Ordering::Relaxed);
        shared
            .header
            .version
            .store(LAYOUT_VERSION, Ordering::Relaxed);
        shared.header.size.store(size as u32, Ordering::Relaxed);
        // Release: an opener that reads the magic (Acquire) sees the header and the body's
        // first values.
        shared.header.magic.store(MAGIC, Ordering::Release);
        Ok(object)
    }

    /// Opens `name`: `NotFound` if there is none; `InvalidData` unless it is a `B` of this
    /// layout version, whole.
    pub(crate) fn open(name: &str) -> io::Result<Self> {
        Self::open_with_tail(name, 0)
    }

    /// As `open`, for an object with at most `max_tail` bytes after its body; its exact size
    /// is the mapping's, which the header's size must equal. What the tail holds is the
    /// caller's to check against the body.
    pub(crate) fn open_with_tail(name: &str, max_tail: usize) -> io::Result<Self> {
        let object = Object {
            mapping: Mapping::open(name, Self::SIZE, Self::SIZE.saturating_add(max_tail))?,
            body: PhantomData,
        };
        let header = &object.shared().header;
        let started = Instant::now();
        // Acquire: pairs with the creator's Release of the magic (see `create`).
        while header.magic.load(Ordering::Acquire) != MAGIC {
            if started.elapsed() >= CREATOR_GRACE {
                return Err(object.refused("has no locksmith header"));
            }
            shm::pause();
        }
        // Relaxed: ordered after the magic's Acquire.
        let kind = header.kind.load(Ordering::Relaxed);
        let version = header.version.load(Ordering::Relaxed);
        let size = header.size.load(Ordering::Relaxed);
        if kind != B::KIND {
            return Err(object.refused("is another kind of locksmith object"));
        }
        if version != LAYOUT_VERSION {
            return Err(object.refused(&format!(
                "has layout version {version}; this locksmith reads {LAYOUT_VERSION}"
            )));
        }
        if size as usize != object.mapping.len() {
            return Err(object.refused(&format!(
                "says it is {size} bytes, not {}",
                object.mapping.len()
            )));
        }
        Ok(object)
    }

    fn refused(&self, why: &str) -> io::Error {
        shm::invalid_data(format!(
            "{} {why}: not a locksmith process::{}",
            self.mapping.name(),
            B::NAME
        ))
    }

    pub(crate) fn name(&self) -> &str {
        self.mapping.name()
    }

    pub(crate) fn body(&self) -> &B {
        &self.shared().body
    }

    /// The bytes after the body: where they start, and how many.
    pub(crate) fn tail(&self) -> (*mut u8, usize) {
        // The body ends at SIZE, inside the mapping (at least SIZE bytes long).
        let start = self.mapping.base().as_ptr().wrapping_add(Self::SIZE);
        (start, self.mapping.len() - Self::SIZE)
    }

    fn shared(&self) -> &Shared<B> {
        debug_assert!(self.mapping.len() >= Self::SIZE);
        // SAFETY: the mapping is at least SIZE bytes (create sized it so; open refused any
        // other size) and page-aligned, so aligned for Shared<B>; `Body` promises any bytes are
        // a valid B, and the header is atomics too. The reference borrows self, which owns the
        // mapping, so it cannot outlive it. Other processes write these bytes only through
        // atomics of the same layout, or (a hostile peer) arbitrarily, which atomics tolerate.
        unsafe { self.mapping.base().cast::<Shared<B>>().as_ref() }
    }
}
