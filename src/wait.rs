//! The wait core: one FIFO of parked threads per object, shared by every primitive.
//!
//! A waiting thread builds its [`Waiter`] node on its own stack, links it into the queue and
//! parks. A waker takes nodes from the front, hands each a *token* (a small number whose
//! meaning belongs to the primitive: "retry", "you own it now", "the barrier broke", ...) and
//! unparks it. Nothing is allocated: the queue is a doubly linked list threaded through the
//! waiters' own stack frames, guarded by a tiny spin lock that is held only to edit the list.
//!
//! A waiter's node moves through three states, and the rule that keeps it sound is that a
//! node is only ever freed (its thread returns from [`WaitQueue::wait`]) in the last one:
//!
//! | state      | meaning                                              | who moves it on        |
//! |------------|------------------------------------------------------|------------------------|
//! | `LINKED`   | in the queue                                          | a waker, or the waiter itself on timeout, under the list lock |
//! | `UNLINKED` | a waker took it out; the token is on its way          | that waker, without the lock |
//! | token      | the waker is done with the node                       | nobody: the waiter returns |
//!
//! The timeout race ("the classic lost permit") is settled under the list lock: a waiter whose
//! deadline passed takes the lock and looks at its state. Still `LINKED`: it unlinks itself
//! and nobody can have meant a wake-up for it. Already `UNLINKED`: a waker chose it first, so
//! it waits (untimed, briefly) for the token and returns *woken*, and the primitive treats the
//! wake-up as delivered, never dropped.

use core::marker::PhantomPinned;
use core::ptr;

use crate::sync::{
    AtomicBool, AtomicUsize, Deadline, Ordering, SpinGuard, SpinLock, SpinWait, Thread, UnsafeCell,
    park, park_until,
};

/// In the queue. Only a waker, or the waiter itself on timeout, moves it on, under the lock.
const LINKED: usize = usize::MAX;
/// Taken out by a waker that will store the token next; the waiter must not leave yet.
const UNLINKED: usize = usize::MAX - 1;
/// The largest token: every value below the two marks above is the primitive's to use.
pub const MAX_TOKEN: usize = usize::MAX - 2;

/// What a waker hands each waiter it wakes: a small number whose meaning belongs to the
/// primitive ("retry", "the round was released", "the barrier broke", ...).
///
/// A token is never one of the core's two node states: [`Token::new`] refuses them, and the
/// crate's tokens are all `const` items, so a bad one is a compile error rather than a panic
/// inside [`WaitQueue::wake`], where the chosen waiters are already detached and would be
/// left parked for good.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Token(usize);

impl Token {
    /// The token `value`.
    ///
    /// # Panics
    /// If `value` is above [`MAX_TOKEN`]. In a `const` item that is a compile-time error:
    ///
    /// ```compile_fail
    /// use locksmith::__internals::Token;
    /// const BAD: Token = Token::new(usize::MAX); // one of the core's node states
    /// assert_eq!(BAD.get(), usize::MAX);
    /// ```
    ///
    /// ```
    /// use locksmith::__internals::{MAX_TOKEN, Token};
    /// const LARGEST: Token = Token::new(MAX_TOKEN);
    /// assert_eq!(LARGEST.get(), usize::MAX - 2);
    /// ```
    pub const fn new(value: usize) -> Token {
        assert!(
            value <= MAX_TOKEN,
            "a wait-core token must be at most MAX_TOKEN"
        );
        Token(value)
    }

    /// The number inside.
    pub const fn get(self) -> usize {
        self.0
    }
}

/// How a call to [`WaitQueue::wait`] ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WaitResult {
    /// A waker handed this token over.
    Woken(Token),
    /// The deadline passed first; the waiter is out of the queue.
    TimedOut,
    /// The primitive's `should_park` check said not to wait; nothing was queued.
    Skipped,
}

/// What a waker found, told to the primitive under the list lock.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Woke {
    /// How many waiters this call is waking.
    pub count: usize,
    /// Whether waiters remain in the queue after them.
    pub more: bool,
}

/// One parked thread's place in a queue. Lives on the waiting thread's stack, inside
/// [`WaitQueue::wait`], which returns only once no other thread can reach it.
struct Waiter {
    /// Neighbours in the queue; read and written only under the list lock (and by the waker
    /// that unlinked this node, which owns the links from then on).
    prev: UnsafeCell<*const Waiter>,
    next: UnsafeCell<*const Waiter>,
    /// `LINKED`, `UNLINKED` or the token.
    state: AtomicUsize,
    thread: Thread,
    /// The queue holds this node's address, so it must not move.
    _pinned: PhantomPinned,
}

