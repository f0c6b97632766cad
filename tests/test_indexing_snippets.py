"""Snippets: hits found on the folded text, marked in the original, escaped."""

from __future__ import annotations

from indexing.base import IndexPage
from indexing.query import parse_query
from indexing.snippets import build_snippet, document_hits, find_matches


def test_folded_query_marks_the_original_words():
    text = "Đẩy mạnh xây dựng NÔNG THÔN MỚI ở Thái Bình"
    assert build_snippet(text, parse_query("nong thon moi")) == \
        "Đẩy mạnh xây dựng <mark>NÔNG THÔN MỚI</mark> ở Thái Bình"


def test_exact_flag_tells_accents_apart():
    matches = find_matches("ma mã má", parse_query("mã"))
    assert [(m.start, m.exact) for m in matches] == [(0, False), (3, True), (6, False)]
    assert all(m.exact for m in find_matches("ma mã má", parse_query("ma")))


def test_whole_words_only_and_phrases_adjacent():
    assert find_matches("manh mạnh", parse_query("ma")) == []
    assert len(find_matches("nông dân ở thôn", parse_query('"nông thôn"'))) == 0
    assert len(find_matches("08-CT/TU và 08 CT TU", parse_query("08-CT/TU"))) == 2


def test_snippet_escapes_everything_but_marks():
    s = build_snippet('a <b>"x" & nông</b>', parse_query("nông"))
    assert s == 'a &lt;b&gt;"x" &amp; <mark>nông</mark>&lt;/b&gt;'


def test_long_text_is_cut_around_the_best_hits_at_word_boundaries():
    text = " ".join(["lời"] * 200) + " hợp tác xã nông nghiệp " + " ".join(["kết"] * 200)
    s = build_snippet(text, parse_query("hợp tác xã"), width=80)
    assert s.startswith("… ") and s.endswith(" …") and "<mark>hợp tác xã</mark>" in s
    assert len(s) < 140 and "l…" not in s


def test_document_hits_pick_the_best_page_and_list_words():
    pages = [IndexPage(1, 1, "Nông dân và thôn xóm; đổi mới."),
             IndexPage(2, 2, "Xây dựng nông thôn mới."),
             IndexPage(3, 3, "Không liên quan.")]
    hits = document_hits(pages, parse_query("nông thôn mới"))
    assert hits.best_page == 2
    assert [p.page_no for p in hits.pages] == [1, 2]
    assert hits.pages[1].terms == ["nông", "thôn", "mới"]
    assert hits.pages[0].terms == ["Nông", "thôn", "mới"]
    browse = document_hits(pages, None)
    assert browse.best_page == 1 and "<mark>" not in browse.snippet


from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from kholuu.errors import QuerySyntaxError  # noqa: E402
from kholuu.textnorm import normalize  # noqa: E402

_alphabet = st.sampled_from(list("aăâđêmnôơưàảãáạ <>&\"'-/ \n") + ["mã", "ma", "<mark>", "</mark>", "&amp;"])


@settings(max_examples=200, deadline=None)
@given(text=st.lists(_alphabet, max_size=60).map("".join), query=st.lists(_alphabet, max_size=8).map("".join))
def test_any_snippet_is_safe_html(text, query):
    try:
        q = parse_query(query)
    except QuerySyntaxError:
        return
    text = normalize(text)
    s = build_snippet(text, q, width=40)
    bare = s.replace("<mark>", "").replace("</mark>", "")
    assert "<" not in bare and ">" not in bare
    assert s.count("<mark>") == s.count("</mark>")


def test_capitals_and_letters_that_lower_to_two_characters_keep_offsets():
    # "İ" lowers to two characters: matching must fall back to ignoring case
    text = "İ NÔNG THÔN mới"
    matches = find_matches(text, parse_query("nong thon"))
    assert [(text[m.start:m.end]) for m in matches] == ["NÔNG", "THÔN"]
    assert build_snippet(text, parse_query("thon moi")) == "İ NÔNG <mark>THÔN mới</mark>"


def test_a_phrase_over_a_page_break_is_no_hit_and_hides_none_inside_a_page():
    """Pages are searched joined, in one pass; a match that runs over a page break is
    dropped, and the pages it touched are searched again alone, so a hit inside the
    next page that it overlapped ("ma ma" from the end of page 1) still counts."""
    pages = [IndexPage(1, 1, "Xây dựng nông"), IndexPage(2, 2, "thôn mới ở xã."),
             IndexPage(3, 3, "Bà ma"), IndexPage(4, 4, "ma ma về quê.")]
    assert document_hits(pages, parse_query('"nông thôn"')).pages == []
    hits = document_hits(pages, parse_query('"ma ma"'))
    assert [(p.page_no, p.terms) for p in hits.pages] == [(4, ["ma"])] and hits.best_page == 4
    assert hits.snippet == "<mark>ma ma</mark> về quê."


@settings(max_examples=300, deadline=None)
@given(texts=st.lists(st.lists(st.sampled_from(["ma", "mã", "Má", "nông", "thôn", "mới", ",", "\n", "İ"]),
                               max_size=12).map(" ".join), min_size=1, max_size=5),
       query=st.sampled_from(["ma", "mã", '"ma ma"', "nông thôn", '"nong thon moi"', "ma OR thôn", "mới -mã"]))
def test_hit_pages_are_those_a_page_by_page_search_finds(texts, query):
    from indexing.snippets import matched_words

    pages = [IndexPage(i, i, normalize(t)) for i, t in enumerate(texts, 1)]
    q = parse_query(query)
    alone = [(p.page_no, matched_words(p.text, m)) for p in pages if (m := find_matches(p.text, q))]
    assert [(p.page_no, p.terms) for p in document_hits(pages, q).pages] == alone
