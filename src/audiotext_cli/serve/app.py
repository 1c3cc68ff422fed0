"""The ASGI app: one static page and a read-only JSON API over one index (docs/serve.md).

Every error is a JSON object `{"error": "..."}` with a 4xx/5xx status, never an HTML page:
unknown or unservable ids are 404, bad parameters 400, uploads over the size limit 413,
a file the decoder rejects 422.
"""

from __future__ import annotations

import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

import numpy as np
from fastapi import Depends, FastAPI, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from pydantic import BaseModel, Field, StringConstraints
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException

from audiotext_cli.audio.io import load_audio, probe
from audiotext_cli.embedder import Embeddings
from audiotext_cli.errors import AudioError, AudiotextError
from audiotext_cli.index.search import RERANK_WEIGHT
from audiotext_cli.serve.catalog import MAX_DEPTH, MAX_K, Catalog, Criteria, NotServable
from audiotext_cli.serve.guard import COOKIE, LOOPBACK_NAMES, Guard
from audiotext_cli.serve.peaks import peaks

STATIC = Path(__file__).parent / "static"
MAX_QUERY_CHARS = 500
MAX_LABELS = 2000  # labels one tag request may send (the UCS list has 752)
MAX_TOP_LABELS = 50


@dataclass(frozen=True)
class Limits:
    """What an upload may be: bytes on the wire and seconds of audio."""

    upload_bytes: int = 50 << 20
    upload_seconds: float = 120.0


class TagRequest(BaseModel):
    """`POST /api/tag`'s body: the labels (default: the UCS categories) and how many to keep
    per file."""

    labels: list[Annotated[str, StringConstraints(max_length=MAX_QUERY_CHARS)]] | None = Field(
        None, max_length=MAX_LABELS
    )
    top: int = Field(3, ge=1, le=MAX_TOP_LABELS)


class ApiError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status, self.message = status, message


def paging(
    k: int = Query(10, ge=1, le=MAX_K), offset: int = Query(0, ge=0, le=MAX_DEPTH)
) -> tuple[int, int]:
    if offset + k > MAX_DEPTH:
        raise ApiError(400, f"offset + k may not exceed {MAX_DEPTH}")
    return k, offset


def criteria(
    duration_min: float | None = Query(None, ge=0),
    duration_max: float | None = Query(None, ge=0),
    rate: int | None = Query(None, ge=1),
    folder: str | None = Query(None, max_length=MAX_QUERY_CHARS),
    filter: str | None = Query(None, max_length=MAX_QUERY_CHARS),  # noqa: A002 (API name)
    where: str | None = Query(None, max_length=MAX_QUERY_CHARS),
) -> Criteria:
    """The page's filter fields as one `--where` condition, plus the text filter and the
    folder prefix; a raw `where` is ANDed in, parsed alone first so that an error quotes
    what the client sent, not the combined condition."""
    from audiotext_cli.index.query import parse_where

    parts = [f"({parse_where(where).expr})"] if where and where.strip() else []
    if duration_min is not None:
        parts.append(f"duration>={duration_min!r}")
    if duration_max is not None:
        parts.append(f"duration<={duration_max!r}")
    if rate is not None:
        parts.append(f"sample_rate={rate}")
    return Criteria(" and ".join(parts) or None, (filter or "").strip() or None, folder)


