"""Searches in worker processes, so concurrent searches use every core.

Why: about half of a search is Python (query building, stored documents, hit
marking, facet assembly). Threads of one process run that Python one at a time
(the GIL), so eight researchers searching at once in the web process queue for
one interpreter. ``SearchPool`` runs ``search`` in ``workers`` processes
(``KHOLUU_SEARCH_WORKERS``; by default every core, see
``kholuu.settings.search_worker_count``; 0 = no pool, searches run in the
calling thread as before). Each worker opens its own backend with
``opener`` when it starts; processes are started with ``spawn`` because the
tantivy index handles and Elasticsearch connections must not cross a fork.

Only ``search`` goes to the workers. Everything else (indexing, ``present``,
``count``, ``rebuild``, ``close``) runs on the in-process backend. The caller
builds the ``SearchQuery`` with its access filter exactly as without the pool;
a worker only executes it. A worker's typed error (``QuerySyntaxError``,
``SearchError``) reaches the caller unchanged; a worker that died is replaced
by a new one and the search retried once on it. Workers see rebuilds and
other writers' commits because the backend checks for them on every search.
"""

from __future__ import annotations

import logging
import multiprocessing
import signal
import threading
import time
import traceback
from collections import deque
from functools import partial
from typing import TYPE_CHECKING, Any, Callable, Iterable, Sequence

from indexing.base import IndexDocument, SearchBackend, SearchQuery, SearchResult
from kholuu.errors import SearchError, SearchUnavailable

if TYPE_CHECKING:
    from multiprocessing.connection import Connection
    from multiprocessing.process import BaseProcess

    from kholuu.settings import Settings

log = logging.getLogger("kholuu.search")
CLOSE_WAIT_S = 30.0


