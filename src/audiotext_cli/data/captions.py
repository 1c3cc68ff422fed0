"""Captions from real labels: a 3-step label path plus the source's own sentence(s).

Levels 1-3 paraphrase `labels[0..2]` and every paraphrase contains its label verbatim,
so a caption never claims more than the label says and a test can check the link.
Level 4 is the specific sentence: a library's description, a transcript, or the render's
own parameters (instrument, pitch, loudness, length). Several paraphrases per level give
the text tower variety without inventing facts.
"""

from __future__ import annotations

import re

from audiotext_cli.data.ontology import L1_CLASSES, ONTOLOGY, check

__all__ = ["L1_CLASSES", "article", "build_captions", "heard", "sentence", "words"]

_L2_TEMPLATES = ("{x}", "a {x} sound", "the sound of {x}")
_L3_TEMPLATES = ("{x}", "{ax}", "the sound of {ax}")


_PLURAL_HEAD = re.compile(r"^\w+[^s\W]s (on|in|of|at|with|from|for|into|through) ")


def article(noun: str) -> str:
    """'a dog', 'an owl'; plural ('footsteps on grass') or numbered nouns get no article."""
    plural = noun.endswith("s") and not noun.endswith("ss") or _PLURAL_HEAD.match(noun)
    if not noun or noun[0].isdigit() or plural:
        return noun
    return ("an " if noun[0].lower() in "aeiou" else "a ") + noun


def words(name: str) -> str:
    """A file stem as words: 'cow_white2' -> 'cow white', 'Washing-machine' -> 'washing machine'."""
    text = re.sub(r"[_\-!]+", " ", name).strip().lower()
    text = re.sub(r"(?<=[a-z])\d+$", "", text).strip()
    return re.sub(r"\s+", " ", text)


def sentence(text: str) -> str:
    """Capitalised, one trailing full stop."""
    text = " ".join(text.split()).rstrip(".")
    return text[:1].upper() + text[1:] + "."


def heard(what: str) -> list[str]:
    """Three level-4 sentences from what a recording is: "A dog barking.", "The sound of a
    dog barking.", "A dog barking, recorded." (the sources whose only text is a name)."""
    return [sentence(what), sentence(f"the sound of {what}"), sentence(f"{what}, recorded")]


def build_captions(
    labels: tuple[str, str, str],
    specific: list[str],
    *,
    l2: tuple[str, ...] = _L2_TEMPLATES,
    l3: tuple[str, ...] = _L3_TEMPLATES,
) -> list[dict]:
    """All four levels: templated paraphrases of each label, then the specific sentences.

    `l2`/`l3` are templates with `{x}` (the label) and `{ax}` (the label with an article);
    each must contain one of them so the paraphrase keeps the label. Level 1 is the
    ontology category's fixed paraphrases; labels outside the ontology are a ValueError.
    """
    check(labels)
    out = [{"level": 1, "text": t} for t in ONTOLOGY[labels[0]].paraphrases]
    for level, label, templates in ((2, labels[1], l2), (3, labels[2], l3)):
        texts = [t.format(x=label, ax=article(label)) for t in templates]
        out += [{"level": level, "text": t} for t in dict.fromkeys(texts)]
    out += [{"level": 4, "text": t} for t in dict.fromkeys(s for s in specific if s.strip())]
    return out
