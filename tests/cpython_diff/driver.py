"""The CPython side of tests/cpython_diff.rs: runs operation scripts on CPython 3.13's
threading and queue modules and prints what every step returned.

Input (stdin): one JSON document, {"settle_ms": S, "multi": [T, ...], "scripts": [...]}, each
    {"type": T, "init": {...}, "actors": N, "steps": [{"actor": k, "op": "...", "arg": ...}]}
Output (stdout): one JSON document, a list with one report per script:
    {"steps": [...], "finale": [...], "state": {...}, "stuck": [...]}

The protocol (tests/cpython_diff.rs runs the same one on locksmith; keep the two in step):

* Each actor is a thread fed through its own queue. Steps run one at a time, in order.
* A step whose actor is still blocked in an earlier step is skipped. So is a step that may
  block (see MAY_BLOCK) while another step is blocked, except for Event and Barrier, whose
  waiters are all released together: with one blocked step at a time, which waiter a wake-up
  picks is never a matter of scheduling.
* The driver sends a step and waits for its answer for SETTLE (see window_of: a timed call
  is waited for until it answers, a Condition's timed wait for its timeout + SETTLE). If it
  answers, the step is {"blocked": false, "result": R}; else it is blocked and its result is
  collected when it arrives ({"blocked": true, "result": R}). If a step was blocked before
  this one, the driver waits SETTLE more after it, for woken steps to answer.
* After the last step, a fixed per-type "finale" releases what is still blocked (FINALE),
  then a snapshot of the final state is taken. Steps still blocked after it are "stuck".

R is {"ok": value} or {"err": "ExceptionName"}.
"""

import json
import queue
import sys
import threading
import time

SETTLE = 0.03
QUEUES = ("Queue", "LifoQueue", "PriorityQueue")
MULTI = ("Event", "Barrier")  # types whose blocked steps may pile up; the input may say more


def may_block(kind, init, op):
    if kind in ("Lock", "RLock", "Semaphore", "BoundedSemaphore"):
        return op == "acquire"
    if kind in ("Condition", "ConditionLock"):
        return op in ("acquire", "wait")
    if kind in ("Event", "Barrier"):
        return op == "wait"
    if kind in QUEUES:
        return op in ("get", "join") or (op == "put" and init.get("maxsize", 0) > 0)
    if kind == "SimpleQueue":
        return op == "get"
    raise ValueError(kind)


# How long a timed call that cannot block past its timeout is waited for: it always answers,
# so a machine too loaded to answer within timeout + SETTLE does not make it look blocked.
TIMED_LIMIT = 5.0


def window_of(kind, step):
    """How long the runner waits for a step's answer before it calls the step blocked."""
    op, arg = step["op"], step.get("arg")
    if op in ("wait_t", "wait_for") and kind in ("Condition", "ConditionLock"):
        # It must take the lock back after its timeout, and another actor may hold it.
        return (arg if op == "wait_t" else arg["timeout"]) / 1000.0 + SETTLE
    if op in ("acquire_t", "wait_t", "get_t", "put_t"):
        return TIMED_LIMIT
    return SETTLE


def make(kind, init):
    if kind == "Lock":
        return threading.Lock()
    if kind == "RLock":
        return threading.RLock()
    if kind == "Semaphore":
        return threading.Semaphore(init["value"])
    if kind == "BoundedSemaphore":
        return threading.BoundedSemaphore(init["value"])
    if kind == "Event":
        return threading.Event()
    if kind == "Condition":
        return threading.Condition()
    if kind == "ConditionLock":
        return threading.Condition(threading.Lock())
    if kind == "Barrier":
        return threading.Barrier(init["parties"])
    if kind in QUEUES:
        return getattr(queue, kind)(init["maxsize"])
    if kind == "SimpleQueue":
        return queue.SimpleQueue()
    raise ValueError(kind)


def release_all(obj):
    """Releases every level the calling thread holds; returns how many."""
    count = 0
    while obj._is_owned():
        obj.release()
        count += 1
    return count


