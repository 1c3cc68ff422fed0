"""Named sound effects from Debian games and desktops: barks, farm animals, vehicles, crowds.

Six packages ship short effects whose file names say what is heard (`dog.wav`,
`carhorn3.wav`, `FootStepSnow1.ogg`). The table below is the whole source: for each file
we keep, its labels and a plain sentence of what the name says. Names that do not say
what is heard (`goody_turbo`, `hype`, `riftcollapse`) and the games' music are left out.
The point is vocabulary the other training sources lack: seven dog barks (the corpus had
four), and the sirens, horns, crowds, footsteps and blades that sound libraries are
searched for. Lugaru's barks and growls are its wolves (the game's `wolftype` sounds).
Licences per package (GPL-2(+), CC-BY-SA-3.0); LICENSES/gamesfx.txt carries each copyright file.
"""

from __future__ import annotations

from pathlib import Path

from audiotext_cli.data.captions import heard
from audiotext_cli.data.packages import Package
from audiotext_cli.data.sources import ClipSpec, FileAudio, Source, spec
from audiotext_cli.errors import DataBuildError

NAME = "gamesfx"
LICENSE = "per package: GPL-2.0(-or-later), CC-BY-SA-3.0 (Lugaru Data/, Scorched3D apoc/)"
PACKAGES = (
    Package("deb", "mate-media-common", "1.26.0-2"),
    Package("deb", "etw-data", "3.6+svn162-6"),
    Package("deb", "trophy-data", "2.0.3-2"),
    Package("deb", "xemacs21-basesupport", "2009.02.17.dfsg.3-1"),
    Package("deb", "lugaru-data", "1.2-6"),
    Package("deb", "scorched3d-data", "44+dfsg-8"),
)

_DOG = ("animal", "mammal", "dog")
_WOLF = ("animal", "mammal", "wolf")


