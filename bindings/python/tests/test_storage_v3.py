"""Storage backend version 3 from Python: filtered and paged lists, stored
load errors, run records (Storage.list_filtered, load_errors, runs; runs
with record_in=), on the built-in backends and on a backend written in
Python with every version-3 method, and the same backend without them."""

import json
import re

import pytest

import jobreg
from conftest import DictBackend, write_tree

CLEANUP = "device_jobs.CleanupDevices"
CHECK = "inventory.check_inventory.CheckInventory"
TOOLS = '''
    from jobreg.jobs import IntegerVar, Job, register_jobs

    class Double(Job):
        value = IntegerVar()

        def run(self, value):
            return {"doubled": value * 2}

    class Explode(Job):
        def run(self):
            raise ValueError("no such device")

    register_jobs(Double, Explode)
    '''
BROKEN = "import os\ndef oops(:\n    pass\n"
RUN_FIELDS = ["id", "job_id", "class_path", "source_type", "source_name", "code_version",
              "status", "started", "finished", "result_json", "error_type", "error_message",
              "host_json"]
WHEN = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$")


class V3Backend(DictBackend):
    """DictBackend with every version-3 method, each done the way a host's
    ORM would (filters and paging of its own), and every call counted."""

    def __init__(self):
        super().__init__()
        self.errors = {}  # (source_type, source_name) -> [StoredLoadError]
        self.run_rows = {}

    def begin(self, write):
        super().begin(write)
        self.saved = ({k: list(v) for k, v in self.errors.items()}, dict(self.run_rows))

    def rollback(self):
        super().rollback()
        self.errors, self.run_rows = self.saved

    def get_record_by_id(self, id):
        self.calls.append(("get_record_by_id", id))
        row = self.rows.get(id)
        return dict(row) if row else None

    def get_record_by_class(self, module_name, job_class_name):
        self.calls.append(("get_record_by_class", module_name, job_class_name))
        for row in self.rows.values():
            if (row["module_name"], row["job_class_name"]) == (module_name, job_class_name):
                return jobreg.Record(row)
        return None

    def list_records(self, filter):
        self.calls.append(("list_records", dict(filter)))
        rows = [r for r in self.rows.values()
                if filter["source_type"] in (None, r["source_type"])
                and filter["source_name"] in (None, r["source"])
                and filter["installed"] in (None, r["installed"])
                and filter["enabled"] in (None, r["enabled"])]
        rows.sort(key=lambda r: tuple(r[k].encode() for k in
                                      ("grouping", "name", "class_path", "id")))
        end = filter["offset"] + filter["limit"] if filter["limit"] else None
        return rows[filter["offset"]:end]

    def load_errors_replace(self, source_type, source_name, rows):
        assert self.open is not None
        self.calls.append(("load_errors_replace", source_type, source_name, len(rows)))
        assert all(isinstance(r, jobreg.StoredLoadError) for r in rows)
        if rows:
            self.errors[(source_type, source_name)] = list(rows)
        else:
            self.errors.pop((source_type, source_name), None)

    def load_errors_read(self, source_type, source_name):
        self.calls.append(("load_errors_read", source_type, source_name))
        out = []
        for (kind, name), rows in self.errors.items():
            if source_type in (None, kind) and source_name in (None, name):
                # As a host's ORM would give them back: mappings, "source_name" spelt so.
                out += [dict(r._asdict(), source_name=r.source) for r in rows]
        return out

    def run_write(self, row):
        assert self.open is not None
        self.calls.append(("run_write", row["status"]))
        assert list(row) == RUN_FIELDS and all(isinstance(v, str) for v in row.values())
        self.run_rows[row["id"]] = dict(row)

    def runs_read(self, filter):
        self.calls.append(("runs_read", dict(filter)))
        rows = [r for r in self.run_rows.values()
                if all(filter[k] in (None, r[k]) for k in ("id", "job_id", "status"))]
        rows.sort(key=lambda r: (r["started"], r["id"]), reverse=True)
        end = filter["offset"] + filter["limit"] if filter["limit"] else None
        return [jobreg.RunRecord(**r) for r in rows[filter["offset"]:end]]


