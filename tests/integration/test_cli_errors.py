"""`kcbx run` fails with a clear message and a non-zero exit when it cannot run."""

import os
import subprocess

import pytest

from tests.conftest import KCBX, TERM

pytestmark = pytest.mark.integration


def _kcbx(*args, env=None):
    return subprocess.run([KCBX, *args], env=os.environ | (env or {}), capture_output=True, text=True, timeout=300)


def test_unreachable_warehouse_names_the_url_without_password(county, tmp_path):
    result = _kcbx(
        "run",
        "--landing",
        str(county),
        "--term",
        TERM,
        env={"KCBX_DATABASE_URL": "postgresql://kcbx:s3cret-pw@127.0.0.1:1/kcbx", "KCBX_HOME": str(tmp_path)},
    )
    assert result.returncode == 3
    assert "127.0.0.1:1/kcbx" in result.stderr
    assert "s3cret-pw" not in result.stderr + result.stdout


def test_bad_term_and_missing_folder_are_usage_errors(county, tmp_path):
    env = {"KCBX_HOME": str(tmp_path)}
    bad_term = _kcbx("run", "--landing", str(county), "--term", "2025-2027-1", env=env)
    assert bad_term.returncode == 2 and "invalid term" in bad_term.stderr
    missing = _kcbx("run", "--landing", str(tmp_path), "--term", TERM, env=env)
    assert missing.returncode == 2 and "no folder" in missing.stderr
