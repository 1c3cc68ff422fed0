"""Issue 17, second pass: WavPack decoding (Teeworlds), game music folders, the 0 A.D.
SoundGroup rows, Warzone's VTOL pilot sub-headings and the Hydrogen kit format with
`<filename>` before `<name>`; all on small trees laid out like the packages."""

from __future__ import annotations

import shutil
import subprocess

import numpy as np
import pytest

from audio_fixtures import write_sine
from audiotext_cli.audio.io import load_audio
from audiotext_cli.data.sources import (
    CORPUS_SR,
    MAX_SECONDS,
    FileAudio,
    WavPackAudio,
    hydrogen,
    teeworlds,
    warzone,
    zeroad,
)
from audiotext_cli.data.sources.library import Library, Music, Part, list_audio, match
from audiotext_cli.errors import DataBuildError


def test_file_audio_stops_at_max_seconds_with_the_full_decode_samples(tmp_path):
    wav = write_sine(tmp_path / "long.wav", 440, MAX_SECONDS + 2.0, sr=22050)
    got = FileAudio(str(wav)).make()
    assert got.shape == (int(MAX_SECONDS * CORPUS_SR),)
    np.testing.assert_array_equal(got, load_audio(wav, CORPUS_SR)[: got.size])


@pytest.mark.skipif(shutil.which("wavpack") is None, reason="needs Debian wavpack (make apt)")
def test_wavpack_round_trip_equals_the_wav(tmp_path):
    wav = write_sine(tmp_path / "a.wav", 330, 0.4, sr=22050)
    wv = tmp_path / "audio" / "wp_gun_fire-01.wv"
    wv.parent.mkdir()
    subprocess.run(["wavpack", "-q", "-y", str(wav), "-o", str(wv)], check=True)
    found = list_audio(tmp_path, "audio")
    assert [f.rel for f in found] == ["wp_gun_fire-01"]
    assert isinstance(found[0].audio, WavPackAudio)
    np.testing.assert_array_equal(found[0].audio.make(), FileAudio(str(wav)).make())


def test_wavpack_without_wvunpack_or_with_a_bad_file_is_a_build_error(tmp_path, monkeypatch):
    bad = tmp_path / "bad.wv"
    bad.write_bytes(b"not wavpack at all")
    if shutil.which("wvunpack"):
        with pytest.raises(DataBuildError, match="wvunpack failed"):
            WavPackAudio(str(bad)).make()
    monkeypatch.setattr(shutil, "which", lambda _: None)
    with pytest.raises(DataBuildError, match="apt-get install wavpack"):
        WavPackAudio(str(bad)).make()


@pytest.mark.parametrize(
    ("stem", "expected"),
    [
        ("wp_shotty_fire-02", ("weapon", "gun", "shotgun")),
        ("foley_foot_left-03", ("footsteps", "footsteps", "footstep")),
        ("sfx_ctf_grab_en", ("user interface", "game event", "flag grabbed")),
        ("vo_teefault_pain_long-01", ("human sound", "pain", "pain")),
        ("vo_teefault_spawn-01", None),  # says when it plays, not what is heard
        ("wp_ninja_attack-01", None),
    ],
)
def test_teeworlds_names(stem, expected):
    hit = match(teeworlds.LIBRARY.parts[0].table, stem)
    assert (hit[1][:3] if hit else None) == expected


def test_music_folders_give_game_music_with_the_title_in_level_4(tmp_path):
    wav = write_sine(tmp_path / "src.wav", 220, 0.3)
    for rel in ("music/forest/forest_theme.ogg", "music/battle-theme.ogg", "sfx/jump.ogg"):
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(wav, tmp_path / rel)
    lib = Library(
        "game",
        (),
        "MIT",
        (Part(0, "sfx", {"jump": ("human sound", "effort", "jump", "someone jumping")}),),
        music=(Music(0, "music", "SuperGame"),),
    )
    clips = {c.id: c for c in lib.clips([tmp_path], "default", "train", 0)}
    assert sorted(clips) == [
        "game/jump",
        "game/music/battle-theme",
        "game/music/forest/forest_theme",
    ]
    forest = clips["game/music/forest/forest_theme"]
    assert forest.labels == ("music", "game music", "SuperGame music")
    level4 = [t for lvl, t in forest.captions if lvl == 4]
    assert 'Music from the game SuperGame: the track "forest theme".' in level4
    assert all("forest" not in t for lvl, t in forest.captions if lvl < 4)  # title: level 4 only
    only = Music(0, "sfx", "SuperGame", pattern="music_.*")
    with pytest.raises(DataBuildError, match="no music in sfx"):
        Library("game", (), "MIT", (), music=(only,)).clips([tmp_path], "default", "train", 0)


def test_zeroad_soundgroup_rows():
    fire = match(zeroad._FX, "attack/fire/c_11")
    assert fire and fire[1][:3] == ("fire", "fire", "crackling fire")
    assert match(zeroad._FX, "attack/fire/sp_12")[1][2] == "spreading fire"
    assert match(zeroad._FX, "attack/fire/sz11") is None  # in no SoundGroup
    sel = match(zeroad._FX, "interface/select/building/sel_civ_center")
    assert sel and sel[1][:3] == ("user interface", "game event", "civic centre selected")
    assert match(zeroad._FX, "interface/select/building/sel_universal_1") is None
    assert match(zeroad._FX, "resource/gathering/gather_fieldexpire_01") is None


def test_warzone_vtol_voices_keep_their_section():
    cfg = """/*VTOL Pilots*/
\t/*Ver-1*/
\taudio\t"v-locon1.ogg"  oneshot\t100 1800  /*Locked-on*/
\t/*Ver-2*/
\taudio\t"v-locon2.ogg"  oneshot\t100 1800  /*Locked-on*/
/*SFX*/
\taudio\t"lrgcan.ogg"\toneshot 100 1800\t/*Large Cannon*/
"""
    assert warzone.transcripts(cfg) == {
        "v-locon1": ("voice line", "vtol pilots", "Locked-on"),
        "v-locon2": ("voice line", "vtol pilots", "Locked-on"),
    }


def test_hydrogen_reads_name_not_filename_in_the_older_kit_format(tmp_path):
    kit = tmp_path / hydrogen.KITS / "Old Kit"
    write_sine(kit / "HardHse_K_02.flac", 60, 0.1)
    write_sine(kit / "WaterglassHi-Med.wav", 900, 0.1)
    (kit / "drumkit.xml").write_text(
        "<drumkit_info><name>Old Kit</name><instrumentList>"
        "<instrument><id>0</id><filename>HardHse_K_02.flac</filename><name>Kick 1</name>"
        "</instrument><instrument><id>1</id><name>WaterglassHi</name>"
        "<layer><filename>WaterglassHi-Med.wav</filename></layer></instrument>"
        "</instrumentList></drumkit_info>"
    )
    clips = {c.id: c.labels for c in hydrogen.clips([tmp_path], "default", "eval", 0)}
    assert clips == {
        "hydrogen/Old_Kit/HardHse_K_02": ("music", "drum kit", "kick drum"),
        "hydrogen/Old_Kit/WaterglassHi-Med": ("music", "percussion instrument", "water glass"),
    }


def test_warzone_countdown_calls_give_the_time_not_invented_words():
    assert warzone._COUNTDOWN.fullmatch("10min").group(1) == "10"
    assert warzone._COUNTDOWN.fullmatch("10to1").group(1) == "10to1"
    assert warzone._COUNTDOWN.fullmatch("det10min") is None  # what "det" says is not read
    assert warzone._COUNTDOWN.fullmatch("flseq") is None
