"""`mlv.open/read/ls/get_url/lineage` against a real repository and folder remote."""

from __future__ import annotations

import json
import os
import shutil

import mlv
import pytest

from conftest import Repo


def cli_error(repo: Repo, *args: str) -> str:
    """What `git mlv <args>` prints on stderr, without the `error: ` prefix."""
    p = repo.mlv(*args, check=False)
    assert p.returncode != 0, p
    return p.stderr.strip().removeprefix("error: ")


def test_read_fetches_from_the_remote_into_the_cache_at_each_revision(repo: Repo) -> None:
    repo.empty_cache()
    assert mlv.read("data/train.csv", rev="v1.0", repo=repo.root) == Repo.V1_CSV
    assert mlv.read("data/train.csv", rev="main", repo=repo.root) == Repo.V2_CSV
    assert mlv.read("big.bin", rev="v1.0", repo=repo.root) == repo.big
    # Now in the cache: `git mlv` sees the objects there without a fetch.
    assert (repo.root / ".git" / "mlv" / "cache").is_dir()


def test_open_streams_the_file_and_text_mode_decodes(repo: Repo) -> None:
    repo.empty_cache()
    with mlv.open("data/train.csv", rev="v1.0", repo=repo.root) as f:
        assert f.readline() == b"x,y\n"
        assert f.read() == Repo.V1_CSV[4:]
    with mlv.open("data/sub/b.txt", rev="v1.0", repo=repo.root, mode="r", encoding="utf-8") as f:
        assert f.read() == "bee\n"
    with pytest.raises(ValueError):
        mlv.open("data/train.csv", repo=repo.root, mode="wb")


def test_rev_none_reads_the_work_trees_pointers(repo: Repo) -> None:
    assert mlv.read("notes.txt", repo=repo.root) == b"notes\n"
    assert mlv.read("data/train.csv", repo=repo.root) == Repo.V2_CSV


def test_ls_lists_children_sizes_and_hashes(repo: Repo) -> None:
    repo.empty_cache()
    top = mlv.ls(rev="v1.0", repo=repo.root)
    assert [(e["path"], e["type"]) for e in top] == [("big.bin", "file"), ("data", "directory")]
    assert top[0]["size"] == len(repo.big)
    assert top[0]["hash"].startswith("b3:")
    assert top[1]["size"] == len(Repo.V1_CSV) + 4
    # The same hashes `git mlv ls --json` prints.
    cli = json.loads(repo.mlv("ls", "--rev", "v1.0", "--json").stdout)["artifacts"]
    assert {a["path"]: a["hash"] for a in cli} == {e["path"]: e["hash"] for e in top}
    inside = mlv.ls("data", rev="v1.0", repo=repo.root)
    assert [(e["path"], e["type"], e["size"]) for e in inside] == [
        ("data/sub", "directory", 4),
        ("data/train.csv", "file", len(Repo.V1_CSV)),
    ]
    assert inside[0]["hash"] is None
    deep = mlv.ls("data", rev="v1.0", repo=repo.root, recursive=True)
    assert [e["path"] for e in deep] == ["data/sub/b.txt", "data/train.csv"]
    assert [e["path"] for e in mlv.ls("data/train.csv", rev="v1.0", repo=repo.root)] == ["data/train.csv"]
    assert [e["path"] for e in mlv.ls(rev="main", repo=repo.root)] == ["big.bin", "data", "notes.txt"]


def test_a_path_not_tracked_is_a_file_not_found_error(repo: Repo) -> None:
    with pytest.raises(FileNotFoundError) as e:
        mlv.read("notes.txt", rev="v1.0", repo=repo.root)
    assert isinstance(e.value, mlv.NotTrackedError)
    assert isinstance(e.value, mlv.MlvError)
    assert str(e.value).startswith("`notes.txt` is not tracked at `v1.0`\nhint: ")
    with pytest.raises(FileNotFoundError):
        mlv.ls("data/nope", rev="v1.0", repo=repo.root)
    with pytest.raises(mlv.UsageError, match="is a directory"):
        mlv.read("data", rev="v1.0", repo=repo.root)


