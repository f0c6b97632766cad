"""OCR options: the slice of ``Settings`` the OCR stage needs, plus its hash.

``settings_hash`` covers everything that changes OCR output — language, model
file contents, engine version, target dpi, page segmentation, the preprocessing
and correction code version — so a cached result is reused only when re-running
would give the same answer, and a model change re-OCRs exactly what it must.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path

from kholuu.settings import Settings

# Bump when preprocessing, word mapping or post-OCR correction changes output.
PIPELINE_VERSION = "7"  # 4: blue stamps and seals suppressed; 6: stamp ink lifted to the paper around it; 7: gray seals and stamps erased


@dataclass(frozen=True)
class OcrOptions:
    lang: str = "vie"
    tessdata_dir: Path | None = None
    timeout_s: float = 180.0
    target_dpi: int = 300
    workers: int = 1
    max_image_pixels: int = 200_000_000
    max_file_bytes: int = 512 * 1024 * 1024
    cache_dir: Path | None = None
    psm: int = 3             # fully automatic layout: reads the two-column Party header best (bench/ocr_accuracy)
    preprocess: bool = True
    correct: bool = True
    column_order: bool = False   # read two-column header/signature bands column by column (ocr.layout)

    @classmethod
    def from_settings(cls, settings: Settings) -> "OcrOptions":
        return cls(
            lang=settings.ocr_lang,
            tessdata_dir=settings.tessdata_dir,
            timeout_s=settings.ocr_timeout_s,
            target_dpi=settings.ocr_target_dpi,
            workers=max(1, settings.ocr_workers or (os.cpu_count() or 1)),
            max_image_pixels=settings.max_image_pixels,
            max_file_bytes=settings.max_file_mb * 1024 * 1024,
            cache_dir=settings.ocr_cache_dir,
        )

    def settings_hash(self) -> str:
        """Stable 16-hex-digit hash of everything that changes the OCR output."""
        from ocr import tesseract

        payload = {
            "pipeline": PIPELINE_VERSION,
            "engine": tesseract.version(),
            "lang": self.lang,
            "models": tesseract.traineddata_hashes(self.lang, self.tessdata_dir),
            "dpi": self.target_dpi,
            "psm": self.psm,
            "preprocess": self.preprocess,
            "correct": self.correct,
        "column_order": self.column_order,
        }
        blob = json.dumps(payload, sort_keys=True).encode()
        return hashlib.sha256(blob).hexdigest()[:16]

    def engine_label(self) -> str:
        from ocr import tesseract

        model = "fast" if self.tessdata_dir is None else self.tessdata_dir.name
        return f"{tesseract.version()} {self.lang} ({model})"
