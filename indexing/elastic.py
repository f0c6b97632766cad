"""The Elasticsearch backend: the ``SearchBackend`` contract on a cluster.

Why it looks like this:

* The server build we can fetch (integ-test-zip) has no analysis plugins, so all
  Vietnamese analysis happens in Python: each text is indexed as the project's
  own tokens (``indexing.query.query_tokens``, the rule the query parser and the
  embedded index use) joined by spaces, in an exact form (lower case, accents
  kept) and a folded form, with the ``whitespace`` analyzer. Query terms are
  the same tokens, so both sides always agree on what a word is.
* One Elasticsearch document per catalog document, as one row per document in
  the embedded index: hits, totals and facet counts are documents (no collapse,
  no approximate cardinality), "all words" means all words of the document and
  a phrase may run over a page break. The body is indexed as one field, the
  header (subject, number, issuer, signer) first, as the embedded index does:
  a second, short BM25 field kept Lucene from skipping documents that could
  not reach the top ten and cost most of a query. The pages are kept in
  ``_source`` only, and the best page, hit pages and snippet
  of the few returned documents are found in Python by the shared
  ``indexing.snippets`` on the stored original text. (Nested pages were
  measured: scoring through block joins cost 3-10x more per query.)
* Ranking follows the embedded backend's tiers: documents matching every
  accented term exactly, then documents with the typed words as a phrase,
  then BM25 (constant-score tiers far above any BM25 value). The terms
  themselves are a filter and BM25 scores their folded words one by one: a
  quoted phrase is found, not counted, per document (positions are the costly
  part at 200,000 documents), and the filters are cached by the node. Equal
  scores keep the index's order, as in the embedded index: a second sort key
  (the id) made the node collect every document tied with the tenth, and
  float scores at a tier's height tie often (200,000 documents: the node took
  a median 2-9 ms a query by kind, against 3-11 ms).
* The query is built from the parsed query (``indexing.query``), never from
  ``query_string`` syntax. Access modes are a filter of the query itself, so
  they apply to hits, totals and aggregations alike.
* The index name carries a mapping version and a timestamp behind an alias
  (``settings.elasticsearch_index``): ``rebuild`` writes a fresh index and swaps
  the alias atomically; a failed rebuild leaves the old index in place. While
  it writes, the new index has no refreshes and an asynchronous translog (it
  is not searched yet, and a crash only loses an index that gets dropped
  anyway); both are restored before the swap, after a force merge to one
  segment (an archive index is read far more than written: one segment makes
  every query and facet cheaper, and the merge happens once, off-line).
* Indexing speed on a small machine is CPU: per document about half a
  millisecond of Python analysis (normalizing, tokens, folding, JSON) and as
  much inside Elasticsearch. Large writes therefore analyse and serialize in
  worker processes (the GIL would hold it to one core) and hand the bulk
  streams finished JSON bytes.
* Snippets mark the stored original text, so the words appear as written,
  diacritics intact, even for an accent-free query.
"""

from __future__ import annotations

import itertools
import multiprocessing
import os
import threading
import time
from collections import deque
from concurrent.futures import Future, ProcessPoolExecutor, ThreadPoolExecutor
from datetime import date
from typing import TYPE_CHECKING, Any, Callable, Iterable, Iterator, Sequence

import orjson

from indexing.abbrev import expand_query
from indexing.fields import EXACT_CHUNKS, FOLDED_CHUNKS, facet_key, keyed_filters, normalized_fields, page_texts
from indexing.base import FacetValue, Hit, IndexDocument, IndexPage, SearchQuery, SearchResult
from indexing.query import SORTS, ParsedQuery, Term, checked_query, parse_query
from indexing.snippets import document_hits
from kholuu.errors import SearchError, SearchUnavailable
from kholuu.textnorm import normalize

if TYPE_CHECKING:
    from kholuu.settings import Settings

MAPPING_VERSION = 5         # 5: the header's words are in the body forms (no meta_* fields); 4: body_exact holds distinct words without positions; filter-only keywords without doc values
REFRESH_INTERVAL = "1s"
MAX_LIMIT = 1000
FACET_LIMIT = 20
BULK_CHUNK = 500
BULK_WORKERS = 2           # concurrent bulk streams (see _bulk)
POOL_MIN_DOCS = 2000       # writes at least this large are analysed in worker processes
POOL_CHUNK = 250           # documents per task handed to a worker
BULK_RETRIES = 5           # streaming_bulk retries of items refused with 429
BULK_BACKOFF = (1.0, 30.0)  # first and longest wait between those retries, seconds
# the rebuild-time settings of a new index, and what they become before the alias swap
REBUILD_SETTINGS = {"refresh_interval": "-1", "translog": {"durability": "async"}}
LIVE_SETTINGS = {"refresh_interval": REFRESH_INTERVAL, "translog": {"durability": "request"}}
MERGE_TIMEOUT = 3600.0     # seconds a rebuild's force merge may take (1 GB: about a minute)
ENTITY_FACETS = {"person": "PER", "organization": "ORG", "place": "LOC"}
# Tiers (constant scores) dwarf BM25, as EXACT_TIER/PHRASE_TIER do in the embedded index.
EXACT_TIER = 20000.0
PHRASE_TIER = 10000.0
SEGMENT_BOOST = 0.5


