"""`audiotext serve`'s JSON API through Starlette's TestClient, on a small library embedded
with the tiny trained model: searches, audio with Range, peaks, limits and the security
rules (only indexed files, by id; loopback Host; token in remote mode)."""

from __future__ import annotations

import io
import json
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from audio_fixtures import write_sine
from audiotext_cli.cli import app as cli_app
from audiotext_cli.index.search import open_index, search_audio, search_rows
from audiotext_cli.serve import Limits, create_app
from audiotext_cli.serve.peaks import compute_peaks
from serve_library import SOUNDS, build_index, write_library

LOCAL = "http://127.0.0.1"
EXTRA = ("tones/link_out.wav", "noise/gone.wav", "noise/broken.wav")  # 1 s each


@pytest.fixture(scope="module")
def library(clap_run, tmp_path_factory) -> dict[str, Path]:
    """SOUNDS plus three rows that must not be served as files: a symlink out of the root,
    a file deleted after indexing and one overwritten with garbage after indexing."""
    root = tmp_path_factory.mktemp("serve_api")
    audio = write_library(root)
    secret = write_sine(root / "secret" / "outside.wav", 500.0, 1.0)
    (audio / "tones" / "link_out.wav").symlink_to(secret)
    write_sine(audio / "noise" / "gone.wav", 700.0, 1.0)
    write_sine(audio / "noise" / "broken.wav", 900.0, 1.0)
    idx = build_index(audio, clap_run / "best", root)
    (audio / "noise" / "gone.wav").unlink()
    (audio / "noise" / "broken.wav").write_bytes(b"RIFF\x00\x00\x00\x00WAVEjunk" * 10)
    return {"root": root, "audio": audio, "idx": idx, "secret": secret}


@pytest.fixture(scope="module")
def client(library) -> TestClient:
    limits = Limits(upload_bytes=200_000, upload_seconds=5.0)
    return TestClient(create_app(library["idx"], limits=limits), base_url=LOCAL)


def wav_bytes(seconds: float, freq: float = 440.0, sr: int = 16000) -> bytes:
    buffer = io.BytesIO()
    t = np.arange(int(seconds * sr)) / sr
    sf.write(buffer, (0.5 * np.sin(2 * np.pi * freq * t)).astype(np.float32), sr, format="WAV")
    return buffer.getvalue()


def test_text_search_rows_equal_the_library_rows(client, library):
    """The rows `search_rows` returns (what `search --format json` prints), JSON-encoded."""
    body = client.get("/api/search", params={"q": "a low hum", "k": 5}).json()
    assert body["query"] == {"q": "a low hum"} and body["k"] == 5 and body["offset"] == 0
    assert body["results"] == json.loads(json.dumps(search_rows(library["idx"], "a low hum", k=5)))
    assert [r["rank"] for r in body["results"]] == [1, 2, 3, 4, 5]
    assert body["more"] is True


def test_paging_continues_the_ranking(client, library):
    whole = client.get("/api/search", params={"q": "rain", "k": 10}).json()["results"]
    first = client.get("/api/search", params={"q": "rain", "k": 4}).json()
    second = client.get("/api/search", params={"q": "rain", "k": 4, "offset": 4}).json()
    last = client.get("/api/search", params={"q": "rain", "k": 4, "offset": 8}).json()
    assert first["results"] + second["results"] + last["results"] == whole
    assert [r["rank"] for r in second["results"]] == [5, 6, 7, 8]
    assert len(whole) == len(open_index(library["idx"])) == 10
    assert last["more"] is False and len(last["results"]) == 2


def ids(response) -> list[str]:
    assert response.status_code == 200, response.text
    return [r["id"] for r in response.json()["results"]]


