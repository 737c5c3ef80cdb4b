"""The job-author API's variables, Meta rules and registration (SPEC 2, 5).

Runs on the embedded Python source directly (PYTHONPATH=src/py): the very
text the library compiles in. Loading through the library is tested in C.
"""
import ipaddress
import json
import logging
import sys
import types

import pytest

from jobreg import _context, _meta, jobs
from jobreg.jobs import (BooleanVar, ChoiceVar, DryRunVar, FileVar, IntegerVar, IPAddressVar,
                         IPAddressWithMaskVar, IPNetworkVar, Job, JSONVar, MultiChoiceVar,
                         MultiObjectVar, ObjectVar, StringVar, TextVar, ValidationError,
                         register_jobs)


def job_with(**variables):
    return type("Probe", (Job,), dict(variables))


def clean(var, value=None, present=True):
    return _meta.validate_input(job_with(v=var), {"v": value} if present else {})["v"]


def reason(var, value=None, present=True):
    with pytest.raises(ValidationError) as info:
        clean(var, value, present)
    return info.value.errors["v"]


# ---- each variable type: good and bad values ----

def test_string_var_bounds_and_regex():
    var = StringVar(min_length=2, max_length=4, regex=r"^[a-z]+$")
    assert clean(var, "abc") == "abc"
    assert "at least 2" in reason(var, "a")
    assert "at most 4" in reason(var, "abcde")
    assert "pattern" in reason(var, "AB1")
    assert "must be a string" in reason(var, 12)


def test_text_var_is_a_string_var():
    assert clean(TextVar(), "two\nlines") == "two\nlines"
    assert "must be a string" in reason(TextVar(), ["x"])


def test_integer_var_accepts_ints_and_int_strings_within_bounds():
    var = IntegerVar(min_value=1, max_value=10)
    assert clean(var, 3) == 3
    assert clean(var, " 7 ") == 7
    assert "at most 10" in reason(var, 11)
    assert "at least 1" in reason(var, 0)
    assert "whole number" in reason(var, "seven")
    assert "boolean" in reason(var, True)
    assert "whole number" in reason(var, 2.5)


def test_boolean_var_is_never_required():
    assert clean(BooleanVar(), present=False) is False
    assert clean(BooleanVar(default=True), present=False) is True
    assert clean(BooleanVar(), True) is True
    assert clean(BooleanVar(), "false") is False
    assert "true or false" in reason(BooleanVar(), "maybe")
    assert "true or false" in reason(BooleanVar(), 1)


def test_choice_var_and_multi_choice_var():
    var = ChoiceVar(choices=[("a", "Alpha"), ("b", "Beta")])
    assert clean(var, "b") == "b"
    assert "not one of the choices" in reason(var, "c")
    plain = ChoiceVar(choices=[1, 2])
    assert clean(plain, "2") == 2
    multi = MultiChoiceVar(choices=["x", "y"])
    assert clean(multi, ["y", "x"]) == ["y", "x"]
    assert "not one of the choices" in reason(multi, ["x", "z"])
    assert "list" in reason(multi, "x")


def test_object_and_file_vars_pass_references_through():
    var = ObjectVar(model="dcim.device")
    assert clean(var, "0b1c") == "0b1c"
    assert clean(var, {"name": "r1"}) == {"name": "r1"}
    assert "object id" in reason(var, 1.5)
    assert clean(MultiObjectVar(model="dcim.device"), [1, "2"]) == [1, "2"]
    assert "list" in reason(MultiObjectVar(), 1)
    assert clean(FileVar(), "upload-17") == "upload-17"


def test_ip_vars_parse_into_ipaddress_objects():
    assert clean(IPAddressVar(), "10.0.0.1") == ipaddress.ip_address("10.0.0.1")
    assert "has a mask" in reason(IPAddressVar(), "10.0.0.1/24")
    assert "does not appear" in reason(IPAddressVar(), "10.0.0.300")
    assert clean(IPAddressWithMaskVar(), "2001:db8::1/64") == ipaddress.ip_interface("2001:db8::1/64")
    assert "no mask" in reason(IPAddressWithMaskVar(), "10.0.0.1")
    assert clean(IPNetworkVar(), "10.0.0.5/24") == ipaddress.ip_network("10.0.0.0/24")
    assert "prefix length" in reason(IPNetworkVar(), "10.0.0.0")
    assert "must be a string" in reason(IPNetworkVar(), 10)


def test_json_var_takes_values_or_json_text():
    assert clean(JSONVar(), {"a": [1]}) == {"a": [1]}
    assert clean(JSONVar(), '{"a": [1]}') == {"a": [1]}
    assert "not valid JSON" in reason(JSONVar(), "{oops")


def test_required_default_and_optional():
    assert "required" in reason(StringVar(), present=False)
    assert "required" in reason(StringVar(), "")
    assert clean(StringVar(default="x"), present=False) == "x"
    assert clean(StringVar(required=False), present=False) is None


def test_every_bad_field_is_named_at_once_and_unknown_keys_too():
    cls = job_with(name=StringVar(max_length=3), count=IntegerVar(max_value=2))
    with pytest.raises(ValidationError) as info:
        _meta.validate_input(cls, {"name": "toolong", "count": 9, "colour": "red"})
    assert set(info.value.errors) == {"name", "count", "colour"}
    assert info.value.errors["colour"] == "unknown variable"
    assert "name:" in str(info.value) and "count:" in str(info.value)


def test_bad_options_are_refused_at_declaration():
    with pytest.raises(TypeError, match="min_length must be int"):
        StringVar(min_length="x")
    with pytest.raises(ValueError, match="regex"):
        StringVar(regex="(")
    with pytest.raises(TypeError, match="choices"):
        ChoiceVar(choices="abc")
    with pytest.raises(TypeError, match="max_value"):
        IntegerVar(max_value=True)


