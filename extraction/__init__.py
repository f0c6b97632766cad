"""Text → document metadata and entities; page texts → document boundaries.

Stage functions (see docs/ARCHITECTURE.md): ``extract_metadata``,
``extract_entities``, ``split_documents``, and ``extract`` for both at once.
The spaCy pipeline behind entities loads on first use, never at import.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from extraction.abbrev import expand_abbreviations
from extraction.boundaries import split_documents
from extraction.entities import extract_entities
from extraction.metadata import extract_metadata
from kholuu.model import DocumentMetadata, Entity


@dataclass
class ExtractResult:
    metadata: DocumentMetadata
    entities: list[Entity] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        d = self.metadata.to_dict()
        d["entities"] = [e.to_dict() for e in self.entities]
        return d


def extract(text: str) -> ExtractResult:
    """Metadata and entities of one document's text."""
    return ExtractResult(metadata=extract_metadata(text), entities=extract_entities(text))


__all__ = ["ExtractResult", "expand_abbreviations", "extract", "extract_entities", "extract_metadata",
           "split_documents"]
