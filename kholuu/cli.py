"""The ``kholuu`` command: parse arguments, load settings once, dispatch.

Each subcommand is implemented in the package that owns the work
(``ocr.cli``, ``extraction.cli``, ``indexing.cli``, ``search_ui.cli``,
``pipelines.cli``) as ``run_<name>(args, settings) -> int``; modules are imported
only when their command runs, so ``kholuu --help`` stays fast. Errors a user can
act on (``KholuuError``) print one line and exit 2; nothing prints a traceback.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from typing import Callable, Sequence

from kholuu import __version__
from kholuu.errors import KholuuError

EXIT_OK, EXIT_FAILURE, EXIT_BAD_INPUT = 0, 1, 2


class _Parser(argparse.ArgumentParser):
    """argparse, but usage errors are one line and exit 2 like other bad input."""

    def error(self, message: str) -> None:  # type: ignore[override]
        sys.stderr.write(f"kholuu: {message} (see `{self.prog} --help`)\n")
        raise SystemExit(EXIT_BAD_INPUT)


def _year(value: str) -> int:
    if not value.isdigit() or not 1800 <= int(value) <= 2200:
        raise argparse.ArgumentTypeError(f"{value!r} is not a year (YYYY)")
    return int(value)


def _confidence(value: str) -> float:
    try:
        number = float(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a confidence from 0 to 100") from None
    if not 0 <= number <= 100:
        raise argparse.ArgumentTypeError(f"{value!r} is not a confidence from 0 to 100")
    return number


def _port(value: str) -> int:
    if not value.isdigit() or not 1 <= int(value) <= 65535:
        raise argparse.ArgumentTypeError(f"{value!r} is not a port number")
    return int(value)


def build_parser() -> argparse.ArgumentParser:
    p = _Parser(prog="kholuu", description="Số hóa và tra cứu tài liệu lưu trữ — "
                "digitize and search Vietnamese archival documents.")
    p.add_argument("--version", action="version", version=f"kholuu {__version__}")
    sub = p.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    c = sub.add_parser("ocr", help="OCR images (PNG, JPEG, TIFF) and PDFs, print text per page")
    c.add_argument("paths", nargs="+", metavar="PATH")
    c.add_argument("--json", action="store_true", help="print pages, words, boxes and confidence as JSON")
    c.set_defaults(handler="ocr.cli:run_ocr")

    c = sub.add_parser("extract", help="extract metadata and entities from a document's text")
    c.add_argument("file", metavar="FILE", help="a UTF-8 text file, or - for standard input")
    c.add_argument("--json", action="store_true")
    c.set_defaults(handler="extraction.cli:run_extract")

    c = sub.add_parser("search", help="search the indexed documents")
    c.add_argument("query", metavar="QUERY")
    c.add_argument("--fonds", metavar="CODE")
    c.add_argument("--type", dest="doc_type", metavar="TYPE", help="document type, e.g. 'Chỉ thị' or CT")
    c.add_argument("--from", dest="year_from", type=_year, metavar="YYYY")
    c.add_argument("--to", dest="year_to", type=_year, metavar="YYYY")
    c.add_argument("--limit", type=int, default=10)
    c.add_argument("--json", action="store_true")
    c.set_defaults(handler="indexing.cli:run_search")

    c = sub.add_parser("index", help="search index maintenance")
    isub = c.add_subparsers(dest="index_command", metavar="ACTION", required=True, parser_class=_Parser)
    r = isub.add_parser("rebuild", help="rebuild the search index from the catalog")
    r.set_defaults(handler="indexing.cli:run_rebuild")
    r = isub.add_parser("status", help="documents in the catalog vs in the search index")
    r.add_argument("--json", action="store_true")
    r.set_defaults(handler="indexing.cli:run_status")

    c = sub.add_parser("serve", help="serve the web interface")
    c.add_argument("--host", default=None)
    c.add_argument("--port", type=_port, default=None)
    c.set_defaults(handler="search_ui.cli:run_serve")

    c = sub.add_parser("batch", help="register, run and list digitization batches")
    bsub = c.add_subparsers(dest="batch_command", metavar="ACTION", required=True, parser_class=_Parser)
    b = bsub.add_parser("add", help="register a folder of scans as a batch; prints its id last")
    b.add_argument("--fonds", required=True, metavar="CODE")
    b.add_argument("path", metavar="PATH")
    b.set_defaults(handler="pipelines.cli:run_batch_add")
    b = bsub.add_parser("run", help="run a batch through the pipeline (Dagster, in-process)")
    b.add_argument("batch", metavar="ID", help="batch id or key")
    b.add_argument("--reocr-below", type=_confidence, metavar="CONF", default=None,
                   help="re-read only pages under this OCR confidence (0-100) that were read "
                        "with other settings, e.g. after switching KHOLUU_TESSDATA_DIR to a better model")
    b.set_defaults(handler="pipelines.cli:run_batch_run")
    b = bsub.add_parser("list", help="batches and their state")
    b.add_argument("--json", action="store_true")
    b.set_defaults(handler="pipelines.cli:run_batch_list")

    c = sub.add_parser("fonds", help="the archive's fonds list")
    fsub = c.add_subparsers(dest="fonds_command", metavar="ACTION", required=True, parser_class=_Parser)
    f = fsub.add_parser("load", help="load or update fonds from a YAML file")
    f.add_argument("file", metavar="FILE")
    f.set_defaults(handler="kholuu.fonds_cli:run_fonds_load")
    f = fsub.add_parser("list", help="list fonds")
    f.add_argument("--json", action="store_true")
    f.set_defaults(handler="kholuu.fonds_cli:run_fonds_list")

    from kholuu.users_cli import add_parser as add_user_parser   # light: the catalog loads per command

    add_user_parser(sub, _Parser)

    c = sub.add_parser("demo", help="render the sample scans, run the pipeline, serve the search page")
    c.add_argument("--no-serve", action="store_true", help="build everything, then exit")
    c.add_argument("--host", default=None)
    c.add_argument("--port", type=_port, default=None)
    c.set_defaults(handler="pipelines.demo:run_demo")
    return p


def _resolve(handler: str) -> Callable[..., int]:
    module, func = handler.split(":")
    return getattr(importlib.import_module(module), func)


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "handler", None):
        parser.print_help()
        return EXIT_BAD_INPUT
    try:
        from kholuu.settings import load_settings

        settings = load_settings()
        return int(_resolve(args.handler)(args, settings) or 0)
    except KholuuError as exc:
        sys.stderr.write(f"kholuu: {exc}\n")
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        sys.stderr.write("kholuu: interrupted\n")
        return 130
    except BrokenPipeError:
        return EXIT_OK
    except Exception as exc:  # a bug or an infrastructure failure: still one line
        sys.stderr.write(f"kholuu: failed: {exc.__class__.__name__}: {exc}\n")
        return EXIT_FAILURE


if __name__ == "__main__":
    raise SystemExit(main())
