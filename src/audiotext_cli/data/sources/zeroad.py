"""0 A.D.: animals, footsteps by surface, ancient weapons, weather, water and voice orders.

The sounds sit in `mods/public/public.zip` under `audio/<kind>/...`; the folders and names
say what is heard (`actor/singlesteps/fs_gravel_3`, `attack/impact/arrow_metal_2`,
`ambient/weather/thunder_1`). Voice orders (`voice/<language>/civ/civ_<female|male>_<order>`)
are units answering the player in a reconstructed ancient language: the order is the
game's name for the line ("attack", "what is it"), so level 4 says whose line it is and in
which language, not a transcript. The game's SoundGroup XML files (`audio/**/*.xml`, the
tables that bind sounds to events) name what the bare file names do not: `attack/fire/c_*`
is `crackling_fire.xml`, `sp_*` `spreading_fire.xml`, and `sel_<building>` is played when
that building is selected. Left out: the fire sounds no SoundGroup lists (`sz*`), the
`*expire` ends of gathering (no SoundGroup either), the generic animal death, the ram's
order sound and music. Licence: CC-BY-SA-3.0
(0ad-data art and sound).
"""

from __future__ import annotations

import re
from pathlib import Path

from audiotext_cli.data.packages import Package
from audiotext_cli.data.sources import ClipSpec
from audiotext_cli.data.sources.library import Library, Music, Part, list_audio, voice_line

NAME = "zeroad"
LICENSE = "CC-BY-SA-3.0 (0ad-data)"
ZIP = "usr/share/games/0ad/mods/public/public.zip"
LANGUAGES = {
    "greek": "Ancient Greek",
    "latin": "Latin",
    "napatan": "the Kushite (Napatan) voice set",
    "persian": "Old Persian",
}
N = r"(_?\d+[a-z]?)?"  # take numbers
A, F = "actor/fauna/", "actor/human/movement/Footsteps/"


def _animal(group: str, name: str, what: str):
    return ("animal", group, name, what)


