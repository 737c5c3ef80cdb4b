"""The job-author API (SPEC 2) and the input validation used by runs (SPEC 5).

Run: cd /work/main && PYTHONPATH=src/py /usr/bin/python3 -m pytest -q tests/python/test_author_api.py
"""
import importlib
import ipaddress
import json
import logging
import math
import os
import subprocess
import sys
import textwrap

import pytest

from jobreg import _compat, _context, _meta, apps, jobs
from jobreg.jobs import (BooleanVar, ChoiceVar, DryRunVar, FileVar, IntegerVar, IPAddressVar,
                         IPAddressWithMaskVar, IPNetworkVar, Job, JSONVar, MultiChoiceVar,
                         MultiObjectVar, ObjectVar, StringVar, TextVar, ValidationError,
                         register_jobs)

SRC_PY = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "src", "py")


@pytest.fixture(autouse=True)
def fresh_state(monkeypatch):
    monkeypatch.setattr(jobs, "_unclaimed", [])
    monkeypatch.setattr(jobs, "_registrar", jobs._default_registrar)
    monkeypatch.setattr(_context, "log_sink", None)
    yield
    _compat.uninstall()


@pytest.fixture
def make_module(tmp_path, monkeypatch):
    """Write ``<name>.py`` into a folder on sys.path and import it."""
    monkeypatch.syspath_prepend(str(tmp_path))
    created = []

    def make(name, text):
        (tmp_path / f"{name}.py").write_text(textwrap.dedent(text))
        importlib.invalidate_caches()
        created.append(name)
        return importlib.import_module(name)

    yield make
    for name in created:
        sys.modules.pop(name, None)


def job_class(name="Sample", meta=None, **variables):
    """A Job subclass with the given Meta attributes and variables."""
    body = dict(variables)
    if meta is not None:
        body["Meta"] = type("Meta", (), dict(meta))
    return type(name, (Job,), body)


def errors_of(cls, data):
    with pytest.raises(ValidationError) as info:
        _meta.validate_input(cls, data)
    return info.value.errors


# --------------------------------------------------------------------------
# register_jobs


def helper():
    pass


class NotAJob:
    pass


class Good(Job):
    pass


@pytest.mark.parametrize("bad, message", [
    (helper, "register_jobs: 'helper' is a function, not a Job subclass"),
    (NotAJob, "class 'NotAJob' is not a subclass of Job"),
    (Job, "class 'Job' is a base class of jobs, not a job"),
    (jobs.JobButtonReceiver, "class 'JobButtonReceiver' is a base class of jobs, not a job"),
    (jobs.JobHookReceiver, "class 'JobHookReceiver' is a base class of jobs, not a job"),
    (42, "42 (an int) is not a Job subclass"),
    (Good(), "pass the class Good, not Good()"),
    (os, "'os' is a module, not a Job subclass"),
])
def test_register_jobs_refuses_a_non_job_and_registers_nothing(bad, message):
    calls = []
    jobs._registrar = lambda *args: calls.append(args)
    with pytest.raises(TypeError) as info:
        register_jobs(Good, bad)
    assert message in str(info.value)
    assert calls == []
    assert jobs._unclaimed == []


def test_register_jobs_names_a_job_class_from_another_api():
    class Job:  # what a job written against another framework's Job looks like
        pass

    class Foreign(Job):
        pass

    with pytest.raises(TypeError, match=r"derives from .*\.Job, which is not jobreg\.jobs\.Job"):
        register_jobs(Foreign)


def test_default_registrar_collects_module_classes_and_position(make_module):
    module = make_module("collected_jobs", """\
        from jobreg.jobs import Job, register_jobs

        class First(Job):
            pass

        class Second(Job):
            pass

        register_jobs(First, Second)
        """)
    assert jobs._unclaimed == [("collected_jobs", (module.First, module.Second), module.__file__, 9)]


def test_register_jobs_hands_the_call_to_the_current_registrar():
    calls = []
    jobs._registrar = lambda *args: calls.append(args)
    register_jobs(Good)
    register_jobs(Good)  # again: allowed, the loader de-duplicates
    assert len(calls) == 2
    module_name, classes, filename, lineno = calls[0]
    assert (module_name, classes, filename) == (__name__, (Good,), __file__)
    assert lineno == calls[1][3] - 1
    assert jobs._unclaimed == []


# --------------------------------------------------------------------------
# Metadata


def test_metadata_defaults():
    meta = jobs._job_metadata(job_class("Plain"))
    assert meta == {
        "name": "Plain", "description": "", "grouping": __name__,
        "hidden": False, "dryrun_default": False, "approval_required": False,
        "has_sensitive_variables": True, "soft_time_limit": 0.0, "time_limit": 0.0,
        "task_queues": (), "is_singleton": False, "supports_dryrun": False, "variables": "{}",
    }
    assert type(meta["time_limit"]) is float


