"""Named entities (PER, ORG, LOC, DATE) with a canonical, linked name.

A spaCy ``vi`` pipeline with an EntityRuler whose patterns are generated from
the gazetteers in ``extraction/data/`` (bodies, places, person titles and
family names). The ruler matches on syllables: the pipeline's tokenizer
splits text into syllables, numbers and punctuation, because a gazetteer
phrase must match whatever the word segmenter would have grouped around it
("Tỉnh ủy Thái Bình" is four syllables in every context). Multi-syllable word
segmentation (pyvi) lives in ``kholuu.segment``.

The pipeline is built once per process, on first use (``functools.lru_cache``).
Text is normalized (``kholuu.textnorm.normalize``) before matching; entity
offsets are mapped back onto the text as given.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from extraction.compose import RawEnt, compose
from extraction.dates import canonical_date, find_dates
from extraction.vocabulary import COMMUNE_LEVELS, TERRITORY_COMMITTEES, UPPER_LEVELS
from kholuu.model import Entity
from kholuu.textnorm import normalize, normalize_with_offsets

DATA_DIR = Path(__file__).parent / "data"
_TOKEN_RE = re.compile(r"[^\W\d_]+|\d+|[^\w\s]")
# Levels that the open "<body> <level> <place>" pattern takes ("Sở Tài chính tỉnh Thái
# Bình"): the one-word levels above the village (a token pattern matches one word);
# the canonical name found again from the matched text keeps the level.
_BODY_LEVELS = tuple(level for level in UPPER_LEVELS + COMMUNE_LEVELS if " " not in level)


def _load(name: str) -> Any:
    with open(DATA_DIR / name, encoding="utf-8") as fh:
        return yaml.safe_load(fh)


@dataclass(frozen=True)
class Gazetteers:
    bodies: list[dict[str, Any]]
    places: dict[str, str]          # alias → canonical place
    units: list[str]
    titles: list[str]
    surnames: set[str]
    not_names: set[str]


@lru_cache(maxsize=1)
def gazetteers() -> Gazetteers:
    places_raw = _load("places.yaml")
    places: dict[str, str] = {}
    for section in ("provinces", "districts"):
        for name, aliases in (places_raw.get(section) or {}).items():
            name = normalize(name)
            places[name] = name
            for a in aliases or []:
                places[normalize(a)] = name
    bodies = []
    raw_bodies = _load("bodies.yaml")
    for dept in raw_bodies.get("departments") or []:
        bodies.append({"name": normalize(f"Sở {dept}"), "aliases": [], "place": True})
        bodies.append({"name": normalize(f"Bộ {dept}"), "aliases": [], "place": False})
        bodies.append({"name": normalize(f"Phòng {dept}"), "aliases": [], "place": False})
    for dept in raw_bodies.get("historical_departments") or []:
        bodies.append({"name": normalize(f"Ty {dept}"), "aliases": [], "place": True})
    for b in raw_bodies["bodies"]:
        bodies.append({"name": normalize(b["name"]), "aliases": [normalize(a) for a in b.get("aliases") or []],
                       "place": bool(b.get("place"))})
    persons = _load("persons.yaml")
    return Gazetteers(
        bodies=bodies, places=places, units=[normalize(u) for u in places_raw.get("units") or []],
        titles=[normalize(t) for t in persons["titles"]], surnames={normalize(s) for s in persons["surnames"]},
        not_names={normalize(s) for s in persons["not_names"]})


def _syllables(s: str) -> list[str]:
    return _TOKEN_RE.findall(s)


def _make_tokenizer(vocab: Any) -> Any:
    from spacy.tokens import Doc

    def tokenize(text: str) -> Doc:
        words: list[str] = []
        spaces: list[bool] = []
        pos = 0
        for m in _TOKEN_RE.finditer(text):
            gap = text[pos:m.start()]
            if gap:
                if gap == " " and words:
                    spaces[-1] = True
                else:
                    if words and gap.startswith(" "):
                        spaces[-1] = True
                        gap = gap[1:]
                    if gap:
                        words.append(gap)
                        spaces.append(False)
            words.append(m.group(0))
            spaces.append(False)
            pos = m.end()
        tail = text[pos:]
        if tail:
            if tail == " " and words:
                spaces[-1] = True
            else:
                words.append(tail)
                spaces.append(False)
        return Doc(vocab, words=words, spaces=spaces)

    return tokenize


def _lower_pattern(phrase: str) -> list[dict[str, Any]]:
    return [{"LOWER": t.lower()} for t in _syllables(phrase)]


def _orth_pattern(phrase: str) -> list[dict[str, Any]]:
    return [{"ORTH": t} for t in _syllables(phrase)]


def _patterns(g: Gazetteers) -> list[dict[str, Any]]:
    """EntityRuler patterns. Gazetteer combinations are phrase patterns (matched
    on lower case by spaCy's fast PhraseMatcher); only the open-ended shapes
    (a body or unit followed by any capitalized name, titles, dates) are token
    patterns, because the token Matcher's cost grows with its pattern count."""
    pats: list[dict[str, Any]] = []
    place_names = sorted(set(g.places))
    title_token = {"IS_TITLE": True}
    not_name = {"IS_TITLE": True, "ORTH": {"NOT_IN": sorted(g.not_names)}}
    place_aliases: dict[int, list[list[str]]] = {}
    for b in g.bodies:
        for alias in [b["name"], *b["aliases"]]:
            short = len(_syllables(alias)) == 1 and alias.isupper() and len(alias) <= 3
            if not short:
                pats.append({"label": "ORG", "pattern": alias, "id": f"body|{b['name']}"})
            if b["place"]:
                for p in place_names:
                    pats.append({"label": "ORG", "pattern": f"{alias} {p}", "id": f"body|{b['name']}|{g.places[p]}"})
                words = [w.lower() for w in _syllables(alias)]
                place_aliases.setdefault(len(words), []).append(words)
    # Open-ended "<body> <any capitalized name>" ("Huyện ủy Đông Hưng", "Sở Tài chính tỉnh
    # Thái Bình"): one token pattern per alias length, each position a set of syllables,
    # so the token Matcher stays small; the body is found again from the matched text.
    for length, aliases in sorted(place_aliases.items()):
        head = [{"LOWER": {"IN": sorted({a[k] for a in aliases})}} for k in range(length)]
        head[0]["IS_LOWER"] = False  # a body's name is capitalized: "Thành ủy", never "thành tỉnh"
        pats.append({"label": "ORG", "pattern": head + [not_name, {"IS_TITLE": True, "OP": "?"}], "id": "body|*"})
        pats.append({"label": "ORG", "pattern": head + [
            {"LOWER": {"IN": list(_BODY_LEVELS)}}, not_name, {"IS_TITLE": True, "OP": "?"}],
            "id": "body|*"})
    for p in place_names:
        pats.append({"label": "LOC", "pattern": p, "id": f"place|{g.places[p]}"})
    for unit in g.units:
        for p in place_names:
            pats.append({"label": "LOC", "pattern": f"{unit} {p}", "id": f"place|{g.places[p]}"})
    unit_first = sorted({_syllables(u)[0].lower() for u in g.units})
    pats.append({"label": "LOC", "pattern": [{"LOWER": {"IN": unit_first}}, {"LOWER": {"IN": ["phố", "xã", "trấn"]},
                                                                            "OP": "?"},
                                             not_name, {"IS_TITLE": True, "OP": "?"}, {"IS_TITLE": True, "OP": "?"}],
                 "id": "place|*"})
    for title in g.titles:
        pats.append({"label": "PER", "pattern": _lower_pattern(title) + [not_name, title_token,
                     {"IS_TITLE": True, "OP": "?"}, {"IS_TITLE": True, "OP": "?"}], "id": f"title|{title}"})
        pats.append({"label": "PER", "pattern": _lower_pattern(title) + [
            not_name, {"IS_UPPER": True, "LENGTH": 1}], "id": f"title|{title}"})
    pats.append({"label": "PER", "pattern": [{"ORTH": {"IN": sorted(g.surnames)}}, title_token, title_token,
                                             {"IS_TITLE": True, "OP": "?"}, {"IS_TITLE": True, "OP": "?"}],
                 "id": "surname"})
    pats.append({"label": "PER", "pattern": [{"ORTH": {"IN": sorted(g.surnames)}}, title_token,
                                             {"IS_UPPER": True, "LENGTH": 1}], "id": "surname"})
    # DATE: extraction/dates.py (a date is valid only when its numbers are; no token pattern checks that)
    return pats


def make_blank_vi() -> Any:
    """A blank spaCy ``vi`` pipeline with the syllable tokenizer (rules and model share it)."""
    import spacy

    nlp = spacy.blank("vi", config={"nlp": {"tokenizer": {"use_pyvi": False}}})
    nlp.tokenizer = _make_tokenizer(nlp.vocab)
    return nlp


MODEL_DIR = DATA_DIR / "ner" / "model"
MODES = ("rules", "statistical", "rules+ner", "ner+rules", "ner+fill", "merge", "merge-orgs")
# Measured on the held-out sets (bench/extraction_entities.py; README "Extraction"):
# the mode that wins there is the default. "merge-orgs": the rules, with a trained
# model's body name where it covers the rules' pieces (F1 0.87 against 0.82 for the
# rules alone on the 389 development held-out entities after round 2; never lower on
# any set). The blind set D does not choose: there it scores 0.84 after round 2,
# 0.85 (0.847) after the date round (extraction/dates.py).
DEFAULT_MODE = "merge-orgs"


def _add_ruler(nlp: Any, **config: Any) -> None:
    ruler = nlp.add_pipe("entity_ruler", first=True if config.pop("first", False) else None,
                         config={"phrase_matcher_attr": "LOWER", **config})
    ruler.add_patterns(_patterns(gazetteers()))


@lru_cache(maxsize=len(MODES))
def entity_pipeline(mode: str = "rules") -> Any:
    """The spaCy ``vi`` pipeline for ``mode`` (built once per process and mode).

    ``rules``: the gazetteer EntityRuler alone. ``statistical``: the project's
    trained ``ner`` (``extraction/ner_train.py``) alone. ``rules+ner``: the
    ruler first; the ``ner`` keeps its entities and labels only the rest of
    the text. ``ner+rules``: the ``ner`` first, then the ruler with
    ``overwrite_ents``, so a gazetteer match replaces what it overlaps.
    ``ner+fill``: the ``ner`` first; the ruler adds only where the model
    found nothing. The ``merge`` modes run ``rules`` and ``statistical`` side
    by side (see ``_merge``) and have no single pipeline.
    """
    if mode not in MODES:
        raise ValueError(f"unknown entity mode {mode!r}; one of {', '.join(MODES)}")
    if mode.startswith("merge"):
        raise ValueError(f"{mode!r} runs two pipelines; use extract_entities")
    if mode == "rules":
        nlp = make_blank_vi()
        _add_ruler(nlp, overwrite_ents=True)
        return nlp
    import spacy

    if not (MODEL_DIR / "config.cfg").is_file():
        raise FileNotFoundError(f"{MODEL_DIR}: no trained NER model; run `python -m extraction.ner_train`")
    nlp = spacy.load(MODEL_DIR, exclude=["tokenizer"])
    nlp.tokenizer = _make_tokenizer(nlp.vocab)
    if mode == "rules+ner":
        _add_ruler(nlp, overwrite_ents=True, first=True)
    elif mode == "ner+rules":
        _add_ruler(nlp, overwrite_ents=True)
    elif mode == "ner+fill":
        _add_ruler(nlp, overwrite_ents=False)
    return nlp


# --------------------------------------------------------------------------- canonical names

def _title_case_name(s: str) -> str:
    return " ".join(w[:1].upper() + w[1:].lower() for w in s.split())


@lru_cache(maxsize=1)
def _place_body_aliases() -> list[tuple[str, str]]:
    """(lower-case alias, body name) of place-taking bodies, longest alias first."""
    g = gazetteers()
    pairs = [(a.lower(), b["name"]) for b in g.bodies if b["place"] for a in [b["name"], *b["aliases"]]]
    return sorted(pairs, key=lambda p: len(p[0]), reverse=True)


def _canonical(label: str, ent_id: str, text: str, g: Gazetteers) -> str:
    if label == "DATE":
        return canonical_date(ent_id, text)
    if label == "PER":
        return _title_case_name(text)
    parts = ent_id.split("|")
    if label == "LOC":
        if len(parts) > 1 and parts[1] != "*":
            return parts[1]
        unit_words = text.split()
        for unit in sorted(g.units, key=len, reverse=True):
            if text.lower().startswith(unit + " "):
                rest = text[len(unit) + 1:]
                return g.places.get(rest, _title_case_name(rest))
        return " ".join(unit_words)
    if label == "ORG" and ent_id == "body|*":
        low = text.lower()
        for alias, body_name in _place_body_aliases():
            if low.startswith(alias + " "):
                place = text[len(alias) + 1:]
                unit = next((u for u in _BODY_LEVELS if place.lower().startswith(u + " ")), None)
                if unit:
                    rest = place[len(unit) + 1:]
                    return f"{body_name} {unit} {g.places.get(rest, _title_case_name(rest))}"
                return f"{body_name} {g.places.get(place, _title_case_name(place))}"
        return ""  # cross-product of syllables that is no real body
    if label == "ORG":
        body = parts[1] if len(parts) > 1 else text
        if len(parts) > 2:
            place = parts[2]
            return f"{body} {place}"
        return body
    return text


# --------------------------------------------------------------------------- offsets


@lru_cache(maxsize=1)
def _phrase_ids() -> dict[tuple[str, str], str]:
    """(label, lower-case phrase) → pattern id, for linking what the trained model finds."""
    out: dict[tuple[str, str], str] = {}
    for p in _patterns(gazetteers()):
        if isinstance(p["pattern"], str):
            out.setdefault((p["label"], " ".join(_syllables(p["pattern"].lower()))), p["id"])
    return out


def _statistical_id(label: str, span: str) -> str:
    """The pattern id a gazetteer would have given ``span``, so that a statistical
    entity links to the same canonical name ("TU Thái Bình" → "Tỉnh ủy Thái Bình");
    open-ended ids when the name is not listed (canonicalized by normalization)."""
    found = _phrase_ids().get((label, " ".join(_syllables(span.lower()))))
    if found:
        return found
    if label == "DATE":          # the date form by the same matcher the rules use
        forms = find_dates(span)   # a slice of the normalized text
        return forms[0][3] if forms else "date|dmy"
    if label == "LOC":
        return "place|*"
    if label == "ORG":
        return "body|*"
    return ""


# A province, district or commune level in front of a place ("huyện Vũ Thư").
_LEADING_LEVEL = re.compile(r"(?i)^(" + "|".join(UPPER_LEVELS + COMMUNE_LEVELS) + ") ")


def _open_body_id(span: str, g: Gazetteers) -> str:
    """"body|*" when ``span`` is a place-taking body and a place ("Huyện ủy Vũ Thư"),
    else "" (the normalized text is the name): "Đảng ủy Chính phủ" is the Party
    committee of another body, not a place called "Chính Phủ"."""
    low = span.lower()
    for alias, _ in _place_body_aliases():
        if low.startswith(alias + " "):
            rest = span[len(alias) + 1:]
            rest = _LEADING_LEVEL.sub("", rest)
            if rest in g.places or all(w[:1].isupper() for w in rest.split()) and not _phrase_ids().get(
                    ("ORG", " ".join(_syllables(rest.lower())))):
                return "body|*"
            return ""
    return ""


def _link_statistical(label: str, span: str, g: Gazetteers) -> str:
    if label == "PER":
        return _title_case_name(span)
    ent_id = _statistical_id(label, span)
    if label == "ORG" and ent_id == "body|*":
        ent_id = _open_body_id(span, g)
    canonical = _canonical(label, ent_id, span, g) if ent_id else ""
    if label == "ORG" and not canonical:
        # a body the gazetteers do not list: its normalized name, capitals as printed
        # in running text, or sentence case for a header line in capitals
        canonical = span[:1] + span[1:].lower() if span.isupper() else span
    if label == "DATE" and not re.search(r"\d{4}", canonical):
        return span
    return " ".join(canonical.split())


def extract_entities(text: str, mode: str | None = None) -> list[Entity]:
    """PER, ORG, LOC and DATE entities, offsets into ``text`` as given.

    ``mode`` picks the pipeline (``entities.MODES``; default ``DEFAULT_MODE``).
    """
    if not text or not text.strip():
        return []
    norm, spans = normalize_with_offsets(text)
    mode = mode or DEFAULT_MODE
    if mode not in MODES:
        raise ValueError(f"unknown entity mode {mode!r}; one of {', '.join(MODES)}")
    g = gazetteers()
    out: list[Entity] = []
    for base, chunk in _chunks(norm):
        if mode.startswith("merge"):
            raw = _merge(_raw_ents(entity_pipeline("rules"), chunk), _raw_ents(entity_pipeline("statistical"), chunk),
                         add_unmatched=(mode == "merge"), norm=chunk)
        else:
            raw = _raw_ents(entity_pipeline(mode), chunk)
        if mode != "statistical":
            raw = _with_dates(raw, find_dates(chunk))
        raw = compose(raw, chunk, g.surnames, g.places)
        out.extend(_chunk_entities(raw, g, chunk, base, text, spans))
    return out


def _with_dates(raw: list[RawEnt], dates: list[RawEnt]) -> list[RawEnt]:
    """The date matcher's DATEs in place of whatever overlaps them (a model's DATE
    cut short, a "Tháng" read as a name); other entities stay."""
    kept = [r for r in raw if not any(r[0] < d[1] and d[0] < r[1] for d in dates)]
    return sorted(kept + dates)


def _raw_ents(nlp: Any, norm: str) -> list[RawEnt]:
    return [(e.start_char, e.end_char, e.label_, e.ent_id_) for e in nlp(norm).ents]


def _lower_tail(tail: str) -> bool:
    """Words after a known body that carry no capital: the sentence goes on
    ("Sở Tài chính tổng hợp", "Kho lưu trữ Tỉnh ủy năm 2020"), the name has ended."""
    words = tail.split()
    return bool(words) and not any(w[:1].isupper() for w in words)


_COMMITTEE_END = re.compile(r"(?i)(" + "|".join(TERRITORY_COMMITTEES) + ")$")


def _ends_at_committee(found: str, tail: str) -> bool:
    """A name that ends with a Party committee ("Ban Tuyên giáo Tỉnh ủy") is whole;
    lower-case words after it are the sentence going on ("... biên soạn lịch sử
    Đảng bộ"), even when a capital comes later."""
    words = tail.split()
    return bool(_COMMITTEE_END.search(found)) and bool(words) and words[0][:1].islower()


def _merge(rules: list[RawEnt], model: list[RawEnt], add_unmatched: bool, norm: str = "") -> list[RawEnt]:
    """The rules' entities, except where the model found a longer body around them.

    A body's name often holds another body or a place ("Đảng ủy Chính phủ",
    "Ban Quản lý Khu kinh tế tỉnh Lào Cai"); the gazetteer ruler matches the
    pieces, the model the whole. A model ORG that covers every rule entity it
    overlaps (and is longer) replaces them. ``add_unmatched`` also keeps model
    ORGs where the rules found nothing.
    """
    out = list(rules)
    for m_start, m_end, label, _ in model:
        if label != "ORG":
            continue
        if re.search(r"(?i)(?:^|\s)(các|những)\s", norm[m_start:m_end]):
            continue  # "Ủy ban nhân dân các xã": a plural common noun, no body
        overlapping = [r for r in out if r[0] < m_end and m_start < r[1]]
        if overlapping and _lower_tail(norm[max(r[1] for r in overlapping):m_end]):
            continue
        if overlapping and _ends_at_committee(norm[min(r[0] for r in overlapping):max(r[1] for r in overlapping)],
                                              norm[max(r[1] for r in overlapping):m_end]):
            continue
        first = min(overlapping, default=None)
        if len(overlapping) >= 2 and first[3].startswith("body|") and (first[3] == "body|*" or first[3].count("|") == 2):
            continue  # a body with its place is complete: "TỈNH ỦY THÁI BÌNH" + "ĐẢNG CỘNG SẢN VIỆT NAM" side by side
        if not overlapping:
            if add_unmatched:
                out.append((m_start, m_end, label, ""))
            continue
        if all(m_start <= r[0] and r[1] <= m_end for r in overlapping) and \
                (m_start, m_end) != (overlapping[0][0], overlapping[0][1]):
            out = [r for r in out if r not in overlapping] + [(m_start, m_end, label, "")]
    return sorted(out)


CHUNK = 100_000  # characters; spaCy refuses texts over nlp.max_length (1M) and memory grows with length


def _chunks(norm: str) -> list[tuple[int, str]]:
    """Cut long texts at line breaks into pieces of about CHUNK characters."""
    out, start = [], 0
    while start < len(norm):
        end = min(len(norm), start + CHUNK)
        if end < len(norm):
            cut = norm.rfind("\n", start + CHUNK // 2, end)
            end = cut + 1 if cut > 0 else end
        out.append((start, norm[start:end]))
        start = end
    return out


def _chunk_entities(raw: list[RawEnt], g: Gazetteers, norm: str, base: int, text: str,
                    spans: list[tuple[int, int]]) -> list[Entity]:
    out: list[Entity] = []
    for start, end, label, ent_id in raw:
        span = norm[start:end]
        if label == "ORG" and not span[:1].isupper():
            continue  # "các tỉnh ủy": a common noun, not a body
        if label == "PER" and ent_id.startswith("title|"):
            title_len = len(ent_id.split("|", 1)[1])
            start += title_len + 1
            span = norm[start:end]
        if label == "PER" and span.split()[0] in g.places:
            continue
        if label == "LOC" and ent_id != "place|*" and not span[:1].isupper() and not any(
                span.lower().startswith(u + " ") for u in g.units):
            continue  # "hòa bình" (peace) is not "Hòa Bình"
        if label == "ORG" and start > 0 and norm[start - 1] in "/-":
            continue  # the organ code of a number/symbol "08-CT/TU"
        if "\n" in span:
            continue
        canonical = _canonical(label, ent_id, span, g) if ent_id else _link_statistical(label, span, g)
        if not canonical:
            continue
        o_start, o_end = spans[base + start][0], spans[base + end - 1][1]
        out.append(Entity(text=text[o_start:o_end], label=label, start=o_start, end=o_end, canonical=canonical))
    return out
