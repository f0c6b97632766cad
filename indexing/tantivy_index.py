"""The embedded search backend: a tantivy index in a folder, no server.

Why tantivy and not SQLite FTS5: at 200,000 documents FTS5's phrase scans cost
75–90 ms CPU each and a query needs up to three (``docs/SEARCH_PERF.md``);
tantivy answers the same phrases in about a third of that and does the whole
query — access, filters, ranking tiers, counts and facets — in Rust, so no
per-match work happens in Python.

Analysis stays in Python, in ``kholuu.textnorm``: text is normalized, cut into
tokens by the same rule as the query parser (``indexing.query.query_tokens``)
and written in two forms, ``exact`` (lower case, diacritics kept) and
``folded`` (accent-free), as space-separated tokens that tantivy's
``whitespace`` tokenizer takes as they are, plus ``folded2``, the pairs of
adjacent folded tokens: a phrase of n words is looked up as a phrase of its
n-1 pairs (one term for two words), whose postings are far shorter than those
of common syllables, and ``folded3``, the triples (``ban_thuong_vu``, with
frequencies, no positions): a three-word phrase is one term lookup instead of a
phrase of pairs, whose position checks cost 13–16 ms CPU at 200,000 documents.
Ranked, the triple scores exactly as the phrase of pairs did (see
``_Queries.pair_phrase_boost``). One tantivy
document per archival document: its metadata line (subject, number, issuer,
signer) then its pages.

Ranking, strictest first (the same tiers as every backend): documents matching
every accented term exactly (``mã`` is not ``ma``), then documents where words
typed one after another appear as a phrase, then BM25. The tiers are
constant-score optional clauses worth ``TIER`` and ``2 * TIER`` points, so one
top-k collection in tantivy orders everything; the score shown is tier +
bm25/(1 + bm25). The exact tier asks only that the accented tokens be present
(the match already requires the folded phrase): term lookups, not phrases.

Filters and access are constant-score (zero) clauses over raw-tokenized
fields, so tantivy skips what the caller may not see before counting; facets
are terms aggregations over fast fields run on the same query, in the same
searcher (one snapshot for hits, totals and facets).

Layout on disk: ``<root>/CURRENT`` (JSON: the live generation folder, the
format version, whether it was ever built completely from the catalog) and
one folder per generation. Writers (any process) take ``<root>/write.lock``;
a rebuild writes a new generation and swaps ``CURRENT`` atomically, so
searches never wait and a rebuild that fails half way leaves the old index.
Searches check ``CURRENT`` and the generation's ``meta.json`` (two ``stat``
calls) and reload when another writer committed.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import fcntl
import json
import math
import os
import shutil
import threading
import time
import uuid
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any, Iterable, Iterator, Sequence

import numpy as np

from indexing.fields import EXACT_CHUNKS, facet_key, keyed_filters, normalized_fields, page_texts
from indexing.base import FacetValue, Hit, IndexDocument, IndexPage, SearchQuery, SearchResult
from indexing.folding import fold_text
from indexing.query import TOKEN_RE, ParsedQuery, Term, checked_query
from indexing.snippets import document_hits
from kholuu.cache import BoundedCache
from kholuu.errors import SearchError, SearchUnavailable
from kholuu.textnorm import exact_form, normalize

FORMAT_VERSION = "6"       # 3: fonds, type and issuer keys fast (exact facets); 4: folded without positions;
                           # 5: folded3 (word triples); 6: folded3 with frequencies and pair-count length
MAX_LIMIT = 1000
FACET_LIMIT = 20
FACET_BUCKETS = 1000       # buckets per facet handed to Python, which orders ties by value and keeps 20
ENTITY_BUCKETS = 100       # entity values asked first; all FACET_BUCKETS only when the 20th count ties the last
ALL_TERMS = 2**32 - 1      # a segment_size no segment reaches: every segment returns every value (exact)
TIER = 10_000.0            # a tier outweighs any BM25 sum (float32 keeps ~0.002 at 3e4)
REBUILD_WAIT_S = 6 * 3600  # a write waits this long for a live rebuild (200k documents: ~6 CPU minutes)
COMMIT_EVERY = 5_000       # documents per commit while indexing (readers see progress)
MAX_TOKEN_CHARS = 200      # longer "words" are OCR noise; tantivy refuses terms over 64 KB
ENTITY_FACETS = {"person": "PER", "organization": "ORG", "place": "LOC"}
LABELLED_FACETS = {"fonds": ("fonds", "fonds_f"), "doc_type": ("doc_type_key", "doc_type_f"),
                   "issuer": ("issuer_key", "issuer_f")}   # facet → (counted by, named by)
_SEP = "\x1f"              # between the parts of a combined keyword value
_DMAX = 2**22 - 1          # julian-style day numbers fit in 22 bits; ids below 2**31


def _tantivy() -> Any:
    try:
        import tantivy
    except ImportError as exc:   # an installation without the dependency
        raise SearchError(f"the embedded search index needs the tantivy package ({exc}); "
                          "run scripts/install") from None
    return tantivy


def _schema() -> Any:
    t = _tantivy()
    sb = t.SchemaBuilder()
    sb.add_integer_field("id", stored=True, indexed=True, fast=True)
    sb.add_text_field("exact", tokenizer_name="whitespace", index_option="position")
    # no positions: folded phrases are looked up in folded2 (pairs); BM25 needs only frequencies
    sb.add_text_field("folded", tokenizer_name="whitespace", index_option="freq")
    sb.add_text_field("folded2", tokenizer_name="whitespace", index_option="position")   # word pairs
    sb.add_text_field("folded3", tokenizer_name="whitespace", index_option="freq")       # word triples
    sb.add_text_field("every", tokenizer_name="raw", index_option="basic")   # "1" in every document (BM25's N)
    for name in ("access", "doc_type_fold", "issuer_fold", "register", "file_number", "entity"):
        sb.add_text_field(name, tokenizer_name="raw", index_option="basic")
    # facets count by these (fonds code, exact-form keys; the ``*_f`` fields give the label shown)
    for name in ("fonds", "doc_type_key", "issuer_key", "fonds_f", "doc_type_f", "issuer_f",
                 *(f"ent_{label}" for label in ENTITY_FACETS.values())):
        sb.add_text_field(name, tokenizer_name="raw", index_option="basic", fast=True)
    sb.add_integer_field("year", indexed=True, fast=True)
    sb.add_integer_field("k_asc", fast=True)     # packed sort keys, smaller first (see _sort_keys)
    sb.add_integer_field("k_desc", fast=True)
    sb.add_bytes_field("payload", stored=True)   # JSON: metadata and page texts for hits and snippets
    return sb.build()


def _tokens(text: str) -> list[str]:
    """Lower-cased tokens, as ``indexing.query.query_tokens`` cuts a query (lowering
    the whole text first keeps the loop in C: 5× faster on a page)."""
    low = text.lower()
    toks = TOKEN_RE.findall(low if len(low) == len(text) else text)
    if len(low) != len(text):
        toks = [t.lower() for t in toks]
    if toks and max(map(len, toks)) > MAX_TOKEN_CHARS:
        toks = [t for t in toks if len(t) <= MAX_TOKEN_CHARS]
    return toks


# token → folded token: a corpus has few distinct syllables, and a dict lookup
# per token costs a fifth of translating the text character by character
# (``str.translate`` with a dict table) and less than folding it at once (numpy)
_FOLDED: BoundedCache[str, str] = BoundedCache(fold_text, 1_000_000)


def _fold_tokens(tokens: list[str]) -> list[str]:
    """``fold_text`` of each token, through ``_FOLDED``."""
    return list(map(_FOLDED.__getitem__, tokens))


def _search_tokens(head: str, stored: list[str]) -> tuple[list[str], list[str]]:
    """(page texts normalized, tokens) of the header then the pages, as one text.

    The pages are split once, for the check that the stored texts are
    normalized (``fields.page_texts``) and for the tokens, looked up per chunk
    between whitespace (``fields.EXACT_CHUNKS``, shared with the Elasticsearch
    backend) instead of cut from the whole text by ``_tokens``: a page repeats
    its syllables (20,000 bench documents: 12% less CPU per document). The
    tokens are those of ``_tokens``: no token spans whitespace, and lowering
    chunk by chunk is lowering the text, but where it changes the length of
    the text ("İ" is the one letter that does) ``_tokens`` cuts the text first,
    so such text goes through ``_tokens`` itself."""
    joined = "\n".join(stored)
    chunks = joined.split()
    texts = page_texts(stored, joined, chunks)
    if texts is None:
        texts = stored
    else:   # rare: text that was not stored normalized
        joined = "\n".join(texts)
        chunks = joined.split()
    if "\u0130" in joined or "\u0130" in head:
        return texts, _tokens(head + "\n" + joined)
    tokens = " ".join(map(EXACT_CHUNKS.__getitem__, head.split() + chunks)).split()
    if tokens and max(map(len, tokens)) > MAX_TOKEN_CHARS:
        tokens = [t for t in tokens if len(t) <= MAX_TOKEN_CHARS]
    return texts, tokens


def _pairs(tokens: Sequence[str]) -> list[str]:
    """Adjacent token pairs ("nong_thon"): a phrase of n words is a phrase of its
    n-1 pairs, whose postings are far shorter than those of common syllables
    (``ban``, ``thuong``), so phrases cost a few ms instead of 30–40 at 200k
    documents. Tokens are letters and digits only, so ``_`` joins a pair unambiguously."""
    return list(map("_".join, zip(tokens, tokens[1:])))


def _triples(tokens: Sequence[str]) -> list[str]:
    """Adjacent token triples ("nong_thon_moi"): a three-word phrase as one term (a
    phrase of pairs checks positions in every candidate). A document with pairs gets
    one more token, ``_`` (never a triple), so its ``folded3`` length is its number of
    pairs: BM25's length norm of a triple is then that of the phrase of pairs."""
    triples = list(map("_".join, zip(tokens, tokens[1:], tokens[2:])))
    return triples + ["_"] if len(tokens) >= 2 else triples


