"""Named sound effects from Debian games and desktop sound themes, one table per package.

Every source here is a `Library` (see `library.py`): a folder of a pinned package and a
table `file-name pattern -> (L1, L2, L3, what is heard)` in the shared ontology. The rows
say only what the file's name (or folder) says: `FootStepSnow1` is a footstep in snow,
`RocketTakeoff1` a rocket taking off. Names that do not say what is heard (`hype`,
`joker`, `malus`, `Commune1`), music, jingles with no name and speech without a
transcript are left out.

Sources: supertux, supertuxkart, freedroid, flare, widelands, lincity (one package each);
arcade (seven small arcade and strategy games); desktop (five desktop sound themes and
KDE/GNOME games). Licences per package, copied into LICENSES/<source>.txt.
"""

from __future__ import annotations

import re
from pathlib import Path

from audiotext_cli.data.packages import Package
from audiotext_cli.data.sources import ClipSpec
from audiotext_cli.data.sources.library import Library, Music, Part, list_audio, voice_line

UI, GE = "user interface", "game event"

# ----------------------------------------------------------------------------- supertux
SUPERTUX = Library(
    "supertux",
    (Package("deb", "supertux-data", "0.6.3-2"),),
    "GPL-2.0-or-later / GPL-3.0-or-later / CC0 / CC-BY-SA (supertux-data, per file)",
    (
        Part(
            0,
            "usr/share/games/supertux2/sounds",
            {
                "brick": ("impact", "breaking", "brick breaking", "a brick breaking"),
                "coin2?": (UI, GE, "coin", "a coin collected"),
                "coins_cleared": (UI, GE, "coins cleared", "all the coins cleared"),
                "tada": (UI, GE, "ta-da", "a ta-da fanfare"),
                "upgrade|grow(_ogg|_wav)?": (UI, GE, "power-up", "a power-up"),
                "darthit": ("impact", "hit", "dart hit", "a dart hitting"),
                "crystallo-shardhit": (
                    "impact",
                    "breaking",
                    "crystal shard",
                    "a crystal shard hitting",
                ),
                "iceblock_bump": ("impact", "thud", "ice block bump", "an ice block bumping"),
                "hop": ("human sound", "effort", "hop", "someone hopping"),
                "cracking": ("impact", "breaking", "ice cracking", "ice cracking"),
                "crystallo-shatter": (
                    "impact",
                    "breaking",
                    "crystal shattering",
                    "a crystal shattering",
                ),
                "door": ("door", "door", "door", "a door"),
                "explosion": ("explosion", "explosion", "explosion", "an explosion"),
                "fire": ("fire", "fire", "fire", "fire"),
                "firecracker": ("explosion", "firework", "firecracker", "a firecracker"),
                "fireworks": ("explosion", "firework", "fireworks", "fireworks"),
                "flame": ("fire", "fire", "flame", "a flame"),
                "fizz": ("water", "bubbles", "fizz", "a fizzing sound"),
                "grunts": ("human sound", "effort", "grunt", "someone grunting"),
                "gulp": ("human sound", "body", "gulp", "a gulp"),
                "hurt": ("human sound", "pain", "hurt", "someone getting hurt"),
                "icecrash": ("impact", "breaking", "ice crash", "ice crashing"),
                "jump|bigjump": ("human sound", "effort", "jump", "someone jumping"),
                "kick": ("impact", "hit", "kick", "a kick"),
                "lava": ("fire", "fire", "lava", "bubbling lava"),
                "lifeup": (UI, GE, "extra life", "an extra life gained"),
                "lightning": ("weather", "thunder", "lightning", "lightning striking"),
                "locked": ("door", "lock", "locked", "something locked"),
                "phone": ("alarm", "ringtone", "telephone", "a telephone ringing"),
                "pop": ("impact", "bounce", "pop", "a pop"),
                "rain": ("weather", "rain", "rain", "rain falling"),
                "saw": ("machine", "tool", "saw", "a saw"),
                "savebell2|savebell_low": ("alarm", "bell", "bell", "a bell ringing"),
                "sizzle": ("fire", "fire", "sizzle", "something sizzling"),
                "skid": ("movement", "skid", "skid", "a skid"),
                "splash(_ogg|_wav)?": ("water", "splash", "splash", "a splash"),
                "splat": ("impact", "splat", "splat", "a splat"),
                "squish": ("impact", "splat", "squish", "a squish"),
                "stomp": ("impact", "hit", "stomp", "a stomp"),
                "switch": ("door", "lock", "switch", "a switch"),
                "thud": ("impact", "thud", "thud", "a thud"),
                "thunder": ("weather", "thunder", "thunder", "thunder"),
                "ticking": ("machine", "clock", "ticking", "something ticking"),
                "trampoline": ("impact", "bounce", "trampoline", "a trampoline bouncing"),
                "turnkey": ("door", "lock", "key", "a key turning"),
                "waterfall": ("water", "flowing water", "waterfall", "a waterfall"),
                "wood": ("impact", "hit", "wood", "wood being hit"),
            },
        ),
    ),
    music=(Music(0, "usr/share/games/supertux2/music", "SuperTux"),),
)

