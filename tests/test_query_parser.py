"""The query parser: words, "phrases", -exclusion, OR; nothing else is syntax."""

from __future__ import annotations

import re
import sqlite3

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from indexing.abbrev import doc_type_name, expand_query
from indexing.fts import exact_expression, match_expression, phrase_expression
from indexing.query import MAX_QUERY_CHARS, parse_query
from kholuu.errors import QuerySyntaxError


def groups(text: str) -> list[list[str]]:
    return [[t.text for t in g] for g in parse_query(text).groups]


def test_words_are_required_terms_and_runs_are_remembered():
    q = parse_query("nông thôn mới")
    assert groups("nông thôn mới") == [["nông"], ["thôn"], ["mới"]]
    assert q.runs == (("nông", "thôn", "mới"),)
    assert q.has_diacritics
    assert not parse_query("nong thon moi").has_diacritics
    assert [t.folded for t in q.terms] == [("nong",), ("thon",), ("moi",)]


def test_quoted_phrase_is_one_term_and_breaks_runs():
    q = parse_query('"Ban Thường vụ" họp tỉnh')
    assert groups('"Ban Thường vụ" họp tỉnh') == [["ban thường vụ"], ["họp"], ["tỉnh"]]
    assert q.terms[0].quoted and q.terms[0].tokens == ("ban", "thường", "vụ")
    assert q.runs == (("họp", "tỉnh"),)


def test_unbalanced_quote_is_closed_at_the_end():
    assert groups('chỉ thị "nông thôn mới') == [["chỉ"], ["thị"], ["nông thôn mới"]]


def test_word_with_punctuation_is_a_phrase_of_its_tokens():
    assert groups("08-CT/TU") == [["08 ct tu"]]


def test_exclusion_of_words_and_phrases():
    q = parse_query('nông thôn -"thành phố" -mới')
    assert groups('nông thôn -"thành phố" -mới') == [["nông"], ["thôn"]]
    assert [t.text for t in q.excluded] == ["thành phố", "mới"]


def test_or_joins_neighbours_and_lowercase_or_is_a_word():
    assert groups("Nghị quyết OR Chỉ thị") == [["nghị"], ["quyết", "chỉ"], ["thị"]]
    assert groups('"nghị quyết" OR "chỉ thị" tỉnh') == [["nghị quyết", "chỉ thị"], ["tỉnh"]]
    assert groups("a or b") == [["a"], ["or"], ["b"]]
    assert groups("OR tỉnh OR") == [["tỉnh"]]   # dangling OR is dropped


def test_other_syntax_is_literal_text():
    # punctuation inside a word keeps its parts together as a phrase, like "08-CT/TU"
    assert groups("NEAR(a b) c* ^d col:e AND f") == [["near a"], ["b"], ["c"], ["d"], ["col e"], ["and"], ["f"]]


def test_old_and_new_tone_placement_parse_alike():
    assert groups("Tỉnh uỷ hoà bình") == groups("Tỉnh ủy hòa bình")


@pytest.mark.parametrize("text, fragment", [
    ("", "không có từ"), ("   ", "không có từ"), ('"', "không có từ"), ("!!! ...", "không có từ"),
    ("-nông -thôn", "loại trừ"), ("x" * (MAX_QUERY_CHARS + 1), "500"),
])
def test_malformed_queries_raise_a_clear_error(text, fragment):
    with pytest.raises(QuerySyntaxError) as err:
        parse_query(text)
    assert fragment in str(err.value)


def test_match_expression_shapes():
    q = parse_query('mã -"ma túy" hồ OR sơ')
    assert match_expression(q) == ('(({folded meta_folded} : "ma") AND ({folded meta_folded} : "ho" OR '
                                   '{folded meta_folded} : "so")) NOT ({exact meta_exact} : "ma túy")')
    assert exact_expression(q) == ('({exact meta_exact} : "mã") AND ({exact meta_exact} : "hồ" OR '
                                   '{exact meta_exact} : "sơ")')
    assert exact_expression(parse_query("ma")) is None
    assert phrase_expression(parse_query("nông thôn mới")) == '{folded meta_folded} : "nong thon moi"'
    assert phrase_expression(parse_query('"nông thôn"')) is None


def test_abbreviations_expand_both_ways():
    q = expand_query(parse_query("BTV họp"))
    assert [t.text for t in q.groups[0]] == ["btv", "ban thường vụ"]
    q = expand_query(parse_query("Ban Thường vụ họp"))
    assert [t.text for t in q.groups[0]] == ["ban thường vụ", "btv"]
    assert [t.text for t in expand_query(parse_query("tu")).groups[0]] == ["tu"]   # a syllable, not TU
    assert doc_type_name("CT") == "Chỉ thị" and doc_type_name("CTr") == "Chương trình"
    assert doc_type_name("ct") == "Chỉ thị" and doc_type_name("Chỉ thị") == "Chỉ thị"


# -- property: arbitrary text never breaks out of the quoted tokens -------------
_STRING = re.compile(r'"(?:[^"]|"")*"')
_ALLOWED_OUTSIDE = re.compile(r"^(?:\s|\(|\)|\{|\}|:|AND|OR|NOT|exact|folded|meta_exact|meta_folded)*$")

_fts = sqlite3.connect(":memory:")
_fts.execute("CREATE VIRTUAL TABLE t USING fts5(exact, folded, meta_exact, meta_folded, "
             "tokenize = 'unicode61 remove_diacritics 0')")
_fts.execute("INSERT INTO t VALUES ('mã số', 'ma so', '', '')")

_query_text = st.text(alphabet=st.sampled_from(list('ab Đđmãờệ"-()*:^{}+OR NEAR\'\\\t\n.,;/_0123456789'))
                      | st.characters(), max_size=80)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=st.one_of(_query_text, st.text(max_size=600)))
def test_any_text_parses_or_raises_only_query_syntax_error(text):
    try:
        q = expand_query(parse_query(text))
    except QuerySyntaxError:
        return
    for expr in filter(None, (match_expression(q), exact_expression(q), phrase_expression(q))):
        outside = _STRING.sub(" ", expr)
        assert _ALLOWED_OUTSIDE.match(outside), (text, expr)
        _fts.execute("SELECT rowid FROM t WHERE t MATCH ?", (expr,)).fetchall()  # never a syntax error


@settings(max_examples=200, deadline=None)
@given(text=st.text(max_size=200))
def test_fast_fold_equals_textnorm_fold(text):
    from indexing.folding import fold_text
    from kholuu.textnorm import fold

    assert fold_text(text) == fold(text)


def test_fast_fold_agrees_on_every_code_point_of_its_array_and_beyond():
    """The numpy table path (code points below its limit) and the translate path
    (any higher one in the text, lone surrogates) both give ``fold``'s result."""
    from indexing.folding import _ARRAY_LIMIT, fold_text
    from kholuu.textnorm import fold

    below = "".join(chr(c) for c in range(_ARRAY_LIMIT))   # one long text: the numpy path
    assert fold_text(below) == fold(below)
    assert fold_text("Đảng ủy") == "Dang uy"
    for extra in ("\u4e2d", "\U0001d400", "\ud800", "\uac00"):   # CJK, math bold A, lone surrogate, Hangul
        text = ("Nông thôn mới " + extra + " Thái Bình. ") * 10   # long enough for the numpy path
        assert fold_text(text) == fold(text)
