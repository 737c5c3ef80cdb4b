"""A host's stand-in for Nautobot's dcim models: what a server embedding the
library supplies under the nautobot namespace (no __init__.py above it)."""


class _Meta:
    def __init__(self, label):
        self.label_lower = label


class _QuerySet(list):
    def __init__(self, rows, model):
        super().__init__(rows)
        self.model = model


class _Manager:
    def __init__(self, rows):
        self._rows = rows

    def __set_name__(self, owner, name):
        self.model = owner

    def count(self):
        return len(self._rows)

    def all(self):
        return _QuerySet(self._rows, self.model)


class Device:
    _meta = _Meta("dcim.device")
    objects = _Manager(["edge-01", "edge-02", "core-01"])
