"""jobreg._variables (the author API): the variables of a job, ValidationError.

``StringVar``, ``IntegerVar``... Job code imports these names from
``jobreg.jobs``, the façade, which holds these very objects (and names
itself as their ``__module__``); what they do where SPEC is silent is listed
in its docstring.

Other modules of the author API use ``Invalid`` (a value's problem, raised by
``clean()``) and ``jsonable()``. The library runs this module at every
start-up: ``json``, ``re``, ``ipaddress`` and ``copy`` are imported where
they are needed.
"""


class ValidationError(ValueError):
    """Input that does not fit a job's variables; ``errors`` maps field -> reason."""

    def __init__(self, errors):
        if isinstance(errors, str):
            errors = {"(input)": errors}
        self.errors = dict(errors)
        message = "; ".join(f"{field}: {reason}" for field, reason in self.errors.items())
        # Input can hold lone surrogates and NULs; the message reaches C as
        # UTF-8 text: escaped as jobreg._context.clean_text() does.
        message = message.encode("utf-8", "backslashreplace").replace(b"\x00", b"\\x00")
        super().__init__(message.decode("utf-8"))


class Invalid(Exception):
    """One field's problem, raised by a variable's clean()."""


def jsonable(value):
    """``value`` as JSON data: what JSON cannot hold becomes str()."""
    if value is None or isinstance(value, (str, bool, int)):
        return value
    if isinstance(value, float) and value - value == 0:  # finite
        return value
    import json

    try:
        return json.loads(json.dumps(value, default=str, allow_nan=False))
    except (TypeError, ValueError, RecursionError):
        pass
    try:
        return str(value)
    except Exception:
        return f"<{type(value).__name__}>"


def _json_type(value):
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "null" if value is None else "object"


def _check(owner, option, value, types, expected):
    """TypeError unless ``value`` is None or one of ``types`` (bool is no int)."""
    if value is None or type(value) in types:
        return
    if isinstance(value, bool) and bool not in types or not isinstance(value, types):
        raise TypeError(f"{owner}: {option} must be {expected}, "
                        f"not {type(value).__name__} ({value!r:.80})")


def _check_bounds(owner, low_name, low, high_name, high, minimum=None):
    # The usual case, decided without a call: plain ints (or None) in order.
    if ((low is None or type(low) is int) and (high is None or type(high) is int)
            and (minimum is None or ((low is None or low >= minimum)
                                     and (high is None or high >= minimum)))
            and (low is None or high is None or low <= high)):
        return
    for option, value in ((low_name, low), (high_name, high)):
        _check(owner, option, value, (int,), "int")
        if value is not None and minimum is not None and value < minimum:
            raise ValueError(f"{owner}: {option} must be >= {minimum}, not {value}")
    if low is not None and high is not None and low > high:
        raise ValueError(f"{owner}: {low_name} ({low}) is greater than {high_name} ({high})")


class ScriptVariable:
    """Base of every variable: label, description, default, required."""

    json_type = "string"
    schema_format = None
    # Defaults that need no checking: the host gives their meaning.
    _check_default = True

    def __init__(self, label="", description="", default=None, required=True, widget=None):
        # Checked only when one is not of the usual type (this runs for every
        # variable of every job at each import).
        if type(label) is not str or type(description) is not str or type(required) is not bool:
            owner = type(self).__name__
            _check(owner, "label", label, (str,), "str")
            _check(owner, "description", description, (str,), "str")
            _check(owner, "required", required, (bool,), "bool")
        self.label = label or ""
        self.description = description or ""
        self.default = default
        self.required = True if required is None else required
        self.widget = widget

    @property
    def field_attrs(self):
        """Nautobot's keyword arguments of the variable's form field (``label``,
        ``help_text``, ``initial``, ``widget``, ``required``), made on first use;
        subclasses written for Nautobot add to it, and the host's forms may read it."""
        attrs = self.__dict__.get("_field_attrs")
        if attrs is None:
            attrs = {"required": self.required}
            for key, value in (("label", self.label), ("help_text", self.description),
                               ("initial", self.default), ("widget", self.widget)):
                if value not in (None, ""):
                    attrs[key] = value
            self.__dict__["_field_attrs"] = attrs
        return attrs

    @field_attrs.setter
    def field_attrs(self, value):
        self.__dict__["_field_attrs"] = value

    def _validate_default(self):
        """Called by each constructor once its options are set: a default that
        is no valid value is remembered as such (see the module's choices)."""
        if self._check_default and not self._is_empty(self.default):
            try:
                self.clean(self.default)
            except Invalid as exc:
                self.__dict__["_bad_default"] = f"its default ({self.default!r:.80}) is not a valid value: {exc}"

    def _usable_default(self):
        return self.default is not None and "_bad_default" not in self.__dict__

    def is_required(self):
        attrs = self.__dict__.get("_field_attrs")
        required = self.required if attrs is None else attrs.get("required", self.required)
        return required is True and not self._usable_default()

    def _is_empty(self, value):
        return value is None or (isinstance(value, str) and value == "")

    def empty_value(self):
        """What run() gets for a not-required variable left empty."""
        return None

    def resolve(self, present, value):
        """The value run() gets, or Invalid."""
        if present and not self._is_empty(value):
            return self.clean(value)
        if self._usable_default():
            default = self.default
            if isinstance(default, (dict, list)):
                import copy

                default = copy.deepcopy(default)  # a run must not change the next one's default
            return self.clean(default)
        if self.is_required():
            bad = self.__dict__.get("_bad_default")
            raise Invalid(f"this field is required ({bad})" if bad else "this field is required")
        return self.empty_value()

    def clean(self, value):
        return value

    def schema(self):
        out = {"type": self.json_type, "var_type": type(self).__name__}
        if self.label:
            out["title"] = self.label
        if self.description:
            out["description"] = self.description
        if self._usable_default():
            out["default"] = jsonable(self.default)
        if self.schema_format:
            out["format"] = self.schema_format
        return out