# ------------------------------------------------------------------------- supertuxkart
_STK = "usr/share/games/supertuxkart/data"
SUPERTUXKART = Library(
    "supertuxkart",
    (Package("deb", "supertuxkart-data", "1.4+dfsg-2"),),
    "per file: CC-BY-SA-3.0/4.0, CC-BY-3.0, CC0, GPL-2.0-or-later (supertuxkart-data)",
    (
        Part(
            0,
            f"{_STK}/sfx",
            {
                "WilhelmScream": ("human sound", "scream", "scream", "a man screaming"),
                "goal_scored": (UI, GE, "goal", "a goal scored"),
                "race_finish(_victory)?": (UI, GE, "race finished", "a race finishing"),
                "(pre_)?start_race": (UI, GE, "race start", "the start of a race"),
                "nitro": ("vehicle", "car", "nitro boost", "a kart's nitro boost"),
                "bubblegum_explode": (
                    "impact",
                    "splat",
                    "bubble gum bursting",
                    "bubble gum bursting",
                ),
                "locked": (UI, "error", "locked", "something locked"),
                "airplane_jetEngine": ("vehicle", "aircraft", "jet engine", "a jet engine"),
                "anvil": ("impact", "metal", "anvil", "an anvil being struck"),
                "ball_bounce": ("impact", "bounce", "ball bounce", "a ball bouncing"),
                "boing": ("impact", "bounce", "boing", "a boing"),
                "bowling_roll": (
                    "object",
                    "sports equipment",
                    "bowling ball",
                    "a bowling ball rolling",
                ),
                "break": ("impact", "breaking", "breaking", "something breaking"),
                "bzzt": ("electronic sound", "glitch", "bzzt", "an electric bzzt"),
                "car_accel": ("vehicle", "car", "car accelerating", "a car accelerating"),
                "car_revup": ("vehicle", "car", "engine revving", "a car engine revving up"),
                "clock": ("machine", "clock", "clock", "a clock ticking"),
                "crash[23]?": ("impact", "crash", "crash", "a crash"),
                "engine_large": ("vehicle", "car", "large engine", "a large engine running"),
                "engine_small": ("vehicle", "car", "small engine", "a small engine running"),
                "exotic-birds(_2)?": ("animal", "bird", "exotic birds", "exotic birds calling"),
                "explosion": ("explosion", "explosion", "explosion", "an explosion"),
                "fireworks_show": ("explosion", "firework", "fireworks", "a fireworks show"),
                "forcefield": ("electronic sound", "sci-fi sound", "force field", "a force field"),
                "gnu_flute": ("music", "wind instrument", "flute", "a flute playing"),
                "goo": ("impact", "splat", "goo", "goo"),
                "hammer": ("impact", "hit", "hammer", "a hammer hitting"),
                "horn": ("alarm", "horn", "horn", "a horn honking"),
                "inflate": ("object", "toy", "inflating", "something being inflated"),
                "lenautile_restaurant": (
                    "ambience",
                    "urban ambience",
                    "restaurant",
                    "the ambience of a restaurant",
                ),
                "machine_sound": ("machine", "motor", "machine", "a machine running"),
                "metal_clang": ("impact", "metal", "metal clang", "a metal clang"),
                "parachute": ("movement", "whoosh", "parachute", "a parachute opening"),
                "rain": ("weather", "rain", "rain", "rain falling"),
                "river_loop": ("water", "flowing water", "river", "a river flowing"),
                "sara_airport_pa": (
                    "ambience",
                    "urban ambience",
                    "airport",
                    "an airport public-address ambience",
                ),
                "skid": ("movement", "skid", "skid", "tyres skidding"),
                "spaceship": ("vehicle", "spacecraft", "spaceship", "a spaceship"),
                "splash": ("water", "splash", "splash", "a splash"),
                "static-radio": ("electronic sound", "glitch", "radio static", "radio static"),
                "swatter": ("impact", "hit", "swatter", "a swatter hitting"),
                "thunder": ("weather", "thunder", "thunder", "thunder"),
                "tractor_beam": (
                    "electronic sound",
                    "sci-fi sound",
                    "tractor beam",
                    "a tractor beam",
                ),
                "ugh": ("human sound", "pain", "ugh", "someone grunting ugh"),
                "waterfall_loop_2": ("water", "flowing water", "waterfall", "a waterfall"),
                "wooden_bridge": (
                    "footsteps",
                    "footsteps on wood",
                    "wooden bridge",
                    "driving over a wooden bridge",
                ),
            },
        ),
        Part(
            0,
            f"{_STK}/tracks",
            {
                "scotland/sheep": ("animal", "mammal", "sheep", "sheep bleating"),
                "stk_enterprise/bzzt2": ("machine", "electrical", "buzz", "an electrical buzz"),
                "black_forest/cow": ("animal", "mammal", "cow", "a cow mooing"),
                "black_forest/steamLocomotive": (
                    "vehicle",
                    "train",
                    "steam locomotive",
                    "a steam locomotive",
                ),
                "introcutscene2/spaceship_engine_short|introcutscene/spaceship_engine(_short)?": (
                    "vehicle",
                    "spacecraft",
                    "spaceship engine",
                    "a spaceship engine",
                ),
            },
            prefix="tracks",
            recursive=True,
        ),
    ),
    music=(Music(0, "usr/share/games/supertuxkart/data/music", "SuperTuxKart"),),
)

