"""`repo=<git URL>` of a repository whose default remote is S3 (s3s-fs on loopback): read
without a clone by its `file://` URL, its data fetched from that S3 remote with the
credentials of the environment, as `git mlv get` takes them: never the source's own
`config.local.toml`, whose secrets are its machine's."""

from __future__ import annotations

from pathlib import Path

import fsspec
import mlv
import pytest

from conftest import S3, Repo, run


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch):
    """Sets the reader's S3 credentials in the environment (the secret given)."""

    def set_secret(secret: str) -> None:
        monkeypatch.setenv("AWS_ACCESS_KEY_ID", S3.ACCESS_KEY)
        monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", secret)

    return set_secret


def fresh_url_cache(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """An empty user cache folder: the URL's bare repository and object cache made anew."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))


def test_read_open_and_filesystem_from_an_s3_source_by_url(
    s3_source: Repo, aws, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    aws(S3.SECRET_KEY)
    fresh_url_cache(monkeypatch, tmp_path)
    url = s3_source.root.as_uri()
    assert mlv.read("data/train.csv", rev="v1.0", repo=url) == Repo.V1_CSV
    assert mlv.read("data/train.csv", repo=url) == Repo.V2_CSV
    with mlv.open("big.bin", rev="v1.0", repo=url) as f:
        assert f.read() == s3_source.big
    fs = fsspec.filesystem("mlv", repo=url, rev="v1.0", skip_instance_cache=True)
    assert fs.find("data") == ["data/sub/b.txt", "data/train.csv"]
    assert fs.cat(fs.find("data")) == {"data/sub/b.txt": b"bee\n", "data/train.csv": Repo.V1_CSV}
    # The big object is loose on the bucket: its URL is the S3 key s3s-fs keeps as a file.
    got = mlv.get_url("big.bin", rev="v1.0", repo=url)
    key = got.removeprefix(f"s3://{S3.BUCKET}/team/proj/")
    assert got.startswith(f"s3://{S3.BUCKET}/team/proj/b3/")
    assert (s3_source.remote / key).read_bytes() == s3_source.big
    # Read from the bucket into the URL's cache; the source's own cache stays empty.
    assert not (s3_source.root / ".git" / "mlv" / "cache").exists()


def test_an_s3_source_uses_the_environment_credentials_never_the_sources(
    s3_source: Repo, aws, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    # The source's `config.local.toml` holds the right secret; the environment a wrong
    # one: the read is refused by the server, and the secret is never in the message.
    aws("a-wrong-secret-do-not-print")
    fresh_url_cache(monkeypatch, tmp_path)
    url = s3_source.root.as_uri()
    with pytest.raises(mlv.OperationError) as e:
        mlv.read("big.bin", rev="v1.0", repo=url)
    text = str(e.value)
    assert "store" in text and "hint:" in text
    assert "do-not-print" not in text
    # The CLI says the same thing for the same request (the server's answer aside).
    p = subprocess_get(url, tmp_path)
    assert p.returncode == e.value.exit_code
    assert "do-not-print" not in p.stderr
    assert f"error: fetching from remote `store` (s3://{S3.BUCKET}/team/proj) of `{url}`" in p.stderr
    assert text.startswith(f"fetching from remote `store` (s3://{S3.BUCKET}/team/proj) of `{url}`")
    assert f"hint: {e.value.hint}" in p.stderr


def subprocess_get(url: str, tmp_path: Path):
    """`git mlv get <url> big.bin --rev v1.0` in a new repository, in this environment."""
    dest = tmp_path / "dest"
    dest.mkdir()
    run(dest, "git", "init", "-q")
    return run(dest, "git", "mlv", "get", url, "big.bin", "--rev", "v1.0", check=False)