def test_filters_apply_before_top_k(client, library):
    """Each filter returns exactly the rows a brute-force check keeps, k of them when k match."""
    seconds = {i: s[2] for i, s in SOUNDS.items()} | dict.fromkeys(EXTRA, 1.0)
    short = sorted(i for i, s in seconds.items() if s <= 1.0)
    got = ids(client.get("/api/search", params={"q": "beep", "k": 50, "duration_max": 1.0}))
    assert sorted(got) == short and len(short) == 5
    few = ids(client.get("/api/search", params={"q": "beep", "k": 4, "duration_max": 1.0}))
    assert len(few) == 4 and set(few) <= set(short)
    ranged = {"q": "beep", "k": 50, "duration_min": 2, "duration_max": 3}
    assert sorted(ids(client.get("/api/search", params=ranged))) == sorted(
        i for i, s in seconds.items() if 2 <= s <= 3
    )
    in_tones = ids(client.get("/api/search", params={"q": "x", "k": 50, "folder": "tones"}))
    assert sorted(in_tones) == sorted(i for i in seconds if i.startswith("tones/"))
    assert ids(client.get("/api/search", params={"q": "x", "folder": "tones/sub"})) == [
        "tones/sub/alarm.flac"
    ]
    words = {"q": "x", "k": 50, "filter": "rain,wind -soft"}
    assert ids(client.get("/api/search", params=words)) == ["noise/wind_gust.ogg"]
    similar = client.get("/api/similar/noise/rain_soft.wav", params={"duration_min": 3.5})
    assert ids(similar) == ["noise/rain_soft.wav"]
    body = client.get("/api/search", params={"q": "x", "k": 2, "folder": "noise"}).json()
    assert body["matching"] == 5 and body["more"] is True


def test_bad_filters_are_json_400(client):
    for params in ({"where": "duration <"}, {"where": "nosuchfield>1"}, {"filter": '"open'}):
        response = client.get("/api/search", params={"q": "x", **params})
        assert response.status_code == 400, (params, response.text)
        assert response.json()["error"]


def test_similar_uses_the_stored_vector(client, library):
    rows = client.get("/api/similar/tones/high_whistle.wav", params={"k": 3}).json()["results"]
    expected = search_audio(library["idx"], library["audio"] / "tones/high_whistle.wav", 3)
    assert rows[0]["id"] == "tones/high_whistle.wav"
    assert [r["id"] for r in rows] == [h.id for h in expected]
    np.testing.assert_allclose([r["score"] for r in rows], [h.score for h in expected], atol=1e-5)


def test_upload_search_equals_searching_that_file(client, library):
    path = library["audio"] / "noise" / "rain_soft.wav"
    response = client.post(
        "/api/search/audio", params={"k": 4, "name": "rain.wav"}, content=path.read_bytes()
    )
    assert response.status_code == 200, response.text
    expected = search_rows(library["idx"], audio=path, k=4)
    assert response.json()["results"] == json.loads(json.dumps(expected))


def test_upload_limits_and_bad_audio(client):
    big = client.post("/api/search/audio", content=b"\0" * 200_001)
    assert big.status_code == 413 and "limit" in big.json()["error"]
    long = client.post("/api/search/audio", content=wav_bytes(6.0))  # 192 kB, 6 s > 5 s
    assert long.status_code == 400 and "limit is 5.0 s" in long.json()["error"]
    junk = client.post("/api/search/audio", params={"name": "x.wav"}, content=b"not audio" * 50)
    assert junk.status_code == 400 and "not audio" in junk.json()["error"]
    empty = client.post("/api/search/audio", content=b"")
    assert empty.status_code == 400 and "empty upload" in empty.json()["error"]


def test_audio_is_the_original_file_with_ranges(client, library):
    original = (library["audio"] / "tones/low_hum.wav").read_bytes()
    whole = client.get("/api/audio/tones/low_hum.wav")
    assert whole.status_code == 200 and whole.content == original
    assert whole.headers["accept-ranges"] == "bytes"
    assert whole.headers["content-type"].startswith("audio/")
    part = client.get("/api/audio/tones/low_hum.wav", headers={"Range": "bytes=100-1099"})
    assert part.status_code == 206 and part.content == original[100:1100]
    assert part.headers["content-range"] == f"bytes 100-1099/{len(original)}"
    tail = client.get("/api/audio/tones/low_hum.wav", headers={"Range": "bytes=-10"})
    assert tail.status_code == 206 and tail.content == original[-10:]
    download = client.get("/api/audio/tones/low_hum.wav", params={"download": 1})
    assert download.headers["content-disposition"].startswith("attachment")


