"""Teeworlds: the game's 131 effects and voice sounds, named by kind and action.

`data/audio/` holds WavPack files named `<kind>_<thing>_<action>-NN.wv`: `wp_` weapons
(`wp_shotty_fire` a shotgun firing, `wp_laser_bnce` a laser bouncing), `foley_` body sounds
(`foley_foot_left` a footstep), `sfx_` game events (`sfx_ctf_grab_en`: capture the flag,
the enemy's flag grabbed) and `vo_teefault_` the default character's voice (`pain_short`,
`cry`). The name is the label. Left out: the voices whose name says when they play, not
what is heard (`spawn`, `ninja`, `sledge`), the ninja's attack (the name does
not say with what), the hook's loop. The menu music is game music (`Music`).
libsndfile cannot read WavPack, so `WavPackAudio` converts each file with `wvunpack`.
Licence: CC-BY-SA-3.0 (the game's data; code Zlib).
"""

from __future__ import annotations

from audiotext_cli.data.packages import Package
from audiotext_cli.data.sources.library import Library, Music, Part

UI, GE = "user interface", "game event"
N = r"(-\d+)?"  # take numbers

_TABLE = {
    f"wp_gun_fire{N}": ("weapon", "gun", "gun", "a gun firing"),
    f"wp_shotty_fire{N}": ("weapon", "gun", "shotgun", "a shotgun firing"),
    f"wp_noammo{N}": ("weapon", "gun", "empty gun", "a gun clicking with no ammunition"),
    f"wp_laser_fire{N}": ("weapon", "energy weapon", "laser", "a laser firing"),
    f"wp_laser_bnce{N}": ("weapon", "energy weapon", "laser bounce", "a laser beam bouncing"),
    f"wp_flump_launch{N}": ("weapon", "launcher", "launcher", "a launcher firing"),
    f"wp_flump_explo{N}": ("explosion", "explosion", "explosion", "an explosion"),
    f"wp_hammer_swing{N}": ("weapon", "blunt weapon", "hammer swing", "a hammer being swung"),
    f"wp_hammer_hit{N}": ("impact", "hit", "hammer hit", "a hammer hitting"),
    f"wp_ninja_hit{N}": ("impact", "hit", "ninja hit", "a ninja's blow landing"),
    f"wp_switch{N}": (UI, GE, "weapon switch", "a weapon being switched"),
    f"foley_foot_(left|right){N}": ("footsteps", "footsteps", "footstep", "a footstep"),
    f"foley_dbljump{N}": ("human sound", "effort", "double jump", "someone jumping twice"),
    f"foley_land{N}": ("impact", "thud", "landing", "someone landing"),
    f"foley_body_impact{N}": ("impact", "thud", "body impact", "a body hitting the ground"),
    f"foley_body_splat{N}": ("impact", "splat", "body splat", "a body splatting"),
    f"sfx_hit_weak{N}": ("impact", "hit", "weak hit", "a weak hit"),
    f"sfx_hit_strong{N}": ("impact", "hit", "strong hit", "a strong hit"),
    f"sfx_skid{N}": ("movement", "skid", "skid", "a skid"),
    f"hook_attach{N}": ("impact", "metal", "hook attaching", "a hook catching hold"),
    f"hook_noattach{N}": ("movement", "whoosh", "hook missing", "a hook missing its hold"),
    "sfx_pickup_(gun|sg|launcher|ninja)": (UI, GE, "weapon pickup", "a weapon picked up"),
    f"sfx_pickup_hrt{N}": (UI, GE, "health pickup", "health picked up"),
    f"sfx_pickup_arm{N}": (UI, GE, "armour pickup", "armour picked up"),
    f"sfx_spawn_wpn{N}": (UI, GE, "weapon appearing", "a weapon appearing"),
    "sfx_ctf_(grab_pl|grab_en)": (UI, GE, "flag grabbed", "a flag grabbed"),
    "sfx_ctf_cap_pl": (UI, GE, "flag captured", "a flag captured"),
    "sfx_ctf_drop": (UI, GE, "flag dropped", "a flag dropped"),
    "sfx_ctf_rtn": (UI, GE, "flag returned", "a flag returned"),
    "sfx_msg-(client|server|highlight)": (UI, "notification", "chat message", "a chat message"),
    f"vo_teefault_pain_short{N}": ("human sound", "pain", "pain", "a short cry of pain"),
    f"vo_teefault_pain_long{N}": ("human sound", "pain", "pain", "a long cry of pain"),
    f"vo_teefault_cry{N}": ("human sound", "crying", "cry", "a character crying"),
}

LIBRARY = Library(
    "teeworlds",
    (Package("deb", "teeworlds-data", "0.7.5-2"),),
    "CC-BY-SA-3.0 (teeworlds-data; code Zlib)",
    (Part(0, "usr/share/games/teeworlds/data/audio", _TABLE),),
    music=(Music(0, "usr/share/games/teeworlds/data/audio", "Teeworlds", pattern="music_.*"),),
)
SOURCE = LIBRARY.source()
