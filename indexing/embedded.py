"""The older embedded search backend: SQLite FTS5 in its own file, no server.

No longer the default (``indexing.tantivy_index`` is: 4–5× less CPU per query
at 200,000 documents, see ``docs/SEARCH_PERF.md``); kept as the benchmark's
baseline (``bench/search.py --embedded fts5|both``) and still held to the
whole contract suite (``tests/test_indexing_embedded.py``).

One FTS5 row per document (so "all words" means all words of the document,
wherever its pages split them), with four columns: the body text in an exact
form (lower case, diacritics kept) and a folded form (accent-free), and the
metadata (subject, number, issuer, signer) in both forms. The FTS table is
contentless: the page texts are stored once, in ``page``, and the FTS values
are recomputed from them to delete a document. Metadata columns for filters and
facets live in ``doc`` and ``entity``.

Searching: FTS5 only finds the matching document ids (one ``group_concat``
string, cheap to hand over even for 200,000 ids). Access, filters, facets and
ordering work on numpy arrays of every document's fonds, type, issuer, year,
date, access mode and entities (``_Columns``), loaded once per index
generation: each write transaction bumps ``meta.generation``, and a search
that sees a new generation (written by this or any other process) reloads them
inside its own snapshot. So facets over 200,000 matches are a ``bincount``,
not a SQL group-by or a Python loop.

Ranking, strictest first: documents matching every accented term exactly
(``mã`` is not ``ma``), then documents where words typed one after another
appear as a phrase, then BM25 — each tier a whole number, BM25 squeezed into
[0, 1). BM25 is computed only when at most ``rank_limit`` documents match; a
broader query orders each tier by date, newest first (one packed int64 key per
match, sorted in numpy). Best page and snippet are
computed in Python for the returned hits only.

Thread safety: one connection per thread (``threading.local``), WAL mode so
readers never wait for the writer, and a lock so one thread writes at a time.
The index is derived data: ``kholuu index rebuild`` recreates it from the catalog.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Iterable, Iterator, Sequence

import numpy as np

from indexing.abbrev import expand_query
from indexing.fields import facet_key, keyed_filters, normalized_fields
from indexing.base import FacetValue, Hit, IndexDocument, IndexPage, SearchQuery, SearchResult
from indexing.folding import fold_text
from indexing.fts import exact_expression, match_expression, phrase_expression
from indexing.query import ParsedQuery, checked_query, parse_query
from indexing.snippets import document_hits
from kholuu.errors import QuerySyntaxError, SearchError
from kholuu.textnorm import normalize

FORMAT_VERSION = "2"
MAX_LIMIT = 1000
FACET_LIMIT = 20
BATCH = 500
EXACT_TIER, PHRASE_TIER = 2.0, 1.0
# BM25 for at most this many matching documents; broader queries order each tier
# by date. BM25 costs ~18 µs CPU per matching document here (7,736 matches: 140 ms
# of a 250 ms query at 200,000 documents), so above 2,000 it would break the
# 100 ms budget on its own.
RANK_LIMIT = 2_000
ENTITY_FACETS = {"person": "PER", "organization": "ORG", "place": "LOC"}
# document columns kept in memory as integer codes (filters, facets, ordering)
_CODED = ("fonds", "doc_type_key", "doc_type_fold", "issuer_key", "issuer_fold", "access_mode", "register",
          "file_number")
_DMAX = 2**22 - 1     # julian day numbers fit in 22 bits

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS doc(
    id INTEGER PRIMARY KEY,
    fonds TEXT NOT NULL, fonds_name TEXT NOT NULL DEFAULT '',
    register TEXT, file_number TEXT,
    doc_type TEXT, doc_type_key TEXT, doc_type_fold TEXT,
    number_symbol TEXT,
    issuer TEXT, issuer_key TEXT, issuer_fold TEXT,
    place TEXT, issued_date TEXT, year INTEGER,
    subject TEXT, signer_name TEXT,
    access_mode TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS ix_doc_fonds ON doc(fonds);
CREATE INDEX IF NOT EXISTS ix_doc_year ON doc(year);
CREATE INDEX IF NOT EXISTS ix_doc_date ON doc(issued_date);
CREATE INDEX IF NOT EXISTS ix_doc_type_key ON doc(doc_type_key);
CREATE INDEX IF NOT EXISTS ix_doc_issuer_key ON doc(issuer_key);
CREATE TABLE IF NOT EXISTS page(
    doc_id INTEGER NOT NULL, page_no INTEGER NOT NULL, page_id INTEGER NOT NULL, text TEXT NOT NULL
);
CREATE UNIQUE INDEX IF NOT EXISTS ix_page_doc ON page(doc_id, page_no);
CREATE TABLE IF NOT EXISTS entity(doc_id INTEGER NOT NULL, label TEXT NOT NULL, canonical TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS ix_entity_doc ON entity(doc_id);
CREATE INDEX IF NOT EXISTS ix_entity_value ON entity(label, canonical);
CREATE VIRTUAL TABLE IF NOT EXISTS doc_fts USING fts5(
    exact, folded, meta_exact, meta_folded,
    tokenize = 'unicode61 remove_diacritics 0', content = ''
);
"""


