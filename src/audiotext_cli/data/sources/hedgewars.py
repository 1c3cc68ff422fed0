"""Hedgewars: its voice packs (one folder per character voice, one file per game event) and
its named sound effects.

Voice packs: `Sounds/voices/<Pack>/<Event>.ogg`, the event being the line the game plays
it for ("Incoming", "Takecover", "Illgetyou"). The file name names the line, so
  spoken lines      -> ["speech", "voice line", the line as words ("take cover")]
  Laugh             -> ["human sound", "laughter", "laugh"]
  Ow/Ooff/Ouch/PoisonMoan -> ["human sound", "pain", ...]; Jump -> effort; PoisonCough ->
                       breathing (cough)
and level 4 names the pack ('A game character says "take cover" (the Pirate voice).').
Packs `Default_es/_pl/_ru/_uk` speak Spanish, Polish, Russian, Ukrainian: level 4 says the
line is the event's, in that language, not a transcript. The `Singer` pack sings its lines:
["music", "vocals", line]; `Hmm` is a voice line "hmm". Effects: the table below; notes,
music and names that do not say what is heard (`egg`, `custom3`, `hellish`) are left out.
Licence: GPL-2 for the game, GFDL-1.3 for Sounds/ (Droplet*: CC-BY-SA-3.0); see LICENSES.
"""

from __future__ import annotations

from pathlib import Path

from audiotext_cli.data.packages import Package
from audiotext_cli.data.sources import ClipSpec, FileAudio, spec
from audiotext_cli.data.sources.library import QUOTED_L3, SPEECH_L2, Library, Music, Part
from audiotext_cli.errors import DataBuildError

NAME = "hedgewars"
LICENSE = "GFDL-1.3 (Hedgewars Sounds/; Droplet*: CC-BY-SA-3.0), game GPL-2"
SOUNDS = "usr/share/games/hedgewars/Data/Sounds"
LANGUAGES = {"es": "Spanish", "pl": "Polish", "ru": "Russian", "uk": "Ukrainian"}
SUNG_PACKS = {"Singer"}
LINES = {  # event file stem (digits removed) -> the line as words
    "Amazing": "amazing",
    "Boring": "boring",
    "Brilliant": "brilliant",
    "Bugger": "bugger",
    "Byebye": "bye-bye",
    "Comeonthen": "come on then",
    "Coward": "coward",
    "Cutitout": "cut it out",
    "Drat": "drat",
    "Enemydown": "enemy down",
    "Excellent": "excellent",
    "Fire": "fire",
    "Firepunch": "fire punch",
    "Firstblood": "first blood",
    "Flawless": "flawless",
    "Flyaway": "fly away",
    "Gonnagetyou": "gonna get you",
    "Grenade": "grenade",
    "Hello": "hello",
    "Hmm": "hmm",
    "Hurry": "hurry",
    "Illgetyou": "I'll get you",
    "Incoming": "incoming",
    "Justyouwait": "just you wait",
    "Kamikaze": "kamikaze",
    "Leavemealone": "leave me alone",
    "Melon": "melon",
    "Missed": "missed",
    "Nooo": "no",
    "Nutter": "nutter",
    "Ohdear": "oh dear",
    "Oops": "oops",
    "Reinforcements": "reinforcements",
    "Revenge": "revenge",
    "Runaway": "run away",
    "Sameteam": "same team",
    "Solong": "so long",
    "Stupid": "stupid",
    "Takecover": "take cover",
    "Thisoneismine": "this one is mine",
    "Traitor": "traitor",
    "Uh-oh": "uh-oh",
    "Victory": "victory",
    "Watchit": "watch it",
    "Watchthis": "watch this",
    "Whatthe": "what the",
    "Yessir": "yes sir",
    "Youllregretthat": "you'll regret that",
}
VOCAL = {  # event -> (L2, L3, what is heard)
    "Laugh": ("laughter", "laugh", "laughing"),
    "Ow": ("pain", "cry of pain", "crying out in pain"),
    "Ooff": ("pain", "grunt of pain", "grunting in pain"),
    "Ouch": ("pain", "cry of pain", "saying ouch in pain"),
    "PoisonMoan": ("pain", "moan", "moaning, poisoned"),
    "Jump": ("effort", "jump grunt", "grunting as it jumps"),
    "PoisonCough": ("breathing", "cough", "coughing, poisoned"),
}

