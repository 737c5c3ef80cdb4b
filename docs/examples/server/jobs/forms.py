"""A job's run form, built from its variables' JSON schema (the record's `variables`).

The library checks the data again when the job runs (InvalidInput names
every bad field): this form only gives each variable a fitting widget.
"""
import json

from django import forms

WORKER_ANY = ""


def _choices(schema):
    values = schema.get("enum") or []
    labels = schema.get("enumNames") or [str(v) for v in values]
    return [(json.dumps(v) if not isinstance(v, str) else v, label)
            for v, label in zip(values, labels)]


def _field(name, schema, required):
    var_type = schema.get("var_type", "")
    common = dict(required=required, label=schema.get("title") or name,
                  help_text=schema.get("description", ""))
    default = schema.get("default")
    if default is not None:
        common["initial"] = default
    if var_type in ("BooleanVar", "DryRunVar"):
        common["required"] = False
        return forms.BooleanField(**common)
    if var_type == "IntegerVar":
        return forms.IntegerField(min_value=schema.get("minimum"), max_value=schema.get("maximum"),
                                  **common)
    if var_type == "MultiChoiceVar":
        return forms.MultipleChoiceField(choices=_choices(schema.get("items", {})), **common)
    if var_type == "ChoiceVar":
        return forms.ChoiceField(choices=_choices(schema), **common)
    if var_type == "TextVar":
        return forms.CharField(widget=forms.Textarea(attrs={"rows": 4}), **common)
    if var_type in ("JSONVar", "ObjectVar", "MultiObjectVar"):
        if default is not None:
            common["initial"] = json.dumps(default)
        return forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), **common)
    return forms.CharField(min_length=schema.get("minLength"), max_length=schema.get("maxLength"),
                           **common)


class JobRunForm(forms.Form):
    """The job's variables (in the schema's order), and which worker runs it."""

    def __init__(self, variables, workers, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.variables = variables or {}
        props = self.variables.get("properties", {})
        required = set(self.variables.get("required", []))
        for name in self.variables.get("order") or sorted(props):
            self.fields[name] = _field(name, props.get(name, {}), name in required)
        self.fields["_worker"] = forms.ChoiceField(
            label="Run on", required=False, widget=forms.Select(attrs={"id": "run-worker"}),
            choices=[(WORKER_ANY, "any worker")] + [(w, f"worker {w}") for w in workers])

    def job_data(self):
        """The cleaned values as the job's data (empty optional values left out)."""
        props = self.variables.get("properties", {})
        data = {}
        for name, value in self.cleaned_data.items():
            if name == "_worker" or value in ("", None, []):
                continue
            var_type = props.get(name, {}).get("var_type", "")
            if var_type in ("JSONVar", "ObjectVar", "MultiObjectVar"):
                try:
                    value = json.loads(value)
                except ValueError:
                    pass  # a plain string: the library says whether it fits
            data[name] = value
        return data
