"""Warzone 2100: announcer and pilot voice lines with their transcripts, and its effects.

The sounds sit in `base.wz` (a zip). The game's own `audio/audio.cfg` lists each sound,
and for the voice lines a comment gives the words (`audio "pcv357.ogg" ... /*Research
Completed*/`), grouped under section comments (`/*Research*/`, `/*VTOL Pilots*/`). Lines in
the voice sections with such a comment become
  ["speech", "announcement", section as words ("research")] with level 4 'A voice says: "Research
  Completed"' (pilot and Collective sections: "voice line").
Effects are labelled by the table below from their names and the cfg's comments
(`lrgcan` /*Large Cannon*/, `tflight` /*Blimp Flight*/). Tutorial lines take the message
`script/tutorial.js` shows with them (`"audio": "tut3.ogg", ... "message": _("To build an
oil derrick, select one of your trucks")`), if not over MAX_SECONDS. Taunts whose abbreviated names
we cannot read for sure, the countdown's detonation and sequence calls (`det10min`,
`flseq`) and lines without a transcript are left out; its plain calls (`10min`, `10to1`)
say the time left, so level 4 gives that, not the words.
Licence: GPL-2+ (warzone2100-data; a few CC0/CC-BY-SA-3.0 files, see LICENSES).
"""

from __future__ import annotations

import re
import zipfile
from pathlib import Path

from audiotext_cli.data.packages import Package
from audiotext_cli.data.sources import MAX_SECONDS, ClipSpec, spec
from audiotext_cli.data.sources.library import SPEECH_L2, Library, Part, list_audio
from audiotext_cli.errors import DataBuildError

NAME = "warzone2100"
LICENSE = "GPL-2.0-or-later (warzone2100-data; some files CC0 / CC-BY-SA-3.0)"
BASE = "usr/share/games/warzone2100/base.wz"
CFG = "audio/audio.cfg"
TUTORIAL = "script/tutorial.js"
_TUT = re.compile(r'"audio":\s*"([\w-]+)\.ogg"[^}\n]*?"message":\s*_\("([^"]+)"\)')
VOICE_SECTIONS = {  # audio.cfg section -> level-2 class
    "Design Sequence": "announcement",
    "Structures": "announcement",
    "Power": "announcement",
    "Research": "announcement",
    "Production": "announcement",
    "Repair": "announcement",
    "Detection": "announcement",
    "Status": "announcement",
    "Combat": "announcement",
    "Artillery Batteries": "announcement",
    "VTOLs": "announcement",
    "Command Console": "announcement",
    "Tutorial Stuff": "announcement",
    "Group & Commander Assignment": "announcement",
    "Routing": "announcement",
    "Transports & LZs": "announcement",
    "Mission Messages": "announcement",
    "Group & Commander Voices - Male": "voice line",
    "TRANSPORT PILOTS": "voice line",
    "VTOL Pilots": "voice line",
    "THE COLLECTIVE": "voice line",
    "Extra": "announcement",
}
_TOPIC = {"extra": "mission event", "tutorial stuff": "tutorial"}
_ENTRY = re.compile(r'^\s*audio\s+"([^"]+)"[^/\n]*(?:/\*\s*(.*?)\s*\*/)?', re.M)
_SECTION = re.compile(r"^\s*/\*\s*([^*]+?)\s*\*/\s*$", re.M)
_SUB = re.compile(r"Ver-\d+$")

