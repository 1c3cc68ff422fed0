"""Universal Category System file names: `CatID_FXName_CreatorID_SourceID[_UserData]`.

The CatID (optionally `CatID-UserCategory`) is looked up in the UCS 8.2.1 list shipped
beside this module (ucs-8.2.1-en.csv; provenance and licence in UCS-LICENSE.txt).
"""

from __future__ import annotations

import csv
from functools import lru_cache
from importlib.resources import files

UCS_VERSION = "8.2.1"
_FILE = f"ucs-{UCS_VERSION}-en.csv"


@lru_cache(maxsize=1)
def ucs_list() -> dict[str, dict[str, str]]:
    """CatID (lower case) -> {CatID, Category, SubCategory, Explanations}."""
    with files("audiotext_cli.library").joinpath(_FILE).open(encoding="utf-8", newline="") as fh:
        return {row["CatID"].lower(): row for row in csv.DictReader(fh)}


def parse_ucs_name(stem: str) -> dict[str, str] | None:
    """UCS fields of a file name stem, or None when its first block is not a known CatID."""
    blocks = stem.split("_")
    if len(blocks) < 2:
        return None
    catid, _, user_category = blocks[0].partition("-")
    entry = ucs_list().get(catid.lower())
    if entry is None:
        return None
    fields = {
        "catid": entry["CatID"],
        "category": entry["Category"],
        "subcategory": entry["SubCategory"],
        "category_full": f"{entry['Category']}-{entry['SubCategory']}",
        "user_category": user_category,
        "fx_name": blocks[1],
        "creator_id": blocks[2] if len(blocks) > 2 else "",
        "source_id": blocks[3] if len(blocks) > 3 else "",
        "user_data": "_".join(blocks[4:]),
    }
    return {k: v for k, v in fields.items() if v}


def ucs_labels() -> list[str]:
    """Default zero-shot labels for `tag`: 'category subcategory' of every UCS pair."""
    return [f"{e['Category'].lower()} {e['SubCategory'].lower()}" for e in ucs_list().values()]