def test_errors_carry_the_message_the_cli_prints(repo: Repo) -> None:
    with pytest.raises(mlv.UsageError) as e:
        mlv.ls(rev="nope", repo=repo.root)
    assert str(e.value) == cli_error(repo, "ls", "--rev", "nope")
    assert e.value.exit_code == 2 and e.value.hint
    assert not isinstance(e.value, FileNotFoundError)
    with pytest.raises(mlv.UsageError) as e:
        mlv.read("big.bin", rev="v1.0", repo=repo.root, remote="elsewhere")
    assert str(e.value) == cli_error(repo, "fetch", "-r", "elsewhere")
    missing = (repo.root.parent / "no-such-repo").as_uri()
    with pytest.raises(mlv.UsageError) as e:
        mlv.read("data/train.csv", repo=missing)
    assert str(e.value) == cli_error(repo, "get", missing, "data/train.csv")


def test_a_remote_that_lost_the_object_is_an_operation_error(repo: Repo, tmp_path) -> None:
    other = Repo(tmp_path)
    other.build()
    shutil.rmtree(other.remote)
    other.remote.mkdir()
    with pytest.raises(mlv.MlvError) as e:
        mlv.read("big.bin", rev="v1.0", repo=other.root)
    assert "store" in str(e.value)


def test_get_url_names_the_object_on_the_remote(repo: Repo) -> None:
    url = mlv.get_url("big.bin", rev="v1.0", repo=repo.root)
    assert url.startswith(str(repo.remote) + "/b3/")
    with open(url, "rb") as f:
        assert f.read() == repo.big
    # A small object went up inside a pack: it has no URL of its own.
    with pytest.raises(mlv.UsageError, match="inside pack"):
        mlv.get_url("data/train.csv", rev="v1.0", repo=repo.root)


def test_get_url_of_a_packed_object_says_why_and_how_to_get_one(tmp_path) -> None:
    repo = Repo(tmp_path).build()
    with pytest.raises(mlv.UsageError) as e:
        mlv.get_url("data/train.csv", rev="v1.0", repo=repo.root)
    assert str(e.value).startswith("the data of `data/train.csv` is stored inside pack ")
    assert "on remote `store`, so it has no URL of its own\nhint: " in str(e.value)
    assert "`git mlv remote set <name> pack_threshold 0`" in e.value.hint
    # Doing what the hint says: a remote that never packs holds it loose, with a URL.
    urls = tmp_path / "urls"
    repo.mlv("remote", "add", "urls", str(urls))
    repo.mlv("remote", "set", "urls", "pack_threshold", "0")
    repo.mlv("fetch", "--rev", "v1.0")
    repo.mlv("push", "-r", "urls", "--rev", "v1.0")
    url = mlv.get_url("data/train.csv", rev="v1.0", repo=repo.root, remote="urls")
    assert url.startswith(str(urls) + "/b3/")
    with open(url, "rb") as f:
        assert f.read() == Repo.V1_CSV


def test_lineage_is_the_cli_json(repo: Repo) -> None:
    got = mlv.lineage("data", rev="v1.0", repo=repo.root)
    assert got == json.loads(repo.mlv("lineage", "data", "--rev", "v1.0", "--json").stdout)
    assert got["lineage"]["path"] == "data"
    assert mlv.lineage("big.bin", repo=repo.root) == json.loads(repo.mlv("lineage", "big.bin", "--json").stdout)


def test_read_trusts_the_cache_but_reports_an_object_of_the_wrong_length(tmp_path) -> None:
    repo = Repo(tmp_path).build()
    assert mlv.read("big.bin", rev="v1.0", repo=repo.root) == repo.big
    with mlv.open("big.bin", rev="v1.0", repo=repo.root) as f:
        obj = f.name  # the cache file itself
    os.chmod(obj, 0o644)
    with open(obj, "r+b") as f:
        f.truncate(1 << 20)
    with pytest.raises(mlv.OperationError) as e:
        mlv.read("big.bin", rev="v1.0", repo=repo.root)
    assert "in the cache is damaged" in str(e.value)
    assert "hint: remove `" in str(e.value)