class StringVar(ScriptVariable):
    """A line of text, with optional length bounds and a regex."""

    def __init__(self, min_length=None, max_length=None, regex=None, *args, **kwargs):
        super().__init__(*args, **kwargs)
        owner = type(self).__name__
        _check_bounds(owner, "min_length", min_length, "max_length", max_length, minimum=0)
        self.min_length, self.max_length = min_length, max_length
        self.regex, self._pattern = regex, None
        if regex is not None:
            import re

            if isinstance(regex, re.Pattern):
                self._pattern, self.regex = regex, regex.pattern
            else:
                _check(owner, "regex", regex, (str,), "str")
                try:
                    self._pattern = re.compile(regex)
                except (re.error, OverflowError, RecursionError) as exc:
                    raise ValueError(f"{owner}: regex ({regex!r:.80}) is not a valid "
                                     f"regular expression: {exc}") from None
        self._validate_default()

    def clean(self, value):
        if not isinstance(value, str):
            raise Invalid(f"must be a string, not {type(value).__name__}")
        if self.min_length is not None and len(value) < self.min_length:
            raise Invalid(f"must be at least {self.min_length} characters (got {len(value)})")
        if self.max_length is not None and len(value) > self.max_length:
            raise Invalid(f"must be at most {self.max_length} characters (got {len(value)})")
        if self._pattern is not None and not self._pattern.search(value):
            raise Invalid(f"does not match the pattern {self.regex!r}")
        return value

    def schema(self):
        out = super().schema()
        if self.min_length is not None:
            out["minLength"] = self.min_length
        if self.max_length is not None:
            out["maxLength"] = self.max_length
        if self.regex is not None:
            out["pattern"] = self.regex
        return out


class TextVar(StringVar):
    """Text of several lines."""


class IntegerVar(ScriptVariable):
    """A whole number, with optional bounds."""

    json_type = "integer"

    def __init__(self, min_value=None, max_value=None, *args, **kwargs):
        super().__init__(*args, **kwargs)
        _check_bounds(type(self).__name__, "min_value", min_value, "max_value", max_value)
        self.min_value, self.max_value = min_value, max_value
        self._validate_default()

    def clean(self, value):
        if isinstance(value, bool):
            raise Invalid(f"must be a whole number, not a boolean ({value!r})")
        if isinstance(value, str):
            text = value.strip()
            digits = text[1:] if text[:1] in "+-" else text
            if not (digits.isascii() and digits.isdigit()):
                raise Invalid(f"must be a whole number (got {value!r:.80})")
            try:
                value = int(text)
            except ValueError:
                raise Invalid(f"must be a whole number of at most 4300 digits "
                               f"(got {len(text)} characters)") from None
        elif isinstance(value, float) and value - value == 0 and value == int(value):
            value = int(value)
        elif not isinstance(value, int):
            raise Invalid(f"must be a whole number, not {type(value).__name__} ({value!r:.80})")
        if self.min_value is not None and value < self.min_value:
            raise Invalid(f"must be at least {self.min_value} (got {value})")
        if self.max_value is not None and value > self.max_value:
            raise Invalid(f"must be at most {self.max_value} (got {value})")
        return value

    def schema(self):
        out = super().schema()
        if self.min_value is not None:
            out["minimum"] = self.min_value
        if self.max_value is not None:
            out["maximum"] = self.max_value
        return out


