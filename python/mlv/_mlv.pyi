"""The Rust extension: git-mlv's library bound with PyO3. Use the :mod:`mlv` API."""

from typing import Any, Dict, List, Optional

class Reader:
    """One repository at one revision (``rev=None``: the work tree's pointers)."""

    def __init__(self, repo: str, rev: Optional[str] = None, remote: Optional[str] = None) -> None: ...
    def info(self, path: str) -> Dict[str, Any]:
        """``{"path", "size", "hash", "type"}`` of a file or folder."""
    def ls(self, path: str, recursive: bool = False) -> List[Dict[str, Any]]:
        """The folder's entries (every file below it with ``recursive``), sorted."""
    def object_path(self, path: str) -> str:
        """The cache file holding the file's object, fetched and verified first if needed."""
    def read(self, path: str) -> bytes:
        """The file's bytes, copied once from the cache (verified when it entered)."""
    def url(self, path: str) -> str:
        """The object's URL on the remote."""

def lineage(artifact: str, rev: Optional[str] = None, repo: str = ".") -> str:
    """``git mlv lineage --json``'s document as JSON text."""