@pytest.mark.parametrize("field, value, expected", [
    ("name", "Cleanup Obsolete Devices", "Cleanup Obsolete Devices"),
    ("hidden", True, True),
    ("dryrun_default", True, True),
    ("has_sensitive_variables", False, False),
    ("is_singleton", True, True),
    ("soft_time_limit", 30, 30.0),
    ("time_limit", 90.5, 90.5),
    ("time_limit", 0, 0.0),
    ("task_queues", ["fast", "slow"], ("fast", "slow")),
    ("task_queues", ("default",), ("default",)),
])
def test_meta_field_good_values(field, value, expected):
    meta = jobs._job_metadata(job_class(meta={field: value}))
    assert meta[field] == expected
    assert type(meta[field]) is type(expected)


def test_approval_required_needs_has_sensitive_variables_off():
    meta = jobs._job_metadata(job_class(meta={"approval_required": True,
                                              "has_sensitive_variables": False}))
    assert meta["approval_required"] is True
    with pytest.raises(ValueError, match=r"Sample\.Meta\.approval_required .*has_sensitive_variables"):
        jobs._job_metadata(job_class(meta={"approval_required": True}))


@pytest.mark.parametrize("field, value, message", [
    ("hidden", "yes", "CleanupDevices.Meta.hidden must be a bool, not str ('yes')"),
    ("dryrun_default", 1, "CleanupDevices.Meta.dryrun_default must be a bool, not int (1)"),
    ("approval_required", None, "CleanupDevices.Meta.approval_required must be a bool, not NoneType"),
    ("has_sensitive_variables", "False", "Meta.has_sensitive_variables must be a bool, not str"),
    ("is_singleton", 0, "CleanupDevices.Meta.is_singleton must be a bool, not int (0)"),
    ("name", 7, "CleanupDevices.Meta.name must be a non-empty str, not int (7)"),
    ("description", ["x"], "CleanupDevices.Meta.description must be a str, not list"),
    ("soft_time_limit", "60", "CleanupDevices.Meta.soft_time_limit must be a number of seconds, not str ('60')"),
    ("time_limit", True, "CleanupDevices.Meta.time_limit must be a number of seconds, not bool (True)"),
    ("task_queues", "default", "CleanupDevices.Meta.task_queues must be a list of str, not str ('default')"),
    ("task_queues", ["a", 2], "CleanupDevices.Meta.task_queues must be a list of str, not list"),
    ("field_order", "abc", "CleanupDevices.Meta.field_order must be a list of variable names"),
    ("field_order", 3, "CleanupDevices.Meta.field_order must be a list of variable names"),
])
def test_meta_field_of_the_wrong_type_is_a_type_error(field, value, message):
    with pytest.raises(TypeError) as info:
        jobs._job_metadata(job_class("CleanupDevices", meta={field: value}))
    assert message in str(info.value)


@pytest.mark.parametrize("field, value", [
    ("time_limit", -1), ("soft_time_limit", -0.5), ("time_limit", math.inf), ("time_limit", math.nan),
])
def test_negative_or_infinite_time_limit_is_a_value_error(field, value):
    with pytest.raises(ValueError, match=rf"CleanupDevices\.Meta\.{field} must be a finite number"):
        jobs._job_metadata(job_class("CleanupDevices", meta={field: value}))


@pytest.mark.parametrize("field, value", [
    ("name", "a\x00b"), ("name", "\ud800"), ("description", "x\x00y"),
    ("task_queues", ["ok", "a\x00b"]), ("task_queues", ["\udcff"]),
])
def test_meta_text_the_library_cannot_copy_is_a_value_error(field, value):
    # The C side copies these as UTF-8 C strings: a NUL would cut them short.
    with pytest.raises(ValueError, match=rf"Sample\.Meta\.{field} (must not contain a NUL|is not valid text)"):
        jobs._job_metadata(job_class(meta={field: value}))


def test_huge_time_limit_is_a_value_error():
    with pytest.raises(ValueError, match=r"Sample\.Meta\.time_limit must be a finite number"):
        jobs._job_metadata(job_class(meta={"time_limit": 10 ** 400}))


def test_empty_name_is_a_value_error():
    with pytest.raises(ValueError, match=r"Sample\.Meta\.name must be a non-empty str, not '  '"):
        jobs._job_metadata(job_class(meta={"name": "  "}))


def test_description_is_dedented_and_stripped():
    cls = job_class(meta={"description": """
        First line.
          Indented line.

        Last line.
    """})
    assert jobs._job_metadata(cls)["description"] == "First line.\n  Indented line.\n\nLast line."
    assert jobs._job_metadata(job_class(meta={"description": "  one line  "}))["description"] == "one line"


def test_meta_is_inherited_as_python_says_and_unknown_fields_are_ignored():
    class Base(Job):
        class Meta:
            hidden = True
            name = "Base name"
            some_future_option = object()

    class Child(Base):
        pass

    class Overrides(Base):
        class Meta(Base.Meta):
            name = "Own name"

    assert jobs._job_metadata(Child)["hidden"] is True
    assert jobs._job_metadata(Child)["name"] == "Base name"
    assert jobs._job_metadata(Overrides)["hidden"] is True
    assert jobs._job_metadata(Overrides)["name"] == "Own name"


