"""The evaluation page: one row per image, links relative to the page, names escaped."""

import re
from pathlib import Path

from unpaired.evaluation.html import write_html


def test_rows_link_the_images_relative_to_the_page_in_column_order(tmp_path: Path):
    images = tmp_path / "images"
    rows = [
        {
            "input (A)": images / "real_A" / f"{name}.png",
            "translation (B)": images / "fake_B" / f"{name}.png",
            "reconstruction (A)": images / "rec_A" / f"{name}.png",
        }
        for name in ("0001", "0002")
    ]
    page = tmp_path / "index.html"
    write_html(page, "h2z <run>", {"A → B": rows}, width=256)
    text = page.read_text()
    assert re.findall(r"<img src='([^']+)'", text) == [
        f"images/{column}/{name}.png"
        for name in ("0001", "0002")
        for column in ("real_A", "fake_B", "rec_A")
    ]
    assert text.count("<tr>") == 2
    assert "<h2>A → B</h2>" in text
    assert "h2z &lt;run&gt;" in text and "<run>" not in text
    assert "width:256px" in text


def test_images_outside_the_page_folder_keep_their_path(tmp_path: Path):
    outside = Path("/elsewhere/x.png")
    page = tmp_path / "index.html"
    write_html(page, "t", {"A → B": [{"input (A)": outside}]}, width=64)
    assert "src='/elsewhere/x.png'" in page.read_text()
