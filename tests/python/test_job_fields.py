"""The author API reads exactly the job fields of the one list (src/job_fields.h).

``jobreg._meta.job_fields()`` makes the dict the loader hands to C; src/loader.c
reads it by key, one key per META field of the list. The keys, their order,
their Python types and the defaults of a plain job are held to the list here
(the C side fails a load on a key it does not know, or one it misses).

Run: cd /work/main && PYTHONPATH=src/py /usr/bin/python3 -m pytest -q tests/python/test_job_fields.py
"""
import json
import os
import re

from jobreg import _meta, jobs
from jobreg.jobs import Job

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
FIELDS_HEADER = os.path.join(ROOT, "src", "job_fields.h")
RECORD_HEADER = os.path.join(ROOT, "include", "jobreg", "record.h")


def list_fields():
    """[(FIELD, name, type, from, override, default)] of JR_JOB_FIELDS, in order."""
    with open(FIELDS_HEADER) as f:
        text = f.read()
    body = text[text.index("#define JR_JOB_FIELDS(X)"):]
    body = body[:body.index("/* clang-format on */")]
    rows = re.findall(r'X\((\w+),\s*(\w+),\s*(\w+),\s*(\w+),\s*(\w+),\s*("[^"]*"|\d+)\)', body)
    assert len(rows) >= 31, f"cannot read the list in {FIELDS_HEADER}"
    return rows


META = [row for row in list_fields() if row[3] == "META"]
PYTHON_TYPE = {"TEXT": str, "OBJECT": str, "BOOL": bool, "REAL": float, "LIST": tuple}


class Plain(Job):
    pass


def test_job_fields_has_one_key_per_meta_field_in_the_lists_order():
    fields = _meta.job_fields(Plain)
    assert list(fields) == [row[1] for row in META]
    assert jobs._job_metadata(Plain) == fields


def test_each_value_has_the_python_type_of_its_field_type():
    fields = _meta.job_fields(Plain)
    for field, name, type_, *_rest in META:
        assert type(fields[name]) is PYTHON_TYPE[type_], name


def test_a_plain_job_has_the_records_defaults_where_meta_has_no_say():
    """What a Meta left empty gives is what a new record holds (names and
    grouping come from the class and its module, not from a default)."""
    fields = _meta.job_fields(Plain)
    for field, name, type_, origin, override, default in META:
        if type_ == "BOOL":
            assert fields[name] is bool(int(default)), name
        elif type_ == "REAL":
            assert fields[name] == float(default), name
        elif type_ == "LIST":  # default: the C literal of the JSON text
            assert list(fields[name]) == json.loads(json.loads(default)), name
        elif type_ == "OBJECT":
            assert fields[name] == json.loads(default), name


def test_the_public_enum_is_the_list_in_order():
    """The list makes the library's field table; the public enum stays written
    out (its values are ABI). The build checks each row against the enum; this
    checks that the enum has no value the list lacks."""
    with open(RECORD_HEADER) as f:
        text = f.read()
    body = text[text.index("typedef enum jobreg_field {"):text.index("} jobreg_field;")]
    public = [(name, int(value)) for name, value in re.findall(r"JOBREG_FIELD_(\w+) = (\d+)", body)]
    assert public == [(row[0], i) for i, row in enumerate(list_fields())]


def test_every_overridable_field_is_a_meta_field():
    rows = list_fields()
    names = {row[1] for row in rows}
    for field, name, type_, origin, override, default in rows:
        if override == "YES":
            assert origin == "META" and f"{name}_override" in names, name