# ---------------------------------------------------------------------------- freedroid
_FD = "usr/share/freedroidrpg/data/sound/effects"
FREEDROID = Library(
    "freedroid",
    (Package("deb", "freedroidrpg-data", "1.0-1"),),
    "GPL-2.0-or-later (freedroidrpg-data; some files Expat / CC0)",
    (
        Part(
            0,
            _FD,
            {
                "Influencer_Scream_Sound_[0-4]": (
                    "human sound",
                    "scream",
                    "scream",
                    "someone screaming",
                ),
                "swing_then_hit_[1-5]": (
                    "weapon",
                    "blade",
                    "sword hit",
                    "a weapon swung and hitting",
                ),
                "swing_then_nohit_[1-4]": (
                    "movement",
                    "whoosh",
                    "swing",
                    "a weapon swung through the air",
                ),
                "CameraTakesPicture": (
                    "machine",
                    "household appliance",
                    "camera",
                    "a camera taking a picture",
                ),
                "open_chest_sound": ("object", "container", "chest", "a chest opening"),
                r"Shop_Item(Bought|Sold|Repaired)Sound_0": (
                    UI,
                    GE,
                    "shop",
                    "an item traded in a shop",
                ),
                r"Takeover_Game_(Won|Lost|Deadlock)_Sound_0": (
                    UI,
                    GE,
                    "takeover game",
                    "the end of a takeover game",
                ),
                "Mission_Status_Change_Sound_0": (
                    UI,
                    "notification",
                    "mission",
                    "a mission update",
                ),
                r"item_sounds/Item_(Armour|Range_Weapon)_Put_Sound_0": (
                    UI,
                    GE,
                    "item equipped",
                    "an item being equipped",
                ),
                "Bullet_Reflected_Sound_0": (
                    "impact",
                    "metal",
                    "bullet reflected",
                    "a bullet being deflected",
                ),
                "new_healing_sound": (UI, GE, "healing", "a character being healed"),
                "MenuClick|Menu_Item_(Selected_Sound_1|Deselected_Sound_0)"
                "|Move_Menu_Position_Sound_0": (
                    UI,
                    "click",
                    "menu",
                    "a menu click",
                ),
                "Glass_Break": ("impact", "breaking", "glass breaking", "glass breaking"),
                "Blast_Sound_0": ("explosion", "explosion", "blast", "a blast"),
                "new_teleporter_sound": (
                    "electronic sound",
                    "sci-fi sound",
                    "teleporter",
                    "a teleporter",
                ),
                "tux_footstep": ("footsteps", "footsteps", "footstep", "a footstep"),
                "No_Ammo_Sound_0": ("weapon", "gun", "empty gun", "a gun out of ammunition"),
                "bullets/Sword": ("weapon", "blade", "sword", "a sword swing"),
                "bullets/(Laser_Rifle|Single_Laser)": (
                    "weapon",
                    "energy weapon",
                    "laser",
                    "a laser firing",
                ),
                "bullets/Plasma_Pistol": (
                    "weapon",
                    "energy weapon",
                    "plasma pistol",
                    "a plasma pistol firing",
                ),
                "bullets/Phaser": ("weapon", "energy weapon", "phaser", "a phaser firing"),
                "bullets/(Pulse|Single_Pulse)": (
                    "weapon",
                    "energy weapon",
                    "pulse gun",
                    "a pulse gun firing",
                ),
                "bullets/Military": ("weapon", "gun", "military gun", "a military gun firing"),
                "item_sounds/drop_sword_sound": (
                    "impact",
                    "metal",
                    "sword dropped",
                    "a sword dropped",
                ),
                "item_sounds/drop_potion_sound": (
                    "impact",
                    "thud",
                    "potion dropped",
                    "a potion bottle dropped",
                ),
                "item_sounds/drop_book_sound": ("impact", "thud", "book dropped", "a book dropped"),
                "item_sounds/Item_Drop_Sound_[0-5]": (
                    "impact",
                    "thud",
                    "item dropped",
                    "an item dropped",
                ),
                "bot_sounds/death_sound_[0-9]+": (
                    "machine",
                    "electrical",
                    "robot dying",
                    "a robot breaking down",
                ),
                "tux_ingame_comments/CantRepairThat": (
                    "speech",
                    "voice line",
                    "can't repair that",
                    "a game character saying he can't repair that",
                ),
                r"tux_ingame_comments/ICantCarryAnyMore_Sound_\d": (
                    "speech",
                    "voice line",
                    "I can't carry any more",
                    'a game character saying "I can\'t carry any more"',
                ),
                "tux_ingame_comments/ThisItemRequiresBothHands": (
                    "speech",
                    "voice line",
                    "this item requires both hands",
                    'a game character saying "this item requires both hands"',
                ),
                r"bot_sounds/First_Contact_Sound_\d+": (
                    "electronic sound",
                    "sci-fi sound",
                    "robot alert",
                    "a robot noticing an intruder",
                ),
                # droid_specs.lua: every droid's `voice_samples` (1..62), played at random
                r"bot_sounds/voice_samples/\d+": (
                    "electronic sound",
                    "sci-fi sound",
                    "robot voice",
                    "a robot's voice",
                ),
                r"bot_sounds/Start_Attack_Sound_\d+": (
                    "electronic sound",
                    "sci-fi sound",
                    "robot attack",
                    "a robot starting an attack",
                ),
            },
            recursive=True,
        ),
    ),
    music=(Music(0, "usr/share/freedroidrpg/data/sound/music", "FreedroidRPG"),),
)

# -------------------------------------------------------------------------------- flare
_FL = "usr/share/games/flare/mods/fantasycore/soundfx"
_MERCHANT = re.compile(r"npcs/(female|male)_merchant_\d+")


def _flare_merchants(roots: list[Path]) -> list[ClipSpec]:
    """`npcs/<female|male>_merchant_NN`: a merchant's voice line; no transcript ships, so
    level 4 says who speaks, not what is said."""
    out = []
    for f in list_audio(roots[0], _FL, recursive=True):
        m = _MERCHANT.fullmatch(f.rel)
        if m:
            who = "woman" if m.group(1) == "female" else "man"
            texts = [
                f"A merchant in the game Flare speaks (a {who}'s voice).",
                f"A {who} speaking: a shopkeeper's voice line.",
                f"A game character's voice line, spoken by a {who}.",
            ]
            l3 = ("{x}", "a {x} speaking", "the voice of a {x}")
            out.append(voice_line("flare", f.rel, "merchant", texts, _FL_LICENSE, f.audio, l3))
    return out


