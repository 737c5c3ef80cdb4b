"""jobreg._meta (the author API): reading a job class: its Meta, its variables, its input.

Nothing here is for job authors: ``jobreg.jobs`` (the façade) uses the
readers for ``Job.name``, ``Job.description`` and ``Job.grouping``; the
loader (``jobreg._loader``) hands ``job_fields(cls)`` to C for every job it
loads; the runner (``jobreg._runner``) checks a run's input with
``validate_input()``. The rules (Meta values, variables, input) where SPEC is
silent are listed in ``jobreg.jobs``'s docstring.

The fields ``job_fields()`` returns are those of ``src/job_fields.h`` whose
origin is META; ``tests/python/test_job_fields.py`` holds the two to the same
list. The library runs this module at every start-up: ``json`` and
``textwrap`` are imported where they are needed.
"""

import sys

from jobreg._variables import BooleanVar, DryRunVar, Invalid, ScriptVariable, ValidationError

# --------------------------------------------------------------------------
# Meta values

def meta_error(cls, field, expected, value):
    return TypeError(f"{cls.__name__}.Meta.{field} must be {expected}, not "
                     f"{type(value).__name__} ({value!r:.80})")


def check_text(what, value):
    """ValueError unless ``value`` can be copied to C as it is (UTF-8, no NUL)."""
    if str.isascii(value) and "\x00" not in value:  # the usual case: nothing to encode
        return value
    if "\x00" in value:
        raise ValueError(f"{what} must not contain a NUL character ({value!r:.80})")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError(f"{what} is not valid text: it holds a lone surrogate ({value!r:.80})") from None
    return value


def meta_name(cls):
    """``Meta.name``, else the class name (``Job.name``)."""
    name = getattr(cls.Meta, "name", cls.__name__)
    if not isinstance(name, str):
        raise meta_error(cls, "name", "a non-empty str", name)
    if not name.strip():
        raise ValueError(f"{cls.__name__}.Meta.name must be a non-empty str, not {name!r}")
    if str.isascii(name) and "\x00" not in name:  # as check_text, without making its message
        return name
    return check_text(f"{cls.__name__}.Meta.name", name)


def meta_description(cls):
    """``Meta.description``, dedented and stripped (``Job.description``)."""
    description = getattr(cls.Meta, "description", "")
    if not isinstance(description, str):
        raise meta_error(cls, "description", "a str", description)
    if "\n" in description:
        import textwrap

        description = textwrap.dedent(description)
    description = description.strip()
    if str.isascii(description) and "\x00" not in description:  # as check_text
        return description
    return check_text(f"{cls.__name__}.Meta.description", description)


def grouping(cls):
    """The ``name`` of the defining module, else the module's name (``Job.grouping``)."""
    module_name = getattr(sys.modules.get(cls.__module__), "name", None)
    if isinstance(module_name, str) and module_name:
        if str.isascii(module_name) and "\x00" not in module_name:  # as check_text
            return module_name
        return check_text(f"the grouping (module {cls.__module__}'s name)", module_name)
    return cls.__module__


# --------------------------------------------------------------------------
# Variables and their schema

def class_variables(cls):
    """The job's variables in form order: ``[(name, var)]``.

    Base classes first; a name redefined below keeps its place and takes the
    most derived variable (redefined as something else, it is no variable).
    ``Meta.field_order`` then moves the names it lists to the front.
    """
    fields = {}
    for klass in reversed(cls.__mro__):
        # object comes first and holds no variable: with nothing found yet,
        # its many attributes could only be skipped one by one.
        if klass is object:
            continue
        for name, value in vars(klass).items():
            if isinstance(value, ScriptVariable):
                fields[name] = value
            elif name in fields:
                del fields[name]
    meta = cls.Meta
    own = own_meta(meta)
    order = None if own is not None and "field_order" not in own else \
        getattr(meta, "field_order", None)
    if order is None:
        return list(fields.items())
    if isinstance(order, str) or not isinstance(order, (list, tuple)):
        raise meta_error(cls, "field_order", "a list of variable names", order)
    # As Django's Form.order_fields: names that are no variable (or come
    # twice) are ignored, the rest follow in their own order.
    ordered = {}
    for name in order:
        if isinstance(name, str) and name in fields and name not in ordered:
            ordered[name] = fields[name]
    for name, var in fields.items():
        if name not in ordered:
            ordered[name] = var
    return list(ordered.items())


