"""Reading order: the two-column header block by block, multi-column text column by column."""

from __future__ import annotations

from ocr_compare import cer, normalise

from extractors.ocr import ocr_image
from extractors.ocr.engine import EngineWord
from extractors.ocr.layout import ordered_words
from samples.pages import Page, render_columns


def _line(words: list[tuple[str, int]], top: int, key: tuple[int, int, int]) -> list[EngineWord]:
    """Words at x positions on one line, 40 px high, 20 px per character."""
    return [EngineWord(text, (x, top, x + 20 * len(text), top + 40), 0.9, key) for text, x in words]


def test_a_header_line_run_across_both_columns_is_read_block_by_block() -> None:
    # what Tesseract does on many scans: one "line" from the left block to the right block
    words = (
        _line([("UBND", 100), ("TỈNH", 200), ("CỘNG", 1200), ("HÒA", 1300)], 100, (1, 1, 1))
        + _line(
            [("SỞ", 140), ("NỘI", 200), ("VỤ", 280), ("Độc", 1250), ("lập", 1330)], 160, (1, 1, 2)
        )
        + _line([("Số:", 120), ("12/SNV", 200), ("Huế,", 1180), ("ngày", 1280)], 220, (1, 1, 3))
        + _line([("QUYẾT", 600), ("ĐỊNH", 740)], 400, (2, 1, 1))
        + _line(
            [("Căn", 100), ("cứ", 180), ("Luật", 240), ("Tổ", 340), ("chức", 400)], 480, (3, 1, 1)
        )
        + _line([("chính", 100), ("quyền", 230), ("địa", 370), ("phương", 440)], 540, (3, 1, 2))
    )
    ordered, text = ordered_words(words)
    assert text.split("\n") == [
        "UBND TỈNH",
        "SỞ NỘI VỤ",
        "Số: 12/SNV",
        "CỘNG HÒA",
        "Độc lập",
        "Huế, ngày",
        "QUYẾT ĐỊNH",
        "Căn cứ Luật Tổ chức",
        "chính quyền địa phương",
    ]
    assert [w.text for w in ordered][:3] == ["UBND", "TỈNH", "SỞ"]
    assert ordered[0].block == ordered[6].block != ordered[7].block  # left block, right block
    assert ordered[7].block == ordered[12].block != ordered[13].block  # right block, the body
    assert [w.line for w in ordered] == sorted(w.line for w in ordered)


def test_two_columns_merged_line_by_line_are_read_column_by_column() -> None:
    words: list[EngineWord] = []
    for row in range(5):
        top = 100 + row * 60
        words += _line([(f"trái{row}", 100), ("a", 260)], top, (1, 1, row + 1))
        words += _line([(f"phải{row}", 1000), ("b", 1160)], top, (1, 1, row + 1))
    _, text = ordered_words(words)
    lines = text.split("\n")
    assert lines == [f"trái{i} a" for i in range(5)] + [f"phải{i} b" for i in range(5)]


def test_dirt_between_the_header_columns_does_not_join_them() -> None:
    words = _line(
        [("UBND", 100), ("TỈNH", 200), ("_", 700), ("CỘNG", 1200), ("HÒA", 1300)], 100, (1, 1, 1)
    )
    words += _line([("SỞ", 140), ("Độc", 1250)], 160, (1, 1, 2))
    _, text = ordered_words(words)
    assert text.split("\n") == ["UBND TỈNH", "SỞ", "CỘNG HÒA", "Độc"]


def test_ocr_reads_an_official_header_block_by_block(header_page: Page) -> None:
    page = ocr_image(header_page.image)
    left, right = header_page.header_blocks
    text = normalise(page.text)
    positions = [text.find(normalise(line)) for line in (left + "\n" + right).split("\n")]
    assert -1 not in positions, page.text
    assert positions == sorted(positions)  # UBND, body, Số, CỘNG HÒA, Độc lập, date
    assert cer(header_page.text, page.text) <= 0.01


def test_ocr_reads_two_columns_column_by_column() -> None:
    columns = render_columns(3)
    page = ocr_image(columns.image)
    assert cer(columns.text, page.text) <= 0.02
    first_right = columns.text.split("\n")[len(columns.text.split("\n")) // 2]
    assert normalise(page.text).find(normalise(first_right)) > len(normalise(columns.text)) // 3
