"""The corpus's shared vocabulary: level-1 categories and their level-2 classes.

Every source maps its labels into this ontology, so "weapon" or "footsteps" at level 1 and
"gun" or "door" at level 2 mean the same thing in every library. The categories follow the
top of AudioSet's ontology and the Universal Category System's (UCS) names for sound
libraries, trimmed to what the corpus's packages hold:

  animal, speech, human sound, music, vehicle, weapon, explosion, impact, footsteps, door,
  water, fire, weather, alarm, machine, user interface, electronic sound, ambience,
  movement, object

Level 3 stays the source's own name for the sound (the file, folder or game-data name as
words), so it is never more specific than the package says. `place` files a name under a
level-1/level-2 pair by the words it contains (`"glass_break"` -> impact / breaking); a
source uses it only where the name is all it has, and a name it cannot place is left out.
"""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True)
class Category:
    """A level-1 category: three caption paraphrases (each contains the name) and its
    level-2 classes with what each covers."""

    name: str
    paraphrases: tuple[str, str, str]
    classes: dict[str, str]


_HYPHENATED = {"sci fi sound": "sci-fi sound", "two wheeler": "two-wheeler"}


def _c(name: str, paraphrases: tuple[str, str, str], **classes: str) -> Category:
    names = {k: k.replace("_", " ") for k in classes}
    return Category(
        name, paraphrases, {_HYPHENATED.get(n, n): classes[k] for k, n in names.items()}
    )