_FX = {
    A + f"animal/camel{N}|{A}death/death_camel{N}": _animal("mammal", "camel", "a camel grunting"),
    A + f"animal/cattle{N}": _animal("mammal", "cow", "cattle mooing"),
    A + f"animal/chicken{N}": _animal("bird", "chicken", "a chicken clucking"),
    A + f"animal/elephant_(attack|death|order|select|trained){N}": _animal(
        "mammal", "elephant", "an elephant trumpeting"
    ),
    A + f"animal/flamingo{N}": _animal("bird", "flamingo", "a flamingo calling"),
    A + f"animal/horse(_attack|_death|_idle|_select)?{N}|{A}death/death_horse{N}|"
    f"actor/mounted/death/death_horse{N}": _animal("mammal", "horse", "a horse neighing"),
    A + f"animal/lion_(attack|select){N}": _animal("mammal", "lion", "a lion roaring"),
    A + f"animal/peacock_call{N}": _animal("bird", "peacock", "a peacock calling"),
    A + f"animal/pig(_death|_squeal_move)?{N}": _animal("mammal", "pig", "a pig grunting"),
    A + f"animal/sheep{N}": _animal("mammal", "sheep", "a sheep bleating"),
    A + f"death/goat{N}": _animal("mammal", "goat", "a goat bleating"),
    f"voice/global/civ_dog_bark{N}": _animal("mammal", "dog", "a dog barking"),
    A + f"movement/camel{N}": ("footsteps", "footsteps", "camel steps", "a camel walking"),
    f"actor/mounted/movement/mstep{N}": ("footsteps", "footsteps", "hoofbeats", "a horse's hooves"),
    f"actor/gate/stonegate_(open|close){N}": ("door", "gate", "stone gate", "a stone gate moving"),
    f"actor/human/death/(death|female_death|male_death){N}": (
        "human sound",
        "pain",
        "death cry",
        "a person crying out as they die",
    ),
    f"actor/human/movement/hstep(_run)?_dirt_MN{N}|{F}Footstep_Gravel_(Running|Walking){N}|"
    f"{F}Foorstep_Sand_(Running|Walking){N}|actor/singlesteps/fs_(gravel|sand){N}": (
        "footsteps",
        "footsteps on gravel",
        "footsteps on gravel",
        "footsteps on gravel or sand",
    ),
    f"{F}Footstep_Grass_(Running|Walking){N}|actor/singlesteps/fs_grass{N}": (
        "footsteps",
        "footsteps on grass",
        "footsteps on grass",
        "footsteps on grass",
    ),
    f"{F}Footstep_Rock_(Running|Walking){N}|actor/singlesteps/fs_rock{N}": (
        "footsteps",
        "footsteps on hard ground",
        "footsteps on rock",
        "footsteps on rock",
    ),
    f"{F}Footstep_Wood_(Running|Walking){N}|actor/singlesteps/fs_wood{N}": (
        "footsteps",
        "footsteps on wood",
        "footsteps on wood",
        "footsteps on wood",
    ),
    f"actor/singlesteps/fs_snow{N}": (
        "footsteps",
        "footsteps on snow",
        "footsteps in snow",
        "a footstep in snow",
    ),
    f"actor/ship/(ship_move|smove|warship_move){N}": (
        "vehicle",
        "watercraft",
        "ship",
        "a ship sailing",
    ),
    f"ambient/building/amb_farm{N}": (
        "ambience",
        "nature ambience",
        "farm",
        "the ambience of a farm",
    ),
    f"ambient/building/amb_(port|trade){N}": (
        "ambience",
        "urban ambience",
        "harbour and market",
        "the bustle of a port or market",
    ),
    f"ambient/dayscape/day_(temperate|temperate_gen|tropical){N}": (
        "ambience",
        "nature ambience",
        "daytime countryside",
        "countryside in the daytime",
    ),
    f"ambient/water/river_(fast|med|raging|slow){N}": (
        "water",
        "flowing water",
        "river",
        "a river flowing",
    ),
    f"ambient/water/waterfall{N}": ("water", "flowing water", "waterfall", "a waterfall"),
    f"ambient/water/(wave|wavecrash|waverocky){N}": ("water", "splash", "waves", "waves breaking"),
    f"ambient/weather/rain{N}": ("weather", "rain", "rain", "rain falling"),
    f"ambient/weather/thunder{N}": ("weather", "thunder", "thunder", "thunder"),
    f"ambient/weather/(wind|windgust|windstorm|snowstorm){N}": (
        "weather",
        "wind",
        "wind",
        "wind blowing",
    ),
    f"ambient/weather/windleaves{N}": (
        "movement",
        "rustle",
        "wind in leaves",
        "wind rustling leaves",
    ),
    f"attack/destruction/building_collapse_large{N}": (
        "impact",
        "crash",
        "building collapse",
        "a large building collapsing",
    ),
    f"attack/destruction/explode_debris{N}": (
        "explosion",
        "explosion",
        "explosion",
        "an explosion throwing debris",
    ),
    f"attack/impact/arrow(_dirt|_metal|_stone|_wood)?{N}": (
        "impact",
        "hit",
        "arrow hit",
        "an arrow hitting",
    ),
    f"attack/impact/(fleshimp|fleshstab){N}": (
        "impact",
        "hit",
        "flesh hit",
        "something striking flesh",
    ),
    f"attack/impact/shield_(metal|wood){N}": ("impact", "hit", "shield hit", "a blow on a shield"),
    f"attack/impact/sling_(metal|stone|wood){N}": (
        "impact",
        "hit",
        "sling stone hit",
        "a sling stone hitting",
    ),
    f"attack/impact/siegeprojectilehit{N}": (
        "impact",
        "crash",
        "siege projectile",
        "a siege projectile hitting",
    ),
    f"attack/siege/(ballist_attack|ballist_rome_attack){N}": (
        "weapon",
        "launcher",
        "ballista",
        "a ballista firing",
    ),
    f"attack/siege/onager_shooting{N}": ("weapon", "launcher", "catapult", "a catapult firing"),
    f"attack/siege/ram_attack{N}": ("impact", "hit", "battering ram", "a battering ram striking"),
    f"attack/siege/(onager_moving|ram_move){N}": (
        "machine",
        "mechanism",
        "siege engine",
        "a wooden siege engine rolling",
    ),
    f"attack/weapon/Musket{N}": ("weapon", "gun", "musket", "a musket firing"),
    f"attack/weapon/(arrowfly|bow_attack){N}": ("weapon", "bow", "bow", "an arrow shot from a bow"),
    f"attack/weapon/(sling|sling_attack){N}": ("weapon", "bow", "sling", "a sling being loosed"),
    f"attack/weapon/jav_attack{N}": ("weapon", "bow", "javelin", "a javelin thrown"),
    f"attack/weapon/(spear_attack|pike_attack){N}": ("weapon", "blade", "spear", "a spear thrust"),
    f"attack/weapon/sword_attack{N}": ("weapon", "blade", "sword", "a sword swung"),
    f"attack/weapon/swordhit{N}": ("weapon", "blade", "sword clash", "swords clashing"),
    f"interface/alarm/(alarm_attacked_gaia|alarmattackcity|alarmattackplayer|alarmattackunit|"
    f"alarm_warship|alarmalert){N}": ("alarm", "alarm", "attack alarm", "an alarm: under attack"),
    f"interface/alarm/(alarm_defeated_ally|alarm_no_idle_unit|alarmally|alarmcreatecavalry|"
    f"alarmcreatefemale|alarmcreatemiltaryfoot|alarmcreatepriest|alarmcreateworker|alarmgarrison|"
    f"alarmherodead|alarmherojoin|alarmnoresource|alarmobjectives|alarmresearchphase|"
    f"alarmresearchtech|alarmunitturn|alarmupgradearmory){N}": (
        "user interface",
        "notification",
        "game notification",
        "a game notification",
    ),
    f"interface/alarm/alarm_invalid_building_placement{N}": (
        "user interface",
        "error",
        "invalid placement",
        "an invalid action",
    ),
    f"interface/complete/building/complete_[a-z_]+{N}": (
        "user interface",
        "game event",
        "building completed",
        "a building completed",
    ),
    f"interface/ui/(chat_alert|gamesetup_join){N}": (
        "user interface",
        "notification",
        "chat",
        "a chat alert",
    ),
    f"resource/construction/con_saw{N}": ("machine", "tool", "saw", "wood being sawn"),
    f"resource/construction/con_(stone|wood){N}": (
        "machine",
        "tool",
        "hammering",
        "builders hammering",
    ),
    f"resource/gathering/gather_field{N}": (
        "machine",
        "tool",
        "harvesting",
        "grain being harvested",
    ),
    f"resource/gathering/gather_fruit{N}": (
        "movement",
        "rustle",
        "picking fruit",
        "fruit being picked",
    ),
    f"resource/gathering/gather_meat{N}": ("impact", "splat", "butchering", "meat being butchered"),
    f"resource/farming/hoe{N}": ("machine", "tool", "hoe", "a hoe digging soil"),
    f"resource/foraging/leaves{N}": ("movement", "rustle", "leaves", "leaves rustling"),
    f"resource/lumbering/lumber_tree{N}": (
        "machine",
        "tool",
        "axe chopping",
        "an axe chopping a tree",
    ),
    f"resource/lumbering/lumber_treeexpire{N}": (
        "impact",
        "crash",
        "tree falling",
        "a tree falling",
    ),
    f"resource/mining/mine_(metal|stone){N}": (
        "machine",
        "tool",
        "pickaxe",
        "a pickaxe striking rock",
    ),
}
# interface/select/building/sel_<building>: the sound the game plays when the player
# selects that building (its SoundGroup sel_<building>.xml); `ffactri` and `universal`
# do not say which building.
_BUILDINGS = [
    "barracks",
    "broch",
    "civ_center",
    "corral",
    "dock",
    "elephant_stable",
    "farm",
    "farmstead",
    "field",
    "forge",
    "fortress",
    "gate",
    "greek_theater",
    "gymnasium",
    "house",
    "iber_monument",
    "kennel",
    "library",
    "market",
    "port",
    "stable",
    "storehouse",
    "temple",
    "theater",
    "tholos",
    "tower",
    "wall",
    "wonder",
]
_SAY_BUILDING = {"civ_center": "civic centre", "iber_monument": "Iberian monument"}
for _b in _BUILDINGS:
    _name = _SAY_BUILDING.get(_b, _b.replace("_", " "))
    _FX[f"interface/select/building/sel_{_b}{N}"] = (
        "user interface",
        "game event",
        f"{_name} selected",
        f"the sound of a {_name} being selected in the game",
    )