_W = ".*/"  # any folder inside audio/
_EFFECTS = {
    _W + "beep[1-9]": ("user interface", "click", "interface beep", "an interface beep"),
    _W + "gmeshtdn": ("user interface", "notification", "game shutdown", "the game shutting down"),
    _W + "rocket": ("weapon", "launcher", "rocket", "a rocket being fired"),
    _W + "mortar": ("weapon", "launcher", "mortar", "a mortar firing"),
    _W + "hwtzflgt": ("weapon", "launcher", "howitzer shell", "a howitzer shell in flight"),
    _W + "lrgcan": ("weapon", "gun", "large cannon", "a large cannon firing"),
    _W + "medcan": ("weapon", "gun", "medium cannon", "a medium cannon firing"),
    _W + "smlcan": ("weapon", "gun", "small cannon", "a small cannon firing"),
    _W + "rapdcan": ("weapon", "gun", "rapid-fire cannon", "a rapid-fire cannon"),
    _W + "hivelcan": ("weapon", "gun", "high-velocity cannon", "a high-velocity cannon firing"),
    _W + "(mgbar[123]|mgheavy|mgtower|asltmg)": (
        "weapon",
        "gun",
        "machine gun",
        "a machine gun firing",
    ),
    _W + "flmthrow": ("weapon", "flamethrower", "flamethrower", "a flamethrower"),
    _W + "plasflm": ("weapon", "flamethrower", "plasma flamer", "a plasma flamer"),
    _W + "rotlsr": ("weapon", "energy weapon", "rotary laser", "a rotary laser firing"),
    _W + "plslsr": ("weapon", "energy weapon", "pulse laser", "a pulse laser firing"),
    _W + "bemlsr": ("weapon", "energy weapon", "beam laser", "a beam laser firing"),
    _W + "hevlsr": ("weapon", "energy weapon", "heavy laser", "a heavy laser firing"),
    _W + "gaussgun": ("weapon", "energy weapon", "gauss gun", "a gauss gun firing"),
    _W + "lasstrk": ("weapon", "energy weapon", "laser strike", "a laser satellite strike"),
    _W + "weld-[12]": ("machine", "tool", "welding", "welding"),
    _W + "(smlexpl|lrgexpl|atnkexpl|lsrexpl)": (
        "explosion",
        "explosion",
        "explosion",
        "an explosion",
    ),
    _W + "richet[123]": ("impact", "metal", "ricochet", "a bullet ricocheting"),
    _W + "squish": ("impact", "splat", "squish", "a squish"),
    _W + "bldfall": ("impact", "crash", "building collapse", "a building collapsing"),
    _W + "tflight": ("vehicle", "aircraft", "blimp", "a transport blimp flying"),
    _W + "thover": ("vehicle", "aircraft", "blimp", "a transport blimp hovering"),
    _W + "tland": ("vehicle", "aircraft", "blimp", "a transport blimp landing"),
    _W + "tstart": ("vehicle", "aircraft", "blimp", "a transport blimp taking off"),
    _W + "vtolland": ("vehicle", "aircraft", "VTOL", "a VTOL aircraft landing"),
    _W + "vtoloff": ("vehicle", "aircraft", "VTOL", "a VTOL aircraft taking off"),
    _W + "vtol-move": ("vehicle", "aircraft", "VTOL", "a VTOL aircraft flying"),
    _W + "tread": ("vehicle", "tracked vehicle", "tank treads", "a tracked vehicle moving"),
    _W + "hovmove": ("vehicle", "hovercraft", "hovercraft", "a hovercraft moving"),
    _W + "hovstart": ("vehicle", "hovercraft", "hovercraft", "a hovercraft starting"),
    _W + "hovstop": ("vehicle", "hovercraft", "hovercraft", "a hovercraft stopping"),
    _W + "con-(move|move-off|shut-down)": (  # audio.cfg: "Constructor droid" engine noises
        "machine",
        "motor",
        "droid engine",
        "a constructor droid's engine",
    ),
    _W + "steam": ("machine", "factory", "steam", "steam hissing"),
    _W + "splash": ("water", "splash", "splash", "a splash"),
    _W + "(nxsexpld|mpodexpl)": ("explosion", "explosion", "explosion", "an explosion"),
    _W + "oilpump": ("machine", "motor", "oil pump", "an oil pump working"),
    _W + "powerhum": ("machine", "electrical", "power generator", "a power generator humming"),
    _W + "freroar": ("fire", "fire", "roaring fire", "a fire roaring"),
    _W + "radclik[1-6]": ("electronic sound", "glitch", "radio click", "a radio click"),
    _W + "beacon": ("electronic sound", "beep", "beacon", "a beacon beeping"),
    _W + "scream[23]?": ("human sound", "scream", "scream", "a person screaming"),
    _W + "laugh[123]": ("human sound", "laughter", "laugh", "an evil laugh"),
    _W + "ha(ha)+[123]": ("human sound", "laughter", "laugh", "a taunting laugh"),
}
TAUNTS = {  # taunts/tauntN/<abbreviation>N.ogg whose name spells the line
    "tkethat": "take that",
    "hadenuf": "had enough",
    "cmgetit": "come get it",
    "gmeover": "game over",
    "wanadie": "wanna die",
    "surprse": "surprise",
    "tme2die": "time to die",
    "wntmore": "want more",
}


