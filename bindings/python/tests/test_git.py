"""Git repositories through Python: the seed git layout synced over file:// and
over smart HTTP behind a token (asked from a Python credentials callback),
progress reported to Python, atomic failures, ensure-head."""

import subprocess
import sys

import pytest

import jobreg
from conftest import SOURCE_ROOT, GitRepo

SYNC = "my_repo.jobs.sync_devices.SyncDevices"


def test_sync_loads_the_git_layout_refreshes_and_records_the_head(registry, git_remote, git_root):
    reg = registry()
    src = reg.add_git("my_repo", git_remote.url, git_root)
    assert (src.type, src.name, src.slug, src.branch) == ("git", "my_repo", "my_repo", "main")
    assert src.root == str(git_root / "my_repo") and src.head is None
    with jobreg.Storage.memory() as st:
        result = src.sync(st)
        assert result.old_head == "" and result.new_head == git_remote.head()
        assert result.changed is True
        assert result.refresh.created == [SYNC]
        assert src.head == git_remote.head()
        job = reg.resolve("my_repo.jobs.SyncDevices")
        assert job.class_path == SYNC and job.name == "Sync Devices from CMDB"
        assert (job.source_type, job.source) == ("git", "my_repo")
        assert st.git_state("my_repo") == (git_remote.url, "main", git_remote.head())
        again = src.sync(st)
        assert again.changed is False and again.refresh.writes == 0


def test_a_sync_to_broken_code_changes_nothing_and_says_why(registry, git_remote, git_root):
    reg = registry()
    src = reg.add_git("my_repo", git_remote.url, git_root)
    with jobreg.Storage.memory() as st:
        good = src.sync(st).new_head
        git_remote.commit({"jobs/__init__.py": "raise RuntimeError('jobs are broken')\n"})
        with pytest.raises(jobreg.LoadFailed) as info:
            src.sync(st)
        assert "jobs are broken" in info.value.message
        assert src.head == good
        assert SYNC in reg
        assert st.git_state("my_repo").current_head == good
        assert st.get(SYNC).installed is True


def test_ensure_head_converges_on_a_recorded_commit_without_work_when_there(
        registry, git_remote, git_root, tmp_path):
    first = git_remote.head()
    second = git_remote.commit({"jobs/sync_devices.py": '''
        from jobreg.jobs import Job, register_jobs

        class SyncDevices(Job):
            class Meta:
                name = "Sync Devices v2"

        register_jobs(SyncDevices)
        '''})
    reg = registry()
    src = reg.add_git("my_repo", git_remote.url, git_root)
    with jobreg.Storage.memory() as st:
        src.sync(st)
        assert reg.resolve(SYNC).name == "Sync Devices v2"
        assert src.ensure_head(first) is True
        assert src.head == first and reg.resolve(SYNC).name == "Sync Devices from CMDB"
        generation = reg.generation
        assert src.ensure_head(first) is False and reg.generation == generation
        # A worker elsewhere, with its own checkout, follows the recorded head
        # (in this process once the first registry gave the module name up).
        reg.close()
        worker = registry()
        other = worker.add_git("my_repo", git_remote.url, tmp_path / "worker-git")
        with pytest.raises(jobreg.NotFound):
            other.ensure_recorded_head(jobreg.Storage.memory())
        assert other.ensure_recorded_head(st) is True
        assert other.head == second
        assert worker.resolve(SYNC).name == "Sync Devices v2"
        with pytest.raises(jobreg.NotFound):
            other.ensure_head("0123456789abcdef0123456789abcdef01234567")


def test_ensure_head_outside_a_registry_only_moves_the_checkout(git_remote, git_root):
    head = git_remote.head()
    with jobreg.GitSource("my_repo", git_remote.url, git_root) as src:
        with pytest.raises(jobreg.StateError):
            src.sync()
        assert src.ensure_head(head) is True
        assert src.head == head
        with jobreg.Storage.memory() as st:
            src.record_head(st)
            assert st.git_state("my_repo").current_head == head


def test_bad_slugs_are_refused_before_anything_is_written(git_root):
    for slug in ("os", "json", "my-repo", "../x", "", "class", "jobreg"):
        with pytest.raises(jobreg.InvalidArgument) as info:
            jobreg.check_slug(slug)
        assert repr(slug)[1:-1] in info.value.message or slug == ""
        with pytest.raises(jobreg.InvalidArgument):
            jobreg.GitSource(slug, "file:///nowhere", git_root)
    jobreg.check_slug("my_repo")
    assert list(git_root.iterdir()) == []


def test_urls_are_redacted():
    assert jobreg.redact_url("https://user:token@example.invalid/x.git") == \
        "https://***@example.invalid/x.git"
    assert jobreg.redact_url("ssh://git@example.invalid/x") == "ssh://git@example.invalid/x"
    src = jobreg.GitSource("my_repo", "https://u:secret@example.invalid/r.git", "/nonexistent")
    assert src.remote_url == "https://***@example.invalid/r.git"
    src.close()


