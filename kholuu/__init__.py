"""kholuu core: domain model, settings, text normalization, catalog, command line."""

__version__ = "0.1.0"
