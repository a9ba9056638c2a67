"""Saving and loading models as ``.npz``: parameters as plain arrays, the architecture as
a JSON string. No pickle anywhere, so loading a file can never run code.

Layout of the archive: ``__nnlib__`` holds ``{"format", "version", "model"}`` where
"model" is a nested ``{"class", "config", "children"?}`` description built from each
layer's ``get_config()`` and ``children()`` (a layer met again is ``{"same_as": k}``,
see :func:`describe`); each parameter is stored under
``param/<name>`` with its ``parameters()`` name (``param/0.W``), each buffer under
``buffer/<name>``. Loading calls ``cls.from_config(config, children)`` bottom up, so
this module knows only the layer protocol, not any layer or model class.

Loading trusts nothing in the file. Every malformed file raises one ``ValueError`` that
names the file: not a zip (a text file, a single ``.npy``), a damaged archive (bad CRC,
truncated), ``__nnlib__`` JSON of the wrong kind or with missing keys, an architecture
nested deeper than :data:`MAX_DEPTH`, arrays of strings or objects (which would need
pickle: never), and parameters or buffers holding NaN or inf (refused, not warned:
they would make every prediction NaN; ``save`` refuses them too). The architecture is
checked against the stored arrays *before* anything is allocated: building it may take
little more memory than the arrays the file holds, so a small file cannot ask for GBs.
``save`` writes a temporary file and renames it, and never replaces a read-only file.
"""

from __future__ import annotations

import json
import math
import os
import tempfile
import zipfile
import zlib

import numpy as np
from numpy.lib import format as npy

from ._validation import MAX_ARRAY_BYTES, allocation_budget
from .layers.base import Layer

__all__ = ["save_model", "load_model", "Saveable"]

FORMAT = "nnlib-model"
VERSION = 2
#: How deep layers may nest inside layers in a model file (Sequential in Residual in ...).
MAX_DEPTH = 32
#: The largest architecture description (the ``__nnlib__`` JSON) a file may hold.
MAX_DESCRIPTION_BYTES = 8 * 1024**2
# Building the architecture may allocate this much beyond twice the stored arrays (a
# float64 model saved as float32, biases, small temporaries of the initialisers).
_BUILD_SLACK = 1024**2


def _layer_classes():
    """Every Layer subclass defined so far, by name (user-defined layers included)."""
    found, todo = {}, [Layer]
    while todo:
        cls = todo.pop()
        for sub in cls.__subclasses__():
            found.setdefault(sub.__name__, sub)
            todo.append(sub)
    return found


def describe(layer, _seen=None):
    """The JSON-able description of a layer: its class, its ``get_config()`` and, for
    layers made of layers, the descriptions of its ``children()``.

    A layer met a second time (shared: ``Sequential(d, Tanh(), d)``, or a layer both in
    a container and at a graph node) is described as ``{"same_as": k}``, k counting
    the layers in the order this walk first meets them (parents before children), so
    loading rebuilds one shared layer, not two."""
    seen = {} if _seen is None else _seen
    if id(layer) in seen:
        return {"same_as": seen[id(layer)]}
    seen[id(layer)] = len(seen)
    entry = {"class": type(layer).__name__, "config": layer.get_config()}
    children = layer.children()
    if children:
        entry["children"] = [describe(child, seen) for child in children]
    return entry


def build(entry, _built=None):
    """Construct a layer from ``describe``'s output (fresh parameters)."""
    built = [] if _built is None else _built
    if "same_as" in entry:
        k = entry["same_as"]
        if not (isinstance(k, int) and 0 <= k < len(built) and built[k] is not None):
            raise ValueError(f"The model file refers to shared layer {k!r}, which is not an "
                             f"earlier layer of the file. The file is damaged.")
        return built[k]
    classes = _layer_classes()
    name = entry["class"]
    if name not in classes:
        raise ValueError(f"The model file uses a layer class {name!r} that is not defined. "
                         f"Import or define it before loading.")
    slot = len(built)
    built.append(None)  # numbered before its children, as describe numbers them
    children = [build(child, built) for child in entry.get("children", [])]
    built[slot] = classes[name].from_config(entry["config"], children)
    return built[slot]


