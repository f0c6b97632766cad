"""The embedded tantivy index beyond the shared contract (``test_indexing_embedded.py``
runs the contract on it): generations and atomic rebuild, several writers and
readers, damaged or older indexes, ranking tiers, paging, and the upgrade path
from the SQLite FTS5 index of earlier versions."""

from __future__ import annotations

import fcntl
import json
import threading
from pathlib import Path

import pytest

from indexing.base import SearchQuery
from indexing.tantivy_index import TIER, TantivyBackend
from kholuu.errors import SearchError
from test_indexing_embedded import CORPUS, doc, ids, run


@pytest.fixture
def root(tmp_path: Path) -> Path:
    return tmp_path / "tantivy"


def generations(root: Path) -> list[str]:
    return sorted(p.name for p in root.glob("g-*"))


def current(root: Path) -> dict:
    return json.loads((root / "CURRENT").read_text(encoding="utf-8"))


def test_a_new_index_is_one_empty_generation_not_yet_complete(root: Path):
    b = TantivyBackend(root)
    try:
        assert b.count() == 0 and not b.complete
        assert generations(root) == [current(root)["dir"]]
        b.index(CORPUS)
        assert b.count() == len(CORPUS) and not b.complete   # indexing pieces never makes it complete
    finally:
        b.close()
    again = TantivyBackend(root)   # reopening keeps it
    try:
        assert again.count() == len(CORPUS) and run(again, "nông thôn mới").total == 2
    finally:
        again.close()


def test_rebuild_swaps_to_a_new_generation_and_is_all_or_nothing(root: Path):
    b = TantivyBackend(root)
    try:
        b.index(CORPUS)
        before = current(root)["dir"]

        def failing():
            yield CORPUS[0]
            yield CORPUS[1]
            raise RuntimeError("catalog went away")

        with pytest.raises(RuntimeError):
            b.rebuild(failing())
        assert current(root)["dir"] == before and generations(root) == [before]   # half-built one removed
        assert b.count() == len(CORPUS) and run(b, "nông thôn mới").total == 2
        assert b.rebuild(CORPUS[:2]) == 2
        after = current(root)
        assert after["dir"] != before and after["complete"] is True and generations(root) == [after["dir"]]
        assert b.count() == 2 and set(ids(run(b, "nông thôn mới"))) == {1, 2} and b.complete
    finally:
        b.close()


def test_searches_run_while_a_rebuild_writes(root: Path):
    """No downtime: a reader in another thread always sees a whole index, old or new."""
    b = TantivyBackend(root)
    reader = TantivyBackend(root)
    totals: list[int] = []
    errors: list[BaseException] = []
    started = threading.Event()

    def slow_documents():
        for d in CORPUS:
            started.set()
            yield d
        done.wait(5)

    done = threading.Event()
    try:
        b.index(CORPUS[:2])
        t = threading.Thread(target=lambda: b.rebuild(slow_documents()))
        t.start()
        started.wait(5)
        try:
            for _ in range(20):
                totals.append(run(reader, "nông thôn mới").total)
        except BaseException as exc:  # noqa: BLE001 - asserted below
            errors.append(exc)
        done.set()
        t.join(30)
        assert not errors and set(totals) == {2}        # the old index, whole, during the rebuild
        assert run(reader, "nông thôn mới").total == 2 and reader.count() == len(CORPUS)   # then the new one
    finally:
        done.set()
        b.close()
        reader.close()


def test_a_reader_sees_what_another_writer_committed(root: Path):
    """Another process (the pipeline) writes; this one (the web app) must show it in
    hits, totals and facets at once."""
    reader = TantivyBackend(root)
    writer = TantivyBackend(root)
    try:
        writer.index(CORPUS[:2])
        assert set(ids(run(reader, "nông thôn mới"))) == {1, 2}
        writer.index([doc(20, ["Nông thôn mới ở Vũ Thư"], fonds="31", doc_type="Kế hoạch", year=2023,
                          entities=[("PER", "Lê Thị Mai")])])
        after = run(reader, "nông thôn mới", fonds="31")
        assert ids(after) == [20] and after.total == 1
        assert [(f.value, f.count) for f in after.facets["fonds"]] == [("31", 1)]
        assert [f.value for f in after.facets["person"]] == ["Lê Thị Mai"]
        writer.delete([20])
        assert run(reader, "nông thôn mới").total == 2 and reader.present([1, 20]) == {1}
    finally:
        reader.close()
        writer.close()