CATEGORIES: tuple[Category, ...] = (
    _c(
        "animal",
        ("animal", "an animal sound", "a sound made by an animal"),
        mammal="dogs, cats, cattle, wolves, horses (marsupials too)",
        bird="songbirds, poultry, birds of prey",
        insect="crickets, bees, flies",
        amphibian="frogs, newts",
        reptile="snakes, lizards, turtles",
        fish="fish",
        mollusc="snails",
    ),
    _c(
        "speech",
        ("speech", "human speech", "speech from a person"),
        telephone_prompt="a recorded telephone voice",
        spoken_description="someone reading out a description",
        voice_line="a game character's spoken line",
        announcement="an announcer or radio voice reporting an event",
    ),
    _c(
        "human sound",
        ("human sound", "a human sound", "a human sound, not speech"),
        laughter="laughing",
        crying="crying, sobbing",
        scream="screams, yells",
        pain="grunts and cries of pain",
        effort="grunts of effort (jumping, lifting)",
        breathing="breaths, gasps, coughs, snoring",
        crowd="crowds cheering, applauding, booing",
        body="kisses, heartbeats, eating, clapping hands",
    ),
    _c(
        "music",
        ("music", "a music sound", "music played on an instrument"),
        keyboard_instrument="piano, organ, accordion",
        string_instrument="guitar, violin, cello, harp, sitar",
        bass="bass sounds: acoustic, electric or synth bass",
        wind_instrument="flute, clarinet, saxophone, harmonica",
        brass_instrument="trumpet, trombone, horn, tuba",
        percussion_instrument="tuned and untuned percussion, single drums",
        drum_kit="drum-kit pieces (kick, snare, hi-hat, cymbals, toms)",
        synthesizer="synth leads, pads, basses and effects",
        ensemble="string ensembles, choirs, orchestra hits",
        sound_effect_patch="a soundfont's sound-effect programs (seashore, gunshot...)",
        world_music="music from a region",
        music_loop="loops, beats and phrases",
        vocals="singing",
        game_music="a game's soundtrack (the tracks of its music folder, first 10 s)",
    ),
    _c(
        "vehicle",
        ("vehicle", "a vehicle sound", "the sound of a vehicle"),
        car="cars, karts: engines, horns, skids",
        aircraft="planes, helicopters, VTOLs, blimps",
        train="trains, locomotives",
        watercraft="boats, ships",
        tracked_vehicle="tanks, tractors, excavators, treads",
        hovercraft="hover vehicles",
        two_wheeler="bicycles, motorbikes, skateboards",
        spacecraft="rockets, spaceships, UFOs",
    ),
    _c(
        "weapon",
        ("weapon", "a weapon sound", "the sound of a weapon"),
        gun="guns, cannons, machine guns: shots, reloads",
        blade="swords, knives, axes",
        blunt_weapon="bats, hammers, fists, whips",
        energy_weapon="lasers, plasma and rail guns",
        launcher="rockets, grenades, mortars, catapults, missiles in flight",
        bow="bows, arrows, slings, javelins",
        flamethrower="flamethrowers",
        mine="mines, ticking bombs",
    ),
    _c(
        "explosion",
        ("explosion", "an explosion sound", "the sound of an explosion"),
        explosion="blasts, bombs, detonations",
        firework="fireworks, firecrackers",
    ),
    _c(
        "impact",
        ("impact", "an impact sound", "the sound of an impact"),
        hit="hits, punches, slaps, knocks",
        crash="collisions, car crashes, things falling",
        breaking="glass breaking, wood or metal breaking, shattering",
        thud="dull thuds, bumps, landings",
        metal="metal clanks and clangs, ricochets",
        splat="wet splats, squishes",
        bounce="bounces, boings",
    ),
    _c(
        "footsteps",
        ("footsteps", "the sound of footsteps", "footsteps of someone walking"),
        footsteps="footsteps on an unnamed surface",
        footsteps_on_hard_ground="stone, concrete, boots on a hard floor",
        footsteps_on_grass="grass",
        footsteps_on_snow="snow, ice",
        footsteps_on_metal="metal floors",
        footsteps_on_wood="wooden floors, bridges",
        footsteps_in_water="splashing steps",
        footsteps_on_gravel="gravel, sand, dirt",
    ),
    _c(
        "door",
        ("door", "a door sound", "the sound of a door"),
        door="doors opening, closing, creaking",
        gate="gates, portcullises, platforms",
        lock="locks, keys, switches, latches",
    ),
    _c(
        "water",
        ("water", "a water sound", "the sound of water"),
        splash="splashes, things falling into water",
        drip="drops, drips",
        bubbles="bubbles, gurgling, underwater",
        flowing_water="rivers, waterfalls, streams",
    ),
    _c(
        "fire",
        ("fire", "a fire sound", "the sound of fire"),
        fire="fires burning, crackling, flames, sizzling",
    ),
    _c(
        "weather",
        ("weather", "a weather sound", "the sound of the weather"),
        wind="wind, howling wind",
        rain="rain",
        thunder="thunder, lightning",
    ),
    _c(
        "alarm",
        ("alarm", "an alarm sound", "the sound of an alarm"),
        alarm="alarms, buzzers, warnings",
        siren="sirens",
        bell="bells, chimes, gongs",
        ringtone="telephones ringing",
        whistle="whistles",
        horn="horns, car horns, hooters",
    ),
    _c(
        "machine",
        ("machine", "a machine sound", "the sound of a machine"),
        motor="motors, pumps, fans, drones of machinery",
        mechanism="gears, ratchets, clockwork, mills",
        tool="hammers, saws, drills, welding",
        clock="clocks ticking",
        electrical="electric hum, buzz, sparks",
        household_appliance="toilets, typewriters, cameras, vacuum cleaners",
        factory="factory and industrial noise",
    ),
    _c(
        "user interface",
        ("user interface", "a user interface sound", "a sound from a user interface"),
        click="clicks, menu selections, buttons",
        notification="messages, alerts, logins and logouts",
        error="errors, warnings, denials",
        game_event="a game's event sounds: pick-ups, power-ups, scores, levels",
    ),
    _c(
        "electronic sound",
        ("electronic sound", "an electronic sound", "a synthetic electronic sound"),
        beep="beeps, bleeps, blips",
        sci_fi_sound="teleports, force fields, zaps, warps",
        glitch="glitches, static, noise",
    ),
    _c(
        "ambience",
        ("ambience", "an ambience recording", "background ambience"),
        nature_ambience="forests, deserts, jungles",
        urban_ambience="streets, cities, restaurants, airports",
        industrial_ambience="machinery drones, hums",
        synthetic_ambience="ambient pads and drones made for music production",
    ),
    _c(
        "movement",
        ("movement", "a movement sound", "the sound of movement"),
        whoosh="whooshes, swishes, swings",
        rustle="rustling leaves, bushes, cloth",
        skid="skids, slides, scrapes",
    ),
    _c(
        "object",
        ("object", "the sound of an object", "the sound of an everyday object"),
        toy="toys, balloons, rubber ducks",
        sports_equipment="balls, skates",
        household_object="dishes, paper, zippers, coins, bottles",
        container="chests, boxes, bags",
    ),
)
ONTOLOGY: dict[str, Category] = {c.name: c for c in CATEGORIES}
L1_CLASSES: tuple[str, ...] = tuple(ONTOLOGY)


