"""A sample issued result (a 2-page Decision) for tests, benchmarks and the demo, with reportlab.

The last page ends with the signer's title and name block, where the leader's signature goes.
"""

from __future__ import annotations

from io import BytesIO
from pathlib import Path

from motcua.types import nfc
from signing.images import font_path

SAMPLE_SIGNER = "Nguyễn Văn An"


def result_pdf(pages: int = 2, signer_name: str = SAMPLE_SIGNER) -> bytes:
    """A Decree 30/2020-style Decision of `pages` pages (A4), Vietnamese text embedded."""
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont
    from reportlab.pdfgen import canvas

    pdfmetrics.registerFont(TTFont("LiberationSerif", str(font_path())))
    pdfmetrics.registerFont(TTFont("LiberationSerif-Bold", str(font_path(bold=True))))
    buffer = BytesIO()
    pdf = canvas.Canvas(buffer, pagesize=A4)
    width, height = A4
    for number in range(1, pages + 1):
        if number == 1:
            pdf.setFont("LiberationSerif-Bold", 12)
            pdf.drawCentredString(150, height - 60, nfc("ỦY BAN NHÂN DÂN"))
            pdf.drawCentredString(150, height - 75, nfc("XÃ HÒA PHÚ"))
            pdf.drawCentredString(
                width - 170, height - 100, nfc("CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM")
            )
            pdf.drawCentredString(width - 170, height - 115, nfc("Độc lập - Tự do - Hạnh phúc"))
            pdf.setFont("LiberationSerif", 12)
            pdf.drawCentredString(150, height - 95, nfc("Số: 125/QĐ-UBND"))
            pdf.setFont("LiberationSerif-Bold", 14)
            pdf.drawCentredString(width / 2, height - 170, nfc("QUYẾT ĐỊNH"))
        pdf.setFont("LiberationSerif", 12)
        top = height - 210 if number == 1 else height - 80
        for line in range(18):
            pdf.drawString(
                70,
                top - line * 18,
                nfc(f"Điều {line + 1}. Nội dung quyết định trang {number}, dòng {line + 1}."),
            )
        if number == pages:
            pdf.setFont("LiberationSerif-Bold", 12)
            pdf.drawCentredString(width - 160, 250, nfc("CHỦ TỊCH"))
            pdf.drawCentredString(width - 160, 120, nfc(signer_name))
            pdf.setFont("LiberationSerif", 11)
            pdf.drawString(70, 250, nfc("Nơi nhận:"))
        pdf.showPage()
    pdf.save()
    return buffer.getvalue()


def write_result_pdf(path: Path, pages: int = 2, signer_name: str = SAMPLE_SIGNER) -> Path:
    path.write_bytes(result_pdf(pages, signer_name))
    return path