def _fts_values(pages: Sequence[str], meta: Sequence[str | None]) -> tuple[str, str, str, str]:
    """The four FTS column values, from the stored (normalized) texts. Deterministic:
    deleting a row from a contentless table needs exactly the values inserted."""
    body = "\n".join(pages)
    head = "\n".join(m for m in meta if m)
    return body.lower(), fold_text(body).lower(), head.lower(), fold_text(head).lower()


# -- in-memory columns ---------------------------------------------------------
def _encode(values: Sequence[object]) -> tuple[np.ndarray, list]:
    """Small integer codes for values (``None`` → -1) and the list of distinct values
    (``dict.fromkeys`` and ``map`` keep the loop in C: 3 s → under 1 s at 200k)."""
    distinct = [v for v in dict.fromkeys(values) if v is not None]
    index: dict[object, int] = {v: i for i, v in enumerate(distinct)}
    index[None] = -1
    return np.fromiter(map(index.__getitem__, values), dtype=np.int32, count=len(values)), distinct


def _first_shown(codes: np.ndarray, shown: Sequence[object], n_values: int) -> list[str]:
    """For each code, the shown form of the first document (lowest id) carrying it."""
    first = np.full(n_values, -1, dtype=np.int64)
    valid = np.flatnonzero(codes >= 0)
    # reversed assignment: the lowest position wins
    first[codes[valid][::-1]] = valid[::-1]
    return [str(shown[i]) if i >= 0 and shown[i] else "" for i in first]