class BooleanVar(ScriptVariable):
    """True or false; never required (missing means its default, else False)."""

    json_type = "boolean"

    def __init__(self, *args, **kwargs):
        kwargs["required"] = False
        super().__init__(*args, **kwargs)
        self._validate_default()

    def empty_value(self):
        return False

    def clean(self, value):
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.strip().lower() in ("true", "false"):
            return value.strip().lower() == "true"
        raise Invalid(f"must be true or false (got {value!r:.80})")


class DryRunVar(BooleanVar):
    """Marks a job that supports dry runs; its value says whether this run is one."""


def _normalize_choices(owner, choices):
    if choices is None:
        return ()  # as lenient as Nautobot: no choice is then valid
    if callable(choices) and not isinstance(choices, (list, tuple)):
        choices = choices()  # Nautobot's ChoiceSet classes, Django's callables
    if isinstance(choices, (str, bytes, dict)) or not hasattr(choices, "__iter__"):
        raise TypeError(f"{owner}: choices must be a list of values or (value, label) "
                        f"pairs, not {type(choices).__name__}")
    pairs = []
    for choice in choices:
        if isinstance(choice, (list, tuple)):
            if len(choice) != 2:
                raise ValueError(f"{owner}: choices: {choice!r:.80} is not a (value, label) pair")
            value, label = choice
            if isinstance(label, (list, tuple)):  # a named group of choices
                pairs.extend(_normalize_choices(owner, label))
                continue
            pairs.append((value, str(label)))
        else:
            pairs.append((choice, str(choice)))
    return tuple(pairs)


