"""`repo=<git URL>`: another repository read without a clone, by its `file://` URL, its
data fetched from its own folder remote into the cache kept with its bare cache repository
under the user's cache folder."""

from __future__ import annotations

import os
from pathlib import Path

import fsspec
import mlv
import pandas as pd
import pytest

from conftest import Repo


def url_caches() -> list:
    """The object caches of repositories read by URL (`$XDG_CACHE_HOME/git-mlv/repos/*/cache`)."""
    return sorted(Path(os.environ["XDG_CACHE_HOME"]).glob("git-mlv/repos/*/cache"))


def test_read_open_ls_and_get_url_by_url(source: Repo) -> None:
    url = source.root.as_uri()
    source.empty_cache()
    assert mlv.read("data/train.csv", rev="v1.0", repo=url) == Repo.V1_CSV
    assert mlv.read("data/train.csv", rev="main", repo=url) == Repo.V2_CSV
    assert mlv.read("data/sub/b.txt", repo=url) == b"bee\n"
    with mlv.open("big.bin", rev="v1.0", repo=url) as f:
        assert f.read() == source.big
    # Fetched into the URL's own cache, never into the source repository's.
    assert not (source.root / ".git" / "mlv" / "cache").exists()
    assert any(c.joinpath("b3").is_dir() for c in url_caches())
    top = mlv.ls(rev="v1.0", repo=url)
    assert [(e["path"], e["type"]) for e in top] == [("big.bin", "file"), ("data", "directory")]
    assert [e["path"] for e in mlv.ls("data", rev="v1.0", repo=url, recursive=True)] == [
        "data/sub/b.txt",
        "data/train.csv",
    ]
    assert mlv.get_url("big.bin", rev="v1.0", repo=url).startswith(str(source.remote) + "/b3/")


def test_url_errors(source: Repo) -> None:
    url = source.root.as_uri()
    with pytest.raises(FileNotFoundError) as e:
        mlv.read("notes.txt", rev="v1.0", repo=url)
    assert isinstance(e.value, mlv.NotTrackedError)
    assert str(e.value).startswith(f"`notes.txt` is not tracked in `{url}` at `v1.0`\nhint: ")
    with pytest.raises(mlv.UsageError, match="is not a branch, tag or commit"):
        mlv.ls(rev="no-such-rev", repo=url)
    with pytest.raises(mlv.UsageError, match="on this machine"):
        mlv.lineage("data", repo=url)


def test_filesystem_by_url_at_a_tag(source: Repo, tmp_path) -> None:
    url = source.root.as_uri()
    df = pd.read_csv("mlv://data/train.csv", storage_options={"repo": url, "rev": "v1.0"})
    assert df.to_dict("list") == {"x": [1, 3], "y": [2, 4]}
    fs = fsspec.filesystem("mlv", repo=url, rev="v1.0", skip_instance_cache=True)
    assert fs.ls("", detail=False) == ["big.bin", "data"]
    assert fs.find("data") == ["data/sub/b.txt", "data/train.csv"]
    assert fs.cat("data/sub/b.txt") == b"bee\n"
    fs.get("data", str(tmp_path / "out"), recursive=True)
    assert (tmp_path / "out" / "train.csv").read_bytes() == Repo.V1_CSV
    with pytest.raises(FileNotFoundError):
        fs.cat("notes.txt")
