"""scripts/elasticsearch: the commands that need no download, and a clear failure.

The server itself is exercised by test_indexing_elastic.py (scripts/test starts
it with this script); here: the URL it prints, its status answer, argument
checks, and that an unresolvable version prints Maven's own error.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from service_urls import elasticsearch_url

SCRIPT = Path(__file__).resolve().parent.parent / "scripts" / "elasticsearch"


def es(*args: str, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run(["bash", str(SCRIPT), *args], env={**os.environ, **env}, capture_output=True,
                          text=True, timeout=300)


def test_url_follows_the_port_setting():
    assert es("url", KHOLUU_ES_PORT="9200").stdout.strip() == "http://127.0.0.1:9200"
    assert es("url", KHOLUU_ES_PORT="9355").stdout.strip() == "http://127.0.0.1:9355"


def test_bad_arguments_are_refused():
    usage = es("restart")
    assert usage.returncode == 2 and "usage: scripts/elasticsearch" in usage.stderr
    port = es("url", KHOLUU_ES_PORT="92x")
    assert port.returncode == 1 and "KHOLUU_ES_PORT=92x" in port.stderr


def test_status_of_a_port_with_no_server(tmp_path):
    out = es("status", KHOLUU_ES_PORT="9", KHOLUU_ES_DIR=str(tmp_path))
    assert out.returncode == 3 and "not running at http://127.0.0.1:9" in out.stdout
    stopped = es("stop", KHOLUU_ES_PORT="9", KHOLUU_ES_DIR=str(tmp_path))
    assert stopped.returncode == 0 and "not running" in stopped.stdout


def test_status_of_the_test_server():
    url = elasticsearch_url()     # fails (CI) or skips (KHOLUU_ALLOW_NO_ELASTICSEARCH=1) without a server
    port = url.rsplit(":", 1)[1].strip("/")
    out = es("status", KHOLUU_ES_PORT=port)
    assert out.returncode == 0 and '"status"' in out.stdout


def test_unresolvable_version_prints_the_maven_error(tmp_path):
    # reuse the CI cache's Maven repository when there is one: no plugin downloads
    m2 = Path(os.environ.get("KHOLUU_ES_DIR", "/var/cache/kholuu-ci/elasticsearch")) / "m2"
    extra = {"KHOLUU_ES_M2": str(m2)} if m2.is_dir() else {}
    out = es("fetch", KHOLUU_ES_VERSION="9.0.999", KHOLUU_ES_DIR=str(tmp_path), **extra)
    assert out.returncode == 1
    assert "no Elasticsearch 9.x integ-test-zip resolved (tried: 9.0.999)" in out.stderr
    assert "[ERROR]" in out.stderr          # Maven's own words, not a paraphrase
    assert not (tmp_path / "dist" / "elasticsearch-9.0.999").exists()