# --------------------------------------------------------------------- mapping
def index_body() -> dict[str, Any]:
    """Settings and mapping of one versioned index."""
    words = {"type": "text", "analyzer": "whitespace"}
    # the body's exact words: only ever asked whether a word is present (an
    # exact phrase is the folded phrase plus its exact words, see _term_query),
    # so each distinct word once, without length norms, frequencies or positions
    exact_words = {**words, "norms": False, "index_options": "docs"}
    kw = {"type": "keyword"}
    flt = {"type": "keyword", "doc_values": False}   # only filtered on: never sorted or aggregated
    # facet fields: global ordinals built at refresh, not by the first search after it
    facet = {"type": "keyword", "eager_global_ordinals": True}
    return {
        "settings": {"number_of_shards": 1, "number_of_replicas": 0, "refresh_interval": REFRESH_INTERVAL},
        "mappings": {
            "_meta": {"kholuu_mapping_version": MAPPING_VERSION},
            "dynamic": "strict",
            # _source is kept whole: with excludes the node filters every
            # source (and seems to keep the original as a recovery source),
            # which cost more CPU per document and made the index larger (10,000
            # documents: 0.55 against 0.46 ms, 69 against 60 MB merged);
            # searches leave the search forms out instead (SEARCH_FORMS)
            "properties": {
                "doc_id": {"type": "long"},
                "fonds": facet, "fonds_name": {"type": "keyword", "index": False},   # doc values: facet labels
                "register": flt, "file_number": flt,
                "doc_type": kw, "doc_type_key": facet, "doc_type_fold": flt,
                "number_symbol": flt,
                "issuer": kw, "issuer_key": facet, "issuer_fold": flt,
                "place": flt,
                "issued_date": {"type": "date", "format": "strict_date"},
                "year": {"type": "integer"},
                "subject": {"type": "text", "index": False},
                "signer_name": flt, "access_mode": flt,
                "entities": flt, "PER": facet, "ORG": facet, "LOC": facet,
                # the header (subject, number, issuer, signer) then the pages, as one text
                "body_exact": exact_words, "body_folded": words,
                # only ever matched word by word (a ranking boost): no positions
                "seg": {"type": "text", "analyzer": "whitespace", "index_options": "freqs"},
                # page texts (normalized originals) for best page and snippets: stored, not indexed
                "pages": {"type": "object", "enabled": False},
            },
        },
    }


SEARCH_FORMS = ["body_exact", "body_folded", "seg"]   # indexed, never shown


def _body(head: str, stored: list[str]) -> tuple[list[str], str, str]:
    """(page texts normalized, exact form, folded form) of the header
    (normalized) and then the pages, as one text.

    One text as in the embedded index: a term found in the subject or the
    number is found in the document, and BM25 scores one field. (Separate
    header fields cost the node most of a query: a second BM25 field, short
    and so high-scoring, kept Lucene from skipping documents that could not
    reach the top ten; 200,000 documents: 11-19 against 2-6 ms a query.)
    The folded form is whole (phrases and BM25 need every position); the
    exact form holds each word once (``body_exact`` is only asked which words
    are present), which spares joining and indexing a second copy of every
    page. The pages are split once, for the forms (``fields.EXACT_CHUNKS``,
    ``fields.FOLDED_CHUNKS``: per distinct chunk) and for the check that the
    stored texts are normalized (``fields.page_texts``, per distinct chunk)."""
    joined = "\n".join(stored)
    chunks = joined.split()
    distinct = dict.fromkeys(chunks)
    texts = page_texts(stored, joined, distinct)
    if texts is None:
        texts = stored
    else:   # rare: text that was not stored normalized
        chunks = "\n".join(texts).split()
        distinct = dict.fromkeys(chunks)
    head_chunks = head.split()
    exact = " ".join(map(EXACT_CHUNKS.__getitem__, itertools.chain(head_chunks, distinct))).split()
    folded = " ".join(map(FOLDED_CHUNKS.__getitem__, itertools.chain(head_chunks, chunks)))
    return texts, " ".join(dict.fromkeys(exact)), folded   # "Hồ" and "hồ," are one exact word