def test_a_write_while_another_process_holds_the_lock_is_a_search_error(root: Path):
    b = TantivyBackend(root, busy_timeout_s=0.2)
    try:
        with open(root / "write.lock", "a+") as other:   # another open file: another writer's lock
            fcntl.flock(other, fcntl.LOCK_EX)
            with pytest.raises(SearchError, match="write.lock"):
                b.index(CORPUS[:1])
            assert run(b, "nông").total == 0            # reading never waits for the lock...
            TantivyBackend(root, busy_timeout_s=0.2).close()   # ...nor does opening the index
            fcntl.flock(other, fcntl.LOCK_UN)
        assert b.index(CORPUS[:1]) == 1 and b.count() == 1
    finally:
        b.close()


def test_an_index_in_an_older_format_starts_empty(root: Path):
    b = TantivyBackend(root)
    b.index(CORPUS[:2])
    b.close()
    state = current(root)
    (root / "CURRENT").write_text(json.dumps({**state, "format": "0", "complete": True}), encoding="utf-8")
    b = TantivyBackend(root)
    try:
        assert b.count() == 0 and not b.complete and generations(root) == [current(root)["dir"]]
        b.index(CORPUS[:3])
        assert b.count() == 3 and run(b, "nông thôn mới").total == 2
    finally:
        b.close()


@pytest.mark.parametrize("damage", ["pointer", "generation"])
def test_a_damaged_index_is_a_search_error_naming_the_folder(root: Path, damage: str):
    TantivyBackend(root).close()
    if damage == "pointer":
        (root / "CURRENT").write_text("not json", encoding="utf-8")
    else:
        (root / current(root)["dir"] / "meta.json").write_text("{broken", encoding="utf-8")
    with pytest.raises(SearchError, match=r"tantivy.*index rebuild"):
        TantivyBackend(root).count()


def test_tiers_outrank_bm25_and_show_in_the_score(root: Path):
    b = TantivyBackend(root)
    try:
        b.index(CORPUS)
        r = run(b, "mã")                           # one exact "mã" against five "ma"
        assert ids(r) == [4, 3, 5] or ids(r) == [4, 5, 3]
        assert 2.0 < r.hits[0].score < 3.0 and all(0.0 < h.score < 1.0 for h in r.hits[1:])
        r = run(b, "nong thon moi")                # the phrase tier, no accents typed
        assert ids(r)[0] == 1 and 1.0 < r.hits[0].score < 2.0 and r.hits[1].score < 1.0
        assert TIER > 1000
    finally:
        b.close()


def test_counting_only_and_pages_past_the_end(root: Path):
    b = TantivyBackend(root)
    try:
        b.index(CORPUS)
        for sort in ("relevance", "date_asc"):
            counted = run(b, "nông", limit=0, sort=sort)
            assert counted.total == 3 and counted.hits == [] and counted.facets["fonds"][0].count == 3
        past = run(b, "nông", offset=100)
        assert past.total == 3 and past.hits == []
        assert run(b, "", limit=0).total == 7
    finally:
        b.close()


def test_granted_ids_and_fonds_scope_widen_access(root: Path):
    b = TantivyBackend(root)
    try:
        b.index(CORPUS)
        assert set(ids(run(b, "nông thôn mới", granted_ids=(8,)))) == {1, 2, 8}
        assert set(ids(run(b, "nông thôn mới", granted_ids=(7,)))) == {1, 2}     # a grant opens conditional only
        r = run(b, "nông thôn mới", fonds_scope=("99",))
        assert set(ids(r)) == {1, 2, 7, 8} and {f.value: f.count for f in r.facets["fonds"]} == {"12": 2, "99": 2}
        assert run(b, "nông", access_modes=(), granted_ids=(8,)).total == 1
    finally:
        b.close()


def test_closed_backend_is_a_search_error(root: Path):
    b = TantivyBackend(root)
    b.close()
    with pytest.raises(SearchError, match="closed"):
        b.search(SearchQuery(text="nông"))


