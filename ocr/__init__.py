"""OCR: input files → page images → words with boxes and confidence → searchable PDF.

The stage functions (see docs/ARCHITECTURE.md) are re-exported here.
"""

from ocr.engine import OcrJob, ocr_many, ocr_page
from ocr.options import OcrOptions
from ocr.rasterize import quiet_pillow, rasterize

quiet_pillow()


def write_searchable_pdf(pages, out_path, options):  # noqa: D103 - lazy import keeps reportlab off the import path
    from ocr.pdf import write_searchable_pdf as _write

    return _write(pages, out_path, options)


__all__ = ["OcrJob", "OcrOptions", "ocr_many", "ocr_page", "quiet_pillow", "rasterize", "write_searchable_pdf"]
