//! One trait over `Lock` and `RLock`, so a test is written once and run on both. Shared by
//! the CPython ports (`tests/common`) and the proptests (`tests/props_support`).

use locksmith::{Lock, LockGuard, RLock, RLockGuard, ReleaseError};
use std::time::Duration;

/// The operations the tests use, forwarding to `Lock`'s and `RLock`'s own methods.
pub trait TestLock: Default + Send + Sync + 'static {
    /// The guard `lock()` returns.
    type Guard<'a>;

    fn acquire(&self);
    fn try_acquire(&self) -> bool;
    fn acquire_timeout(&self, timeout: Duration) -> bool;
    fn release(&self) -> Result<(), ReleaseError>;
    fn locked(&self) -> bool;
    fn queued_waiters(&self) -> usize;
    fn lock(&self) -> Self::Guard<'_>;
    fn try_lock(&self) -> Option<Self::Guard<'_>>;
    fn lock_timeout(&self, timeout: Duration) -> Option<Self::Guard<'_>>;
}

macro_rules! impl_test_lock {
    ($lock:ident, $guard:ident) => {
        impl TestLock for $lock {
            type Guard<'a> = $guard<'a>;

            fn acquire(&self) {
                $lock::acquire(self)
            }
            fn try_acquire(&self) -> bool {
                $lock::try_acquire(self)
            }
            fn acquire_timeout(&self, timeout: Duration) -> bool {
                $lock::acquire_timeout(self, timeout)
            }
            fn release(&self) -> Result<(), ReleaseError> {
                $lock::release(self)
            }
            fn locked(&self) -> bool {
                $lock::locked(self)
            }
            fn queued_waiters(&self) -> usize {
                $lock::queued_waiters(self)
            }
            fn lock(&self) -> $guard<'_> {
                $lock::lock(self)
            }
            fn try_lock(&self) -> Option<$guard<'_>> {
                $lock::try_lock(self)
            }
            fn lock_timeout(&self, timeout: Duration) -> Option<$guard<'_>> {
                $lock::lock_timeout(self, timeout)
            }
        }
    };
}

impl_test_lock!(Lock, LockGuard);
impl_test_lock!(RLock, RLockGuard);
