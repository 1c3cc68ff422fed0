"""`audiotext embed folder|text`, `index build|add|merge|info` and `search`, end to end,
with the fake embedder standing in for a checkpoint."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from audio_fixtures import write_sine, write_zero_byte
from audiotext_cli.cli import app
from audiotext_cli.cli.index import parse_bytes
from audiotext_cli.errors import ConfigError, IndexFileError
from audiotext_cli.index import search as search_module
from fake_embedder import FakeEmbedder

runner = CliRunner()


@pytest.fixture(autouse=True)
def fake_models(monkeypatch):
    """Any --model path resolves to the fake embedder (".prob" in the name: probabilistic)."""
    loaded: list[str] = []

    def resolve(source: str) -> FakeEmbedder:
        loaded.append(source)
        return FakeEmbedder(probabilistic=".prob" in source, source=source)

    monkeypatch.setattr(search_module, "resolve_embedder", resolve)
    monkeypatch.setattr(search_module, "_models", {})
    return loaded


def run(*args: str, code: int = 0):
    result = runner.invoke(app, [str(a) for a in args])
    assert result.exit_code == code, (result.stdout, result.stderr)
    return result


def embed(corpus: Path, out: Path, *extra: str):
    """corpus/audio embedded with the fake model, no worker processes."""
    return run(
        "embed",
        "folder",
        corpus / "audio",
        "--model",
        "m.ckpt",
        "--out",
        out,
        "--workers",
        "0",
        *extra,
    )


def indexed(corpus: Path) -> Path:
    """corpus/audio embedded into corpus/emb and indexed in corpus/idx."""
    embed(corpus, corpus / "emb")
    run("index", "build", corpus / "emb", "--out", corpus / "idx")
    return corpus / "idx"


@pytest.fixture
def corpus(tmp_path) -> Path:
    for i in range(12):
        write_sine(tmp_path / "audio" / f"tone{i:02d}.wav", 200 + 300 * i, 0.3)
    write_zero_byte(tmp_path / "audio" / "broken.wav")
    return tmp_path


@pytest.mark.parametrize("ckpt", ["model.ckpt", "model.prob.ckpt"])
def test_embed_index_search_end_to_end(corpus, ckpt, fake_models):
    emb, idx = corpus / "emb", corpus / "idx"
    result = run(
        "embed",
        "folder",
        corpus / "audio",
        "--model",
        ckpt,
        "--out",
        emb,
        "--workers",
        "0",
        "--batch-size",
        "4",
        "--json",
    )
    report = json.loads(result.stdout)
    assert (report["embedded"], report["failed"]) == (12, 1)
    assert "empty file" in report["errors"][0]["reason"]

    run("index", "build", emb, "--out", idx)
    details = json.loads(run("index", "info", idx, "--json").stdout)
    assert details["count"] == 12 and details["index_kind"] == "flat"
    assert details["metric"] == ("csd" if ".prob" in ckpt else "ip")
    assert details["model_source"] == ckpt

    query = corpus / "audio" / "tone05.wav"
    hits = json.loads(run("search", "--audio", query, "--index", idx, "-k", "3", "--json").stdout)
    assert [h["rank"] for h in hits] == [1, 2, 3]
    assert Path(hits[0]["path"]).name == "tone05.wav"
    assert hits[0]["duration"] == pytest.approx(0.3)

    table = run("search", "dog barking", "--index", idx, "-k", "5").stdout
    assert "rank" in table and "tone" in table
    # paths are shown under their common folder (named once, in the title): no wrapping
    assert len(re.findall(r"│ [1-5]\s+│ [-\d.]+\s+│ tone\d\d\.wav\s+│", table)) == 5
    assert fake_models.count(ckpt) == 1  # loaded once per process, then cached


def test_audio_to_captions(corpus):
    captions = corpus / "captions.jsonl"
    captions.write_text(
        "".join(json.dumps({"id": f"c{i}", "text": f"caption {i}"}) + "\n" for i in range(5))
    )
    run("embed", "text", captions, "--model", "m.ckpt", "--out", corpus / "temb")
    run("index", "build", corpus / "temb", "--out", corpus / "tidx", "--kind", "flat")
    table = run("search", "--audio", corpus / "audio" / "tone01.wav", "--index", corpus / "tidx")
    assert "caption" in table.stdout and "caption 3" in table.stdout
    hits = json.loads(run("search", "caption 3", "--index", corpus / "tidx", "--json").stdout)
    assert hits[0]["text"] == "caption 3" and hits[0]["score"] == pytest.approx(1.0, abs=1e-5)


def test_shards_add_and_merge(corpus):
    for i in range(2):
        embed(corpus, corpus / f"e{i}", "--shard", f"{i}/2")
    run("embed", "merge", corpus / "e0", corpus / "e1", "--out", corpus / "eall")
    run(
        "index",
        "build",
        corpus / "e0",
        "--out",
        corpus / "i0",
        "--kind",
        "ivf",
        "--param",
        "nprobe=1",
    )
    run("index", "build", corpus / "e1", "--out", corpus / "i1", "--like", corpus / "i0")
    merged = json.loads(
        run("index", "merge", corpus / "i0", corpus / "i1", "--out", corpus / "im", "--json").stdout
    )
    assert merged["count"] == 12 and merged["index_kind"] == "ivf"
    before = json.loads(run("index", "info", corpus / "i0", "--json").stdout)["count"]
    added = json.loads(run("index", "add", corpus / "i0", corpus / "eall", "--json").stdout)
    assert 0 < before < 12
    assert added == {"added": 12 - before, "already": before, "stale": 0}
    assert json.loads(run("index", "info", corpus / "i0", "--json").stdout)["count"] == 12


def test_corrupt_index_is_one_line_error(corpus):
    indexed(corpus)
    faiss_file = corpus / "idx" / "index.faiss"
    faiss_file.write_bytes(faiss_file.read_bytes()[:-7] + b"garbage")
    for args in (["index", "info", corpus / "idx"], ["search", "x", "--index", corpus / "idx"]):
        result = run(*args, code=1)
        assert "checksum mismatch" in result.stderr
        assert "Traceback" not in result.stderr and len(result.stderr.strip().splitlines()) == 1


def test_usage_and_model_errors(corpus, monkeypatch):
    run("search", "--index", corpus, code=2)  # neither text nor --audio
    run("index", "build", corpus / "nope", "--out", corpus / "i", code=1)
    indexed(corpus)
    monkeypatch.setattr(search_module, "_models", {})
    monkeypatch.setattr(
        search_module,
        "resolve_embedder",
        lambda source: FakeEmbedder(source=source, model_id="retrained"),
    )
    result = run("search", "x", "--index", corpus / "idx", code=1)
    assert "the index was built with" in result.stderr
    assert parse_bytes("4GB") == 4 * 10**9 and parse_bytes("512MiB") == 512 << 20
    with pytest.raises(ConfigError):
        parse_bytes("lots")


def test_search_captions_needs_a_caption_index(corpus):
    indexed(corpus)
    with pytest.raises(IndexFileError, match="not a caption index"):
        search_module.search_captions(corpus / "idx", corpus / "audio" / "tone01.wav")
    hits = search_module.search_audio(corpus / "idx", corpus / "audio" / "tone01.wav", k=2)
    assert hits[0].id == "tone01.wav" and hits[0].score == pytest.approx(1.0, abs=1e-5)
    run(
        "index",
        "build",
        corpus / "emb",
        "--out",
        corpus / "i2",
        "--like",
        corpus / "idx",
        "--kind",
        "hnsw",
        code=2,
    )