_FL_LICENSE = "CC-BY-SA-3.0 (flare-game art and sound; engine GPL-3+)"
FLARE = Library(
    "flare",
    (Package("deb", "flare-game", "1.14-1"),),
    _FL_LICENSE,
    (
        Part(
            0,
            _FL,
            {
                "environment/forest_owl_loop": ("animal", "bird", "owl", "an owl in a forest"),
                "inventory/inventory_(gem|heavy|object)": (
                    UI,
                    GE,
                    "inventory",
                    "an item put into the inventory",
                ),
                "no_mana": (UI, "error", "no mana", "a spell failing for want of mana"),
                "powers/arrow_wall": ("impact", "hit", "arrow hit", "an arrow hitting a wall"),
                "environment/river_loop": ("water", "flowing water", "river", "a river flowing"),
                "environment/bird_twitter_loop": ("animal", "bird", "birdsong", "birds twittering"),
                "environment/teleporter": (
                    "electronic sound",
                    "sci-fi sound",
                    "teleporter",
                    "a teleporter",
                ),
                "environment/open_fire(_loop)?": (
                    "fire",
                    "fire",
                    "open fire",
                    "an open fire burning",
                ),
                "environment/anvil_loop": ("impact", "metal", "anvil", "a hammer on an anvil"),
                "environment/wind_loop": ("weather", "wind", "wind", "wind blowing"),
                "environment/cave_droplets_loop": (
                    "water",
                    "drip",
                    "cave drips",
                    "water dripping in a cave",
                ),
                "environment/raven_loop": ("animal", "bird", "raven", "ravens calling"),
                "environment/cave_wind_loop": ("weather", "wind", "cave wind", "wind in a cave"),
                "environment/stone_open": ("door", "door", "stone door", "a stone door opening"),
                "door_open": ("door", "door", "door opening", "a door opening"),
                "wood_open": ("door", "door", "wooden door", "a wooden door opening"),
                "female_hit": ("human sound", "pain", "cry of pain", "a woman crying out in pain"),
                "female_die": (
                    "human sound",
                    "pain",
                    "death cry",
                    "a woman crying out as she dies",
                ),
                "male_hit": ("human sound", "pain", "cry of pain", "a man crying out in pain"),
                "male_die": ("human sound", "pain", "death cry", "a man crying out as he dies"),
                "heartbeat": ("human sound", "body", "heartbeat", "a heart beating"),
                "melee_attack": ("movement", "whoosh", "melee swing", "a weapon swung"),
                "level_up": (UI, GE, "level up", "a level gained"),
                "inventory/inventory_page|inventory/inventory_book": (
                    "object",
                    "household object",
                    "paper",
                    "paper rustling",
                ),
                "inventory/inventory_cloth": ("movement", "rustle", "cloth", "cloth rustling"),
                "inventory/inventory_(metal|maille)": (
                    "impact",
                    "metal",
                    "metal",
                    "metal clinking",
                ),
                "inventory/inventory_potion": (
                    "object",
                    "household object",
                    "bottle",
                    "a glass bottle",
                ),
                "inventory/inventory_wood": ("impact", "hit", "wood", "a wooden object knocking"),
                "inventory/inventory_coins": (
                    "object",
                    "household object",
                    "coins",
                    "coins jingling",
                ),
                "inventory/inventory_leather": (
                    "movement",
                    "rustle",
                    "leather",
                    "leather creaking",
                ),
                "powers/fireball": ("fire", "fire", "fireball", "a fireball"),
                "powers/burn": ("fire", "fire", "burning", "something burning"),
                "powers/thunder": ("weather", "thunder", "thunder", "thunder"),
                "powers/freeze": ("impact", "breaking", "ice", "ice forming"),
                "powers/teleport": ("electronic sound", "sci-fi sound", "teleport", "a teleport"),
                "powers/quake": ("impact", "crash", "earthquake", "the ground shaking"),
                "powers/warcry": ("human sound", "scream", "war cry", "a war cry"),
                "powers/shoot": ("weapon", "launcher", "bow", "an arrow being shot"),
                "steps/step_metal[1-4]": (
                    "footsteps",
                    "footsteps on metal",
                    "metal footstep",
                    "a footstep on metal",
                ),
                "steps/step_(cloth|leather)[1-4]": (
                    "footsteps",
                    "footsteps",
                    "soft footstep",
                    "a soft footstep",
                ),
                "steps/step_echo[1-4]": (
                    "footsteps",
                    "footsteps on hard ground",
                    "echoing footstep",
                    "an echoing footstep",
                ),
            },
            recursive=True,
        ),
        Part(
            0,
            "usr/share/games/flare/mods/empyrean_campaign/soundfx/environment",
            {
                "minecart": ("vehicle", "train", "mine cart", "a mine cart rolling"),
                "falling_rocks": ("impact", "crash", "falling rocks", "rocks falling"),
                "rain": ("weather", "rain", "rain", "rain falling"),
            },
            prefix="empyrean",
        ),
    ),
    extra=(_flare_merchants,),
    music=(Music(0, "usr/share/games/flare/mods/fantasycore/music", "Flare"),),
)