@dataclass
class _Columns:
    """What filters, facets and ordering need of every document, as numpy arrays
    by position (documents in id order). Built from ``doc`` and ``entity`` once per
    index generation, so a search filters and counts 200,000 matches in a few
    milliseconds instead of SQL joins and Python loops over every match."""

    generation: str
    ids: np.ndarray                  # int64, sorted
    day: np.ndarray                  # julian day number, 0 when undated
    year: np.ndarray                 # -1 when undated
    codes: dict[str, np.ndarray]     # column -> int32 codes by position
    vocab: dict[str, list]           # column -> distinct values
    shown: dict[str, list[str]]      # fonds -> name, doc_type_key -> doc_type, issuer_key -> issuer
    ent_pos: np.ndarray              # entity rows: document position
    ent_label: np.ndarray            # entity rows: label code
    ent_value: np.ndarray            # entity rows: canonical value code
    ent_labels: list
    ent_values: list
    lookup: dict[str, dict] = field(default_factory=dict)   # column -> value -> code
    pos_of: np.ndarray | None = None                        # id -> position (-1: none), if ids are dense
    by_label: dict[str, tuple[np.ndarray, np.ndarray]] = field(default_factory=dict)  # label -> (pos, value)

    def __post_init__(self) -> None:
        # ids are mostly dense (catalog ids): a lookup table beats a binary search
        top = int(self.ids[-1]) if len(self.ids) else -1
        self.pos_of = None
        if 0 <= top <= 4 * len(self.ids) + 1024:
            self.pos_of = np.full(top + 1, -1, dtype=np.int64)
            self.pos_of[self.ids] = np.arange(len(self.ids), dtype=np.int64)
        self.by_label = {label: (self.ent_pos[self.ent_label == code], self.ent_value[self.ent_label == code])
                         for code, label in enumerate(self.ent_labels)}
        self.lookup = {name: {v: i for i, v in enumerate(values)} for name, values in self.vocab.items()}
        self.lookup["entity label"] = {v: i for i, v in enumerate(self.ent_labels)}
        self.lookup["entity value"] = {v: i for i, v in enumerate(self.ent_values)}

    @classmethod
    def load(cls, conn: sqlite3.Connection, generation: str) -> "_Columns":
        rows = conn.execute(
            "SELECT id, CAST(julianday(issued_date) AS INTEGER), year, " + ", ".join(_CODED)
            + ", doc_type, issuer, fonds_name FROM doc ORDER BY id").fetchall()
        n = len(rows)
        cols = list(zip(*rows)) if rows else [()] * (3 + len(_CODED) + 3)
        ids = np.fromiter(cols[0], dtype=np.int64, count=n)
        day = np.fromiter((d or 0 for d in cols[1]), dtype=np.int64, count=n)
        year = np.fromiter((-1 if y is None else y for y in cols[2]), dtype=np.int64, count=n)
        codes, vocab = {}, {}
        for k, name in enumerate(_CODED):
            codes[name], vocab[name] = _encode(cols[3 + k])
        extra = {"doc_type_key": cols[3 + len(_CODED)], "issuer_key": cols[4 + len(_CODED)],
                 "fonds": cols[5 + len(_CODED)]}
        shown = {name: _first_shown(codes[name], values, len(vocab[name])) for name, values in extra.items()}
        ent = conn.execute("SELECT doc_id, label, canonical FROM entity").fetchall()   # any order will do
        e = list(zip(*ent)) if ent else [(), (), ()]
        ent_ids = np.fromiter(e[0], dtype=np.int64, count=len(ent))
        ent_label, ent_labels = _encode(e[1])
        ent_value, ent_values = _encode(e[2])
        return cls(generation=generation, ids=ids, day=day, year=year, codes=codes, vocab=vocab, shown=shown,
                   ent_pos=np.searchsorted(ids, ent_ids), ent_label=ent_label, ent_value=ent_value,
                   ent_labels=ent_labels, ent_values=ent_values)

    def _eq(self, name: str, value: object) -> np.ndarray:
        code = self.lookup[name].get(value)
        if code is None:
            return np.zeros(len(self.ids), dtype=bool)
        return self.codes[name] == code

    def _in(self, name: str, values: Sequence[object]) -> np.ndarray:
        wanted = [self.lookup[name][v] for v in set(values) if v in self.lookup[name]]
        return np.isin(self.codes[name], wanted)

    def _entity_positions(self, label: str, value: str) -> np.ndarray:
        lc, vc = self.lookup["entity label"].get(label), self.lookup["entity value"].get(value)
        if lc is None or vc is None:
            return np.zeros(0, dtype=np.int64)
        return self.ent_pos[(self.ent_label == lc) & (self.ent_value == vc)]

    def mask(self, q: SearchQuery) -> np.ndarray:
        """Documents the caller may see (modes OR granted ids OR fonds scope) and
        that pass the query's filters."""
        visible = self._in("access_mode", q.access_modes)
        if q.granted_ids:
            visible |= self._eq("access_mode", "conditional") & np.isin(self.ids, [int(i) for i in q.granted_ids])
        if q.fonds_scope:
            visible |= self._in("fonds", [str(f) for f in q.fonds_scope])
        m = visible
        if q.fonds:
            m &= self._eq("fonds", q.fonds.strip())
        for column, key in keyed_filters(q):
            m &= self._eq(column, key)
        if q.year_from is not None:
            m &= (self.year >= int(q.year_from)) & (self.year >= 0)
        if q.year_to is not None:
            m &= (self.year <= int(q.year_to)) & (self.year >= 0)
        if q.register:
            m &= self._eq("register", q.register.strip())
        if q.file_number:
            m &= self._eq("file_number", q.file_number.strip())
        if q.entity:
            label, value = q.entity
            has = np.zeros(len(self.ids), dtype=bool)
            has[self._entity_positions(label, normalize(value).strip())] = True
            m &= has
        return m

    def positions(self, rowids: np.ndarray) -> np.ndarray:
        """Positions of document ids (all present: same snapshot as the FTS table)."""
        if self.pos_of is not None:
            rowids = rowids[(rowids >= 0) & (rowids < len(self.pos_of))]
            pos = self.pos_of[rowids]
            return pos[pos >= 0]
        pos = np.searchsorted(self.ids, rowids)
        ok = pos < len(self.ids)
        ok[ok] = self.ids[pos[ok]] == rowids[ok]
        return pos[ok]

    def key(self, pos: np.ndarray, tier: np.ndarray, sort: str) -> np.ndarray:
        """The packed sort key (ids below 2**31): smaller sorts first."""
        ids = self.ids[pos]
        day = self.day[pos]
        undated = (day == 0).astype(np.int64)
        tier_rank = 3 - tier.astype(np.int64)
        if sort == "relevance":
            return (tier_rank << 54) | (undated << 53) | ((_DMAX - day) << 31) | ids
        dkey = day if sort == "date_asc" else _DMAX - day
        return (undated << 55) | (dkey << 33) | (tier_rank << 31) | ids

    def order(self, pos: np.ndarray, tier: np.ndarray, sort: str, need: int) -> np.ndarray:
        """The first ``need`` indices into ``pos`` in result order, by one int64 key
        per document (unique: the id is in it, so a partial sort is exact):
        relevance = tier, then newest first; date sorts = date, then tier; id last."""
        ids = self.ids[pos]
        day = self.day[pos]
        undated = (day == 0).astype(np.int64)
        tier_rank = 3 - tier.astype(np.int64)
        if len(ids) and int(ids.max()) >= 2**31:     # ids too large for the packed key
            if sort == "relevance":
                return np.lexsort((ids, -day, undated, tier_rank))[:need]
            return np.lexsort((ids, tier_rank, day if sort == "date_asc" else -day, undated))[:need]
        key = self.key(pos, tier, sort)
        if need <= 0:
            return np.zeros(0, dtype=np.int64)
        if need < len(key):
            top = np.argpartition(key, need - 1)[:need]
            return top[np.argsort(key[top])]
        return np.argsort(key)

    def facets(self, pos: np.ndarray) -> dict[str, list[FacetValue]]:
        """Document counts per value over the matches (already access-filtered)."""
        def top(name: str, counts: np.ndarray, values: list, n: int = FACET_LIMIT) -> list[tuple[int, int]]:
            """The ``n`` most frequent codes, ties by value; only codes that can
            make the cut are sorted in Python."""
            nz = np.flatnonzero(counts)
            if len(nz) > n:
                cut = np.partition(counts[nz], len(nz) - n)[len(nz) - n]
                nz = nz[counts[nz] >= cut]
            pairs = sorted(((-int(counts[c]), str(values[c]), int(c)) for c in nz))
            return [(c, -k) for k, _, c in pairs[:n]]

        out: dict[str, list[FacetValue]] = {}
        fc = self.codes["fonds"][pos]
        counts = np.bincount(fc[fc >= 0], minlength=len(self.vocab["fonds"]))
        out["fonds"] = [FacetValue(value=str(self.vocab["fonds"][c]), count=k,
                                   label=self.shown["fonds"][c] or str(self.vocab["fonds"][c]))
                        for c, k in top("fonds", counts, self.vocab["fonds"])]
        for key in ("doc_type", "issuer"):
            name = f"{key}_key"
            codes = self.codes[name][pos]
            counts = np.bincount(codes[codes >= 0], minlength=len(self.vocab[name]))
            out[key] = [FacetValue(value=self.shown[name][c] or str(self.vocab[name][c]), count=k,
                                   label=self.shown[name][c] or str(self.vocab[name][c]))
                        for c, k in top(name, counts, self.vocab[name])]
        years = self.year[pos]
        ys, yc = np.unique(years[years >= 0], return_counts=True)
        out["year"] = [FacetValue(value=str(int(y)), count=int(c), label=str(int(y))) for y, c in zip(ys[::-1], yc[::-1])]
        matched = np.zeros(len(self.ids), dtype=bool)
        matched[pos] = True
        for key, entity_label in ENTITY_FACETS.items():
            if entity_label not in self.by_label:
                out[key] = []
                continue
            epos, evalue = self.by_label[entity_label]
            vals = evalue[matched[epos]]
            counts = np.bincount(vals, minlength=len(self.ent_values))
            out[key] = [FacetValue(value=str(self.ent_values[c]), count=k, label=str(self.ent_values[c]))
                        for c, k in top(key, counts, self.ent_values)]
        return out