def test_metadata_refuses_what_is_not_a_job():
    with pytest.raises(TypeError):
        jobs._job_metadata(NotAJob)


@pytest.mark.parametrize("module_name_line, grouping", [
    ('name = "Device Tools"\n', "Device Tools"),
    ("", None),  # no module-level name: the module's own name
    ("name = 3\n", None),
    ('name = ""\n', None),
])
def test_grouping_is_the_module_name_attribute_else_the_module(make_module, module_name_line, grouping):
    module = make_module("grouped_jobs", module_name_line + textwrap.dedent("""\
        from jobreg.jobs import Job
        class Grouped(Job):
            pass
        """))
    expected = grouping or "grouped_jobs"
    assert jobs._job_metadata(module.Grouped)["grouping"] == expected
    assert module.Grouped.grouping == expected


def test_grouping_with_a_nul_is_a_value_error(make_module):
    module = make_module("nul_grouped", """\
        from jobreg.jobs import Job
        name = "Group\\x00"
        class Grouped(Job):
            pass
        """)
    with pytest.raises(ValueError, match="the grouping .*must not contain a NUL"):
        jobs._job_metadata(module.Grouped)


def test_class_level_conveniences():
    cls = job_class("Conv", meta={"name": "Nice", "description": "\n    Text.\n"})
    assert cls.class_path == f"{__name__}.Conv"
    assert cls.name == "Nice"
    assert cls.description == "Text."
    assert cls().name == "Nice"
    assert Job.class_path == "jobreg.jobs.Job"


def test_run_must_be_defined():
    with pytest.raises(NotImplementedError, match="Plain does not define run"):
        job_class("Plain")().run()


# --------------------------------------------------------------------------
# Declaring variables


@pytest.mark.parametrize("make, exc, fragment", [
    (lambda: StringVar(min_length="x"), TypeError, "StringVar: min_length must be int, not str ('x')"),
    (lambda: StringVar(max_length=True), TypeError, "StringVar: max_length must be int, not bool"),
    (lambda: StringVar(min_length=-1), ValueError, "StringVar: min_length must be >= 0"),
    (lambda: TextVar(min_length=5, max_length=2), ValueError, "TextVar: min_length (5) is greater than max_length (2)"),
    (lambda: StringVar(regex="(unclosed"), ValueError, "StringVar: regex ('(unclosed') is not a valid regular expression"),
    (lambda: StringVar(regex=3), TypeError, "StringVar: regex must be str"),
    (lambda: StringVar(regex="a{4294967296}"), ValueError, "is not a valid regular expression"),
    (lambda: IntegerVar(min_value="1"), TypeError, "IntegerVar: min_value must be int"),
    (lambda: IntegerVar(min_value=10, max_value=1), ValueError, "IntegerVar: min_value (10) is greater than max_value (1)"),
    (lambda: StringVar(required="yes"), TypeError, "StringVar: required must be bool"),
    (lambda: StringVar(label=5), TypeError, "StringVar: label must be str"),
    (lambda: StringVar(description=b"x"), TypeError, "StringVar: description must be str"),
    (lambda: ChoiceVar(choices="abc"), TypeError, "ChoiceVar: choices must be a list"),
    (lambda: ChoiceVar(choices=[("a", "A", "x")]), ValueError, "is not a (value, label) pair"),
    (lambda: ObjectVar(model=5), TypeError, "ObjectVar: model must be str (a model label"),
    (lambda: ObjectVar(model="dcim.device", query_params=["x"]), TypeError, "ObjectVar: query_params must be dict"),
    (lambda: IPNetworkVar(min_prefix_length="8"), TypeError, "IPNetworkVar: min_prefix_length must be int"),
    (lambda: StringVar(min_lenght=3), TypeError, "min_lenght"),
])
def test_bad_variable_options_fail_at_declaration_naming_the_option(make, exc, fragment):
    with pytest.raises(exc) as info:
        make()
    assert type(info.value) is exc
    assert fragment in str(info.value)


def test_object_var_model_from_a_class_and_query_params_kept():
    class Device:
        class _meta:
            label_lower = "dcim.device"

    class Plain:
        pass

    params = {"site": "$site"}
    assert ObjectVar(model=Device).model == "dcim.device"
    assert MultiObjectVar(model=Plain).model == "Plain"
    var = ObjectVar(model="dcim.site", query_params=params)
    assert var.query_params == params
    assert var.schema()["query_params"] == params


# --------------------------------------------------------------------------
# Validating input


def test_string_var_validation():
    cls = job_class(name_=StringVar(min_length=2, max_length=4, regex=r"^R\d+$"),
                    note=TextVar(required=False))
    assert _meta.validate_input(cls, {"name_": "R12"}) == {"name_": "R12", "note": None}
    assert errors_of(cls, {}) == {"name_": "this field is required"}
    assert errors_of(cls, {"name_": ""}) == {"name_": "this field is required"}
    assert errors_of(cls, {"name_": "R"}) == {"name_": "must be at least 2 characters (got 1)"}
    assert errors_of(cls, {"name_": "R1234"}) == {"name_": "must be at most 4 characters (got 5)"}
    assert errors_of(cls, {"name_": "X12"}) == {"name_": "does not match the pattern '^R\\\\d+$'"}
    assert errors_of(cls, {"name_": 12}) == {"name_": "must be a string, not int"}


