"""Split a batch's page sequence into documents from header evidence.

Used when a batch has no manifest saying where documents begin. A page starts
a new document when its top carries a document header: the Party heading
("ĐẢNG CỘNG SẢN VIỆT NAM") or the state heading ("CỘNG HÒA XÃ HỘI CHỦ NGHĨA
VIỆT NAM") together with a number line ("Số 08-CT/TU", "Số: 12/QĐ-UBND"),
backed by a place-and-date line, a capitalized type heading or an issuing
body. Each piece of evidence adds to a score; the score is the boundary's
confidence. Continuation pages (no header, a page number at the top) and blank
pages attach to the document before them.
"""

from __future__ import annotations

import re
from typing import Sequence

from extraction.metadata import _NUMBER_LINE_RE, _type_heading, canonical_symbol, date_search
from kholuu.model import DocumentPlan
from kholuu.textnorm import fold, normalize

TOP_LINES = 12          # a header sits in the first lines of a page
START_THRESHOLD = 0.5   # score from which a page starts a new document

_HEADING_KEYS = ("DANG CONG SAN VIET NAM", "CONG HOA XA HOI CHU NGHIA VIET NAM", "VIET NAM DAN CHU CONG HOA")


def _flat(s: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"[^\w]+", " ", fold(s).upper())).strip()


def header_score(page_text: str) -> float:
    """0..1: how strongly the top of this page looks like a document's first page."""
    text = normalize(page_text or "")
    lines = [l.strip() for l in text.split("\n") if l.strip()][:TOP_LINES]
    if not lines:
        return 0.0
    top = "\n".join(lines)
    # the heading is printed in capitals on lines of its own (possibly wrapped,
    # possibly beside the issuer's column); a mention inside a sentence is not one
    caps = _flat(" ".join(l for l in lines if l.upper() == l))
    score = 0.0
    if any(k in caps for k in _HEADING_KEYS):
        score += 0.35
    number = False
    for line in lines:
        m = _NUMBER_LINE_RE.search(line)
        if not m or line[:m.start()].upper() != line[:m.start()]:
            continue  # "Số" must open the line or follow the issuer's caps column
        if re.search(r"[-/]", m.group("rest") or "") and canonical_symbol(m.group("rest"))[0]:
            number = True
            break
    if number:
        score += 0.35
    dm = date_search(top)
    if dm and top[:dm.start()].rstrip().endswith(","):
        score += 0.15
    if any(_type_heading(l) for l in lines) or any(l.startswith(("V/v", "V/V", "Về việc")) for l in lines):
        score += 0.15
    return min(score, 1.0)


def split_documents(page_texts: Sequence[str]) -> list[DocumentPlan]:
    """Group pages (by 0-based position in ``page_texts``) into documents.

    The first page always opens a document; its confidence is its header score
    (a batch starting mid-document is worth flagging). Blank pages and pages
    without header evidence join the document before them; the confidence of
    a document is that of the boundary that opened it.
    """
    plans: list[DocumentPlan] = []
    for i, text in enumerate(page_texts):
        blank = not (text or "").strip()
        score = 0.0 if blank else header_score(text)
        if not plans:
            plans.append(DocumentPlan(seq=1, page_seqs=[i], confidence=round(max(score, 0.3), 2)))
            continue
        if not blank and score >= START_THRESHOLD:
            plans.append(DocumentPlan(seq=len(plans) + 1, page_seqs=[i], confidence=round(score, 2)))
        else:
            plans[-1].page_seqs.append(i)
    return plans