def test_peaks_are_computed_once_and_cached(client, library, monkeypatch):
    from audiotext_cli.serve import peaks as peaks_module

    path = library["audio"] / "tones/high_whistle.wav"
    body = client.get("/api/peaks/tones/high_whistle.wav").json()
    assert (body["id"], body["sample_rate"], body["channels"]) == (
        "tones/high_whistle.wav",
        44100,
        1,
    )
    assert body["duration"] == pytest.approx(2.5)
    assert len(body["peaks"]) == peaks_module.BINS
    assert max(body["peaks"]) == pytest.approx(0.5, abs=1e-3)  # write_sine's amplitude
    assert body["peaks"] == compute_peaks(path)["peaks"]

    def fail(*args, **kwargs):
        raise AssertionError("peaks recomputed although cached")

    monkeypatch.setattr(peaks_module, "compute_peaks", fail)
    assert client.get("/api/peaks/tones/high_whistle.wav").json() == body
    cached = list((Path(peaks_module.cache_dir("serve", "peaks"))).glob("*.json"))
    assert cached


def test_peaks_follow_the_signal():
    """A tone that starts silent and ends loud: peaks rise with it, bin by bin."""
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        sr = 8000
        wave = np.concatenate([np.zeros(sr), 0.8 * np.ones(sr)]).astype(np.float32)
        wave[::2] *= -1  # a square wave at the Nyquist rate: |x| is 0.8 in the second half
        path = Path(tmp) / "step.wav"
        sf.write(path, wave, sr, subtype="FLOAT")
        result = compute_peaks(path, bins=4)
    assert result["peaks"] == [0.0, 0.0, 0.8, 0.8]


def test_info(client, library):
    body = client.get("/api/info").json()
    assert body["count"] == len(SOUNDS) + 3 and body["content"] == "audio"
    assert body["index"] == str(library["idx"].resolve())
    assert body["model_id"] == open_index(library["idx"]).meta["model_id"]
    assert body["remote"] is False and body["limits"]["upload_bytes"] == 200_000
    assert body["folders"] == ["noise", "tones", "tones/sub"]


@pytest.mark.parametrize(
    "path",
    [
        "/api/audio/..%2F..%2Fsecret%2Foutside.wav",
        "/api/audio/%2e%2e/secret/outside.wav",
        "/api/audio/%252e%252e%252fsecret%252foutside.wav",
        "/api/audio//etc/passwd",
        "/api/audio/%2Fetc%2Fpasswd",
        "/api/audio/tones/link_out.wav",  # indexed, but a symlink out of the library root
        "/api/audio/noise/gone.wav",  # indexed, deleted since
        "/api/audio/tones/nothere.wav",
        "/api/peaks/tones/link_out.wav",
        "/api/similar/not-an-id",
        "/api/nothing",
    ],
)
def test_only_indexed_files_inside_the_root_are_served(client, library, path):
    response = client.get(path)
    assert response.status_code == 404, response.text
    assert response.headers["content-type"] == "application/json"
    assert "error" in response.json()
    assert library["secret"].read_bytes() not in response.content


@pytest.mark.parametrize(
    "item_id",
    ["tones/../tones/low_hum.wav", "../secret/outside.wav", str(Path("/etc/passwd")), "tones/"],
)
def test_raw_traversal_ids_are_not_rows(client, item_id):
    """What a client that does not normalise `..` (curl --path-as-is) would send."""
    from audiotext_cli.serve.catalog import NotServable

    with pytest.raises(NotServable):
        client.app.state.catalog.file(item_id)


def test_corrupt_file_is_a_json_error(client):
    response = client.get("/api/peaks/noise/broken.wav")
    error = response.json()["error"]  # the junk chunk is caught before libsndfile reads it
    assert response.status_code == 422 and ("not audio" in error or "absurd header" in error)
    assert response.headers["content-type"] == "application/json"


def test_bad_parameters_are_json_400(client):
    for params in (
        {"q": ""},
        {"q": "x", "k": 0},
        {"q": "x", "k": 10_000},
        {"q": "x", "offset": -1},
    ):
        response = client.get("/api/search", params=params)
        assert response.status_code == 400 and response.json()["error"], params
    assert client.get("/api/search", params={"q": "x", "k": 200, "offset": 1900}).status_code == 400


def test_read_only(client):
    for method in ("put", "delete", "patch"):
        assert getattr(client, method)("/api/audio/tones/low_hum.wav").status_code == 405
    assert client.post("/api/search").status_code == 405


