"""Whole documents: pages streamed through a process pool, text layers kept when good.

Per-page API, for Prefect tasks that want one task per page:
- `page_refs(path)` checks a file and lists its pages (cheap, nothing decoded);
- `process_page(ref, options)` does one page: keeps a good PDF text layer, else rasterises or
  decodes the page and OCRs it; a failing page comes back with `OcrPage.error` set, not raised;
- `iter_pages(path)` yields decoded page images lazily and `ocr_page(image, number, options)`
  OCRs one of them, for callers that already hold pixels.
`ocr_document(path, options)` runs `process_page` over the pages in a process pool of
`options.jobs` workers (one Tesseract thread each) with at most two pages per worker in flight,
so a 500-page PDF never sits in memory. `read_page(ref, options)` is `process_page` in the shared
pool, for callers on threads (the intake flow).

In a pool a page is bounded as a whole: decoding and rasterising run in C code that no exception
interrupts, so a page still running `page_timeout + page_grace` seconds after it started has its
worker process stopped (pebble replaces it; the other pages go on) and comes back failed.
"""

from __future__ import annotations

import atexit
import logging
import multiprocessing
import os
import threading
import time
from collections import deque
from collections.abc import Iterator
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from pebble import ProcessExpired, ProcessPool

from extractors.ocr.cleanup import CleanupOptions
from extractors.ocr.engine import PageTimeoutError
from extractors.ocr.model import OcrPage, OcrResult
from extractors.ocr.pipeline import recognise_page
from extractors.ocr.sources import PageRef, iter_pages, load_page, page_refs
from extractors.ocr.textlayer import text_layer_page
from motcua.errors import BadArgumentError, InputFileError, MotcuaError
from motcua.inputs import HINT_RESCAN

log = logging.getLogger("extractors.ocr")

__all__ = [
    "OcrOptions",
    "iter_pages",
    "new_pool",
    "ocr_document",
    "ocr_page",
    "page_refs",
    "process_page",
    "read_page",
]


@dataclass(frozen=True)
class OcrOptions:
    """How documents are read. `jobs=0` means one worker per CPU core. `page_timeout` (seconds,
    0 = none) bounds each Tesseract run of a page (OCR, orientation): Tesseract is killed and the
    page reported in `OcrPage.error`. Read in a pool, the whole page (decoding and rasterising
    included) is bounded by `page_timeout + page_grace`."""

    lang: str = "vie"
    jobs: int = 0
    page_timeout: float = 120.0
    page_grace: float = 5.0
    psm: int = 3
    cleanup: CleanupOptions = field(default_factory=CleanupOptions)
    orientation: bool = True
    keep_text_layer: bool = True
    debug_images: Path | None = None

    def workers(self) -> int:
        if self.jobs < 0:
            raise BadArgumentError("--jobs phải là 0 (mỗi lõi một tiến trình) hoặc lớn hơn")
        return self.jobs or (os.cpu_count() or 1)


def ocr_page(
    image: np.ndarray[Any, Any], page_number: int, options: OcrOptions, *, dpi: float = 300
) -> OcrPage:
    """OCR one decoded page image with `options` (clean-up, orientation, reading order)."""
    debug = options.debug_images / f"p{page_number:04d}" if options.debug_images else None
    return recognise_page(
        image,
        page_number=page_number,
        dpi=dpi,
        lang=options.lang,
        psm=options.psm,
        timeout=options.page_timeout,
        cleanup=options.cleanup,
        orientation=options.orientation,
        debug_dir=debug,
    )


def _failed(ref: PageRef, reason: str) -> OcrPage:
    return OcrPage(number=ref.number, text="", confidence=0.0, width=0, height=0, error=reason)


def process_page(ref: PageRef, options: OcrOptions) -> OcrPage:
    """One page of a file: its good text layer, or OCR. Errors come back in `OcrPage.error`."""
    return _attempt(ref, options)[0]


def _attempt(ref: PageRef, options: OcrOptions) -> tuple[OcrPage, str | None]:
    """(page, reason the page could not even be decoded, if so)."""
    os.environ.setdefault("OMP_THREAD_LIMIT", "1")
    try:
        if ref.kind == "pdf" and options.keep_text_layer:
            page, judgement = text_layer_page(Path(ref.path), ref.index)
            if page is not None:
                return page, None
            if judgement.verdict == "bad":
                log.info("page %d: re-OCR, %s", ref.number, judgement.reason)
        source = load_page(ref)
        return ocr_page(source.image, ref.number, options, dpi=source.dpi), None
    except PageTimeoutError:
        return _failed(ref, f"nhận dạng quá {options.page_timeout:g} s (OCR timeout)"), None
    except InputFileError as exc:
        return _failed(ref, exc.reason), exc.reason
    except MotcuaError:
        raise
    except Exception as exc:  # a damaged page must not sink the document
        log.warning("page %d failed: %s", ref.number, type(exc).__name__)
        return _failed(ref, f"{type(exc).__name__}: {exc}"), None