@pytest.fixture(params=["memory", "sqlite", "python-v3", "python-v2"])
def storage(request, tmp_path):
    if request.param == "memory":
        st = jobreg.Storage.memory()
    elif request.param == "sqlite":
        st = jobreg.Storage.sqlite(tmp_path / "jobreg.db")
    elif request.param == "python-v3":
        st = jobreg.Storage.from_backend(V3Backend())
    else:
        st = jobreg.Storage.from_backend(DictBackend())
    st.param = request.param
    yield st
    st.close()


@pytest.fixture
def loaded(registry, jobs_root):
    write_tree(jobs_root, {"tools.py": TOOLS})
    reg = registry(jobs_root)
    reg.load()
    return reg


def paths(records):
    return [r.class_path for r in records]


# ---- list_filtered ----

def test_list_filtered_filters_and_pages(storage, loaded):
    storage.refresh(loaded)
    everything = paths(storage.list())
    assert len(everything) == 4
    storage.enable(storage.get("tools.Double"))
    assert paths(storage.list_filtered()) == everything
    assert paths(storage.list_filtered(enabled=True)) == ["tools.Double"]
    assert paths(storage.list_filtered(enabled=False)) == [p for p in everything
                                                          if p != "tools.Double"]
    assert paths(storage.list_filtered(source_type="local", source="")) == everything
    assert paths(storage.list_filtered(source=loaded.sources[0])) == everything
    assert paths(storage.list_filtered(source_type="git")) == []
    assert paths(storage.list_filtered(installed="no")) == []
    pages = [paths(storage.list_filtered(offset=o, limit=3)) for o in (0, 3, 6)]
    assert pages == [everything[:3], everything[3:], []]


def test_list_filtered_refuses_bad_arguments(storage):
    with pytest.raises(jobreg.InvalidArgument) as info:
        storage.list_filtered(source_type="svn")
    assert "svn" in info.value.message
    with pytest.raises(ValueError):
        storage.list_filtered(installed="maybe")
    with pytest.raises(ValueError):
        storage.list_filtered(limit=-1)
    with pytest.raises(TypeError):
        storage.list_filtered(enabled="yes")
    with pytest.raises(TypeError):
        storage.list_filtered(offset=1.5)


# ---- load errors ----

def test_a_refresh_stores_the_load_errors_and_the_next_one_replaces_them(
        storage, loaded, jobs_root):
    write_tree(jobs_root, {"broken.py": BROKEN, "other_broken.py": "raise KeyError('x')\n"})
    loaded.reload()
    storage.refresh(loaded)
    errors = storage.load_errors()
    if storage.param == "python-v2":  # no load_errors_* methods: none stored, no error
        assert errors == []
        return
    assert [(e.source_type, e.source, e.module, e.line, e.type) for e in errors] == [
        ("local", "", "broken", 2, "SyntaxError"), ("local", "", "other_broken", 1, "KeyError")]
    first = errors[0]
    assert isinstance(first, jobreg.StoredLoadError)
    assert first.file == str(jobs_root / "broken.py")
    assert "SyntaxError" in first.traceback or first.traceback == ""
    assert re.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d", first.when)
    assert storage.load_errors(limit=1) == errors[:1]
    assert storage.load_errors(offset=1) == errors[1:]
    assert storage.load_errors(source_type="local", source="") == errors
    assert storage.load_errors(source_type="git") == []
    (jobs_root / "broken.py").unlink()
    (jobs_root / "other_broken.py").unlink()
    loaded.reload()
    storage.refresh(loaded)
    assert storage.load_errors() == []


# ---- run records ----

def enabled(storage, loaded):
    storage.refresh(loaded)
    for rec in storage.list():
        storage.enable(rec)


