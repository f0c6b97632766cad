"""The access filter: the rules as properties (hypothesis), and both search
backends agreeing with ``AccessFilter.allows`` on hits, totals and facets.

The Elasticsearch half needs KHOLUU_TEST_ELASTICSEARCH_URL (``scripts/test``);
it fails without it unless KHOLUU_ALLOW_NO_ELASTICSEARCH=1.
"""

from __future__ import annotations

import os
import uuid
from datetime import date, datetime, timedelta
from typing import Iterator

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from indexing.base import IndexDocument, IndexPage, SearchQuery
from kholuu.access import (ANONYMOUS, MODES, ROLES, AccessFilter, Grant, User, access_filter,
                           declassify_due, Declassification, hash_password, verify_password)
from service_urls import elasticsearch_url

NOW = datetime(2026, 6, 1, 12, 0)
FONDS = ["F01", "F02", "F03"]
USERNAMES = ["an", "binh", "chi"]
GROUPS = ["g1", "g2"]

users = st.builds(
    User,
    id=st.one_of(st.none(), st.integers(1, 50)),
    username=st.sampled_from(USERNAMES),
    role=st.sampled_from(list(ROLES) + ["boss", ""]),
    fonds=st.lists(st.sampled_from(FONDS), max_size=2).map(tuple),
    groups=st.lists(st.sampled_from(GROUPS), max_size=2).map(tuple),
)
grants = st.builds(
    Grant,
    document_id=st.integers(1, 30),
    username=st.one_of(st.none(), st.sampled_from(USERNAMES)),
    group=st.one_of(st.none(), st.sampled_from(GROUPS)),
    expires_at=st.one_of(st.none(), st.integers(-5, 5).map(lambda d: NOW + timedelta(days=d))),
    revoked=st.booleans(),
)
documents = st.tuples(st.integers(1, 30), st.sampled_from(FONDS), st.sampled_from(MODES))


def expected(user: User, gs: list[Grant], doc: tuple[int, str, str], public_access: bool) -> bool:
    """The rules of docs/ACCESS.md, written out once more as the oracle."""
    doc_id, fonds, mode = doc
    if user.id is not None and user.role == "administrator":
        return True
    if user.id is None or user.role not in ("researcher", "editor", "archivist"):
        return mode == "public" and public_access
    if mode == "public":
        return True
    if user.role == "archivist" and fonds in user.fonds:
        return True
    return mode == "conditional" and any(
        g.document_id == doc_id and not g.revoked and (g.expires_at is None or g.expires_at > NOW)
        and ((g.username is not None and g.username == user.username) or (g.group is not None and g.group in user.groups))
        for g in gs)


@given(users, st.lists(grants, max_size=8), documents, st.booleans())
def test_filter_follows_the_rules(user: User, gs: list[Grant], doc, public_access: bool) -> None:
    f = access_filter(user, gs, NOW, public_access=public_access)
    assert f.allows(*doc) == expected(user, gs, doc, public_access)


@given(users, st.lists(grants, max_size=8), documents)
def test_secret_only_for_administrators_and_archivists_of_the_fonds(user: User, gs, doc) -> None:
    doc_id, fonds, _ = doc
    f = access_filter(user, gs, NOW)
    if f.allows(doc_id, fonds, "secret"):
        assert user.id is not None and (user.role == "administrator"
                                         or (user.role == "archivist" and fonds in user.fonds))


@given(users, st.lists(grants, max_size=8), documents, st.integers(0, 10))
def test_time_and_fewer_grants_never_widen_access(user: User, gs: list[Grant], doc, days: int) -> None:
    before = access_filter(user, gs, NOW).allows(*doc)
    later = access_filter(user, gs, NOW + timedelta(days=days)).allows(*doc)
    fewer = access_filter(user, gs[1:], NOW).allows(*doc)
    assert (later <= before) and (fewer <= before)


@given(st.lists(grants, max_size=8), documents)
def test_anonymous_ignores_grants_and_the_public_switch_closes_everything(gs, doc) -> None:
    assert access_filter(ANONYMOUS, gs, NOW) == AccessFilter(modes=("public",))
    assert access_filter(ANONYMOUS, gs, NOW, public_access=False).sees_nothing
    assert not access_filter(ANONYMOUS, gs, NOW, public_access=False).allows(*doc)


def test_logged_in_users_still_see_public_when_anonymous_access_is_off() -> None:
    f = access_filter(User(1, "an", "researcher"), [], NOW, public_access=False)
    assert f.allows(1, "F01", "public") and not f.allows(1, "F01", "conditional")