def to_source(doc: IndexDocument) -> dict[str, Any]:
    """The Elasticsearch source of one document, every form precomputed."""
    f = normalized_fields(doc, check_texts=False)   # _body checks the page texts
    subject, number, issuer, signer, doc_type = f.subject, f.number_symbol, f.issuer, f.signer_name, f.doc_type
    entities: dict[str, list[str]] = {"PER": [], "ORG": [], "LOC": []}
    pairs = f.entities
    for label, value in pairs:
        if label in entities:
            entities[label].append(value)
    # the pages joined, as the embedded index does: a phrase may run over a page break
    ordered, (texts, body_exact, body_folded) = f.pages, _body("\n".join(v for v in f.meta if v), f.texts)
    tkey, tfold = facet_key(doc_type)
    ikey, ifold = facet_key(issuer)
    return {
        "doc_id": doc.id, "fonds": doc.fonds, "fonds_name": doc.fonds_name or "",
        "register": doc.register, "file_number": doc.file_number,
        "doc_type": doc_type, "doc_type_key": tkey, "doc_type_fold": tfold,
        "number_symbol": number, "issuer": issuer, "issuer_key": ikey, "issuer_fold": ifold,
        "place": f.place,
        "issued_date": doc.issued_date.isoformat() if doc.issued_date else None,
        "year": doc.year, "subject": subject, "signer_name": signer, "access_mode": doc.access_mode,
        "entities": [f"{label}:{value}" for label, value in pairs], **entities,
        "body_exact": body_exact, "body_folded": body_folded,
        "seg": " ".join(w for w in (doc.segmented or "").lower().split() if "_" in w),
        "pages": [{"page_id": p.page_id, "page_no": p.page_no, "text": t} for p, t in zip(ordered, texts)],
    }


def encode(doc: IndexDocument) -> tuple[str, bytes]:
    """(Elasticsearch id, source as JSON bytes): what a bulk stream sends."""
    return str(doc.id), orjson.dumps(to_source(doc))


def _encode_chunk(docs: list[IndexDocument]) -> list[tuple[str, bytes]]:
    """Worker-process task: a chunk of documents encoded (module level, so it pickles)."""
    return [encode(d) for d in docs]


def _analysis_workers() -> int:
    return max(1, min(4, os.cpu_count() or 1))


def encoded(documents: Iterable[IndexDocument], *, min_pool: int | None = None,
            workers: int | None = None) -> Iterator[tuple[str, bytes]]:
    """Every document encoded, in order; in worker processes when there are at
    least ``min_pool`` of them and more than one core.

    Workers are spawned (not forked: the caller may be a threaded server or
    Dagster) and get chunks of ``POOL_CHUNK`` documents, at most two chunks per
    worker in flight, so memory stays bounded whatever the size of the write.
    An exception from ``documents`` or from a worker propagates.
    """
    min_pool = POOL_MIN_DOCS if min_pool is None else min_pool
    source = iter(documents)
    head = list(itertools.islice(source, min_pool))
    workers = _analysis_workers() if workers is None else workers
    if len(head) < min_pool or workers < 2:
        for d in itertools.chain(head, source):
            yield encode(d)
        return

    def chunks() -> Iterator[list[IndexDocument]]:
        rest = itertools.chain(head, source)
        while chunk := list(itertools.islice(rest, POOL_CHUNK)):
            yield chunk

    pool = ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn"))
    pending: deque[Future] = deque()
    try:
        for chunk in chunks():
            pending.append(pool.submit(_encode_chunk, chunk))
            if len(pending) >= 2 * workers:
                yield from pending.popleft().result()
        while pending:
            yield from pending.popleft().result()
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


# --------------------------------------------------------------------- query
def _phrase(field: str, tokens: Sequence[str]) -> dict:
    return {"match_phrase": {field: {"query": " ".join(tokens)}}}


def _term_query(term: Term, *, exact: bool) -> dict:
    """A term anywhere in the document: in its header or its pages (one text).

    ``exact`` matches a term typed with accents on the exact form only: the
    folded phrase with each of its words present as typed (``body_exact``
    keeps words, not positions: indexing a second positional copy of every
    page cost about a third of the node's indexing CPU); the embedded index's
    exact tier asks the same.
    """
    folded = _phrase("body_folded", term.folded)
    if not (exact and term.has_diacritics):
        return folded
    words: dict = {"match": {"body_exact": {"query": " ".join(term.tokens), "operator": "and"}}}
    return words if len(term.tokens) == 1 else {"bool": {"filter": [folded, words]}}


def _all_groups(parsed: ParsedQuery, *, exact: bool) -> list[dict]:
    """Every group required; a group is any of its terms."""
    out = []
    for group in parsed.groups:
        qs = [_term_query(t, exact=exact) for t in group]
        out.append(qs[0] if len(qs) == 1 else {"bool": {"should": qs, "minimum_should_match": 1}})
    return out


def _segment_boost(parsed: ParsedQuery) -> list[dict]:
    """Words typed one after another joined as the segmenter joins them
    (``nông_thôn``): runs of two or three syllables; a join that is not a word
    simply matches nothing, so no model is needed at query time."""
    grams: list[str] = []
    for run in parsed.runs:
        for n in (2, 3):
            grams.extend("_".join(run[i:i + n]) for i in range(len(run) - n + 1))
    if not grams:
        return []
    return [{"match": {"seg": {"query": " ".join(dict.fromkeys(grams)), "boost": SEGMENT_BOOST}}}]