def transcripts(cfg: str) -> dict[str, tuple[str, str, str]]:
    """File stem -> (level-2 class, section as words, the words) for every commented
    line in a voice section."""
    out: dict[str, tuple[str, str, str]] = {}
    # "Ver-1".."Ver-3" are the VTOL pilots' three voices, sub-headings of their section
    marks = [(m.start(), m.group(1)) for m in _SECTION.finditer(cfg) if not _SUB.match(m.group(1))]
    for m in _ENTRY.finditer(cfg):
        section = next((name for pos, name in reversed(marks) if pos < m.start()), "")
        words = (m.group(2) or "").strip(" :")
        kind = VOICE_SECTIONS.get(section)
        if kind and words and re.search(r"[A-Za-z0-9]", words):
            topic = re.sub(r"\s*-.*$", "", section).lower().removeprefix("the ")
            topic = _TOPIC.get(topic, topic)
            out[Path(m.group(1)).stem] = (kind, topic, " ".join(words.split()))
    return out


_SPEECH = {
    "l2": ("{x}", "an {x}", "speech: an {x}"),
    "l3": ("{x}", "a {x} message", "speech about {x}"),
}


def _seconds(audio) -> float:
    import io

    import soundfile

    with zipfile.ZipFile(audio.archive) as zf:
        return soundfile.info(io.BytesIO(zf.read(audio.member))).duration


def _speech_clips(roots: list[Path]) -> list[ClipSpec]:
    wz = roots[0] / BASE
    try:
        with zipfile.ZipFile(wz) as zf:
            cfg = zf.read(CFG).decode("utf-8", errors="replace")
            tutorial = zf.read(TUTORIAL).decode("utf-8", errors="replace")
    except (OSError, KeyError, zipfile.BadZipFile) as exc:
        raise DataBuildError(f"no {CFG} or {TUTORIAL}: {exc}", wz) from None
    lines = transcripts(cfg)
    try:
        with zipfile.ZipFile(wz) as zf:
            nexus = dict(
                (b, a)
                for a, b in _NEXUS.findall(zf.read(CAMPAIGN).decode("utf-8", errors="replace"))
            )
    except (OSError, KeyError, zipfile.BadZipFile) as exc:
        raise DataBuildError(f"no {CAMPAIGN}: {exc}", wz) from None
    for stem, text in _TUT.findall(tutorial):
        lines.setdefault(stem, ("announcement", "tutorial", " ".join(text.split())))
    out = []
    for f in list_audio(roots[0], f"{BASE}!audio/", recursive=True):
        stem = f.rel.rsplit("/", 1)[-1]
        taunt = TAUNTS.get(stem.rstrip("0123456789"))
        if stem in lines:
            kind, l3, said = lines[stem]
            if l3 == "tutorial" and _seconds(f.audio) > MAX_SECONDS:
                continue  # a cut clip would no longer match its transcript
            who = "An announcer" if kind == "announcement" else "A radio voice"
            texts = [f'A voice says: "{said}"', f'{who} says "{said}".', said]
        elif f.rel.startswith("nexus/") and stem in nexus:
            # libcampaign.js names the line (DEFENSE_ABSORBED = "defabsrd.ogg"): its gist,
            # not a transcript
            kind, l3 = "voice line", "nexus"
            gist = nexus[stem].replace("_", " ").lower()
            texts = [f"The Nexus voice announces: {gist}.", f"A machine voice line ({gist})."]
        elif f.rel.startswith("countdown/") and _COUNTDOWN.fullmatch(stem):
            kind, l3 = "announcement", "countdown"
            left = _COUNTDOWN.fullmatch(stem).group(1)
            if left == "10to1":
                texts = ["A voice counting down from ten to one.", "A countdown from ten to one."]
            else:  # the name gives the time, not the words around it
                texts = [
                    f"A countdown announcement: {left} minutes.",
                    f"A voice announcing {left} minutes on a countdown.",
                ]
        elif f.rel.startswith("taunts/") and taunt:
            kind, l3 = "voice line", "taunt"
            texts = [f'A voice taunts: "{taunt}"', f'A game taunt: "{taunt}".', taunt]
        else:
            continue
        templates = _SPEECH if kind == "announcement" else _VOICE
        out.append(spec(NAME, f.rel, ("speech", kind, l3), texts, LICENSE, f.audio, **templates))
    return out


CAMPAIGN = "script/campaign/libcampaign.js"
_NEXUS = re.compile(r'const ([A-Z_]+) = "([\w-]+)\.ogg";')
_COUNTDOWN = re.compile(r"(10to1|\d+)(?:min)?")  # countdown/10min, 10to1; not det*, *seq
_VOICE = {"l2": SPEECH_L2, "l3": ("{x}", "a {x} line", "speech: {x}")}

LIBRARY = Library(
    NAME,
    (Package("deb", "warzone2100-data", "4.3.3-3"),),
    LICENSE,
    (Part(0, f"{BASE}!audio/", _EFFECTS, recursive=True),),
    extra=(_speech_clips,),
)
SOURCE = LIBRARY.source()