def _sort_keys(doc_id: int, issued: date | None) -> tuple[int, int]:
    """Ascending keys for date_asc and date_desc: undated last either way, id last."""
    day = issued.toordinal() if issued else 0
    undated = 0 if issued else 1
    return ((undated << 53) | (day << 31) | doc_id, (undated << 53) | ((_DMAX - day) << 31) | doc_id)


def _tantivy_document(d: IndexDocument) -> Any:
    """One tantivy document from the normalized fields (``indexing.fields``)."""
    t = _tantivy()
    f = normalized_fields(d, check_texts=False)   # _search_tokens checks the page texts
    subject, number, issuer, doc_type = f.subject, f.number_symbol, f.issuer, f.doc_type
    pages = f.pages
    texts, tokens = _search_tokens("\n".join(m for m in f.meta if m), f.texts)
    folded = _fold_tokens(tokens)   # one character for one: tokens stay aligned
    doc = t.Document()
    if d.id < 0 or d.id >= 2**31:
        raise SearchError(f"document id {d.id} out of range for the embedded index")
    doc.add_integer("id", d.id)
    doc.add_text("exact", " ".join(tokens))
    doc.add_text("folded", " ".join(folded))
    doc.add_text("folded2", " ".join(_pairs(folded)))
    doc.add_text("folded3", " ".join(_triples(folded)))
    doc.add_text("every", "1")
    doc.add_text("fonds", d.fonds)
    doc.add_text("fonds_f", f"{d.fonds}{_SEP}{d.fonds_name or ''}")
    doc.add_text("access", d.access_mode)
    for prefix, value in (("doc_type", doc_type), ("issuer", issuer)):
        key, fold = facet_key(value)
        if key:
            doc.add_text(f"{prefix}_key", key)
            doc.add_text(f"{prefix}_fold", fold)
            doc.add_text(f"{prefix}_f", value.strip())
    if d.register:
        doc.add_text("register", d.register.strip())
    if d.file_number:
        doc.add_text("file_number", d.file_number.strip())
    for label, value in f.entities:
        doc.add_text("entity", f"{label}{_SEP}{value}")
        if label in ENTITY_FACETS.values():
            doc.add_text(f"ent_{label}", value)
    if d.year is not None:
        doc.add_integer("year", d.year)
    k_asc, k_desc = _sort_keys(d.id, d.issued_date)
    doc.add_integer("k_asc", k_asc)
    doc.add_integer("k_desc", k_desc)
    payload = {"doc_type": doc_type, "number_symbol": number, "subject": subject, "issuer": issuer,
               "issued_date": d.issued_date.isoformat() if d.issued_date else None, "fonds": d.fonds,
               "fonds_name": d.fonds_name or "", "register": d.register, "file_number": d.file_number,
               "pages": [[p.page_no, p.page_id, text] for p, text in zip(pages, texts)]}
    doc.add_bytes("payload", json.dumps(payload, ensure_ascii=False).encode("utf-8"))
    return doc