def test_a_reader_follows_a_rebuild_by_another_writer(root: Path):
    """The web app keeps its backend open while ``kholuu index rebuild`` (another
    process) swaps the generation and deletes the old one."""
    reader = TantivyBackend(root)
    other = TantivyBackend(root)
    try:
        other.index(CORPUS[:2])
        assert reader.count() == 2
        old = current(root)["dir"]
        other.rebuild(CORPUS)
        assert not (root / old).exists()
        assert reader.count() == len(CORPUS) and run(reader, "nông thôn mới").total == 2
        other.rebuild(CORPUS[:1])
        assert reader.count() == 1 and reader.present([1, 2]) == {1}
    finally:
        reader.close()
        other.close()


_SLOW_REBUILD = """
import sys, time
from pathlib import Path
from indexing.tantivy_index import TantivyBackend
from test_indexing_embedded import CORPUS

root, started = Path(sys.argv[1]), Path(sys.argv[2])

def slow():
    for i, d in enumerate(CORPUS):
        if i == 1:
            started.touch()
            time.sleep(2.5)     # a long rebuild, holding the write lock
        yield d

b = TantivyBackend(root)
b.rebuild(slow())
b.close()
"""


def _start_slow_rebuild(root: Path, tmp_path: Path) -> "subprocess.Popen":
    import os
    import subprocess
    import sys
    import time

    started = tmp_path / "started"
    tests = Path(__file__).resolve().parent
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(tests.parent), str(tests)])}
    child = subprocess.Popen([sys.executable, "-c", _SLOW_REBUILD, str(root), str(started)], env=env)
    deadline = time.monotonic() + 60
    while not started.exists():
        assert child.poll() is None and time.monotonic() < deadline, "the rebuild did not start"
        time.sleep(0.05)
    return child


def test_a_write_waits_for_a_running_rebuild_in_another_process(root: Path, tmp_path: Path):
    """A pipeline write during `kholuu index rebuild` waits for it rather than failing
    after busy_timeout_s, then adds its document: the index catches up."""
    TantivyBackend(root).close()
    child = _start_slow_rebuild(root, tmp_path)
    b = TantivyBackend(root, busy_timeout_s=0.2)
    try:
        assert b.index([doc(50, ["Hợp tác xã nông nghiệp."])]) == 1   # waited past 0.2 s for the rebuild
        assert child.wait(timeout=60) == 0
        assert b.present([50, 1, 9]) == {50, 1, 9} and b.count() == len(CORPUS) + 1
    finally:
        child.kill()
        b.close()


def test_a_write_waits_for_a_rebuild_only_up_to_its_limit(root: Path, tmp_path: Path):
    TantivyBackend(root).close()
    child = _start_slow_rebuild(root, tmp_path)
    b = TantivyBackend(root, busy_timeout_s=0.2, rebuild_wait_s=0.6)
    try:
        with pytest.raises(SearchError, match="write.lock.*waited"):
            b.index([doc(50, ["Hợp tác xã nông nghiệp."])])
        assert child.wait(timeout=60) == 0
        assert b.index([doc(50, ["Hợp tác xã nông nghiệp."])]) == 1 and b.count() == len(CORPUS) + 1
    finally:
        child.kill()
        b.close()


def test_a_facet_value_whose_spellings_are_not_among_the_labels_fetched_is_named_from_a_document(
        root: Path, monkeypatch: pytest.MonkeyPatch):
    import indexing.tantivy_index as ti

    monkeypatch.setattr(ti, "FACET_BUCKETS", 2)   # buckets per aggregation: two keys, two spellings
    kinds = ["Chỉ thị"] * 5 + ["Báo cáo", "Báo cáo", "BÁO CÁO", "BÁO CÁO"] + ["Tờ trình"] * 3
    b = TantivyBackend(root)
    try:
        b.index([doc(100 + i, ["Văn bản lưu trữ."], doc_type=kind) for i, kind in enumerate(kinds)])
        r = run(b, "lưu trữ")
        # counted by key: the two spellings of "báo cáo" are one value (4), ahead of "Tờ trình" (3)
        assert [(v.count, v.label) for v in r.facets["doc_type"]][0] == (5, "Chỉ thị")
        assert r.facets["doc_type"][1].count == 4 and r.facets["doc_type"][1].label in ("Báo cáo", "BÁO CÁO")
        assert len(r.facets["doc_type"]) == 2
    finally:
        b.close()


