"""Saving and loading models as ``.npz``: parameters as plain arrays, the architecture as
a JSON string. No pickle anywhere, so loading a file can never run code.

Layout of the archive: ``__nnlib__`` holds ``{"format", "version", "model"}`` where
"model" is a nested ``{"class", "config", "layers"?}`` description; each parameter is
stored under ``param/<name>`` with its ``parameters()`` name (``param/0.W``).
"""

from __future__ import annotations

import json
import os
import zipfile

import numpy as np

from .core import Layer

__all__ = ["save_model", "load_model", "Saveable"]

FORMAT = "nnlib-model"
VERSION = 1


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
    """The JSON-able description of a layer (and, for containers, of its children; for a
    graph Model, of its nodes and edges too)."""
    if not getattr(layer, "serializable", True):
        raise TypeError(f"{layer!r} holds Python functions, which nnlib does not save (that "
                        f"would need pickle). Save the other weights with np.savez, or "
                        f"replace it by a built-in layer.")
    entry = {"class": type(layer).__name__, "config": layer.get_config()}
    if hasattr(layer, "layers"):
        entry["layers"] = [describe(child) for child in layer.layers]
    if hasattr(layer, "nodes"):
        node_index = {id(n): i for i, n in enumerate(layer.nodes)}
        layer_index = {id(child): i for i, child in enumerate(layer.layers)}
        entry["graph"] = {
            "nodes": [{"layer": layer_index.get(id(n.layer)), "shape": list(n.shape),
                       "parents": [node_index[id(p)] for p in n.parents]}
                      for n in layer.nodes],
            "inputs": [node_index[id(n)] for n in layer.inputs],
            "outputs": [node_index[id(n)] for n in layer.outputs]}
    return entry


def _build_graph(entry, layers):
    from .graph import Input, Model, connect

    nodes = []
    for spec in entry["graph"]["nodes"]:
        if spec["layer"] is None:
            nodes.append(Input(tuple(spec["shape"])))
            continue
        parents = [nodes[i] for i in spec["parents"]]
        layer = layers[spec["layer"]]
        nodes.append(connect(layer, parents if getattr(layer, "takes_list", False)
                             else parents[0]))
    return Model(inputs=[nodes[i] for i in entry["graph"]["inputs"]],
                 outputs=[nodes[i] for i in entry["graph"]["outputs"]])


def build(entry):
    """Construct a layer from ``describe``'s output (fresh parameters)."""
    classes = _layer_classes()
    name = entry["class"]
    if name not in classes:
        raise ValueError(f"The model file uses a layer class {name!r} that is not defined. "
                         f"Import or define it before loading.")
    if "graph" in entry:
        return _build_graph(entry, [build(child) for child in entry["layers"]])
    if "layers" in entry:
        return classes[name](*(build(child) for child in entry["layers"]))
    return classes[name](**entry["config"])


def save_model(model, path):
    """Write ``model`` to ``path``: first to ``path + '.partial'``, then an atomic rename,
    so an interrupted save never leaves a half-written model behind."""
    path = os.fspath(path)
    meta = {"format": FORMAT, "version": VERSION, "model": describe(model)}
    arrays = {f"param/{k}": p.data for k, p in model.parameters().items()}
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
        if meta.get("format") != FORMAT or meta.get("version") != VERSION:
            raise _not_a_model(path, f"format {meta.get('format')!r} version "
                                     f"{meta.get('version')!r}, expected {FORMAT!r} {VERSION}")
        model = build(meta["model"])
        stored = {k[len("param/"):] for k in archive.files if k.startswith("param/")}
        params = model.parameters()
        if stored != set(params):
            raise ValueError(f"{path!s}: the stored parameters {sorted(stored)} do not match the "
                             f"architecture's {sorted(params)}. The file is damaged.")
        for key, p in params.items():
            value = archive[f"param/{key}"]
            if value.shape != p.shape:
                raise ValueError(f"{path!s}: parameter {key} has shape {value.shape}, the "
                                 f"architecture needs {p.shape}. The file is damaged.")
            p.data[...] = value
    if expected is not None and not isinstance(model, expected):
        raise TypeError(f"{path!s} holds a {type(model).__name__}, not a {expected.__name__}. "
                        f"Load it with {type(model).__name__}.load(path).")
    return model


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
