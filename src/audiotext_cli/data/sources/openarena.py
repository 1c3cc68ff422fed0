"""OpenArena (a Quake III game): weapons, footsteps, doors, items and bot voice commands.

The sounds sit in two zip archives (`baseoa/pak0.pk3`, `missionpack/mp-pak0.pk3`) under
`sound/<kind>/...`: the folder names the weapon or the surface (`weapons/shotgun`,
`player/footsteps/clank*` = metal, `splash*` = water), the file the action (`*_fire`,
`ric*` = ricochet). Bot voice commands (`voices/<voice>/<command>.ogg`) are spoken lines
whose file name is the command ("coverme" -> "cover me"): ["speech", "voice line", ...].
Names that do not say what is heard (`nightmare`, `x_forbidden`, `1shot_greg_01`) are left
out. Licence: GPL-2+ (openarena-data).
"""

from __future__ import annotations

import re
from pathlib import Path

from audiotext_cli.data.packages import Package
from audiotext_cli.data.sources import ClipSpec
from audiotext_cli.data.sources.library import Library, Part, list_audio, voice_line

NAME = "openarena"
LICENSE = "GPL-2.0-or-later (openarena-data)"
PAK = "usr/share/games/openarena/baseoa/pak0.pk3"
MPPAK = "usr/share/games/openarena/missionpack/mp-pak0.pk3"