def save_model(model, path):
    """Write ``model`` to ``path``: first to a temporary file beside it, then an atomic
    rename, so an interrupted save never leaves a half-written model behind.

    Raises
    ------
    PermissionError if ``path`` exists and is read-only (it is left as it was);
    FileNotFoundError if its folder does not exist; ValueError if a parameter or buffer
    holds NaN or inf (such a file could not be loaded).
    """
    path = os.fspath(path)
    folder = os.path.dirname(os.path.abspath(path))
    if os.path.isdir(path):
        raise IsADirectoryError(f"cannot save to {path}: it is a folder. Give a file name, "
                                f"e.g. {os.path.join(path, 'model.npz')}.")
    if not os.path.isdir(folder):
        raise FileNotFoundError(f"cannot save to {path}: the folder {folder} does not exist. "
                                f"Create it first: os.makedirs({folder!r}).")
    if os.path.exists(path) and (not os.access(path, os.W_OK)
                                 or not os.stat(path).st_mode & 0o222):
        raise PermissionError(f"cannot save to {path}: the file is read-only, and nnlib does "
                              f"not replace a file you protected. Save under another name, or "
                              f"make it writable first (chmod u+w).")
    meta = {"format": FORMAT, "version": VERSION, "model": describe(model)}
    depth = _depth(meta["model"])
    if depth > MAX_DEPTH:
        raise ValueError(f"cannot save {type(model).__name__} to {path}: its layers nest "
                         f"{depth} levels deep and load reads at most {MAX_DEPTH}. Flatten the "
                         f"containers: Sequential(*a.layers, *b.layers) instead of "
                         f"Sequential(a, b).")
    arrays = {f"param/{k}": p.data for k, p in model.parameters().items()}
    arrays.update({f"buffer/{k}": b for k, b in model.buffers().items()})
    for key, value in arrays.items():
        _check_finite_array(f"cannot save {type(model).__name__} to {path}", key, value,
                            "Training probably diverged: train again with a smaller lr.")
    try:
        fd, tmp = tempfile.mkstemp(dir=folder, prefix=os.path.basename(path) + ".",
                                   suffix=".partial")
    except OSError as e:
        raise PermissionError(f"cannot save to {path}: nnlib cannot create a file in the "
                              f"folder {folder} ({e.strerror}). Save somewhere you can write.") \
            from None
    try:
        with os.fdopen(fd, "wb") as f:
            np.savez(f, __nnlib__=np.array(json.dumps(meta)), **arrays)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)


def _depth(entry):
    """How many levels of layers a description nests (1 for a plain layer)."""
    depth, level = 0, [entry]
    while level:
        depth += 1
        level = [child for e in level for child in e.get("children", [])]
    return depth


def _check_finite_array(where, key, value, fix):
    if np.issubdtype(value.dtype, np.floating) and not np.isfinite(value).all():
        bad = tuple(int(i) for i in np.argwhere(~np.isfinite(value))[0])
        raise ValueError(f"{where}: {key} holds {value[bad]} at index {bad} "
                         f"({int(np.size(value) - np.isfinite(value).sum())} non-finite "
                         f"values). nnlib refuses NaN and inf weights: they make every "
                         f"prediction NaN. {fix}")


def _not_a_model(path, why):
    return ValueError(f"{path!s} is not an nnlib model file ({why}). Models are written by "
                      f"model.save(path); plain arrays saved with np.savez load with np.load.")


def _damaged(path, why):
    return ValueError(f"{path!s} is a damaged nnlib model file: {why}. Save the model again "
                      f"with model.save(path), or use an intact copy.")