def test_declassification_due_on_and_after_its_day() -> None:
    items = [Declassification(1, date(2026, 6, 1)), Declassification(2, date(2026, 6, 2)),
             Declassification(3, date(2020, 1, 1))]
    assert declassify_due(items, date(2026, 6, 1)) == [1, 3]


def test_passwords_are_salted_argon2_and_verified() -> None:
    h1, h2 = hash_password("mật khẩu dài đủ"), hash_password("mật khẩu dài đủ")
    assert h1.startswith("$argon2id$") and h1 != h2
    assert verify_password(h1, "mật khẩu dài đủ") and not verify_password(h1, "mật khẩu sai rồi")
    assert not verify_password(None, "anything at all") and not verify_password("garbage", "x" * 12)
    with pytest.raises(ValueError, match="at least"):
        hash_password("short")


# -- both backends apply the filter exactly like AccessFilter.allows ----------
CORPUS_DOCS = [(i, FONDS[i % 3], MODES[(i // 3) % 3]) for i in range(1, 28)]


def _index_docs() -> list[IndexDocument]:
    out = []
    for doc_id, fonds, mode in CORPUS_DOCS:
        out.append(IndexDocument(
            id=doc_id, fonds=fonds, fonds_name=f"Phông {fonds}", register="01", file_number=str(doc_id),
            doc_type=["Chỉ thị", "Nghị quyết"][doc_id % 2], number_symbol=f"{doc_id}-CT/TU", issuer="Tỉnh ủy",
            place=None, issued_date=date(2000 + doc_id % 5, 1, 1), subject=f"Văn bản {mode} số {doc_id}",
            signer_name=None, access_mode=mode,
            pages=[IndexPage(page_id=doc_id * 10, page_no=1, text=f"Xây dựng nông thôn mới, {mode} số {doc_id}.")],
            entities=[("PER", f"Người {mode}")]))
    return out


filters = st.builds(
    AccessFilter,
    modes=st.lists(st.sampled_from(MODES), unique=True).map(tuple),
    granted_ids=st.lists(st.integers(1, 30), max_size=6, unique=True).map(tuple),
    fonds=st.lists(st.sampled_from(FONDS), max_size=2, unique=True).map(tuple),
)


def _check(backend, f: AccessFilter) -> None:
    want = {d for d, fonds, mode in CORPUS_DOCS if f.allows(d, fonds, mode)}
    r = backend.search(SearchQuery(text="nông thôn", limit=100, access_modes=f.modes,
                                   granted_ids=f.granted_ids, fonds_scope=f.fonds))
    assert {h.id for h in r.hits} == want and r.total == len(want)
    fonds_counts = {v.value: v.count for v in r.facets.get("fonds", []) if v.count}
    assert fonds_counts == {fo: n for fo in FONDS
                            if (n := sum(1 for d, x, m in CORPUS_DOCS if x == fo and d in want))}
    people = {v.value for v in r.facets.get("person", []) if v.count}
    assert people == {f"Người {m}" for d, _, m in CORPUS_DOCS if d in want}


@pytest.fixture(scope="module", params=["tantivy", "fts5"])
def embedded(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory):
    """The embedded backends: tantivy (the default) and the FTS5 benchmark baseline."""
    if request.param == "tantivy":
        from indexing.tantivy_index import TantivyBackend

        b = TantivyBackend(tmp_path_factory.mktemp("acc") / "tantivy")
    else:
        from indexing.embedded import EmbeddedBackend

        b = EmbeddedBackend(tmp_path_factory.mktemp("acc") / "search.sqlite")
    b.index(_index_docs())
    yield b
    b.close()


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(filters)
def test_embedded_backend_applies_the_filter_to_hits_totals_and_facets(embedded, f: AccessFilter) -> None:
    _check(embedded, f)




@pytest.fixture(scope="module")
def elastic(tmp_path_factory: pytest.TempPathFactory) -> Iterator[object]:
    from indexing.elastic import ElasticBackend
    from kholuu.settings import load_settings

    s = load_settings({"KHOLUU_HOME": str(tmp_path_factory.mktemp("acc-es")), "KHOLUU_ELASTICSEARCH_URL": elasticsearch_url(),
                       "KHOLUU_ELASTICSEARCH_INDEX": f"kholuu-test-acc-{os.getpid()}-{uuid.uuid4().hex[:8]}"})
    b = ElasticBackend(s)
    try:
        b.index(_index_docs())
        yield b
    finally:
        b.drop()
        b.close()


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(filters)
def test_elasticsearch_backend_applies_the_filter_to_hits_totals_and_facets(elastic, f: AccessFilter) -> None:
    _check(elastic, f)