def run_op(kind, obj, op, arg):
    """One operation; returns its value (exceptions propagate)."""
    ms = (lambda a: a / 1000.0)
    if kind in ("Lock", "RLock", "Semaphore", "BoundedSemaphore", "Condition", "ConditionLock"):
        if op == "acquire":
            return obj.acquire()
        if op == "acquire_nb":
            return obj.acquire(blocking=False)
        if op == "acquire_t":
            return obj.acquire(timeout=ms(arg))
        if op == "release":
            return obj.release()
        if op == "release_n":
            return obj.release(arg)
        if op == "locked":
            return (obj._lock if kind == "ConditionLock" else obj).locked()
        if op == "value":
            return obj._value
        if op == "is_owned":
            return obj._is_owned()
        if op == "recursion_count":
            lock = obj._lock if kind == "Condition" else obj
            return lock._recursion_count()
        if op == "release_all":
            return release_all(obj)
    if kind in ("Condition", "ConditionLock"):
        if op == "wait":
            return obj.wait()
        if op == "wait_t":
            return obj.wait(ms(arg))
        if op == "wait_for":
            value = arg["pred"]
            return obj.wait_for(lambda: value, ms(arg["timeout"]))
        if op == "notify":
            return obj.notify(arg)
        if op == "notify_all":
            return obj.notify_all()
        if op == "notify_all_locked":
            with obj:
                obj.notify_all()
            return None
    if kind == "Event":
        if op == "set":
            return obj.set()
        if op == "clear":
            return obj.clear()
        if op == "is_set":
            return obj.is_set()
        if op == "wait":
            return obj.wait()
        if op == "wait_t":
            return obj.wait(ms(arg))
    if kind == "Barrier":
        if op == "wait":
            return obj.wait()
        if op == "wait_t":
            return obj.wait(ms(arg))
        if op == "abort":
            return obj.abort()
        if op == "reset":
            return obj.reset()
        if op == "n_waiting":
            return obj.n_waiting
        if op == "broken":
            return obj.broken
        if op == "parties":
            return obj.parties
    if kind in QUEUES or kind == "SimpleQueue":
        if op == "put":
            return obj.put(arg)
        if op == "put_nb":
            return obj.put(arg, block=False)
        if op == "put_t":
            return obj.put(arg["item"], timeout=ms(arg["timeout"]))
        if op == "get":
            return obj.get()
        if op == "get_nb":
            return obj.get(block=False)
        if op == "get_t":
            return obj.get(timeout=ms(arg))
        if op == "qsize":
            return obj.qsize()
        if op == "empty":
            return obj.empty()
    if kind in QUEUES:
        if op == "full":
            return obj.full()
        if op == "task_done":
            return obj.task_done()
        if op == "join":
            return obj.join()
        if op == "shutdown":
            return obj.shutdown(immediate=arg)
        if op == "is_shutdown":
            return obj.is_shutdown
    raise ValueError(f"{kind} has no op {op}")


def outcome(kind, obj, op, arg):
    try:
        return {"ok": run_op(kind, obj, op, arg)}
    except Exception as error:  # the exception's class name is the result
        return {"err": type(error).__name__}


def actor_loop(kind, obj, jobs, answers):
    while True:
        job = jobs.get()
        if job is None:
            return
        index, op, arg = job
        answers.put((index, outcome(kind, obj, op, arg)))