def _deadline(options: OcrOptions) -> float | None:
    return options.page_timeout + options.page_grace if options.page_timeout > 0 else None


def _outcome(
    future: Future[tuple[OcrPage, str | None]], ref: PageRef, options: OcrOptions
) -> tuple[OcrPage, str | None]:
    """A pooled page's result; a worker stopped for time or lost (killed for memory) fails the
    page only."""
    try:
        return future.result()
    except FutureTimeout:
        limit = _deadline(options) or 0.0
        log.warning("page %d outlasted %.0f s: its worker was stopped", ref.number, limit)
        reason = (
            f"đọc trang quá {limit:g} s nên đã dừng (giới hạn mỗi trang: "
            f"MOTCUA_OCR_PAGE_TIMEOUT hoặc --timeout, cộng {options.page_grace:g} s)"
        )
        return _failed(ref, reason), None
    except ProcessExpired as exc:
        log.warning("page %d: its worker died (exit %s)", ref.number, exc.exitcode)
        return _failed(ref, "tiến trình đọc trang dừng đột ngột (có thể do thiếu bộ nhớ)"), None


def _pages(
    refs: list[PageRef], options: OcrOptions, pool: ProcessPool | None
) -> Iterator[tuple[OcrPage, str | None]]:
    if pool is None:
        for ref in refs:
            yield _attempt(ref, options)
        return
    window = 2 * options.workers()
    pending: deque[tuple[PageRef, Future[tuple[OcrPage, str | None]]]] = deque()
    for ref in refs:
        pending.append((ref, pool.schedule(_attempt, (ref, options), timeout=_deadline(options))))
        if len(pending) >= window:
            done, future = pending.popleft()
            yield _outcome(future, done, options)
    while pending:
        done, future = pending.popleft()
        yield _outcome(future, done, options)


def ocr_document(
    path: Path | str,
    options: OcrOptions | None = None,
    *,
    pool: ProcessPool | None = None,
) -> OcrResult:
    """OCR every page of an image or PDF file.

    Raises `InputFileError` for a file that cannot be read at all (a one-page file whose page
    cannot be decoded included); pages that fail are listed in `OcrResult.warnings` and carry
    `OcrPage.error`. Pass `pool` to share one process pool across files (the CLI does);
    otherwise the process's shared pool is used (pages read in this process only where no child
    process may be started, or with no time limit)."""
    options = options or OcrOptions()
    started = time.monotonic()
    refs = page_refs(path)
    if pool is None and _pooled(options):
        pool = _shared_pool()
    attempts = list(_pages(refs, options, pool))
    if len(attempts) == 1 and attempts[0][1]:  # a one-page file that cannot be decoded at all
        raise InputFileError(path, attempts[0][1], hint=HINT_RESCAN)
    pages = tuple(page for page, _ in attempts)
    warnings = tuple(f"trang {p.number}: {p.error}" for p in pages if p.error)
    return OcrResult(str(path), pages, time.monotonic() - started, warnings)


def read_page(ref: PageRef, options: OcrOptions) -> OcrPage:
    """`process_page` in the shared pool, bounded as a whole; for callers running pages on
    threads (the intake flow)."""
    if not _pooled(options):
        return process_page(ref, options)
    future = _shared_pool().schedule(_attempt, (ref, options), timeout=_deadline(options))
    return _outcome(future, ref, options)[0]


# Workers are started by a fork server: forking a process that runs threads (the web server, a
# Prefect flow) can copy a held lock into the child.
_CONTEXT = multiprocessing.get_context("forkserver")
_shared: ProcessPool | None = None
_shared_lock = threading.Lock()


def new_pool(options: OcrOptions) -> ProcessPool:
    """A process pool sized for `options`, to share across several `ocr_document` calls."""
    os.environ.setdefault("OMP_THREAD_LIMIT", "1")
    return ProcessPool(max_workers=options.workers(), context=_CONTEXT)


def _pooled(options: OcrOptions) -> bool:
    """Whether pages go to worker processes: only with a time limit, and never from a daemonic
    process (a Dask worker), which may not start children."""
    return options.page_timeout > 0 and not multiprocessing.current_process().daemon


def _shared_pool() -> ProcessPool:
    """One pool per process (one worker per core), made on first use, stopped at exit."""
    global _shared
    with _shared_lock:
        if _shared is None or not _shared.active:
            _shared = new_pool(OcrOptions())
            atexit.register(_shared.stop)
        return _shared
