"""jobreg._records (the binding): job records (SPEC 4): Record, RecordList, RefreshResult.

A ``Record`` owns a C ``jobreg_record`` (freed by ``close()`` or by the
garbage collector). It is a read-write mapping from field name to value, with
the fields as attributes too::

    rec["name"], rec.name, rec.enabled = True, dict(rec), rec.to_json()

The fields are the library's own, read at run time (``FIELDS``), so a later
library's new fields appear without a new binding. Values: text fields are
``str``, bool fields ``bool``, real fields ``float``; the two JSON text fields
(``task_queues``, ``variables``) read as the decoded ``list``/``dict`` (and
accept either that or JSON text); ``Record.text(name)`` gives any text
field's stored text, ``to_row()`` every field as stored (what a storage
backend keeps).
"""

import json
from collections.abc import Mapping, MutableMapping
from typing import NamedTuple

from ._errors import check, closed
from ._ffi import ffi, from_c, lib, take_string, to_c

TEXT, BOOL, REAL = "text", "bool", "real"
_KINDS = {lib.JOBREG_FIELD_KIND_TEXT: TEXT, lib.JOBREG_FIELD_KIND_BOOL: BOOL,
          lib.JOBREG_FIELD_KIND_REAL: REAL}
# Text fields that hold JSON (include/jobreg/record.h), each encoded from a
# Python value exactly as the library writes it: refresh compares texts, so
# a record that goes through a dict and back must come back byte for byte.
_JSON_ENCODERS = {
    "task_queues": lambda v: json.dumps(v, separators=(",", ":"), ensure_ascii=False),
    "variables": lambda v: json.dumps(v, sort_keys=True, allow_nan=False),
}
JSON_FIELDS = frozenset(_JSON_ENCODERS)


class Field(NamedTuple):
    """A field of a record: its number in the C API, its name and kind."""

    index: int
    name: str
    kind: str  # "text", "bool" or "real"

    @property
    def overridable(self):
        """True when the record has a ``<name>_override`` flag for it."""
        return f"{self.name}_override" in FIELD_BY_NAME


def _read_fields():
    fields = []
    for i in range(lib.jobreg_record_field_count()):
        kind = _KINDS.get(lib.jobreg_record_field_kind(i))
        fields.append(Field(i, from_c(lib.jobreg_record_field_name(i)), kind))
    return tuple(fields)


FIELDS = _read_fields()
FIELD_BY_NAME = {f.name: f for f in FIELDS}
FIELD_NAMES = tuple(f.name for f in FIELDS)


def field(name):
    """The Field called ``name``: jobreg_record_field_by_name() (raises NotFound)."""
    if isinstance(name, Field):
        return name
    out = ffi.new("jobreg_field *")
    check(lib.jobreg_record_field_by_name(out, to_c(name, "field name")))
    return FIELDS[out[0]]


def _lookup(name):
    """The Field for a mapping key; KeyError for anything else."""
    f = FIELD_BY_NAME.get(name) if isinstance(name, str) else None
    if f is None:
        raise KeyError(name)
    return f


def set_field(ptr, f, value):
    """Set field ``f`` of the C record ``ptr`` from a Python value."""
    if f.kind == TEXT:
        if f.name in JSON_FIELDS and not isinstance(value, str):
            value = _JSON_ENCODERS[f.name](value)
        if not isinstance(value, str):
            raise TypeError(f"record field {f.name!r} takes a str, not {type(value).__name__}")
        check(lib.jobreg_record_set_text(ptr, f.index, to_c(value)))
    elif f.kind == BOOL:
        if not isinstance(value, (bool, int)):
            raise TypeError(f"record field {f.name!r} takes a bool, not {type(value).__name__}")
        check(lib.jobreg_record_set_bool(ptr, f.index, 1 if value else 0))
    elif f.kind == REAL:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise TypeError(f"record field {f.name!r} takes a number, not {type(value).__name__}")
        check(lib.jobreg_record_set_real(ptr, f.index, float(value)))
    else:
        raise TypeError(f"record field {f.name!r} has a kind this binding does not know")


def get_field(ptr, f):
    """Field ``f`` of the C record ``ptr`` as a Python value."""
    if f.kind == TEXT:
        text = from_c(lib.jobreg_record_text(ptr, f.index))
        return json.loads(text) if f.name in JSON_FIELDS else text
    if f.kind == BOOL:
        return bool(check(lib.jobreg_record_bool(ptr, f.index)))
    if f.kind == REAL:
        return lib.jobreg_record_real(ptr, f.index)
    return None


def new_record_ptr(values=None):
    """A new C record (NOT garbage-collected: the caller owns it) filled from a mapping."""
    out = ffi.new("jobreg_record **")
    check(lib.jobreg_record_new(out))
    ptr = out[0]
    try:
        for name, value in (values or {}).items():
            f = FIELD_BY_NAME.get(name)
            if f is None:
                raise KeyError(f"a record has no field {name!r}")
            set_field(ptr, f, value)
    except BaseException:
        lib.jobreg_record_free(ptr)
        raise
    return ptr


