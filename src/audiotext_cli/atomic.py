"""Atomic writes: a file appears whole or not at all, so a killed job never leaves half a file."""

from __future__ import annotations

import json
import os
import secrets
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any


def write_atomic(path: str | Path, writer: Callable[[Path], None]) -> Path:
    """Call `writer(tmp_path)` then rename onto `path` (same folder, so the rename is atomic)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    tmp_path = Path(tmp)
    try:
        writer(tmp_path)
        os.chmod(tmp_path, 0o666 & ~_umask())  # mkstemp makes 0600; give the usual mode
        os.replace(tmp_path, path)
    finally:
        tmp_path.unlink(missing_ok=True)
    return path


def write_bytes_atomic(path: str | Path, data: bytes) -> Path:
    """`write_atomic` of bytes already in memory, in four system calls where the folder
    exists (a feature cache writes one small file per clip; `write_atomic` takes about
    ten): the temp file is created with the usual mode (0666 less the umask), no chmod."""
    path = Path(path)
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(6)}.tmp")
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL
    try:
        fd = os.open(tmp, flags, 0o666)
    except FileNotFoundError:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(tmp, flags, 0o666)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return path


def remove_temp_files(folder: str | Path, *, recursive: bool = False) -> int:
    """Delete the temp files killed writers left (`.NAME.XXXX.tmp`); returns how many.
    Call it only under the folder's writer lock, so no live writer's temp file goes."""
    folder = Path(folder)
    found = folder.rglob(".*.tmp") if recursive else folder.glob(".*.tmp")
    removed = 0
    for tmp in found:
        if tmp.is_file() and not tmp.is_symlink():
            tmp.unlink(missing_ok=True)
            removed += 1
    return removed


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def write_text_atomic(path: str | Path, text: str) -> Path:
    return write_atomic(path, lambda p: p.write_text(text, encoding="utf-8"))


def utf8_json(obj: Any, *, sort_keys: bool = False) -> str:
    """JSON that encodes as UTF-8: readable text, but a file name that is not valid UTF-8
    (its undecodable bytes are lone surrogates, PEP 383) is written with \\u escapes, which
    read back to the same str."""
    text = json.dumps(obj, ensure_ascii=False, sort_keys=sort_keys)
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        text = json.dumps(obj, ensure_ascii=True, sort_keys=sort_keys)
    return text


def write_json_atomic(path: str | Path, obj: Any) -> Path:
    return write_text_atomic(path, json.dumps(obj, indent=2, sort_keys=True) + "\n")
