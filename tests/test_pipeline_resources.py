"""The Dagster resource opens the catalog once per process, never shared across a fork."""

from __future__ import annotations

import multiprocessing
from pathlib import Path

from kholuu.catalog import Catalog
from kholuu.settings import load_settings
from pipelines.resources import KholuuResource


def _resource(home: Path) -> KholuuResource:
    return KholuuResource.from_settings(load_settings({"KHOLUU_HOME": str(home)}))


def _child_opens_its_own(resource: KholuuResource, parent_id: int, out) -> None:
    ctx = resource.stage_context(lambda m: None)
    again = resource.stage_context(lambda m: None)
    out.put((id(ctx.catalog) != parent_id, ctx.catalog is again.catalog, ctx.catalog.count_documents()))


def test_steps_of_a_process_share_one_catalog(tmp_path: Path, monkeypatch) -> None:
    opened: list[str] = []
    real_init = Catalog.__init__

    def counting_init(self, url, **kw):
        opened.append(url)
        real_init(self, url, **kw)

    monkeypatch.setattr(Catalog, "__init__", counting_init)
    resource = _resource(tmp_path / "a")
    first = resource.stage_context(lambda m: None)
    for _ in range(5):   # every asset step of a run asks for a context
        assert resource.stage_context(lambda m: None).catalog is first.catalog
    assert len(opened) == 1
    other = _resource(tmp_path / "b").stage_context(lambda m: None)
    assert other.catalog is not first.catalog and len(opened) == 2

    # a step process forked by the multiprocess executor opens its own, once
    fork = multiprocessing.get_context("fork")
    out = fork.Queue()
    child = fork.Process(target=_child_opens_its_own, args=(resource, id(first.catalog), out))
    child.start()
    fresh, shared_in_child, documents = out.get(timeout=60)
    child.join(timeout=60)
    assert child.exitcode == 0
    assert fresh and shared_in_child and documents == 0
    assert len(opened) == 2   # the parent's cache is untouched