def _load_logf() -> Any:
    """The C library's ``logf``, which tantivy's ``f32::ln`` calls for BM25's idf; the
    correctly rounded float64 logarithm where there is none (equal but for rare last bits)."""
    try:
        libm = ctypes.CDLL(ctypes.util.find_library("m") or "libm.so.6")
        logf = libm.logf
    except (OSError, AttributeError):
        return math.log
    logf.restype, logf.argtypes = ctypes.c_float, [ctypes.c_float]
    return logf


_logf = _load_logf()


# -- queries ---------------------------------------------------------------------
class _Queries:
    """tantivy queries built from a ``ParsedQuery`` and a ``SearchQuery`` (never from user text)."""

    def __init__(self, schema: Any):
        self.t = _tantivy()
        self.schema = schema

    def _tokens_query(self, field: str, tokens: Sequence[str], *, scored: bool = True,
                      searcher: Any = None) -> Any:
        """Adjacent tokens; folded phrases go to the pairs field (exact: a phrase of pairs),
        three folded words to the triples field (the same documents: both are built from
        one token list), boosted to the phrase's score when ranked (needs ``searcher``)."""
        tokens = [tok for tok in tokens if len(tok) <= MAX_TOKEN_CHARS]
        if not tokens:
            return self.t.Query.empty_query()
        if len(tokens) == 1:
            return self.t.Query.term_query(self.schema, field, tokens[0])
        if field == "folded" and len(tokens) == 3 and (not scored or searcher is not None):
            triple = self.t.Query.term_query(self.schema, "folded3", "_".join(tokens))
            return triple if not scored else self.t.Query.boost_query(
                triple, self.pair_phrase_boost(searcher, tokens))
        if field == "folded":
            pairs = _pairs(tokens)
            if len(pairs) == 1:
                return self.t.Query.term_query(self.schema, "folded2", pairs[0])
            return self.t.Query.phrase_query(self.schema, "folded2", pairs)
        return self.t.Query.phrase_query(self.schema, field, list(tokens))

    def _all_tokens(self, field: str, tokens: Sequence[str]) -> Any:
        tokens = [tok for tok in dict.fromkeys(tokens) if len(tok) <= MAX_TOKEN_CHARS]
        if not tokens:
            return self.t.Query.empty_query()
        return self._all([self.t.Query.term_query(self.schema, field, tok) for tok in tokens])

    def exact_tier(self, parsed: ParsedQuery) -> Any:
        """Documents (already matching) with every accented term spelled as typed.
        Its tokens need only be present: adjacency is already required of the
        folded form by the match, and term lookups cost far less than phrases."""
        return self._all([self._any([self._all_tokens("exact", term.tokens) if term.has_diacritics
                                     else self._all_tokens("folded", term.folded) for term in group])
                          for group in parsed.groups])

    def pair_phrase_boost(self, searcher: Any, tokens: Sequence[str]) -> float:
        """The boost that gives a triple's BM25 the score tantivy gives the phrase of its
        two pairs, to the bit: the same term frequency (phrase count = triple count) and
        length norm (``_triples``), so only the weight differs — idf(pair 1) + idf(pair 2)
        against idf(triple), × (1 + k1). Computed in float32 as tantivy does, with its N
        (documents including deleted ones: ``every``'s document frequency); the boost
        is then nudged until tantivy's ``weight × boost`` equals the phrase's weight."""
        f32 = np.float32
        n_docs = searcher.doc_freq("every", "1")

        def idf(field: str, term: str) -> np.float32:
            n = searcher.doc_freq(field, term)
            x = (f32(n_docs - n) + f32(0.5)) / (f32(n) + f32(0.5))
            return f32(_logf(float(f32(1.0) + x)))

        idf_pairs = f32(0.0)
        for pair in _pairs(tokens):
            idf_pairs = f32(idf_pairs + idf("folded2", pair))
        k = f32(1.0) + f32(1.2)
        want, have = f32(idf_pairs * k), f32(idf("folded3", "_".join(tokens)) * k)
        boost = f32(want / have)
        for _ in range(4):
            got = f32(have * boost)
            if got == want:
                break
            boost = np.nextafter(boost, f32(np.inf) if got < want else f32(-np.inf), dtype=np.float32)
        return float(boost)

    def term(self, term: Term, *, exact: bool, scored: bool = True, searcher: Any = None) -> Any:
        if exact and term.has_diacritics:
            return self._tokens_query("exact", term.tokens)
        return self._tokens_query("folded", term.folded, scored=scored, searcher=searcher)

    def _all(self, queries: list[Any]) -> Any:
        return queries[0] if len(queries) == 1 else self.t.Query.boolean_query(
            [(self.t.Occur.Must, q) for q in queries])

    def _any(self, queries: list[Any]) -> Any:
        return queries[0] if len(queries) == 1 else self.t.Query.boolean_query(
            [(self.t.Occur.Should, q) for q in queries])

    def match(self, parsed: ParsedQuery, *, exact: bool = False, exclusions: bool = True,
              scored: bool = True, searcher: Any = None) -> Any:
        """All groups required, any term within a group; exclusions as written (accents: that spelling).
        ``scored=False``: the same documents, found by the cheapest terms (BM25 not needed)."""
        clauses = [(self.t.Occur.Must, self._any([self.term(term, exact=exact, scored=scored, searcher=searcher)
                                                  for term in group]))
                   for group in parsed.groups]
        if exclusions:
            clauses += [(self.t.Occur.MustNot, self.term(term, exact=True, scored=False)) for term in parsed.excluded]
        return clauses[0][1] if len(clauses) == 1 else self.t.Query.boolean_query(clauses)

    def phrases(self, parsed: ParsedQuery) -> Any | None:
        if not parsed.runs:
            return None
        return self._all([self._tokens_query("folded", Term(tokens=run).folded, scored=False)
                          for run in parsed.runs])

    def _terms(self, field: str, values: Iterable[object]) -> Any:
        values = list(dict.fromkeys(values))
        if not values:
            return self.t.Query.empty_query()
        if len(values) == 1:
            return self.t.Query.term_query(self.schema, field, values[0])
        return self.t.Query.term_set_query(self.schema, field, values)

    def filters(self, q: SearchQuery) -> Any:
        """What the caller may see (modes OR granted conditional ids OR whole fonds)
        AND the query's filters; scoring nothing."""
        visible = [self._terms("access", [str(m) for m in q.access_modes])]
        if q.granted_ids:
            visible.append(self._all([self.t.Query.term_query(self.schema, "access", "conditional"),
                                      self._terms("id", [int(i) for i in q.granted_ids])]))
        if q.fonds_scope:
            visible.append(self._terms("fonds", [str(f) for f in q.fonds_scope]))
        parts = [self._any(visible)]
        if q.fonds:
            parts.append(self._terms("fonds", [q.fonds.strip()]))
        parts.extend(self._terms(field, [key]) for field, key in keyed_filters(q))
        if q.year_from is not None or q.year_to is not None:
            parts.append(self.t.Query.range_query(
                self.schema, "year", self.t.FieldType.Integer,
                int(q.year_from) if q.year_from is not None else None,
                int(q.year_to) if q.year_to is not None else None))
        if q.register:
            parts.append(self._terms("register", [q.register.strip()]))
        if q.file_number:
            parts.append(self._terms("file_number", [q.file_number.strip()]))
        if q.entity:
            label, value = q.entity
            parts.append(self._terms("entity", [f"{label}{_SEP}{normalize(value).strip()}"]))
        return self.t.Query.const_score_query(self._all(parts), 0.0)

    def build(self, parsed: ParsedQuery | None, q: SearchQuery, searcher: Any = None) -> tuple[Any, Any]:
        """(the query that ranks, the query that only matches — for facets); ``searcher``
        gives the statistics that rank three-word phrases by their triple."""
        Must, Should = self.t.Occur.Must, self.t.Occur.Should
        filters = self.filters(q)
        if parsed is None:
            matching = self.t.Query.boolean_query([(Must, self.t.Query.all_query()), (Must, filters)])
            return matching, matching
        main = self.match(parsed, searcher=searcher)
        matching = self.t.Query.boolean_query([(Must, self.match(parsed, scored=False)), (Must, filters)])
        clauses = [(Must, main), (Must, filters)]
        if parsed.has_diacritics:
            exact = self.exact_tier(parsed)
            clauses.append((Should, self.t.Query.const_score_query(exact, 2 * TIER)))
        phrases = self.phrases(parsed)
        if phrases is not None:
            clauses.append((Should, self.t.Query.const_score_query(phrases, TIER)))
        return self.t.Query.boolean_query(clauses), matching