class EmbeddedBackend:
    """``SearchBackend`` over SQLite FTS5 in ``path`` (created on first use)."""

    name = "embedded"

    def __init__(self, path: Path | str, *, busy_timeout_s: float = 30.0, rank_limit: int = RANK_LIMIT):
        self.path = Path(path)
        self.busy_timeout_s = busy_timeout_s
        self.rank_limit = rank_limit
        self._local = threading.local()
        self._all: list[sqlite3.Connection] = []
        self._write_lock = threading.Lock()
        self._closed = False
        self._cols: _Columns | None = None
        self._cols_lock = threading.Lock()
        if str(self.path) != ":memory:":
            self.path.parent.mkdir(parents=True, exist_ok=True)
        conn = self._conn()
        with self._write_lock:
            try:
                conn.execute("CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT NOT NULL)")
                row = conn.execute("SELECT value FROM meta WHERE key = 'format'").fetchone()
                if row is not None and row[0] != FORMAT_VERSION:
                    # derived data in an older layout: start empty (`kholuu index status`
                    # then shows every document missing; `kholuu index rebuild` refills it)
                    for table in ("doc_fts", "page", "entity", "doc", "meta"):
                        conn.execute(f"DROP TABLE IF EXISTS {table}")
                    row = None
                conn.executescript(_SCHEMA)
                if row is None:
                    conn.execute("INSERT OR REPLACE INTO meta(key, value) VALUES ('format', ?)", (FORMAT_VERSION,))
            except sqlite3.DatabaseError as exc:
                raise SearchError(f"{self.path}: not a usable search index ({exc}); delete it and run "
                                  "`kholuu index rebuild`") from None

    # -- connections ---------------------------------------------------------
    def _conn(self) -> sqlite3.Connection:
        if self._closed:
            raise SearchError(f"{self.path}: the search index is closed")
        conn = getattr(self._local, "conn", None)
        if conn is None:
            try:
                conn = sqlite3.connect(str(self.path), timeout=self.busy_timeout_s, isolation_level=None,
                                       check_same_thread=False)
                conn.execute("PRAGMA journal_mode=WAL")
                conn.execute("PRAGMA synchronous=NORMAL")
                conn.execute(f"PRAGMA busy_timeout={int(self.busy_timeout_s * 1000)}")
                conn.execute("PRAGMA temp_store=MEMORY")
                conn.execute("PRAGMA cache_size=-32000")
            except sqlite3.DatabaseError as exc:
                raise SearchError(f"{self.path}: cannot open the search index ({exc}); it is derived data: "
                                  "delete the file and run `kholuu index rebuild`") from None
            self._local.conn = conn
            self._all.append(conn)
        return conn

    def close(self) -> None:
        self._closed = True
        for conn in self._all:
            try:
                conn.close()
            except sqlite3.Error:
                pass
        self._all.clear()
        self._local = threading.local()

    # -- writing -------------------------------------------------------------
    def _delete(self, conn: sqlite3.Connection, doc_id: int) -> None:
        row = conn.execute("SELECT subject, number_symbol, issuer, signer_name FROM doc WHERE id = ?",
                           (doc_id,)).fetchone()
        if row is None:
            return
        texts = [r[0] for r in conn.execute("SELECT text FROM page WHERE doc_id = ? ORDER BY page_no", (doc_id,))]
        conn.execute("INSERT INTO doc_fts(doc_fts, rowid, exact, folded, meta_exact, meta_folded) "
                     "VALUES ('delete', ?, ?, ?, ?, ?)", (doc_id, *_fts_values(texts, row)))
        conn.execute("DELETE FROM page WHERE doc_id = ?", (doc_id,))
        conn.execute("DELETE FROM entity WHERE doc_id = ?", (doc_id,))
        conn.execute("DELETE FROM doc WHERE id = ?", (doc_id,))

    def _insert(self, conn: sqlite3.Connection, d: IndexDocument) -> None:
        f = normalized_fields(d)
        subject, number, issuer, signer, doc_type = f.subject, f.number_symbol, f.issuer, f.signer_name, f.doc_type
        pages, texts = f.pages, f.texts
        tkey, tfold = facet_key(doc_type)
        ikey, ifold = facet_key(issuer)
        conn.execute(
            "INSERT INTO doc(id, fonds, fonds_name, register, file_number, doc_type, doc_type_key, doc_type_fold,"
            " number_symbol, issuer, issuer_key, issuer_fold, place, issued_date, year, subject, signer_name,"
            " access_mode) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
            (d.id, d.fonds, d.fonds_name or "", d.register, d.file_number, doc_type, tkey, tfold, number,
             issuer, ikey, ifold, f.place,
             d.issued_date.isoformat() if d.issued_date else None, d.year, subject, signer, d.access_mode))
        conn.executemany("INSERT INTO page(doc_id, page_no, page_id, text) VALUES (?,?,?,?)",
                         [(d.id, p.page_no, p.page_id, t) for p, t in zip(pages, texts)])
        conn.executemany("INSERT INTO entity(doc_id, label, canonical) VALUES (?,?,?)",
                         [(d.id, label, value) for label, value in f.entities])
        conn.execute("INSERT INTO doc_fts(rowid, exact, folded, meta_exact, meta_folded) VALUES (?,?,?,?,?)",
                     (d.id, *_fts_values(texts, f.meta)))

    @contextmanager
    def _writing(self) -> Iterator[sqlite3.Connection]:
        """One write transaction at a time; SQLite failures become ``SearchError``."""
        conn = self._conn()
        with self._write_lock:
            try:
                conn.execute("BEGIN IMMEDIATE")
            except sqlite3.OperationalError as exc:
                raise SearchError(f"{self.path}: cannot write the search index ({exc})") from None
            try:
                yield conn
                # a new generation: searches reload the in-memory columns (any process)
                conn.execute("INSERT INTO meta(key, value) VALUES ('generation', '1') ON CONFLICT(key) "
                             "DO UPDATE SET value = CAST(value AS INTEGER) + 1")
                conn.execute("COMMIT")
            except sqlite3.DatabaseError as exc:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                raise SearchError(f"{self.path}: writing the search index failed ({exc})") from None
            except BaseException:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                raise

    def index(self, documents: Iterable[IndexDocument]) -> int:
        """Add or replace documents by id, committing every few hundred."""
        n = 0
        it = iter(documents)
        while True:
            chunk = [d for _, d in zip(range(BATCH), it)]
            if not chunk:
                break
            with self._writing() as conn:
                for d in chunk:
                    self._delete(conn, d.id)
                    self._insert(conn, d)
            n += len(chunk)
        return n

    def rebuild(self, documents: Iterable[IndexDocument]) -> int:
        """Replace the whole index in one transaction: readers see the old index
        until the new one is complete, and a failure half way loses nothing."""
        n = 0
        with self._writing() as conn:
            self._clear(conn)
            for d in documents:
                self._delete(conn, d.id)
                self._insert(conn, d)
                n += 1
        with self._writing() as conn:
            conn.execute("INSERT INTO doc_fts(doc_fts) VALUES ('optimize')")   # merge segments
        return n

    def delete(self, ids: Sequence[int]) -> None:
        with self._writing() as conn:
            for doc_id in ids:
                self._delete(conn, int(doc_id))

    @staticmethod
    def _clear(conn: sqlite3.Connection) -> None:
        conn.execute("INSERT INTO doc_fts(doc_fts) VALUES ('delete-all')")
        for table in ("page", "entity", "doc"):
            conn.execute(f"DELETE FROM {table}")

    def clear(self) -> None:
        with self._writing() as conn:
            self._clear(conn)

    def count(self) -> int:
        return int(self._conn().execute("SELECT count(*) FROM doc").fetchone()[0])

    def ids(self) -> set[int]:
        """Document ids in the index (for ``kholuu index status``)."""
        return {r[0] for r in self._conn().execute("SELECT id FROM doc")}

    def present(self, ids: Sequence[int]) -> set[int]:
        """Which of ``ids`` are in the index (the pipeline's catalog check)."""
        wanted = json.dumps([int(i) for i in ids])
        return {r[0] for r in self._conn().execute(
            "SELECT id FROM doc WHERE id IN (SELECT value FROM json_each(?))", (wanted,))}

    # -- searching -----------------------------------------------------------
    @staticmethod
    def _filters(q: SearchQuery) -> tuple[str, list[object]]:
        # access first: modes, OR granted conditional documents, OR whole fonds
        visible = ["d.access_mode IN (%s)" % ",".join("?" * len(q.access_modes))]
        params: list[object] = list(q.access_modes)
        if q.granted_ids:
            visible.append("(d.access_mode = 'conditional' AND d.id IN (SELECT value FROM json_each(?)))")
            params.append(json.dumps([int(i) for i in q.granted_ids]))
        if q.fonds_scope:
            visible.append("d.fonds IN (SELECT value FROM json_each(?))")
            params.append(json.dumps([str(f) for f in q.fonds_scope]))
        where = ["(" + " OR ".join(visible) + ")"]
        if q.fonds:
            where.append("d.fonds = ?")
            params.append(q.fonds.strip())
        for column, key in keyed_filters(q):
            where.append(f"d.{column} = ?")   # column names from keyed_filters, never from the user
            params.append(key)
        if q.year_from is not None:
            where.append("d.year >= ?")
            params.append(int(q.year_from))
        if q.year_to is not None:
            where.append("d.year <= ?")
            params.append(int(q.year_to))
        if q.register:
            where.append("d.register = ?")
            params.append(q.register.strip())
        if q.file_number:
            where.append("d.file_number = ?")
            params.append(q.file_number.strip())
        if q.entity:
            label, value = q.entity
            where.append("d.id IN (SELECT doc_id FROM entity WHERE label = ? AND canonical = ?)")
            params.extend([label, normalize(value).strip()])
        return " AND ".join(where), params

    def parse(self, text: str) -> ParsedQuery:
        return expand_query(parse_query(text))

    def _columns(self, conn: sqlite3.Connection) -> _Columns:
        """The in-memory columns of the snapshot ``conn`` reads (inside its transaction)."""
        row = conn.execute("SELECT value FROM meta WHERE key = 'generation'").fetchone()
        generation = row[0] if row else "0"
        cols = self._cols
        if cols is not None and cols.generation == generation:
            return cols
        with self._cols_lock:
            cols = self._cols
            if cols is not None and cols.generation == generation:
                return cols
            cols = _Columns.load(conn, generation)
            self._cols = cols
            return cols

    @staticmethod
    def _rowids(conn: sqlite3.Connection, expression: str) -> np.ndarray:
        """Document ids matching an FTS5 expression, ascending. ``group_concat``
        hands over 200,000 ids as one string, far cheaper than one row each."""
        text = conn.execute("SELECT group_concat(rowid) FROM doc_fts WHERE doc_fts MATCH ?",
                            (expression,)).fetchone()[0]
        if not text:
            return np.zeros(0, dtype=np.int64)
        out = np.fromstring(text, dtype=np.int64, sep=",")   # text mode: not deprecated
        if len(out) > 1 and not bool(np.all(out[1:] > out[:-1])):
            out = np.unique(out)
        return out

    def search(self, query: SearchQuery) -> SearchResult:
        started = time.perf_counter()
        parsed = checked_query(query)
        if query.sees_nothing:
            return SearchResult(total=0, hits=[], facets={}, took_ms=0.0)
        conn = self._conn()
        try:
            conn.execute("BEGIN")   # one snapshot for matches, hits and facets
            cols = self._columns(conn)
            mask = cols.mask(query)
            if parsed is None:
                pos = np.flatnonzero(mask)
            else:
                pos = cols.positions(self._rowids(conn, match_expression(parsed)))
                pos = pos[mask[pos]]
            tiers = [(e, w) for e, w in ((exact_expression(parsed), EXACT_TIER),
                                         (phrase_expression(parsed), PHRASE_TIER)) if e] if parsed else []
            total = int(len(pos))
            # BM25 is the costly part: only for relevance, and only up to rank_limit
            # matches; a broader query orders each tier by date instead (newest first)
            ranked_bm25 = parsed is not None and query.sort == "relevance" and 0 < total <= self.rank_limit
            limit = min(query.limit, MAX_LIMIT)
            need = query.offset + limit
            tier = np.zeros(len(pos), dtype=np.float64)
            if tiers and len(pos):
                # one FTS5 scan per tier: restricting it to a few candidate rowids
                # was measured to re-run the whole expression per rowid for some
                # expressions (10 s for "công tác cán bộ" at 200,000 documents)
                for expression, weight in tiers:
                    tier += weight * np.isin(pos, cols.positions(self._rowids(conn, expression)),
                                             assume_unique=True)
            score = tier
            if ranked_bm25:
                ids = cols.ids[pos]
                bm = dict(conn.execute(
                    "SELECT rowid, -bm25(doc_fts, 1.0, 1.0, 2.0, 2.0) FROM doc_fts WHERE doc_fts MATCH ? "
                    # "+rowid": filter after matching; pushed into FTS5 it
                    # would re-run the full-text query once per document
                    "AND +rowid IN (SELECT value FROM json_each(?))",
                    (match_expression(parsed), json.dumps(ids.tolist()))).fetchall())
                r = np.fromiter((bm.get(int(i), 0.0) for i in ids), dtype=np.float64, count=total)
                score = tier + r / (1.0 + r)
                order = np.lexsort((ids, -score))
            else:
                order = cols.order(pos, tier, query.sort, need)
            chosen = order[query.offset:query.offset + limit]
            ranked = [(int(cols.ids[pos[k]]), float(score[k])) for k in chosen]
            hits = self._hits(conn, ranked, parsed)
            facets = cols.facets(pos) if query.facets else {}
        except sqlite3.DatabaseError as exc:
            raise SearchError(f"{self.path}: search failed ({exc})") from None
        finally:
            if conn.in_transaction:
                conn.execute("COMMIT")
        return SearchResult(total=total, hits=hits, facets=facets,
                            took_ms=(time.perf_counter() - started) * 1000)

    @staticmethod
    def _hits(conn: sqlite3.Connection, ranked: list[tuple[int, float]], parsed: ParsedQuery | None) -> list[Hit]:
        if not ranked:
            return []
        ids = [r[0] for r in ranked]
        marks = ",".join("?" * len(ids))
        docs = {r[0]: r for r in conn.execute(
            "SELECT id, doc_type, number_symbol, issued_date, subject, issuer, fonds, fonds_name, register,"
            f" file_number FROM doc WHERE id IN ({marks})", ids)}
        pages: dict[int, list[IndexPage]] = {i: [] for i in ids}
        for doc_id, page_no, page_id, text in conn.execute(
                f"SELECT doc_id, page_no, page_id, text FROM page WHERE doc_id IN ({marks}) "
                "ORDER BY doc_id, page_no", ids):
            pages[doc_id].append(IndexPage(page_id=page_id, page_no=page_no, text=text))
        out = []
        for doc_id, score in ranked:
            r = docs[doc_id]
            found = document_hits(pages[doc_id], parsed, fallback=r[4] or "")
            out.append(Hit(id=doc_id, doc_type=r[1], number_symbol=r[2],
                           issued_date=date.fromisoformat(r[3]) if r[3] else None, subject=r[4], issuer=r[5],
                           fonds=r[6], fonds_name=r[7], register=r[8], file_number=r[9],
                           score=round(float(score), 4), snippet=found.snippet, best_page=found.best_page,
                           pages=found.pages))
        return out


__all__ = ["EmbeddedBackend", "QuerySyntaxError"]
