"""One typed settings object for the whole of kholuu.

Settings are read from the environment (``KHOLUU_*``) once, at the edge (the
command line, the web app, the Dagster definitions), validated there, and then
passed down. Library code never reads the environment itself: that keeps the
stages testable and makes a bad value fail early with a message that names the
variable.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Mapping

from kholuu.errors import SettingsError

DEFAULT_HOME = "./kholuu-data"

# Tesseract ``vie`` models: Debian's small "fast" one, and the two that scripts/install
# unpacks from the npm package @tesseract.js-data/vie into <cache>/tessdata/<name>/.
MODELS = ("fast", "4.0.0", "4.0.0_best_int")
DEFAULT_MODEL = "fast"


def model_dirs_searched(env: Mapping[str, str]) -> list[Path]:
    """Where scripts/install puts the npm models: the CI cache when writable, else the user's."""
    given = (env.get("KHOLUU_OCR_MODELS_DIR") or "").strip()
    if given:
        return [Path(given).expanduser()]
    user_cache = Path(env.get("XDG_CACHE_HOME") or Path(env.get("HOME") or Path.home()) / ".cache")
    return [Path("/var/cache/kholuu-ci/tessdata"), user_cache / "kholuu" / "tessdata"]


def model_dir(name: str, env: Mapping[str, str]) -> Path | None:
    """The folder holding ``vie.traineddata`` of model ``name`` (None for Debian's own, or when missing)."""
    if name == "fast":
        return None
    for base in model_dirs_searched(env):
        if (base / name / "vie.traineddata").is_file():
            return (base / name).resolve()
    return None


def _int(env: Mapping[str, str], name: str, default: int, low: int, high: int) -> int:
    raw = env.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise SettingsError(f"{name}={raw!r}: expected a whole number") from None
    if not low <= value <= high:
        raise SettingsError(f"{name}={value}: expected a number from {low} to {high}")
    return value


def _float(env: Mapping[str, str], name: str, default: float, low: float, high: float) -> float:
    raw = env.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = float(raw)
    except ValueError:
        raise SettingsError(f"{name}={raw!r}: expected a number") from None
    if not low <= value <= high:
        raise SettingsError(f"{name}={value}: expected a number from {low} to {high}")
    return value


def _bool(env: Mapping[str, str], name: str, default: bool) -> bool:
    raw = (env.get(name) or "").strip().lower()
    if not raw:
        return default
    if raw in ("1", "true", "yes", "on"):
        return True
    if raw in ("0", "false", "no", "off"):
        return False
    raise SettingsError(f"{name}={raw!r}: expected on or off (1/0, true/false, yes/no)")


