"""Typed errors shared by every package.

Each error carries a message meant for a person: it names the file (or the
setting) and the reason. The command line prints ``str(error)`` on one line and
exits non-zero; pipelines record it against the page or batch and go on.
"""

from __future__ import annotations

from pathlib import Path


class KholuuError(Exception):
    """Base class: an error a user can act on (never shown as a traceback)."""


class SettingsError(KholuuError):
    """A ``KHOLUU_*`` setting is missing or invalid."""


class InputFileError(KholuuError):
    """A file given to kholuu cannot be used. ``path`` and ``reason`` say why."""

    kind = "input"

    def __init__(self, path: Path | str, reason: str):
        self.path = str(path)
        self.reason = reason
        super().__init__(f"{self.path}: {reason}")


class CatalogError(KholuuError):
    """The catalog refused an operation (unknown fonds, unknown batch, ...)."""


class SearchError(KholuuError):
    """The search backend failed or the query could not be understood."""


class SearchUnavailable(SearchError):
    """The search backend cannot answer now (unreachable, overloaded, stopped, or
    its index needs a rebuild): the query itself may be fine, so the user is told
    to try again later rather than to change the words."""


class QuerySyntaxError(SearchError):
    """The user's query text is malformed (unbalanced quotes, empty, ...)."""