def load_model(path, expected=None):
    """Read a model written by :func:`save_model`.

    Raises
    ------
    FileNotFoundError if ``path`` does not exist; ValueError, naming the file, for any
    file that is not an intact nnlib model (see the module docstring for the cases),
    including parameters or buffers holding NaN or inf; TypeError if it holds another
    kind of model than ``expected``.
    """
    path = os.fspath(path)
    if os.path.isdir(path):
        raise _not_a_model(path, "it is a folder")
    with open(path, "rb") as f:  # FileNotFoundError passes through as it is
        head = f.read(64)
    if head.startswith(b"\x93NUMPY"):
        raise _not_a_model(path, "a single .npy array, not an .npz archive")
    if not head.startswith(b"PK"):
        kind = ("a text file" if head and all(32 <= c < 127 or c in b"\t\r\n" for c in head)
                else "an empty file" if not head else "not a zip archive")
        raise _not_a_model(path, f"{kind}, starting {head[:16]!r}; a model file is an .npz "
                                 f"(zip) archive")
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError, EOFError) as e:
        raise _not_a_model(path, f"a damaged or incomplete zip archive: {e}") from None
    with archive:
        entries = _headers(path, archive)
        meta = _read_meta(path, archive, entries)
        _check_description(path, meta["model"])
        stored = sum(nbytes for key, (_, _, nbytes) in entries.items() if key != "__nnlib__")
        with allocation_budget(2 * stored + _BUILD_SLACK, stored, path):
            try:
                model = build(meta["model"])
            except (TypeError, ValueError, KeyError, IndexError) as e:
                raise _damaged(path, f"its architecture description cannot be built: "
                                     f"{str(e).rstrip('.')}") from None
        _restore(path, archive, entries, "param",
                 {k: p.data for k, p in model.parameters().items()})
        _restore(path, archive, entries, "buffer", model.buffers())
    if expected is not None and not isinstance(model, expected):
        raise TypeError(f"{path!s} holds a {type(model).__name__}, not a {expected.__name__}. "
                        f"Load it with {type(model).__name__}.load(path).")
    return model


def _headers(path, archive):
    """``{key: (ZipInfo, dtype, nbytes)}`` for every ``key.npy`` entry, read from the
    .npy headers alone: no array data is read and nothing large is allocated."""
    entries = {}
    for info in archive.infolist():
        if not info.filename.endswith(".npy"):
            raise _not_a_model(path, f"an entry {info.filename!r} that is not an array")
        key = info.filename[:-4]
        try:
            with archive.open(info) as f:
                version = npy.read_magic(f)
                if version == (1, 0):
                    shape, _, dtype = npy.read_array_header_1_0(f)
                elif version == (2, 0):
                    shape, _, dtype = npy.read_array_header_2_0(f)
                else:
                    raise ValueError(f".npy format version {version} is not one nnlib writes")
        except (ValueError, OSError, EOFError, zipfile.BadZipFile, zlib.error) as e:
            raise _damaged(path, f"the header of {key!r} cannot be read ({e})") from None
        if dtype.hasobject:
            raise _damaged(path, f"{key!r} is an array of Python objects, which could only be "
                                 f"read by unpickling it; nnlib files hold numbers only and "
                                 f"nnlib never unpickles")
        wanted = "U" if key == "__nnlib__" else "fiub"
        if dtype.kind not in wanted:
            what = "a string" if key == "__nnlib__" else "numbers"
            raise _damaged(path, f"{key!r} holds {dtype} values where nnlib stores {what}")
        nbytes = math.prod(shape) * dtype.itemsize
        limit = MAX_DESCRIPTION_BYTES if key == "__nnlib__" else MAX_ARRAY_BYTES
        if nbytes > limit or nbytes > info.file_size:
            raise _damaged(path, f"{key!r} claims shape {shape} ({nbytes:,} bytes), more than "
                                 f"{'the entry holds' if nbytes <= limit else 'nnlib reads'}")
        entries[key] = (info, dtype, nbytes)
    return entries


def _read(path, archive, entries, key):
    """The array stored under ``key``, after :func:`_headers` checked it."""
    try:
        with archive.open(entries[key][0]) as f:
            return npy.read_array(f, allow_pickle=False)
    except (ValueError, OSError, EOFError, zipfile.BadZipFile, zlib.error) as e:
        raise _damaged(path, f"{key!r} cannot be read ({e})") from None