def test_integer_var_validation():
    cls = job_class(count=IntegerVar(min_value=1, max_value=10))
    for given, expected in ((3, 3), ("7", 7), (" 8 ", 8), ("+9", 9), (4.0, 4)):
        assert _meta.validate_input(cls, {"count": given}) == {"count": expected}
    assert errors_of(cls, {"count": 12}) == {"count": "must be at most 10 (got 12)"}
    assert errors_of(cls, {"count": "0"}) == {"count": "must be at least 1 (got 0)"}
    for bad in ("abc", "1_0", "1.5", 2.5, True, [1], "9" * 5000, math.inf):
        assert "must be a whole number" in errors_of(cls, {"count": bad})["count"]
    assert errors_of(cls, {}) == {"count": "this field is required"}


def test_boolean_var_is_never_required():
    cls = job_class(loud=BooleanVar(), quiet=BooleanVar(default=True))
    assert _meta.validate_input(cls, {}) == {"loud": False, "quiet": True}
    assert _meta.validate_input(cls, {"loud": True, "quiet": False}) == {"loud": True, "quiet": False}
    assert _meta.validate_input(cls, {"loud": "TRUE"})["loud"] is True
    assert errors_of(cls, {"loud": "yes", "quiet": 1}) == {
        "loud": "must be true or false (got 'yes')", "quiet": "must be true or false (got 1)"}
    assert BooleanVar(required=True).required is False


def test_dry_run_var_follows_meta_dryrun_default_when_missing():
    cls = job_class(meta={"dryrun_default": True}, dryrun=DryRunVar())
    assert jobs._job_metadata(cls)["supports_dryrun"] is True
    assert _meta.validate_input(cls, {}) == {"dryrun": True}
    assert _meta.validate_input(cls, {"dryrun": False}) == {"dryrun": False}
    assert _meta.validate_input(job_class(dryrun=DryRunVar()), {}) == {"dryrun": False}


def test_choice_var_validation():
    cls = job_class(colour=ChoiceVar(choices=[("r", "Red"), ("g", "Green")]),
                    size=ChoiceVar(choices=[1, 2, 3], required=False))
    assert _meta.validate_input(cls, {"colour": "g", "size": "2"}) == {"colour": "g", "size": 2}
    assert _meta.validate_input(cls, {"colour": "r"}) == {"colour": "r", "size": None}
    errors = errors_of(cls, {"colour": "Red", "size": True})
    assert errors == {"colour": "'Red' is not one of the choices ('r', 'g')",
                      "size": "True is not one of the choices (1, 2, 3)"}


def test_choice_var_accepts_grouped_and_callable_choices():
    class Status:  # like Nautobot's ChoiceSet: calling it gives the choices
        def __new__(cls):
            return (("active", "Active"), ("planned", "Planned"))

    grouped = ChoiceVar(choices=[("Common", [("a", "A"), ("b", "B")]), ("c", "C")])
    assert [value for value, _ in grouped.choices] == ["a", "b", "c"]
    assert [value for value, _ in ChoiceVar(choices=Status).choices] == ["active", "planned"]


def test_multi_choice_var_validation():
    cls = job_class(tags=MultiChoiceVar(choices=["a", "b", "c"]),
                    extra=MultiChoiceVar(choices=["x"], required=False))
    assert _meta.validate_input(cls, {"tags": ["c", "a"]}) == {"tags": ["c", "a"], "extra": []}
    assert errors_of(cls, {"tags": []}) == {"tags": "this field is required"}
    assert errors_of(cls, {"tags": "a"}) == {"tags": "must be a list of choices, not str"}
    assert errors_of(cls, {"tags": ["a", "z", "q"]}) == {
        "tags": "not one of the choices ('a', 'b', 'c'): 'z', 'q'"}


def test_object_and_file_vars_pass_values_through():
    cls = job_class(device=ObjectVar(model="dcim.device"),
                    devices=MultiObjectVar(model="dcim.device", required=False),
                    upload=FileVar(required=False))
    data = {"device": {"id": 1}, "devices": ["a-uuid", 7], "upload": "file-key"}
    assert _meta.validate_input(cls, data) == data
    assert _meta.validate_input(cls, {"device": 5}) == {"device": 5, "devices": [], "upload": None}
    assert _meta.validate_input(cls, {"device": "x", "upload": 17})["upload"] == 17  # an upload id
    errors = errors_of(cls, {"device": True, "devices": "a-uuid", "upload": 1.5})
    assert set(errors) == {"device", "devices", "upload"}
    assert errors["devices"] == "must be a list of object ids, not str"


