"""`MlvFileSystem` through fsspec and pandas, registered by the `fsspec.specs` entry point."""

from __future__ import annotations

import os

import fsspec
import pandas as pd
import pytest

from conftest import Repo
from mlv.filesystem import MlvFileSystem


def test_the_entry_point_registers_the_protocol() -> None:
    assert fsspec.get_filesystem_class("mlv") is MlvFileSystem


def test_pandas_reads_a_tracked_csv_at_a_revision(repo: Repo) -> None:
    repo.empty_cache()
    v1 = pd.read_csv("mlv://data/train.csv", storage_options={"repo": str(repo.root), "rev": "v1.0"})
    assert v1.to_dict("list") == {"x": [1, 3], "y": [2, 4]}
    v2 = pd.read_csv("mlv://data/train.csv", storage_options={"repo": str(repo.root), "rev": "main"})
    assert v2["x"].tolist() == [1, 3, 5]


def test_fsspec_open_ls_find_info_cat_get(repo: Repo, tmp_path) -> None:
    repo.empty_cache()
    with fsspec.open("mlv://data/sub/b.txt", "rt", repo=str(repo.root), rev="v1.0") as f:
        assert f.read() == "bee\n"
    fs = fsspec.filesystem("mlv", repo=str(repo.root), rev="v1.0", skip_instance_cache=True)
    assert fs.ls("", detail=False) == ["big.bin", "data"]
    assert fs.ls("mlv://data", detail=False) == ["data/sub", "data/train.csv"]
    assert fs.find("data") == ["data/sub/b.txt", "data/train.csv"]
    assert fs.find("data", withdirs=True) == ["data", "data/sub", "data/sub/b.txt", "data/train.csv"]
    info = fs.info("data/train.csv")
    assert (info["type"], info["size"]) == ("file", len(Repo.V1_CSV))
    assert info["hash"].startswith("b3:")
    assert fs.info("data")["type"] == "directory"
    assert fs.isdir("data/sub") and fs.isfile("big.bin") and not fs.exists("notes.txt")
    assert fs.cat("data/train.csv") == Repo.V1_CSV
    assert fs.cat("data/train.csv", start=2, end=5) == Repo.V1_CSV[2:5]
    assert fs.cat("data", recursive=True) == {
        "data/sub/b.txt": b"bee\n",
        "data/train.csv": Repo.V1_CSV,
    }
    fs.get("data", str(tmp_path / "out"), recursive=True)
    assert (tmp_path / "out" / "train.csv").read_bytes() == Repo.V1_CSV
    assert (tmp_path / "out" / "sub" / "b.txt").read_bytes() == b"bee\n"
    with pytest.raises(FileNotFoundError):
        fs.cat("notes.txt")
    with pytest.raises(NotImplementedError):
        fs.open("data/train.csv", "wb")


def test_reading_a_folder_of_many_files_from_an_empty_cache_fetches_them_all(
    git_env: None, tmp_path
) -> None:
    many = Repo(tmp_path)
    many.git("init", "-q", "-b", "main")
    many.mlv("init")
    many.mlv("remote", "add", "store", str(many.remote), "--default")
    files = {f"many/d{i % 7}/f{i:04d}.bin": os.urandom(i % 300) for i in range(400)}
    files["many/same.bin"] = files["many/d1/f0001.bin"]  # one object for two files
    for rel, data in files.items():
        many.write(rel, data)
    many.mlv("add", "many")
    many.git("add", "-A")
    many.git("commit", "-q", "-m", "many")
    many.mlv("push")
    many.empty_cache()
    fs = MlvFileSystem(repo=str(many.root), rev="main", skip_instance_cache=True)
    assert fs.cat("many", recursive=True) == files
    many.empty_cache()
    out = tmp_path / "out"
    fs.get("many", str(out), recursive=True)
    assert {str(p.relative_to(out.parent)): p.read_bytes() for p in out.rglob("*.bin")} == {
        rel.replace("many/", "out/", 1): data for rel, data in files.items()
    }
