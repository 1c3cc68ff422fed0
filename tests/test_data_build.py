"""A `--size small` corpus built twice per session: audio, splits, captions, determinism, resume.

Packages come from the registries once per machine when AUDIOTEXT_PACKAGES points at a
shared cache, else once per session (into the session home).
"""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

import pytest
import soundfile as sf
from typer.testing import CliRunner

from audiotext_cli.cli import app
from audiotext_cli.data.build import build_corpus
from audiotext_cli.data.manifest import captions_at, read_manifest

SPLITS = ("train", "val", "eval")


@pytest.fixture(scope="session")
def corpora(tmp_path_factory, _audiotext_home) -> tuple[Path, Path, dict, dict]:
    """Two small builds with one seed (different worker counts), sharing the package cache."""
    a, b = tmp_path_factory.mktemp("corpus_a"), tmp_path_factory.mktemp("corpus_b")
    info_a = build_corpus(a, "small", seed=7, workers=2)
    info_b = build_corpus(b, "small", seed=7, workers=1)
    return a, b, info_a, info_b


@pytest.fixture(scope="session")
def records(corpora) -> dict[str, list]:
    return {s: read_manifest(corpora[0] / f"{s}.jsonl") for s in SPLITS}


def _files(root: Path) -> dict[str, str]:
    return {
        p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted((root / "audio").rglob("*.flac"))
    }


def test_layout_and_build_info(corpora, records):
    root, _, info, _ = corpora
    for name in ("train.jsonl", "val.jsonl", "eval.jsonl", "build.json"):
        assert (root / name).is_file()
    assert json.loads((root / "build.json").read_text()) == info
    assert info["size"] == "small" and info["seed"] == 7
    sources = {r.source for rs in records.values() for r in rs}
    assert {p.stem for p in (root / "LICENSES").glob("*.txt")} == sources
    assert all(info["packages"][name]["sha256"] for name in info["packages"])
    total = sum(len(r) for r in records.values())
    assert 300 <= total <= 700
    assert info["counts"]["split"] == {s: len(r) for s, r in records.items() if r}


def test_every_clip_decodes_as_16k_mono_flac(records):
    for rec in (r for rs in records.values() for r in rs):
        info = sf.info(rec.audio)
        assert (info.format, info.subtype, info.channels) == ("FLAC", "PCM_16", 1)
        assert info.samplerate == rec.sample_rate == 44100
        assert info.frames == round(rec.duration * 44100)
        assert 0 < rec.duration <= 10.0
        wave, _ = sf.read(rec.audio)
        assert abs(wave).max() > 0


def test_no_source_in_both_training_and_evaluation(records):
    training = {r.source for s in ("train", "val") for r in records[s]}
    evaluation = {r.source for r in records["eval"]}
    assert training and evaluation and not training & evaluation
    assert {r.split for s in SPLITS for r in records[s]} == set(SPLITS)


def _pitch(rec) -> int | None:
    found = re.search(r"(?:/n|_n)(\d{3})(?:_|$)", rec.id)
    return int(found.group(1)) if found else None


def test_val_is_disjoint_from_train_by_clip_and_pitch(records):
    train_ids = {r.id for r in records["train"]}
    assert not train_ids & {r.id for r in records["val"]}
    for source in {r.source for r in records["val"]}:
        if source == "timgm6mb":
            train_p = {_pitch(r) for r in records["train"] if r.source == source} - {None}
            val_p = {_pitch(r) for r in records["val"] if r.source == source} - {None}
            assert val_p and not train_p & val_p
    n_train = len(records["train"]) + len(records["val"])
    assert 0.05 < len(records["val"]) / n_train < 0.25


def test_eval_notes_never_sound_in_training(records):
    eval_notes = {_pitch(r) for r in records["eval"]} - {None}
    train_roots = {_pitch(r) for s in ("train", "val") for r in records[s]} - {None}
    assert eval_notes and not eval_notes & {p + d for p in train_roots for d in (0, 2, 4, 5, 7)}


def test_four_caption_levels_follow_the_label_path(records):
    for rec in (r for rs in records.values() for r in rs):
        assert len(rec.labels) == 3
        for level in (1, 2, 3, 4):
            texts = captions_at(rec, level)
            assert texts, (rec.id, level)
            if level < 4:
                assert all(rec.labels[level - 1] in t for t in texts), (rec.id, level, texts)
        assert len(captions_at(rec, 4)) >= 2


def test_eval_has_a_dog_barking(records):
    dogs = [r for r in records["eval"] if r.labels == ["animal", "mammal", "dog"]]
    assert any("barking" in t for d in dogs for t in captions_at(d, 4))


