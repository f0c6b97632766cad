"""The test servers' URLs, from scripts/test; one rule for every test file.

Unset: a failure that says to use scripts/test, unless the developer asked to
skip (``KHOLUU_ALLOW_NO_*=1``) — and never a skip under CI.
"""

from __future__ import annotations

import os

import pytest

ES_ENV = "KHOLUU_TEST_ELASTICSEARCH_URL"
ALLOW_NO_ES_ENV = "KHOLUU_ALLOW_NO_ELASTICSEARCH"


def elasticsearch_url() -> str:
    url = os.environ.get(ES_ENV, "").strip()
    if url:
        return url
    if os.environ.get(ALLOW_NO_ES_ENV) == "1" and os.environ.get("CI") != "true":  # CI never skips
        pytest.skip(f"{ES_ENV} unset and {ALLOW_NO_ES_ENV}=1: Elasticsearch tests skipped")
    pytest.fail(f"{ES_ENV} is not set: run the tests with scripts/test (it starts Elasticsearch), "
                f"or set {ALLOW_NO_ES_ENV}=1 to skip the Elasticsearch tests", pytrace=False)
