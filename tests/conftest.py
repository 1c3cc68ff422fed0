"""Shared test setup: offline, and every artefact under a per-session temporary home."""

from __future__ import annotations

import os

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")


@pytest.fixture(scope="session", autouse=True)
def _audiotext_home(tmp_path_factory: pytest.TempPathFactory):
    """Point AUDIOTEXT_HOME at a session folder so tests never touch the user's cache.

    A user-provided AUDIOTEXT_PACKAGES (downloaded .deb/.whl cache) is kept, so package
    downloads are not repeated across runs on one machine.
    """
    old = os.environ.get("AUDIOTEXT_HOME")
    os.environ["AUDIOTEXT_HOME"] = str(tmp_path_factory.mktemp("audiotext_home"))
    yield
    if old is None:
        os.environ.pop("AUDIOTEXT_HOME", None)
    else:
        os.environ["AUDIOTEXT_HOME"] = old