def _read_meta(path, archive, entries):
    """The ``__nnlib__`` description: a JSON object with format, version and model."""
    if "__nnlib__" not in entries:
        raise _not_a_model(path, "no '__nnlib__' entry")
    text = _read(path, archive, entries, "__nnlib__")
    if text.shape != ():
        raise _damaged(path, f"'__nnlib__' has shape {text.shape}, expected one string")
    try:
        meta = json.loads(str(text))
    except (ValueError, RecursionError) as e:
        raise _not_a_model(path, f"unreadable '__nnlib__' entry: {type(e).__name__}") from None
    if not isinstance(meta, dict):
        raise _not_a_model(path, f"'__nnlib__' holds a JSON {type(meta).__name__}, expected an "
                                 f"object with 'format', 'version' and 'model'")
    if meta.get("format") == FORMAT and meta.get("version") != VERSION:
        raise ValueError(f"{path!s} was written by another version of nnlib (model file "
                         f"format {meta.get('version')!r}; this nnlib reads {VERSION}). "
                         f"Build and train the model again with this version, then save.")
    if meta.get("format") != FORMAT:
        raise _not_a_model(path, f"format {meta.get('format')!r} version "
                                 f"{meta.get('version')!r}, expected {FORMAT!r} {VERSION}")
    if "model" not in meta:
        raise _damaged(path, "'__nnlib__' has no 'model' entry (the architecture)")
    return meta


def _check_description(path, entry):
    """The nested ``{"class", "config", "children"?}`` layout, at most MAX_DEPTH deep,
    walked without recursion so that no file can exhaust the stack."""
    todo = [(entry, 1, "model")]
    while todo:
        entry, depth, where = todo.pop()
        if depth > MAX_DEPTH:
            raise _damaged(path, f"its layers nest more than {MAX_DEPTH} levels deep (layers "
                                 f"inside layers); nnlib loads at most {MAX_DEPTH}")
        if not isinstance(entry, dict):
            raise _damaged(path, f"{where} is a JSON {type(entry).__name__}, expected an "
                                 f"object with 'class' and 'config'")
        if set(entry) == {"same_as"}:  # a shared layer met again (see describe)
            k = entry["same_as"]
            if not isinstance(k, int) or isinstance(k, bool) or k < 0:
                raise _damaged(path, f"{where} refers to shared layer {k!r}; expected the "
                                     f"number (an int >= 0) of an earlier layer")
            continue
        missing = {"class", "config"} - set(entry)
        extra = set(entry) - {"class", "config", "children"}
        if missing or extra:
            raise _damaged(path, f"{where} has keys {sorted(entry)}; expected 'class', "
                                 f"'config' and optionally 'children' (or only 'same_as')")
        if not isinstance(entry["class"], str) or not isinstance(entry["config"], dict):
            raise _damaged(path, f"{where} needs a class name (a string) and a config (an "
                                 f"object), got {entry['class']!r} and a "
                                 f"{type(entry['config']).__name__}")
        children = entry.get("children", [])
        if not isinstance(children, list):
            raise _damaged(path, f"{where}'s children are a {type(children).__name__}, "
                                 f"expected a list")
        todo.extend((child, depth + 1, f"{where}.children[{i}]")
                    for i, child in enumerate(children))


def _restore(path, archive, entries, prefix, targets):
    """Copy the archive's ``prefix/<name>`` arrays into ``targets`` (name -> array), in
    place, after checking that names and shapes match the rebuilt architecture and that
    the values are finite."""
    what = {"param": "parameters", "buffer": "buffers"}[prefix]
    stored = {k[len(prefix) + 1:] for k in entries if k.startswith(prefix + "/")}
    if stored != set(targets):
        raise _damaged(path, f"the stored {what} {sorted(stored)} do not match the "
                             f"architecture's {sorted(targets)}")
    for key, target in targets.items():
        value = _read(path, archive, entries, f"{prefix}/{key}")
        if value.shape != target.shape:
            raise _damaged(path, f"{what[:-1]} {key} has shape {value.shape}, the "
                                 f"architecture needs {target.shape}")
        _check_finite_array(f"{path!s} cannot be loaded", f"{what[:-1]} {key}", value,
                            "The model was probably saved after training diverged: train "
                            "again with a smaller lr, then save.")
        target[...] = value


class Saveable:
    """Mixin for models: ``model.save(path)`` and ``Model.load(path)``."""

    def save(self, path):
        """Write the architecture and parameters to ``path`` (.npz, no pickle), atomically;
        a read-only ``path`` is refused and left as it was."""
        save_model(self, path)

    @classmethod
    def load(cls, path):
        """Rebuild a model saved by ``save``. Raises ValueError, naming the file, for any
        other or damaged file and for NaN/inf weights (refused, never loaded), and
        TypeError if the file holds another kind of model."""
        return load_model(path, expected=cls)
