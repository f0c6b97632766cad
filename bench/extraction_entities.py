"""Entity precision / recall / F1 on the project's annotated set.

Usage: .venv/bin/python bench/extraction_entities.py [-v]

The gold set is tests/data/extraction_entities.txt (passages written for the
project, entities marked ``[[text|LABEL]]``). A prediction counts when its
label and exact character span match a gold entity.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

GOLD = ROOT / "tests" / "data" / "extraction_entities.txt"              # set A (rules tuned on it)
HELDOUT = ROOT / "tests" / "data" / "extraction_entities_heldout.txt"   # set B (never tuned on)
_MARK = re.compile(r"\[\[(.+?)\|(PER|ORG|LOC|DATE)\]\]")


def parse_gold(line: str) -> tuple[str, set[tuple[int, int, str]]]:
    text, spans, pos = [], set(), 0
    out_len = 0
    for m in _MARK.finditer(line):
        before = line[pos:m.start()]
        text.append(before)
        out_len += len(before)
        spans.add((out_len, out_len + len(m.group(1)), m.group(2)))
        text.append(m.group(1))
        out_len += len(m.group(1))
        pos = m.end()
    text.append(line[pos:])
    return "".join(text), spans


def load_gold(path: Path = GOLD) -> list[tuple[str, set[tuple[int, int, str]]]]:
    return [parse_gold(l) for l in path.read_text(encoding="utf-8").splitlines() if l.strip() and not l.startswith("#")]


def evaluate(path: Path = GOLD, verbose: bool = False) -> dict[str, dict[str, float]]:
    from extraction.entities import extract_entities

    counts: dict[str, list[int]] = {}
    for text, gold in load_gold(path):
        pred = {(e.start, e.end, e.label) for e in extract_entities(text)}
        for label in ("PER", "ORG", "LOC", "DATE", "ALL"):
            g = {s for s in gold if label in ("ALL", s[2])}
            p = {s for s in pred if label in ("ALL", s[2])}
            c = counts.setdefault(label, [0, 0, 0])
            c[0] += len(g & p)
            c[1] += len(p)
            c[2] += len(g)
        if verbose:
            for s in sorted(gold - pred):
                print(f"  missed {s[2]:<4} {text[s[0]:s[1]]!r}")
            for s in sorted(pred - gold):
                print(f"  extra  {s[2]:<4} {text[s[0]:s[1]]!r}")
    scores = {}
    for label, (tp, npred, ngold) in counts.items():
        p = tp / npred if npred else 0.0
        r = tp / ngold if ngold else 0.0
        scores[label] = {"precision": p, "recall": r, "f1": 2 * p * r / (p + r) if p + r else 0.0,
                         "gold": ngold}
    return scores


def main(argv: list[str]) -> int:
    for path in (GOLD, HELDOUT):
        scores = evaluate(path, "-v" in argv)
        print(f"entities on {path.name}")
        print(f"{'label':<6}{'gold':>6}{'precision':>11}{'recall':>8}{'F1':>7}")
        for label, s in scores.items():
            print(f"{label:<6}{s['gold']:>6}{s['precision']:>11.1%}{s['recall']:>8.1%}{s['f1']:>7.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
