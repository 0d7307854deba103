"""``MlvFileSystem``: the data tracked in a git-mlv repository at one revision, as an
fsspec filesystem (protocol ``mlv``), read-only.

    >>> import pandas as pd
    >>> pd.read_csv("mlv://data/train.csv", storage_options={"repo": ".", "rev": "v1.0"})
    >>> fs = MlvFileSystem(repo=".", rev="v1.0")
    >>> fs.ls("data"), fs.find("data"), fs.cat("data/a.csv")

Paths are relative to the repository root. Listing, reading and fetching are git-mlv's
library (:mod:`mlv._mlv`); this class only speaks fsspec's protocol.
"""

from __future__ import annotations

import builtins
import os
import shutil
from typing import Any, Dict, List, Optional, Union

from fsspec.spec import AbstractFileSystem
from fsspec.utils import isfilelike

from . import _mlv


class MlvFileSystem(AbstractFileSystem):
    """Tracked data at ``rev`` of the repository holding the folder ``repo``, or of the
    repository at the git URL ``repo`` (read without a clone).

    ``rev=None`` reads the pointers in the work tree. The pointers are read once, when
    the filesystem is made; fsspec reuses an instance for the same arguments, so pass
    ``skip_instance_cache=True`` to see work-tree pointers changed since. Objects come from
    the cache, or from ``remote`` (default: the default remote) into the cache, verified.
    """

    protocol = "mlv"
    root_marker = ""

    def __init__(
        self,
        repo: Union[str, "os.PathLike[str]"] = ".",
        rev: Optional[str] = None,
        remote: Optional[str] = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.repo = os.fspath(repo)
        self.rev = rev
        self.remote = remote
        self._reader = _mlv.Reader(self.repo, rev, remote)

    @classmethod
    def _strip_protocol(cls, path: Any) -> str:
        path = super()._strip_protocol(path)
        return path.strip("/")

    @staticmethod
    def _entry(e: Dict[str, Any]) -> Dict[str, Any]:
        return {"name": e["path"], "size": e["size"], "type": e["type"], "hash": e["hash"]}

    def ls(self, path: str, detail: bool = True, **kwargs: Any) -> List[Any]:
        entries = [self._entry(e) for e in self._reader.ls(self._strip_protocol(path), False)]
        return entries if detail else [e["name"] for e in entries]

    def info(self, path: str, **kwargs: Any) -> Dict[str, Any]:
        return self._entry(self._reader.info(self._strip_protocol(path)))

    def find(
        self,
        path: str,
        maxdepth: Optional[int] = None,
        withdirs: bool = False,
        detail: bool = False,
        **kwargs: Any,
    ) -> Any:
        if maxdepth is not None or withdirs:
            return super().find(path, maxdepth=maxdepth, withdirs=withdirs, detail=detail, **kwargs)
        # Every file below, tracked directories' files included, in one call.
        found = {
            e["name"]: e
            for e in map(self._entry, self._reader.ls(self._strip_protocol(path), True))
        }
        return found if detail else sorted(found)

    def cat_file(
        self, path: str, start: Optional[int] = None, end: Optional[int] = None, **kwargs: Any
    ) -> bytes:
        if start is None and end is None:
            return self._reader.read(self._strip_protocol(path))
        return super().cat_file(path, start=start, end=end, **kwargs)

    def cat(self, path: Any, recursive: bool = False, on_error: str = "raise", **kwargs: Any) -> Any:
        # A folder's contents are its files: fsspec's expansion would also name the folders.
        if recursive and isinstance(path, str) and self.isdir(path):
            path = self.find(path)
        if isinstance(path, str) or on_error != "raise":
            return super().cat(path, recursive=recursive, on_error=on_error, **kwargs)
        # Many files: the cache's missing objects fetched in one batch, then each read.
        paths = sorted({self._strip_protocol(p) for p in path})
        return dict(zip(paths, self._reader.read_many(paths)))

    def get(self, rpath: Any, lpath: Any, recursive: bool = False, **kwargs: Any) -> None:
        # Fetch every file's object in one batch first; fsspec then copies them one by one.
        rpaths = [rpath] if isinstance(rpath, str) else list(rpath)
        files = [
            f
            for p in rpaths
            for f in (self.find(p) if recursive and self.isdir(p) else [self._strip_protocol(p)])
        ]
        if len(files) > 1:
            self._reader.fetch(files)
        super().get(rpath, lpath, recursive=recursive, **kwargs)

    def get_file(self, rpath: str, lpath: Any, callback: Any = None, outfile: Any = None, **kwargs: Any) -> None:
        path = self._strip_protocol(rpath)
        if outfile is not None or isfilelike(lpath):
            if callback is not None:
                kwargs["callback"] = callback
            return super().get_file(rpath, lpath, outfile=outfile, **kwargs)
        if self.info(path)["type"] == "directory":
            os.makedirs(lpath, exist_ok=True)
            return None
        os.makedirs(os.path.dirname(os.path.abspath(lpath)), exist_ok=True)
        # A copy of the cache's file by the kernel, not read through Python.
        shutil.copyfile(self._reader.object_path(path), lpath)
        return None

    def _open(self, path: str, mode: str = "rb", **kwargs: Any) -> Any:
        if mode != "rb":
            raise NotImplementedError(f"{self.protocol}:// is read-only; cannot open with mode {mode!r}")
        return builtins.open(self._reader.object_path(self._strip_protocol(path)), "rb")

    def ukey(self, path: str) -> str:
        # The object's hash names its content: equal keys, equal bytes.
        return str(self.info(path)["hash"])
