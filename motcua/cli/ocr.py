"""`motcua ocr FILE...`: Vietnamese text (or JSON Lines) and searchable PDFs from scans and PDFs.

Several files are read at once: each file's pages go to one shared process pool (a worker per
core), and up to two files per worker are in flight, so a batch of one-page files keeps every
core busy instead of reading the files one after another. Results are printed in the order the
files were given, each file's error as soon as its turn comes.
"""

from __future__ import annotations

import json
from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING

import click

from motcua.cli import AppContext
from motcua.cli.batch import Batch
from motcua.errors import BadArgumentError

if TYPE_CHECKING:
    from extractors.ocr import OcrResult


def _pdf_target(pdf: Path, source: Path, many: bool) -> Path:
    if many:
        return pdf / f"{source.stem}.ocr.pdf"
    return pdf


@click.command("ocr")
@click.argument("files", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="One JSON object per input file per line.")
@click.option("--lang", default="vie", show_default=True, help="Tesseract languages, e.g. vie+eng.")
@click.option(
    "--pdf",
    "pdf",
    type=click.Path(path_type=Path),
    default=None,
    help="Write a searchable PDF (with several FILEs: a folder, one PDF per input).",
)
@click.option("--jobs", default=0, show_default=True, help="Worker processes (0: one per core).")
@click.option("--timeout", default=120.0, show_default=True, help="Seconds allowed per page.")
@click.option(
    "--debug-images",
    type=click.Path(path_type=Path, file_okay=False),
    default=None,
    help="Write each clean-up stage's image to this folder.",
)
@click.option("--no-cleanup", is_flag=True, help="Give Tesseract the page images as they are.")
@click.pass_obj
def ocr(
    app: AppContext,
    files: tuple[Path, ...],
    as_json: bool,
    lang: str,
    pdf: Path | None,
    jobs: int,
    timeout: float,
    debug_images: Path | None,
    no_cleanup: bool,
) -> None:
    """OCR scans, photos and PDFs; pages are separated by form feeds."""
    from extractors.ocr import NO_CLEANUP, CleanupOptions, OcrOptions, ocr_document
    from extractors.ocr.document import new_pool
    from extractors.ocr.searchable import write_searchable_pdf

    many = len(files) > 1
    if pdf is not None and many:
        if pdf.suffix.lower() == ".pdf":
            raise BadArgumentError(
                "--pdf OUT.pdf chỉ nhận một tệp đầu vào (one input file)",
                hint="với nhiều tệp, cho --pdf một thư mục: mỗi tệp một PDF",
            )
        pdf.mkdir(parents=True, exist_ok=True)
    if jobs < 0:
        raise BadArgumentError("--jobs phải là 0 (mỗi lõi một tiến trình) hoặc lớn hơn")
    options = OcrOptions(
        lang=lang,
        jobs=jobs,
        page_timeout=timeout,
        cleanup=NO_CLEANUP if no_cleanup else CleanupOptions(),
        orientation=not no_cleanup,
        debug_images=debug_images,
    )
    batch = Batch(app, "ocr", as_json=as_json)
    # pages are read in worker processes (also with --jobs 1): a page that outlasts its time
    # limit, or whose worker dies, fails alone and the batch goes on
    pool = new_pool(options)

    def one(path: Path) -> OcrResult:
        result = ocr_document(path, options, pool=pool)
        if pdf is not None:
            write_searchable_pdf(path, result, _pdf_target(pdf, path, many))
        return result

    shown = 0

    def report(path: Path, future: Future[OcrResult]) -> None:
        nonlocal shown
        result = batch.run(path, future.result)
        if result is None:
            return
        for warning in result.warnings:
            batch.say(f"{path}: {warning}")
        if result.warnings:
            batch.failed += 1
        if as_json:
            click.echo(json.dumps(result.as_json(), ensure_ascii=False))
        else:
            if shown:
                click.echo("\f", nl=False)
            click.echo(result.text)
            shown += 1

    in_flight = 2 * options.workers() if many else 1
    readers = ThreadPoolExecutor(max_workers=in_flight, thread_name_prefix="motcua-ocr-file")
    pending: deque[tuple[Path, Future[OcrResult]]] = deque()
    try:
        for path in files:
            pending.append((path, readers.submit(one, path)))
            if len(pending) >= in_flight:
                report(*pending.popleft())
        while pending:
            report(*pending.popleft())
    finally:
        readers.shutdown(wait=False, cancel_futures=True)
        pool.stop()  # type: ignore[no-untyped-call]  # pebble leaves it unannotated
        pool.join()
        readers.shutdown(wait=True)
    batch.finish()


commands = [ocr]