def test_runs_are_recorded_and_listed_newest_first(storage, loaded):
    enabled(storage, loaded)
    if storage.param == "python-v2":
        with pytest.raises(jobreg.Unsupported):
            loaded.run("tools.Double", storage, {"value": 1}, record_in=storage)
        with pytest.raises(jobreg.Unsupported):
            storage.runs()
        return
    good = loaded.run("tools.Double", storage, {"value": 21}, record_in=storage)
    bad = loaded.run("tools.Explode", storage, record_in=storage, run_id="task-42",
                     host_json={"worker": "w1"})
    assert good.succeeded and good.record_error is None
    assert re.fullmatch(r"[0-9a-f-]{36}", good.run_id)
    assert bad.run_id == "task-42" and not bad.succeeded

    runs = storage.runs()
    assert [r.id for r in runs] == ["task-42", good.run_id]
    failure, success = runs
    assert list(success._fields) == RUN_FIELDS
    double = loaded.resolve("tools.Double")
    assert re.fullmatch(r"[0-9a-f]{16}", double.code_version)
    assert success == jobreg.RunRecord(
        id=good.run_id, job_id=storage.get("tools.Double").id, class_path="tools.Double",
        source_type="local", source_name="", code_version=double.code_version,
        status="SUCCESS", started=success.started, finished=success.finished,
        result_json=success.result_json, error_type="", error_message="", host_json="")
    assert success.result == {"doubled": 42} and json.loads(success.result_json) == success.result
    assert WHEN.match(success.started) and success.started <= success.finished
    assert (failure.status, failure.error_type, failure.error_message, failure.result) == \
        ("FAILURE", "ValueError", "no such device", None)
    assert failure.code_version == double.code_version
    assert failure.host_json == '{"worker": "w1"}'  # kept as given, unread

    assert storage.runs(id="task-42") == [failure]
    assert storage.runs(job_id=storage.get("tools.Double")) == [success]
    assert storage.runs(status="FAILURE") == [failure]
    assert storage.runs(status="REVOKED") == []
    assert storage.runs(limit=1) == [failure] and storage.runs(offset=1) == [success]
    with pytest.raises(jobreg.InvalidArgument):
        storage.runs(status="DONE")
    with pytest.raises(jobreg.AlreadyExists):
        loaded.run("tools.Explode", storage, record_in=storage, run_id="task-42")
    assert len(storage.runs()) == 2


def test_a_loaded_job_runs_recorded_in_another_storage(storage, loaded, tmp_path):
    """The records may be read from one storage and the run recorded in another."""
    enabled(storage, loaded)
    with jobreg.Storage.sqlite(tmp_path / "runs.db") as runs_db:
        job = loaded.resolve("tools.Double")
        result = job.run(storage.get("tools.Double"), {"value": 2}, record_in=runs_db,
                         run_id="r-1")
        assert result.run_id == "r-1" and result.result == {"doubled": 4}
        assert [(r.id, r.status, r.code_version) for r in runs_db.runs()] == \
            [("r-1", "SUCCESS", job.code_version)]
        assert runs_db.runs()[0].job_id == storage.get("tools.Double").id
    if storage.param != "python-v2":
        assert storage.runs() == []


def test_a_run_not_recorded_has_no_run_id(storage, loaded):
    enabled(storage, loaded)
    result = loaded.run("tools.Double", storage, {"value": 1})
    assert result.run_id is None and result.record_error is None
    with pytest.raises(ValueError):
        loaded.run("tools.Double", storage, {"value": 1}, run_id="r-2")
    with pytest.raises(TypeError):
        loaded.run("tools.Double", storage, {"value": 1}, record_in="jobreg.db")


def test_a_second_handle_on_the_sqlite_file_sees_the_runs(loaded, tmp_path):
    with jobreg.Storage.sqlite(tmp_path / "jobreg.db") as st:
        enabled(st, loaded)
        ran = loaded.run("tools.Double", st, {"value": 3}, record_in=st)
    with jobreg.Storage.sqlite(tmp_path / "jobreg.db") as again:
        assert [(r.id, r.result) for r in again.runs()] == [(ran.run_id, {"doubled": 6})]


def test_a_git_job_records_its_commit(registry, git_remote, git_root):
    reg = registry()
    src = reg.add_git("my_repo", git_remote.url, git_root)
    with jobreg.Storage.memory() as st:
        src.sync(st)
        st.enable(st.get("my_repo.jobs.sync_devices.SyncDevices"))
        job = reg.resolve("my_repo.jobs.SyncDevices")
        assert job.code_version == git_remote.head()
        ran = reg.run("my_repo.jobs.SyncDevices", st, record_in=st)
        (run,) = st.runs()
        assert (run.id, run.code_version, run.source_type, run.source_name, run.result) == \
            (ran.run_id, git_remote.head(), "git", "my_repo", "synced")


# ---- a Python backend: which methods the library calls ----