# ---------------------------------------------------------------------------- widelands
_WL = "usr/share/games/widelands/data"
WIDELANDS = Library(
    "widelands",
    (Package("deb", "widelands-data", "2:1.1-3"),),
    "GPL-2.0-or-later (widelands-data; some CC-BY-SA-3.0)",
    (
        Part(
            0,
            f"{_WL}/sound",
            {
                r"barbarians/taverns/(biginn|inn|tavern)_\d+": (
                    "ambience",
                    "urban ambience",
                    "tavern",
                    "the bustle of a tavern",
                ),
                r"atlanteans/goldspin_\d+": (
                    "machine",
                    "mechanism",
                    "gold spinning",
                    "gold being spun",
                ),
                "create_construction_site": (
                    UI,
                    GE,
                    "construction site",
                    "a construction site placed",
                ),
                "military/site_occupied": (UI, GE, "site occupied", "a military site occupied"),
                r"hammering/hammering_\d+|hammering/geologist_hammer": (
                    "machine",
                    "tool",
                    "hammering",
                    "hammering",
                ),
                "smiths/sharpening": ("machine", "tool", "sharpening", "a blade being sharpened"),
                r"smiths/(smith|toolsmith)_\d+": (
                    "impact",
                    "metal",
                    "smithing",
                    "a smith hammering metal",
                ),
                r"mill/mill_turning_\d+": ("machine", "mechanism", "mill", "a mill turning"),
                "mill/weaving|barbarians/weaver": (
                    "machine",
                    "mechanism",
                    "loom",
                    "a loom weaving",
                ),
                r"woodcutting/(woodcutting|fast_woodcutting_\d+)": (
                    "machine",
                    "tool",
                    "axe chopping",
                    "wood being chopped",
                ),
                r"woodcutting/tree_falling_\d+": (
                    "impact",
                    "crash",
                    "tree falling",
                    "a tree falling",
                ),
                "metal/furnace": ("fire", "fire", "furnace", "a furnace burning"),
                "metal/(gold|iron)ping": ("impact", "metal", "metal ping", "metal pinging"),
                "metal/fizzle": ("fire", "fire", "fizzle", "hot metal fizzling"),
                r"sawmill/sawmill_\d+|atlanteans/saw/(benchsaw|sawing)_\d+": (
                    "machine",
                    "tool",
                    "saw",
                    "wood being sawn",
                ),
                "click": (UI, "click", "click", "a click"),
                r"message_\d+|lobby_chat": (UI, "notification", "message", "a message arriving"),
                "stonecutting/(stonemason|stonecutter)|atlanteans/cutting/stonecutter_\\d+": (
                    "machine",
                    "tool",
                    "stone cutting",
                    "stone being cut",
                ),
                "military/under_attack": (
                    "alarm",
                    "alarm",
                    "attack alarm",
                    "an alarm: under attack",
                ),
                r"other/falling_tools_\d+": ("impact", "crash", "falling tools", "tools falling"),
                "barbarians/mortar|barbarians/stonegrind": (
                    "machine",
                    "tool",
                    "grinding",
                    "something being ground",
                ),
                r"empire/(beer|wine)bubble_\d+": (
                    "water",
                    "bubbles",
                    "bubbling",
                    "liquid bubbling in a vat",
                ),
                r"animals/bird[1-6]_\d+": ("animal", "bird", "bird", "a bird singing"),
                r"animals/crickets[12]_\d+": ("animal", "insect", "cricket", "crickets chirping"),
                "animals/boar": ("animal", "mammal", "boar", "a boar grunting"),
                r"animals/moose_\d+": ("animal", "mammal", "moose", "a moose calling"),
                r"animals/stag_\d+": ("animal", "mammal", "stag", "a stag bellowing"),
                r"animals/wolf_\d+": ("animal", "mammal", "wolf", "a wolf howling"),
                r"animals/coyote_\d+": ("animal", "mammal", "coyote", "a coyote howling"),
                "animals/frog": ("animal", "amphibian", "frog", "a frog croaking"),
                r"farm/scythe_\d+": ("machine", "tool", "scythe", "a scythe cutting"),
                r"farm/ox_\d+": ("animal", "mammal", "ox", "an ox lowing"),
                r"farm/sheep_\d+": ("animal", "mammal", "sheep", "a sheep bleating"),
                r"farm/horse_\d+": ("animal", "mammal", "horse", "a horse neighing"),
                "farm/donkey": ("animal", "mammal", "donkey", "a donkey braying"),
                "fisher/fisher_(throw|pull)_net": (
                    "water",
                    "splash",
                    "fishing net",
                    "a fishing net in water",
                ),
            },
            recursive=True,
        ),
        Part(
            0,
            f"{_WL}/world/critters/duck",
            {r"duck_\d+": ("animal", "bird", "duck", "a duck quacking")},
            prefix="critters",
        ),
    ),
    music=(Music(0, "usr/share/games/widelands/data/music", "Widelands"),),
)