def test_ip_vars_return_ipaddress_objects():
    cls = job_class(address=IPAddressVar(), interface=IPAddressWithMaskVar(),
                    network=IPNetworkVar(min_prefix_length=8, max_prefix_length=30))
    cleaned = _meta.validate_input(cls, {"address": "2001:db8::1", "interface": "10.0.0.1/24",
                                         "network": "10.1.2.3/24"})
    assert cleaned == {"address": ipaddress.ip_address("2001:db8::1"),
                       "interface": ipaddress.ip_interface("10.0.0.1/24"),
                       "network": ipaddress.ip_network("10.1.2.0/24")}
    errors = errors_of(cls, {"address": "10.0.0.1/32", "interface": "10.0.0.1",
                             "network": "10.0.0.0/31"})
    assert "has a mask" in errors["address"]
    assert "has no mask" in errors["interface"]
    assert errors["network"] == "the prefix length must be at most 30 (got 31)"
    errors = errors_of(cls, {"address": "300.1.1.1", "interface": 5, "network": "10.0.0.0"})
    assert "does not appear to be an IPv4 or IPv6 address" in errors["address"]
    assert errors["interface"] == "must be a string, not int"
    assert "has no prefix length" in errors["network"]


def test_json_var_takes_a_value_or_a_json_text():
    cls = job_class(payload=JSONVar())
    assert _meta.validate_input(cls, {"payload": {"a": [1]}}) == {"payload": {"a": [1]}}
    assert _meta.validate_input(cls, {"payload": "[1, 2]"}) == {"payload": [1, 2]}
    assert _meta.validate_input(cls, {"payload": '"text"'}) == {"payload": "text"}
    assert errors_of(cls, {"payload": "{not json"})["payload"].startswith("is not valid JSON")
    assert errors_of(cls, {"payload": object()}) == {"payload": "must be a JSON value, not object"}
    assert "NaN is not a JSON number" in errors_of(cls, {"payload": "[NaN]"})["payload"]
    assert errors_of(cls, {"payload": "[" * 100000})["payload"] == "is not valid JSON: nested too deeply"
    assert errors_of(cls, {"payload": {"a": {1, 2}}})["payload"].startswith("is not a JSON value")
    assert "default" not in JSONVar(default=[math.nan]).schema()  # kept, never used


def test_every_problem_is_reported_together():
    cls = job_class(count=IntegerVar(max_value=10), who=StringVar(), ok=StringVar(default="x"))
    with pytest.raises(ValidationError) as info:
        _meta.validate_input(cls, {"count": 12, "colour": "red"})
    assert isinstance(info.value, ValueError)
    assert info.value.errors == {"count": "must be at most 10 (got 12)",
                                 "who": "this field is required",
                                 "colour": "unknown variable"}
    message = str(info.value)
    message.encode("utf-8")
    for fragment in ("count: must be at most 10 (got 12)", "who: this field is required",
                     "colour: unknown variable"):
        assert fragment in message


def test_validation_message_survives_a_lone_surrogate_in_the_input():
    with pytest.raises(ValidationError) as info:
        _meta.validate_input(job_class(), {"bad\ud800key": 1})
    assert info.value.errors == {"bad\ud800key": "unknown variable"}
    assert str(info.value).encode("utf-8") == b"bad\\ud800key: unknown variable"


def test_defaults_are_filled_in_and_never_shared_between_runs():
    cls = job_class(count=IntegerVar(default=3), options=JSONVar(default={"a": []}),
                    net=IPNetworkVar(default="10.0.0.0/8"))
    first = _meta.validate_input(cls, {})
    assert first == {"count": 3, "options": {"a": []}, "net": ipaddress.ip_network("10.0.0.0/8")}
    first["options"]["a"].append("changed by a run")
    assert _meta.validate_input(cls, {})["options"] == {"a": []}


def test_input_must_be_a_dict():
    with pytest.raises(ValidationError) as info:
        _meta.validate_input(job_class(), [1, 2])
    assert "(input)" in info.value.errors
    assert _meta.validate_input(job_class(), None) == {}


# --------------------------------------------------------------------------
# Field order


def test_variables_of_base_classes_come_first_and_overrides_keep_their_place():
    class Base(Job):
        a = StringVar()
        b = IntegerVar()

    class Child(Base):
        c = StringVar()
        a = IntegerVar(default=1)  # redefined: most derived var, base's place

    names = [name for name, _ in _meta.class_variables(Child)]
    assert names == ["a", "b", "c"]
    assert isinstance(dict(_meta.class_variables(Child))["a"], IntegerVar)

    class Removes(Child):
        b = None  # no longer a variable

    assert [name for name, _ in _meta.class_variables(Removes)] == ["a", "c"]


def test_meta_field_order_moves_names_first():
    class Ordered(Job):
        a = StringVar()
        b = StringVar()
        c = StringVar()
        d = StringVar()

        class Meta:
            field_order = ["c", "a"]

    assert [name for name, _ in _meta.class_variables(Ordered)] == ["c", "a", "b", "d"]
    assert json.loads(jobs._job_metadata(Ordered)["variables"])["order"] == ["c", "a", "b", "d"]


