"""OCR: input files → page images → words with boxes and confidence → searchable PDF.

The stage functions (see docs/ARCHITECTURE.md) are re-exported here.
"""

import warnings

from PIL import Image

# Pages are decoded in threads (ocr_many, the pipeline's rasterizing), and
# warnings.catch_warnings() swaps the process-wide filter list, so one thread
# can restore another's: the filters are set once here instead. ocr.rasterize
# enforces its own pixel limit (DecompressionBombError), and Pillow's
# "Corrupt EXIF data"-style warnings say nothing a reader of the page can use.
warnings.filterwarnings("ignore", category=Image.DecompressionBombWarning)
warnings.filterwarnings("ignore", category=UserWarning, module=r"PIL\.")

from ocr.engine import OcrJob, ocr_many, ocr_page  # noqa: E402
from ocr.options import OcrOptions  # noqa: E402
from ocr.rasterize import rasterize  # noqa: E402


def write_searchable_pdf(pages, out_path, options):  # noqa: D103 - lazy import keeps reportlab off the import path
    from ocr.pdf import write_searchable_pdf as _write

    return _write(pages, out_path, options)


__all__ = ["OcrJob", "OcrOptions", "ocr_many", "ocr_page", "rasterize", "write_searchable_pdf"]