_EFFECTS = {
    "Droplet[123]": ("water", "drip", "water drop", "a drop of water"),
    "melonimpact": ("impact", "splat", "melon impact", "a melon smashing on the ground"),
    "(plane|bee)water": ("water", "splash", "splash", "something splashing into water"),
    "steam": ("machine", "factory", "steam", "steam hissing"),
    "hell_(ow|ooff|ugh)": ("human sound", "pain", "pain", "someone crying out in pain"),
    "drillgun": ("machine", "tool", "drill", "a drill"),
    "jetpackboost": ("machine", "motor", "jetpack", "a jetpack boosting"),
    "parachute": ("movement", "whoosh", "parachute", "a parachute opening"),
    "frozen_hog_impact": ("impact", "thud", "frozen hedgehog", "a frozen hedgehog landing"),
    "Kiss": ("human sound", "body", "kiss", "a kiss"),
    "Whistle": ("alarm", "whistle", "whistle", "a whistle"),
    "TARDIS": ("electronic sound", "sci-fi sound", "TARDIS", "the TARDIS materialising"),
    "CollectCrate": ("user interface", "game event", "crate collected", "a crate collected"),
    "airmine_impact": ("weapon", "mine", "air mine", "an air mine hitting"),
    "baseballbat": ("weapon", "blunt weapon", "baseball bat", "a baseball bat hit"),
    "bee": ("animal", "insect", "bee", "a bee buzzing"),
    "beep": ("electronic sound", "beep", "beep", "a beep"),
    "blowtorch": ("machine", "tool", "blowtorch", "a blowtorch burning"),
    "bump": ("impact", "thud", "bump", "a bump"),
    "denied": ("user interface", "error", "denied", "an action denied"),
    "explosion": ("explosion", "explosion", "explosion", "an explosion"),
    "extratime": ("user interface", "game event", "extra time", "extra time given"),
    "firepunch_hit": ("impact", "hit", "punch", "a fire punch landing"),
    "flamethrower": ("weapon", "flamethrower", "flamethrower", "a flamethrower"),
    "graveimpact": ("impact", "thud", "gravestone landing", "a gravestone landing"),
    "grenadeimpact": ("impact", "thud", "grenade landing", "a grenade landing"),
    "gun": ("weapon", "gun", "gun", "a gun firing"),
    "hammer": ("impact", "hit", "hammer blow", "a hammer blow"),
    "ice_beam": ("weapon", "energy weapon", "ice beam", "an ice beam firing"),
    "invulnerable": ("user interface", "game event", "invulnerability", "invulnerability gained"),
    "knife_impact": ("weapon", "blade", "knife", "a thrown knife hitting"),
    "lowgravity": ("user interface", "game event", "low gravity", "low gravity switched on"),
    "mineimpact": ("weapon", "mine", "mine", "a mine landing"),
    "minetick": ("weapon", "mine", "mine ticking", "a mine ticking"),
    "minigun": ("weapon", "gun", "minigun", "a minigun firing"),
    "molotov": ("fire", "fire", "molotov cocktail", "a molotov cocktail bursting into flames"),
    "mortar": ("weapon", "launcher", "mortar", "a mortar firing"),
    "pickhammer": ("machine", "tool", "pneumatic hammer", "a pneumatic pick hammer"),
    "plane": ("vehicle", "aircraft", "plane", "a plane flying over"),
    "rcplane": ("vehicle", "aircraft", "model plane", "a radio-controlled model plane"),
    "portalopen": ("electronic sound", "sci-fi sound", "portal", "a portal opening"),
    "portalshot": ("electronic sound", "sci-fi sound", "portal gun", "a portal gun shot"),
    "rubberduck_drop": ("object", "toy", "rubber duck", "a rubber duck dropped"),
    "rubberduck_water": ("water", "splash", "rubber duck splash", "a rubber duck landing in water"),
    "shotgunfire": ("weapon", "gun", "shotgun", "a shotgun firing"),
    "shotgunreload": ("weapon", "gun", "shotgun reload", "a shotgun being reloaded"),
    "sniperreload": ("weapon", "gun", "sniper rifle reload", "a sniper rifle being reloaded"),
    "shutterclick": ("machine", "household appliance", "camera shutter", "a camera shutter"),
    "sinegun": ("weapon", "energy weapon", "sine gun", "a sine-wave gun firing"),
    "splash": ("water", "splash", "splash", "a splash"),
    "steps": ("footsteps", "footsteps", "footsteps", "footsteps"),
    "suddendeath": ("user interface", "game event", "sudden death", "sudden death starting"),
    "switchhog": ("user interface", "game event", "switch", "switching to another hedgehog"),
    "throwrelease": ("movement", "whoosh", "throw", "something thrown"),
    "ufo": ("vehicle", "spacecraft", "UFO", "a UFO"),
    "warp": ("electronic sound", "sci-fi sound", "warp", "a warp"),
    "whipcrack": ("weapon", "blunt weapon", "whip", "a whip cracking"),
}


