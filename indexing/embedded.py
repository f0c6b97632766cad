"""The embedded search backend: SQLite FTS5 in its own file, no server.

One FTS5 row per document (so "all words" means all words of the document,
wherever its pages split them), with four columns: the body text in an exact
form (lower case, diacritics kept) and a folded form (accent-free), and the
metadata (subject, number, issuer, signer) in both forms. The FTS table is
contentless: the page texts are stored once, in ``page``, and the FTS values
are recomputed from them to delete a document. Metadata columns for filters and
facets live in ``doc`` and ``entity``.

Ranking, strictest first: documents matching every accented term exactly
(``mã`` is not ``ma``), then documents where words typed one after another
appear as a phrase, then BM25 — each tier a whole number, BM25 squeezed into
[0, 1). BM25 is computed only when at most ``rank_limit`` documents match; a
broader query orders each tier by date, newest first. Best page and snippet are
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
from collections import Counter
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import Iterable, Iterator, Sequence

from indexing.abbrev import doc_type_name, expand_query
from indexing.base import FacetValue, Hit, IndexDocument, IndexPage, SearchQuery, SearchResult
from indexing.folding import fold_text
from indexing.fts import exact_expression, match_expression, phrase_expression
from indexing.query import ParsedQuery, parse_query
from indexing.snippets import document_hits
from kholuu.errors import QuerySyntaxError, SearchError
from kholuu.textnorm import exact_form, folded_form, has_diacritics, normalize

FORMAT_VERSION = "2"
SORTS = ("relevance", "date_asc", "date_desc")
MAX_LIMIT = 1000
FACET_LIMIT = 20
BATCH = 500
EXACT_TIER, PHRASE_TIER = 2.0, 1.0
# BM25 for at most this many matching documents; broader queries order each tier
# by date (computing BM25 for 100,000 documents takes most of a second here)
RANK_LIMIT = 10_000
ENTITY_FACETS = {"person": "PER", "organization": "ORG", "place": "LOC"}
# the matched documents of one search, with what facets group by (no join needed)
_M_COLUMNS = "id, score, d, fonds, tkey, ikey, year"
_M_VALUES = "d.issued_date, d.fonds, d.doc_type_key, d.issuer_key, d.year"

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


def _key(value: str | None) -> tuple[str | None, str | None]:
    if not value:
        return None, None
    return exact_form(value).strip(), folded_form(value).strip()


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
                conn.execute("CREATE TEMP TABLE IF NOT EXISTS m(id INTEGER PRIMARY KEY, score REAL, d TEXT, "
                             "fonds TEXT, tkey TEXT, ikey TEXT, year INTEGER)")
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
        subject = normalize(d.subject) if d.subject else None
        number = normalize(d.number_symbol) if d.number_symbol else None
        issuer = normalize(d.issuer) if d.issuer else None
        signer = normalize(d.signer_name) if d.signer_name else None
        doc_type = normalize(d.doc_type) if d.doc_type else None
        pages = sorted(d.pages, key=lambda p: p.page_no)
        texts = [normalize(p.text or "") for p in pages]
        tkey, tfold = _key(doc_type)
        ikey, ifold = _key(issuer)
        conn.execute(
            "INSERT INTO doc(id, fonds, fonds_name, register, file_number, doc_type, doc_type_key, doc_type_fold,"
            " number_symbol, issuer, issuer_key, issuer_fold, place, issued_date, year, subject, signer_name,"
            " access_mode) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
            (d.id, d.fonds, d.fonds_name or "", d.register, d.file_number, doc_type, tkey, tfold, number,
             issuer, ikey, ifold, normalize(d.place) if d.place else None,
             d.issued_date.isoformat() if d.issued_date else None, d.year, subject, signer, d.access_mode))
        conn.executemany("INSERT INTO page(doc_id, page_no, page_id, text) VALUES (?,?,?,?)",
                         [(d.id, p.page_no, p.page_id, t) for p, t in zip(pages, texts)])
        conn.executemany("INSERT INTO entity(doc_id, label, canonical) VALUES (?,?,?)",
                         sorted({(d.id, label, normalize(value).strip()) for label, value in d.entities
                                 if value and value.strip()}))
        conn.execute("INSERT INTO doc_fts(rowid, exact, folded, meta_exact, meta_folded) VALUES (?,?,?,?,?)",
                     (d.id, *_fts_values(texts, (subject, number, issuer, signer))))

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
        for column, value in (("doc_type", doc_type_name(q.doc_type) if q.doc_type else None),
                              ("issuer", q.issuer)):
            if value and value.strip():
                if has_diacritics(normalize(value)):
                    where.append(f"d.{column}_key = ?")
                    params.append(exact_form(value).strip())
                else:
                    where.append(f"d.{column}_fold = ?")
                    params.append(folded_form(value).strip())
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

    def search(self, query: SearchQuery) -> SearchResult:
        started = time.perf_counter()
        if query.sort not in SORTS:
            raise SearchError(f"unknown sort {query.sort!r}: expected one of {', '.join(SORTS)}")
        if query.limit < 0 or query.offset < 0:
            raise SearchError("offset and limit must not be negative")
        parsed = self.parse(query.text) if query.text and query.text.strip() else None
        if query.sees_nothing:
            return SearchResult(total=0, hits=[], facets={}, took_ms=0.0)
        where, params = self._filters(query)
        conn = self._conn()
        try:
            conn.execute("BEGIN")   # one snapshot for matches, hits and facets
            conn.execute("DELETE FROM temp.m")
            if parsed is None:
                conn.execute(f"INSERT INTO temp.m({_M_COLUMNS}) SELECT d.id, 0.0, {_M_VALUES} FROM doc d "
                             f"WHERE {where}", params)
            else:
                self._match(conn, parsed, where, params)
            total = conn.execute("SELECT count(*) FROM temp.m").fetchone()[0]
            # BM25 is the costly part: only for relevance, and only up to rank_limit
            # matches; a broader query orders each tier by date instead (newest first)
            ranked_bm25 = parsed is not None and query.sort == "relevance" and total <= self.rank_limit
            if ranked_bm25:
                conn.execute("UPDATE temp.m SET score = score + h.r / (1.0 + h.r) FROM "
                             "(SELECT rowid AS id, -bm25(doc_fts, 1.0, 1.0, 2.0, 2.0) AS r FROM doc_fts "
                             # "+rowid": filter after matching; pushed into FTS5 it
                             # would re-run the full-text query once per document
                             "WHERE doc_fts MATCH ? AND +rowid IN (SELECT id FROM temp.m)) AS h "
                             "WHERE temp.m.id = h.id", (match_expression(parsed),))
            order = {"relevance": ("score DESC, id" if ranked_bm25 else "score DESC, d IS NULL, d DESC, id")
                     if parsed else "d IS NULL, d DESC, id",
                     "date_asc": "d IS NULL, d ASC, score DESC, id",
                     "date_desc": "d IS NULL, d DESC, score DESC, id"}[query.sort]
            limit = min(query.limit, MAX_LIMIT)
            ranked = conn.execute(f"SELECT id, score FROM temp.m ORDER BY {order} LIMIT ? OFFSET ?",
                                  (limit, query.offset)).fetchall()
            hits = self._hits(conn, ranked, parsed)
            facets = self._facets(conn) if query.facets else {}
        except sqlite3.DatabaseError as exc:
            raise SearchError(f"{self.path}: search failed ({exc})") from None
        finally:
            if conn.in_transaction:
                conn.execute("COMMIT")
        return SearchResult(total=total, hits=hits, facets=facets,
                            took_ms=(time.perf_counter() - started) * 1000)

    @staticmethod
    def _match(conn: sqlite3.Connection, parsed: ParsedQuery, where: str, params: list[object]) -> None:
        """Matching documents into ``temp.m`` with their tier (exact, phrase) as score."""
        score = "0.0"
        extra: list[object] = []
        exact = exact_expression(parsed)
        if exact:
            score += f" + {EXACT_TIER} * (d.id IN (SELECT rowid FROM doc_fts WHERE doc_fts MATCH ?))"
            extra.append(exact)
        phrase = phrase_expression(parsed)
        if phrase:
            score += f" + {PHRASE_TIER} * (d.id IN (SELECT rowid FROM doc_fts WHERE doc_fts MATCH ?))"
            extra.append(phrase)
        sql = (f"INSERT INTO temp.m({_M_COLUMNS}) SELECT d.id, {score}, {_M_VALUES} FROM "
               f"(SELECT rowid AS id FROM doc_fts WHERE doc_fts MATCH ?) h CROSS JOIN doc d ON d.id = h.id "
               f"WHERE {where}")
        conn.execute(sql, [*extra, match_expression(parsed), *params])

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

    @staticmethod
    def _facets(conn: sqlite3.Connection) -> dict[str, list[FacetValue]]:
        """Counts of documents per value over all matches (already access-filtered).

        One scan of the match table and one of the matched documents' entities,
        counted in Python (cheaper than SQLite sorting each group-by); labels are
        looked up for the few values shown.
        """
        def label(sql: str, value: object) -> str:
            row = conn.execute(sql, (value,)).fetchone()
            return row[0] if row and row[0] else str(value)

        def top(counter: Counter, n: int = FACET_LIMIT) -> list[tuple[object, int]]:
            return sorted(((v, c) for v, c in counter.items() if v is not None),
                          key=lambda vc: (-vc[1], str(vc[0])))[:n]

        fonds, types, issuers, years = Counter(), Counter(), Counter(), Counter()
        for f, t, i, y in conn.execute("SELECT fonds, tkey, ikey, year FROM temp.m"):
            fonds[f] += 1
            types[t] += 1
            issuers[i] += 1
            years[y] += 1
        facets: dict[str, list[FacetValue]] = {
            "fonds": [FacetValue(value=str(v), count=c,
                                 label=label("SELECT fonds_name FROM doc WHERE fonds = ? LIMIT 1", v))
                      for v, c in top(fonds)]}
        for key, counter in (("doc_type", types), ("issuer", issuers)):
            values = []
            for v, c in top(counter):
                shown = label(f"SELECT {key} FROM doc WHERE {key}_key = ? LIMIT 1", v)
                values.append(FacetValue(value=shown, count=c, label=shown))
            facets[key] = values
        facets["year"] = [FacetValue(value=str(v), count=c, label=str(v))
                          for v, c in sorted(((v, c) for v, c in years.items() if v is not None), reverse=True)]
        entities: dict[str, Counter] = {label_: Counter() for label_ in ENTITY_FACETS.values()}
        for label_, value in conn.execute(
                "SELECT label, canonical FROM entity WHERE doc_id IN (SELECT id FROM temp.m) "
                f"AND label IN ({','.join('?' * len(entities))})", tuple(entities)):
            entities[label_][value] += 1     # (doc, label, value) is unique: a document count
        for key, entity_label in ENTITY_FACETS.items():
            facets[key] = [FacetValue(value=str(v), count=c, label=str(v)) for v, c in top(entities[entity_label])]
        return facets


__all__ = ["EmbeddedBackend", "QuerySyntaxError"]