def build_filters(query: SearchQuery) -> list[dict]:
    """Filters of the query: they restrict hits, totals and facets together.
    The access modes are always the first filter."""
    visible: list[dict] = [{"terms": {"access_mode": list(query.access_modes)}}]
    if query.granted_ids:   # conditional documents granted to the caller
        visible.append({"bool": {"filter": [{"term": {"access_mode": "conditional"}},
                                            {"terms": {"doc_id": [int(i) for i in query.granted_ids]}}]}})
    if query.fonds_scope:   # fonds where the caller sees every mode
        visible.append({"terms": {"fonds": [str(f) for f in query.fonds_scope]}})
    filters: list[dict] = [visible[0] if len(visible) == 1 else
                           {"bool": {"should": visible, "minimum_should_match": 1}}]
    for field_name, value in (("fonds", query.fonds), ("register", query.register),
                              ("file_number", query.file_number)):
        if value and value.strip():
            filters.append({"term": {field_name: value.strip()}})
    filters.extend({"term": {field_name: key}} for field_name, key in keyed_filters(query))
    if query.year_from is not None or query.year_to is not None:
        rng: dict[str, int] = {}
        if query.year_from is not None:
            rng["gte"] = int(query.year_from)
        if query.year_to is not None:
            rng["lte"] = int(query.year_to)
        filters.append({"range": {"year": rng}})
    if query.entity:
        label, value = query.entity
        filters.append({"term": {"entities": f"{label}:{normalize(value).strip()}"}})
    return filters


def build_query(parsed: ParsedQuery | None, filters: list[dict]) -> dict:
    """The whole Elasticsearch query for a parsed query (``None``: browse)."""
    if parsed is None:
        return {"bool": {"filter": filters}}     # browse: every document passing the filters
    # What matches is a filter (cacheable, and a phrase only has to be found
    # once per document, not counted); what ranks is the tiers plus BM25 of the
    # folded words of the positive terms, which costs no positions.
    required = _all_groups(parsed, exact=False)
    must_not = [_term_query(t, exact=True) for t in parsed.excluded]
    words = " ".join(dict.fromkeys(tok for t in parsed.terms for tok in t.folded))
    should: list[dict] = [{"match": {"body_folded": {"query": words}}}]
    if parsed.has_diacritics:
        should.append({"constant_score": {"filter": {"bool": {"must": _all_groups(parsed, exact=True)}},
                                          "boost": EXACT_TIER}})
    if parsed.runs:
        runs = [_term_query(Term(tokens=run), exact=False) for run in parsed.runs]
        should.append({"constant_score": {"filter": {"bool": {"must": runs}}, "boost": PHRASE_TIER}})
    should.extend(_segment_boost(parsed))
    return {"bool": {"filter": filters + required, "must_not": must_not, "should": should,
                     "minimum_should_match": 0}}   # should only ranks


def build_aggs() -> dict[str, Any]:
    """Facets: terms aggregations on the top-level documents, so counts are documents.

    Type and issuer are grouped by their case-insensitive key; the form shown
    for a key and the fonds name come from the backend's cached label lookup
    (``ElasticBackend._labels``), not from a sub-aggregation over every match:
    those were a third of a cold facet request's time."""
    def terms(field_name: str, size: int = FACET_LIMIT) -> dict:
        return {"terms": {"field": field_name, "size": size}}
    aggs: dict[str, Any] = {
        "fonds": terms("fonds"), "doc_type": terms("doc_type_key"), "issuer": terms("issuer_key"),
        "year": {"terms": {"field": "year", "size": 200, "order": {"_key": "desc"}}},
    }
    for key, label in ENTITY_FACETS.items():
        aggs[key] = terms(label)
    return aggs


LABEL_FIELDS = {"fonds": ("fonds", "fonds_name"), "doc_type": ("doc_type_key", "doc_type"),
                "issuer": ("issuer_key", "issuer")}
LABELS_MAX = 65_000        # distinct keys per labelled facet read into the lookup
LABELS_TTL = 60.0          # seconds a label lookup is trusted (the index may change under it)


def build_label_aggs(keys: dict[str, list[str]] | None = None) -> dict[str, Any]:
    """Key → shown form, for the labelled facets: the fonds name of a fonds
    code, the spelling of a type or issuer key (the greatest, as the old
    sub-aggregation chose). ``keys`` restricts each facet to some keys."""
    aggs: dict[str, Any] = {}
    for facet, (key_field, label_field) in LABEL_FIELDS.items():
        wanted = (keys or {}).get(facet)
        if keys is not None and not wanted:
            continue
        agg: dict[str, Any] = {"field": key_field, "size": len(wanted) if wanted else LABELS_MAX}
        if wanted:
            agg["include"] = wanted
        order = {"order": {"_key": "desc"}} if facet != "fonds" else {}
        aggs[facet] = {"terms": agg, "aggs": {"name": {"terms": {"field": label_field, "size": 1, **order}}}}
    return aggs