def test_progress_reaches_python_and_can_cancel(registry, git_remote, git_root):
    seen = []
    reg = registry()
    src = reg.add_git("my_repo", git_remote.url, git_root, progress=seen.append)
    src.sync()
    assert seen and all(isinstance(p, jobreg.GitProgress) for p in seen)
    assert {p.stage for p in seen} <= {"receiving", "resolving", "checkout"}
    assert "checkout" in {p.stage for p in seen}
    reg.close()

    cancelled = registry()
    stop = cancelled.add_git("my_repo", git_remote.url, git_root / "elsewhere",
                             progress=lambda p: p.stage == "checkout")
    assert any(p.stage == "receiving" for p in seen)
    with pytest.raises(jobreg.GitError):
        stop.sync()
    assert stop.head is None


def test_an_exception_in_the_progress_callback_cancels_and_is_the_cause(registry, git_remote,
                                                                         git_root):
    def progress(p):
        if p.stage != "checkout":
            raise RuntimeError("user pressed stop")

    reg = registry()
    src = reg.add_git("my_repo", git_remote.url, git_root, progress=progress)
    with pytest.raises(jobreg.GitError) as info:
        src.sync()
    assert isinstance(info.value.__cause__, RuntimeError)
    assert "cancel" in info.value.message
    assert src.head is None and "my_repo.jobs.SyncDevices" not in reg


# ---- smart HTTP behind a token: the credentials callback ------------------------------

TOKEN = "s3cret-t0ken"


@pytest.fixture
def http_remote(tmp_path, git_remote):
    """The seed repository served over smart HTTP, accepting only TOKEN."""
    base = tmp_path / "served"
    base.mkdir()
    subprocess.run(["git", "clone", "-q", "--bare", str(git_remote.path), str(base / "private")],
                   check=True)
    serve = SOURCE_ROOT / "tests" / "git" / "serve.py"
    proc = subprocess.Popen([sys.executable, str(serve), "http", str(base), TOKEN],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    port = int(proc.stdout.readline())
    yield f"http://127.0.0.1:{port}/private"
    proc.stdin.close()
    proc.terminate()
    proc.wait(timeout=10)


def test_credentials_are_asked_from_python_and_never_stored(registry, http_remote, git_root):
    requests = []

    def credentials(request):
        requests.append(request)
        return jobreg.Token(TOKEN)

    reg = registry()
    src = reg.add_git("my_repo", http_remote, git_root, credentials=credentials)
    with jobreg.Storage.memory() as st:
        src.sync(st)
        assert SYNC in reg
        assert len(requests) == 1
        assert requests[0].url == http_remote and "userpass" in requests[0].allowed
        config = (git_root / "my_repo" / ".git" / "config").read_text()
        assert TOKEN not in config and TOKEN not in repr(st.git_state("my_repo"))


def test_credentials_as_a_tuple_or_a_string_work_too(registry, http_remote, git_root):
    reg = registry()
    src = reg.add_git("my_repo", http_remote, git_root,
                      credentials=lambda request: ("deploy", TOKEN))
    src.sync()
    assert SYNC in reg


def test_no_credentials_or_wrong_ones_fail_with_authentication_error(registry, http_remote,
                                                                     git_root):
    reg = registry()
    none = reg.add_git("my_repo", http_remote, git_root, credentials=lambda request: None)
    with pytest.raises(jobreg.AuthenticationError):
        none.sync()
    assert none.head is None

    wrong = registry().add_git("my_repo", http_remote, git_root / "w",
                               credentials=lambda request: jobreg.Token("nope"))
    with pytest.raises(jobreg.AuthenticationError) as info:
        wrong.sync()
    assert "nope" not in info.value.message


def test_an_exception_in_the_credentials_callback_aborts_and_is_the_cause(registry, http_remote,
                                                                          git_root):
    def credentials(request):
        raise LookupError("vault unreachable")

    src = registry().add_git("my_repo", http_remote, git_root, credentials=credentials)
    with pytest.raises(jobreg.AuthenticationError) as info:
        src.sync()
    assert isinstance(info.value.__cause__, LookupError)
    assert src.head is None


def test_git_sync_through_a_python_storage_backend(registry, git_remote, git_root):
    from conftest import DictBackend

    backend = DictBackend()
    reg = registry()
    src = reg.add_git("my_repo", git_remote.url, git_root)
    with jobreg.Storage.from_backend(backend) as st:
        result = src.sync(st)
        assert result.refresh.created == [SYNC]
        assert backend.git["my_repo"] == (git_remote.url, "main", git_remote.head())
        reg.close()
        worker = registry().add_git("my_repo", git_remote.url, git_root / "worker")
        assert worker.ensure_recorded_head(st) is True


def test_a_repository_without_the_layout_is_refused_naming_what_is_missing(registry, tmp_path,
                                                                           git_root):
    bare = GitRepo(tmp_path / "remote" / "no_init")
    bare.commit({"jobs.py": "x = 1\n"})
    src = registry().add_git("no_init", bare.url, git_root)
    with pytest.raises(jobreg.Error) as info:
        src.sync()
    assert "__init__.py" in info.value.message
