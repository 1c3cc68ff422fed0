"""The shared ontology and the table-driven game sources (issue 17).

Tables are checked whole (every row is an ontology path whose captions keep their labels);
the labelling logic that reads game data (voice packs, audio.cfg transcripts, drumkit.xml,
bot commands, voice orders) runs on small trees laid out like the packages. The desktop
source runs on the real packages in the small build (tests/test_data_build.py).
"""

from __future__ import annotations

import re
import zipfile
from pathlib import Path

import pytest

from audio_fixtures import write_sine
from audiotext_cli.data.captions import build_captions
from audiotext_cli.data.ontology import CATEGORIES, L1_CLASSES, ONTOLOGY, check, place
from audiotext_cli.data.sources import (
    CORPUS_SR,
    ZipAudio,
    games,
    hedgewars,
    hydrogen,
    openarena,
    registry,
    teeworlds,
    warzone,
    zeroad,
)
from audiotext_cli.data.sources.library import Library, Part, list_audio, match, table_clips
from audiotext_cli.data.sources.soundfont import music_class
from audiotext_cli.errors import DataBuildError

LIBRARIES = (
    *games.LIBRARIES,
    hedgewars.LIBRARY,
    warzone.LIBRARY,
    openarena.LIBRARY,
    zeroad.LIBRARY,
    teeworlds.LIBRARY,
)


def test_ontology_categories_are_documented_and_paraphrased():
    assert len(L1_CLASSES) == len(set(L1_CLASSES)) == 20
    for cat in CATEGORIES:
        assert len(cat.paraphrases) == 3 and all(cat.name in p for p in cat.paraphrases)
        assert cat.classes and all(desc for desc in cat.classes.values())
    assert "sci-fi sound" in ONTOLOGY["electronic sound"].classes
    assert "two-wheeler" in ONTOLOGY["vehicle"].classes


def test_check_rejects_labels_outside_the_ontology():
    check(("weapon", "gun", "shotgun"))
    with pytest.raises(ValueError, match="level-1"):
        check(("sound effect", "vehicle", "car horn"))
    with pytest.raises(ValueError, match="level-2"):
        check(("weapon", "vehicle", "tank"))
    with pytest.raises(ValueError):
        build_captions(("animal", "robot", "dog"), ["A dog."])


@pytest.mark.parametrize(
    "name,expected",
    [
        ("FootStepSnow1", ("footsteps", "footsteps")),
        ("glass_break", ("impact", "breaking")),
        ("car horn", ("alarm", "horn")),
        ("water drop", ("water", "drip")),
        ("wind_chimes01", ("alarm", "bell")),
        ("washing machine", ("machine", "household appliance")),
        ("Explosion2", ("explosion", "explosion")),
        ("DoorCreak", ("door", "door")),
        ("laugh male", ("human sound", "laughter")),
        ("xyzzy", None),
    ],
)
def test_place_files_a_name_by_its_words(name, expected):
    assert place(name) == expected


def test_every_table_row_is_an_ontology_path_with_honest_captions():
    rows = 0
    for lib in LIBRARIES:
        for part in lib.parts:
            for pattern, (l1, l2, l3, what) in part.table.items():
                re.compile(pattern)
                caps = build_captions((l1, l2, l3), [what])
                for c in caps:
                    if c["level"] < 4:
                        assert (l1, l2, l3)[c["level"] - 1] in c["text"], (lib.name, pattern)
                assert l3 and what, (lib.name, pattern)
                rows += 1
    assert rows > 400


def test_registry_names_every_source_once():
    names = list(registry())
    assert len(names) == len(set(names))
    for lib in LIBRARIES:
        assert registry()[lib.name].packages == lib.packages


@pytest.mark.parametrize(
    "program,expected",
    [
        (0, "keyboard instrument"),
        (22, "wind instrument"),
        (33, "bass"),
        (40, "string instrument"),
        (47, "percussion instrument"),
        (52, "ensemble"),
        (56, "brass instrument"),
        (73, "wind instrument"),
        (81, "synthesizer"),
        (105, "string instrument"),
        (127, "sound effect patch"),
    ],
)
def test_gm_programs_map_into_the_music_classes(program, expected):
    assert music_class(program) == expected
    assert all(music_class(p) in ONTOLOGY["music"].classes for p in range(128))


