"""Fixtures of the binding's tests: the seed layouts, built in tmp_path.

- ``jobs_root``: the jobs-root layout of the Nautobot "Installing Jobs" page
  (``device_jobs.CleanupDevices`` through ``nautobot.apps.jobs``;
  ``inventory.check_inventory.CheckInventory`` grouped by its module's
  ``name``);
- ``app_path``: the app layout (``my_app``: ``apps.py`` config naming
  ``my_app.jobs``; ``jobs/__init__.py`` registering its sub-modules' jobs),
  on sys.path for the test only;
- ``git_remote``: the git layout (top-level ``__init__.py``;
  ``jobs/__init__.py`` importing ``sync_devices``) in a real repository made
  with the ``git`` command, fetched through ``file://``.

Module names are process-wide while a registry holds them: every registry a
test makes through ``registry()`` is closed after it (which purges its
modules), so the next test may load the same names.
"""

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import jobreg

SOURCE_ROOT = Path(os.environ.get("JOBREG_SOURCE_ROOT",
                                  Path(__file__).resolve().parents[3]))


def write_tree(root, files):
    """Write ``{relative path: text}`` under ``root`` (text dedented); returns root."""
    root = Path(root)
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip("\n"))
    return root


JOBS_ROOT_LAYOUT = {
    "__init__.py": "",
    "device_jobs.py": '''
        from nautobot.apps.jobs import Job, register_jobs

        class CleanupDevices(Job):
            class Meta:
                name = "Cleanup Obsolete Devices"

            def run(self):
                self.logger.info("Cleaning old device entries")

        register_jobs(CleanupDevices)
        ''',
    "inventory/__init__.py": "",
    "inventory/check_inventory.py": '''
        from jobreg.jobs import Job, register_jobs

        name = "Inventory"

        class CheckInventory(Job):
            class Meta:
                name = "Check Inventory"
                description = """
                    Counts the line cards of every chassis.
                """

            def run(self):
                return {"expected": 48, "found": 46}

        register_jobs(CheckInventory)
        ''',
}

APP_LAYOUT = {
    "my_app/__init__.py": "",
    "my_app/apps.py": '''
        from nautobot.apps.apps import NautobotAppConfig

        class MyAppConfig(NautobotAppConfig):
            name = "my_app"
            jobs = "my_app.jobs"
        ''',
    "my_app/jobs/__init__.py": '''
        from nautobot.apps.jobs import register_jobs
        from .cleanup import CleanupJob
        from .report import ComplianceReport

        register_jobs(CleanupJob, ComplianceReport)
        ''',
    "my_app/jobs/cleanup.py": '''
        from nautobot.apps.jobs import BooleanVar, Job

        class CleanupJob(Job):
            dry_run = BooleanVar(default=True)

            class Meta:
                name = "Cleanup"

            def run(self, dry_run):
                return {"dry_run": dry_run}
        ''',
    "my_app/jobs/report.py": '''
        from nautobot.apps.jobs import Job, StringVar

        class ComplianceReport(Job):
            platform = StringVar(default="ios")

            class Meta:
                name = "Compliance Report"
                has_sensitive_variables = False

            def run(self, platform):
                self.logger.info("checking %s", platform, extra={"platform": platform})
                return {"platform": platform}
        ''',
}

GIT_LAYOUT = {
    "__init__.py": "",
    "jobs/__init__.py": "from . import sync_devices  # noqa: F401\n",
    "jobs/sync_devices.py": '''
        from nautobot.apps.jobs import Job, register_jobs

        class SyncDevices(Job):
            class Meta:
                name = "Sync Devices from CMDB"

            def run(self):
                self.logger.info("Running external sync...")
                return "synced"

        register_jobs(SyncDevices)
        ''',
}


@pytest.fixture
def registry():
    """``registry(*sources, **options)``: a Registry closed after the test."""
    made = []

    def make(*sources, **options):
        reg = jobreg.Registry(**options)
        made.append(reg)
        for src in sources:
            if isinstance(src, jobreg.Source):
                reg.add_source(src)
            else:
                reg.add_dir(src)
        return reg

    yield make
    for reg in reversed(made):
        reg.close()


