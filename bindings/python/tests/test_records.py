"""Records as Python objects: every field of the library, mapping and attribute
access, JSON, checked setters."""

import json
import pickle

import pytest

import jobreg
from jobreg._ffi import lib


def test_fields_are_the_librarys_own_with_their_kinds():
    assert len(jobreg.FIELDS) == lib.jobreg_record_field_count() == 31
    assert [f.index for f in jobreg.FIELDS] == list(range(31))
    by_name = {f.name: f for f in jobreg.FIELDS}
    assert by_name["class_path"].kind == "text"
    assert by_name["enabled"].kind == "bool"
    assert by_name["time_limit"].kind == "real"
    assert by_name["name"].overridable and not by_name["enabled"].overridable
    assert jobreg.field("name_override").index == lib.JOBREG_FIELD_NAME_OVERRIDE
    with pytest.raises(jobreg.NotFound) as info:
        jobreg.field("nmae")
    assert "nmae" in info.value.message


def test_a_new_record_has_the_librarys_defaults():
    rec = jobreg.Record()
    assert rec.id == "" and rec.source_type == "local"
    assert rec.enabled is False and rec.installed is False
    assert rec.has_sensitive_variables is True
    assert rec.task_queues == [] and rec.variables == {}
    assert rec.time_limit == 0.0
    assert len(rec) == 31 and list(rec) == [f.name for f in jobreg.FIELDS]


def test_fields_read_and_write_as_items_and_attributes():
    rec = jobreg.Record(name="Backup", task_queues=["a", "b"])
    rec["grouping"] = "Ops"
    rec.enabled = True
    rec.soft_time_limit = 30
    rec.variables = {"type": "object"}
    assert rec["name"] == rec.name == "Backup"
    assert rec.grouping == "Ops" and rec["enabled"] is True
    assert rec.soft_time_limit == 30.0
    assert rec.task_queues == ["a", "b"]
    assert rec.text("task_queues") == '["a","b"]'
    assert rec.variables == {"type": "object"}
    assert "name" in rec and "nope" not in rec
    with pytest.raises(KeyError):
        rec["nope"]
    with pytest.raises(AttributeError):
        rec.nope
    with pytest.raises(AttributeError):
        rec.nope = 1


def test_the_library_refuses_bad_values_and_the_record_stays_as_it_was():
    rec = jobreg.Record(source_type="git", task_queues=["q"])
    with pytest.raises(jobreg.InvalidArgument) as info:
        rec.source_type = "svn"
    assert "svn" in info.value.message and info.value.code == lib.JOBREG_EINVAL
    with pytest.raises(jobreg.InvalidArgument):
        rec.task_queues = '{"not": "a list"}'
    with pytest.raises(jobreg.InvalidArgument):
        rec.time_limit = -1
    with pytest.raises(TypeError):
        rec.enabled = "yes"
    with pytest.raises(TypeError):
        rec.name = 5
    assert rec.source_type == "git" and rec.task_queues == ["q"] and rec.time_limit == 0


def test_to_json_is_the_librarys_and_matches_to_dict():
    rec = jobreg.Record(name="X", task_queues=["q"], variables={"type": "object"}, enabled=True)
    data = json.loads(rec.to_json())
    assert list(data) == [f.name for f in jobreg.FIELDS]
    assert data == rec.to_dict() == dict(rec)
    assert data["task_queues"] == ["q"] and data["variables"] == {"type": "object"}
    assert jobreg.Record.from_json(rec.to_json()) == rec


def test_to_row_keeps_json_fields_as_text_and_rebuilds_the_same_record():
    rec = jobreg.Record(task_queues=["a", "ü"], variables={"b": 1, "a": [1, 2]})
    row = rec.to_row()
    assert row["task_queues"] == rec.text("task_queues")
    assert row["variables"] == rec.text("variables")
    again = jobreg.Record(row)
    assert again.to_row() == row


def test_records_compare_copy_and_pickle():
    rec = jobreg.Record(name="A", enabled=True)
    dup = rec.copy()
    assert dup == rec and dup is not rec
    dup.name = "B"
    assert rec.name == "A" and dup != rec
    assert pickle.loads(pickle.dumps(rec)) == rec
    assert rec == rec.to_dict()


def test_a_closed_record_raises_state_error():
    with jobreg.Record() as rec:
        assert rec.name == ""
    with pytest.raises(jobreg.StateError):
        rec.name
    assert "closed" in repr(rec)


def test_an_unknown_field_in_a_mapping_is_refused():
    with pytest.raises(KeyError):
        jobreg.Record({"name": "x", "colour": "red"})
