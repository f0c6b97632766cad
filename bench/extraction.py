"""Per-field accuracy of ``extract_metadata`` on the shared real documents.

Usage: .venv/bin/python bench/extraction.py [PATH/documents.jsonl] [-v]

Scoring (issue 4): exact match for type, number and symbol, and date; a
normalized match (NFC, canonical tones, case and spacing) for issuer and
signer; similarity >= 0.9 for the subject. The number/symbol of the reference
is compared with its spacing removed ("1696 /QĐ-UBND" is printed that way, the
canonical form is "1696/QĐ-UBND"). The reference ``signer_title`` holds the
whole block ("KT. CHỦ TỊCH PHÓ CHỦ TỊCH"); the extracted title is the signer's
own title, so it counts when the block ends with it. A field is scored only
where the reference has a value; a value extracted where the reference has
none is counted separately as a "spurious" value.
"""

from __future__ import annotations

import difflib
import json
import re
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from extraction.metadata import extract_metadata  # noqa: E402
from kholuu.textnorm import normalize  # noqa: E402

DEFAULT = ROOT.parent / "shared" / "samples" / "documents.jsonl"


def _n(s: str | None) -> str:
    return re.sub(r"\s+", " ", normalize(s or "")).strip().upper()


def _symbol(s: str | None) -> str:
    return re.sub(r"\s+", "", normalize(s or ""))


def _auth(s: str) -> str:
    """T/M ≡ TM. ≡ TM (Party and state spellings of the same authority mark)."""
    return re.sub(r"(?<!\w)(T/M|TM\.?|K/T|KT\.?|T/L|TL\.?)(?=\s|$)",
                  lambda m: m.group(1).replace("/", "").replace(".", ""), s)


def score_field(field: str, expected, got) -> bool:
    if field == "doc_type":
        return _n(expected) == _n(got)
    if field == "number_symbol":
        return _symbol(expected) == _symbol(got)
    if field == "date":
        return expected == (got.isoformat() if got else None)
    if field in ("issuer", "signer", "place"):
        return _n(expected).replace(" - ", " ") == _n(got).replace(" - ", " ")
    if field == "signer_title":
        e, g = _auth(_n(expected)), _auth(_n(got))
        return bool(g) and (e == g or e.endswith(" " + g))
    if field == "subject":
        e, g = _n(expected), _n(got)
        return bool(g) and difflib.SequenceMatcher(None, e, g).ratio() >= 0.9
    raise KeyError(field)


FIELDS = [("doc_type", "doc_type"), ("number_symbol", "number_symbol"), ("date", "issued_date"),
          ("issuer", "issuer"), ("place", "place"), ("subject", "subject"), ("signer", "signer_name"),
          ("signer_title", "signer_title")]


def main(argv: list[str]) -> int:
    verbose = "-v" in argv
    paths = [a for a in argv if not a.startswith("-")]
    path = Path(paths[0]) if paths else DEFAULT
    docs = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    totals = {f: [0, 0, 0] for f, _ in FIELDS}  # correct, scored, spurious
    t0 = time.perf_counter()
    for d in docs:
        meta = extract_metadata(d["text"])
        for ref_key, attr in FIELDS:
            expected, got = d.get(ref_key), getattr(meta, attr)
            if expected is None:
                if got:
                    totals[ref_key][2] += 1
                continue
            ok = score_field(ref_key, expected, got)
            totals[ref_key][0] += ok
            totals[ref_key][1] += 1
            if verbose and not ok:
                print(f"  {d['id']} {ref_key}: expected {expected!r} got {got!r}")
    elapsed = time.perf_counter() - t0
    print(f"extract_metadata on {len(docs)} documents ({path.name}), {elapsed * 1000 / len(docs):.1f} ms/doc")
    print(f"{'field':<14}{'correct':>8}{'scored':>8}{'accuracy':>10}{'spurious':>10}")
    for f, _ in FIELDS:
        c, n, sp = totals[f]
        print(f"{f:<14}{c:>8}{n:>8}{(c / n if n else 0):>10.1%}{sp:>10}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