# ------------------------------------------------------------------------------ lincity
LINCITY = Library(
    "lincity",
    (Package("deb", "lincity-ng-data", "2.9~git20150314-5"),),
    "GPL-2.0-or-later (lincity-ng-data)",
    (
        Part(
            0,
            "usr/share/games/lincity-ng/sounds",
            {
                r"Blacksmith\d": ("impact", "metal", "blacksmith", "a blacksmith at work"),
                r"Build\d": ("machine", "tool", "construction", "construction work"),
                "Click": (UI, "click", "click", "a click"),
                r"CoalMine\d|OreMine\d": ("machine", "factory", "mine", "a mine working"),
                r"Fire\d|FireWasteland1": ("fire", "fire", "fire", "a fire burning"),
                r"Harbor\d": ("ambience", "urban ambience", "harbour", "the ambience of a harbour"),
                r"IndustryHigh\d|IndustryLight\d": (
                    "machine",
                    "factory",
                    "industry",
                    "industrial noise",
                ),
                r"Mill\d": ("machine", "mechanism", "mill", "a mill working"),
                r"PowerLine1|Substation[34]|SubstationO(n|ff)": (
                    "machine",
                    "electrical",
                    "power line",
                    "electric power humming",
                ),
                r"RailTrain\d": ("vehicle", "train", "train", "a train passing"),
                r"Raze\d": ("impact", "crash", "demolition", "a building being demolished"),
                r"Rocket[1-4]|RocketTakeoff1": (
                    "vehicle",
                    "spacecraft",
                    "rocket",
                    "a rocket taking off",
                ),
                "RocketExplosion1": (
                    "explosion",
                    "explosion",
                    "rocket explosion",
                    "a rocket exploding",
                ),
                r"SportsCroud\d": (
                    "human sound",
                    "crowd",
                    "sports crowd",
                    "a sports crowd cheering",
                ),
                r"TraficHigh\d|TraficLow\d": ("ambience", "urban ambience", "traffic", "traffic"),
                r"Water\d": ("water", "flowing water", "water", "running water"),
                r"WindMill\d|WindMillHTech\d": (
                    "machine",
                    "mechanism",
                    "windmill",
                    "a windmill turning",
                ),
                r"School\d": ("ambience", "urban ambience", "school", "the sound of a school"),
                # sounds.xml binds these to the tiles of the same name (what the tile sounds like)
                r"(Organic)?Farm\d": (
                    "ambience",
                    "nature ambience",
                    "farm",
                    "the ambience of a farm",
                ),
                r"Green\d": (
                    "ambience",
                    "nature ambience",
                    "green space",
                    "a green space with trees",
                ),
                r"ParklandLake\d": ("ambience", "nature ambience", "park lake", "a lake in a park"),
                r"ParklandPlane\d": ("ambience", "nature ambience", "park", "a park"),
                r"Residential(High|Med|Low|LowLow)\d": (
                    "ambience",
                    "urban ambience",
                    "residential area",
                    "a residential area",
                ),
                r"Shanty\d": ("ambience", "urban ambience", "shanty town", "a shanty town"),
                r"Market(Empty|Low|Med|Full)1": (
                    "ambience",
                    "urban ambience",
                    "market",
                    "a market",
                ),
                r"University\d": (
                    "ambience",
                    "urban ambience",
                    "university",
                    "the sound of a university",
                ),
                r"MonumentConstruction\d": (
                    "machine",
                    "tool",
                    "construction",
                    "a monument being built",
                ),
                r"PowerCoal(Empty|Low|Med|Full)": (
                    "machine",
                    "factory",
                    "coal power station",
                    "a coal power station working",
                ),
                r"Recycle\d": ("machine", "factory", "recycling centre", "a recycling centre"),
            },
        ),
    ),
    music=(Music(0, "usr/share/games/lincity-ng/music", "LinCity-NG"),),
)