# package index -> (folder inside the package, {file: (labels, what is heard)})
TABLE: tuple[tuple[str, dict[str, tuple[tuple[str, str, str], str]]], ...] = (
    (
        "usr/share/sounds/mate/default/alerts",
        {
            "bark.ogg": (_DOG, "a dog barking"),
            "drip.ogg": (("water", "drip", "drip"), "a drop of water dripping"),
        },
    ),
    (
        "usr/share/games/etw/snd",
        {
            "dog.wav": (_DOG, "a dog barking"),
            "crowd.wav": (("human sound", "crowd", "crowd"), "a football crowd"),
            "boou.wav": (("human sound", "crowd", "booing"), "a crowd booing"),
            "fischiocorto.wav": (
                ("alarm", "whistle", "referee whistle"),
                "a short referee whistle",
            ),
            "fischiolungo.wav": (("alarm", "whistle", "referee whistle"), "a long referee whistle"),
        },
    ),
    (
        "usr/share/games/trophy/sounds",
        {
            "dog.wav": (_DOG, "a dog barking"),
            "carhorn.wav": (("alarm", "horn", "car horn"), "a car horn honking"),
            "engine.wav": (("vehicle", "car", "car engine"), "a car engine running"),
            "crash.wav": (("impact", "crash", "car crash"), "a car crashing"),
        },
    ),
    (
        "usr/share/xemacs21/xemacs-packages/etc/sounds",
        {
            "bark.wav": (_DOG, "a dog barking"),
            "catmeow.wav": (("animal", "mammal", "cat"), "a cat meowing"),
            "cuckoo.wav": (("animal", "bird", "cuckoo"), "a cuckoo calling"),
            "snore.wav": (("human sound", "breathing", "snoring"), "a person snoring"),
            "cry.wav": (("human sound", "crying", "crying"), "a person crying"),
            "kiss.wav": (("human sound", "body", "kiss"), "a kiss"),
            "laugh.au": (("human sound", "laughter", "laughter"), "a person laughing"),
            "Evil_Laugh.au": (("human sound", "laughter", "laughter"), "an evil laugh"),
            "hammer.wav": (("machine", "tool", "hammer"), "a hammer hitting"),
            "slap.wav": (("impact", "hit", "slap"), "a slap"),
            "whip.wav": (("impact", "hit", "whip"), "a whip cracking"),
            "explosion.au": (("explosion", "explosion", "explosion"), "an explosion"),
            "flush.au": (("machine", "household appliance", "toilet flush"), "a toilet flushing"),
            "shotgun.wav": (("weapon", "gun", "shotgun"), "a shotgun firing"),
            "drumroll.au": (("music", "percussion instrument", "drum roll"), "a drum roll"),
        },
    ),
    (
        "usr/share/games/lugaru/Sounds",
        {
            "Bark.ogg": (_WOLF, "a wolf barking"),
            "Bark2.ogg": (_WOLF, "a wolf barking"),
            "Bark3.ogg": (_WOLF, "a wolf barking"),
            "BarkGrowl.ogg": (_WOLF, "a wolf barking and growling"),
            "Growl.ogg": (_WOLF, "a wolf growling"),
            "Growl2.ogg": (_WOLF, "a wolf growling"),
            "Snarl.ogg": (_WOLF, "a wolf snarling"),
            "Snarl2.ogg": (_WOLF, "a wolf snarling"),
            "RabbitChitter.ogg": (("animal", "mammal", "rabbit"), "a rabbit chittering"),
            "RabbitChitter2.ogg": (("animal", "mammal", "rabbit"), "a rabbit chittering"),
            "RabbitPain.ogg": (("animal", "mammal", "rabbit"), "a rabbit squealing in pain"),
            "RabbitPain2.ogg": (("animal", "mammal", "rabbit"), "a rabbit squealing in pain"),
            "Hawk.ogg": (("animal", "bird", "hawk"), "a hawk screeching"),
            "Fire.ogg": (("fire", "fire", "fire"), "a fire burning"),
            "FireStart.ogg": (("fire", "fire", "fire"), "a fire catching"),
            "FireEnd.ogg": (("fire", "fire", "fire"), "a fire going out"),
            "Wind.ogg": (("weather", "wind", "wind"), "wind blowing"),
            "DesertAmbient.ogg": (
                ("ambience", "nature ambience", "desert ambience"),
                "the ambience of a desert",
            ),
            "BushRustle.ogg": (("movement", "rustle", "rustling bush"), "a bush rustling"),
            "FootStepGrass1.ogg": (
                ("footsteps", "footsteps on grass", "footsteps"),
                "a footstep on grass",
            ),
            "FootStepGrass2.ogg": (
                ("footsteps", "footsteps on grass", "footsteps"),
                "a footstep on grass",
            ),
            "FootStepSnow1.ogg": (
                ("footsteps", "footsteps on snow", "footsteps"),
                "a footstep in snow",
            ),
            "FootStepSnow2.ogg": (
                ("footsteps", "footsteps on snow", "footsteps"),
                "a footstep in snow",
            ),
            "FootStepStone1.ogg": (
                ("footsteps", "footsteps on hard ground", "footsteps"),
                "a footstep on stone",
            ),
            "FootStepStone2.ogg": (
                ("footsteps", "footsteps on hard ground", "footsteps"),
                "a footstep on stone",
            ),
            "KnifeDraw.ogg": (("weapon", "blade", "knife"), "a knife being drawn"),
            "KnifeSheathe.ogg": (("weapon", "blade", "knife"), "a knife being sheathed"),
            "KnifeSlice.ogg": (("weapon", "blade", "knife"), "a knife slicing"),
            "KnifeSwish.ogg": (("weapon", "blade", "knife"), "a knife swishing through the air"),
            "SwordSlice.ogg": (("weapon", "blade", "sword"), "a sword slicing"),
            "MetalHit.ogg": (("impact", "metal", "metal hit"), "metal being hit"),
            "Clank1.ogg": (("impact", "metal", "metal clank"), "a metal clank"),
            "Clank2.ogg": (("impact", "metal", "metal clank"), "a metal clank"),
            "Clank3.ogg": (("impact", "metal", "metal clank"), "a metal clank"),
            "Clank4.ogg": (("impact", "metal", "metal clank"), "a metal clank"),
            "Thud.ogg": (("impact", "thud", "thud"), "a dull thud"),
            "HeavyImpact.ogg": (("impact", "thud", "heavy impact"), "a heavy impact"),
            "Whoosh.ogg": (("movement", "whoosh", "whoosh"), "a whoosh"),
            "HighWhoosh.ogg": (("movement", "whoosh", "whoosh"), "a high whoosh"),
            "LowWhoosh.ogg": (("movement", "whoosh", "whoosh"), "a low whoosh"),
            "MidWhoosh.ogg": (("movement", "whoosh", "whoosh"), "a whoosh"),
            "Skid.ogg": (("movement", "skid", "skid"), "a skid"),
            "SnowSkid.ogg": (("movement", "skid", "skid"), "a skid in snow"),
            "Splatter.ogg": (("impact", "splat", "splatter"), "a wet splatter"),
            "Break.ogg": (("impact", "breaking", "breaking"), "something breaking"),
            "Alarm.ogg": (("alarm", "alarm", "alarm"), "an alarm ringing"),
        },
    ),
    (
        "usr/share/games/scorched3d/data/globalmods/apoc/data/wav/misc",
        {
            **{
                f"carhorn{i}.wav": (("alarm", "horn", "car horn"), "a car horn honking")
                for i in range(1, 7)
            },
            "dog.wav": (_DOG, "a dog barking"),
            "dog2.wav": (_DOG, "a dog barking"),
            "dog3.wav": (_DOG, "a dog barking"),
            "cows.wav": (("animal", "mammal", "cow"), "cows mooing"),
            "moo.wav": (("animal", "mammal", "cow"), "a cow mooing"),
            "sheep.wav": (("animal", "mammal", "sheep"), "a sheep bleating"),
            "rooster.wav": (("animal", "bird", "rooster"), "a rooster crowing"),
            "cessna.wav": (
                ("vehicle", "aircraft", "propeller plane"),
                "a small propeller plane flying",
            ),
            "helicopter.wav": (("vehicle", "aircraft", "helicopter"), "a helicopter flying"),
            "firetruck.wav": (("alarm", "siren", "fire truck siren"), "a fire truck siren"),
            "policecar.wav": (("alarm", "siren", "police siren"), "a police car siren"),
            "cheeringloop.wav": (("human sound", "crowd", "cheering"), "a crowd cheering"),
            "citysounds.wav": (
                ("ambience", "urban ambience", "city ambience"),
                "the sounds of a city street",
            ),
            "factoryloop1.wav": (("machine", "factory", "factory noise"), "noise in a factory"),
            **{
                f"scream{i}.wav": (("human sound", "scream", "scream"), "a person screaming")
                for i in range(1, 5)
            },
            "screaming.wav": (("human sound", "scream", "scream"), "people screaming"),
        },
    ),
)


def clips(roots: list[Path], size: str, role: str, seed: int) -> list[ClipSpec]:
    out = []
    for root, package, (folder, files) in zip(roots, PACKAGES, TABLE, strict=True):
        for file, (labels, what) in files.items():
            path = root / folder / file
            if not path.is_file():  # a package whose layout changed must say so
                raise DataBuildError(f"{package.name} has no {folder}/{file}", root)
            clip = f"{package.name.split('-')[0]}/{Path(file).stem}"
            out.append(spec(NAME, clip, labels, heard(what), LICENSE, FileAudio(str(path))))
    return out


SOURCE = Source(
    NAME,
    PACKAGES,
    LICENSE,
    tuple(f"usr/share/doc/{p.name}/copyright" for p in PACKAGES),
    clips,
)