def test_meta_field_order_ignores_unknown_and_repeated_names_as_nautobot_does():
    cls = job_class(meta={"field_order": ["zz", "b", "b", 3, "a"]}, a=StringVar(), b=StringVar())
    assert [name for name, _ in _meta.class_variables(cls)] == ["b", "a"]
    assert json.loads(jobs._job_metadata(cls)["variables"])["order"] == ["b", "a"]


# --------------------------------------------------------------------------
# Schema


def schema_job():
    class Everything(Job):
        who = StringVar(label="Who", description="the target", min_length=1, max_length=20, regex="^R")
        count = IntegerVar(min_value=1, max_value=5, default=2)
        loud = BooleanVar()
        colour = ChoiceVar(choices=[("r", "Red"), ("g", "Green")])
        tags = MultiChoiceVar(choices=[1, 2])
        device = ObjectVar(model="dcim.device")
        address = IPAddressVar(required=False)
        interface = IPAddressWithMaskVar(required=False)
        network = IPNetworkVar(default=ipaddress.ip_network("10.0.0.0/8"))
        payload = JSONVar(required=False)
        upload = FileVar(required=False)
        dryrun = DryRunVar()
    return Everything


def test_schema_describes_every_variable():
    text = jobs._job_metadata(schema_job())["variables"]
    assert '"maxLength": 20' in text  # the separators the C tests rely on
    schema = json.loads(text)
    assert schema["type"] == "object"
    assert schema["order"] == ["who", "count", "loud", "colour", "tags", "device", "address",
                               "interface", "network", "payload", "upload", "dryrun"]
    assert schema["required"] == ["who", "colour", "tags", "device"]
    props = schema["properties"]
    assert props["who"] == {"type": "string", "var_type": "StringVar", "title": "Who",
                            "description": "the target", "minLength": 1, "maxLength": 20,
                            "pattern": "^R"}
    assert props["count"] == {"type": "integer", "var_type": "IntegerVar", "default": 2,
                              "minimum": 1, "maximum": 5}
    assert props["loud"] == {"type": "boolean", "var_type": "BooleanVar"}
    assert props["colour"] == {"type": "string", "var_type": "ChoiceVar", "enum": ["r", "g"],
                               "enumNames": ["Red", "Green"]}
    assert props["tags"]["type"] == "array"
    assert props["tags"]["items"] == {"type": "integer", "enum": [1, 2], "enumNames": ["1", "2"]}
    assert props["device"]["model"] == "dcim.device"
    assert props["address"]["format"] == "ipvanyaddress"
    assert props["interface"]["format"] == "ipvanyinterface"
    assert props["network"]["format"] == "ipvanynetwork"
    assert props["network"]["default"] == "10.0.0.0/8"  # not JSON: stored with str()
    assert props["dryrun"] == {"type": "boolean", "var_type": "DryRunVar"}
    assert {name: p["var_type"] for name, p in props.items()}["payload"] == "JSONVar"


def test_schema_text_is_deterministic():
    first = jobs._job_metadata(schema_job())["variables"]
    second = jobs._job_metadata(schema_job())["variables"]
    assert first == second
    assert first == json.dumps(json.loads(first), sort_keys=True)


def test_schema_of_a_job_without_variables_is_empty():
    assert jobs._job_metadata(job_class())["variables"] == "{}"


def test_schema_never_holds_non_standard_json():
    cls = job_class(level=ChoiceVar(choices=[math.inf, 1]), ref=ObjectVar(default=math.nan),
                    deep=ObjectVar(default={1: "int key", "b": {2, 3}}))
    text = jobs._job_metadata(cls)["variables"]
    schema = json.loads(text, parse_constant=lambda name: pytest.fail(f"{name} in schema"))
    assert schema["properties"]["level"]["enum"] == ["inf", 1]
    assert schema["properties"]["ref"]["default"] == "nan"
    assert schema["properties"]["deep"]["default"] == {"1": "int key", "b": "{2, 3}"}


# --------------------------------------------------------------------------
# Logging


class Chatty(Job):
    def run(self, who="R1"):
        self.logger.info("greeting %s", who, extra={"object": ipaddress.ip_address("10.0.0.1"),
                                                     "times": 2, "ok": True, "none": None})
        self.logger.debug("details")


def test_logger_records_reach_the_sink_with_their_extra(caplog):
    received = []
    _context.log_sink = lambda *args: received.append(args)
    caplog.set_level(logging.DEBUG)
    Chatty().run()
    assert received == [
        (logging.INFO, "INFO", "greeting R1",
         {"object": "10.0.0.1", "times": 2, "ok": True, "none": None}),
        (logging.DEBUG, "DEBUG", "details", {}),
    ]
    assert caplog.records == []  # nothing reached the root logger too


def test_logger_without_a_sink_logs_through_the_root_logger(caplog):
    caplog.set_level(logging.INFO)
    Chatty().run()
    assert [record.getMessage() for record in caplog.records] == ["greeting R1"]


def test_a_failing_sink_does_not_break_the_job(capsys):
    def broken(*args):
        raise RuntimeError("host went away")

    _context.log_sink = broken
    Chatty().run()  # no exception
    assert "host went away" in capsys.readouterr().err


