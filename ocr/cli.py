"""``kholuu ocr PATH... [--json]``: OCR files and print text (or JSON) per page.

A bad file prints one line on stderr naming the file and the reason; the other
files are still processed and the exit code is non-zero at the end.
"""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path
from typing import Any

from kholuu.errors import KholuuError
from kholuu.settings import Settings
from ocr.engine import OcrJob, ocr_many
from ocr.options import OcrOptions
from ocr.rasterize import rasterize

EXIT_OK, EXIT_BAD_INPUT = 0, 2


def _page_json(p: Any) -> dict[str, Any]:
    return {
        "source": p.source,
        "page": p.page,
        "text": p.text,
        "confidence": round(p.confidence, 2),
        "words": [{"text": w.text, "conf": round(w.conf, 2), "bbox": list(w.bbox)} for w in p.words],
    }


def run_ocr(args: Any, settings: Settings) -> int:
    options = OcrOptions.from_settings(settings)
    failed = False
    jobs: list[OcrJob] = []
    with tempfile.TemporaryDirectory(prefix="kholuu-ocr-") as tmp:
        for raw in args.paths:
            try:
                for page in rasterize(Path(raw), Path(tmp), options):
                    jobs.append(OcrJob(Path(page.image_path), raw, page.page))
            except KholuuError as exc:
                sys.stderr.write(f"kholuu: {exc}\n")
                failed = True
        results: dict[int, Any] = {}
        for index, result in ocr_many(jobs, options):
            if isinstance(result, KholuuError):
                reason = getattr(result, "reason", None) or str(result)  # the page PNG is a temp file: name the input
                sys.stderr.write(f"kholuu: {jobs[index].source} (page {jobs[index].page}): {reason}\n")
                failed = True
            else:
                results[index] = result
    pages = [results[i] for i in sorted(results)]
    if args.json:
        json.dump({"pages": [_page_json(p) for p in pages]}, sys.stdout, ensure_ascii=False, indent=1)
        sys.stdout.write("\n")
    else:
        for p in pages:
            extra = " (trang trắng / blank)" if p.blank else f" — độ tin cậy {p.confidence:.0f}%"
            marks = f" — dấu: {', '.join(p.marks)}" if p.marks else ""
            sys.stdout.write(f"==> {p.source} [trang {p.page}]{extra}{marks}\n{p.text}\n\n")
    return EXIT_BAD_INPUT if failed else EXIT_OK