@pytest.fixture
def jobs_root(tmp_path):
    return write_tree(tmp_path / "jobs", JOBS_ROOT_LAYOUT)


@pytest.fixture
def app_path(tmp_path, monkeypatch):
    lib = write_tree(tmp_path / "lib", APP_LAYOUT)
    monkeypatch.syspath_prepend(str(lib))
    yield lib
    for name in [m for m in sys.modules if m == "my_app" or m.startswith("my_app.")]:
        del sys.modules[name]


class GitRepo:
    """A git repository made with the git command, with a file:// URL."""

    def __init__(self, path, branch="main"):
        self.path = Path(path)
        self.path.mkdir(parents=True, exist_ok=True)
        self.git("init", "-q", "-b", branch)

    def git(self, *args):
        env = dict(os.environ, GIT_AUTHOR_NAME="t", GIT_AUTHOR_EMAIL="t@example.invalid",
                   GIT_COMMITTER_NAME="t", GIT_COMMITTER_EMAIL="t@example.invalid",
                   GIT_CONFIG_NOSYSTEM="1", HOME=str(self.path))
        return subprocess.run(["git", *args], cwd=self.path, env=env, check=True,
                              capture_output=True, text=True).stdout.strip()

    def commit(self, files, message="change"):
        """Write files (text, or None to delete) and commit; returns the commit id."""
        for rel, text in files.items():
            target = self.path / rel
            if text is None:
                target.unlink()
                continue
            write_tree(self.path, {rel: text})
        self.git("add", "-A")
        self.git("commit", "-q", "-m", message)
        return self.head()

    def head(self):
        return self.git("rev-parse", "HEAD")

    @property
    def url(self):
        return self.path.as_uri()


@pytest.fixture
def git_remote(tmp_path):
    repo = GitRepo(tmp_path / "remote" / "my_repo")
    repo.commit(GIT_LAYOUT, "first")
    return repo


@pytest.fixture
def git_root(tmp_path):
    path = tmp_path / "git"
    path.mkdir()
    return path


class DictBackend(jobreg.StorageBackend):
    """A storage backend in Python: rows in dicts, transactions by copy.

    It keeps what ``Record.to_row()`` gives (as a host's ORM would keep
    columns) and gives the same rows back; it counts every call.
    """

    def __init__(self):
        self.rows = {}
        self.git = {}
        self.calls = []
        self.open = None  # the committed state while a transaction is open
        self.closed = False

    def begin(self, write):
        assert self.open is None, "transactions never nest"
        self.calls.append(("begin", write))
        self.open = ({k: dict(v) for k, v in self.rows.items()}, dict(self.git))

    def commit(self):
        self.calls.append(("commit",))
        self.open = None

    def rollback(self):
        self.calls.append(("rollback",))
        self.rows, self.git = self.open
        self.open = None

    def read_records(self):
        assert self.open is not None
        self.calls.append(("read_records",))
        return [dict(row) for row in self.rows.values()]

    def write_record(self, record):
        assert self.open is not None
        self.calls.append(("write_record", record.class_path))
        self.rows[record.id] = record.to_row()

    def delete_record(self, id):
        assert self.open is not None
        self.calls.append(("delete_record", id))
        self.rows.pop(id, None)

    def git_state_read(self, slug):
        return self.git.get(slug)

    def git_state_write(self, slug, remote_url, branch, current_head):
        self.calls.append(("git_state_write", slug))
        self.git[slug] = (remote_url, branch, current_head)

    def close(self):
        self.closed = True

    def count(self, name):
        return sum(1 for call in self.calls if call[0] == name)


@pytest.fixture(params=["memory", "sqlite", "python"])
def storage(request, tmp_path):
    """Each kind of storage: the refresh rules must hold the same on all."""
    if request.param == "memory":
        st = jobreg.Storage.memory()
    elif request.param == "sqlite":
        st = jobreg.Storage.sqlite(tmp_path / "jobreg.db")
    else:
        st = jobreg.Storage.from_backend(DictBackend())
    yield st
    st.close()


def records_by_class_path(storage, installed="all"):
    return {r.class_path: r for r in storage.list(installed)}