def check(labels: tuple[str, str, str] | list[str]) -> None:
    """Raise ValueError unless labels[0] is a category and labels[1] one of its classes."""
    l1, l2 = labels[0], labels[1]
    if l1 not in ONTOLOGY:
        raise ValueError(f"level-1 label {l1!r} is not one of {L1_CLASSES}")
    if l2 not in ONTOLOGY[l1].classes:
        raise ValueError(f"level-2 label {l2!r} is not a class of {l1!r}")


# Words in a name -> (level 1, level 2), first match wins. A name is matched word by word
# ("car_horn" -> "car", "horn"), plurals reduced; multi-word keys match a phrase.
_KEYWORDS: tuple[tuple[str, str, str], ...] = (
    # phrases first: they beat their single words
    ("car horn|air horn|klaxon|hooter|horn honk", "alarm", "horn"),
    ("water drop|water drip", "water", "drip"),
    ("wind chime|wind chimes", "alarm", "bell"),
    ("washing machine|sewing machine", "machine", "household appliance"),
    ("fire truck|police car|police siren|siren", "alarm", "siren"),
    (
        "glass break|glass breaking|glass shatter|shatter|smash|break|breaking|crack",
        "impact",
        "breaking",
    ),
    ("door", "door", "door"),
    ("gate|portcullis", "door", "gate"),
    ("lock|unlock|key|latch|switch", "door", "lock"),
    ("footstep|step|walk|walking|boot", "footsteps", "footsteps"),
    ("laugh|laughter|giggle|chuckle|haha|hahaha", "human sound", "laughter"),
    ("cry|crying|sob|wail", "human sound", "crying"),
    ("scream|yell|shriek|shout", "human sound", "scream"),
    ("ouch|ow|ooff|pain|hurt|ugh|moan|groan|death|die|dying", "human sound", "pain"),
    (
        "cough|sneeze|snore|snoring|breath|breathing|gasp|sigh|yawn|hiccup|burp",
        "human sound",
        "breathing",
    ),
    ("cheer|cheering|applause|applaud|clap|crowd|boo|booing", "human sound", "crowd"),
    ("kiss|heartbeat|heart beat|gulp|slurp|eat|chew|bite", "human sound", "body"),
    ("explosion|explode|blast|bomb|boom|detonation|expl", "explosion", "explosion"),
    ("firework|fireworks|firecracker", "explosion", "firework"),
    (
        "shotgun|gun|pistol|rifle|cannon|machinegun|machine gun|shot|shoot|gunshot|reload|minigun",
        "weapon",
        "gun",
    ),
    ("laser|plasma|railgun|phaser", "weapon", "energy weapon"),
    ("sword|knife|blade|axe|dagger|saber|sabre", "weapon", "blade"),
    ("rocket launcher|grenade|mortar|missile|rocket", "weapon", "launcher"),
    ("flamethrower|flame thrower", "weapon", "flamethrower"),
    ("mine", "weapon", "mine"),
    ("whip|punch|slap|hit|knock|smack|kick|stomp", "impact", "hit"),
    ("crash|collision|fall|falling|drop", "impact", "crash"),
    ("thud|thump|bump|land|landing|plop|plonk", "impact", "thud"),
    ("clank|clang|clink|anvil|ricochet|metal", "impact", "metal"),
    ("splat|splatter|squish|squelch|goo", "impact", "splat"),
    ("bounce|boing|trampoline", "impact", "bounce"),
    ("splash|splashing|dive", "water", "splash"),
    ("drip|droplet|raindrop", "water", "drip"),
    ("bubble|bubbles|gurgle|blubber|underwater|fizz", "water", "bubbles"),
    ("water|waterfall|river|stream|flush|pour", "water", "flowing water"),
    ("fire|flame|burn|burning|sizzle|crackle|lava|torch", "fire", "fire"),
    ("wind|windy|howl|howling", "weather", "wind"),
    ("rain|raindrops|drizzle", "weather", "rain"),
    ("thunder|lightning|storm", "weather", "thunder"),
    ("alarm|buzzer|warning|klaxon", "alarm", "alarm"),
    ("bell|chime|gong|ding", "alarm", "bell"),
    ("phone|telephone|ring|ringing", "alarm", "ringtone"),
    ("whistle", "alarm", "whistle"),
    ("horn", "alarm", "horn"),
    ("car|kart|engine|accelerate|rev|revup", "vehicle", "car"),
    ("plane|airplane|aeroplane|jet|helicopter|cessna|vtol|blimp|aircraft", "vehicle", "aircraft"),
    ("train|locomotive|railway", "vehicle", "train"),
    ("boat|ship|sail", "vehicle", "watercraft"),
    ("tank|tractor|excavator|bulldozer|tread|treads", "vehicle", "tracked vehicle"),
    ("bicycle|bike|motorbike|motorcycle|skateboard", "vehicle", "two-wheeler"),
    ("spaceship|ufo|spacecraft", "vehicle", "spacecraft"),
    (
        "hammer|hammering|saw|sawing|drill|weld|welding|chisel|chainsaw|scythe|grinder|sharpen|sharpening",
        "machine",
        "tool",
    ),
    ("clock|tick|ticking|tock|timer", "machine", "clock"),
    ("motor|pump|fan|drone|machinery|machine|compressor", "machine", "motor"),
    ("gear|ratchet|mill|crank|winch|lever|clockwork", "machine", "mechanism"),
    ("electric|electro|buzz|hum|spark|zap|current", "machine", "electrical"),
    ("toilet|typewriter|camera|shutter|vacuum|printer|microwave", "machine", "household appliance"),
    ("factory|industry|industrial", "machine", "factory"),
    ("click|menu|select|button|tap", "user interface", "click"),
    ("message|notification|login|logout|mail|chat|alert|notify", "user interface", "notification"),
    ("error|denied|invalid|illegal|wrong|fail|failed", "user interface", "error"),
    ("beep|bleep|blip|bloop", "electronic sound", "beep"),
    (
        "teleport|warp|portal|forcefield|force field|sci fi|scifi|zoop|tractor beam",
        "electronic sound",
        "sci-fi sound",
    ),
    ("glitch|static|noise|bzzt", "electronic sound", "glitch"),
    ("whoosh|swish|swoosh|swing|woosh|swipe", "movement", "whoosh"),
    ("rustle|rustling|leaves", "movement", "rustle"),
    ("skid|slide|scrape|sliding", "movement", "skid"),
    ("balloon|toy|rubber duck|yoyo|rattle|squeaky", "object", "toy"),
    ("ball|bowling|skate|puck", "object", "sports equipment"),
    (
        "dish|dishes|paper|zipper|coin|coins|bottle|glass|cup|plate|pen|book|chalk",
        "object",
        "household object",
    ),
    ("chest|box|bag|crate", "object", "container"),
)


def _singular(word: str) -> str:
    return word[:-1] if len(word) > 3 and word.endswith("s") and not word.endswith("ss") else word


_INDEX: list[tuple[tuple[str, ...], str, str]] = [
    (tuple(_singular(w) for w in key.split()), l1, l2)
    for keys, l1, l2 in _KEYWORDS
    for key in keys.split("|")
]


def name_words(name: str) -> list[str]:
    """'FootStepSnow1' -> ['foot', 'step', 'snow'], 'glass_break-2' -> ['glass', 'break']."""
    text = re.sub(r"(?<=[a-z])(?=[A-Z])", " ", name)
    text = re.sub(r"[^A-Za-z]+", " ", text).lower()
    return [_singular(w) for w in text.split()]


def place(name: str) -> tuple[str, str] | None:
    """(level 1, level 2) for the first keyword the name's words contain, else None."""
    got = name_words(name)
    joined = f" {' '.join(got)} "
    for key, l1, l2 in _INDEX:
        if f" {' '.join(key)} " in joined:
            return l1, l2
    return None
