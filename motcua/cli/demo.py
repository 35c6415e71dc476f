"""`motcua demo`: a birth-registration dossier from scan to signed, archived, found and verified.

With nothing configured it generates sample scans (a declaration and a photographed ID card),
starts the embedded object store and the TEST trust services, takes the dossier in, issues and
signs the result at B-LTA with a TEST PKI, archives it, finds it by the child's name typed
without diacritics, verifies it, and prints a short summary.
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

import click

from motcua.cli import AppContext
from motcua.errors import CheckFailedError
from motcua.types import vn_date


def _sample_scans(folder: Path, seed: int) -> tuple[list[Path], dict[str, Any]]:
    """A declaration scan and an ID-card photo of the same requester, with their ground truth."""
    import cv2

    from samples.documents import make_card, make_declaration

    folder.mkdir(parents=True, exist_ok=True)
    declaration = make_declaration(seed, "scanned")
    card = make_card(seed + 1, "clean")
    paths = [folder / "to-khai-khai-sinh.jpg", folder / "cccd-nguoi-yeu-cau.jpg"]
    cv2.imwrite(str(paths[0]), declaration.image, [cv2.IMWRITE_JPEG_QUALITY, 90])
    cv2.imwrite(str(paths[1]), card.image, [cv2.IMWRITE_JPEG_QUALITY, 90])
    return paths, dict(declaration.truth)


@click.command("demo")
@click.option("--seed", default=7, show_default=True, help="Which sample citizen to generate.")
@click.pass_obj
def demo(app: AppContext, seed: int) -> None:
    """Run the whole pipeline on sample scans with embedded services (no set-up needed)."""
    from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    from motcua.cli.intake import prepare_flows
    from motcua.types import fold

    settings = app.settings
    prepare_flows(app)
    work = settings.home / "demo"
    started = time.monotonic()
    lines: list[str] = []
    steps = [
        "tạo ảnh quét mẫu",
        "khởi động kho lưu trữ",
        "tiếp nhận hồ sơ",
        "khởi động dịch vụ tin cậy (TSA/OCSP thử nghiệm)",
        "ký số kết quả (B-LTA)",
        "tìm kiếm không dấu",
        "kiểm tra lưu trữ và chữ ký",
    ]
    with Progress(
        SpinnerColumn(),
        TextColumn("[progress.description]{task.description}"),
        TimeElapsedColumn(),
        console=app.err,
        transient=True,
    ) as progress:
        bar = progress.add_task(steps[0], total=len(steps))

        def step(i: int) -> None:
            progress.update(bar, completed=i, description=f"{i + 1}/{len(steps)} {steps[i]}")

        step(0)
        files, truth = _sample_scans(work / "scans", seed)

        step(1)
        from motcua.services import s3_config

        endpoint = s3_config(settings).endpoint
        lines.append(
            f"kho lưu trữ S3      {endpoint} ({'nhúng' if settings.embedded_s3 else 'ngoài'})"
        )

        step(2)
        from flows.intake import intake_dossier

        intake = intake_dossier([str(f) for f in files], "dang-ky-khai-sinh")
        code = intake["dossier_code"]
        lines.append(f"mã hồ sơ            {code} ({'mới' if intake['created'] else 'đã có'})")
        lines.append(f"hẹn trả kết quả     {vn_date(intake['due_date'])}")
        lines.append(f"giấy tiếp nhận      {intake['receipt_pdf']}")
        for doc in intake["documents"]:
            review = sum(1 for f in doc["fields"].values() if f.get("needs_review"))
            lines.append(
                f"  {Path(doc['path']).name}: {doc['kind']}, {len(doc['fields'])} trường, "
                f"{review} cần kiểm tra"
            )
        if intake["missing_components"]:
            raise CheckFailedError(
                "the demo dossier was judged incomplete: " + ", ".join(intake["missing_components"])
            )

        step(3)
        from signing import testpki
        from signing.trust_services import start_background

        pki_dir = work / "pki-thu-nghiem"
        pki = testpki.load(pki_dir) if (pki_dir / "certs").is_dir() else testpki.init(pki_dir)
        start_background(pki)
        os.environ.setdefault("MOTCUA_P12_PASSWORD", pki.p12_password)

        step(4)
        from flows.context import current_office
        from flows.result import issue_result
        from flows.signing_keys import SigningSetup

        dossier = current_office().register.get(code)
        if dossier.status.value in ("result_signed", "returned"):
            result_pdf = current_office().dossier_dir(code) / "ket-qua-da-ky.pdf"
            lines.append(f"kết quả đã ký       {result_pdf} (đã ký trước đó)")
        else:
            issued = issue_result(code, SigningSetup.from_test_pki(pki_dir))
            result_pdf = Path(issued["result_pdf"])
            lines.append(f"kết quả đã ký       {result_pdf} ({issued['level']})")

        step(5)
        from motcua.services import archive as build_archive
        from storage.catalogue import SearchQuery

        archive = build_archive(settings)
        child = str(truth["khai_sinh.ho_ten"])
        query = fold(child)
        hits = archive.search(SearchQuery(text=query, dossier_code=code))
        if not hits:
            raise CheckFailedError(f"the archive did not find dossier {code} by {query!r}")
        lines.append(f"tìm '{query}'   {len(hits)} bản ghi, đầu tiên: {hits[0].title}")

        step(6)
        from signing import verify_pdf

        report = verify_pdf(result_pdf, trust=[pki.root_cert])
        audits = [archive.verify(hit.record_id) for hit in hits]
        problems = [finding for audit in audits for finding in audit.findings]
        lines.append(
            f"chữ ký               {'hợp lệ' if report.ok else 'KHÔNG hợp lệ'}, "
            f"{'đủ' if report.complete else 'THIẾU'} chữ ký lãnh đạo và cơ quan"
        )
        lines.append(
            f"kiểm tra lưu trữ     {len(audits)} bản ghi, "
            f"{'không có lỗi' if not problems else f'{len(problems)} lỗi'}"
        )
        progress.update(bar, completed=len(steps))

    click.echo("\n".join(lines))
    click.echo(f"hoàn tất trong {time.monotonic() - started:.0f} s")
    click.echo(
        "dịch vụ nền vẫn chạy: dừng bằng `motcua services down` và "
        f"`motcua trust-services down --pki {pki_dir}`"
    )
    if not (report.ok and report.complete) or problems:
        raise CheckFailedError("the demo found a problem (see above)")


commands = [demo]