def test_foreign_host_header_is_refused(client):
    """DNS rebinding: a page at evil.example resolved to 127.0.0.1 sends its own Host."""
    refused = client.get("/api/info", headers={"Host": "evil.example:8765"})
    assert refused.status_code == 403
    assert client.get("/api/info", headers={"Host": "localhost:8765"}).status_code == 200


def test_remote_mode_requires_the_token(library):
    token = "s3cret-token"
    remote = TestClient(create_app(library["idx"], token=token), base_url="http://192.0.2.7")
    assert remote.get("/api/info").status_code == 401
    assert remote.get("/").status_code == 401
    assert remote.get("/api/info", headers={"Authorization": "Bearer nope"}).status_code == 401
    assert remote.get("/api/info", headers={"Authorization": f"Bearer {token}"}).status_code == 200
    assert remote.get("/api/info", headers={"X-Audiotext-Token": token}).json()["remote"] is True
    audio = remote.get("/api/audio/tones/low_hum.wav", params={"token": token})
    assert audio.status_code == 200
    page = remote.get("/", params={"token": token})  # the page's token becomes a cookie
    assert page.status_code == 200 and "audiotext_token" in page.headers["set-cookie"]
    assert remote.get("/api/info").status_code == 200  # the client now sends that cookie


def test_cli_refuses_a_remote_bind_without_allow_remote(library):
    result = CliRunner().invoke(cli_app, ["serve", str(library["idx"]), "--host", "0.0.0.0"])
    assert result.exit_code == 2 and "--allow-remote" in result.output


def test_page_and_assets_are_local(client):
    page = client.get("/")
    assert page.status_code == 200 and "<title>audiotext</title>" in page.text
    for asset in ("/static/app.js", "/static/app.css"):
        response = client.get(asset)
        assert response.status_code == 200
        assert "http://" not in response.text and "https://" not in response.text
    assert "http" not in page.text.replace('"/static', "")


def test_rerank_matches_the_library(client, library):
    """The API answers what the Python API answers, scores included."""
    expected = search_rows(library["idx"], "wind", k=7, rerank=True)
    rows = client.get("/api/search", params={"q": "wind", "k": 7, "rerank": True}).json()
    assert rows["results"] == json.loads(json.dumps(expected))
    plain = client.get("/api/search", params={"q": "wind", "k": 7}).json()["results"]
    assert sorted(r["id"] for r in plain) == sorted(r["id"] for r in rows["results"])


@pytest.mark.parametrize(
    ("probabilistic", "kind"), [(True, "flat"), (False, "ivf"), (True, "hnsw")]
)
def test_more_like_this_equals_searching_the_file(tmp_path, monkeypatch, probabilistic, kind):
    """The stored vector (with the CSD variance trick for probabilistic indexes, the direct
    map for IVF) ranks and scores like embedding the file again."""
    from audiotext_cli.index import search as search_module
    from audiotext_cli.index.faiss_index import build_index as build
    from audiotext_cli.index.faiss_index import choose_index
    from audiotext_cli.index.folder import embed_folder
    from fake_embedder import FakeEmbedder

    fake = FakeEmbedder(probabilistic=probabilistic, source="fake.ckpt")
    monkeypatch.setattr(search_module, "resolve_embedder", lambda source: fake)
    monkeypatch.setattr(search_module, "_models", {})
    audio = write_library(tmp_path)
    embed_folder(fake, audio, tmp_path / "emb", workers=0)
    params = {"nlist": 2, "nprobe": 2} if kind == "ivf" else {}
    spec = choose_index(len(SOUNDS), fake.dim, probabilistic=probabilistic, kind=kind, **params)
    build(tmp_path / "emb", spec, tmp_path / "idx")
    api = TestClient(create_app(tmp_path / "idx"), base_url=LOCAL)
    for item in ("tones/mid_beep.wav", "noise/wind_gust.ogg"):
        rows = api.get(f"/api/similar/{item}", params={"k": 4}).json()["results"]
        expected = search_rows(tmp_path / "idx", audio=audio / item, k=4)
        assert [r["id"] for r in rows] == [r["id"] for r in expected]
        np.testing.assert_allclose(
            [r["score"] for r in rows], [r["score"] for r in expected], rtol=1e-4, atol=1e-5
        )
