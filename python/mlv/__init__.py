"""Read data versioned with git-mlv from Python, at any revision, without a checkout.

>>> import mlv
>>> mlv.ls("data", rev="v1.0")                     # what is tracked there
>>> with mlv.open("data/train.csv", rev="v1.0") as f:  # streamed from the cache
...     header = f.readline()
>>> blob = mlv.read("model.pkl", rev="main")       # the bytes

Data comes from the cache, or is fetched from the remote into the cache first (every
object verified against its hash). The work behind each call is git-mlv's own Rust
library: nothing is re-implemented here and no ``git mlv`` process is started. The
``mlv://`` protocol of fsspec (and so pandas) is :class:`mlv.filesystem.MlvFileSystem`.
"""

from __future__ import annotations

import builtins
import json
import os
from typing import IO, Any, Dict, List, Optional, Union

from . import _mlv
from .errors import MlvError, NotTrackedError, OperationError, UsageError

PathLike = Union[str, "os.PathLike[str]"]

__all__ = [
    "open",
    "read",
    "ls",
    "get_url",
    "lineage",
    "MlvError",
    "UsageError",
    "OperationError",
    "NotTrackedError",
]


def _reader(repo: PathLike, rev: Optional[str], remote: Optional[str]) -> "_mlv.Reader":
    return _mlv.Reader(os.fspath(repo), rev, remote)


def open(  # noqa: A001 - the name DVC users know (dvc.api.open)
    path: str,
    rev: Optional[str] = None,
    repo: PathLike = ".",
    remote: Optional[str] = None,
    mode: str = "rb",
    encoding: Optional[str] = None,
) -> IO[Any]:
    """Open the tracked file ``path`` as it was at ``rev``, for reading.

    ``path`` is relative to the repository root and may name a file inside a tracked
    directory. ``rev`` is any git revision (a branch, tag, commit, or a registry
    reference such as ``model#prod``); ``None`` reads the pointers in the work tree, as
    ``git mlv ls`` does. ``repo`` is a folder in the repository, or a git URL (read
    without a clone; its data cached under the user's cache folder, see docs/python.md).
    The file's object is taken from the cache, or first fetched from ``remote`` (default:
    the default remote) into the cache and verified. ``mode`` is ``"rb"`` (a binary file object streaming the
    object) or ``"r"`` (text, with ``encoding``).

    Raises :class:`NotTrackedError` (a :class:`FileNotFoundError`) when ``path`` is not
    tracked at ``rev``, another :class:`MlvError` otherwise.
    """
    if mode not in ("rb", "r"):
        raise ValueError(f"mode must be 'rb' or 'r', not {mode!r}: tracked data is read-only")
    obj = _reader(repo, rev, remote).object_path(path)
    if mode == "rb":
        return builtins.open(obj, "rb")
    return builtins.open(obj, "r", encoding=encoding)


def read(
    path: str,
    rev: Optional[str] = None,
    repo: PathLike = ".",
    remote: Optional[str] = None,
) -> bytes:
    """The bytes of the tracked file ``path`` at ``rev``, copied once from the cache
    (objects enter the cache verified, so they are not hashed again).

    Arguments and errors as for :func:`open`.
    """
    return _reader(repo, rev, remote).read(path)


def ls(
    path: str = ".",
    rev: Optional[str] = None,
    repo: PathLike = ".",
    recursive: bool = False,
) -> List[Dict[str, Any]]:
    """What is tracked in the folder ``path`` at ``rev``: one dict per entry, sorted by
    path, with ``path`` (from the repository root), ``size`` (a folder's: the sum of its
    files), ``hash`` (``"b3:…"``: a file's object, a tracked directory's manifest, ``None``
    for other folders) and ``type`` (``"file"`` or ``"directory"``).

    With ``recursive``, every file below ``path`` (the files inside tracked directories
    too) and no folders. A file lists as itself. A tracked directory's listing needs its
    manifest, fetched from the default remote when the cache lacks it.
    """
    return _reader(repo, rev, None).ls(path, recursive)


def get_url(
    path: str,
    rev: Optional[str] = None,
    repo: PathLike = ".",
    remote: Optional[str] = None,
) -> str:
    """The URL of the object of ``path`` (at ``rev``) on ``remote`` (default: the default
    remote); a folder remote's is a file path. The remote is asked whether it holds the
    object: :class:`OperationError` when it does not, :class:`UsageError` when it holds it
    inside a pack (small objects are pushed in packs; they have no URL of their own).
    """
    return _reader(repo, rev, remote).url(path)


def lineage(artifact: str, rev: Optional[str] = None, repo: PathLike = ".") -> Dict[str, Any]:
    """What produced ``artifact`` (a stage's output path or an ``mlv.toml`` artifact
    name), back to the raw data: the same dict as ``git mlv lineage --json`` prints
    (``{"rev": rev, "lineage": {...}}``), read at ``rev`` (the work tree when ``None``).
    """
    return json.loads(_mlv.lineage(artifact, rev, os.fspath(repo)))
