"""``python -m kholuu.samples OUT``: render the sample documents for a look or a benchmark.

Writes a batch folder with ``manifest.csv`` (as ``kholuu demo`` does) and, with
``--text``, each page's ground truth next to it as ``<id>_p<n>.gt.txt``.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from kholuu.errors import KholuuError
from kholuu.samples import load_samples, sample_by_id
from kholuu.samples.render import DEGRADES, FORMATS, ground_truth, write_sample_batch


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m kholuu.samples", description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path, help="batch folder to write")
    parser.add_argument("--id", action="append", dest="ids", help="only this document (repeatable)")
    parser.add_argument("--dpi", type=int, default=300)
    parser.add_argument("--degrade", choices=DEGRADES, default="mild")
    parser.add_argument("--format", action="append", dest="formats", choices=FORMATS,
                        help="file formats to use (repeatable; default: all)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--text", action="store_true", help="also write the ground truth of every page")
    args = parser.parse_args(argv)
    try:
        docs = [sample_by_id(i) for i in args.ids] if args.ids else load_samples()
        folder = write_sample_batch(args.out, docs, dpi=args.dpi, degrade=args.degrade,
                                    formats=tuple(args.formats or FORMATS), seed=args.seed)
        if args.text:
            for doc in docs:
                for n, text in enumerate(ground_truth(doc), start=1):
                    (folder / f"{doc.id}_p{n}.gt.txt").write_text(text + "\n", encoding="utf-8")
    except KholuuError as exc:
        print(f"kholuu.samples: {exc}", file=sys.stderr)
        return 2
    print(folder)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