class Run:
    def __init__(self, script):
        self.kind = script["type"]
        self.init = script.get("init", {})
        self.obj = make(self.kind, self.init)
        self.answers = queue.SimpleQueue()
        self.jobs = [queue.SimpleQueue() for _ in range(script["actors"])]
        self.threads = []
        for jobs in self.jobs:
            thread = threading.Thread(
                target=actor_loop, args=(self.kind, self.obj, jobs, self.answers), daemon=True
            )
            thread.start()
            self.threads.append(thread)
        self.steps = script["steps"]
        self.out = [None] * len(self.steps)
        self.pending = {}  # step index (or finale key) -> actor
        self.extra = {}  # finale answers by key

    def store(self, index, result):
        self.pending.pop(index, None)
        if isinstance(index, int) and index >= 0:
            self.out[index]["result"] = result
        else:
            self.extra[index] = result

    def collect(self, seconds, want=None):
        """Stores answers for `seconds`, or until `want` answers; True if it did."""
        deadline = time.monotonic() + seconds
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return False
            try:
                index, result = self.answers.get(timeout=remaining)
            except queue.Empty:
                return False
            self.store(index, result)
            if want is not None and index == want:
                return True

    def on_actor(self, key, actor, op, arg, window):
        """Runs op on an actor; True if it answered within window."""
        self.pending[key] = actor
        self.jobs[actor].put((key, op, arg))
        return self.collect(window, want=key)

    def run(self):
        for i, step in enumerate(self.steps):
            actor = step["actor"]
            if actor in self.pending.values() or (
                may_block(self.kind, self.init, step["op"])
                and self.pending
                and self.kind not in MULTI
            ):
                self.out[i] = {"skipped": True}
                continue
            had_pending = bool(self.pending)
            self.out[i] = {"blocked": False}
            if not self.on_actor(i, actor, step["op"], step.get("arg"), window_of(self.kind, step)):
                self.out[i]["blocked"] = True
            elif had_pending:
                self.collect(SETTLE)
        finale = self.finale()
        state = self.snapshot()
        stuck = sorted(k for k in self.pending if isinstance(k, int) and k >= 0)
        for actor, jobs in enumerate(self.jobs):
            if actor not in self.pending.values():
                jobs.put(None)
        return {"steps": self.out, "finale": finale, "state": state, "stuck": stuck}

    def idle_actors(self):
        busy = set(self.pending.values())
        return [a for a in range(len(self.jobs)) if a not in busy]

    def main(self, op, arg=None):
        result = outcome(self.kind, self.obj, op, arg)
        self.collect(SETTLE)
        return {"by": "main", "op": op, "result": result}

    def actor(self, actor, op, settle=True):
        key = ("finale", op, actor)
        self.on_actor(key, actor, op, None, SETTLE)
        if settle:
            self.collect(SETTLE)
        return {"by": actor, "op": op, "result": self.extra.pop(key, None)}

    def finale(self):
        done = []
        if not self.pending:
            return done
        kind = self.kind
        if kind in ("Lock", "Semaphore", "BoundedSemaphore"):
            for _ in range(10):
                if not self.pending:
                    break
                done.append(self.main("release"))
        elif kind in ("RLock", "Condition"):
            for actor in self.idle_actors():
                done.append(self.actor(actor, "release_all"))
            if kind == "Condition" and self.pending:
                done.append(self.actor(self.idle_actors()[0], "notify_all_locked"))
        elif kind == "ConditionLock":
            for _ in range(10):
                if not self.pending:
                    break
                op = "release" if self.obj._lock.locked() else "notify_all_locked"
                done.append(self.main(op))
        elif kind == "Event":
            done.append(self.main("set"))
        elif kind == "Barrier":
            done.append(self.main("abort"))
        elif kind in QUEUES:
            done.append(self.main("shutdown", True))
            for _ in range(10):
                if not self.pending:
                    break
                done.append(self.main("task_done"))
        elif kind == "SimpleQueue":
            for _ in range(10):
                if not self.pending:
                    break
                done.append(self.main("put", -1))
        return done

    def snapshot(self):
        kind, obj = self.kind, self.obj
        if kind == "Lock":
            return {"locked": obj.locked()}
        if kind == "ConditionLock":
            return {"locked": obj._lock.locked()}
        if kind in ("Semaphore", "BoundedSemaphore"):
            return {"value": obj._value}
        if kind == "Event":
            return {"is_set": obj.is_set()}
        if kind == "Barrier":
            return {"broken": obj.broken, "n_waiting": obj.n_waiting, "parties": obj.parties}
        if kind in ("RLock", "Condition"):
            owners = {}
            for actor in self.idle_actors():
                owned = self.actor(actor, "is_owned", settle=False)["result"]
                count = self.actor(actor, "recursion_count", settle=False)["result"]
                owners[str(actor)] = [owned, count]
            return {"owners": owners}
        state = {"qsize": obj.qsize()}
        if kind in QUEUES:
            state["is_shutdown"] = obj.is_shutdown
            state["unfinished_tasks"] = obj.unfinished_tasks
        items = []
        while True:
            result = outcome(kind, obj, "get_nb", None)
            if "err" in result:
                state["drained_by"] = result["err"]
                break
            items.append(result["ok"])
        state["items"] = items
        return state


def main():
    document = json.load(sys.stdin)
    global SETTLE, MULTI
    SETTLE = document.get("settle_ms", 30) / 1000.0
    MULTI = tuple(document.get("multi", MULTI))
    sys.setswitchinterval(0.0005)
    reports = [Run(script).run() for script in document["scripts"]]
    json.dump({"python": list(sys.version_info[:3]), "reports": reports}, sys.stdout)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