def dup_record_ptr(ptr):
    """A copy of the C record ``ptr`` that the caller owns (not garbage-collected)."""
    out = ffi.new("jobreg_record **")
    check(lib.jobreg_record_dup(out, ptr))
    return out[0]


class Record(MutableMapping):
    """One job record. ``Record(**fields)`` or ``Record(mapping)`` makes a new one.

    A new record has every field at the library's default (id ""; enabled
    False; has_sensitive_variables True...). Setting a field the library
    refuses (a source_type that is no source type, task_queues that is no
    list of strings, a negative time limit) raises InvalidArgument and leaves
    the record as it was.
    """

    __slots__ = ("_ptr",)

    def __init__(self, values=None, **fields):
        merged = dict(values or {}, **fields)
        object.__setattr__(self, "_ptr", ffi.gc(new_record_ptr(merged), lib.jobreg_record_free))

    @classmethod
    def _adopt(cls, ptr):
        """Wrap a C record the caller owns; the new object frees it."""
        rec = cls.__new__(cls)
        object.__setattr__(rec, "_ptr", ffi.gc(ptr, lib.jobreg_record_free))
        return rec

    @classmethod
    def _copy_of(cls, ptr):
        return cls._adopt(dup_record_ptr(ptr))

    @classmethod
    def from_json(cls, text):
        """A record from the JSON object that to_json() gives."""
        return cls(json.loads(text))

    @property
    def _c(self):
        ptr = self._ptr
        if ptr is None:
            raise closed("record")
        return ptr

    # -- the mapping ------------------------------------------------------
    def __getitem__(self, name):
        return get_field(self._c, _lookup(name))

    def __setitem__(self, name, value):
        set_field(self._c, _lookup(name), value)

    def __delitem__(self, name):
        raise TypeError("record fields cannot be deleted")

    def __iter__(self):
        return iter(FIELD_NAMES)

    def __len__(self):
        return len(FIELDS)

    def __contains__(self, name):
        return name in FIELD_BY_NAME

    # -- fields as attributes -----------------------------------------------
    def __getattr__(self, name):
        f = FIELD_BY_NAME.get(name)
        if f is None:
            raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")
        return get_field(self._c, f)

    def __setattr__(self, name, value):
        f = FIELD_BY_NAME.get(name)
        if f is None:
            raise AttributeError(f"a record has no field {name!r}")
        set_field(self._c, f, value)

    def __dir__(self):
        return sorted(set(super().__dir__()) | set(FIELD_NAMES))

    # -- conversions ----------------------------------------------------------
    def text(self, name):
        """The stored text of a text field (JSON text for task_queues and variables)."""
        f = _lookup(name)
        if f.kind != TEXT:
            raise TypeError(f"record field {name!r} is not a text field")
        return from_c(lib.jobreg_record_text(self._c, f.index))

    def to_dict(self):
        """Every field as a plain dict (what to_json() says, decoded)."""
        return {f.name: get_field(self._c, f) for f in FIELDS}

    def to_row(self):
        """Every field as stored: like to_dict(), but task_queues and variables
        as their JSON text. What a storage backend keeps and gives back."""
        c = self._c
        return {f.name: (from_c(lib.jobreg_record_text(c, f.index)) if f.kind == TEXT
                         else get_field(c, f)) for f in FIELDS}

    def to_json(self):
        """jobreg_record_to_json(): one JSON object, keys in field order."""
        out = ffi.new("char **")
        check(lib.jobreg_record_to_json(out, self._c))
        return take_string(out[0])

    def copy(self):
        """A deep copy (jobreg_record_dup())."""
        return Record._copy_of(self._c)

    def close(self):
        """Free the C record now (else the garbage collector does)."""
        ptr = self._ptr
        if ptr is not None:
            object.__setattr__(self, "_ptr", None)
            ffi.release(ptr)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def __eq__(self, other):
        if isinstance(other, Mapping):
            return self.to_dict() == dict(other)
        return NotImplemented

    __hash__ = None

    def __repr__(self):
        if self._ptr is None:
            return "<jobreg.Record (closed)>"
        return (f"<jobreg.Record {self['class_path']!r} id={self['id']!r} "
                f"installed={self['installed']} enabled={self['enabled']}>")

    def __getstate__(self):
        return self.to_dict()

    def __setstate__(self, state):
        object.__setattr__(self, "_ptr", ffi.gc(new_record_ptr(state), lib.jobreg_record_free))