_FX.update(
    {
        f"interface/select/resource/sel_(fruit|metal|stone|tree){N}": (
            "user interface",
            "game event",
            "resource selected",
            "the sound of a resource being selected in the game",
        ),
        f"actor/ship/ship_select{N}": (
            "user interface",
            "game event",
            "ship selected",
            "the sound of a ship being selected in the game",
        ),
        f"attack/siege/siege_select{N}": (
            "user interface",
            "game event",
            "siege engine selected",
            "the sound of a siege engine being selected in the game",
        ),
        f"interface/alarm/alarmdefeat{N}": ("user interface", "game event", "defeat", "a defeat"),
        f"interface/alarm/alarmvictory{N}": (
            "user interface",
            "game event",
            "victory",
            "a victory",
        ),
        # the SoundGroups crackling_fire.xml (c_*) and spreading_fire.xml (sp_*)
        f"attack/fire/c{N}": ("fire", "fire", "crackling fire", "a fire crackling"),
        f"attack/fire/sp{N}": ("fire", "fire", "spreading fire", "a fire spreading"),
        f"actor/ship/warship_death{N}": (
            "impact",
            "crash",
            "warship destroyed",
            "a warship being destroyed",
        ),
        f"voice/global/civ_dog_move{N}": _animal("mammal", "dog", "a dog answering an order"),
    }
)
_UI = {  # mods/mod/mod.zip: the menus' buttons
    "ui_button_click": ("user interface", "click", "button click", "a button being clicked"),
    "ui_button_longclick": ("user interface", "click", "button click", "a long button click"),
}
_ORDER = re.compile(r"civ_(female|male)_(.+?)_?\d*$")
_SAY = {"Asyouwish": "as you wish", "Imcoming": "I'm coming", "I_will_go": "I will go"}