def _serve(conn: "Connection", opener: Callable[[], SearchBackend]) -> None:
    """A worker process: open the backend, say so, then answer queries until told to stop.

    Each answer is ``("ok", result, cpu_ms)`` or ``("error", exception, traceback text)``;
    Ctrl+C is for the parent, which stops the workers."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        backend = opener()
    except BaseException as exc:  # noqa: BLE001 - reported to the parent, which raises it
        conn.send(("error", _sendable(exc), traceback.format_exc()))
        return
    conn.send(("ready",))
    try:
        while True:
            try:
                query = conn.recv()
            except EOFError:
                return
            if query is None:
                return
            cpu_started = time.thread_time()
            try:
                result = backend.search(query)
            except Exception as exc:  # noqa: BLE001 - the caller gets it as if in-process
                conn.send(("error", _sendable(exc), traceback.format_exc()))
                continue
            conn.send(("ok", result, (time.thread_time() - cpu_started) * 1000))
    finally:
        backend.close()


def _sendable(exc: BaseException) -> BaseException:
    """The exception itself when it survives pickling (typed errors do), else a SearchError saying what it was."""
    import pickle

    try:
        pickle.loads(pickle.dumps(exc))
        return exc
    except Exception:  # noqa: BLE001 - anything unpicklable becomes a plain message
        return SearchError(f"{type(exc).__name__}: {exc}")


class _WorkerDied(Exception):
    pass


class RemoteTraceback(Exception):
    """Where in the worker an unexpected error came from: its traceback, as the cause
    of the error the caller gets (the worker's frames do not cross the pipe)."""

    def __str__(self) -> str:
        return "\n" + str(self.args[0])


def _raise(answer: tuple) -> None:
    """Raise a worker's error; one that is not a typed SearchError (a bug) keeps its traceback."""
    exc = answer[1]
    if not isinstance(exc, SearchError):
        raise exc from RemoteTraceback(answer[2])
    raise exc


class _Waiter:
    """A thread waiting for an idle worker."""

    def __init__(self) -> None:
        self.event = threading.Event()
        self.worker: _Worker | None = None


class _Worker:
    """One worker process and the parent's end of its pipe; used by one thread at a time."""

    def __init__(self, ctx: Any, opener: Callable[[], SearchBackend]):
        self.conn, child = ctx.Pipe()
        self.process: BaseProcess = ctx.Process(target=_serve, args=(child, opener), daemon=True,
                                                name="kholuu-search")
        self.process.start()
        child.close()
        self.is_ready = False   # the worker said it opened its backend

    def _receive(self) -> tuple:
        try:
            return self.conn.recv()
        except (EOFError, OSError) as exc:
            raise _WorkerDied() from exc

    def ready(self) -> None:
        """Wait until the worker has opened its backend."""
        if not self.is_ready:
            answer = self._receive()
            if answer[0] == "error":
                _raise(answer)
            self.is_ready = True

    def search(self, query: SearchQuery) -> tuple[SearchResult, float]:
        self.ready()
        try:
            self.conn.send(query)
        except (OSError, ValueError) as exc:
            raise _WorkerDied() from exc
        answer = self._receive()
        if answer[0] == "error":
            _raise(answer)
        return answer[1], answer[2]

    def stop(self, wait_s: float) -> None:
        try:
            self.conn.send(None)
        except (OSError, ValueError):
            pass
        self.process.join(wait_s)
        if self.process.is_alive():
            self.process.kill()
            self.process.join(1)
        self.conn.close()


class SearchPool:
    """A ``SearchBackend`` whose ``search`` runs in worker processes (see the module docstring).

    Each worker has its own pipe; a searching thread takes an idle worker (or waits
    for one), sends the query, and reads the answer itself: no relay thread between."""

    def __init__(self, backend: SearchBackend, opener: Callable[[], SearchBackend], workers: int):
        if workers < 1:
            raise ValueError(f"SearchPool needs at least one worker, not {workers}")
        self.backend = backend
        self.name = backend.name
        self.workers = workers
        self._opener = opener
        self._ctx = multiprocessing.get_context("spawn")
        self._closed = False
        self._all_stopped = False    # stop_workers took the idle workers: late returns are stopped
        # idle workers, and the threads waiting for one in arrival order: a returned worker
        # goes to the longest waiting thread (a plain queue lets a thread that just finished
        # take it again at once, and a few unlucky requests wait for seconds)
        self._lock = threading.Condition()
        self._idle: list[_Worker] = [_Worker(self._ctx, opener) for _ in range(workers)]   # start in parallel
        self._live: list[_Worker] = list(self._idle)   # every live worker, idle or busy
        self._waiting: deque[_Waiter] = deque()

    def _take(self) -> _Worker:
        with self._lock:
            if self._closed:
                raise SearchUnavailable("the search pool is closed")
            if self._idle and not self._waiting:
                return self._idle.pop()
            waiter = _Waiter()
            self._waiting.append(waiter)
        waiter.event.wait()
        if waiter.worker is None:
            raise SearchUnavailable("the search pool is closed")
        return waiter.worker

    def _give_back(self, worker: _Worker) -> None:
        with self._lock:
            if self._waiting and not self._closed:
                waiter = self._waiting.popleft()
                waiter.worker = worker
                waiter.event.set()
                return
            if self._closed and self._all_stopped:   # returned after stop_workers gave up waiting
                worker.stop(0)
                return
            self._idle.append(worker)
            self._lock.notify_all()

    def _replace(self, worker: _Worker) -> _Worker:
        """A new worker in place of one that stopped."""
        worker.stop(0)
        new = _Worker(self._ctx, self._opener)
        with self._lock:
            self._live = [new if w is worker else w for w in self._live]
        return new

    def pids(self) -> list[int]:
        """Process ids of the current workers (a replaced worker's new process), for CPU accounting."""
        with self._lock:
            return sorted(int(w.process.pid) for w in self._live)

    def warm(self) -> list[int]:
        """Wait until every worker has opened its backend. Returns the workers' process ids."""
        taken = [self._take() for _ in range(self.workers)]
        try:
            for i, w in enumerate(taken):
                try:
                    w.ready()
                except _WorkerDied:
                    taken[i] = self._replace(w)
                    taken[i].ready()
        finally:
            for w in taken:
                self._give_back(w)
        return self.pids()

    def search_timed(self, query: SearchQuery) -> tuple[SearchResult, float]:
        """``search`` plus the CPU time (ms) the worker spent on it (for the benchmark)."""
        worker = self._take()
        try:
            for _attempt in range(2):
                try:
                    return worker.search(query)
                except _WorkerDied:
                    log.warning("search worker %s stopped; starting a new one", worker.process.pid)
                    worker = self._replace(worker)
            raise SearchUnavailable("the search worker stopped twice while running this search; see the server log")
        finally:
            self._give_back(worker)

    def search(self, query: SearchQuery) -> SearchResult:
        return self.search_timed(query)[0]

    # -- everything else: the in-process backend --------------------------------
    def index(self, documents: Iterable[IndexDocument]) -> int:
        return self.backend.index(documents)

    def delete(self, ids: Sequence[int]) -> None:
        self.backend.delete(ids)

    def count(self) -> int:
        return self.backend.count()

    def present(self, ids: Sequence[int]) -> set[int]:
        return self.backend.present(ids)

    def clear(self) -> None:
        self.backend.clear()

    def stop_workers(self) -> None:
        """Stop the workers (waiting up to CLOSE_WAIT_S for searches still running); searches
        after this are a ``SearchError``. The in-process backend stays open."""
        with self._lock:
            if not self._closed:
                self._closed = True
                for waiter in self._waiting:   # threads still waiting get "closed"
                    waiter.event.set()
                self._waiting.clear()
                self._lock.wait_for(lambda: len(self._idle) == self.workers, timeout=CLOSE_WAIT_S)
            idle, self._idle = self._idle, []
            self._all_stopped = True
        for w in idle:
            w.stop(5)

    def close(self) -> None:
        """Stop the workers, then close the in-process backend."""
        self.stop_workers()
        self.backend.close()

    def __getattr__(self, name: str) -> Any:
        """Backend-specific extras (``rebuild``, ``complete``, Elasticsearch's ``drop``) stay in-process."""
        if name == "backend":   # not set yet (during __init__): no recursion
            raise AttributeError(name)
        return getattr(self.backend, name)


def pooled(backend: SearchBackend, opener: Callable[[], SearchBackend], workers: int) -> SearchBackend:
    """``backend`` with its searches in ``workers`` processes, or ``backend`` itself for 0."""
    if workers <= 0:
        return backend
    return SearchPool(backend, opener, workers)


def open_search_backend(settings: "Settings") -> SearchBackend:
    """The configured backend with its searches in ``search_worker_count(settings)`` processes (the web app's)."""
    import indexing
    from kholuu.settings import search_worker_count

    return pooled(indexing.open_backend(settings), partial(indexing.open_backend, settings),
                  search_worker_count(settings))
