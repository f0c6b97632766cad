"""Searches in worker processes, so concurrent searches use every core.

Why: about half of a search is Python (query building, stored documents, hit
marking, facet assembly). Threads of one process run that Python one at a time
(the GIL), so eight researchers searching at once in the web process queue for
one interpreter. ``SearchPool`` runs ``search`` in ``workers`` processes
(``KHOLUU_SEARCH_WORKERS``, default: the number of cores; 0 = no pool, searches
run in the calling thread as before). Each worker opens its own backend with
``opener`` in its initializer; processes are started with ``spawn`` because the
tantivy index handles and Elasticsearch connections must not cross a fork.

Only ``search`` goes to the workers. Everything else (indexing, ``present``,
``count``, ``rebuild``, ``close``) runs on the in-process backend. The caller
builds the ``SearchQuery`` with its access filter exactly as without the pool;
a worker only executes it. A worker's typed error (``QuerySyntaxError``,
``SearchError``) reaches the caller unchanged; a dead worker breaks the pool,
which is then replaced and the search retried once. Workers see rebuilds and
other writers' commits because the backend checks for them on every search.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import signal
import threading
import time
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from functools import partial
from typing import TYPE_CHECKING, Any, Callable, Iterable, Sequence

from indexing.base import IndexDocument, SearchBackend, SearchQuery, SearchResult
from kholuu.errors import SearchError

if TYPE_CHECKING:
    from kholuu.settings import Settings

log = logging.getLogger("kholuu.search")

_worker_backend: SearchBackend | None = None   # the backend of this worker process


def _start_worker(opener: Callable[[], SearchBackend]) -> None:
    """Worker initializer: open the backend once; Ctrl+C is for the parent (it shuts workers down)."""
    global _worker_backend
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _worker_backend = opener()


def _search_in_worker(query: SearchQuery) -> tuple[SearchResult, float]:
    """One search in a worker, with the worker's CPU time for it (ms): the caller cannot see it."""
    assert _worker_backend is not None, "search worker without a backend"
    cpu_started = time.thread_time()
    result = _worker_backend.search(query)
    return result, (time.thread_time() - cpu_started) * 1000


def _worker_pid() -> int:
    time.sleep(0.05)   # keeps this worker busy so the next warm-up call starts another one
    return os.getpid()


class SearchPool:
    """A ``SearchBackend`` whose ``search`` runs in worker processes (see the module docstring)."""

    def __init__(self, backend: SearchBackend, opener: Callable[[], SearchBackend], workers: int):
        if workers < 1:
            raise ValueError(f"SearchPool needs at least one worker, not {workers}")
        self.backend = backend
        self.name = backend.name
        self.workers = workers
        self._opener = opener
        self._lock = threading.Lock()
        self._closed = False
        self._executor = self._new_executor()

    def _new_executor(self) -> ProcessPoolExecutor:
        return ProcessPoolExecutor(max_workers=self.workers, mp_context=multiprocessing.get_context("spawn"),
                                   initializer=_start_worker, initargs=(self._opener,))

    def _replace(self, broken: ProcessPoolExecutor) -> None:
        """A worker died: start a new pool (once, however many searches saw the old one break)."""
        with self._lock:
            if self._closed:
                raise SearchError("the search pool is closed")
            if self._executor is broken:
                log.warning("a search worker died; starting new search workers")
                broken.shutdown(wait=False, cancel_futures=True)
                self._executor = self._new_executor()

    def warm(self, timeout_s: float = 20.0) -> list[int]:
        """Start every worker now (each opens its index) rather than on the first searches.
        Returns the process ids of the workers that answered (all of them unless one is
        slower to start than ``timeout_s``)."""
        seen: set[int] = set()
        deadline = time.monotonic() + timeout_s
        while len(seen) < self.workers and time.monotonic() < deadline:
            executor = self._executor   # rounds of short calls: busy workers make the pool start the rest
            try:
                seen.update(f.result() for f in [executor.submit(_worker_pid) for _ in range(self.workers)])
            except BrokenProcessPool:
                self._replace(executor)
                seen.clear()
        return sorted(seen)

    def search_timed(self, query: SearchQuery) -> tuple[SearchResult, float]:
        """``search`` plus the CPU time (ms) the worker spent on it (for the benchmark)."""
        for _attempt in range(2):
            executor = self._executor
            try:
                return executor.submit(_search_in_worker, query).result()
            except BrokenProcessPool:
                self._replace(executor)
            except RuntimeError as exc:   # submit after shutdown: closed, or replaced meanwhile
                if self._closed:
                    raise SearchError("the search pool is closed") from exc
        raise SearchError("the search worker stopped twice while running this search; see the server log")

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

    def close(self) -> None:
        with self._lock:
            self._closed = True
            executor = self._executor
        executor.shutdown(wait=True, cancel_futures=True)
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
    """The configured backend with searches in ``settings.search_workers`` processes (the web app's)."""
    import indexing

    return pooled(indexing.open_backend(settings), partial(indexing.open_backend, settings),
                  settings.search_workers)