class RecordList(tuple):
    """The records of a storage listing, in the library's order (a tuple of Record).

    ``to_json()`` is jobreg_record_list_to_json(): a JSON array of records.
    """

    def __new__(cls, list_ptr):
        try:
            count = lib.jobreg_record_list_count(list_ptr)
            records = [Record._copy_of(lib.jobreg_record_list_get(list_ptr, i))
                       for i in range(count)]
            out = ffi.new("char **")
            check(lib.jobreg_record_list_to_json(out, list_ptr))
            text = take_string(out[0])
        finally:
            lib.jobreg_record_list_free(list_ptr)
        self = super().__new__(cls, records)
        self._json = text
        return self

    def to_json(self):
        return self._json

    def to_dicts(self):
        return [r.to_dict() for r in self]

    def by_id(self):
        return {r.id: r for r in self}


class RefreshResult:
    """What a refresh did: class paths ``created``, ``updated``, ``uninstalled``,
    the number ``unchanged`` and the number of records written (``writes``).

    ``skipped``: for a sync (``Registry.sync()``), how many sources it found
    unchanged since the last sync and did not import (their records count
    as unchanged); 0 for a plain refresh.
    """

    __slots__ = ("created", "updated", "uninstalled", "unchanged", "writes", "skipped")

    def __init__(self, created=(), updated=(), uninstalled=(), unchanged=0, writes=0,
                 skipped=0):
        self.created = list(created)
        self.updated = list(updated)
        self.uninstalled = list(uninstalled)
        self.unchanged = unchanged
        self.writes = writes
        self.skipped = skipped

    @classmethod
    def _take(cls, ptr):
        """Copy a C result and free it."""
        if ptr == ffi.NULL:
            return None
        try:
            def strings(count_fn, get_fn):
                return [from_c(get_fn(ptr, i)) for i in range(count_fn(ptr))]

            return cls(strings(lib.jobreg_refresh_result_created_count,
                               lib.jobreg_refresh_result_created),
                       strings(lib.jobreg_refresh_result_updated_count,
                               lib.jobreg_refresh_result_updated),
                       strings(lib.jobreg_refresh_result_uninstalled_count,
                               lib.jobreg_refresh_result_uninstalled),
                       lib.jobreg_refresh_result_unchanged(ptr),
                       lib.jobreg_refresh_result_writes(ptr),
                       lib.jobreg_refresh_result_skipped_count(ptr))
        finally:
            lib.jobreg_refresh_result_free(ptr)

    def to_dict(self):
        return {"created": list(self.created), "updated": list(self.updated),
                "uninstalled": list(self.uninstalled), "unchanged": self.unchanged,
                "writes": self.writes, "skipped": self.skipped}

    def __eq__(self, other):
        if isinstance(other, RefreshResult):
            return self.to_dict() == other.to_dict()
        return NotImplemented

    def __repr__(self):
        return (f"<jobreg.RefreshResult created={len(self.created)} updated={len(self.updated)} "
                f"uninstalled={len(self.uninstalled)} unchanged={self.unchanged}"
                f"{f' skipped={self.skipped}' if self.skipped else ''}>")


class StoredLoadError(NamedTuple):
    """One load error as the last refresh of its source stored it (Storage.load_errors(),
    jobreg_storage_load_errors()): what a process that did not load the code can show."""

    source_type: str  # "local", "git", "app"
    source: str       # "" for a jobs root
    module: str       # "" when unknown
    file: str         # "" when unknown
    line: int         # 0 when unknown
    type: str         # "SyntaxError", "ImportError", ...
    message: str
    traceback: str    # "" when none
    when: str         # when the refresh stored it: UTC ISO 8601

    def __str__(self):
        where = f"{self.file}:{self.line}" if self.line else self.file
        return f"{where}: {self.module or self.source or '(source)'}: {self.type}: {self.message}"


# jobreg_run_row's fields, in its order (include/jobreg/sys/storage.h).
RUN_ROW_FIELDS = ("id", "job_id", "class_path", "source_type", "source_name", "code_version",
                  "status", "started", "finished", "result_json", "error_type", "error_message",
                  "host_json")


class RunRecord(NamedTuple):
    """One run record (Storage.runs(), include/jobreg/runs.h): every field of
    jobreg_run_row, each a str ("" when none)."""

    id: str
    job_id: str        # the id of the job's record
    class_path: str    # the job's class path when it ran
    source_type: str   # "local", "git", "app"
    source_name: str   # "" for a jobs root
    code_version: str  # the commit (git) or fingerprint (local, app) of its code
    status: str        # "STARTED", "SUCCESS", "FAILURE" or "REVOKED"
    started: str       # UTC ISO 8601, to the microsecond
    finished: str      # the same, or "" while it runs
    result_json: str   # what the job returned, as JSON, or ""
    error_type: str    # the failure's exception type, or ""
    error_message: str
    host_json: str     # what the host said of the run (run(host=...)), or ""

    @property
    def result(self):
        """What the job returned, decoded; None when it did not succeed."""
        return json.loads(self.result_json) if self.result_json else None