# ---------------------------------------------------------------- the table helper


def _zip(path: Path, members: dict[str, Path]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(path, "w") as zf:
        for name, src in members.items():
            zf.write(src, name)
    return path


def test_table_clips_keep_named_files_and_leave_out_the_rest(tmp_path):
    folder = tmp_path / "snd"
    for i, name in enumerate(("explosion.wav", "Droplet2.wav", "custom3.wav", "splash.wav")):
        write_sine(folder / name, 300 + 50 * i, 0.2)
    write_sine(folder / "splash.ogg", 900, 0.2)
    table = {
        "explosion": ("explosion", "explosion", "explosion", "an explosion"),
        "Droplet[123]": ("water", "drip", "water drop", "a drop of water"),
        "splash(_ogg|_wav)": ("water", "splash", "splash", "a splash"),
    }
    clips = {c.id: c for c in table_clips("t", "MIT", (Part(0, "snd", table),), [tmp_path])}
    assert sorted(clips) == ["t/Droplet2", "t/explosion", "t/splash_ogg", "t/splash_wav"]
    assert clips["t/Droplet2"].labels == ("water", "drip", "water drop")
    assert [t for lv, t in clips["t/explosion"].captions if lv == 4][0] == "An explosion."
    assert match(table, "droplet3") == ("Droplet[123]", table["Droplet[123]"])
    table["thunder"] = ("weather", "thunder", "thunder", "thunder")
    with pytest.raises(DataBuildError, match="matches thunder"):
        table_clips("t", "MIT", (Part(0, "snd", table),), [tmp_path])


def test_zip_members_are_listed_and_decoded(tmp_path):
    wav = write_sine(tmp_path / "src" / "a.wav", 440, 0.25)
    _zip(tmp_path / "pak.pk3", {"sound/weapons/gun.wav": wav, "sound/readme.txt": wav})
    found = list_audio(tmp_path, "pak.pk3!sound/", recursive=True)
    assert [f.rel for f in found] == ["weapons/gun"]
    assert isinstance(found[0].audio, ZipAudio)
    assert len(found[0].audio.make()) == CORPUS_SR // 4
    assert list_audio(tmp_path, "pak.pk3!sound/") == []  # not recursive: no subfolders
    with pytest.raises(DataBuildError):
        ZipAudio(str(tmp_path / "pak.pk3"), "sound/missing.wav").make()


def test_library_without_any_labelled_sound_is_a_build_error(tmp_path):
    (tmp_path / "snd").mkdir()
    lib = Library("empty", (), "MIT", (Part(0, "snd", {}),))
    with pytest.raises(DataBuildError, match="no labelled sounds"):
        lib.clips([tmp_path], "default", "train", 0)


# ------------------------------------------------------------------ game-data logic


def test_hedgewars_voice_packs(tmp_path):
    voices = tmp_path / hedgewars.SOUNDS / "voices"
    for i, rel in enumerate(
        (
            "Pirate/Takecover.ogg",
            "Pirate/Laugh.ogg",
            "Pirate/Ow2.ogg",
            "Pirate/Custom.ogg",  # no such event: left out
            "Default_pl/Hello.ogg",
            "Singer/Hello.ogg",
        )
    ):
        path = write_sine(voices / Path(rel).with_suffix(".wav"), 200 + 30 * i, 0.2)
        path.rename(path.with_suffix(".ogg"))
    clips = {c.id: c for c in hedgewars._voice_clips([tmp_path])}
    assert sorted(clips) == [
        "hedgewars/voices/Default_pl/Hello",
        "hedgewars/voices/Pirate/Laugh",
        "hedgewars/voices/Pirate/Ow2",
        "hedgewars/voices/Pirate/Takecover",
        "hedgewars/voices/Singer/Hello",
    ]
    take = clips["hedgewars/voices/Pirate/Takecover"]
    assert take.labels == ("speech", "voice line", "take cover")
    assert 'A game character says "take cover" (the Pirate voice).' in dict(
        (t, lv) for lv, t in take.captions
    )
    polish = [t for lv, t in clips["hedgewars/voices/Default_pl/Hello"].captions if lv == 4]
    assert "spoken in Polish" in polish[0] and "says" not in polish[0]
    assert clips["hedgewars/voices/Pirate/Laugh"].labels == ("human sound", "laughter", "laugh")
    assert clips["hedgewars/voices/Pirate/Ow2"].labels[:2] == ("human sound", "pain")
    assert clips["hedgewars/voices/Singer/Hello"].labels == ("music", "vocals", "hello")


_CFG = """audio_module
{
/*beeps*/
	audio	"beep1.ogg"		oneshot  30 1800	/*Close Window*/
/*Research*/
	audio	"pcv357.ogg"  	oneshot	100 1800  /*Research Completed*/
	audio	"pcv999.ogg"  	oneshot	100 1800
/*Group & Commander Voices - Male */
	audio	"com039.ogg" 	oneshot	100 1800  /*Unable to Comply*/
/*SFX*/
	audio	"lrgcan.ogg"	oneshot 100 1800	/*Large Cannon*/
}
"""


def test_warzone_transcripts_come_from_the_voice_sections_only():
    got = warzone.transcripts(_CFG)
    assert got == {
        "pcv357": ("announcement", "research", "Research Completed"),
        "com039": ("voice line", "group & commander voices", "Unable to Comply"),
    }


def test_warzone_speech_clips_read_audio_cfg_and_tutorial(tmp_path):
    wav = write_sine(tmp_path / "src.wav", 440, 0.3)
    cfg = tmp_path / "audio.cfg"
    cfg.write_text(_CFG)
    tut = tmp_path / "tutorial.js"
    tut.write_text('{"audio": "tut3.ogg", "clear": false, "message": _("Select a truck"), "x": 0}')
    camp = tmp_path / "libcampaign.js"
    camp.write_text('//nexus\nconst DEFENSE_ABSORBED = "defabsrd.ogg";\n')
    _zip(
        tmp_path / warzone.BASE,
        {
            "audio/audio.cfg": cfg,
            "script/tutorial.js": tut,
            warzone.CAMPAIGN: camp,
            "audio/nexus/defabsrd.ogg": wav,
            "audio/nexus/untnut.ogg": wav,  # no constant names it: left out
            "audio/countdown/10min.ogg": wav,
            "audio/countdown/det10min.ogg": wav,
            "audio/memressp/research/pcv357.ogg": wav,
            "audio/tutorial/tut3.ogg": wav,
            "audio/taunts/taunt1/tkethat1.ogg": wav,
            "audio/taunts/taunt1/trdofrd1.ogg": wav,  # not spelled out: left out
        },
    )
    clips = {c.id: c for c in warzone._speech_clips([tmp_path])}
    assert sorted(clips) == [
        "warzone2100/countdown/10min",
        "warzone2100/memressp/research/pcv357",
        "warzone2100/nexus/defabsrd",
        "warzone2100/taunts/taunt1/tkethat1",
        "warzone2100/tutorial/tut3",
    ]
    research = clips["warzone2100/memressp/research/pcv357"]
    assert research.labels == ("speech", "announcement", "research")
    assert 'A voice says: "Research Completed"' in [t for _, t in research.captions]
    assert clips["warzone2100/tutorial/tut3"].labels == ("speech", "announcement", "tutorial")
    assert clips["warzone2100/taunts/taunt1/tkethat1"].labels == ("speech", "voice line", "taunt")
    nexus = clips["warzone2100/nexus/defabsrd"]
    assert nexus.labels == ("speech", "voice line", "nexus")
    assert "The Nexus voice announces: defense absorbed." in [t for _, t in nexus.captions]
    count = [t for lvl, t in clips["warzone2100/countdown/10min"].captions if lvl == 4]
    assert count[0] == "A countdown announcement: 10 minutes."


@pytest.mark.parametrize(
    "stem,expected",
    [
        ("coverme", "cover me"),
        ("ourbaseisunderattack", "our base is under attack"),
        ("illcoverourbase", "I'll cover our base"),
        ("imcampinhere", "I'm campin' here"),
        ("bzzz", None),
        ("qwerty", None),
    ],
)
def test_openarena_bot_command_words(stem, expected):
    assert openarena.spoken(stem) == expected


_KIT = """<?xml version="1.0" encoding="UTF-8"?>
<drumkit_info xmlns="http://www.hydrogen-music.org/drumkit">
 <name>Test Kit</name>
 <instrumentList>
  <instrument><id>0</id><name>Pearl Kick</name>
   <layer><filename>Kick-Soft.wav</filename></layer>
   <layer><filename>Kick-Hard.wav</filename></layer></instrument>
  <instrument><id>1</id><name>Sabian Hat Closed</name><filename>Hat.wav</filename></instrument>
  <instrument><id>2</id><name>Noise</name><filename>Noise.wav</filename></instrument>
  <instrument><id>3</id><name>Hand Clap</name><filename>Clap.wav</filename></instrument>
 </instrumentList>
</drumkit_info>
"""


def test_hydrogen_labels_come_from_drumkit_xml(tmp_path):
    kit = tmp_path / hydrogen.KITS / "Test Kit"
    for i, name in enumerate(("Kick-Soft", "Kick-Hard", "Hat", "Noise", "Clap")):
        write_sine(kit / f"{name}.wav", 100 + 40 * i, 0.1)
    (kit / "drumkit.xml").write_text(_KIT)
    clips = {c.id: c for c in hydrogen.clips([tmp_path], "default", "train", 0)}
    assert sorted(clips) == [
        "hydrogen/Test_Kit/Clap",
        "hydrogen/Test_Kit/Hat",
        "hydrogen/Test_Kit/Kick-Hard",
        "hydrogen/Test_Kit/Kick-Soft",
    ]
    assert clips["hydrogen/Test_Kit/Kick-Hard"].labels == ("music", "drum kit", "kick drum")
    assert clips["hydrogen/Test_Kit/Hat"].labels == ("music", "drum kit", "hi-hat")
    assert clips["hydrogen/Test_Kit/Clap"].labels == ("music", "percussion instrument", "hand clap")
    assert hydrogen.piece("Pearl Tom Floor") == ("drum kit", "tom drum")
    assert hydrogen.piece("Trimo C3") is None


def test_zeroad_voice_orders_and_effects(tmp_path):
    wav = write_sine(tmp_path / "src.wav", 330, 0.2)
    _zip(
        tmp_path / zeroad.ZIP,
        {
            "audio/voice/latin/civ/civ_female_attack_1.ogg": wav,
            "audio/voice/greek/civ/civ_male_Imcoming_2.ogg": wav,
            "audio/voice/klingon/civ/civ_male_attack_1.ogg": wav,  # unknown language
            "audio/actor/singlesteps/fs_gravel_3.ogg": wav,
            "audio/music/Sunrise.ogg": wav,
        },
    )
    voices = {c.id: c for c in zeroad._voice_clips([tmp_path])}
    assert sorted(voices) == [
        "zeroad/voice/greek/civ/civ_male_Imcoming_2",
        "zeroad/voice/latin/civ/civ_female_attack_1",
    ]
    attack = voices["zeroad/voice/latin/civ/civ_female_attack_1"]
    assert attack.labels == ("speech", "voice line", "attack")
    assert 'A woman answers an order ("attack") in Latin.' in [t for _, t in attack.captions]
    assert voices["zeroad/voice/greek/civ/civ_male_Imcoming_2"].labels[2] == "I'm coming"
    hit = match(zeroad._FX, "actor/singlesteps/fs_gravel_3")
    assert hit and hit[1][:2] == ("footsteps", "footsteps on gravel")
    assert match(zeroad._FX, "music/Sunrise") is None


def test_article_knows_plural_heads():
    from audiotext_cli.data.captions import article

    assert article("footsteps on gravel") == "footsteps on gravel"
    assert article("footstep on flesh") == "a footstep on flesh"
    assert article("owl") == "an owl" and article("glass breaking") == "a glass breaking"
