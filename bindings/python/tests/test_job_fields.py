"""The binding and the one list of job fields (src/job_fields.h) agree.

The binding cannot read a C header at run time, so what it declares and
exposes field by field is held to the list here: the record fields (the cdef's
enum, ``jobreg.FIELDS``, the JSON and override rules of ``Record``), and for
every META field a ``jobreg_job_*`` getter in the cdef, a ``LoadedJob``
property, a key of ``LoadedJob.to_dict()``, and the same value as the record
a refresh makes of it. docs/job-fields.md says what to add for a new field.
"""

import json
import re

import pytest

import jobreg
from conftest import SOURCE_ROOT
from jobreg import _cdef, _records
from jobreg._ffi import lib
from jobreg._registry import LoadedJob

FIELDS_HEADER = SOURCE_ROOT / "src" / "job_fields.h"


def list_fields():
    """[(FIELD, name, type, from, override, default)] of JR_JOB_FIELDS, in order."""
    text = FIELDS_HEADER.read_text()
    body = text[text.index("#define JR_JOB_FIELDS(X)"):]
    body = body[:body.index("/* clang-format on */")]
    rows = re.findall(r'X\((\w+),\s*(\w+),\s*(\w+),\s*(\w+),\s*(\w+),\s*("[^"]*"|\d+)\)', body)
    assert len(rows) >= 31, f"cannot read the list in {FIELDS_HEADER}"
    return rows


LIST = list_fields()
META = [row for row in LIST if row[3] == "META"]
KIND = {"TEXT": "text", "LIST": "text", "OBJECT": "text", "BOOL": "bool", "REAL": "real"}
C_TYPE = {"TEXT": "const char *", "BOOL": "int", "REAL": "double"}


def cdef_prototypes():
    """{name: 'return type'} of the functions the cdef declares."""
    found = {}
    for ret, name in re.findall(r"^([A-Za-z_][\w ]*?[\s*]+)(jobreg_\w+)\(", _cdef.CDEF, re.M):
        found[name] = " ".join(ret.split()).replace(" *", " *")
    return found


def getters_of(name, type_):
    """The jobreg_job_* getters of a META field, by the naming rule of job.h."""
    if type_ == "LIST":  # task_queues: jobreg_job_task_queue_count(), jobreg_job_task_queue(i)
        one = name[:-1] if name.endswith("s") else name
        return {f"jobreg_job_{one}_count": "size_t", f"jobreg_job_{one}": "const char *"}
    if type_ == "OBJECT":  # variables: jobreg_job_variables_json()
        return {f"jobreg_job_{name}_json": "const char *"}
    return {f"jobreg_job_{name}": C_TYPE[type_]}


def test_the_cdef_enum_is_the_list_in_order():
    for index, (field, name, *_rest) in enumerate(LIST):
        assert getattr(lib, f"JOBREG_FIELD_{field}") == index, field
    declared = re.findall(r"\bJOBREG_FIELD_(?!KIND_)(\w+) = (\d+)", _cdef.CDEF)
    assert [(f, int(v)) for f, v in declared] == [(row[0], i) for i, row in enumerate(LIST)]


def test_the_record_fields_are_the_list_with_its_kinds_and_overrides():
    assert [f.name for f in jobreg.FIELDS] == [row[1] for row in LIST]
    for f, (field, name, type_, origin, override, default) in zip(jobreg.FIELDS, LIST):
        assert f.kind == KIND[type_], name
        assert f.overridable == (override == "YES"), name
    assert _records.JSON_FIELDS == {row[1] for row in LIST if row[2] in ("LIST", "OBJECT")}


def test_a_new_record_has_the_lists_defaults():
    rec = jobreg.Record()
    for field, name, type_, origin, override, default in LIST:
        if KIND[type_] == "text":
            assert rec.text(name) == json.loads(default), name
        elif type_ == "BOOL":
            assert rec[name] is bool(int(default)), name
        else:
            assert rec[name] == float(default), name


@pytest.mark.parametrize("field, name, type_, origin, override, default", META)
def test_every_meta_field_has_its_getter_in_the_cdef(field, name, type_, origin, override,
                                                      default):
    declared = cdef_prototypes()
    for getter, ret in getters_of(name, type_).items():
        assert getter in declared, f"the cdef (and jobreg/job.h) lacks {getter}()"
        assert declared[getter] == ret, f"{getter} returns {declared[getter]}, not {ret}"


@pytest.mark.parametrize("field, name, type_, origin, override, default", META)
def test_every_meta_field_is_a_loaded_job_property(field, name, type_, origin, override,
                                                   default):
    assert isinstance(getattr(LoadedJob, name, None), property), f"LoadedJob.{name}"


def test_loaded_jobs_read_every_meta_field_as_their_records_do(registry, jobs_root):
    reg = registry(jobs_root)
    snap = reg.load()
    with jobreg.Storage.memory() as st:
        st.refresh(snap)
        assert len(snap) >= 2
        for job in snap:
            as_dict, record = job.to_dict(), st.get(job.class_path)
            for field, name, *_rest in META:
                assert as_dict[name] == getattr(job, name) == record[name], (job.class_path, name)
            assert set(as_dict) == {"class_path", "module_name", "class_name", "source_type",
                                    "source"} | {row[1] for row in META}


@pytest.mark.parametrize("change, named", [
    (lambda fields: dict(fields, console_log_default=False), "'console_log_default'"),
    (lambda fields: {k: v for k, v in fields.items() if k != "hidden"}, '"hidden"'),
])
def test_the_c_loader_refuses_a_field_the_list_does_not_have(registry, jobs_root, monkeypatch,
                                                              change, named):
    """The author API and src/loader.c must agree key for key: a field one
    side has and the other not fails the load, naming it."""
    from jobreg import _meta

    job_fields = _meta.job_fields
    monkeypatch.setattr(_meta, "job_fields", lambda cls: change(job_fields(cls)))
    reg = registry(jobs_root)
    with pytest.raises(jobreg.Error) as info:
        reg.load()
    assert named in info.value.message


def test_the_c_loader_reads_the_fields_by_key_in_any_order(registry, jobs_root, monkeypatch):
    from jobreg import _meta

    job_fields = _meta.job_fields
    monkeypatch.setattr(_meta, "job_fields",
                        lambda cls: dict(reversed(list(job_fields(cls).items()))))
    snap = registry(jobs_root).load()
    job = snap["inventory.check_inventory.CheckInventory"]
    assert job.name == "Check Inventory" and job.grouping == "Inventory"
    assert job.has_sensitive_variables is True and job.task_queues == []