@dataclass(frozen=True)
class Settings:
    """Everything configurable, with the embedded defaults for one machine."""

    home: Path
    database_url: str
    elasticsearch_url: str | None = None
    elasticsearch_index: str = "kholuu"
    # OCR
    ocr_lang: str = "vie"
    ocr_model: str = DEFAULT_MODEL       # fast | 4.0.0 | 4.0.0_best_int (recorded per page in the engine label)
    tessdata_dir: Path | None = None     # the model's folder; None = Debian's tessdata
    ocr_workers: int = field(default_factory=lambda: os.cpu_count() or 1)
    ocr_timeout_s: float = 180.0
    ocr_target_dpi: int = 300
    ocr_low_confidence: float = 70.0
    # limits for input files (hardening)
    max_image_pixels: int = 200_000_000
    max_file_mb: int = 512
    # web
    host: str = "127.0.0.1"
    port: int = 8000
    # searches of the web app run in this many worker processes (indexing.pool);
    # 0 = in the web process itself (threads, one GIL); None = auto: the cores this
    # process may use, at most 8, with either backend (see search_worker_count)
    search_workers: int | None = None
    # access: may visitors who are not logged in see public documents?
    public_access: bool = True

    # Derived locations under the data directory -------------------------
    @property
    def pages_dir(self) -> Path:
        """Page images and derivatives (one PNG per page, by content hash)."""
        return self.home / "pages"

    @property
    def cache_dir(self) -> Path:
        return self.home / "cache"

    @property
    def ocr_cache_dir(self) -> Path:
        return self.cache_dir / "ocr"

    @property
    def index_dir(self) -> Path:
        return self.home / "index"

    @property
    def embedded_index_dir(self) -> Path:
        """The embedded (tantivy) search index: a folder of generations and ``CURRENT``.
        (Older versions kept a SQLite FTS5 file, ``index/search.sqlite``, which
        ``kholuu index rebuild`` deletes.)"""
        return self.index_dir / "tantivy"

    @property
    def dagster_home(self) -> Path:
        return self.home / "dagster"

    @property
    def inbox_dir(self) -> Path:
        return self.home / "inbox"

    @property
    def quarantine_dir(self) -> Path:
        return self.home / "quarantine"

    @property
    def pdf_dir(self) -> Path:
        return self.home / "pdf"

    @property
    def uses_elasticsearch(self) -> bool:
        return bool(self.elasticsearch_url)

    def with_home(self, home: Path | str) -> "Settings":
        """A copy rooted at another data directory (tests, demo)."""
        return load_settings({**settings_env(self), "KHOLUU_HOME": str(home), "KHOLUU_DATABASE_URL": ""})

    def ensure_dirs(self) -> None:
        for path in (self.home, self.pages_dir, self.ocr_cache_dir, self.index_dir,
                     self.dagster_home, self.inbox_dir, self.quarantine_dir, self.pdf_dir):
            path.mkdir(parents=True, exist_ok=True)


def settings_env(s: Settings) -> dict[str, str]:
    """The ``KHOLUU_*`` variables that ``load_settings`` turns back into ``s``.

    Used to hand settings to another process or to Dagster's resource config
    without losing any of them.
    """
    env = {
        "KHOLUU_HOME": str(s.home),
        "KHOLUU_DATABASE_URL": s.database_url,
        "KHOLUU_ELASTICSEARCH_URL": s.elasticsearch_url or "",
        "KHOLUU_ELASTICSEARCH_INDEX": s.elasticsearch_index,
        "KHOLUU_OCR_LANG": s.ocr_lang,
        "KHOLUU_OCR_MODEL": s.ocr_model,
        "KHOLUU_TESSDATA_DIR": str(s.tessdata_dir or ""),
        "KHOLUU_OCR_WORKERS": str(s.ocr_workers),
        "KHOLUU_OCR_TIMEOUT": str(s.ocr_timeout_s),
        "KHOLUU_OCR_DPI": str(s.ocr_target_dpi),
        "KHOLUU_OCR_LOW_CONFIDENCE": str(s.ocr_low_confidence),
        "KHOLUU_HOST": s.host,
        "KHOLUU_PORT": str(s.port),
        "KHOLUU_SEARCH_WORKERS": "" if s.search_workers is None else str(s.search_workers),
        "KHOLUU_PUBLIC_ACCESS": "on" if s.public_access else "off",
    }
    return env


def search_worker_count(s: Settings) -> int:
    """Processes the web app searches in: by default every core, with either
    backend. About half of a search is Python (the embedded index's query,
    the stored pages, hit marking, facets), and threads of one interpreter
    run it one at a time: at 200k documents and 8 clients, p95 151 against
    91 ms in two processes on the embedded index, 127-149 against 69-71 ms
    on Elasticsearch once its node spent 5-7 ms a query (docs/SEARCH_PERF.md)."""
    if s.search_workers is not None:
        return s.search_workers
    # the cores this process may use (a container may see the host's count), at most 8:
    # each worker is an interpreter with the index open, and 8 clients were what was measured
    return max(1, min(len(os.sched_getaffinity(0)), 8))


