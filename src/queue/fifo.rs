//! A `Queue`'s store: the ring when bounded (and small enough to allocate up front), the
//! locked container otherwise. Both are [`Store`]s; this one only passes each call on.

use crate::queue::blocking::Store;
use crate::queue::locked::{Fifo, Locked};
use crate::queue::ring::Ring;
use crate::queue::{GetError, PutError};

/// The FIFO store of a `Queue`.
// The ring is large only because its two hot atomics sit on cache lines of their own; boxing
// it would add a pointer chase to every put and get.
#[allow(clippy::large_enum_variant)]
pub(crate) enum FifoStore<T> {
    Ring(Ring<T>),
    Locked(Locked<Fifo<T>>),
}

impl<T> FifoStore<T> {
    pub(crate) fn new(maxsize: usize) -> Self {
        if Ring::<T>::fits(maxsize) {
            FifoStore::Ring(Ring::new(maxsize))
        } else {
            FifoStore::Locked(Locked::new(maxsize))
        }
    }
}

/// The same call on whichever store this is.
macro_rules! on_store {
    ($self:ident, $store:ident => $call:expr) => {
        match $self {
            FifoStore::Ring($store) => $call,
            FifoStore::Locked($store) => $call,
        }
    };
}

impl<T> Store for FifoStore<T> {
    type Item = T;

    #[inline]
    fn try_push(&self, item: T, accepted: impl FnOnce()) -> Result<(), PutError<T>> {
        on_store!(self, store => store.try_push(item, accepted))
    }

    #[inline]
    fn try_pop(&self, draining: bool) -> Result<T, GetError> {
        on_store!(self, store => store.try_pop(draining))
    }

    fn can_pop(&self) -> bool {
        on_store!(self, store => store.can_pop())
    }

    fn can_push(&self) -> bool {
        on_store!(self, store => store.can_push())
    }

    fn shutdown(&self, immediate: bool) {
        on_store!(self, store => store.shutdown(immediate))
    }

    fn is_shutdown(&self) -> bool {
        on_store!(self, store => store.is_shutdown())
    }

    fn len(&self) -> usize {
        on_store!(self, store => store.len())
    }

    fn maxsize(&self) -> usize {
        on_store!(self, store => store.maxsize())
    }
}