impl Waiter {
    fn new() -> Self {
        Waiter {
            prev: UnsafeCell::new(ptr::null()),
            next: UnsafeCell::new(ptr::null()),
            state: AtomicUsize::new(LINKED),
            thread: Thread::current(),
            _pinned: PhantomPinned,
        }
    }

    /// The token, once a waker has handed it over.
    #[inline]
    fn token(&self) -> Option<Token> {
        // Acquire pairs with the waker's Release store of the token, so everything the waker
        // did before waking us (the primitive's state change) is visible once we see it.
        let state = self.state.load(Ordering::Acquire);
        (state <= MAX_TOKEN).then_some(Token(state))
    }
}

/// A FIFO of parked threads. One per object (two for a bounded queue: putters and getters).
pub struct WaitQueue {
    /// The list lock. Held only to link, unlink or detach nodes, never while parking or
    /// unparking, so a spin lock is enough.
    list_lock: SpinLock,
    /// Whether the list is non-empty, readable without the lock (see
    /// [`has_waiters`](WaitQueue::has_waiters)). Written only under the list lock, whenever
    /// `head` changes between null and non-null. Fits in the list lock's padding.
    queued: AtomicBool,
    head: UnsafeCell<*const Waiter>,
    tail: UnsafeCell<*const Waiter>,
}

// SAFETY: the raw pointers in `head`/`tail` and in the nodes are only followed under the list
// lock, and only to nodes still linked, whose threads are blocked inside `wait` and cannot
// free them (see the module docs). Nothing in the queue is tied to one thread.
unsafe impl Send for WaitQueue {}
// SAFETY: as above; all shared mutation goes through the list lock or atomics.
unsafe impl Sync for WaitQueue {}

impl Default for WaitQueue {
    fn default() -> Self {
        Self::new()
    }
}

impl core::fmt::Debug for WaitQueue {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("WaitQueue")
            .field("queued", &self.len())
            .finish()
    }
}

/// Holds the list lock; releases it on drop (also if a primitive's callback panics), which
/// makes our list edits, and the state changes the primitive's callback made, visible to the
/// next holder.
struct ListGuard<'a>(#[allow(dead_code)] SpinGuard<'a>);

impl WaitQueue {
    /// An empty queue.
    #[cfg(not(loom))]
    pub const fn new() -> Self {
        WaitQueue {
            list_lock: SpinLock::new(),
            queued: AtomicBool::new(false),
            head: UnsafeCell::new(ptr::null()),
            tail: UnsafeCell::new(ptr::null()),
        }
    }

    /// An empty queue.
    #[cfg(loom)]
    pub fn new() -> Self {
        WaitQueue {
            list_lock: SpinLock::new(),
            queued: AtomicBool::new(false),
            head: UnsafeCell::new(ptr::null()),
            tail: UnsafeCell::new(ptr::null()),
        }
    }

    /// Parks the calling thread in this queue until a waker hands it a token or `deadline`
    /// passes.
    ///
    /// `should_park` runs under the list lock before the thread is queued; returning false
    /// skips the wait. This is where a primitive checks that its "someone waits" mark is
    /// still in place: a waker looks at the queue only after seeing that mark, and the list
    /// lock orders the check against the waker's look, so no wake-up falls between them.
    ///
    /// `on_timeout(now_empty)` runs under the list lock once a timed-out waiter is out of the
    /// queue, so the primitive can clear its mark when nobody is left.
    ///
    /// A waiter that times out after a waker chose it returns `Woken`, never `TimedOut`: the
    /// wake-up is delivered, and the primitive decides what it means after the deadline.
    ///
    /// `should_park` and `on_timeout` run with the list lock held, a spin lock every waker
    /// and waiter of this queue needs. They must be short, and must not block, park or
    /// touch this queue (that deadlocks). They may read and write the primitive's atomics,
    /// which is what they are for. A panic in them unwinds cleanly as far as the queue goes
    /// (the guard releases the lock; the node is not in the queue before `should_park`
    /// returns true, nor after it is unlinked for `on_timeout`), but leaves the primitive's
    /// state as the callback left it, so the crate's callbacks never panic.
    pub fn wait(
        &self,
        deadline: &Deadline,
        should_park: impl FnOnce() -> bool,
        on_timeout: impl FnOnce(bool),
    ) -> WaitResult {
        self.wait_linked(deadline, should_park, || {}, on_timeout)
    }