def test_folded_tokens_match_folding_the_text_also_when_the_cache_is_renewed(monkeypatch: pytest.MonkeyPatch):
    import indexing.tantivy_index as ti
    from indexing.folding import fold_text

    monkeypatch.setattr(ti._FOLDED, "max_size", 3)   # emptied on every call past three tokens
    ti._FOLDED.clear()   # earlier tests' tokens would never be missed
    tokens = ti._tokens("Ban Thường vụ Tỉnh uỷ: ĐẨY MẠNH xây dựng Đảng, đoàn kết; Đảng bộ 2021")
    for _ in range(3):
        assert ti._fold_tokens(tokens) == fold_text(" ".join(tokens)).split()
        assert len(ti._FOLDED) <= 3
    assert ti._pairs(ti._fold_tokens(tokens))[:2] == ["ban_thuong", "thuong_vu"]


def test_tokens_looked_up_chunk_by_chunk_are_those_of_the_whole_text(monkeypatch: pytest.MonkeyPatch):
    """``_search_tokens`` (split once, tokens per chunk from the cache shared with
    Elasticsearch) gives exactly ``_tokens`` of the header and the pages joined,
    with the page texts normalized as page-by-page checking would: also for
    letters whose case depends on their neighbours (final sigma), "İ" (whose
    lower case is longer), tokens over ``MAX_TOKEN_CHARS`` and odd whitespace,
    and while the caches are emptied every few lookups."""
    import random
    import sys

    import indexing.fields as fields
    import indexing.tantivy_index as ti
    from kholuu.textnorm import is_normalized, normalize

    # the "İ" check stands for every character whose lower case changes the length
    assert [c for c in map(chr, range(sys.maxunicode + 1)) if len(c.lower()) != 1] == ["\u0130"]
    monkeypatch.setattr(fields.EXACT_CHUNKS, "max_size", 5)
    rng = random.Random(11)
    alphabet = (list("aàảăâđeêoơôuưyAĐÊƠƯΑΣσςΒ1_-.,:'’ ") + ["\n", "\u0130", "\u0301", "\x1c", "\x85",
                "\u2028", "\u3000", "Tỉnh uỷ", "ho\u0300a", "  ", "x" * 120])
    kinds = {"İ": 0, "long": 0, "renormalized": 0}
    for _ in range(3000):
        head = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 6)))
        stored = ["".join(rng.choice(alphabet) for _ in range(rng.randint(0, 16))) for _ in range(rng.randint(1, 3))]
        for head_n in (head, normalize(head)):
            texts, tokens = ti._search_tokens(head_n, stored)
            per_page = [t if is_normalized(t) else normalize(t) for t in stored]
            assert texts == per_page, repr(stored)
            assert tokens == ti._tokens(head_n + "\n" + "\n".join(per_page)), repr((head_n, stored))
            kinds["İ"] += "\u0130" in head_n + "".join(stored)
            kinds["long"] += any(len(t) > ti.MAX_TOKEN_CHARS for t in ti.TOKEN_RE.findall("".join(stored)))
            kinds["renormalized"] += per_page != stored
    assert min(kinds.values()) > 50, kinds
    assert len(fields.EXACT_CHUNKS) <= 5


def test_three_word_phrases_counted_faceted_and_excluded_through_triples_match_the_ranked_phrase(root: Path):
    """Totals, facets, the phrase tier, exclusions and the ranked hits find a three-word
    phrase by its triple: the same documents as the phrase of pairs, also across a page
    break, and never the words apart or in another order."""
    import indexing.tantivy_index as ti

    # the pad makes the length that of the pairs (3), for BM25's length norm
    assert ti._triples(["ban", "thuong", "vu", "tinh"]) == ["ban_thuong_vu", "thuong_vu_tinh", "_"]
    assert ti._triples(["ban", "thuong"]) == ["_"] and ti._triples(["ban"]) == []
    b = TantivyBackend(root)
    try:
        b.index([doc(1, ["Ban Thường vụ Tỉnh ủy họp."], fonds="01"),
                 doc(2, ["Họp Ban Thường", "vụ Tỉnh ủy."], fonds="02"),          # across two pages: one token list
                 doc(3, ["Ban Thường trực, vụ mùa."], fonds="03"),                # the words apart
                 doc(4, ["Vụ Ban Thường."], fonds="04"),                          # another order
                 doc(5, ["ban thuong vu khong dau"], fonds="05")])
        for text in ('"Ban Thường vụ"', '"ban thuong vu"'):
            r = run(b, text, facets=True)
            assert sorted(ids(r)) == [1, 2, 5] and r.total == 3, text
            assert sum(v.count for v in r.facets["fonds"]) == 3 and {v.value for v in r.facets["fonds"]} == {
                "01", "02", "05"}
        r = run(b, "thuong vu tinh", facets=True)   # words typed in a row: all five (the issuer has "tinh")
        assert r.total == 5 and set(ids(r)[:2]) == {1, 2}   # the phrase tier: a triple, then the rest by BM25
        assert min(h.score for h in r.hits[:2]) >= 1.0 > max(h.score for h in r.hits[2:])
        assert sorted(ids(run(b, 'ban -"thuong vu tinh"'))) == [3, 4, 5]
    finally:
        b.close()