def _label_map(aggs: dict) -> dict[str, dict[str, str]]:
    return {facet: {str(b["key"]): str(b["name"]["buckets"][0]["key"]) for b in agg.get("buckets", [])
                    if b["name"]["buckets"]}
            for facet, agg in aggs.items()}


def build_sort(sort: str, browsing: bool) -> list[Any] | None:
    """The hits request's sort; ``None`` for relevance: by score alone, equal
    scores in index order (see the module docstring)."""
    date_desc = {"issued_date": {"order": "desc", "missing": "_last"}}
    if sort == "relevance":
        return [date_desc, {"doc_id": "asc"}] if browsing else None
    if sort == "date_asc":
        return [{"issued_date": {"order": "asc", "missing": "_last"}}, "_score", {"doc_id": "asc"}]
    if sort == "date_desc":
        return [date_desc, "_score", {"doc_id": "asc"}]
    raise SearchError(f"unknown sort {sort!r}: expected one of {', '.join(SORTS)}")


# -------------------------------------------------------------------- backend
class ElasticBackend:
    """``SearchBackend`` on Elasticsearch 9 at ``settings.elasticsearch_url``,
    behind the alias ``settings.elasticsearch_index``."""

    name = "elasticsearch"

    def __init__(self, settings: "Settings", *, request_timeout: float = 30.0):
        from elasticsearch import Elasticsearch
        from elasticsearch.serializer import OrjsonSerializer

        if not settings.elasticsearch_url:
            raise SearchError("KHOLUU_ELASTICSEARCH_URL is not set: no Elasticsearch server to use")
        self.url = settings.elasticsearch_url
        self.alias = settings.elasticsearch_index
        # retries: connection errors and timeouts here; 429 per bulk item in _bulk
        # orjson reads the search answers (ten hits with their page texts) and
        # writes requests in a fraction of the standard library's time
        self.es = Elasticsearch(self.url, request_timeout=request_timeout, max_retries=3,
                                retry_on_timeout=True, retry_on_status=(429, 502, 503, 504),
                                serializer=OrjsonSerializer())
        self._ready = False
        self.last_rebuild: dict[str, float] = {}   # seconds per phase of the last rebuild (bench, status)
        self._label_lock = threading.Lock()
        self._label_cache: tuple[float, dict[str, dict[str, str]]] | None = None   # (read at, labels)

    # -- plumbing -------------------------------------------------------------
    def _call(self, what: str, fn: Callable[..., Any], **kwargs: Any) -> Any:
        """One client call; transport and API failures become a one-line SearchError."""
        from elasticsearch import ApiError, TransportError

        try:
            return fn(**kwargs)
        except TransportError as exc:
            raise SearchUnavailable(f"Elasticsearch at {self.url} is unreachable ({what}): {exc}") from None
        except ApiError as exc:
            # overloaded or failing (429 and 5xx, after the client's own retries): not the query's fault
            error = SearchUnavailable if exc.meta.status == 429 or exc.meta.status >= 500 else SearchError
            raise error(f"Elasticsearch at {self.url} refused {what} on {self.alias!r}: "
                        f"{exc.meta.status} {_reason(exc)}") from None

    def _new_index_name(self) -> str:
        return f"{self.alias}-v{MAPPING_VERSION}-{time.strftime('%Y%m%d%H%M%S')}-{time.time_ns() % 10**9:09d}"

    def _create_index(self, name: str, *, alias: bool, settings: dict[str, Any] | None = None) -> None:
        extra = {"aliases": {self.alias: {"is_write_index": True}}} if alias else {}
        body = index_body()
        body["settings"].update(settings or {})
        self._call("create index", self.es.indices.create, index=name, **body, **extra)
        self._call("wait for the new index", self.es.cluster.health, index=name,
                   wait_for_status="yellow", timeout="30s")

    def _ensure(self) -> None:
        """Create the first versioned index behind the alias when there is none."""
        if self._ready:
            return
        if not self._call("alias lookup", self.es.indices.exists_alias, name=self.alias):
            if self._call("index lookup", self.es.indices.exists, index=self.alias):
                raise SearchError(f"Elasticsearch at {self.url}: {self.alias!r} is an index, not an alias; "
                                  "delete it or set another KHOLUU_ELASTICSEARCH_INDEX")
            try:
                self._create_index(self._new_index_name(), alias=True)
            except SearchError:
                # another process created it at the same moment: fine if the alias exists now
                if not self._call("alias lookup", self.es.indices.exists_alias, name=self.alias):
                    raise
        else:
            mappings = self._call("mapping lookup", self.es.indices.get_mapping, index=self.alias).body
            for name, m in mappings.items():
                version = (m.get("mappings", {}).get("_meta") or {}).get("kholuu_mapping_version")
                if version != MAPPING_VERSION:
                    raise SearchUnavailable(f"Elasticsearch at {self.url}: index {name} (alias {self.alias!r}) has "
                                      f"mapping version {version}, this kholuu needs {MAPPING_VERSION}; "
                                      "run `kholuu index rebuild`")
        self._ready = True

    def indices(self) -> list[str]:
        """The concrete indices behind the alias (normally one)."""
        if not self._call("alias lookup", self.es.indices.exists_alias, name=self.alias):
            return []
        return sorted(self._call("alias lookup", self.es.indices.get_alias, name=self.alias).body)

    # -- writing --------------------------------------------------------------
    def _actions(self, index: str, documents: Iterable[IndexDocument]) -> Iterator[tuple[dict, bytes]]:
        """(bulk header, source bytes) pairs: the source is serialized already."""
        for doc_id, source in encoded(documents):
            yield {"index": {"_index": index, "_id": doc_id}}, source

    def _bulk(self, index: str, actions: Iterable[Any], what: str) -> int:
        """``streaming_bulk`` with retries on 429; failures counted and reported.

        ``BULK_WORKERS`` streams share one action iterator, so Python builds the
        next chunk (normalizing, folding, serializing) while Elasticsearch
        indexes the previous one: on a small machine this overlap is most of
        the indexing speed. An exception from ``actions`` (the catalog) stops
        every stream and propagates. Index actions come as (header, JSON bytes)
        pairs from ``_actions``; deletes as the helpers' action dicts.
        """
        from elasticsearch import ApiError, TransportError, helpers

        source = iter(actions)
        lock = threading.Lock()
        ok = failed = 0
        first = ""

        def shared() -> Iterator[dict]:
            while True:
                with lock:
                    try:
                        action = next(source)
                    except StopIteration:
                        return
                yield action

        def expand(action: Any) -> Any:
            return action if isinstance(action, tuple) else helpers.expand_action(action)

        def stream() -> None:
            nonlocal ok, failed, first
            for success, item in helpers.streaming_bulk(
                    self.es, shared(), chunk_size=BULK_CHUNK, max_chunk_bytes=20 * 1024 * 1024,
                    expand_action_callback=expand,
                    raise_on_error=False, raise_on_exception=False, max_retries=BULK_RETRIES,
                    initial_backoff=BULK_BACKOFF[0], max_backoff=BULK_BACKOFF[1],
                    ignore_status=(404,) if what == "delete" else ()):
                op, info = next(iter(item.items()))
                with lock:
                    if success or (op == "delete" and info.get("status") == 404):
                        ok += 1
                        continue
                    failed += 1
                    if not first:
                        first = f"document {info.get('_id')}: {info.get('error') or info.get('exception')}"

        try:
            with ThreadPoolExecutor(BULK_WORKERS, thread_name_prefix="kholuu-bulk") as pool:
                for f in [pool.submit(stream) for _ in range(BULK_WORKERS)]:
                    f.result()
        except (TransportError, ApiError) as exc:
            raise SearchUnavailable(f"Elasticsearch at {self.url} is unreachable ({what} into {index}): {exc}") from None
        self._call("refresh", self.es.indices.refresh, index=index)
        if failed:
            raise SearchError(f"Elasticsearch at {self.url}: {failed} of {ok + failed} documents failed "
                              f"({what} into {index}); first: {first}")
        return ok

    def index(self, documents: Iterable[IndexDocument]) -> int:
        """Add or replace documents; the catalog id is the Elasticsearch id."""
        self._ensure()
        self._label_cache = None   # this backend's own writes show in its next facets (other processes': within LABELS_TTL)
        return self._bulk(self.alias, self._actions(self.alias, documents), "index")

    def delete(self, ids: Sequence[int]) -> None:
        if not ids:
            return
        self._ensure()
        self._label_cache = None
        actions = ({"_op_type": "delete", "_index": self.alias, "_id": str(int(i))} for i in ids)
        self._bulk(self.alias, actions, "delete")

    def rebuild(self, documents: Iterable[IndexDocument]) -> int:
        """Write every document into a new versioned index, then swap the alias.

        Searches use the old index until the swap; if indexing fails half way,
        the new index is dropped and the alias is untouched. The new index is
        written with ``REBUILD_SETTINGS`` (no refreshes, asynchronous translog)
        and gets ``LIVE_SETTINGS`` back before it is searched.
        """
        new = self._new_index_name()
        self._create_index(new, alias=False, settings=REBUILD_SETTINGS)
        started = time.perf_counter()
        try:
            n = self._bulk(new, self._actions(new, documents), "rebuild")
            written = time.perf_counter()
            self._call("force merge", self.es.options(request_timeout=MERGE_TIMEOUT).indices.forcemerge,
                       index=new, max_num_segments=1)
            self._call("index settings", self.es.indices.put_settings, index=new,
                       settings={"index": LIVE_SETTINGS})
            # searchable now, as one segment: the swap must not show a reader that
            # predates the writes (refreshes were off), nor keep the merged-away files
            self._call("refresh", self.es.indices.refresh, index=new)
            self.last_rebuild = {"bulk_s": written - started, "merge_s": time.perf_counter() - written}
        except BaseException:
            self._call("drop the failed rebuild", self.es.indices.delete, index=new, ignore_unavailable=True)
            raise
        old = self.indices()
        actions: list[dict] = [{"remove": {"index": o, "alias": self.alias}} for o in old]
        actions.append({"add": {"index": new, "alias": self.alias, "is_write_index": True}})
        self._call("alias swap", self.es.indices.update_aliases, actions=actions)
        for o in old:
            self._call("drop the old index", self.es.indices.delete, index=o, ignore_unavailable=True)
        self._ready = True
        self._label_cache = None
        return n

    def clear(self) -> None:
        """Remove every document: an empty new index behind the alias (this
        server build has no delete-by-query)."""
        self.rebuild([])

    def drop(self) -> None:
        """Delete the alias and its indices (tests, uninstall)."""
        for name in self.indices():
            self._call("drop index", self.es.indices.delete, index=name, ignore_unavailable=True)
        self._ready = False

    def count(self) -> int:
        self._ensure()
        return int(self._call("count", self.es.count, index=self.alias)["count"])

    def ids(self) -> set[int]:
        """Document ids in the index (for ``kholuu index status``)."""
        from elasticsearch import ApiError, TransportError, helpers

        self._ensure()
        try:
            return {int(h["_id"]) for h in helpers.scan(self.es, index=self.alias, _source=False,
                                                         query={"query": {"match_all": {}}}, size=5000)}
        except (TransportError, ApiError) as exc:
            raise SearchError(f"Elasticsearch at {self.url}: listing ids of {self.alias!r} failed: {exc}") from None

    def present(self, ids: Sequence[int]) -> set[int]:
        """Which of ``ids`` are in the index (the pipeline's catalog check).

        ``mget`` is real-time: it sees documents not yet refreshed into search.
        """
        self._ensure()
        found: set[int] = set()
        wanted = [str(int(i)) for i in ids]
        for start in range(0, len(wanted), 1000):
            reply = self._call("document lookup", self.es.mget, index=self.alias,
                               ids=wanted[start:start + 1000], source=False)
            found.update(int(d["_id"]) for d in reply["docs"] if d.get("found"))
        return found

    def size_bytes(self) -> int:
        """Store size of the index behind the alias (primaries), for benchmarks and status."""
        self._ensure()
        stats = self._call("index stats", self.es.indices.stats, index=self.alias, metric="store")
        return int(stats["_all"]["primaries"]["store"]["size_in_bytes"])

    def close(self) -> None:
        self.es.close()

    # -- searching ------------------------------------------------------------
    def parse(self, text: str) -> ParsedQuery:
        return expand_query(parse_query(text))

    def search(self, query: SearchQuery) -> SearchResult:
        """One ``_msearch`` of two searches that the node runs side by side.

        * the page of hits: scored with the tiers and sorted, without counting
          (``track_total_hits: false``) or aggregating;
        * the total and the facets: ``size: 0``, so no scores are needed and
          Lucene skips the optional tier clauses (the match set is the same:
          tiers only rank), and the shard request cache may answer it — the
          same query paged, or asked again before the index changes, costs
          about a millisecond instead of aggregating every match.
        """
        started = time.perf_counter()
        parsed = checked_query(query)
        if query.sees_nothing:
            return SearchResult(total=0, hits=[], facets={}, took_ms=0.0)
        self._ensure()
        es_query = build_query(parsed, build_filters(query))
        hits_body: dict[str, Any] = {
            "query": es_query, "from": query.offset, "size": min(query.limit, MAX_LIMIT),
            "track_total_hits": False, "_source": {"excludes": SEARCH_FORMS},   # metadata and page texts
        }
        sort = build_sort(query.sort, parsed is None)
        if sort is not None:
            hits_body.update(sort=sort, track_scores=True)
        count_body: dict[str, Any] = {"query": es_query, "size": 0, "track_total_hits": True}
        if query.facets:
            count_body["aggs"] = build_aggs()
        resp = self._call("search", self.es.msearch, index=self.alias,
                          searches=[{}, hits_body, {"request_cache": True}, count_body])
        found, counted = (self._answer(r) for r in resp["responses"])
        hits = [_hit(h, parsed) for h in found["hits"]["hits"]]
        facets = self._facets(counted.get("aggregations") or {}, es_query) if query.facets else {}
        return SearchResult(total=int(counted["hits"]["total"]["value"]), hits=hits, facets=facets,
                            took_ms=(time.perf_counter() - started) * 1000)

    def _labels(self) -> dict[str, dict[str, str]]:
        """The label lookup of the labelled facets, read from the public
        documents at most every ``LABELS_TTL`` seconds (one request, answered
        by the request cache while the index does not change).

        Public documents only, so a label never shows a spelling that only a
        restricted document has; a key without a public document gets its
        label from the documents the query matched (``_facets``)."""
        now = time.monotonic()
        cached = self._label_cache
        if cached is not None and now - cached[0] < LABELS_TTL:
            return cached[1]
        # one search refreshes; the others keep the stale labels rather than wait for it
        # (only the very first lookup, with nothing cached, waits)
        if not self._label_lock.acquire(blocking=cached is None):
            return cached[1]
        try:
            cached = self._label_cache
            if cached is not None and time.monotonic() - cached[0] < LABELS_TTL:
                return cached[1]
            resp = self._call("facet labels", self.es.search, index=self.alias, size=0, request_cache=True,
                              query={"bool": {"filter": [{"term": {"access_mode": "public"}}]}},
                              aggs=build_label_aggs())
            labels = _label_map(resp.get("aggregations") or {})
            self._label_cache = (time.monotonic(), labels)
            return labels
        finally:
            self._label_lock.release()

    def _facets(self, aggs: dict, es_query: dict) -> dict[str, list[FacetValue]]:
        """Facet values with their labels: from the cached lookup, and for keys
        it lacks (new since it was read, or in no public document) from one
        more search over this query's own matches."""
        labels = self._labels()
        missing = {facet: [str(b["key"]) for b in aggs.get(facet, {}).get("buckets", [])
                           if str(b["key"]) not in labels.get(facet, {})] for facet in LABEL_FIELDS}
        if any(missing.values()):
            resp = self._call("facet labels", self.es.search, index=self.alias, size=0, request_cache=True,
                              query={"bool": {"filter": [es_query]}}, aggs=build_label_aggs(missing))
            found = _label_map(resp.get("aggregations") or {})
            labels = {facet: {**labels.get(facet, {}), **found.get(facet, {})} for facet in LABEL_FIELDS}
        return _facets(aggs, labels)

    def _answer(self, response: dict) -> dict:
        """One response of an ``_msearch``; a refused search is a one-line SearchError."""
        if "error" in response:
            status = int(response.get("status") or 500)
            error = SearchUnavailable if status == 429 or status >= 500 else SearchError
            raise error(f"Elasticsearch at {self.url} refused search on {self.alias!r}: "
                        f"{status} {_reason(_Body(response))}")
        return response