    /// [`wait`](WaitQueue::wait), with `after_linked` run once the waiter is in the queue and
    /// the list lock is released, before it parks. A condition variable releases its user's
    /// lock there: any notifier that takes that lock afterwards finds the waiter queued.
    pub fn wait_linked(
        &self,
        deadline: &Deadline,
        should_park: impl FnOnce() -> bool,
        after_linked: impl FnOnce(),
        on_timeout: impl FnOnce(bool),
    ) -> WaitResult {
        let waiter = Waiter::new();
        {
            let list = self.lock_list();
            if !should_park() {
                return WaitResult::Skipped;
            }
            if deadline.expired() {
                on_timeout(self.head(&list).is_null());
                return WaitResult::TimedOut;
            }
            // SAFETY: we hold the list lock, and `waiter` stays where it is until this
            // function returns, which it does only after the node is out of the queue.
            unsafe { self.push_back(&list, &waiter) };
        }
        after_linked();
        loop {
            if let Some(token) = waiter.token() {
                return WaitResult::Woken(token);
            }
            if deadline.expired() {
                let list = self.lock_list();
                // Relaxed: the state leaves LINKED only under the list lock we now hold.
                if waiter.state.load(Ordering::Relaxed) == LINKED {
                    // SAFETY: lock held and the node is linked.
                    unsafe { self.unlink(&list, &waiter) };
                    on_timeout(self.head(&list).is_null());
                    return WaitResult::TimedOut;
                }
                drop(list);
                // A waker took us out before our deadline check: its token is on the way and
                // it unparks us after storing it. We must not leave before then (it still
                // reads our node), so wait for it untimed.
                loop {
                    if let Some(token) = waiter.token() {
                        return WaitResult::Woken(token);
                    }
                    park();
                }
            }
            park_until(deadline);
        }
    }

    /// Wakes up to `max` waiters, oldest first, handing each the token `decide` returns.
    /// Returns how many it woke.
    ///
    /// `decide` runs under the list lock, after the waiters are chosen and before any of
    /// them runs, so the primitive can update its state (hand over ownership, clear its
    /// "someone waits" mark when `!woke.more`) consistently with the queue. It runs even
    /// when nobody waits. Like `wait`'s callbacks it runs under the list lock, so it must be
    /// short, must not block or touch this queue, and must not panic: the chosen waiters are
    /// already detached then, and a panic would leave them parked for good.
    pub fn wake(&self, max: usize, decide: impl FnOnce(Woke) -> Token) -> usize {
        let list = self.lock_list();
        let first = self.head(&list);
        let mut rest = first;
        let mut count = 0;
        while count < max && !rest.is_null() {
            // SAFETY: under the list lock every linked node is alive (its thread is blocked
            // in `wait` until the node leaves the LINKED state).
            let node = unsafe { &*rest };
            // Relaxed: the waiter reads this only under the list lock (or waits for the
            // token's Release store below).
            node.state.store(UNLINKED, Ordering::Relaxed);
            // SAFETY: as above; a linked node's links are read under the list lock.
            rest = node.next.with(|next| unsafe { *next });
            count += 1;
        }
        self.set_head(&list, rest);
        if rest.is_null() {
            self.set_tail(&list, ptr::null());
            self.set_queued(&list, false);
        } else {
            // SAFETY: `rest` is linked and alive, as above.
            unsafe { (*rest).prev.with_mut(|prev| *prev = ptr::null()) };
        }
        let token = decide(Woke {
            count,
            more: !rest.is_null(),
        });
        drop(list);

        let mut cursor = first;
        for _ in 0..count {
            // SAFETY: the node is UNLINKED, so its thread waits for the token and the node
            // stays alive; nobody else reaches it now that it is off the list.
            let node = unsafe { &*cursor };
            // Read everything we need before the token: after the store the waiter may return
            // and its stack frame, this node with it, is gone.
            // SAFETY: the detached chain's links are ours alone (see above).
            cursor = node.next.with(|next| unsafe { *next });
            let thread = node.thread.clone();
            // Release: publishes the primitive's state change (made before this call and in
            // `decide`) to the waiter's Acquire load of its token.
            node.state.store(token.get(), Ordering::Release);
            thread.unpark();
        }
        count
    }

    /// Whether a thread may be queued, read without taking the list lock.
    ///
    /// It sees every waiter that linked before something the caller has synchronised with:
    /// a condition variable's waiter links while holding the user's lock and releases that
    /// lock afterwards, so a notifier holding the lock since then reads `true` until that
    /// waiter leaves. It may still read `true` for a waiter that has just left (a harmless
    /// look at an empty list). A caller without such an ordering must use [`wake`]
    /// (WaitQueue::wake), which always looks under the lock.
    #[inline]
    pub fn has_waiters(&self) -> bool {
        // Relaxed: the caller's own synchronisation (above) orders the link before this load,
        // and coherence then makes the load read that write or a later one (an unlink).
        self.queued.load(Ordering::Relaxed)
    }

