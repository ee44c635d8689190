"""Data Docs open without the network (kcbx/quality/docs_assets.py): every address GX's
templates load from a CDN has a shipped copy, and a site's pages are rewritten to it."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from kcbx.quality import docs_assets

pytestmark = pytest.mark.unit


def test_every_address_gxs_templates_load_has_a_local_copy():
    import great_expectations

    templates = Path(great_expectations.__file__).parent / "render" / "view" / "templates"
    loaded = {
        address
        for path in templates.rglob("*.j2")
        for attribute, address in re.findall(r'(src|href)="(https?://[^"]+)"', path.read_text(encoding="utf-8"))
        if attribute == "src" or "greatexpectations.io" not in address  # links to GX's site stay links
    }
    assert loaded and loaded <= set(docs_assets.LOCAL), sorted(loaded - set(docs_assets.LOCAL))
    assert all((docs_assets.ASSETS / file).is_file() for file in docs_assets.LOCAL.values())


def test_a_sites_pages_point_at_the_copies_at_any_depth(tmp_path):
    (tmp_path / "validations" / "a" / "b").mkdir(parents=True)
    jquery = "https://code.jquery.com/jquery-3.7.1.min.js"
    (tmp_path / "index.html").write_text(f'<script src="{jquery}" integrity="sha384-x" crossorigin="anonymous">')
    (tmp_path / "validations" / "a" / "b" / "p.html").write_text(
        f'<script src="{jquery}"></script><img src="{docs_assets._LOGO}?d=1&dataContextId=abc">'
        '<a href="https://greatexpectations.io">GX</a><script src="https://cdn.example.org/new.js"></script>'
    )
    assert docs_assets.localise(tmp_path) == ["https://cdn.example.org/new.js"]  # what no copy covers, said
    assert (tmp_path / "index.html").read_text() == '<script src="static/vendor/js/jquery.min.js">'
    nested = (tmp_path / "validations" / "a" / "b" / "p.html").read_text()
    assert '<script src="../../../static/vendor/js/jquery.min.js">' in nested
    assert '<img src="../../../static/images/logo-long.png">' in nested and "dataContextId" not in nested
    assert '<a href="https://greatexpectations.io">' in nested  # a link a person may follow
    copy = tmp_path / "static" / "vendor" / "js" / "jquery.min.js"
    assert copy.is_file() and copy.stat().st_mode & 0o077 == 0  # owner-only, as the reports