def _not_serializable(value):
    # json.JSONEncoder.default's very error.
    raise TypeError(f"Object of type {value.__class__.__name__} is not JSON serializable")


# How dumps_sorted makes its encoder; set at its first call (False: no _json).
_make_encoder = None


def dumps_sorted(value):
    """``json.dumps(value, sort_keys=True, allow_nan=False)``: the same text.

    json.dumps() with options builds a JSONEncoder and runs three Python
    functions before its C encoder starts; this makes that C encoder (of the
    ``_json`` module that json uses) with the very arguments json.dumps()
    gives it. Importing json would also import re, enum and collections,
    which nothing else needs while jobs load.
    """
    global _make_encoder
    if _make_encoder is None:
        try:
            from _json import encode_basestring_ascii, make_encoder
        except ImportError:
            _make_encoder = False
        else:
            def _make_encoder():
                # markers: a fresh dict each time, as json.dumps (check_circular)
                return make_encoder({}, _not_serializable, encode_basestring_ascii, None,
                                    ": ", ", ", True, False, False)
    if _make_encoder is False:
        import json

        return json.dumps(value, sort_keys=True, allow_nan=False)
    return "".join(_make_encoder()(value, 0))


def schema(variables):
    if not variables:
        return "{}"
    properties, required, order = {}, [], []
    for name, var in variables:
        properties[name] = var.schema()
    for name, var in variables:
        if var.is_required():
            required.append(name)
        order.append(name)
    return dumps_sorted({"type": "object", "properties": properties, "required": required,
                          "order": order})


# --------------------------------------------------------------------------
# The fields of a job

_META_BOOLS = (
    ("hidden", False),
    ("dryrun_default", False),
    ("approval_required", False),
    ("has_sensitive_variables", True),
    ("is_singleton", False),
)


def own_meta(meta):
    """The ``__dict__`` of a plain ``class Meta:`` (no base, no metaclass), else None.

    For such a class ``getattr(meta, field, default)`` is ``default`` exactly
    when ``field`` is not in that dict (no Meta field is an attribute of
    ``object`` or ``type``), which the readers below then know without
    getattr() raising and catching an AttributeError for every field left out.
    """
    if type(meta) is type and meta.__bases__ == (object,):
        return meta.__dict__
    return None


def job_fields(cls):
    """What the registry and the records take from the job class ``cls`` (SPEC 2
    and 4): a dict with one key per META field of ``src/job_fields.h``, in
    its order, which the loader hands to C (``src/loader.c`` reads it by key).

    TEXT fields are ``str``, BOOL ``bool``, REAL ``float``, ``task_queues``
    (LIST) a tuple of ``str``, ``variables`` (OBJECT) the JSON schema's text.
    ``cls`` must be a job class (registered, or ``jobreg.jobs.is_job()``);
    ``jobreg.jobs._job_metadata()`` checks that first.
    Runs for every job at every load: one dict, few calls.
    """
    meta = cls.Meta
    name = meta_name(cls)
    description = meta_description(cls)
    own = own_meta(meta)
    flags = []
    for field, default in _META_BOOLS:
        if own is not None and field not in own:
            flags.append(default)
            continue
        value = getattr(meta, field, default)
        if not isinstance(value, bool):
            raise meta_error(cls, field, "a bool", value)
        flags.append(value)
    hidden, dryrun_default, approval_required, has_sensitive_variables, is_singleton = flags
    if approval_required and has_sensitive_variables:
        raise ValueError(f"{cls.__name__}.Meta.approval_required cannot be True while "
                         "has_sensitive_variables is True (the default): sensitive input is not "
                         "kept for an approver to see; set has_sensitive_variables = False")
    limits = []
    for field in ("soft_time_limit", "time_limit"):
        if own is not None and field not in own:
            limits.append(0.0)
            continue
        value = getattr(meta, field, 0.0)
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise meta_error(cls, field, "a number of seconds", value)
        try:
            seconds = float(value)
        except OverflowError:
            seconds = float("inf")
        if not (seconds >= 0 and seconds - seconds == 0):  # refuses NaN and infinity too
            raise ValueError(f"{cls.__name__}.Meta.{field} must be a finite number of seconds "
                             f">= 0, not {value!r:.80}")
        limits.append(seconds)
    if own is not None and "task_queues" not in own:
        queues = ()
    else:
        queues = getattr(meta, "task_queues", ())
        if not isinstance(queues, (list, tuple)):
            raise meta_error(cls, "task_queues", "a list of str", queues)
        for queue in queues:
            if not isinstance(queue, str):
                raise meta_error(cls, "task_queues", "a list of str", queues)
        for queue in queues:
            check_text(f"{cls.__name__}.Meta.task_queues", queue)
        queues = tuple(queues)
    group = grouping(cls)
    variables = class_variables(cls)
    supports_dryrun = False
    for _, var in variables:
        if isinstance(var, DryRunVar):
            supports_dryrun = True
            break
    if is_1x(cls):
        commit = commit_variable(cls)
        if commit is not None:
            variables.append(("commit", commit))
            supports_dryrun = True
            dryrun_default = not commit.default
    return {"grouping": group, "name": name, "description": description,
            "hidden": hidden, "dryrun_default": dryrun_default,
            "approval_required": approval_required,
            "has_sensitive_variables": has_sensitive_variables,
            "soft_time_limit": limits[0], "time_limit": limits[1], "task_queues": queues,
            "is_singleton": is_singleton, "supports_dryrun": supports_dryrun,
            "variables": schema(variables)}