class _Body:
    """An ``_msearch`` item error in the shape ``_reason`` reads (``exc.body``)."""

    def __init__(self, body: dict):
        self.body = body


def _pages(objs: Iterable[dict]) -> list[IndexPage]:
    return sorted((IndexPage(page_id=int(p["page_id"]), page_no=int(p["page_no"]), text=p.get("text") or "")
                   for p in objs), key=lambda p: p.page_no)


def _hit(h: dict, parsed: ParsedQuery | None) -> Hit:
    """A result document: best page, hit pages and snippet from its stored pages."""
    src = h["_source"]
    found = document_hits(_pages(src.get("pages") or []), parsed, fallback=src.get("subject") or "")
    score = h.get("_score")
    return Hit(id=int(src["doc_id"]), doc_type=src.get("doc_type"), number_symbol=src.get("number_symbol"),
               issued_date=date.fromisoformat(src["issued_date"]) if src.get("issued_date") else None,
               subject=src.get("subject"), issuer=src.get("issuer"), fonds=src["fonds"],
               fonds_name=src.get("fonds_name") or "", register=src.get("register"),
               file_number=src.get("file_number"), score=round(float(score or 0.0), 4),
               snippet=found.snippet, best_page=found.best_page, pages=found.pages)


def _facets(aggs: dict, labels: dict[str, dict[str, str]]) -> dict[str, list[FacetValue]]:
    """Buckets as facet values: a fonds shows its name, a type or issuer key
    its spelling (both the value and the label, as the embedded index does)."""
    out: dict[str, list[FacetValue]] = {}
    for key, agg in aggs.items():
        values = []
        shown = labels.get(key, {})
        for b in agg.get("buckets", []):
            value = label = str(b["key"])
            if key == "fonds":
                label = shown.get(value, "")
            elif value in shown:
                value = label = shown[value]
            values.append(FacetValue(value=value, count=int(b["doc_count"]), label=label))
        if key != "year":
            values.sort(key=lambda v: (-v.count, v.value))
        out[key] = values
    return out


def _reason(exc: Any) -> str:
    try:
        err = exc.body.get("error", {})
        root = (err.get("root_cause") or [{}])[0]
        return f"{root.get('type', err.get('type', ''))}: {root.get('reason', err.get('reason', ''))}"
    except Exception:  # noqa: BLE001 - any shape of error body
        return str(exc)


__all__ = ["ElasticBackend", "MAPPING_VERSION", "index_body", "to_source", "encode", "encoded", "build_query",
           "build_filters"]
