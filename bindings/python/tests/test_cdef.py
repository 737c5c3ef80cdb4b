"""The binding's C declarations cannot drift from the public headers.

Every JOBREG_EXTERN function of include/jobreg/*.h is declared in
jobreg/_cdef.py with the very same prototype (or listed, with its reason, in
NOT_BOUND); every structure the cdef declares has the headers' fields; every
constant has the headers' value; and the library exports every function the
cdef declares.
"""

import re

import pytest

from conftest import SOURCE_ROOT
from jobreg import _cdef
from jobreg._ffi import lib

INCLUDE = SOURCE_ROOT / "include" / "jobreg"
HEADERS = sorted(p for p in INCLUDE.rglob("*.h*") if p.suffix in (".h", ".in"))


def strip_comments(text):
    return re.sub(r"/\*.*?\*/", "", text, flags=re.S)


def normalize(text):
    text = " ".join(text.split())
    text = re.sub(r"\s*([(),*\[\]])\s*", r"\1", text)
    return text


def header_text():
    return "\n".join(strip_comments(p.read_text()) for p in HEADERS)


def header_functions():
    """{name: normalized prototype} of every JOBREG_EXTERN function."""
    found = {}
    for match in re.finditer(r"^JOBREG_EXTERN\(([^)]*)\)\s*([^;]*);", header_text(), re.M):
        ret, rest = match.group(1).strip(), match.group(2)
        name = re.match(r"\s*\**\s*(jobreg_\w+)", rest).group(1)
        found[name] = normalize(f"{ret} {rest}")
    return found


def cdef_functions():
    found = {}
    text = strip_comments(_cdef.CDEF)
    for match in re.finditer(r"^([A-Za-z_][\w ]*?[\s*]+)(jobreg_\w+)\(([^;]*)\);", text, re.M):
        if match.group(1).strip().startswith("typedef"):
            continue
        found[match.group(2)] = normalize(match.group(0)[:-1])
    return found


def structs(text):
    """{name: [normalized field declarations]} of `typedef struct x {...} x;`."""
    found = {}
    for match in re.finditer(r"typedef struct (\w+) \{(.*?)\} \1;", strip_comments(text), re.S):
        fields = [normalize(f) for f in match.group(2).split(";") if f.strip()]
        found[match.group(1)] = fields
    return found


def int_value(text):
    text = text.strip().rstrip("uUlL")
    return int(text, 0)


def header_constants():
    text = header_text()
    found = {}
    for name, value in re.findall(r"^#define (JOBREG_\w+) (\(?-?(?:0x)?[0-9a-fA-F]+[uUlL]*\)?)\s*$",
                                  text, re.M):
        found[name] = int_value(value.strip("()"))
    for name, value in re.findall(r"X\((JOBREG_\w+), (-?\d+),", text):
        found[name] = int(value)
    for name, value in re.findall(r"^\s*(JOBREG_[A-Z_]+) = (-?\d+)", text, re.M):
        found[name] = int(value)
    return found


def test_the_headers_are_where_the_test_looks():
    assert (INCLUDE / "common.h").is_file(), f"set JOBREG_SOURCE_ROOT (looked in {INCLUDE})"
    assert len(header_functions()) > 100


def test_every_public_function_is_declared_or_deliberately_left_out():
    declared = cdef_functions()
    missing = sorted(set(header_functions()) - set(declared) - set(_cdef.NOT_BOUND))
    assert not missing, f"add these to jobreg/_cdef.py (or to NOT_BOUND, with a reason): {missing}"


def test_not_bound_lists_only_real_functions_and_gives_reasons():
    public = header_functions()
    for name, reason in _cdef.NOT_BOUND.items():
        assert name in public, f"NOT_BOUND names {name}, which no header declares"
        assert reason.strip(), f"NOT_BOUND[{name!r}] needs a reason"
        assert name not in cdef_functions(), f"{name} is both declared and NOT_BOUND"


def test_every_declaration_has_the_headers_prototype():
    public = header_functions()
    for name, prototype in cdef_functions().items():
        assert name in public, f"the cdef declares {name}, which no public header has"
        assert prototype == public[name], f"{name} differs:\n  cdef:   {prototype}\n" \
                                          f"  header: {public[name]}"


def test_every_declared_structure_has_the_headers_fields():
    header = structs(header_text())
    declared = structs(_cdef.CDEF)
    assert declared, "the cdef declares no structure"
    for name, fields in declared.items():
        assert name in header, f"the cdef declares struct {name}, which no header has"
        assert fields == header[name], f"struct {name} differs:\n  cdef:   {fields}\n" \
                                       f"  header: {header[name]}"


def test_every_declared_constant_has_the_headers_value():
    header = header_constants()
    for name in dir(lib):
        if not name.startswith("JOBREG_") or name == "JOBREG_ERROR_CODE_LAST_":
            continue
        value = getattr(lib, name)
        assert name in header, f"the cdef defines {name}, which no header has"
        assert value == header[name], f"{name} is {value} in the cdef, {header[name]} in the header"


def test_every_error_code_of_the_headers_is_in_the_cdef():
    codes = re.findall(r"X\((JOBREG_\w+), (-?\d+),", header_text())
    assert codes
    for name, value in codes:
        assert getattr(lib, name) == int(value)


@pytest.mark.parametrize("name", sorted(cdef_functions()))
def test_the_library_exports_every_declared_function(name):
    assert getattr(lib, name) is not None