def test_logging_follows_a_fresh_execution_of_the_module():
    """A library restarted in a living interpreter runs its modules again, and
    with them jobreg._context (where self.logger's handler lives): its sink wins."""
    import types

    Chatty().run()  # the current module's handler is in place
    fresh = types.ModuleType("jobreg._context")
    with open(os.path.join(SRC_PY, "jobreg", "_context.py")) as f:
        exec(compile(f.read(), "<jobreg>/jobreg/_context.py", "exec"), vars(fresh))
    old_records, new_records = [], []
    _context.log_sink = lambda *args: old_records.append(args)
    fresh.log_sink = lambda *args: new_records.append(args)
    try:
        FreshJob = type("FreshJob", (Job,), {})
        fresh.job_logger(FreshJob).warning("from the new module")
        assert [r[2] for r in new_records] == ["from the new module"]
        assert old_records == []
        handlers = logging.getLogger("jobreg.job").handlers
        assert len([h for h in handlers if hasattr(h, "_jobreg_token")]) == 1
    finally:
        fresh.log_sink = None
        Chatty().logger  # the module under test takes the handler back
    Chatty().run()
    assert [r[2] for r in old_records] == ["greeting R1", "details"]
    assert len(new_records) == 1


def test_logger_is_a_logging_logger():
    job = Chatty()
    assert isinstance(job.logger, logging.Logger)
    assert job.logger is job.logger


# --------------------------------------------------------------------------
# Nautobot compatibility


def test_compat_modules_hold_the_very_same_objects():
    assert "nautobot" not in sys.modules
    assert _compat.install(True) is True
    import nautobot.apps.jobs as compat_jobs
    from nautobot.apps.apps import NautobotAppConfig
    from nautobot.apps import NautobotAppConfig as via_apps

    import nautobot.extras.jobs as extras_jobs
    from nautobot.core.celery import register_jobs as celery_register_jobs

    assert sorted(compat_jobs.__all__) == sorted(jobs.NAUTOBOT_APPS_JOBS)
    for name in jobs.NAUTOBOT_APPS_JOBS:
        assert getattr(compat_jobs, name) is getattr(jobs, name), name
    for name in jobs.__all__:
        assert getattr(extras_jobs, name) is getattr(jobs, name), name
    assert extras_jobs.get_task_logger is jobs.get_task_logger
    assert celery_register_jobs is jobs.register_jobs
    assert compat_jobs.Job is jobs.Job
    assert compat_jobs.register_jobs is jobs.register_jobs
    assert NautobotAppConfig is apps.AppConfig is via_apps
    for name in ("nautobot", "nautobot.apps", "nautobot.apps.jobs", "nautobot.apps.apps",
                 "nautobot.extras", "nautobot.extras.jobs", "nautobot.core", "nautobot.core.celery"):
        assert sys.modules[name].__jobreg_compat__ is True
    assert sys.modules["nautobot"].apps is sys.modules["nautobot.apps"]
    assert sys.modules["nautobot.apps"].jobs is compat_jobs
    assert list(sys.modules["nautobot"].__path__) == []  # no host portion on sys.path
    with pytest.raises(ModuleNotFoundError):
        importlib.import_module("nautobot.dcim.models")
    assert _compat.install(True) is True  # again: nothing changes
    assert sys.modules["nautobot.apps.jobs"] is compat_jobs


def test_compat_uninstall_removes_exactly_what_install_added():
    before = set(sys.modules)
    _compat.install(True)
    _compat.uninstall()
    assert set(sys.modules) == before


def test_compat_off_installs_nothing():
    assert _compat.install(False) is False
    assert "nautobot" not in sys.modules


def test_compat_refused_when_a_real_nautobot_is_importable(tmp_path, monkeypatch):
    (tmp_path / "nautobot" / "apps").mkdir(parents=True)
    (tmp_path / "nautobot" / "__init__.py").write_text("IS_THE_REAL_ONE = True\n")
    (tmp_path / "nautobot" / "apps" / "__init__.py").write_text("")
    (tmp_path / "nautobot" / "apps" / "jobs.py").write_text("")
    monkeypatch.syspath_prepend(str(tmp_path))
    assert _compat.install(True) is False
    assert not any(name == "nautobot" or name.startswith("nautobot.") for name in sys.modules)
    import nautobot
    try:
        assert nautobot.IS_THE_REAL_ONE
        assert _compat.install(True) is False  # loaded now: still refused
    finally:
        del sys.modules["nautobot"]


def test_nautobot_style_job_module_loads_with_compat(make_module):
    _compat.install(True)
    module = make_module("device_jobs", """\
        from nautobot.apps.jobs import Job, register_jobs, StringVar

        name = "Devices"

        class CleanupDevices(Job):
            target = StringVar()

            class Meta:
                name = "Cleanup Obsolete Devices"

            def run(self, target):
                self.logger.info("Cleaning %s", target)

        register_jobs(CleanupDevices)
        """)
    assert jobs._unclaimed[0][:2] == ("device_jobs", (module.CleanupDevices,))
    meta = jobs._job_metadata(module.CleanupDevices)
    assert (meta["name"], meta["grouping"]) == ("Cleanup Obsolete Devices", "Devices")


