"""`jobreg errors [--json]`: the load errors stored by the last refresh of each source.

Run as a user would (a subprocess per call), on a copy of docs/examples.
"""
import json
import os
import shutil
import sqlite3
import subprocess
from pathlib import Path

import pytest

JOBREG = os.environ["JOBREG"]
EXAMPLES = Path(os.environ.get("JOBREG_EXAMPLES",
                               Path(__file__).resolve().parents[2] / "docs" / "examples"))
KEYS = ["source_type", "source", "module", "file", "line", "type", "message", "traceback",
        "when"]


@pytest.fixture
def site(tmp_path):
    """A copy of docs/examples: jobreg.yaml and its jobs root (its app left out)."""
    dest = tmp_path / "site"
    shutil.copytree(EXAMPLES, dest, ignore=shutil.ignore_patterns("__pycache__", ".jobreg"))
    config = dest / "jobreg.yaml"
    config.write_text("".join(line for line in config.read_text().splitlines(keepends=True)
                              if not line.startswith(("apps:", "python_path:"))))
    return dest


def jobreg(site, *args):
    return subprocess.run([JOBREG, "-c", "jobreg.yaml"] + [str(a) for a in args], cwd=site,
                          capture_output=True, text=True, timeout=300)


def ok(site, *args):
    proc = jobreg(site, *args)
    assert proc.returncode == 0, proc.stderr
    return proc


def store(site, *rows):
    """Rows as a refresh stores them, written with SQLite itself (the library's table)."""
    with sqlite3.connect(site / ".jobreg" / "jobreg.db") as db:
        for position, row in enumerate(rows):
            db.execute('INSERT INTO jobreg_load_errors (source_type, source, position, module, '
                       'file, line, type, message, traceback, "when") '
                       'VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)', (row[0], row[1], position) + row[2:])


LOCAL = ("local", "", "broken", "/site/jobs/broken.py", 2, "SyntaxError", "invalid syntax",
         "Traceback ...\nSyntaxError: invalid syntax\n", "2026-01-31T12:00:00Z")
GIT = ("git", "ops-jobs", "ops_jobs.jobs", "/repos/ops/jobs.py", 0, "ImportError",
       'no module named "netmiko"', "", "2026-01-31T12:00:01Z")


def test_without_a_database_nothing_is_listed(site):
    assert ok(site, "errors").stdout == "No load errors stored yet (run 'jobreg sync').\n"
    assert json.loads(ok(site, "errors", "--json").stdout) == []


def test_a_clean_sync_stores_none(site):
    ok(site, "sync")
    assert ok(site, "errors").stdout == "No load errors stored.\n"
    assert json.loads(ok(site, "errors", "--json").stdout) == []


def test_stored_errors_are_listed_as_json_sorted_by_source(site):
    ok(site, "sync")
    store(site, LOCAL)
    store(site, GIT)
    out = json.loads(ok(site, "errors", "--json").stdout)
    assert [list(e) for e in out] == [KEYS, KEYS]
    assert [tuple(e[k] for k in KEYS) for e in out] == [GIT, LOCAL]


def test_stored_errors_are_listed_in_words(site):
    ok(site, "sync")
    store(site, LOCAL, LOCAL[:2] + ("other",) + LOCAL[3:4] + (0,) + LOCAL[5:])
    text = ok(site, "errors").stdout
    assert text.startswith("2 load errors stored by the last refresh of each source:\n")
    assert "\nlocal: broken (/site/jobs/broken.py:2), at 2026-01-31T12:00:00Z\n" \
           "  SyntaxError: invalid syntax\n" in text
    assert "\nlocal: other (/site/jobs/broken.py), at" in text
    assert "Traceback" not in text


def test_errors_takes_no_argument(site):
    proc = jobreg(site, "errors", "extra")
    assert proc.returncode == 2
    assert "errors" in proc.stderr


def test_sync_stores_a_broken_module_and_the_next_sync_forgets_it(site):
    broken = site / "jobs" / "broken.py"
    broken.write_text("x = 1\ndef oops(:\n    pass\n")
    assert jobreg(site, "sync").returncode == 3
    out = json.loads(ok(site, "errors", "--json").stdout)
    assert [(e["source_type"], e["module"], e["line"], e["type"]) for e in out] == \
        [("local", "broken", 2, "SyntaxError")]
    broken.unlink()
    ok(site, "sync")
    assert json.loads(ok(site, "errors", "--json").stdout) == []