_SPEECH = {"l2": SPEECH_L2, "l3": QUOTED_L3}


def _event(stem: str) -> str:
    return stem.rstrip("0123456789")


def _voice_clips(roots: list[Path]) -> list[ClipSpec]:
    base = roots[0] / SOUNDS / "voices"
    packs = sorted(p for p in base.iterdir() if p.is_dir()) if base.is_dir() else []
    if not packs:
        raise DataBuildError("no Hedgewars voice packs", base)
    out = []
    for pack in packs:
        voice, _, lang = pack.name.partition("_")
        language = LANGUAGES.get(lang)
        who = f"the {pack.name} voice" if not language else f"the {voice} voice, in {language}"
        for ogg in sorted(pack.glob("*.ogg")):
            event = _event(ogg.stem)
            clip = f"voices/{pack.name}/{ogg.stem}"
            if event in VOCAL:
                l2, l3, doing = VOCAL[event]
                labels = ("human sound", l2, l3)
                texts = [
                    f"A game character {doing} ({who}).",
                    f"A cartoon voice {doing}.",
                    f"The sound of a game character {doing}.",
                ]
            elif event in LINES and pack.name in SUNG_PACKS:
                line = LINES[event]
                labels = ("music", "vocals", line)
                texts = [
                    f'A game character sings "{line}" ({who}).',
                    f'A sung voice line: "{line}".',
                    f'Someone singing "{line}".',
                ]
            elif event in LINES:
                line = LINES[event]
                labels = ("speech", "voice line", line)
                if language:
                    texts = [
                        f'A game character\'s line for "{line}", spoken in {language}.',
                        f'A voice line for the event "{line}" ({who}).',
                        f"A cartoon voice speaking {language}.",
                    ]
                else:
                    texts = [
                        f'A game character says "{line}" ({who}).',
                        f'A cartoon voice line: "{line}".',
                        f'Someone in a game shouts "{line}".',
                    ]
            else:
                continue
            templates = _SPEECH if labels[0] == "speech" else {}
            out.append(spec(NAME, clip, labels, texts, LICENSE, FileAudio(str(ogg)), **templates))
    return out


LIBRARY = Library(
    NAME,
    (Package("deb", "hedgewars-data", "1.0.2-6"),),
    LICENSE,
    (Part(0, SOUNDS, _EFFECTS, prefix="effects"),),
    extra=(_voice_clips,),
    music=(Music(0, "usr/share/games/hedgewars/Data/Music", "Hedgewars"),),
)
SOURCE = LIBRARY.source()