def _voice_clips(roots: list[Path]) -> list[ClipSpec]:
    out = []
    for f in list_audio(roots[0], f"{ZIP}!audio/voice/", recursive=True):
        lang, _, stem = f.rel.partition("/civ/")
        m = _ORDER.fullmatch(stem)
        if lang not in LANGUAGES or not m:
            continue
        who = "woman" if m.group(1) == "female" else "man"
        order = _SAY.get(m.group(2), m.group(2).replace("_", " ").lower())
        texts = [
            f'A {who} answers an order ("{order}") in {LANGUAGES[lang]}.',
            f'A game unit\'s voice line for "{order}", spoken by a {who}.',
            f"A {who} speaking {LANGUAGES[lang]}.",
        ]
        l3 = ("{x}", 'the order "{x}"', 'someone saying "{x}"')
        out.append(voice_line(NAME, f"voice/{f.rel}", order, texts, LICENSE, f.audio, l3))
    return out


LIBRARY = Library(
    NAME,
    (Package("deb", "0ad-data", "0.0.26-1"),),
    LICENSE,
    (
        Part(0, f"{ZIP}!audio/", _FX, recursive=True),
        Part(0, "usr/share/games/0ad/mods/mod/mod.zip!audio/interface/ui/", _UI, "mod"),
    ),
    extra=(_voice_clips,),
    music=(Music(0, f"{ZIP}!audio/music/", "0 A.D."),),
)
SOURCE = LIBRARY.source()