# ------------------------------------------------------------------------------- arcade
ARCADE = Library(
    "arcade",
    (
        Package("deb", "alienblaster-data", "1.1.0-11"),
        Package("deb", "tuxtype-data", "1.8.3-5.1"),
        Package("deb", "lbreakout2-data", "2.6.5-2"),
        Package("deb", "pingus-data", "0.7.6-5.1"),
        Package("deb", "frozen-bubble-data", "2.212-11"),
        Package("deb", "freeciv-data", "3.0.6-1+deb12u1"),
        Package("deb", "extremetuxracer-data", "0.8.2-1"),
        Package("deb", "xmoto-data", "0.6.1+repack-9"),
    ),
    "GPL-2.0(-or-later) per package (freeciv: some CC0); see LICENSES/arcade.txt",
    (
        Part(
            0,
            "usr/share/games/alienblaster/sound",
            {
                "alarm": ("alarm", "alarm", "alarm", "an alarm"),
                "explosion|explosionBoss": ("explosion", "explosion", "explosion", "an explosion"),
                "shotPrimary|shotSecondary": (
                    "weapon",
                    "energy weapon",
                    "laser shot",
                    "a spaceship's gun firing",
                ),
                "choose|confirm": (UI, "click", "menu", "a menu selection"),
            },
            prefix="alienblaster",
        ),
        Part(
            1,
            "usr/share/tuxtype/sounds",
            {
                "alarm": ("alarm", "alarm", "alarm", "an alarm"),
                "buzz": (UI, "error", "buzzer", "a buzzer"),
                "win|winfinal": (UI, GE, "win", "a game won"),
                "excuseme": ("speech", "voice line", "excuse me", 'a voice saying "excuse me"'),
                "lose": (UI, GE, "lose", "a game lost"),
                "pause": (UI, "click", "pause", "a game paused"),
                "laser": ("weapon", "energy weapon", "laser", "a laser"),
                "cheer": ("human sound", "crowd", "cheering", "a crowd cheering"),
                "bite": ("human sound", "body", "bite", "a bite"),
                "pop": ("impact", "bounce", "pop", "a pop"),
                "harp": ("music", "string instrument", "harp", "a harp"),
                "splat": ("impact", "splat", "splat", "a splat"),
                "tock": ("machine", "clock", "tock", "a clock tock"),
                "explosion": ("explosion", "explosion", "explosion", "an explosion"),
            },
            prefix="tuxtype",
        ),
        Part(
            2,
            "usr/share/games/lbreakout2/sounds",
            {
                "exp|expl_ball": ("explosion", "explosion", "explosion", "an explosion"),
                "gainlife": (UI, GE, "extra life", "an extra life gained"),
                "looselife": (UI, GE, "life lost", "a life lost"),
                "extraball": (UI, GE, "extra ball", "an extra ball"),
                "metal": ("impact", "metal", "metal", "metal being hit"),
                "shot": ("weapon", "gun", "shot", "a shot"),
                "menu_click|click": (UI, "click", "click", "a click"),
                "reflect_paddle|reflect_brick|wall": (
                    "impact",
                    "bounce",
                    "ball bounce",
                    "a ball bouncing off",
                ),
                "excellent": ("speech", "voice line", "excellent", 'a voice saying "excellent"'),
                "verygood": ("speech", "voice line", "very good", 'a voice saying "very good"'),
                "dammit": ("speech", "voice line", "dammit", 'a voice saying "dammit"'),
            },
            prefix="lbreakout2",
        ),
        Part(
            3,
            "usr/share/games/pingus/data/sounds",
            {
                "splash": ("water", "splash", "splash", "a splash"),
                "tick": ("machine", "clock", "tick", "a tick"),
                "ohno": ("speech", "voice line", "oh no", 'a small voice saying "oh no"'),
                "letsgo": ("speech", "voice line", "let's go", 'a small voice saying "let\'s go"'),
                "yipee": ("human sound", "crowd", "cheer", 'a small voice cheering "yippee"'),
                "plop2?": ("impact", "thud", "plop", "a plop"),
                "chink": ("impact", "metal", "chink", "a metallic chink"),
                "digger": ("machine", "tool", "digging", "digging"),
                "goodidea": (
                    "speech",
                    "voice line",
                    "good idea",
                    'a small voice saying "good idea"',
                ),
                "ting": ("alarm", "bell", "ting", "a ting"),
            },
            prefix="pingus",
        ),
        Part(
            4,
            "usr/share/games/frozen-bubble/snd",
            {
                "applause": ("human sound", "crowd", "applause", "an audience applauding"),
                "lose": (UI, GE, "lose", "a game lost"),
                "pause": (UI, "click", "pause", "a game paused"),
                "hurry": (UI, "notification", "hurry", "a warning to hurry"),
                "chatted": (UI, "notification", "chat message", "a chat message"),
                "snore": ("human sound", "breathing", "snoring", "someone snoring"),
                "typewriter": ("machine", "household appliance", "typewriter", "a typewriter"),
                "rebound": ("impact", "bounce", "rebound", "a bubble bouncing off a wall"),
                "launch": ("movement", "whoosh", "launch", "a bubble launched"),
                "stick": ("impact", "thud", "stick", "a bubble sticking"),
                "menu_selected|menu_change|cancel": (UI, "click", "menu", "a menu sound"),
            },
            prefix="frozen_bubble",
        ),
        Part(
            5,
            "usr/share/games/freeciv/stdsounds",
            {
                "SmlExpl": ("explosion", "explosion", "small explosion", "a small explosion"),
                "LrgExpl": ("explosion", "explosion", "large explosion", "a large explosion"),
                "Splash": ("water", "splash", "splash", "a splash"),
                "MedCan": ("weapon", "gun", "medium cannon", "a medium cannon firing"),
                "LrgCan": ("weapon", "gun", "large cannon", "a large cannon firing"),
                "MgHeavy|MgBar[12]": ("weapon", "gun", "machine gun", "a machine gun firing"),
                "metbrk": ("impact", "breaking", "metal breaking", "metal breaking"),
                "woodbrk": ("impact", "breaking", "wood breaking", "wood breaking"),
                "foot3": ("footsteps", "footsteps", "footsteps", "footsteps"),
                "illegal": (UI, "error", "illegal move", "an illegal move"),
                "wall01": ("weapon", "launcher", "catapult", "a catapult"),  # f_catapult
                "wakeup": (UI, "notification", "wake-up call", "a player's wake-up call"),
                "inh2o": ("water", "splash", "into water", "something going into water"),
                "Mortar": ("weapon", "launcher", "mortar", "a mortar firing"),
                "Tread": ("vehicle", "tracked vehicle", "tank treads", "a tracked vehicle moving"),
                "THover": ("vehicle", "hovercraft", "hovercraft", "a hovercraft"),
            },
            prefix="freeciv",
        ),
        Part(
            6,
            "usr/share/games/etr/sounds",
            {
                "snow_slide": ("movement", "skid", "sliding on snow", "sliding on snow"),
                "ice_slide": ("movement", "skid", "sliding on ice", "sliding on ice"),
                "rock_slide": ("movement", "skid", "sliding on rock", "sliding on rock"),
                "grass_slide": ("movement", "skid", "sliding on grass", "sliding on grass"),
                "leaves_slide": (
                    "movement",
                    "rustle",
                    "sliding through leaves",
                    "sliding through leaves",
                ),
                "mud_slide": ("movement", "skid", "sliding in mud", "sliding in mud"),
                "tree_hit": ("impact", "crash", "tree hit", "someone hitting a tree"),
                "pickup[123]": (UI, GE, "pick-up", "an item picked up"),
            },
            prefix="etr",
        ),
    ),
    music=(
        Music(5, "usr/share/games/freeciv/stdmusic", "Freeciv"),
        Music(6, "usr/share/games/etr/music", "Extreme Tux Racer"),
        Music(7, "usr/share/games/xmoto/Textures/Musics", "X-Moto"),
    ),
)