# --------------------------------------------------------------------------
# Nautobot 1.x jobs (opt-in per source, SPEC 2)

def runs_1x_style(cls):
    """Whether ``cls.run`` takes 1.x's ``(data, commit)``."""
    code = getattr(getattr(cls, "run", None), "__code__", None)
    if code is None:
        return False
    names = code.co_varnames[1:code.co_argcount + code.co_kwonlyargcount]
    return "data" in names and "commit" in names


def mark_1x(cls):
    """Marks a job a 1.x-mode source loaded whose run() is 1.x style."""
    if runs_1x_style(cls):
        type.__setattr__(cls, "_jobreg_nautobot_1x", True)


def is_1x(cls):
    return cls.__dict__.get("_jobreg_nautobot_1x") is True


def _meta_flag(cls, field, default):
    value = getattr(cls.Meta, field, default)
    if not isinstance(value, bool):
        raise meta_error(cls, field, "a bool", value)
    return value


def commit_variable(cls):
    """1.x's "commit" checkbox (default ``Meta.commit_default``, true), or
    None for a ``Meta.read_only`` job, which always runs with commit false."""
    commit_default = _meta_flag(cls, "commit_default", True)
    if _meta_flag(cls, "read_only", False):
        return None
    return BooleanVar(label="Commit changes", default=commit_default,
                      description="Commit changes to the database (uncheck for a dry run)")


# --------------------------------------------------------------------------
# Input of a run

class _ReadOnlyCommit(BooleanVar):
    """A read-only 1.x job's commit: always False, whatever the input says."""

    def resolve(self, present, value):
        return False


_READ_ONLY_COMMIT = _ReadOnlyCommit()


def validate_input(cls, data):
    """The kwargs for ``cls().run(**kwargs)`` from ``data``, or ValidationError
    naming every field at fault."""
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ValidationError({"(input)": "must be an object of variable names to values, "
                                          f"not {type(data).__name__}"})
    variables = class_variables(cls)
    if is_1x(cls):
        commit = commit_variable(cls)
        variables.append(("commit", commit if commit is not None else _READ_ONLY_COMMIT))
    errors, kwargs = {}, {}
    for name, var in variables:
        present = name in data
        try:
            if isinstance(var, DryRunVar) and var._is_empty(data.get(name)) and var.default is None:
                kwargs[name] = getattr(cls.Meta, "dryrun_default", False) is True
            else:
                kwargs[name] = var.resolve(present, data.get(name))
        except Invalid as exc:
            errors[name] = str(exc)
    known = dict(variables)
    for name in data:
        if name not in known:
            errors[str(name)] = "unknown variable"
    if errors:
        raise ValidationError(errors)
    return kwargs