_FX = {
    "player/talk": ("user interface", "notification", "chat message", "a chat message"),
    "player/footsteps/energy[1-4]": (
        "footsteps",
        "footsteps",
        "energy footstep",
        "a footstep on an energy floor",
    ),
    "weapons/(bfg/bfg|lightning/lg|railgun/rg)_hum": (
        "weapon",
        "energy weapon",
        "weapon hum",
        "an energy weapon humming",
    ),
    "weapons/plasma/lasfly": ("weapon", "energy weapon", "plasma", "a plasma bolt flying"),
    "world/lava_amb_01_quiet": ("fire", "fire", "lava", "bubbling lava"),
    "world/demonwind01": ("weather", "wind", "wind", "wind howling"),
    "world/(ambient/x_rumbledrone|drone6|tim_drone1)": (
        "ambience",
        "synthetic ambience",
        "drone",
        "a droning ambience",
    ),
    "feedback/hit": ("user interface", "game event", "hit marker", "a hit confirmed"),
    "items/(l|m|n|s)_health": (
        "user interface",
        "game event",
        "health pick-up",
        "health picked up",
    ),
    "items/use_medkit": ("user interface", "game event", "medkit", "a medkit used"),
    "items/(quaddamage|haste|regen|regeneration|invisibility|flight|protect)": (
        "user interface",
        "game event",
        "power-up",
        "a power-up picked up",
    ),
    "items/(respawn1|poweruprespawn)": (
        "user interface",
        "game event",
        "respawn",
        "an item respawning",
    ),
    "items/tele(in|out)|world/tele(in|out)": (
        "electronic sound",
        "sci-fi sound",
        "teleporter",
        "a teleporter",
    ),
    "misc/(am|ar[123]|w)_pkup": ("user interface", "game event", "pick-up", "an item picked up"),
    "misc/menu[1-4]": ("user interface", "click", "menu", "a menu sound"),
    "movers/doors/dr1_(strt|end)": ("door", "door", "sliding door", "a sliding door"),
    "movers/plats/pt1_(strt|end)": ("door", "gate", "lift platform", "a lift platform moving"),
    "movers/switches/butn2": ("door", "lock", "button", "a button pressed"),
    "weapons/bfg/bfg_fire": ("weapon", "energy weapon", "BFG", "a BFG firing"),
    "weapons/change": ("weapon", "gun", "weapon change", "a weapon being switched"),
    "weapons/noammo": ("weapon", "gun", "empty gun", "a gun clicking empty"),
    "weapons/grenade/grenlf1a": (
        "weapon",
        "launcher",
        "grenade launcher",
        "a grenade launcher firing",
    ),
    "weapons/grenade/hgrenb[12]a": ("weapon", "launcher", "grenade", "a grenade bouncing"),
    "weapons/lightning/lg_fire": (
        "weapon",
        "energy weapon",
        "lightning gun",
        "a lightning gun firing",
    ),
    "weapons/lightning/lg_hit[23]?": (
        "weapon",
        "energy weapon",
        "lightning gun",
        "a lightning bolt hitting",
    ),
    "weapons/machinegun/machgf[1-4]b": ("weapon", "gun", "machine gun", "a machine gun firing"),
    "weapons/machinegun/buletby1": ("weapon", "gun", "bullet", "a bullet flying by"),
    "weapons/machinegun/ric[123]": ("impact", "metal", "ricochet", "a bullet ricocheting"),
    "weapons/melee/fstatck": ("weapon", "blunt weapon", "gauntlet", "a gauntlet attack"),
    "weapons/plasma/hyprbf1a": ("weapon", "energy weapon", "plasma gun", "a plasma gun firing"),
    "weapons/plasma/plasmx1a": ("weapon", "energy weapon", "plasma gun", "a plasma bolt exploding"),
    "weapons/proxmine/wstbexpl": ("explosion", "explosion", "mine explosion", "a mine exploding"),
    "weapons/railgun/railgf1a": ("weapon", "energy weapon", "railgun", "a railgun firing"),
    "weapons/rocket/rocklf1a": (
        "weapon",
        "launcher",
        "rocket launcher",
        "a rocket launcher firing",
    ),
    "weapons/rocket/rockfly": ("weapon", "launcher", "rocket", "a rocket in flight"),
    "weapons/rocket/rocklx1a": ("explosion", "explosion", "rocket explosion", "a rocket exploding"),
    "weapons/shotgun/sshotf1b": ("weapon", "gun", "shotgun", "a shotgun firing"),
    "weapons/vulcan/vulcanf[1-4]b|weapons/vulcan/wvulfire": (
        "weapon",
        "gun",
        "gatling gun",
        "a gatling gun firing",
    ),
    "weapons/vulcan/wvulwind": ("weapon", "gun", "gatling gun", "a gatling gun spinning up"),
    "world/fire[12]|world/firesoft": ("fire", "fire", "fire", "a fire burning"),
    "world/wind[12]": ("weather", "wind", "wind", "wind blowing"),
    "world/waterfall": ("water", "flowing water", "waterfall", "a waterfall"),
    "world/drops": ("water", "drip", "water drops", "water dripping"),
    "world/fan4?": ("machine", "motor", "fan", "a fan turning"),
    "world/machinerydrone0[12]|world/tim_machine": (
        "ambience",
        "industrial ambience",
        "machinery drone",
        "the drone of machinery",
    ),
    "world/tim_pump": ("machine", "motor", "pump", "a pump working"),
    "world/neonhum": ("machine", "electrical", "neon hum", "a neon light humming"),
    "world/electro|world/curnt2": (
        "machine",
        "electrical",
        "electric current",
        "electricity crackling",
    ),
    "world/new/moan[1-6]": ("human sound", "pain", "moan", "a person moaning"),
    "world/jumppad": ("user interface", "game event", "jump pad", "a jump pad launching a player"),
    "player/footsteps/boot[1-4]": (
        "footsteps",
        "footsteps on hard ground",
        "boots",
        "a boot footstep",
    ),
    "player/footsteps/step[1-4]": ("footsteps", "footsteps", "footstep", "a footstep"),
    "player/footsteps/(clank|mech)[1-4]": (
        "footsteps",
        "footsteps on metal",
        "metal footstep",
        "a footstep on metal",
    ),
    "player/footsteps/splash[1-4]": (
        "footsteps",
        "footsteps in water",
        "splashing step",
        "a footstep in water",
    ),
    "player/footsteps/flesh[1-4]": (
        "footsteps",
        "footsteps",
        "footstep on flesh",
        "a footstep on a fleshy surface",
    ),
    "player/land1": ("impact", "thud", "landing", "a player landing"),
    "player/watr_in": ("water", "splash", "into water", "someone jumping into water"),
    "player/watr_out": ("water", "splash", "out of water", "someone climbing out of water"),
    "player/watr_un": ("water", "bubbles", "underwater", "someone going under water"),
    "player/gurp[12]": ("water", "bubbles", "drowning", "someone gurgling under water"),
    "player/gibsplt1|player/gibimp[123]": ("impact", "splat", "gore", "a wet splatter"),
    "player/fry": ("fire", "fire", "sizzle", "something frying"),
    "player/sarge/death[123]": ("human sound", "pain", "death cry", "a man crying out as he dies"),
    "player/sarge/pain(25|50|75|100)_1": (
        "human sound",
        "pain",
        "cry of pain",
        "a man crying out in pain",
    ),
    "player/sarge/jump1": ("human sound", "effort", "jump grunt", "a man grunting as he jumps"),
    "player/sarge/gasp": ("human sound", "breathing", "gasp", "a man gasping for air"),
    "player/sarge/drown": ("human sound", "breathing", "drowning", "a man drowning"),
    "player/sarge/fall(ing)?1": (
        "human sound",
        "scream",
        "falling scream",
        "a man screaming as he falls",
    ),
    "player/announcer/youwin": (
        "speech",
        "announcement",
        "you win",
        'an announcer saying "you win"',
    ),
}
_MPFX = {
    "feedback/hit(hi|lo)": ("user interface", "game event", "hit marker", "a hit confirmed"),
    "items/kam_explode(_far)?": (
        "explosion",
        "explosion",
        "kamikaze explosion",
        "a huge explosion",
    ),
    "items/obelisk_hit_0[123]": ("impact", "hit", "obelisk hit", "the obelisk being hit"),
    "weapons/nailgun/wnalfire": ("weapon", "gun", "nailgun", "a nailgun firing"),
    "weapons/nailgun/wnalimp(l|m)": ("impact", "hit", "nail impact", "a nail hitting"),
    "weapons/proxmine/wstbfire": ("weapon", "launcher", "mine launcher", "a mine launcher firing"),
    "weapons/proxmine/wstbtick": ("weapon", "mine", "mine ticking", "a proximity mine ticking"),
    "weapons/proxmine/wstbactv": ("weapon", "mine", "mine", "a proximity mine arming"),
    "world/tele(in|out)": ("electronic sound", "sci-fi sound", "teleporter", "a teleporter"),
}
_VOICES = {"festivoxmale": "a synthetic male voice", "rott": "a male voice"}
_SPOKEN = {  # command file names whose words are run together
    "idontwanttobeleaderanymo": "I don't want to be leader anymore",
    "dontwannabeleader": "don't wanna be leader",
    "imcampinhere": "I'm campin' here",
    "youronoffense": "you're on offense",
    "youreonoffense": "you're on offense",
    "bzzz": None,
    "heh": None,
    "ugh": None,
    "yoursource": None,
    "waiter": None,
}
_SPLIT = re.compile(
    r"(attack|affirmative|around|area|base|camp|camping|carrier|cover|coverme|defend|"
    r"defense|die|eat|enemy|fire|flag|follow|following|for|get|getting|go|going|have|here|"
    r"hurt|i|ill|im|in|incoming|is|it|iwanna|iwant|jerk|just|keep|leader|lemme|like|loser|"
    r"me|mine|negative|no|ok|okay|on|our|over|patrol|position|roam|roaming|roger|skulls|"
    r"some|suck|that|the|their|they|theyhave|to|under|up|wanna|want|what|where|who|with|"
    r"yes|you|your|youre|you|ateem|had|guess|boom|wants|down|onpatrol|are|we|at|em|it)"
)