# ---- schema, field order, dry run ----

def test_schema_is_deterministic_json_with_the_options():
    cls = job_with(device=StringVar(label="Device", max_length=20),
                   count=IntegerVar(min_value=1, default=2), addr=IPAddressVar(),
                   pick=ChoiceVar(choices=["a", "b"]))
    text = jobs._job_metadata(cls)["variables"]
    assert text == jobs._job_metadata(cls)["variables"]
    schema = json.loads(text)
    assert schema["order"] == ["device", "count", "addr", "pick"]
    assert schema["required"] == ["device", "addr", "pick"]
    assert schema["properties"]["device"] == {"type": "string", "var_type": "StringVar",
                                              "title": "Device", "maxLength": 20}
    assert schema["properties"]["count"]["default"] == 2
    assert schema["properties"]["addr"]["format"] == "ipvanyaddress"
    assert schema["properties"]["pick"]["enum"] == ["a", "b"]


def test_a_job_without_variables_has_an_empty_schema():
    assert jobs._job_metadata(job_with())["variables"] == "{}"


def test_field_order_base_first_most_derived_wins_and_meta_field_order():
    class Base(Job):
        first = StringVar()
        second = StringVar(max_length=1)

    class Derived(Base):
        third = StringVar()
        second = StringVar(max_length=9)

    order = [name for name, _ in _meta.class_variables(Derived)]
    assert order == ["first", "second", "third"]
    assert dict(_meta.class_variables(Derived))["second"].max_length == 9

    class Ordered(Derived):
        class Meta:
            field_order = ["third", "first"]

    assert [n for n, _ in _meta.class_variables(Ordered)] == ["third", "first", "second"]

    class Unknown(Derived):
        class Meta:
            field_order = ["nope"]

    # As Nautobot (Django's order_fields): a name that is no variable is ignored.
    assert [n for n, _ in _meta.class_variables(Unknown)] == ["first", "second", "third"]


def test_dryrun_var_marks_support():
    assert jobs._job_metadata(job_with(dryrun=DryRunVar()))["supports_dryrun"] is True
    assert jobs._job_metadata(job_with(flag=BooleanVar()))["supports_dryrun"] is False


# ---- Meta ----

def test_meta_defaults():
    meta = jobs._job_metadata(job_with())
    assert meta["name"] == "Probe"
    assert meta["description"] == ""
    assert meta["has_sensitive_variables"] is True
    assert (meta["hidden"], meta["dryrun_default"], meta["approval_required"], meta["is_singleton"]) == \
        (False, False, False, False)
    assert meta["soft_time_limit"] == 0.0 and meta["task_queues"] == ()


@pytest.mark.parametrize("field, value, message", [
    ("hidden", "yes", "Probe.Meta.hidden must be a bool, not str ('yes')"),
    ("is_singleton", 1, "Probe.Meta.is_singleton must be a bool, not int (1)"),
    ("soft_time_limit", "10", "Probe.Meta.soft_time_limit must be a number of seconds"),
    ("time_limit", True, "Probe.Meta.time_limit must be a number of seconds"),
    ("task_queues", "default", "Probe.Meta.task_queues must be a list of str"),
    ("name", 5, "Probe.Meta.name must be a non-empty str"),
    ("description", ["x"], "Probe.Meta.description must be a str"),
])
def test_meta_values_of_the_wrong_type_name_class_field_and_value(field, value, message):
    cls = type("Probe", (Job,), {"Meta": type("Meta", (), {field: value})})
    with pytest.raises(TypeError) as info:
        jobs._job_metadata(cls)
    assert str(info.value).startswith(message)


def test_negative_time_limit_is_a_value_error():
    cls = type("Probe", (Job,), {"Meta": type("Meta", (), {"time_limit": -1})})
    with pytest.raises(ValueError, match="time_limit"):
        jobs._job_metadata(cls)


def test_grouping_is_the_module_name_attribute_or_the_module_name():
    module = types.ModuleType("probe_module")
    sys.modules["probe_module"] = module
    try:
        cls = type("Probe", (Job,), {"__module__": "probe_module"})
        assert jobs._job_metadata(cls)["grouping"] == "probe_module"
        module.name = "Network Audits"
        assert jobs._job_metadata(cls)["grouping"] == "Network Audits"
    finally:
        del sys.modules["probe_module"]


# ---- registration and logging ----

def test_register_jobs_refuses_what_is_not_a_job_and_registers_nothing():
    before = list(jobs._unclaimed)

    class Fine(Job):
        pass

    for bad, text in [(lambda: None, "not a Job subclass"), (int, "is not a subclass of Job"),
                      (Job, "is a base class of jobs, not a job")]:
        with pytest.raises(TypeError, match=text):
            register_jobs(Fine, bad)
    assert jobs._unclaimed == before
    register_jobs(Fine)
    assert jobs._unclaimed[-1][0] == __name__ and jobs._unclaimed[-1][1] == (Fine,)


def test_logger_records_reach_the_sink_with_extra():
    seen = []
    _context.log_sink = lambda *record: seen.append(record)
    try:
        job = job_with()()
        job.logger.info("hello %s", "r1", extra={"object": object, "count": 2})
        job.logger.debug("quiet")
    finally:
        _context.log_sink = None
    assert seen[0][:3] == (logging.INFO, "INFO", "hello r1")
    assert seen[0][3]["count"] == 2 and seen[0][3]["object"] == str(object)
    assert seen[1][:3] == (logging.DEBUG, "DEBUG", "quiet")