# --------------------------------------------------------------------------
# App configuration


class DefaultConfig(apps.AppConfig):
    name = "my_app"


class ExplicitConfig(apps.AppConfig):
    name = "my_app"
    jobs = "my_app.jobs"


class InheritsExplicit(ExplicitConfig):
    pass


@pytest.mark.parametrize("config, expected", [
    (DefaultConfig, ("jobs", False)),
    (DefaultConfig(), ("jobs", False)),
    (ExplicitConfig, ("my_app.jobs", True)),
    (ExplicitConfig("my_app", None), ("my_app.jobs", True)),
    (InheritsExplicit, ("my_app.jobs", True)),
    (apps.AppConfig, ("jobs", False)),
])
def test_app_jobs_setting_explicit_or_default(config, expected):
    assert apps._jobs_module_setting(config) == expected


def test_app_jobs_set_on_an_instance_is_explicit():
    config = DefaultConfig()
    config.jobs = "tasks.jobs"
    assert apps._jobs_module_setting(config) == ("tasks.jobs", True)


def test_app_jobs_from_a_framework_base_is_not_explicit():
    # A real Nautobot's NautobotAppConfig sets jobs itself; it is no choice of the app.
    FrameworkBase = type("NautobotAppConfig", (), {"jobs": "jobs", "__module__": "nautobot.apps"})
    AppOnFramework = type("AppOnFramework", (FrameworkBase,), {"name": "x"})
    assert apps._jobs_module_setting(AppOnFramework) == ("jobs", False)


@pytest.mark.parametrize("value, exc", [(None, TypeError), (["jobs"], TypeError), ("", ValueError),
                                        ("my-app/jobs", ValueError), (".jobs", ValueError)])
def test_app_jobs_setting_must_be_a_module_path(value, exc):
    config = type("BadConfig", (apps.AppConfig,), {"jobs": value})
    with pytest.raises(exc, match="BadConfig.jobs must be"):
        apps._jobs_module_setting(config)


def test_app_config_init_is_django_like():
    config = DefaultConfig("other_name", "module-object")
    assert (config.name, config.module) == ("other_name", "module-object")
    assert apps.NautobotAppConfig is apps.AppConfig
    assert DefaultConfig().ready() is None


# --------------------------------------------------------------------------
# As the C library runs them: source text, no __file__, cheap


def test_modules_run_from_source_text_without_heavy_imports():
    """Executed as src/pyembed.c does; importing them pulls in no heavy module."""
    script = textwrap.dedent("""\
        import sys, types
        base, heavy = sys.argv[1], ("logging", "json", "re", "ipaddress", "textwrap", "inspect")
        already = {name for name in heavy if name in sys.modules}
        for name, rel, package in (("jobreg", "jobreg/__init__.py", True),
                                   ("jobreg._variables", "jobreg/_variables.py", False),
                                   ("jobreg._meta", "jobreg/_meta.py", False),
                                   ("jobreg._context", "jobreg/_context.py", False),
                                   ("jobreg.jobs", "jobreg/jobs.py", False),
                                   ("jobreg.apps", "jobreg/apps.py", False),
                                   ("jobreg._compat", "jobreg/_compat.py", False)):
            module = types.ModuleType(name)
            if package:
                module.__path__ = []
            code = compile(open(base + "/" + rel).read(), "<jobreg>/" + rel, "exec")
            sys.modules[name] = module
            exec(code, vars(module))
            if "." in name:
                setattr(sys.modules["jobreg"], name.rpartition(".")[2], module)
        assert sys.modules["jobreg._compat"].install(True)
        loaded = sorted(name for name in heavy if name in sys.modules and name not in already)
        assert not loaded, loaded
        import nautobot.apps.jobs
        assert nautobot.apps.jobs.Job is sys.modules["jobreg.jobs"].Job
        print("ok")
        """)
    env = dict(os.environ, PYTHONPATH="")
    done = subprocess.run([sys.executable, "-I", "-S", "-c", script, SRC_PY],
                          capture_output=True, text=True, env=env, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "ok"


@pytest.mark.parametrize("var, reason", [
    (IntegerVar(min_value=1, default=0), "its default (0) is not a valid value: must be at least 1"),
    (ChoiceVar(choices=["a"], default="b"), "its default ('b') is not a valid value"),
    (IPAddressVar(default="not an ip"), "its default ('not an ip') is not a valid value"),
    (StringVar(default=[]), "its default ([]) is not a valid value: must be a string, not list"),
])
def test_a_default_that_is_no_valid_value_loads_as_in_nautobot_but_is_never_used(var, reason):
    assert "default" not in var.schema()
    assert var.is_required()
    cls = job_class(field=var)
    with pytest.raises(ValidationError) as info:
        _meta.validate_input(cls, {})
    assert info.value.errors["field"].startswith(f"this field is required ({reason}")
    var.required = False  # not required: left out, it is empty, as Nautobot's forms leave it
    assert _meta.validate_input(cls, {})["field"] == var.empty_value()