def spoken(stem: str) -> str | None:
    """A bot command's words: "coverme" -> "cover me"; None when it is not a line."""
    if stem in _SPOKEN:
        return _SPOKEN[stem]
    out, rest = [], stem
    while rest:
        m = next((m for n in range(len(rest), 0, -1) if (m := _SPLIT.fullmatch(rest[:n]))), None)
        if m is None:
            return None
        out.append(m.group(0))
        rest = rest[m.end() :]
    fix = {"ill": "I'll", "im": "I'm", "i": "I", "iwanna": "I wanna", "iwant": "I want"}
    fix |= {"lemme": "lemme", "em": "'em", "youre": "you're", "theyhave": "they have"}
    fix |= {"coverme": "cover me", "onpatrol": "on patrol"}
    return " ".join(fix.get(w, w) for w in out)


def _voice_clips(roots: list[Path]) -> list[ClipSpec]:
    out = []
    for f in list_audio(roots[0], f"{MPPAK}!sound/voices/", recursive=True):
        voice, stem = f.rel.split("/", 1)
        line = spoken(stem)
        if line is None or voice not in _VOICES:
            continue
        texts = [
            f'A voice says: "{line}"',
            f'A game bot\'s voice command: "{line}" ({_VOICES[voice]}).',
            line,
        ]
        l3 = ("{x}", "a {x} line", "speech: a {x}")
        out.append(voice_line(NAME, f"voices/{f.rel}", "team command", texts, LICENSE, f.audio, l3))
    return out


LIBRARY = Library(
    NAME,
    (Package("deb", "openarena-data", "0.8.5split-14"),),
    LICENSE,
    (
        Part(0, f"{PAK}!sound/", _FX, prefix="base", recursive=True),
        Part(0, f"{MPPAK}!sound/", _MPFX, prefix="missionpack", recursive=True),
    ),
    extra=(_voice_clips,),
)
SOURCE = LIBRARY.source()
