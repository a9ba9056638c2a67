"""Saving and loading models as ``.npz``: parameters as plain arrays, the architecture as
a JSON string. No pickle anywhere, so loading a file can never run code.

Layout of the archive: ``__nnlib__`` holds ``{"format", "version", "model"}`` where
"model" is a nested ``{"class", "config", "children"?}`` description built from each
layer's ``get_config()`` and ``children()``; each parameter is stored under
``param/<name>`` with its ``parameters()`` name (``param/0.W``), each buffer under
``buffer/<name>``. Loading calls ``cls.from_config(config, children)`` bottom up, so
this module knows only the layer protocol, not any layer or model class.
"""

from __future__ import annotations

import json
import os
import zipfile

import numpy as np

from .layers.base import Layer

__all__ = ["save_model", "load_model", "Saveable"]

FORMAT = "nnlib-model"
VERSION = 2


def _layer_classes():
    """Every Layer subclass defined so far, by name (user-defined layers included)."""
    found, todo = {}, [Layer]
    while todo:
        cls = todo.pop()
        for sub in cls.__subclasses__():
            found.setdefault(sub.__name__, sub)
            todo.append(sub)
    return found


def describe(layer):
    """The JSON-able description of a layer: its class, its ``get_config()`` and, for
    layers made of layers, the descriptions of its ``children()``."""
    entry = {"class": type(layer).__name__, "config": layer.get_config()}
    children = layer.children()
    if children:
        entry["children"] = [describe(child) for child in children]
    return entry


def build(entry):
    """Construct a layer from ``describe``'s output (fresh parameters)."""
    classes = _layer_classes()
    name = entry["class"]
    if name not in classes:
        raise ValueError(f"The model file uses a layer class {name!r} that is not defined. "
                         f"Import or define it before loading.")
    children = [build(child) for child in entry.get("children", [])]
    return classes[name].from_config(entry["config"], children)


def save_model(model, path):
    """Write ``model`` to ``path``: first to ``path + '.partial'``, then an atomic rename,
    so an interrupted save never leaves a half-written model behind."""
    path = os.fspath(path)
    meta = {"format": FORMAT, "version": VERSION, "model": describe(model)}
    arrays = {f"param/{k}": p.data for k, p in model.parameters().items()}
    arrays.update({f"buffer/{k}": b for k, b in model.buffers().items()})
    tmp = path + ".partial"
    try:
        with open(tmp, "wb") as f:
            np.savez(f, __nnlib__=np.array(json.dumps(meta)), **arrays)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)


def _not_a_model(path, why):
    return ValueError(f"{path!s} is not an nnlib model file ({why}). Models are written by "
                      f"model.save(path); plain arrays saved with np.savez load with np.load.")


def load_model(path, expected=None):
    """Read a model written by :func:`save_model`.

    Raises
    ------
    FileNotFoundError if ``path`` does not exist; ValueError for any file that is not an
    nnlib model, or whose parameters do not match its architecture.
    """
    try:
        archive = np.load(path, allow_pickle=False)
    except FileNotFoundError:
        raise
    except (OSError, ValueError, EOFError, zipfile.BadZipFile) as e:
        raise _not_a_model(path, f"not an .npz archive: {e}") from None
    if not isinstance(archive, np.lib.npyio.NpzFile):
        raise _not_a_model(path, "a single .npy array, not an .npz archive")
    with archive:
        if "__nnlib__" not in archive.files:
            raise _not_a_model(path, "no '__nnlib__' entry")
        try:
            meta = json.loads(str(archive["__nnlib__"]))
        except (ValueError, TypeError) as e:
            raise _not_a_model(path, f"unreadable '__nnlib__' entry: {e}") from None
        if meta.get("format") == FORMAT and meta.get("version") != VERSION:
            raise ValueError(f"{path!s} was written by another version of nnlib (model file "
                             f"format {meta.get('version')!r}; this nnlib reads {VERSION}). "
                             f"Build and train the model again with this version, then save.")
        if meta.get("format") != FORMAT:
            raise _not_a_model(path, f"format {meta.get('format')!r} version "
                                     f"{meta.get('version')!r}, expected {FORMAT!r} {VERSION}")
        model = build(meta["model"])
        _restore(path, archive, "param", {k: p.data for k, p in model.parameters().items()})
        _restore(path, archive, "buffer", model.buffers())
    if expected is not None and not isinstance(model, expected):
        raise TypeError(f"{path!s} holds a {type(model).__name__}, not a {expected.__name__}. "
                        f"Load it with {type(model).__name__}.load(path).")
    return model


def _restore(path, archive, prefix, targets):
    """Copy the archive's ``prefix/<name>`` arrays into ``targets`` (name -> array), in
    place, after checking that names and shapes match the rebuilt architecture."""
    what = {"param": "parameters", "buffer": "buffers"}[prefix]
    stored = {k[len(prefix) + 1:] for k in archive.files if k.startswith(prefix + "/")}
    if stored != set(targets):
        raise ValueError(f"{path!s}: the stored {what} {sorted(stored)} do not match the "
                         f"architecture's {sorted(targets)}. The file is damaged.")
    for key, target in targets.items():
        value = archive[f"{prefix}/{key}"]
        if value.shape != target.shape:
            raise ValueError(f"{path!s}: {what[:-1]} {key} has shape {value.shape}, the "
                             f"architecture needs {target.shape}. The file is damaged.")
        target[...] = value


class Saveable:
    """Mixin for models: ``model.save(path)`` and ``Model.load(path)``."""

    def save(self, path):
        """Write the architecture and parameters to ``path`` (.npz, no pickle), atomically."""
        save_model(self, path)

    @classmethod
    def load(cls, path):
        """Rebuild a model saved by ``save``. Raises ValueError for any other file, and
        TypeError if the file holds another kind of model."""
        return load_model(path, expected=cls)