    /// How many threads are queued now. For tests and Debug output; a snapshot only.
    pub fn len(&self) -> usize {
        let list = self.lock_list();
        let mut count = 0;
        let mut cursor = self.head(&list);
        while !cursor.is_null() {
            count += 1;
            // SAFETY: under the list lock every linked node is alive.
            cursor = unsafe { (*cursor).next.with(|next| *next) };
        }
        count
    }

    /// Whether no thread is queued now. A snapshot only.
    pub fn is_empty(&self) -> bool {
        let list = self.lock_list();
        self.head(&list).is_null()
    }

    #[inline]
    fn lock_list(&self) -> ListGuard<'_> {
        ListGuard(self.list_lock.lock())
    }

    // The list helpers below take the list lock's guard: only its holder may call them.

    fn head(&self, _list: &ListGuard<'_>) -> *const Waiter {
        // SAFETY: the list lock, held by the caller (the guard proves it), orders every
        // access to `head`.
        self.head.with(|head| unsafe { *head })
    }

    fn set_head(&self, _list: &ListGuard<'_>, node: *const Waiter) {
        // SAFETY: as in `head`.
        self.head.with_mut(|head| unsafe { *head = node });
    }

    fn set_queued(&self, _list: &ListGuard<'_>, queued: bool) {
        // Relaxed: written under the list lock; readers rely on their own synchronisation
        // (see `has_waiters`).
        self.queued.store(queued, Ordering::Relaxed);
    }

    fn set_tail(&self, _list: &ListGuard<'_>, node: *const Waiter) {
        // SAFETY: as in `head`.
        self.tail.with_mut(|tail| unsafe { *tail = node });
    }

    /// # Safety
    /// `node` stays alive and unmoved until it is unlinked.
    unsafe fn push_back(&self, list: &ListGuard<'_>, node: &Waiter) {
        // SAFETY: the lock orders accesses to `tail` and to the linked nodes' fields; every
        // linked node is alive (caller's contract for the new one, the invariant for the rest).
        unsafe {
            let tail = self.tail.with(|tail| *tail);
            node.prev.with_mut(|prev| *prev = tail);
            node.next.with_mut(|next| *next = ptr::null());
            if tail.is_null() {
                self.set_head(list, node);
                self.set_queued(list, true);
            } else {
                (*tail).next.with_mut(|next| *next = node);
            }
            self.set_tail(list, node);
        }
    }

    /// # Safety
    /// `node` is linked in this queue.
    unsafe fn unlink(&self, list: &ListGuard<'_>, node: &Waiter) {
        // SAFETY: the lock is held and every linked node, `node`'s neighbours included, is
        // alive.
        unsafe {
            let prev = node.prev.with(|prev| *prev);
            let next = node.next.with(|next| *next);
            if prev.is_null() {
                self.set_head(list, next);
                if next.is_null() {
                    self.set_queued(list, false);
                }
            } else {
                (*prev).next.with_mut(|p| *p = next);
            }
            if next.is_null() {
                self.set_tail(list, prev);
            } else {
                (*next).prev.with_mut(|p| *p = prev);
            }
        }
    }
}

/// The bit of a [`ParkedWord`] that says "a thread may be parked in the queue": a thread that
/// changes the word in a way a waiter waits for and sees this bit must call
/// [`ParkedWord::wake`]. Set by a waiter before it parks; cleared, under the queue's lock, by
/// whoever leaves the queue empty. Every other bit of the word is the primitive's.
pub const PARKED: usize = 0b1;

/// The one token a [`ParkedWord`] hands a woken waiter: the word changed, look again. Nothing
/// is handed over: a running thread may take what the waker released first (which keeps
/// throughput up), and the waiter then parks again.
pub const TOKEN_RETRY: Token = Token::new(0);

/// What a primitive's `step` makes of the word, in [`ParkedWord::wait`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Step<R> {
    /// The wait is over, with this result (the step took what it waited for, or saw it).
    Done(R),
    /// The word changed under the step's compare-exchange: read it again.
    Retry,
    /// Nothing to take yet: park until a waker changes the word.
    Park,
}

