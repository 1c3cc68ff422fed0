"""The library layer end to end on a library the test writes: metadata in store rows,
hybrid search from the CLI against a brute-force filter, dedup on planted duplicates,
exports and tags."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from audiotext_cli.cli import app
from audiotext_cli.index import search as search_module
from audiotext_cli.index.query import parse_filter, parse_where, row_text
from audiotext_cli.index.store import EmbeddingStore
from audiotext_cli.library.dedup import find_duplicates, pair_scores
from audiotext_cli.library.tag import tag_records, tag_store
from audiotext_cli.library.ucs import parse_ucs_name, ucs_labels, ucs_list
from audiotext_cli.serve import create_app
from library_fixtures import PLANTED, SpectralEmbedder, write_library

runner = CliRunner()


@pytest.fixture(autouse=True)
def spectral_models(monkeypatch):
    monkeypatch.setattr(search_module, "resolve_embedder", lambda s: SpectralEmbedder(source=s))
    monkeypatch.setattr(search_module, "_models", {})


@pytest.fixture(scope="module")
def library(tmp_path_factory):
    root = tmp_path_factory.mktemp("lib")
    return root, write_library(root)


def run(*args, code: int = 0):
    result = runner.invoke(app, [str(a) for a in args])
    assert result.exit_code == code, (result.stdout, result.stderr)
    return result


@pytest.fixture(scope="module")
def built(library, tmp_path_factory):
    """The library embedded (spectral stand-in model) into emb/ and indexed into idx/."""
    root, files = library
    tmp_path = tmp_path_factory.mktemp("built")
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(search_module, "resolve_embedder", lambda s: SpectralEmbedder(source=s))
        patch.setattr(search_module, "_models", {})
        _embed_and_index(root, tmp_path)
    return tmp_path, files


def _embed_and_index(root, tmp_path):
    run("embed", "folder", root / "library", "--model", "m.ckpt", "--out", tmp_path / "emb",
        "--workers", "0")  # fmt: skip
    run("index", "build", tmp_path / "emb", "--out", tmp_path / "idx")


def test_ucs_list_and_names():
    assert len(ucs_list()) == 752
    fields = parse_ucs_name("DOORWood-Hall_Slam Heavy_JD_MyLib_take2")
    assert fields["category"] == "DOORS" and fields["subcategory"] == "WOOD"
    assert fields["user_category"] == "Hall" and fields["user_data"] == "take2"
    assert parse_ucs_name("dog_bark_01") is None


def test_metadata_in_rows_and_broken_chunk_is_a_warning(built):
    tmp, files = built
    store = EmbeddingStore.open(tmp / "emb")
    rows = {r["id"]: r for r in store.rows()}
    bwf = rows["field/dog_yard.wav"]["metadata"]
    assert bwf["description"] == "Dog barking in a yard"
    assert bwf["originator"] == "Jane Recordist" and bwf["origination_date"] == "2021-05-01"
    assert (bwf["title"], bwf["genre"], bwf["note"], bwf["scene"], bwf["take"]) == (
        "Yard dog", "Animals", "two barks", "12A", "3",
    )  # fmt: skip
    assert bwf["category"] == "ANIMALS"
    assert rows["tagged/rain.mp3"]["metadata"]["title"] == "Rain"
    assert rows["tagged/rain.mp3"]["metadata"]["genre"] == "Weather"
    assert rows["tagged/door.ogg"]["metadata"]["title"] == "Door slam"
    assert rows["tagged/wind.flac"]["metadata"]["comment"] == "wind, gusts"
    ucs = rows["ucs/DOORWood_Slam Heavy_JD_MyLib.wav"]["metadata"]
    assert (ucs["category"], ucs["subcategory"], ucs["creator_id"]) == ("DOORS", "WOOD", "JD")
    assert rows["tagged/door.ogg"]["sample_rate"] == 44100
    assert rows["dups/dog.mp3"]["format"] == "MP3"
    broken = rows["field/broken_ixml.wav"]  # embedded, bext kept, iXML reported
    assert broken["metadata"]["description"] == "Short one"
    [warning] = [e for e in store.errors() if e.get("level") == "warning"]
    assert warning["path"].endswith("broken_ixml.wav") and "iXML" in warning["reason"]


@pytest.mark.parametrize(
    ("where", "text"),
    [
        ("duration<0.9 and rate>=44100", "dog -quiet"),
        ("format=wav", "dog,door"),
        ("category=animals", ""),
        ("", '"door slam",wood'),
    ],
)
def test_cli_filtered_search_equals_brute_force(built, where, text):
    tmp, _ = built
    args = ["search", "dog barking", "--index", tmp / "idx", "-k", "50", "--format", "jsonl"]
    args += ["--where", where] if where else []
    args += ["--filter", text] if text else []
    got = [json.loads(line) for line in run(*args).stdout.splitlines()]
    rows = EmbeddingStore.open(tmp / "emb").rows()
    want = {
        r["id"]
        for r in rows
        if parse_where(where).matches(r) and parse_filter(text).matches(row_text(r))
    }
    assert {h["id"] for h in got} == want and want
    assert [h["rank"] for h in got] == list(range(1, len(got) + 1))
    few = run(*args[:4], "-k", "1", *args[6:]).stdout.splitlines()
    assert len(few) == 1 and json.loads(few[0])["score"] == pytest.approx(got[0]["score"])


def test_embed_report_lists_every_problem_of_the_store(library, built, tmp_path):
    root, _ = library
    shutil.copytree(built[0] / "emb", tmp_path / "emb")
    shutil.copytree(root / "library", tmp_path / "library")
    (tmp_path / "library" / "bad.wav").write_bytes(b"RIFF, not audio")
    out = run("embed", "folder", tmp_path / "library", "--model", "m.ckpt", "--out",
              tmp_path / "emb", "--workers", "0", "--report", "--format", "csv").stdout  # fmt: skip
    problems = {Path(r["path"]).name: r for r in csv.DictReader(io.StringIO(out))}
    assert set(problems) == {"bad.wav", "broken_ixml.wav"}  # the warning is from the first run
    assert problems["bad.wav"]["level"] == "error"
    assert problems["broken_ixml.wav"]["level"] == "warning"
    assert problems["broken_ixml.wav"]["reason"].startswith("iXML chunk unreadable (")


def test_csv_without_rows_still_has_its_header(library, built, tmp_path):
    root, _ = library
    (tmp_path / "lib").mkdir()
    for name in ("rain.mp3", "door.ogg"):  # two distinct clips: no duplicates, no problems
        shutil.copy(root / "library" / "tagged" / name, tmp_path / "lib" / name)
    run("embed", "folder", tmp_path / "lib", "--model", "m.ckpt", "--out", tmp_path / "emb",
        "--workers", "0")  # fmt: skip

    def header(*args) -> list[str]:
        out = run(*args, "--format", "csv").stdout
        return next(csv.reader(io.StringIO(out)))

    full = header("dedup", built[0] / "emb")
    assert header("dedup", tmp_path / "emb") == full and "keeper" in full
    search = ["search", "x", "--index", built[0] / "idx", "--filter"]
    assert header(*search, "nothing-matches-this") == header(*search, "dog")
    report = ["embed", "folder", tmp_path / "lib", "--model", "m.ckpt", "--out", tmp_path / "emb"]
    assert header(*report, "--report") == ["level", "path", "reason"]


def test_rows_are_the_api_rows_and_csv_quotes(built):
    tmp, _ = built
    api = search_module.search_rows(tmp / "idx", "dog barking", k=5, text_filter="dog")
    lines = run("search", "dog barking", "--index", tmp / "idx", "-k", "5", "--filter", "dog",
                "--format", "jsonl").stdout.splitlines()  # fmt: skip
    assert [json.loads(line) for line in lines] == json.loads(json.dumps(api))
    assert {"id", "rank", "score", "path", "folder", "name", "duration", "sample_rate",
            "channels", "format", "metadata"} <= set(api[0])  # fmt: skip
    out = run("search", "dog barking", "--index", tmp / "idx", "--where", "genre=animals",
              "--format", "csv").stdout  # fmt: skip
    [row] = [r for r in csv.DictReader(io.StringIO(out)) if r["id"] == "field/dog_yard.wav"]
    assert json.loads(row["metadata"])["comment"] == "windy, far"


def test_rerank_blends_bm25(built):
    tmp, _ = built
    plain = search_module.search_rows(tmp / "idx", "door slam", k=3)
    hits = search_module.search_rows(tmp / "idx", "door slam", k=3, rerank=True, rerank_weight=1)
    assert hits[0]["text_score"] == max(h["text_score"] for h in hits) > 0
    assert {hits[0]["id"]} <= {"tagged/door.ogg", "ucs/DOORWood_Slam Heavy_JD_MyLib.wav"}
    assert [h["id"] for h in plain] != [h["id"] for h in hits] or plain[0] == hits[0]


def test_bad_query_exits_2(built):
    tmp, _ = built
    result = run("search", "x", "--index", tmp / "idx", "--where", "duration<", code=2)
    assert "--where" in result.stderr and "Traceback" not in result.stderr
    store = run("search", "x", "--index", tmp / "emb", code=1).stderr  # the step before
    assert "embedding store" in store and "index build" in store and len(store.splitlines()) == 1


def test_dedup_finds_planted_duplicates_only(built):
    tmp, _ = built
    groups = find_duplicates(tmp / "idx")
    scores = pair_scores(groups, [PLANTED])
    assert scores["precision"] == 1.0 and scores["recall"] == 1.0, scores
    [group] = groups
    assert group["keeper"] == "dups/dog_pad.wav"  # lossless, 48 kHz, longest
    assert "1 duplicate groups" in run("dedup", tmp / "idx").stdout  # the table
    out = run("dedup", tmp / "emb", "--format", "csv").stdout
    members = list(csv.DictReader(io.StringIO(out)))
    assert {m["id"] for m in members} == PLANTED
    exact = find_duplicates(tmp / "emb", threshold=1.01)  # only the byte-identical copy
    assert [{m["id"] for m in g["members"]} for g in exact] == [
        {"field/dog_yard.wav", "dups/copy/dog_yard.wav"}
    ]


def test_export_csv_parquet_and_tag_write(built, tmp_path):
    shutil.copytree(built[0] / "emb", tmp_path / "emb")
    tmp = tmp_path
    run("export", tmp / "emb", "--out", tmp / "lib.csv", "--vectors")
    table = list(csv.DictReader(io.StringIO((tmp / "lib.csv").read_text(encoding="utf-8"))))
    vectors = np.load(tmp / "lib.npy")
    assert len(table) == len(vectors) == 13
    dog = next(r for r in table if r["id"] == "field/dog_yard.wav")
    assert dog["metadata.comment"] == "windy, far"
    pq = pytest.importorskip("pyarrow.parquet")
    run("export", tmp / "emb", "--out", tmp / "lib.parquet", "--format", "parquet", "--vectors")
    frame = pq.read_table(tmp / "lib.parquet")
    assert frame.num_rows == 13 and len(frame.column("vector")[0]) == SpectralEmbedder.dim
    assert frame.column_names[:2] == ["id", "path"]
    meta = [c for c in frame.column_names if c.startswith("metadata.")]
    assert meta == sorted(meta) and frame.column_names[-len(meta) - 1 :] == [*meta, "vector"]
    run("export", tmp / "emb", "--out", tmp / "by_suffix.parquet")  # no --format: the suffix's
    assert pq.read_table(tmp / "by_suffix.parquet").num_rows == 13
    labels = tmp / "labels.txt"
    labels.write_text("dog\ndoor\nrain\n")
    out = run("tag", tmp / "emb", "--labels", labels, "--top", "1", "--write", "--format",
              "jsonl").stdout  # fmt: skip
    assert len(out.splitlines()) == 13
    assert "door" in run("tag", tmp / "emb", "--labels", labels).stdout  # the table
    run("index", "build", tmp / "emb", "--out", tmp / "idx2")
    tagged = {json.loads(line)["id"]: json.loads(line)["label"] for line in out.splitlines()}
    hits = search_module.search_rows(tmp / "idx2", "x", k=50, where="tag=dog")
    assert {h["id"] for h in hits} == {i for i, label in tagged.items() if label == "dog"}


def test_tag_api_defaults_to_the_ucs_labels_like_the_cli(built):
    tagged = tag_store(built[0] / "emb", top=2)
    cli = [json.loads(line) for line in run("tag", built[0] / "emb", "--top", "2", "--format",
                                            "jsonl").stdout.splitlines()]  # fmt: skip
    assert [(t["id"], x["label"]) for t in tagged for x in t["tags"]] == [
        (r["id"], r["label"]) for r in cli
    ]
    assert {r["label"] for r in cli} <= set(ucs_labels()) and len(cli) == 2 * 13


def test_wav_chunk_readers_survive_broken_chunks(tmp_path):
    from audiotext_cli.library.riff import read_wav_chunks
    from library_fixtures import _chunk, bark, info, write_wav_with_chunks

    wave = bark(16000, 300, seed=9, seconds=0.2)
    short_bext = _chunk(b"bext", b"too short")
    overrun = _chunk(b"LIST", b"INFO" + b"INAM" + (200).to_bytes(4, "little") + b"x\0")
    path = write_wav_with_chunks(tmp_path / "a.wav", wave, 16000, short_bext, overrun,
                                 info(ICMT="kept"))  # fmt: skip
    meta, warnings = read_wav_chunks(path)
    assert meta == {"comment": "kept"}
    assert len(warnings) == 2 and "bext" in warnings[0] and "LIST" in warnings[1]
    cut = write_wav_with_chunks(
        tmp_path / "b.wav", wave, 16000, info(INAM="t")
    )  # iXML runs past EOF
    cut.write_bytes(cut.read_bytes() + _chunk(b"iXML", b"<a/>" * 10)[:12])
    assert read_wav_chunks(cut) == ({"title": "t"}, ["iXML chunk truncated"])
    assert read_wav_chunks(tmp_path / "missing.wav")[1][0].startswith("metadata not read")


def test_dedup_csv_has_the_content_hash_and_opens_in_pandas(library, tmp_path):
    """Names with a comma, quotes and a newline survive the CSV; every format has sha256."""
    pd = pytest.importorskip("pandas")
    root, files = library
    (tmp_path / "lib").mkdir()
    odd = tmp_path / "lib" / 'take "1", yard\ndog.wav'
    shutil.copy(files["bwf"], odd)
    shutil.copy(files["dup_flac"], tmp_path / "lib" / "dog.flac")
    run("embed", "folder", tmp_path / "lib", "--model", "m.ckpt", "--out", tmp_path / "emb",
        "--workers", "0")  # fmt: skip
    frame = pd.read_csv(io.StringIO(run("dedup", tmp_path / "emb", "--format", "csv").stdout))
    assert set(frame["path"]) == {str(odd), str(tmp_path / "lib" / "dog.flac")}
    sha = {p: hashlib.sha256(Path(p).read_bytes()).hexdigest() for p in frame["path"]}
    assert list(frame["sha256"]) == [sha[p] for p in frame["path"]]
    [line] = run("dedup", tmp_path / "emb", "--format", "jsonl").stdout.splitlines()[:1]
    assert json.loads(line)["sha256"] == sha[json.loads(line)["path"]]
    table = run("dedup", tmp_path / "emb").stdout
    assert sha[str(odd)][:12] in table and sha[str(odd)] not in table


@pytest.fixture
def client(built) -> TestClient:
    return TestClient(create_app(built[0] / "idx"), base_url="http://127.0.0.1")


def test_api_where_error_quotes_what_was_sent(client):
    params = {"q": "x", "where": "duration <", "duration_min": 0.1}
    response = client.get("/api/search", params=params)
    assert response.status_code == 400
    assert response.json() == {"error": "--where: unexpected end in 'duration <'"}


def test_api_rerank_weight_is_the_cli_option(built, client):
    args = ["search", "door slam", "--index", built[0] / "idx", "--rerank", "--format", "jsonl"]
    for weight in (0.3, 1.0):
        params = {"q": "door slam", "rerank": "true", "rerank_weight": weight}
        web = client.get("/api/search", params=params).json()["results"]
        cli = run(*args, "--rerank-weight", weight).stdout.splitlines()
        assert web == [json.loads(line) for line in cli]
    best = web[0]["text_score"]  # weight 1: the score is the BM25 share alone
    assert [r["score"] for r in web] == pytest.approx([r["text_score"] / best for r in web])
    too_heavy = client.get("/api/search", params={"q": "x", "rerank": "true", "rerank_weight": 2})
    assert too_heavy.status_code == 400


def test_api_tag_rows_are_the_cli_tag_rows(built, client, tmp_path):
    """`POST /api/tag` pages through the filtered rows in index order, each row as
    `tag --format jsonl` prints it."""
    labels = tmp_path / "labels.txt"
    labels.write_text("dog\n\ndoor\nrain\n# a comment\n")
    out = run("tag", built[0] / "emb", "--labels", labels, "--top", "2", "--format", "jsonl")
    cli = [json.loads(line) for line in out.stdout.splitlines()]
    body = {"labels": ["dog", "door", " rain", "dog"], "top": 2}
    answer = client.post("/api/tag", params={"k": 50}, json=body).json()
    assert answer["results"] == cli and answer["labels"] == 3 and answer["matching"] == 13
    index_order = [r["id"] for r in search_module.open_index(built[0] / "idx").rows]
    assert [r["id"] for r in answer["results"]][::2] == index_order
    wav = client.post("/api/tag", params={"k": 2, "offset": 1, "where": "format=wav"}, json=body)
    wavs = [i for i in index_order if i.endswith(".wav")]
    assert [r["id"] for r in wav.json()["results"]] == [w for w in wavs[1:3] for _ in "ab"]
    assert wav.json()["matching"] == len(wavs) and wav.json()["more"] is True
    ucs = client.post("/api/tag", params={"k": 1}).json()  # no body: the UCS list, top 3
    first = [r for r in tag_records(tag_store(built[0] / "emb")) if r["id"] == index_order[0]]
    assert [{**r, "score": pytest.approx(r["score"], abs=1e-6)} for r in first] == ucs["results"]
    assert len(first) == 3  # a page of one row: its product rounds apart in the last bits
    assert ucs["labels"] == len(set(ucs_labels()))


def test_api_tag_refuses_bad_requests(client, tmp_path):
    for body in ({"labels": [" ", "#x"]}, {"labels": ["dog"], "top": 0}, {"labels": "dog"}):
        response = client.post("/api/tag", json=body)
        assert response.status_code == 400, (body, response.text)
        assert "\n" not in response.json()["error"]
    (tmp_path / "captions.txt").write_text("a dog barks\nrain on a roof\n")
    run("embed", "text", tmp_path / "captions.txt", "--model", "m.ckpt", "--out", tmp_path / "t")
    run("index", "build", tmp_path / "t", "--out", tmp_path / "tidx")
    captions = TestClient(create_app(tmp_path / "tidx"), base_url="http://127.0.0.1")
    response = captions.post("/api/tag", json={"labels": ["dog"]})
    assert response.status_code == 400 and "audio index" in response.json()["error"]
