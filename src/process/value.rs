//! `process::Value<T>`: `multiprocessing.Value`, a `T` in shared memory behind its own owned
//! lock, recovered from a dead owner.

use core::fmt;
use core::ops::{Deref, DerefMut};

use super::owned::{RawOwnedLock, Taken};
use super::{OwnerDied, Pod};
use crate::sync::{AtomicU32, Deadline, Ordering, UnsafeCell};

/// A Value's words: its lock, the `T`'s size and alignment (checked on open), then the `T`.
#[doc(hidden)]
#[repr(C)]
pub struct RawValue<T> {
    lock: RawOwnedLock,
    size: AtomicU32,
    align: AtomicU32,
    data: UnsafeCell<T>,
}

// SAFETY: the data is only reached through a guard, which holds the lock (one thread at a
// time), and T: Pod has no pointers or thread-bound state to share.
unsafe impl<T: Pod> Sync for RawValue<T> {}

impl<T: Pod> RawValue<T> {
    /// A Value holding `initial`, for models.
    #[cfg(any(loom, shuttle))]
    pub fn new(initial: T) -> Self {
        RawValue {
            lock: RawOwnedLock::new(),
            size: AtomicU32::new(size_of::<T>() as u32),
            align: AtomicU32::new(align_of::<T>() as u32),
            data: UnsafeCell::new(initial),
        }
    }

    /// Locks, waiting until `deadline`. Panics if the calling thread holds it already.
    pub fn lock_until(
        &self,
        deadline: &Deadline,
    ) -> Option<Result<ValueGuard<'_, T>, OwnerDied<ValueGuard<'_, T>>>> {
        assert!(
            !self.lock.is_mine(),
            "process::Value locked again by the thread that holds it (its lock is not re-entrant)"
        );
        let taken = self.lock.acquire_until(deadline)?;
        let guard = ValueGuard { value: self };
        Some(match taken {
            Taken::Free => Ok(guard),
            Taken::FromDead(pid) => Err(OwnerDied::new(guard, pid)),
        })
    }

    /// Whether the words say this is a `T` (a peer may have written another type's).
    #[cfg_attr(any(loom, shuttle), allow(dead_code))]
    fn holds_a_t(&self) -> bool {
        // Relaxed: written once, before the object was published (the opener's Acquire).
        self.size.load(Ordering::Relaxed) as usize == size_of::<T>()
            && self.align.load(Ordering::Relaxed) as usize == align_of::<T>()
    }
}

/// Holds a [`Value`](super::Value)'s lock; derefs to the `T`; unlocks when dropped.
///
/// ```
/// # #[cfg(target_os = "linux")] {
/// let name = format!("/locksmith-doc-valueguard-{}", std::process::id());
/// let value = locksmith::process::Value::create(&name, 1u64)?;
/// let mut guard = value.lock().unwrap();
/// *guard += 1;
/// drop(guard);
/// assert_eq!(value.load(), 2);
/// # }
/// # Ok::<(), std::io::Error>(())
/// ```
#[must_use = "the lock is released as soon as the guard is dropped"]
pub struct ValueGuard<'a, T: Pod> {
    value: &'a RawValue<T>,
}

impl<T: Pod> Deref for ValueGuard<'_, T> {
    type Target = T;

    fn deref(&self) -> &T {
        // SAFETY: this guard holds the lock, so no thread of a well-behaved process writes
        // the T while the reference lives; T: Pod, so whatever bytes a misbehaving peer left
        // are a valid T. The pointer is in bounds and aligned (the object's size was checked
        // on open, and the mapping is page-aligned).
        self.value.data.with(|data| unsafe { &*data })
    }
}

impl<T: Pod> DerefMut for ValueGuard<'_, T> {
    fn deref_mut(&mut self) -> &mut T {
        // SAFETY: as in `deref`; `&mut self` makes this the only reference through the guard.
        self.value.data.with_mut(|data| unsafe { &mut *data })
    }
}

impl<T: Pod> Drop for ValueGuard<'_, T> {
    fn drop(&mut self) {
        self.value.lock.release();
    }
}

impl<T: Pod + fmt::Debug> fmt::Debug for ValueGuard<'_, T> {
    /// Shows the value.
    ///
    /// ```
    /// # #[cfg(target_os = "linux")] {
    /// let name = format!("/locksmith-doc-valueguard-debug-{}", std::process::id());
    /// let value = locksmith::process::Value::create(&name, 7i32)?;
    /// let guard = value.lock().unwrap();
    /// assert_eq!(format!("{guard:?}"), "ValueGuard(7)");
    /// # }
    /// # Ok::<(), std::io::Error>(())
    /// ```
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("ValueGuard").field(&**self).finish()
    }
}

#[cfg(all(not(any(loom, shuttle)), target_os = "linux"))]
mod named {
    use super::*;
    use crate::process::object::{Body, Object};
    use std::io;

    // SAFETY: repr(C): atomics, then a T: Pod (any bytes are a T); all zero is a free lock.
    unsafe impl<T: Pod> Body for RawValue<T> {
        const KIND: u32 = 6;
        const NAME: &'static str = "Value";
    }

