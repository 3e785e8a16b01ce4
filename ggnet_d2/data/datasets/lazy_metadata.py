"""A detectron2 ``Metadata`` whose data-dependent keys are computed on first access.

Registration must not touch the disk, yet ``MetadataCatalog.get(name)`` has to offer every key of
docs/interfaces.md (``valid_verb_object``, ``hoi_classes``, rare lists, ...). Those keys are resolved by reading the
annotation files the first time one of them is read, then stored like ordinary keys.
"""
from detectron2.data import MetadataCatalog
from detectron2.data.catalog import Metadata

__all__ = ["LazyMetadata", "register_lazy_metadata", "set_missing_metadata", "resolved_value"]


class LazyMetadata(Metadata):
    """``Metadata`` plus keys filled by ``resolve()`` (a callable returning a dict) on first access of any of them."""

    def __init__(self, name, resolve, lazy_keys, **static):
        super().__init__(name=name)
        self.__dict__["_resolve"] = resolve
        self.__dict__["_lazy_keys"] = set(lazy_keys) - set(static)
        for key, value in static.items():
            setattr(self, key, value)

    def _resolve_now(self):
        pending = self.__dict__["_lazy_keys"]
        if not pending:
            return
        values = self.__dict__["_resolve"]()
        for key in list(pending):
            if key in values:
                self.__dict__[key] = values[key]
        pending.clear()

    def __getattr__(self, key):
        if key in self.__dict__.get("_lazy_keys", ()):
            self._resolve_now()
            if key in self.__dict__:
                return self.__dict__[key]
        return super().__getattr__(key)

    def __setattr__(self, key, value):
        pending = self.__dict__.get("_lazy_keys", set())
        if key in pending:
            # An explicit value (e.g. set by the loader) replaces the lazy one without resolving it first.
            pending.discard(key)
            self.__dict__[key] = value
            return
        super().__setattr__(key, value)

    def as_dict(self):
        """All keys, lazy ones resolved."""
        self._resolve_now()
        return {k: v for k, v in self.__dict__.items() if not k.startswith("_")}

    def pending_keys(self):
        """Keys not resolved yet (for tests: registration must leave the disk alone)."""
        return set(self.__dict__["_lazy_keys"])


def register_lazy_metadata(name, resolve, lazy_keys, **static):
    """Put a :class:`LazyMetadata` into ``MetadataCatalog[name]`` and return it (replaces an empty entry)."""
    meta = LazyMetadata(name, resolve, lazy_keys, **static)
    MetadataCatalog.pop(name, None)
    MetadataCatalog[name] = meta
    return meta


def set_missing_metadata(dataset_name, values):
    """Set each key of ``values`` on ``MetadataCatalog.get(dataset_name)`` unless it is already (eagerly) there."""
    meta = MetadataCatalog.get(dataset_name)
    present = {k for k in meta.__dict__ if not k.startswith("_")}
    for key, value in values.items():
        if key not in present:
            setattr(meta, key, value)


def resolved_value(meta, key, default=None):
    """``meta.<key>`` when it is known without reading any file (set statically, or already resolved), else
    ``default``. Works for plain detectron2 ``Metadata`` too; never triggers a lazy resolution."""
    return meta.__dict__.get(key, default)