def load_settings(env: Mapping[str, str] | None = None) -> Settings:
    """Read and validate settings from ``env`` (default: ``os.environ``)."""
    env = dict(os.environ if env is None else env)
    home = Path(env.get("KHOLUU_HOME") or DEFAULT_HOME).expanduser().resolve()
    database_url = (env.get("KHOLUU_DATABASE_URL") or "").strip()
    if not database_url:
        database_url = f"sqlite:///{home / 'catalog.sqlite'}"
    if not database_url.startswith(("sqlite:", "postgresql:", "postgresql+psycopg:")):
        raise SettingsError(
            f"KHOLUU_DATABASE_URL={database_url!r}: expected sqlite:///PATH or postgresql://..."
        )
    if database_url.startswith("postgresql://"):
        database_url = "postgresql+psycopg://" + database_url[len("postgresql://"):]
    es_url = (env.get("KHOLUU_ELASTICSEARCH_URL") or "").strip() or None
    if es_url and not es_url.startswith(("http://", "https://")):
        raise SettingsError(f"KHOLUU_ELASTICSEARCH_URL={es_url!r}: expected http(s)://HOST:PORT")
    es_index = (env.get("KHOLUU_ELASTICSEARCH_INDEX") or "kholuu").strip().lower()
    if not re.fullmatch(r"[a-z0-9][a-z0-9._-]{0,199}", es_index):
        raise SettingsError(f"KHOLUU_ELASTICSEARCH_INDEX={es_index!r}: expected an index name of "
                            "lowercase letters, digits, '.', '_' or '-'")
    tessdata = (env.get("KHOLUU_TESSDATA_DIR") or "").strip()
    tessdata_dir = Path(tessdata).expanduser().resolve() if tessdata else None
    if tessdata_dir is not None and not tessdata_dir.is_dir():
        raise SettingsError(f"KHOLUU_TESSDATA_DIR={tessdata}: no such directory")
    model = (env.get("KHOLUU_OCR_MODEL") or DEFAULT_MODEL).strip()
    if model not in MODELS:
        raise SettingsError(f"KHOLUU_OCR_MODEL={model!r}: expected one of {', '.join(MODELS)}")
    if tessdata_dir is None and model != "fast":
        tessdata_dir = model_dir(model, env)
        if tessdata_dir is None:
            where = " or ".join(str(p / model / "vie.traineddata") for p in model_dirs_searched(env))
            raise SettingsError(f"KHOLUU_OCR_MODEL={model}: no {where} (scripts/install fetches it)")
    lang = (env.get("KHOLUU_OCR_LANG") or "vie").strip()
    if not lang.replace("+", "").replace("_", "").isalnum():
        raise SettingsError(f"KHOLUU_OCR_LANG={lang!r}: expected a Tesseract language like vie or vie+eng")
    port = _int(env, "KHOLUU_PORT", 8000, 1, 65535)
    return Settings(
        home=home,
        database_url=database_url,
        elasticsearch_url=es_url,
        elasticsearch_index=es_index,
        ocr_lang=lang,
        ocr_model=model,
        tessdata_dir=tessdata_dir,
        ocr_workers=_int(env, "KHOLUU_OCR_WORKERS", os.cpu_count() or 1, 1, 256),
        ocr_timeout_s=_float(env, "KHOLUU_OCR_TIMEOUT", 180.0, 1.0, 3600.0),
        ocr_target_dpi=_int(env, "KHOLUU_OCR_DPI", 300, 150, 600),
        ocr_low_confidence=_float(env, "KHOLUU_OCR_LOW_CONFIDENCE", 70.0, 0.0, 100.0),
        host=(env.get("KHOLUU_HOST") or "127.0.0.1").strip(),
        port=port,
        search_workers=(None if (env.get("KHOLUU_SEARCH_WORKERS") or "auto").strip().lower() == "auto"
                        else _int(env, "KHOLUU_SEARCH_WORKERS", 0, 0, 64)),
        public_access=_bool(env, "KHOLUU_PUBLIC_ACCESS", True),
    )


__all__ = ["Settings", "load_settings", "replace", "search_worker_count"]