def create_app(
    index_dir: str | Path,
    *,
    token: str | None = None,
    hosts: tuple[str, ...] = LOOPBACK_NAMES,
    limits: Limits = Limits(),  # noqa: B008 (frozen dataclass)
) -> FastAPI:
    """The app over `index_dir`; the index and its model load here, once.

    `token`: require it on every request (remote mode); `hosts`: the Host names accepted
    when no token is set (loopback mode)."""
    catalog = Catalog(index_dir)
    app = FastAPI(title="audiotext", docs_url=None, redoc_url=None, openapi_url=None)
    app.state.catalog = catalog
    _errors(app)

    def answer(
        query: Embeddings,
        page: tuple[int, int],
        chosen: Criteria,
        started: float,
        rerank_text: str | None = None,
        rerank_weight: float = RERANK_WEIGHT,
        **echo: Any,
    ) -> dict:
        k, offset = page
        rows = catalog.ranked(query, k, offset, chosen, rerank_text, rerank_weight)
        total = len(catalog.subset(chosen)) if chosen.active else len(catalog.index)
        return {
            "query": echo,
            "k": k,
            "offset": offset,
            "results": rows,
            "matching": total,
            "more": len(rows) == k and offset + k < min(MAX_DEPTH, total),
            "elapsed_ms": round((time.perf_counter() - started) * 1000, 2),
        }

    @app.get("/api/info")
    def info() -> dict:
        return catalog.info() | {
            "remote": token is not None,
            "limits": {
                "max_k": MAX_K,
                "max_depth": MAX_DEPTH,
                "upload_bytes": limits.upload_bytes,
                "upload_seconds": limits.upload_seconds,
            },
        }

    @app.get("/api/search")
    def search(
        q: str = Query(..., min_length=1, max_length=MAX_QUERY_CHARS),
        page=Depends(paging),
        chosen=Depends(criteria),
        rerank: bool = False,
        rerank_weight: float = Query(RERANK_WEIGHT, ge=0, le=1),
    ):
        started = time.perf_counter()
        if not q.strip():
            raise ApiError(400, "empty query")
        query = catalog.embed_text(q)
        return answer(query, page, chosen, started, q if rerank else None, rerank_weight, q=q)

    @app.get("/api/similar/{item_id:path}")
    def similar(item_id: str, page=Depends(paging), chosen=Depends(criteria)):
        started = time.perf_counter()
        return answer(catalog.stored(item_id), page, chosen, started, like=item_id)

    @app.post("/api/search/audio")
    async def search_audio(
        request: Request, name: str = "", page=Depends(paging), chosen=Depends(criteria)
    ):
        started = time.perf_counter()
        with tempfile.TemporaryDirectory(prefix="audiotext-upload-") as tmp:
            upload = Path(tmp) / f"upload{_suffix(name)}"
            await _receive(request, upload, limits.upload_bytes)
            wave = await run_in_threadpool(_decode, upload, catalog.model.sample_rate, limits)
        query = await run_in_threadpool(catalog.embed_wave, wave)
        return answer(query, page, chosen, started, upload=name or "upload")

    @app.post("/api/tag")
    def tag(body: TagRequest | None = None, page=Depends(paging), chosen=Depends(criteria)) -> dict:
        """Zero-shot tags of the files the filters select, in index order, a page at a
        time: the rows of `tag --format jsonl`."""
        from audiotext_cli.library.tag import clean_labels, read_labels

        started = time.perf_counter()
        body = body or TagRequest()
        labels = read_labels(None) if body.labels is None else clean_labels(body.labels)
        if not labels:
            raise ApiError(400, "no labels: send at least one non-blank label")
        k, offset = page
        selected = catalog.subset(chosen) if chosen.active else np.arange(len(catalog.index))
        return {
            "labels": len(labels),
            "top": min(body.top, len(labels)),
            "k": k,
            "offset": offset,
            "results": catalog.tagged(tuple(labels), body.top, selected[offset : offset + k]),
            "matching": len(selected),
            "more": offset + k < min(MAX_DEPTH, len(selected)),
            "elapsed_ms": round((time.perf_counter() - started) * 1000, 2),
        }

    @app.get("/api/audio/{item_id:path}")
    def audio(item_id: str, download: bool = False) -> FileResponse:
        path = catalog.file(item_id)
        disposition = "attachment" if download else "inline"
        return FileResponse(path, filename=path.name, content_disposition_type=disposition)

    @app.get("/api/peaks/{item_id:path}")
    def waveform(item_id: str) -> dict:
        row = catalog.row(item_id)
        return {"id": item_id} | peaks(catalog.file(item_id), row.get("sha256", ""))

    @app.get("/")
    def page(request: Request) -> Response:
        response = FileResponse(STATIC / "index.html", media_type="text/html")
        response.headers["cache-control"] = "no-store"
        if token is not None and request.query_params.get("token") == token:
            response.set_cookie(COOKIE, token, httponly=True, samesite="strict")
        return response

    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    app.add_middleware(Guard, token=token, hosts=hosts)  # type: ignore[arg-type]
    return app


def _suffix(name: str) -> str:
    """The upload's extension, for the decoder's format guess (nothing else of the name
    is used)."""
    suffix = Path(name).suffix.lower()
    return suffix if suffix[1:].isalnum() and len(suffix) <= 6 else ""


async def _receive(request: Request, target: Path, max_bytes: int) -> None:
    """Stream the request body to `target`, stopping at `max_bytes` (413)."""
    too_big = ApiError(413, f"upload larger than the limit of {max_bytes} bytes")
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > max_bytes:
        raise too_big
    size = 0
    with target.open("wb") as out:
        async for chunk in request.stream():
            size += len(chunk)
            if size > max_bytes:
                raise too_big
            out.write(chunk)
    if size == 0:
        raise ApiError(400, "empty upload: send the audio file as the request body")


def _decode(path: Path, sample_rate: int, limits: Limits):
    seconds = probe(path).duration
    if seconds > limits.upload_seconds:
        raise ApiError(
            400, f"audio is {seconds:.1f} s long; the limit is {limits.upload_seconds} s"
        )
    return load_audio(path, sample_rate)


def _errors(app: FastAPI) -> None:
    """Every failure becomes {"error": ...} JSON with a meaningful status."""

    def reply(status: int, message: str) -> JSONResponse:
        return JSONResponse({"error": message}, status_code=status)

    @app.exception_handler(ApiError)
    async def api_error(request: Request, exc: ApiError) -> JSONResponse:
        return reply(exc.status, exc.message)

    @app.exception_handler(NotServable)
    async def not_servable(request: Request, exc: NotServable) -> JSONResponse:
        return reply(404, str(exc))

    @app.exception_handler(AudioError)
    async def bad_audio(request: Request, exc: AudioError) -> JSONResponse:
        upload = request.url.path == "/api/search/audio"
        return reply(400 if upload else 422, exc.reason)

    @app.exception_handler(AudiotextError)
    async def domain_error(request: Request, exc: AudiotextError) -> JSONResponse:
        return reply(400, str(exc))

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        parts = [f"{'.'.join(map(str, e['loc'][1:]))}: {e['msg']}" for e in exc.errors()]
        return reply(400, "; ".join(parts) or "invalid request")

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, exc: HTTPException) -> JSONResponse:
        return reply(exc.status_code, str(exc.detail))

    @app.exception_handler(Exception)
    async def crash(request: Request, exc: Exception) -> JSONResponse:
        return reply(500, f"internal error: {type(exc).__name__}: {exc}")