class ChoiceVar(ScriptVariable):
    """One value among fixed choices."""

    def __init__(self, choices=None, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.choices = _normalize_choices(type(self).__name__, choices)
        self._validate_default()

    def _allowed(self):
        if not self.choices:
            return "it has none"
        text = ", ".join(repr(value) for value, _ in self.choices[:20])
        return text + (", ..." if len(self.choices) > 20 else "")

    def _pick(self, value):
        for choice, _ in self.choices:
            if value == choice and isinstance(value, bool) == isinstance(choice, bool):
                return choice
        if isinstance(value, str):  # form input: "2" for the choice 2
            for choice, _ in self.choices:
                if not isinstance(choice, str) and str(choice) == value:
                    return choice
        return Invalid

    def clean(self, value):
        choice = self._pick(value)
        if choice is Invalid:
            raise Invalid(f"{value!r:.80} is not one of the choices ({self._allowed()})")
        return choice

    def _enum_schema(self):
        values = [jsonable(value) for value, _ in self.choices]
        types = sorted({_json_type(value) for value in values}) or ["string"]
        return {"type": types[0] if len(types) == 1 else types, "enum": values,
                "enumNames": [label for _, label in self.choices]}

    def schema(self):
        out = super().schema()
        out.update(self._enum_schema())
        return out


class _ListValued:
    """What the multi variables share: a list, empty when not given."""

    json_type = "array"

    def _is_empty(self, value):
        return super()._is_empty(value) or (isinstance(value, (list, tuple)) and not value)

    def empty_value(self):
        return []


class MultiChoiceVar(_ListValued, ChoiceVar):
    """Several values among fixed choices (a list)."""

    def clean(self, value):
        if not isinstance(value, (list, tuple)):
            raise Invalid(f"must be a list of choices, not {type(value).__name__}")
        picked = [self._pick(item) for item in value]
        bad = [repr(item) for item, choice in zip(value, picked) if choice is Invalid]
        if bad:
            raise Invalid(f"not one of the choices ({self._allowed()}): {', '.join(bad)}")
        return picked

    def schema(self):
        out = ScriptVariable.schema(self)
        out["items"] = self._enum_schema()
        return out


def _model_label(owner, model):
    if isinstance(model, type):
        meta = getattr(model, "_meta", None)
        label = getattr(meta, "label_lower", None)
        return label if isinstance(label, str) and label else model.__name__
    _check(owner, "model", model, (str,), "str (a model label like 'dcim.device') or a model class")
    if model is not None and not model:
        raise ValueError(f"{owner}: model must not be empty")
    return model


_OBJECT_TYPES = ["integer", "object", "string"]


def _object_reference(value):
    if isinstance(value, bool) or not isinstance(value, (str, int, dict)):
        raise Invalid(f"must be an object id (string or number) or an object, "
                       f"not {type(value).__name__}")
    return value


class ObjectVar(ScriptVariable):
    """A reference to an object of the host's database, passed through as given."""

    json_type = _OBJECT_TYPES
    _check_default = False

    def __init__(self, model=None, display_field="display", query_params=None, null_option=None,
                 *args, queryset=None, **kwargs):
        super().__init__(*args, **kwargs)
        owner = type(self).__name__
        if model is None and queryset is not None:  # Nautobot's deprecated spelling
            model = getattr(queryset, "model", None)
        _check(owner, "display_field", display_field, (str,), "str")
        _check(owner, "query_params", query_params, (dict,), "dict")
        _check(owner, "null_option", null_option, (str,), "str")
        self.model = _model_label(owner, model)
        self.display_field = display_field
        self.query_params = dict(query_params or {})
        self.null_option = null_option

    def clean(self, value):
        return _object_reference(value)

    def schema(self):
        out = super().schema()
        if self.model:
            out["model"] = self.model
        if self.query_params:
            out["query_params"] = jsonable(self.query_params)
        return out


class MultiObjectVar(_ListValued, ObjectVar):
    """Several references to objects of the host's database (a list)."""

    def clean(self, value):
        if not isinstance(value, (list, tuple)):
            raise Invalid(f"must be a list of object ids, not {type(value).__name__}")
        return [_object_reference(item) for item in value]

    def schema(self):
        out = super().schema()
        out["items"] = {"type": _OBJECT_TYPES}
        return out


class FileVar(ScriptVariable):
    """An uploaded file as the host refers to it, passed through as given."""

    json_type = _OBJECT_TYPES
    _check_default = False

    def clean(self, value):
        if isinstance(value, bool) or not isinstance(value, (str, int, dict)):
            raise Invalid(f"must be a file reference (string, number or object), "
                           f"not {type(value).__name__}")
        return value


class _IPVar(ScriptVariable):
    """Base of the IP variables: a str that ``ipaddress`` parses."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._validate_default()

    def clean(self, value):
        if type(value).__module__ == "ipaddress":
            value = str(value)  # a default given as an ipaddress object
        if not isinstance(value, str):
            raise Invalid(f"must be a string, not {type(value).__name__}")
        import ipaddress

        try:
            return self._parse(ipaddress, value.strip())
        except ValueError as exc:
            raise Invalid(str(exc)) from None


class IPAddressVar(_IPVar):
    """An IPv4 or IPv6 address without a mask (an ``ip_address``)."""

    schema_format = "ipvanyaddress"

    def _parse(self, ipaddress, text):
        if "/" in text:
            raise ValueError(f"{text!r} has a mask; an address without one is expected")
        return ipaddress.ip_address(text)


class IPAddressWithMaskVar(_IPVar):
    """An IPv4 or IPv6 address with its mask, like 10.0.0.1/24 (an ``ip_interface``)."""

    schema_format = "ipvanyinterface"

    def _parse(self, ipaddress, text):
        if "/" not in text:
            raise ValueError(f"{text!r} has no mask; an address like 10.0.0.1/24 is expected")
        return ipaddress.ip_interface(text)


class IPNetworkVar(_IPVar):
    """An IPv4 or IPv6 network like 10.0.0.0/24 (an ``ip_network``), with prefix bounds."""

    schema_format = "ipvanynetwork"

    def __init__(self, min_prefix_length=None, max_prefix_length=None, *args, **kwargs):
        _check_bounds(type(self).__name__, "min_prefix_length", min_prefix_length,
                      "max_prefix_length", max_prefix_length, minimum=0)
        self.min_prefix_length, self.max_prefix_length = min_prefix_length, max_prefix_length
        super().__init__(*args, **kwargs)

    def _parse(self, ipaddress, text):
        if "/" not in text:
            raise ValueError(f"{text!r} has no prefix length; a network like 10.0.0.0/24 is expected")
        network = ipaddress.ip_network(text, strict=False)
        if self.min_prefix_length is not None and network.prefixlen < self.min_prefix_length:
            raise ValueError(f"the prefix length must be at least {self.min_prefix_length} "
                             f"(got {network.prefixlen})")
        if self.max_prefix_length is not None and network.prefixlen > self.max_prefix_length:
            raise ValueError(f"the prefix length must be at most {self.max_prefix_length} "
                             f"(got {network.prefixlen})")
        return network


def _refuse_constant(name):
    raise ValueError(f"{name} is not a JSON number")


class JSONVar(ScriptVariable):
    """Any JSON value; a str is read as JSON text."""

    json_type = ["array", "boolean", "integer", "number", "object", "string"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._validate_default()

    def clean(self, value):
        import json

        if isinstance(value, str):
            try:
                return json.loads(value, parse_constant=_refuse_constant)
            except ValueError as exc:
                raise Invalid(f"is not valid JSON: {exc}") from None
            except RecursionError:
                raise Invalid("is not valid JSON: nested too deeply") from None
        if not isinstance(value, (dict, list, int, float)):  # bool is an int
            raise Invalid(f"must be a JSON value, not {type(value).__name__}")
        try:
            json.dumps(value, allow_nan=False)
        except (TypeError, ValueError) as exc:
            raise Invalid(f"is not a JSON value: {exc}") from None
        except RecursionError:
            raise Invalid("is not a JSON value: nested too deeply") from None
        return value
