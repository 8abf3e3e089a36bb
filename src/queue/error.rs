//! The queue module's errors: Python's `queue.Full`, `queue.Empty` and `queue.ShutDown`
//! exceptions, and the `ValueError` of a `task_done` called too many times.

use core::fmt;

/// Why a put was refused. The item comes back to the caller inside the error, and the queue
/// is unchanged.
///
/// Python raises `queue.Full` or `queue.ShutDown`; the item stays with the caller there too.
/// `Debug` does not need `T: Debug` (it prints `Full(..)`), so `unwrap` works on any item.
///
/// ```
/// # if locksmith::__internals::LOOM_BUILD { return; }
/// use locksmith::queue::{PutError, Queue};
///
/// let queue = Queue::new(1);
/// queue.put("first").unwrap();
/// let refused = queue.try_put("second").unwrap_err();
/// assert_eq!(refused, PutError::Full("second"));
/// assert_eq!(refused.into_inner(), "second");
///
/// queue.shutdown(false);
/// assert!(queue.try_put("third").unwrap_err().is_shutdown());
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub enum PutError<T> {
    /// The queue was full (at its deadline, for a waiting put). Python: `queue.Full`.
    Full(T),
    /// The queue was shut down. Python: `queue.ShutDown`.
    ShutDown(T),
}

impl<T> PutError<T> {
    /// The item that was not put.
    ///
    /// ```
    /// # if locksmith::__internals::LOOM_BUILD { return; }
    /// let queue = locksmith::queue::LifoQueue::new(1);
    /// queue.put(1).unwrap();
    /// assert_eq!(queue.try_put(2).unwrap_err().into_inner(), 2);
    /// ```
    pub fn into_inner(self) -> T {
        match self {
            PutError::Full(item) | PutError::ShutDown(item) => item,
        }
    }

    /// Whether the queue was full.
    ///
    /// ```
    /// # if locksmith::__internals::LOOM_BUILD { return; }
    /// let queue = locksmith::queue::Queue::new(1);
    /// queue.put(1).unwrap();
    /// assert!(queue.try_put(2).unwrap_err().is_full());
    /// ```
    pub fn is_full(&self) -> bool {
        matches!(self, PutError::Full(_))
    }

    /// Whether the queue was shut down.
    ///
    /// ```
    /// # if locksmith::__internals::LOOM_BUILD { return; }
    /// let queue = locksmith::queue::Queue::new(0);
    /// queue.shutdown(false);
    /// assert!(queue.put(1).unwrap_err().is_shutdown());
    /// ```
    pub fn is_shutdown(&self) -> bool {
        matches!(self, PutError::ShutDown(_))
    }
}

impl<T> fmt::Debug for PutError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            PutError::Full(_) => "Full(..)",
            PutError::ShutDown(_) => "ShutDown(..)",
        })
    }
}

impl<T> fmt::Display for PutError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            PutError::Full(_) => "queue is full",
            PutError::ShutDown(_) => "queue is shut down",
        })
    }
}

impl<T> std::error::Error for PutError<T> {}

/// Why a get returned no item.
///
/// Python raises `queue.Empty` or `queue.ShutDown`. A shut-down queue still hands out the
/// items left in it; `ShutDown` comes only once it is empty.
///
/// ```
/// # if locksmith::__internals::LOOM_BUILD { return; }
/// use locksmith::queue::{GetError, Queue};
///
/// let queue = Queue::new(0);
/// assert_eq!(queue.try_get(), Err::<u8, _>(GetError::Empty));
/// queue.put(7).unwrap();
/// queue.shutdown(false);
/// assert_eq!(queue.try_get(), Ok(7));
/// assert_eq!(queue.try_get(), Err(GetError::ShutDown));
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum GetError {
    /// The queue was empty (at its deadline, for a waiting get). Python: `queue.Empty`.
    Empty,
    /// The queue was shut down and empty. Python: `queue.ShutDown`.
    ShutDown,
}

impl fmt::Display for GetError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            GetError::Empty => "queue is empty",
            GetError::ShutDown => "queue is shut down",
        })
    }
}

impl std::error::Error for GetError {}

/// `task_done` was called more times than items were put. The count of unfinished tasks is
/// unchanged. Python: `ValueError: task_done() called too many times`.
///
/// ```
/// # if locksmith::__internals::LOOM_BUILD { return; }
/// use locksmith::queue::{Queue, TaskDoneError};
///
/// let queue = Queue::<u8>::new(0);
/// assert_eq!(queue.task_done(), Err(TaskDoneError));
/// assert_eq!(TaskDoneError.to_string(), "task_done() called too many times");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub struct TaskDoneError;

impl fmt::Display for TaskDoneError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("task_done() called too many times")
    }
}

impl std::error::Error for TaskDoneError {}