/// A state word plus the queue of threads waiting for it to change: the protocol `Lock`,
/// `Semaphore` and `Event` share, written once.
///
/// A waiter reads the word and asks the primitive's `step` what it means. If it must wait, it
/// sets [`PARKED`] with a compare-exchange from the value it read, then parks in the queue
/// only if, under the queue's lock, the word still holds exactly that value with `PARKED`.
/// A waker changes the word with one read-modify-write; if that saw `PARKED`, it calls
/// [`wake`](ParkedWord::wake), which takes the same lock. The lock orders the waiter's last
/// look before the waker's (the waker finds it queued and wakes it) or after (the waiter sees
/// the change and does not park): no wake-up is lost. `PARKED` is cleared under the lock by
/// whoever leaves the queue empty, a waker or a waiter that timed out.
pub struct ParkedWord {
    state: AtomicUsize,
    waiters: WaitQueue,
}

impl ParkedWord {
    /// A word holding `state` (whose [`PARKED`] bit must be clear), with nobody waiting.
    #[cfg(not(loom))]
    pub const fn new(state: usize) -> Self {
        ParkedWord {
            state: AtomicUsize::new(state),
            waiters: WaitQueue::new(),
        }
    }

    /// A word holding `state` (whose [`PARKED`] bit must be clear), with nobody waiting.
    #[cfg(loom)]
    pub fn new(state: usize) -> Self {
        ParkedWord {
            state: AtomicUsize::new(state),
            waiters: WaitQueue::new(),
        }
    }

    /// The word itself, for the primitive's fast paths and wakers.
    #[inline]
    pub fn state(&self) -> &AtomicUsize {
        &self.state
    }

    /// How many threads are queued now: a snapshot, for tests and Debug output.
    pub fn queued(&self) -> usize {
        self.waiters.len()
    }

    /// Runs `step` on the word until it says [`Step::Done`], parking while it says
    /// [`Step::Park`] (after a short spin first, if `spin`). Returns `timed_out()` if the
    /// deadline passes while parked.
    ///
    /// A waiter woken after its deadline steps once more rather than giving up: the wake-up
    /// was meant for it, and giving up would strand the waiters behind it. A step that still
    /// finds nothing parks again, and the queue then reports the passed deadline.
    pub fn wait<R>(
        &self,
        deadline: &Deadline,
        spin: bool,
        mut step: impl FnMut(usize) -> Step<R>,
        timed_out: impl FnOnce() -> R,
    ) -> R {
        let mut spin_wait = SpinWait::new();
        loop {
            // Acquire: a step that finishes on what it read alone (an Event's flag) must see
            // what the thread that changed the word did before; a step that takes something
            // does it with an Acquire compare-exchange of its own.
            let state = self.state.load(Ordering::Acquire);
            match step(state) {
                Step::Done(result) => return result,
                Step::Retry => continue,
                // The timeout rule, here once for all three primitives: a deadline that had
                // passed when it was made (a zero timeout) looks once, and never spins,
                // marks PARKED or queues.
                Step::Park if deadline.is_now() => return timed_out(),
                Step::Park => {}
            }
            if state & PARKED == 0 {
                if spin && spin_wait.spin() {
                    continue;
                }
                // Relaxed: PARKED only routes wakers to the queue; the queue's lock orders
                // everything the wake-up depends on.
                if self
                    .state
                    .compare_exchange_weak(
                        state,
                        state | PARKED,
                        Ordering::Relaxed,
                        Ordering::Relaxed,
                    )
                    .is_err()
                {
                    continue;
                }
            }
            let waited = self.waiters.wait(
                deadline,
                // Relaxed, under the queue's lock: a waker that changed the word after our
                // PARKED went in saw PARKED and takes this lock after us (we are queued, it
                // wakes us) or before us (then the lock's Acquire makes its change visible
                // here, and we do not park).
                || self.state.load(Ordering::Relaxed) == state | PARKED,
                |now_empty| {
                    if now_empty {
                        // Relaxed: under the queue's lock, as above.
                        self.state.fetch_and(!PARKED, Ordering::Relaxed);
                    }
                },
            );
            match waited {
                WaitResult::TimedOut => return timed_out(),
                WaitResult::Woken(_) | WaitResult::Skipped => spin_wait.reset(),
            }
        }
    }

    /// Wakes up to `n` of the oldest waiters, and clears [`PARKED`] if none is left. Call it
    /// after a change a waiter may wait for, when the read-modify-write that made the change
    /// saw `PARKED`. Returns how many it woke.
    #[cold]
    #[inline(never)]
    pub fn wake(&self, n: usize) -> usize {
        self.waiters.wake(n, |woke| {
            if !woke.more {
                // Relaxed: under the queue's lock; a waiter about to queue re-checks the word
                // there and sets PARKED again.
                self.state.fetch_and(!PARKED, Ordering::Relaxed);
            }
            TOKEN_RETRY
        })
    }
}