def test_a_ranked_three_word_phrase_scores_by_its_triple_exactly_as_the_phrase_of_pairs(root: Path):
    """The boosted triple must give tantivy's BM25 of the phrase of pairs to the bit
    (same order, same ties), alone and summed with other terms; documents of several
    lengths, repeated phrases, and a deleted document (BM25 counts it in N)."""
    from indexing.query import checked_query

    texts = ["Ban Thường vụ Tỉnh ủy họp bàn.", "Họp Ban Thường vụ, Ban Thường vụ, rồi Ban Thường vụ.",
             "Nghị quyết của Ban Thường vụ về công tác cán bộ và đảng viên ở nông thôn mới " * 5,
             "Ban Thường trực", "nông thôn mới, nông thôn mới", "Đảng bộ xã và nông thôn mới " * 3]
    b = TantivyBackend(root)
    try:
        b.index([doc(i + 1, [texts[i % len(texts)] + f" số {i}"]) for i in range(60)])
        b.index([doc(7, ["thay thế: Ban Thường vụ"])])   # the old document 7 stays counted until merged
        s = b._searcher()
        for text in ('"Ban Thường vụ"', '"nong thon moi"', '"ban thuong vu" OR dang', '"nông thôn mới" xã',
                     "hop tac xa"):
            q = SearchQuery(text=text, limit=50, access_modes=("public",))
            parsed = checked_query(q)
            pairs = s.search(b._queries.build(parsed, q)[0], 100, count=True)        # no searcher: pair phrase
            triples = s.search(b._queries.build(parsed, q, s)[0], 100, count=True)
            assert pairs.count == triples.count and pairs.count > 0 or text == "hop tac xa", text
            assert [(sc, a.segment_ord, a.doc) for sc, a in pairs.hits] == [
                (sc, a.segment_ord, a.doc) for sc, a in triples.hits], text
    finally:
        b.close()


def test_facets_asked_in_part_are_asked_again_when_the_cut_could_change_the_top(root: Path,
                                                                                 monkeypatch: pytest.MonkeyPatch):
    """Entities come first as ``ENTITY_BUCKETS`` values and fonds from their labels; a
    tie at the cut (150 persons once each: the first 20 by name) or labels cut short
    (fonds 01 under seven spellings) must fall back to the full count, not to a wrong one."""
    import indexing.tantivy_index as ti

    docs = [doc(i, ["Báo cáo công tác"], fonds="01", entities=[("PER", f"Người {i:03d}")]) for i in range(1, 151)]
    for d in docs[:6]:
        d.fonds_name = f"Phông một, cách viết {d.id}"
    for i, d in enumerate(docs[6:15]):
        d.fonds = "02" if i < 5 else "03"
    b = TantivyBackend(root)
    try:
        for part in (docs[100:], docs[50:100], docs[:50]):   # three segments, merged by tantivy
            b.index(part)
        r = run(b, "báo cáo", facets=True)
        assert [(v.value, v.count) for v in r.facets["person"]] == [(f"Người {i:03d}", 1) for i in range(1, 21)]
        assert {v.value: v.count for v in r.facets["fonds"]} == {"01": 141, "02": 5, "03": 4}
        monkeypatch.setattr(ti, "FACET_BUCKETS", 3)   # fonds labels: the main 01 spelling (135), 02 and 03
        r = run(b, "báo cáo", facets=True)
        assert {v.value: v.count for v in r.facets["fonds"]} == {"01": 141, "02": 5, "03": 4}
    finally:
        b.close()