def test_a_v3_python_backend_is_driven_through_its_own_methods(loaded, jobs_root):
    backend = V3Backend()
    with jobreg.Storage.from_backend(backend) as st:
        write_tree(jobs_root, {"broken.py": BROKEN})
        loaded.reload()
        st.refresh(loaded)
        assert ("load_errors_replace", "local", "", 1) in backend.calls
        assert [e.module for e in st.load_errors()] == ["broken"]
        assert backend.calls[-2:] == [("load_errors_read", None, None), ("commit",)]

        rec = st.list()[0]
        backend.calls.clear()
        assert st.get(rec.id) == rec
        assert ("get_record_by_id", rec.id) in backend.calls
        assert ("read_records",) not in backend.calls
        backend.calls.clear()
        assert st.get(CHECK).class_path == CHECK
        assert ("get_record_by_class", "inventory.check_inventory", "CheckInventory") in \
            backend.calls
        assert ("read_records",) not in backend.calls

        backend.calls.clear()
        assert paths(st.list_filtered(installed="yes", limit=2)) == paths(st.list())[:2]
        assert backend.calls[1] == ("list_records", {
            "source_type": None, "source_name": None, "installed": True, "enabled": None,
            "offset": 0, "limit": 2})
        assert ("read_records",) not in backend.calls

        st.enable(st.get("tools.Double"))
        backend.calls.clear()
        ran = loaded.run("tools.Double", st, {"value": 5}, record_in=st)
        writes = [c for c in backend.calls if c[0] == "run_write"]
        assert writes == [("run_write", "STARTED"), ("run_write", "SUCCESS")]
        assert backend.run_rows[ran.run_id]["result_json"] == ran.result_json
        assert [r.id for r in st.runs(job_id=st.get("tools.Double"))] == [ran.run_id]
        assert backend.calls[-2] == ("runs_read", {
            "id": None, "job_id": st.get("tools.Double").id, "status": None, "offset": 0,
            "limit": 0})


def test_the_same_backend_without_v3_methods_still_works(loaded, jobs_root):
    backend = DictBackend()
    with jobreg.Storage.from_backend(backend) as st:
        write_tree(jobs_root, {"broken.py": BROKEN})
        loaded.reload()
        st.refresh(loaded)
        assert st.load_errors() == []
        backend.calls.clear()
        assert paths(st.list_filtered(source_type="local", limit=1)) == paths(st.list())[:1]
        assert ("read_records",) in backend.calls  # the library filters itself
        assert st.get(CLEANUP).class_path == CLEANUP
        st.enable(st.get("tools.Double"))
        assert loaded.run("tools.Double", st, {"value": 1}).result == {"doubled": 2}
        with pytest.raises(jobreg.Unsupported):
            loaded.run("tools.Double", st, {"value": 1}, record_in=st)


# ---- a Python backend: clear errors ----

@pytest.mark.parametrize("method, bad, needle", [
    ("get_record_by_id", 42, "get_record_by_id() must return a jobreg.Record, a mapping or "
                             "None, not int"),
    ("list_records", "rows", "list_records() must return an iterable of rows, not str"),
    ("list_records", [42], "list_records() must yield jobreg.Record objects or mappings, "
                           "not int"),
    ("runs_read", None, "runs_read() must return an iterable of rows, not NoneType"),
    ("runs_read", [("a",)], "runs_read() must yield jobreg.RunRecord objects or mappings, "
                            "not tuple"),
    ("runs_read", [{"id": 7}], "runs_read(): id must be a str, not int"),
    ("load_errors_read", [{"line": "2"}], "load_errors_read(): line must be an int, not str"),
])
def test_a_method_returning_the_wrong_type_fails_naming_it(loaded, method, bad, needle):
    backend = V3Backend()
    with jobreg.Storage.from_backend(backend) as st:
        st.refresh(loaded)
        rec = st.list()[0]
        setattr(backend, method, lambda *args: bad)
        call = {"get_record_by_id": lambda: st.get(rec.id),
                "list_records": lambda: st.list_filtered(limit=1),
                "runs_read": lambda: st.runs(),
                "load_errors_read": lambda: st.load_errors()}[method]
        with pytest.raises(jobreg.StorageError) as info:
            call()
        assert f"V3Backend.{method}() failed: TypeError: " in info.value.message
        assert needle in info.value.message, info.value.message
        assert isinstance(info.value.__cause__, TypeError)
        assert backend.open is None  # rolled back


@pytest.mark.parametrize("half", ["load_errors_replace", "load_errors_read", "run_write",
                                  "runs_read"])
def test_v3_pairs_come_together(half):
    backend = V3Backend()
    setattr(backend, half, None)
    with pytest.raises(TypeError) as info:
        jobreg.Storage.from_backend(backend)
    assert half in str(info.value) and "or neither" in str(info.value)
