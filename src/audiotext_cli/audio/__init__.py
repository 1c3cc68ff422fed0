"""Audio front end: decode any file to 16 kHz mono windows (`io`), then log-mel (`features`).

`features` imports torch, so it is not imported here: `from audiotext_cli.audio import
load_audio` stays cheap for the CLI.
"""

from audiotext_cli.audio.io import (
    TARGET_SR,
    WINDOW_SECONDS,
    AudioInfo,
    frame_windows,
    iter_blocks,
    iter_file_windows,
    load_audio,
    probe,
    resample,
    verify,
)

__all__ = [
    "TARGET_SR",
    "WINDOW_SECONDS",
    "AudioInfo",
    "frame_windows",
    "iter_blocks",
    "iter_file_windows",
    "load_audio",
    "probe",
    "resample",
    "verify",
]