# ------------------------------------------------------------------------------ desktop
DESKTOP = Library(
    "desktop",
    (
        Package("deb", "sound-theme-freedesktop", "0.8-2"),
        Package("deb", "oxygen-sounds", "4:5.27.5-2"),
        Package("deb", "aisleriot", "1:3.22.23-1"),
        Package("deb", "kapman", "4:22.12.3-1"),
        Package("deb", "blinken", "4:22.12.3-1"),
    ),
    "CC-BY-SA-3.0 / GPL-2+ (freedesktop theme), LGPL-3+ (Oxygen), GPL-3+ (AisleRiot), "
    "GPL-2+ (Kapman, Blinken)",
    (
        Part(
            0,
            "usr/share/sounds/freedesktop/stereo",
            {
                "alarm-clock-elapsed": (
                    "alarm",
                    "alarm",
                    "alarm clock",
                    "an alarm clock going off",
                ),
                "bell": ("alarm", "bell", "bell", "a bell"),
                "phone-incoming-call": (
                    "alarm",
                    "ringtone",
                    "incoming call",
                    "a phone ringing for an incoming call",
                ),
                "phone-outgoing-(calling|busy)": (
                    "alarm",
                    "ringtone",
                    "phone tone",
                    "a telephone line tone",
                ),
                "camera-shutter": (
                    "machine",
                    "household appliance",
                    "camera shutter",
                    "a camera shutter",
                ),
                "trash-empty": (UI, "notification", "trash emptied", "the trash being emptied"),
                "device-(added|removed)": (
                    UI,
                    "notification",
                    "device",
                    "a device plugged in or removed",
                ),
                "dialog-(information|warning)": (
                    UI,
                    "notification",
                    "dialog",
                    "a dialog box appearing",
                ),
                "message(-new-instant)?": (UI, "notification", "message", "a new message"),
                "complete": (UI, "notification", "complete", "a task completed"),
                "service-log(in|out)": (UI, "notification", "login", "logging in or out"),
                "suspend-error": (UI, "error", "error", "an error"),
                "audio-volume-change": (UI, "click", "volume change", "the volume being changed"),
                "audio-test-signal": (
                    "electronic sound",
                    "beep",
                    "test signal",
                    "an audio test signal",
                ),
            },
            prefix="freedesktop",
        ),
        Part(
            1,
            "usr/share/sounds",
            {
                "Oxygen-Sys-App-Error(-Critical|-Serious|-Serious-Very)?"
                "|Oxygen-Sys-Error-Printing|Oxygen-Im-Internal-Error": (
                    UI,
                    "error",
                    "error",
                    "an error",
                ),
                "Oxygen-Sys-Warning|Oxygen-Sys-App-Negative": (UI, "error", "warning", "a warning"),
                "Oxygen-Im-(Message-In|Message-Out|New-Mail|Sms|Highlight-Msg"
                "|Low-Priority-Message)": (
                    UI,
                    "notification",
                    "message",
                    "a message notification",
                ),
                "Oxygen-Im-Contact-(In|Out)": (
                    UI,
                    "notification",
                    "contact",
                    "a contact coming online or going offline",
                ),
                "Oxygen-Sys-Log-(In|Out)(-Long|-Short)?": (
                    UI,
                    "notification",
                    "login",
                    "logging in or out",
                ),
                "Oxygen-Im-Phone-Ring": ("alarm", "ringtone", "phone ring", "a phone ringing"),
                "Oxygen-Window-(Minimize|Maximize|Close|Move|Move-Stop|Shade-Up|Shade-Down"
                "|All-Desktops|All-Desktops-Not)": (
                    UI,
                    "click",
                    "window",
                    "a window being moved or resized",
                ),
                "Oxygen-Sys-Trash-Emptied": (
                    UI,
                    "notification",
                    "trash emptied",
                    "the trash being emptied",
                ),
                "Oxygen-Sys-Question": (UI, "notification", "question", "a question dialog"),
                "Oxygen-Im-(Irc-Event|Nudge)": (
                    UI,
                    "notification",
                    "chat event",
                    "an instant-messaging notification",
                ),
                "Oxygen-K3B-Finish-Error": (UI, "error", "error", "an error"),
                "Oxygen-K3B-Finish-Success|Oxygen-Sys-App-Positive": (
                    UI,
                    "notification",
                    "success",
                    "a task finishing successfully",
                ),
                "Oxygen-Sys-App-Message": (UI, "notification", "message", "a message notification"),
                "Oxygen-Im-User-Auth|Oxygen-K3B-Insert-Medium|Oxygen-Sys-Special"
                "|Oxygen-Sys-List-End|Oxygen-Sys-List-Match-Multiple": (
                    UI,
                    "notification",
                    "notification",
                    "a desktop notification",
                ),
                "Oxygen-Sys-List-Match-No": (UI, "error", "no match", "a search finding nothing"),
                "Oxygen-Im-(Connection-Lost|Cant-Connect|Error-On-Connection|Network-Problems)": (
                    UI,
                    "error",
                    "connection error",
                    "a lost connection",
                ),
            },
            prefix="oxygen",
        ),
        Part(
            2,
            "usr/share/aisleriot/sounds",
            {
                "click": (UI, "click", "click", "a click"),
                "slide": ("movement", "skid", "card sliding", "a card sliding"),
                "splat": ("impact", "splat", "splat", "a splat"),
            },
            prefix="aisleriot",
        ),
        Part(
            3,
            "usr/share/sounds/kapman",
            {
                "levelup": (UI, GE, "level up", "a level completed"),
                "life": (UI, GE, "extra life", "an extra life gained"),
                "pill|energizer|bonus": (UI, GE, "pick-up", "an item eaten"),
                "gameover": (UI, GE, "game over", "the game being over"),
            },
            prefix="kapman",
        ),
        Part(
            4,
            "usr/share/blinken/sounds",
            {
                "[1-4]": ("music", "synthesizer", "tone", "one of four tones"),
                "lose": (UI, GE, "lose", "the game lost"),
            },
            prefix="blinken",
        ),
    ),
)

LIBRARIES = (SUPERTUX, SUPERTUXKART, FREEDROID, FLARE, WIDELANDS, LINCITY, ARCADE, DESKTOP)
SOURCES = tuple(lib.source() for lib in LIBRARIES)