# -- the backend -------------------------------------------------------------------
@dataclass
class _Live:
    """One opened generation and what tells whether it is still current."""

    name: str
    index: Any
    stamp: tuple


class TantivyBackend:
    """``SearchBackend`` over a tantivy index under ``root`` (created on first use)."""

    name = "embedded"

    def __init__(self, root: Path | str, *, busy_timeout_s: float = 30.0, writer_heap_mb: int = 128,
                 rebuild_wait_s: float = REBUILD_WAIT_S):
        self.root = Path(root)
        self.busy_timeout_s = busy_timeout_s
        self.rebuild_wait_s = rebuild_wait_s
        self.writer_heap_mb = writer_heap_mb
        self._schema = _schema()
        self._queries = _Queries(self._schema)
        self._lock = threading.Lock()          # guards _live (reloads)
        self._wlock = threading.Lock()         # one writer per process
        self._live: _Live | None = None
        self._closed = False
        try:
            self.root.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise SearchError(f"{self.root}: cannot create the search index folder ({exc})") from None
        if not self._usable(self._read_current()):   # no lock needed to open a usable index
            with self._write_lock():
                if not self._usable(self._read_current()):
                    # first use, or derived data in an older layout: start empty and say so
                    # (``complete`` false: the next indexing from the catalog builds it all)
                    name = self._new_generation()
                    self._write_current(name, complete=False)
                    self._drop_other_generations(keep=name)
        self._current()

    def _usable(self, state: dict | None) -> bool:
        return state is not None and state.get("format") == FORMAT_VERSION and (self.root / state["dir"]).is_dir()

    # -- the CURRENT pointer and generations ---------------------------------------
    @property
    def _pointer(self) -> Path:
        return self.root / "CURRENT"

    def _read_current(self) -> dict | None:
        try:
            state = json.loads(self._pointer.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return None
        except (OSError, ValueError) as exc:
            raise SearchUnavailable(f"{self._pointer}: unreadable ({exc}); it is derived data: delete "
                                    f"{self.root} and run `kholuu index rebuild`") from None
        if not isinstance(state, dict) or not isinstance(state.get("dir"), str) or "/" in state["dir"]:
            raise SearchUnavailable(f"{self._pointer}: not an index pointer; delete {self.root} and run "
                                    "`kholuu index rebuild`")
        return state

    def _write_current(self, name: str, *, complete: bool) -> None:
        """Point at generation ``name``: write a temporary file, then rename (atomic)."""
        tmp = self.root / f"CURRENT.{os.getpid()}.{uuid.uuid4().hex[:8]}"
        tmp.write_text(json.dumps({"dir": name, "format": FORMAT_VERSION, "complete": complete}), encoding="utf-8")
        with open(tmp, "rb") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp, self._pointer)

    def _new_generation(self) -> str:
        name = f"g-{time.strftime('%Y%m%dT%H%M%S')}-{uuid.uuid4().hex[:8]}"
        (self.root / name).mkdir()
        self._open_index(name)   # creates the empty index files
        return name

    def _open_index(self, name: str) -> Any:
        t = _tantivy()
        try:
            return t.Index(self._schema, path=str(self.root / name), reuse=True)
        except (OSError, ValueError) as exc:
            raise SearchUnavailable(f"{self.root / name}: not a usable search index ({exc}); delete "
                                    f"{self.root} and run `kholuu index rebuild`") from None

    def _drop_other_generations(self, keep: str) -> None:
        """Old generations go once ``CURRENT`` no longer names them (a reader in
        another process keeps its open files until it reloads: POSIX unlink)."""
        for path in self.root.glob("g-*"):
            if path.name != keep and path.is_dir():
                shutil.rmtree(path, ignore_errors=True)

    def _stamp(self, name: str) -> tuple:
        try:
            p = self._pointer.stat()
            m = (self.root / name / "meta.json").stat()
        except FileNotFoundError:
            return ()
        return (p.st_ino, p.st_mtime_ns, m.st_ino, m.st_mtime_ns, m.st_size)

    def _current(self) -> _Live:
        """The live generation, reloaded when a writer (any process) committed or swapped."""
        if self._closed:
            raise SearchUnavailable(f"{self.root}: the search index is closed")
        live = self._live
        if live is not None and live.stamp and self._stamp(live.name) == live.stamp:
            return live
        with self._lock:
            for attempt in range(3):
                state = self._read_current()
                if state is None:
                    raise SearchUnavailable(f"{self._pointer}: missing; run `kholuu index rebuild`")
                name = state["dir"]
                stamp = self._stamp(name)
                live = self._live
                try:
                    if live is not None and live.name == name:
                        live.index.reload()
                    else:
                        live = _Live(name=name, index=self._open_index(name), stamp=stamp)
                        live.index.config_reader(reload_policy="Manual")
                except (SearchError, ValueError):
                    # a rebuild in another process swapped and deleted this generation
                    # between reading CURRENT and opening it: read CURRENT again
                    if attempt < 2 and (self._read_current() or {}).get("dir") != name:
                        continue
                    raise
                live.stamp = stamp
                self._live = live
                return live
            raise AssertionError("unreachable")

    @property
    def complete(self) -> bool:
        """Whether the index was ever built completely from the catalog (a rebuild);
        ``indexing.index_documents`` rebuilds an index that was not."""
        state = self._read_current()
        return bool(state and state.get("complete"))

    # -- writing ----------------------------------------------------------------
    @staticmethod
    def _rebuilding(fh: Any) -> bool:
        """Whether the lock's holder declared itself a rebuild and its process lives."""
        try:
            fh.seek(0)
            holder = json.loads(fh.read() or "{}")
            pid = int(holder["pid"]) if holder.get("rebuild") else 0
        except (OSError, ValueError, KeyError, TypeError):
            return False
        if pid <= 0:
            return False
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            pass
        return True

    @contextmanager
    def _write_lock(self, *, rebuild: bool = False) -> Iterator[None]:
        """One writer at a time across processes (``write.lock``) and threads.

        An ordinary write waits ``busy_timeout_s`` for another writer, then fails
        with a ``SearchError`` (the pipeline's retry policy tries again). A
        rebuild writes its pid into the lock file, and a write finding one
        running waits for it (up to ``rebuild_wait_s``) instead: a rebuild of a
        large catalog takes minutes, longer than the pipeline's retries last,
        and the write after it is what brings the index up to date (the rebuild
        read the catalog's document list when it started)."""
        with self._wlock:
            path = self.root / "write.lock"
            fh = open(path, "a+")
            try:
                started = time.monotonic()
                while True:
                    try:
                        fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
                        break
                    except BlockingIOError:
                        waited = time.monotonic() - started
                        if waited >= self.busy_timeout_s and not (
                                waited < self.rebuild_wait_s and self._rebuilding(fh)):
                            raise SearchError(f"{path}: another process is writing the search index "
                                              f"(waited {waited:.0f} s)") from None
                        time.sleep(0.05 if waited < self.busy_timeout_s else 1.0)
                try:
                    fh.seek(0)
                    fh.truncate()
                    fh.write(json.dumps({"pid": os.getpid(), "rebuild": rebuild}))
                    fh.flush()
                    yield
                finally:
                    fh.truncate(0)
                    fh.flush()
                    fcntl.flock(fh, fcntl.LOCK_UN)
            finally:
                fh.close()

    def _writer(self, index: Any, heap_mb: int | None = None) -> Any:
        try:
            return index.writer((heap_mb or self.writer_heap_mb) * 2**20, 1 if not heap_mb else 2)
        except ValueError as exc:
            raise SearchError(f"{self.root}: cannot write the search index ({exc})") from None

    @staticmethod
    def _finish(writer: Any) -> None:
        writer.commit()
        writer.wait_merging_threads()

    @contextmanager
    def _writing(self) -> Iterator[Any]:
        """A writer on the live generation, under the write lock; committed at the end,
        rolled back on failure. Readers of this process reload at once."""
        if self._closed:
            raise SearchUnavailable(f"{self.root}: the search index is closed")
        with self._write_lock():
            state = self._read_current()
            if state is None:
                raise SearchUnavailable(f"{self._pointer}: missing; run `kholuu index rebuild`")
            index = self._open_index(state["dir"])
            writer = self._writer(index)
            try:
                yield writer
                self._finish(writer)
            except ValueError as exc:
                writer.rollback()
                raise SearchError(f"{self.root}: writing the search index failed ({exc})") from None
            except BaseException:
                writer.rollback()
                raise
        self._live = None if self._live is None else _Live(self._live.name, self._live.index, ())

    def index(self, documents: Iterable[IndexDocument]) -> int:
        """Add or replace documents by id; a commit every ``COMMIT_EVERY`` documents."""
        n = 0
        with self._writing() as writer:
            for d in documents:
                writer.delete_documents_by_term("id", int(d.id))
                writer.add_document(_tantivy_document(d))
                n += 1
                if n % COMMIT_EVERY == 0:
                    writer.commit()
        return n

    def delete(self, ids: Sequence[int]) -> None:
        with self._writing() as writer:
            for doc_id in ids:
                writer.delete_documents_by_term("id", int(doc_id))

    def clear(self) -> None:
        with self._writing() as writer:
            writer.delete_all_documents()

    def rebuild(self, documents: Iterable[IndexDocument]) -> int:
        """Build a new generation beside the live one and swap ``CURRENT`` to it:
        searches use the old index until the new one is complete, and a failure
        half way deletes the new folder and changes nothing."""
        if self._closed:
            raise SearchUnavailable(f"{self.root}: the search index is closed")
        n = 0
        with self._write_lock(rebuild=True):
            name = self._new_generation()
            try:
                writer = self._writer(self._open_index(name), heap_mb=max(self.writer_heap_mb, 256))
                try:
                    for d in documents:
                        writer.add_document(_tantivy_document(d))
                        n += 1
                    self._finish(writer)
                except BaseException:
                    writer.rollback()
                    raise
                self._write_current(name, complete=True)
            except BaseException:
                shutil.rmtree(self.root / name, ignore_errors=True)
                raise
            self._drop_other_generations(keep=name)
        self._live = None
        return n

    # -- reading ------------------------------------------------------------------
    def count(self) -> int:
        return int(self._searcher().num_docs)

    def _searcher(self) -> Any:
        return self._current().index.searcher()

    def _ids_matching(self, query: Any, at_most: int) -> set[int]:
        """Ids of the documents matching ``query``, read from the ``id`` fast field as
        the sort key (no stored document is loaded; no aggregation bucket limit)."""
        if at_most <= 0:
            return set()
        found = self._searcher().search(query, at_most, count=False, order_by_field="id",
                                        order=self._queries.t.Order.Asc)
        return {int(key) for key, _ in found.hits}

    def ids(self) -> set[int]:
        """Document ids in the index (for ``kholuu index status``)."""
        return self._ids_matching(self._queries.t.Query.all_query(), self.count())

    def present(self, ids: Sequence[int]) -> set[int]:
        """Which of ``ids`` the index holds now (the pipeline's catalog check)."""
        wanted = sorted({int(i) for i in ids})
        return self._ids_matching(self._queries._terms("id", wanted), len(wanted)) if wanted else set()

    def close(self) -> None:
        self._closed = True
        self._live = None

    def search(self, query: SearchQuery) -> SearchResult:
        started = time.perf_counter()
        parsed = checked_query(query)
        if query.sees_nothing:
            return SearchResult(total=0, hits=[], facets={}, took_ms=0.0)
        searcher = self._searcher()   # one snapshot for hits, totals, facets and BM25 statistics
        ranking, matching = self._queries.build(parsed, query, searcher)
        limit = min(query.limit, MAX_LIMIT)
        t = self._queries.t
        try:
            top = max(limit, 1)   # tantivy refuses a limit of 0 (a count only): fetch one, show none
            if query.sort == "relevance" and parsed is not None:
                found = searcher.search(ranking, top, count=True, offset=query.offset)
            else:
                key = "k_asc" if query.sort == "date_asc" else "k_desc"
                found = searcher.search(ranking, top, count=True, offset=query.offset, order_by_field=key,
                                        order=t.Order.Asc)
            total = int(found.count or 0)
            scored = query.sort == "relevance" and parsed is not None
            page = [(float(score) if scored else 0.0, addr) for score, addr in found.hits[:limit]]
            if not scored and parsed is not None and page:   # a date sort of a text query
                page = [(0.0, addr) for addr in self._ties_by_relevance(
                    searcher, ranking, matching, key, found.hits[:limit], query.offset, limit)]
            docs = [(searcher.doc(addr), score) for score, addr in page]
            facets = self._facets(searcher, matching) if query.facets and total else (
                {k: [] for k in ("fonds", "doc_type", "issuer", "year", *ENTITY_FACETS)} if query.facets else {})
        except ValueError as exc:
            raise SearchError(f"{self.root}: search failed ({exc})") from None
        hits = [self._hit(doc, score, parsed) for doc, score in docs]
        return SearchResult(total=total, hits=hits, facets=facets, took_ms=(time.perf_counter() - started) * 1000)

    def _ties_by_relevance(self, searcher: Any, ranking: Any, matching: Any, key: str,
                           window: list[tuple[int, Any]], offset: int, limit: int) -> list[Any]:
        """A date-sorted page whose documents of one day are ordered by ranking
        (tier, then BM25), then id, as in the other backends. The sort key holds
        day and id only (the tier depends on the query), so the days the page
        spans are searched again twice — by key and by score — and joined on the
        document address; the page is cut from that group after the matches of
        earlier days."""
        t = self._queries.t
        Must = t.Occur.Must
        lo, hi = (window[0][0] >> 31) << 31, ((window[-1][0] >> 31) << 31) | (2**31 - 1)

        def within(q: Any, low: int, high: int) -> Any:
            span = t.Query.range_query(self._schema, key, t.FieldType.Integer, low, high,
                                       include_lower=True, include_upper=True)
            return t.Query.boolean_query([(Must, q), (Must, t.Query.const_score_query(span, 0.0))])

        before = int(searcher.search(within(matching, 0, lo - 1), 1, count=True).count or 0) if lo else 0
        group = within(ranking, lo, hi)
        size = int(searcher.search(group, 1, count=True).count or 0)
        by_key = searcher.search(group, size, count=False, order_by_field=key, order=t.Order.Asc).hits
        score = {(a.segment_ord, a.doc): s for s, a in searcher.search(group, size, count=False).hits}
        ordered = sorted(by_key, key=lambda ka: (ka[0] >> 31, -score[(ka[1].segment_ord, ka[1].doc)], ka[0]))
        start = offset - before
        return [addr for _, addr in ordered[start:start + limit]]

    @staticmethod
    def _hit(doc: Any, raw: float, parsed: ParsedQuery | None) -> Hit:
        payload = json.loads(doc.get_first("payload"))
        pages = [IndexPage(page_no=p[0], page_id=p[1], text=p[2]) for p in payload["pages"]]
        tier = min(2.0, float(int(raw // TIER)))
        bm = max(0.0, raw - tier * TIER)
        found = document_hits(pages, parsed, fallback=payload.get("subject") or "")
        issued = payload.get("issued_date")
        return Hit(id=int(doc.get_first("id")), doc_type=payload.get("doc_type"),
                   number_symbol=payload.get("number_symbol"),
                   issued_date=date.fromisoformat(issued) if issued else None, subject=payload.get("subject"),
                   issuer=payload.get("issuer"), fonds=payload["fonds"], fonds_name=payload.get("fonds_name", ""),
                   register=payload.get("register"), file_number=payload.get("file_number"),
                   score=round(tier + bm / (1.0 + bm), 4), snippet=found.snippet, best_page=found.best_page,
                   pages=found.pages)

    def _facets(self, searcher: Any, matching: Any) -> dict[str, list[FacetValue]]:
        """Document counts per value over the visible matches: terms aggregations on
        fast fields. Exact, as archivists read them as facts: every segment returns
        all its values (``segment_size`` ``ALL_TERMS``; tantivy's default keeps a
        segment's top ``10 × size`` and undercounts values cut in some segments).

        Fonds, document types and issuers count by key (code, ``exact_form``), so
        spellings of one value are one bucket, and are named by their most
        frequent spelling from a second aggregation over the spellings. (A label
        sub-aggregation per bucket costs 40× more: 200 ms CPU for 10,000 issuers.)

        Two savings, the same counts (0.5 ms CPU each at 150,000 matches): fonds
        are counted from their labels (``code␟name``, one per document) when every
        label came back; entities first ask for ``ENTITY_BUCKETS`` values, enough
        when the 20th count is above the last one returned (a value left out has
        at most that count); otherwise those facets are asked again in full."""
        def terms(field: str, size: int = FACET_BUCKETS) -> dict:
            return {"terms": {"field": field, "size": size, "segment_size": ALL_TERMS}}

        spec = {"year": terms("year", 500),
                **{key: terms(f"ent_{label}", ENTITY_BUCKETS) for key, label in ENTITY_FACETS.items()}}
        for name, (key_field, label_field) in LABELLED_FACETS.items():
            spec[f"{name}_labels"] = terms(label_field)
            if name != "fonds":
                spec[name] = terms(key_field)
        agg = searcher.aggregate(matching, spec)
        again = {key: terms(f"ent_{label}") for key, label in ENTITY_FACETS.items()
                 if not self._top_complete(agg.get(key, {}))}
        if agg.get("fonds_labels", {}).get("sum_other_doc_count", 0):
            again["fonds"] = terms(LABELLED_FACETS["fonds"][0])
        if again:
            agg.update(searcher.aggregate(matching, again))

        def buckets(name: str) -> list[tuple[str, int]]:
            if name == "fonds" and name not in agg:   # every fonds label came back: sum them by code
                by_code: dict[str, int] = {}
                for label, count in buckets("fonds_labels"):
                    code = label.partition(_SEP)[0]
                    by_code[code] = by_code.get(code, 0) + count
                return list(by_code.items())
            return [(str(b["key"]), int(b["doc_count"])) for b in agg.get(name, {}).get("buckets", [])]

        def ranked(counts: list[tuple[str, int]], labels: dict[str, str]) -> list[tuple[str, int]]:
            return sorted(counts, key=lambda kc: (-kc[1], labels.get(kc[0], kc[0])))[:FACET_LIMIT]

        out: dict[str, list[FacetValue]] = {}
        for name, (key_field, _) in LABELLED_FACETS.items():
            labels: dict[str, tuple[int, str]] = {}
            for spelling, count in buckets(f"{name}_labels"):
                if name == "fonds":
                    key, _, shown = spelling.partition(_SEP)
                else:
                    key, shown = exact_form(spelling).strip(), spelling
                if count > labels.get(key, (0, ""))[0]:
                    labels[key] = (count, shown)
            names = {k: v[1] for k, v in labels.items() if v[1]}
            top = ranked(buckets(name), names)
            for key, _ in top:
                if key not in names:   # its spellings fell outside the first FACET_BUCKETS: ask a document
                    names[key] = self._stored_label(searcher, matching, name, key_field, key)
            top = ranked(top, names)
            if name == "fonds":
                out[name] = [FacetValue(value=k, count=c, label=names.get(k) or k) for k, c in top]
            else:
                out[name] = [FacetValue(value=names.get(k) or k, count=c, label=names.get(k) or k) for k, c in top]
        years = sorted(buckets("year"), key=lambda kv: -int(kv[0]))
        out["year"] = [FacetValue(value=y, count=c, label=y) for y, c in years]
        for key in ENTITY_FACETS:
            out[key] = [FacetValue(value=v, count=c, label=v) for v, c in ranked(buckets(key), {})]
        return out

    @staticmethod
    def _top_complete(result: dict) -> bool:
        """Whether a terms result cut at its ``size`` still holds every value that can
        be among the first ``FACET_LIMIT`` (ties included)."""
        counts = sorted((int(b["doc_count"]) for b in result.get("buckets", [])), reverse=True)
        if not result.get("sum_other_doc_count", 0):
            return True
        return len(counts) > FACET_LIMIT and counts[FACET_LIMIT - 1] > counts[-1]

    def _stored_label(self, searcher: Any, matching: Any, name: str, key_field: str, key: str) -> str:
        """The label of a facet key as one matching document stores it."""
        t = self._queries.t
        query = t.Query.boolean_query([(t.Occur.Must, matching),
                                       (t.Occur.Must, t.Query.term_query(self._schema, key_field, key))])
        found = searcher.search(query, 1, count=False).hits
        if not found:
            return ""
        payload = json.loads(searcher.doc(found[0][1]).get_first("payload"))
        return str(payload.get("fonds_name" if name == "fonds" else name) or "").strip()


__all__ = ["TantivyBackend"]
