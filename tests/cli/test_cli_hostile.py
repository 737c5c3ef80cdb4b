"""The `jobreg` command against job code that writes to stdout (issue 14, part 3c).

Whatever job code writes to its standard output (print() at import or in a
run, os.write(1, ...) as a C extension would, sys.__stdout__) lands on
stderr: the command's own output, the --json document above all, stays
what it says it is. JOBREG names the executable.
"""
import json
import os
import subprocess
import textwrap

import pytest

JOBREG = os.environ["JOBREG"]

NOISY = textwrap.dedent('''\
    import os, sys
    print("printed at import")
    os.write(1, b"written to fd 1 at import\\n")
    from jobreg.jobs import Job, register_jobs

    class Noisy(Job):
        def run(self):
            print("printed in run")
            os.write(1, b"written to fd 1 in run\\n")
            sys.__stdout__.write("written to sys.__stdout__ in run\\n")
            sys.__stdout__.flush()
            return {"ok": True}

    register_jobs(Noisy)
''')


@pytest.fixture
def noisy_site(tmp_path):
    site = tmp_path / "site"
    (site / "jobs").mkdir(parents=True)
    (site / "jobreg.yaml").write_text("jobs_root: jobs\n")
    (site / "jobs" / "noisy.py").write_text(NOISY)
    return site


def jobreg(site, *args):
    return subprocess.run([JOBREG, "-c", "jobreg.yaml", *args], cwd=site, capture_output=True,
                          text=True, timeout=300)


def json_of(proc):
    assert proc.returncode == 0, proc.stderr
    try:
        return json.loads(proc.stdout)
    except ValueError as exc:
        pytest.fail(f"stdout is not one JSON document ({exc}): {proc.stdout!r}")


def test_prints_at_import_go_to_stderr_never_into_sync_json(noisy_site):
    proc = jobreg(noisy_site, "sync", "--json")
    out = json_of(proc)
    assert out["created"] == ["noisy.Noisy"] and out["errors"] == []
    assert "printed at import" in proc.stderr
    assert "written to fd 1 at import" in proc.stderr
    # A sync that imports again (--full) prints again, and its JSON is still clean.
    proc = jobreg(noisy_site, "sync", "--full", "--json")
    assert json_of(proc)["unchanged"] == 1
    assert "printed at import" in proc.stderr


def test_prints_in_a_run_go_to_stderr_never_into_run_json(noisy_site):
    json_of(jobreg(noisy_site, "sync", "--json"))
    assert jobreg(noisy_site, "enable", "noisy.Noisy").returncode == 0
    proc = jobreg(noisy_site, "run", "noisy.Noisy", "--json")
    out = json_of(proc)
    assert out["status"] == "success" and out["result"] == {"ok": True}
    assert "printed in run" in proc.stderr  # a log line of the run
    assert "written to fd 1 in run" in proc.stderr
    assert "written to sys.__stdout__ in run" in proc.stderr
    # The other commands' output is clean too.
    assert [r["class_path"] for r in json_of(jobreg(noisy_site, "list", "--json"))] == \
        ["noisy.Noisy"]
    assert json_of(jobreg(noisy_site, "show", "noisy.Noisy", "--json"))["enabled"] is True


def test_text_output_and_help_still_reach_stdout(noisy_site):
    proc = jobreg(noisy_site, "sync")
    assert proc.returncode == 0, proc.stderr
    assert "1 created" in proc.stdout and "printed at import" not in proc.stdout
    proc = jobreg(noisy_site, "--help")
    assert proc.returncode == 0 and proc.stdout.startswith("usage: jobreg")
    proc = jobreg(noisy_site, "--version")
    assert proc.returncode == 0 and proc.stdout.startswith("jobreg ")


HOSTILE = {
    "exits.py": "import os\nos._exit(0)\n",
    "crashes.py": "import ctypes\nctypes.string_at(0)\n",
    "sleeps.py": "import time\ntime.sleep(60)\n",
    "forks.py": "import os\nos.fork()\n",
}


def test_sync_reports_modules_that_exit_crash_or_hang_and_keeps_the_rest(noisy_site):
    """The command isolates job code by default: one module's os._exit(0),
    segfault or endless sleep is a load error in the report, never the end
    of the command (before isolation, os._exit(0) ended it with status 0
    and no report)."""
    for name, text in HOSTILE.items():
        (noisy_site / "jobs" / name).write_text(text)
    # 3 s, not less: under AddressSanitizer on a loaded machine the crash
    # report of a segfaulting worker can take a second, and must not be
    # mistaken for a module that hangs.
    (noisy_site / "jobreg.yaml").write_text("jobs_root: jobs\nimport_timeout: 3\n"
                                            "worker_memory_limit_mb: 512\n")
    proc = jobreg(noisy_site, "sync", "--json")
    assert proc.returncode == 3, proc.stderr  # load errors, everything else refreshed
    out = json.loads(proc.stdout)
    assert out["created"] == ["noisy.Noisy"]
    errors = {e["module"]: e for e in out["errors"]}
    assert set(errors) == {"exits", "crashes", "sleeps"}
    assert "exited with status 0" in errors["exits"]["message"]
    assert "killed by signal" in errors["crashes"]["message"]
    assert errors["sleeps"]["type"] == "ImportTimeLimitExceeded"
    assert "3 s" in errors["sleeps"]["message"]


def test_in_process_stays_available(noisy_site):
    (noisy_site / "jobreg.yaml").write_text("jobs_root: jobs\nisolation: none\n")
    proc = jobreg(noisy_site, "run", "noisy.Noisy", "--json")
    assert proc.returncode == 1  # no record yet: nothing ran
    out = json_of(jobreg(noisy_site, "sync", "--json"))
    assert out["created"] == ["noisy.Noisy"]
