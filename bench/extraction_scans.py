"""Metadata from real page images: OCR (real Tesseract) → extract_metadata.

Usage: .venv/bin/python bench/extraction_scans.py [-v] [--dump DIR]

``--dump DIR`` writes each document's joined OCR text to DIR/<id>.ocr.txt,
to read a miss against what the page says.

Uses ../shared/samples/scans: the 15 Lào Cai documents rendered from their
signed PDFs (150 dpi grayscale, real red seals and signatures; pages 1–2 of
each) and the real scanned 2-page Đà Nẵng letter. Each document's pages are
OCR'd with the project's OCR (cached under /tmp/kholuu-bench-extraction-scans),
joined, and scored against its entry in documents.jsonl as bench/extraction.py
scores. A field is scored only when its reference value is printed on the
available pages (a 9-page decision's signature is on page 9, not here).
"""

from __future__ import annotations

import importlib.util
import json
import re
import sys
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from extraction.metadata import extract_metadata  # noqa: E402
from kholuu.textnorm import fold, normalize  # noqa: E402

SCANS = ROOT.parent / "shared" / "samples" / "scans"
WORK = Path("/tmp/kholuu-bench-extraction-scans")


def _clean_bench():
    spec = importlib.util.spec_from_file_location("bench_extraction", ROOT / "bench" / "extraction.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)  # type: ignore[union-attr]
    return mod


def _printed(value: str, gt: str) -> bool:
    """Is the reference value (the signer's full name) on the available pages?"""
    key = " ".join(fold(normalize(value)).lower().split())
    return bool(key) and key in " ".join(fold(normalize(gt)).lower().split())


def main(argv: list[str]) -> int:
    from kholuu.settings import load_settings
    from ocr import OcrOptions
    from ocr.engine import OcrJob, ocr_many

    verbose = "-v" in argv
    dump = Path(argv[argv.index("--dump") + 1]) if "--dump" in argv else None
    clean = _clean_bench()
    docs = {json.loads(l)["id"]: json.loads(l) for l in clean.DEFAULT.read_text(encoding="utf-8").splitlines()
            if l.strip()}
    manifest = json.loads((SCANS / "manifest.json").read_text(encoding="utf-8"))
    groups: dict[str, list[dict]] = defaultdict(list)
    for e in manifest:
        if e["kind"] not in ("real_scan", "born_digital_render"):
            continue
        m = re.search(r"rd-\d+", e["doc"])
        if m:
            groups[m.group(0)].append(e)
            continue
        gt = (SCANS / e["gt"]).read_text(encoding="utf-8")
        base = re.sub(r"_p\d+$", "", e["doc"])
        groups["?" + base].append(e)
    # documents without an rd id in the manifest: find them by the printed number
    resolved: dict[str, list[dict]] = {}
    for key, entries in groups.items():
        if not key.startswith("?"):
            resolved[key] = entries
            continue
        first = sorted(entries, key=lambda e: e["image"])[0]
        gt = normalize((SCANS / first["gt"]).read_text(encoding="utf-8"))
        num = re.search(r"Số\s*:?\s*(\d+)", gt)
        match = [i for i, d in docs.items() if num and d.get("number_symbol")
                 and re.sub(r"\s", "", d["number_symbol"]).startswith(num.group(1) + "/")]
        if len(match) == 1:
            resolved[match[0]] = entries
    WORK.mkdir(parents=True, exist_ok=True)
    settings = load_settings({"KHOLUU_HOME": str(WORK / "home"), "KHOLUU_OCR_WORKERS": "1"})
    settings.ensure_dirs()
    options = OcrOptions.from_settings(settings)
    jobs, owners = [], []
    for rd, entries in sorted(resolved.items()):
        for e in sorted(entries, key=lambda e: e["image"]):
            jobs.append(OcrJob(image_path=SCANS / e["image"], source=rd, page=len(owners) + 1))
            owners.append((rd, e))
    t0 = time.perf_counter()
    texts: dict[str, list[str]] = defaultdict(list)
    gts: dict[str, list[str]] = defaultdict(list)
    for i, result in sorted(ocr_many(jobs, options), key=lambda r: r[0]):
        rd, e = owners[i]
        texts[rd].append(getattr(result, "text", ""))
        gts[rd].append((SCANS / e["gt"]).read_text(encoding="utf-8"))
    ocr_s = time.perf_counter() - t0
    totals = {f: [0, 0] for f, _ in clean.FIELDS}
    for rd in sorted(texts):
        d = docs[rd]
        meta = extract_metadata("\n\n".join(texts[rd]))
        if dump:
            dump.mkdir(parents=True, exist_ok=True)
            (dump / f"{rd}.ocr.txt").write_text("\n\n".join(texts[rd]), encoding="utf-8")
        gt = "\n".join(gts[rd])
        for ref_key, attr in clean.FIELDS:
            expected = d.get(ref_key)
            if expected is None:
                continue
            if ref_key in ("signer", "signer_title") and not _printed(d.get("signer") or "", gt):
                continue
            ok = clean.score_field(ref_key, expected, getattr(meta, attr))
            totals[ref_key][0] += ok
            totals[ref_key][1] += 1
            if verbose and not ok:
                print(f"  {rd} {ref_key}: expected {expected!r} got {getattr(meta, attr)!r}")
    print(f"{len(texts)} documents, {len(jobs)} page images (real seals/scans), OCR {ocr_s:.0f} s (cached: free)")
    print(f"{'field':<14}{'correct':>8}{'scored':>8}{'accuracy':>10}")
    for f, _ in clean.FIELDS:
        c, n = totals[f]
        print(f"{f:<14}{c:>8}{n:>8}{(c / n if n else 0):>10.1%}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
