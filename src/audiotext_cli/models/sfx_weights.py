"""The aisfx weights: found in the installed wheel, hash-checked, converted once to safetensors.

The wheel (`pip install --no-deps aisfx==0.1.2`; its own pins on numpy 1.23 and librosa
0.9.2 must not be installed) ships `aisfx/models/checkpoint.pth`, a pickled tuple
`(state_dict, ds_dict)`. It is opened once with `torch.load(weights_only=True)` and an
allowlist of exactly the numpy scalar types `ds_dict` holds, never `weights_only=False`,
after its sha256 matched the published one; then it is written as safetensors under
`$AUDIOTEXT_HOME/towers/`, which is all that is read afterwards. The aisfx package itself
is never imported (its `__init__` pulls in librosa).

Licence: the wheel's metadata says MIT; the repository's LICENSE (alisonbma/aisfx) says
CC BY 4.0. Attribution: A. B. Ma and A. Lerch, "Representation Learning for the Automatic
Indexing of Sound Effects Libraries", ISMIR 2022.
"""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import numpy as np
import torch
from safetensors import SafetensorError, safe_open
from safetensors.torch import save_file

from audiotext_cli.atomic import write_atomic
from audiotext_cli.errors import CheckpointError
from audiotext_cli.hashing import file_sha256
from audiotext_cli.models.sfx_cnn import remap_state
from audiotext_cli.paths import cache_dir

AISFX_VERSION = "0.1.2"
AISFX_SHA256 = "499ea75909c932a2f94c35fa722fa4fabc5bcb7e84917209cc5f7402627b7eb5"
ATTRIBUTION = (
    "aisfx 0.1.2 (A. B. Ma and A. Lerch, 'Representation Learning for the Automatic "
    "Indexing of Sound Effects Libraries', ISMIR 2022); wheel licence MIT, repository "
    "licence CC BY 4.0"
)
INSTALL_HINT = f"run `make setup` (pip install --no-deps aisfx=={AISFX_VERSION})"


def wheel_checkpoint() -> Path:
    """Path of `checkpoint.pth` inside the installed aisfx wheel (the package is not imported)."""
    spec = importlib.util.find_spec("aisfx")
    if spec is None or not spec.submodule_search_locations:
        raise CheckpointError(f"the aisfx tower needs the aisfx wheel: {INSTALL_HINT}")
    path = Path(next(iter(spec.submodule_search_locations))) / "models" / "checkpoint.pth"
    if not path.is_file():
        raise CheckpointError(f"aisfx wheel has no models/checkpoint.pth: {INSTALL_HINT}", path)
    return path


def _read_wheel_checkpoint(path: Path) -> tuple[dict[str, torch.Tensor], dict]:
    digest = file_sha256(path)
    if digest != AISFX_SHA256:
        raise CheckpointError(
            f"sha256 {digest[:16]}... is not aisfx {AISFX_VERSION}'s ({AISFX_SHA256[:16]}...): "
            f"the file was changed; reinstall it ({INSTALL_HINT})",
            path,
        )
    allowed = [
        (np._core.multiarray.scalar, "numpy.core.multiarray.scalar"),
        np.dtype,
        np.dtypes.Int64DType,
    ]
    try:
        with torch.serialization.safe_globals(allowed):
            state, ds_dict = torch.load(path, weights_only=True, map_location="cpu")
    except Exception as exc:  # a refused global or a damaged pickle: never unpickle further
        raise CheckpointError(f"cannot read the aisfx checkpoint safely ({exc})", path) from None
    return state, {name: [int(i), int(n)] for name, (i, n) in ds_dict.items()}


def aisfx_weights() -> Path:
    """The converted safetensors file (made on first use; later uses read only it)."""
    out = cache_dir("towers") / f"aisfx-{AISFX_SHA256[:12]}.safetensors"
    if out.is_file():
        return out
    state, ds_dict = _read_wheel_checkpoint(wheel_checkpoint())
    net, heads = remap_state(state)
    tensors = {f"net.{k}": v for k, v in net.items()}
    tensors.update({f"classifiers.{k}": v for k, v in heads.items()})
    tensors = {k: v.contiguous() for k, v in tensors.items()}
    meta = {"source_sha256": AISFX_SHA256, "datasets": json.dumps(ds_dict)}
    write_atomic(out, lambda p: save_file(tensors, str(p), metadata=meta))
    return out


def load_aisfx() -> tuple[dict[str, torch.Tensor], dict[str, torch.Tensor], dict[str, list[int]]]:
    """(network state, classifier-head state, dataset -> [head index, n classes])."""
    path = aisfx_weights()
    try:
        with safe_open(str(path), framework="pt") as f:
            meta = f.metadata() or {}
            tensors = {k: f.get_tensor(k) for k in f.keys()}  # noqa: SIM118 (safe_open API)
    except (SafetensorError, OSError) as exc:
        raise CheckpointError(f"corrupt converted aisfx weights ({exc}); delete it", path) from None
    if meta.get("source_sha256") != AISFX_SHA256:
        raise CheckpointError("converted aisfx weights from another source; delete it", path)
    net = {k.removeprefix("net."): v for k, v in tensors.items() if k.startswith("net.")}
    heads = {
        k.removeprefix("classifiers."): v
        for k, v in tensors.items()
        if k.startswith("classifiers.")
    }
    return net, heads, json.loads(meta["datasets"])