    /// `multiprocessing.Value` in named shared memory: a `T` with its own lock.
    ///
    /// Unlike Python's, the lock survives its owner's death: the next `lock` after a process
    /// died holding it returns `Err(OwnerDied)` with the guard inside (the value may be
    /// half-written), once; after that guard is dropped the lock is healthy again. The lock
    /// is not re-entrant: locking it again from the thread that holds it panics.
    ///
    /// ```
    /// let name = format!("/locksmith-doc-value-{}", std::process::id());
    /// let balance = locksmith::process::Value::create(&name, 100i64)?;
    /// let other = locksmith::process::Value::<i64>::open(balance.name())?;
    /// *other.lock().unwrap() -= 30;
    /// assert_eq!(balance.load(), 70);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub struct Value<T: Pod> {
        object: Object<RawValue<T>>,
    }

    impl<T: Pod> Value<T> {
        /// Creates the value `name` holding `initial`, mode 0600; unlinked when this handle is
        /// dropped. `AlreadyExists` if the name is taken; `InvalidInput` for a bad name.
        ///
        /// ```
        /// let name = format!("/locksmith-doc-value-create-{}", std::process::id());
        /// let value = locksmith::process::Value::create(&name, [0u8; 4])?;
        /// assert_eq!(value.load(), [0; 4]);
        /// # Ok::<(), std::io::Error>(())
        /// ```
        pub fn create(name: &str, initial: T) -> io::Result<Value<T>> {
            Object::create(name, |raw: &RawValue<T>| {
                // Relaxed: published by the object's magic.
                raw.size.store(size_of::<T>() as u32, Ordering::Relaxed);
                raw.align.store(align_of::<T>() as u32, Ordering::Relaxed);
                // SAFETY: nobody else can see the object before `create` publishes it.
                raw.data.with_mut(|data| unsafe { data.write(initial) });
            })
            .map(|object| Value { object })
        }

        /// Opens the value another handle created. `NotFound` if there is none;
        /// `InvalidData` if `name` is not a locksmith `Value` of a type with `T`'s size and
        /// alignment, of this layout.
        ///
        /// ```
        /// let name = format!("/locksmith-doc-value-open-{}", std::process::id());
        /// let _value = locksmith::process::Value::create(&name, 1u32)?;
        /// let wrong = locksmith::process::Value::<u64>::open(&name);
        /// assert_eq!(wrong.unwrap_err().kind(), std::io::ErrorKind::InvalidData);
        /// # Ok::<(), std::io::Error>(())
        /// ```
        pub fn open(name: &str) -> io::Result<Value<T>> {
            let object = Object::<RawValue<T>>::open(name)?;
            if !object.body().holds_a_t() {
                return Err(crate::sync::shm::invalid_data(format!(
                    "{name} holds a value of another size or alignment than {} bytes aligned to {}",
                    size_of::<T>(),
                    align_of::<T>()
                )));
            }
            Ok(Value { object })
        }

        /// The value's name, with its leading `/`.
        ///
        /// ```
        /// let name = format!("/locksmith-doc-value-name-{}", std::process::id());
        /// let value = locksmith::process::Value::create(&name, 0u8)?;
        /// assert_eq!(value.name(), name);
        /// # Ok::<(), std::io::Error>(())
        /// ```
        pub fn name(&self) -> &str {
            self.object.name()
        }

        /// Locks the value and returns a guard to read and write it. `Err(OwnerDied)`: the
        /// caller holds the lock (the guard is inside), taken over from a process that died
        /// holding it. Panics if the calling thread holds the lock already.
        ///
        /// ```
        /// let name = format!("/locksmith-doc-value-lock-{}", std::process::id());
        /// let value = locksmith::process::Value::create(&name, 5u32)?;
        /// *value.lock().unwrap() *= 2;
        /// assert_eq!(value.load(), 10);
        /// # Ok::<(), std::io::Error>(())
        /// ```
        #[allow(clippy::type_complexity)]
        pub fn lock(&self) -> Result<ValueGuard<'_, T>, OwnerDied<ValueGuard<'_, T>>> {
            match self.object.body().lock_until(&Deadline::never()) {
                Some(locked) => locked,
                // An untimed wait ends only with the lock.
                None => unreachable!("an untimed lock returned without the lock"),
            }
        }

        /// Reads the value under the lock (a dead owner's half-written value included).
        ///
        /// ```
        /// let name = format!("/locksmith-doc-value-load-{}", std::process::id());
        /// let value = locksmith::process::Value::create(&name, 1.5f64)?;
        /// assert_eq!(value.load(), 1.5);
        /// # Ok::<(), std::io::Error>(())
        /// ```
        pub fn load(&self) -> T {
            *self.lock().unwrap_or_else(OwnerDied::into_inner)
        }

        /// Writes the value under the lock.
        ///
        /// ```
        /// let name = format!("/locksmith-doc-value-store-{}", std::process::id());
        /// let value = locksmith::process::Value::create(&name, 0u16)?;
        /// value.store(9);
        /// assert_eq!(value.load(), 9);
        /// # Ok::<(), std::io::Error>(())
        /// ```
        pub fn store(&self, value: T) {
            *self.lock().unwrap_or_else(OwnerDied::into_inner) = value;
        }
    }

    impl<T: Pod> fmt::Debug for Value<T> {
        /// Shows the name (not the value: reading it would take the lock).
        ///
        /// ```
        /// let name = format!("/locksmith-doc-value-debug-{}", std::process::id());
        /// let value = locksmith::process::Value::create(&name, 0u8)?;
        /// assert_eq!(format!("{value:?}"), format!("Value {{ name: {name:?} }}"));
        /// # Ok::<(), std::io::Error>(())
        /// ```
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.debug_struct("Value").field("name", &self.name()).finish()
        }
    }
}

#[cfg(all(not(any(loom, shuttle)), target_os = "linux"))]
pub use named::Value;
