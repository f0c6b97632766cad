"""Typed OCR errors.

Bad input files are ``InputFileError`` subclasses: the message names the file and
the reason, so the command line prints one line and a pipeline records it against
the page and goes on with the others. Tesseract failing or timing out is an
``OcrEngineError``: the file may be fine, the engine is not.
"""

from __future__ import annotations

from pathlib import Path

from kholuu.errors import InputFileError, KholuuError


class MissingFileError(InputFileError):
    """The path does not exist or is not a regular file."""


class EmptyFileError(InputFileError):
    """The file has zero bytes."""


class FileTooLargeError(InputFileError):
    """The file is larger than the configured limit."""


class NotAnImageError(InputFileError):
    """The content is neither a supported image nor a PDF (whatever its extension)."""


class TruncatedImageError(InputFileError):
    """The file starts like an image or PDF but its data is cut short or corrupt."""


class EncryptedPdfError(InputFileError):
    """The PDF needs a password to open."""


class DecompressionBombError(InputFileError):
    """The decoded page would exceed ``max_image_pixels``."""


class ImageTooSmallError(InputFileError):
    """The image is too small to hold readable text (e.g. 1×1 pixel)."""


class OcrEngineError(KholuuError):
    """Tesseract failed on a page (missing language, crash, bad output)."""

    def __init__(self, path: Path | str, reason: str):
        self.path = str(path)
        self.reason = reason
        super().__init__(f"{self.path}: {reason}")


class OcrTimeoutError(OcrEngineError):
    """Tesseract did not finish within ``timeout_s``."""


__all__ = [
    "MissingFileError", "EmptyFileError", "FileTooLargeError", "NotAnImageError",
    "TruncatedImageError", "EncryptedPdfError", "DecompressionBombError",
    "ImageTooSmallError", "OcrEngineError", "OcrTimeoutError",
]