def test_scratch_mp3s_behind_id3_tags_all_decode(records, corpora):
    """The real scratch package: its 25 tagged MP3s once all read as "truncated"."""
    ours = [r for r in records["eval"] if r.source == "scratch"]
    assert len(ours) == 112 and {r.id.split("/")[1] for r in ours} >= {"animal", "vocals"}
    assert not [clip for clip in corpora[2]["dropped"] if clip.startswith("scratch/")]
    cat = next(r for r in ours if r.id == "scratch/animal/Cat")
    assert 0.45 < cat.duration < 0.55  # the decoded length, not the tag-inflated 1.01 s


def test_gcompris_sounds_come_out_of_the_rcc_files(records):
    """The real gcompris-qt-data package: all 69 described sounds, dog barks among them."""
    ours = [r for split in ("train", "val") for r in records[split] if r.source == "gcompris"]
    assert len(ours) == 69 and not any(r.source == "gcompris" for r in records["eval"])
    dogs = [r for r in ours if r.labels == ["animal", "mammal", "dog"]]
    assert len(dogs) == 3 and all("A dog barking." in captions_at(r, 4) for r in dogs)
    assert all(0.05 < r.duration <= 10.0 for r in ours)


def test_one_seed_gives_identical_manifests_and_audio(corpora):
    a, b, info_a, info_b = corpora
    for split in SPLITS:
        assert (a / f"{split}.jsonl").read_bytes() == (b / f"{split}.jsonl").read_bytes()
    assert _files(a) == _files(b)
    assert info_a["audio_sha256"] == info_b["audio_sha256"]
    assert info_a["manifests"] == info_b["manifests"]


def test_rerun_skips_done_clips_and_repairs_a_damaged_one(corpora):
    root = corpora[1]
    before = _files(root)
    info = build_corpus(root, "small", seed=7, workers=1)
    assert info["rendered_clips"] == 0 and info["reused_clips"] > 0
    victim = root / sorted(before)[0]
    victim.write_bytes(victim.read_bytes()[:100])
    calls: list[tuple[int, int]] = []
    info = build_corpus(
        root, "small", seed=7, workers=1, progress=lambda d, t: calls.append((d, t))
    )
    assert info["rendered_clips"] == 1
    assert _files(root) == before
    assert calls[-1][0] == calls[-1][1]


def test_cli_validate_and_stats(corpora):
    runner = CliRunner()
    manifest = str(corpora[0] / "eval.jsonl")
    ok = runner.invoke(app, ["data", "validate", manifest])
    assert ok.exit_code == 0, ok.output
    stats = runner.invoke(app, ["data", "stats", manifest, "--json"])
    assert stats.exit_code == 0, stats.output
    data = json.loads(stats.stdout)
    assert data["split"] == {"eval": data["clips"]}
    assert data["labels"]["L1"]["classes"] >= 2
    bad = corpora[0] / "bad.jsonl"
    bad.write_text('{"id": 1}\n')
    result = runner.invoke(app, ["data", "validate", str(bad)])
    assert result.exit_code == 1 and "bad.jsonl:1:" in result.stderr


def test_desktop_sounds_from_the_real_theme_packages(records):
    """The real desktop packages (freedesktop, Oxygen, AisleRiot, Kapman, Blinken): a
    held-out library of user-interface sounds, every label an ontology path."""
    from audiotext_cli.data.ontology import ONTOLOGY

    ours = [r for r in records["eval"] if r.source == "desktop"]
    assert 70 <= len(ours) <= 90 and not any(r.source == "desktop" for r in records["train"])
    assert all(r.labels[1] in ONTOLOGY[r.labels[0]].classes for r in ours)
    by_id = {r.id: r for r in ours}
    assert by_id["desktop/freedesktop/bell"].labels == ["alarm", "bell", "bell"]
    assert by_id["desktop/oxygen/Oxygen-Im-Phone-Ring"].labels[:2] == ["alarm", "ringtone"]
    ui = [r for r in ours if r.labels[0] == "user interface"]
    assert len(ui) > 40 and {r.id.split("/")[1] for r in ui} >= {"freedesktop", "oxygen", "kapman"}


def test_every_label_is_an_ontology_path(records):
    from audiotext_cli.data.ontology import ONTOLOGY

    for rec in (r for rs in records.values() for r in rs):
        assert rec.labels[0] in ONTOLOGY, rec.id
        assert rec.labels[1] in ONTOLOGY[rec.labels[0]].classes, (rec.id, rec.labels)
