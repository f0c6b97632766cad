"""``kholuu extract FILE|- [--json]``: metadata and entities of one document.

The file is read as bytes and decoded by ``kholuu.textnorm.decode_bytes``
(UTF-8, or legacy TCVN3/VNI converted to Unicode); anything else is bad input
and prints one line naming the file.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from extraction import extract
from kholuu.errors import InputFileError
from kholuu.settings import Settings
from kholuu.textnorm import LegacyEncodingError, decode_bytes

EXIT_OK = 0
MAX_BYTES = 50 * 1024 * 1024

LABELS = [
    ("doc_type", "Loại văn bản"),
    ("number_symbol", "Số ký hiệu"),
    ("issuer", "Cơ quan ban hành"),
    ("place", "Nơi ban hành"),
    ("issued_date", "Ngày ban hành"),
    ("subject", "Trích yếu"),
    ("signer_title", "Chức vụ người ký"),
    ("signer_name", "Người ký"),
    ("security_mark", "Độ mật"),
    ("urgency_mark", "Độ khẩn"),
]
ENTITY_LABELS = {"PER": "Người", "ORG": "Tổ chức", "LOC": "Địa danh", "DATE": "Thời gian"}


def read_text(name: str) -> str:
    """Read FILE (or standard input for "-") and decode it; errors name the file."""
    label = "<stdin>" if name == "-" else name
    try:
        if name == "-":
            data = sys.stdin.buffer.read(MAX_BYTES + 1)
        else:
            path = Path(name)
            if not path.exists():
                raise InputFileError(name, "no such file")
            if path.is_dir():
                raise InputFileError(name, "is a folder, not a text file")
            with open(path, "rb") as fh:
                data = fh.read(MAX_BYTES + 1)
    except OSError as exc:
        raise InputFileError(label, f"cannot read: {exc.strerror or exc}") from None
    if len(data) > MAX_BYTES:
        raise InputFileError(label, f"larger than {MAX_BYTES // (1024 * 1024)} MB; not a single document's text")
    try:
        return decode_bytes(data)
    except LegacyEncodingError as exc:
        raise InputFileError(label, f"cannot decode text: {exc}") from None


def result_json(text: str) -> dict[str, Any]:
    result = extract(text)
    meta = result.metadata
    return {
        "doc_type": meta.doc_type,
        "number_symbol": meta.number_symbol,
        "issuer": meta.issuer,
        "place": meta.place,
        "issued_date": meta.issued_date.isoformat() if meta.issued_date else None,
        "subject": meta.subject,
        "signer_name": meta.signer_name,
        "signer_title": meta.signer_title,
        "security_mark": meta.security_mark,
        "urgency_mark": meta.urgency_mark,
        "recipients": list(meta.recipients),
        "issuers": list(meta.issuers),
        "signers": [{"name": g.name, "title": g.title} for g in meta.signers],
        "entities": [{"text": e.text, "label": e.label, "start": e.start, "end": e.end,
                      "canonical": e.canonical} for e in result.entities],
        "confidence": {k: round(v, 2) for k, v in meta.confidence.items()},
    }


def format_plain(d: dict[str, Any]) -> str:
    lines = []
    for key, label in LABELS:
        value = d.get(key)
        lines.append(f"{label}: {value if value is not None else '—'}")
    if len(d.get("issuers") or []) > 1:  # a joint document: every issuer and every signer
        lines.append(f"Các cơ quan ban hành: {'; '.join(d['issuers'])}")
        lines.append("Những người ký: " + "; ".join(
            " ".join(p for p in (g.get("title"), g.get("name")) if p) for g in d.get("signers") or []))
    recipients = d.get("recipients") or []
    lines.append(f"Nơi nhận: {'; '.join(recipients) if recipients else '—'}")
    groups: dict[str, list[str]] = {}
    for e in d.get("entities", []):
        name = e.get("canonical") or e["text"]
        bucket = groups.setdefault(e["label"], [])
        if name not in bucket:
            bucket.append(name)
    for label, title in ENTITY_LABELS.items():
        if groups.get(label):
            lines.append(f"{title}: {', '.join(groups[label])}")
    return "\n".join(lines)


def run_extract(args: Any, settings: Settings) -> int:
    text = read_text(args.file)
    d = result_json(text)
    if getattr(args, "json", False):
        sys.stdout.write(json.dumps(d, ensure_ascii=False, indent=2) + "\n")
    else:
        sys.stdout.write(format_plain(d) + "\n")
    return EXIT_OK
