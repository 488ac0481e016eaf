"""The evaluation page: the numbers of results.json first, then one row per image, worst first,
linking images relative to the page, self-contained and small for thousands of images."""

import re
from pathlib import Path

from unpaired.evaluation.html import ImageRow, Section, write_page


def translation(source: str, target: str, n_images: int = 2000, **numbers) -> dict:
    return {
        "inputs": f"/e/images/real_{source}",
        "reference": f"/e/images/real_{target}",
        "reference_source": f"/data/test{target}",
        "n_translated": n_images,
        "n_reference": n_images,
        **numbers,
    }


def comparison_results() -> dict:
    """CycleGAN (both ways) against CUT (A -> B only), as results.json holds a comparison."""
    ground_truth = {"L1": 0.123456, "PSNR": 17.891, "SSIM": 0.61234}
    measured = dict(fid=41.2371, kid=0.0123456, kid_std=0.00101, kid_subset_size=1000)
    return {
        "models": [
            {
                "label": "CycleGAN",
                "checkpoint": "/runs/cyclegan/last.ckpt",
                "weights": "ema",
                "training": {"method": "CycleGAN", "preset": "cyclegan/synthetic", "epoch": 9},
                "AtoB": translation("A", "B", **measured, ground_truth=ground_truth),
                "BtoA": translation(
                    "B", "A", 2, fid=55.5, kid=0.5, kid_std=0.25, kid_subset_size=2
                ),
            },
            {
                "label": "CUT",
                "checkpoint": "/runs/cut/last.ckpt",
                "weights": "raw",
                "training": {"method": "CUT", "preset": None, "epoch": 4},
                "AtoB": translation(
                    "A",
                    "B",
                    fid=38.004,
                    kid=0.0101,
                    kid_std=0.002,
                    kid_subset_size=1000,
                    ground_truth={"L1": 0.2, "PSNR": 15.0, "SSIM": 0.5},
                ),
            },
        ],
        "protocol": {"date": "2026-11-30T19:00:00+00:00", "inception_weights": "/w.pth"},
    }


def rows(folder: Path, errors: list[float | None]) -> list[ImageRow]:
    return [
        ImageRow(
            name=f"{index:04d}",
            images=[
                folder / "images" / column / f"{index:04d}.png" for column in ("real_A", "fake_B")
            ],
            captions=["", f"L1 {error}"],
            error=error,
        )
        for index, error in enumerate(errors)
    ]


def test_the_metrics_table_shows_the_numbers_of_every_model_and_translation(
    tmp_path: Path, page_tables, assert_metrics_shown
):
    results = comparison_results()
    page = tmp_path / "index.html"
    write_page(page, "comparison", results, [])
    tables = page_tables(page)
    assert_metrics_shown(tables["metrics"], results)
    body = tables["metrics"][1:]
    assert [row[:2] for row in body] == [
        ["CycleGAN", "A → B"],
        ["CycleGAN", "B → A"],
        ["CUT", "A → B"],
    ]
    assert [row[0] for row in tables["models"][1:]] == ["CycleGAN", "CUT"]
    assert "cyclegan/synthetic" in tables["models"][1] and "ema" in tables["models"][1]
    text = page.read_text()
    assert "2026-11-30T19:00:00+00:00" in text and "/w.pth" in text  # the protocol


def test_a_kid_from_overlapping_subsets_is_flagged(tmp_path: Path):
    page = tmp_path / "index.html"
    write_page(page, "t", comparison_results(), [])
    warnings = re.findall(r"<p class='warning'>(.*?)</p>", page.read_text())
    assert len(warnings) == 1  # B -> A: subsets of 2 from 2 images; 1000 of 2000 are fine
    assert "CycleGAN B → A: " in warnings[0] and "subsets of 2 images from 2" in warnings[0]


def test_rows_are_worst_first_and_link_the_images_relative_to_the_page(tmp_path: Path, page_tables):
    page = tmp_path / "index.html"
    section = Section("A → B", ["input A", "fake B"], rows(tmp_path, [0.1, 0.3, 0.2]), "L1")
    write_page(page, "t", comparison_results(), [section])
    links = re.findall(r"<img src='([^']+)'", page.read_text())
    order = ["0001", "0002", "0000"]
    assert links == [
        f"images/{column}/{name}.png" for name in order for column in ("real_A", "fake_B")
    ]
    header, *body = page_tables(page)["images0"]
    assert header == ["image", "input A", "fake B"]
    assert [row[0] for row in body] == order and body[0][2] == "L1 0.3"
    assert "worst first, by L1" in page.read_text()


def test_rows_without_errors_keep_the_files_order(tmp_path: Path, page_tables):
    page = tmp_path / "index.html"
    write_page(
        page,
        "t",
        comparison_results(),
        [Section("A → B", ["input A", "fake B"], rows(tmp_path, [None, None]))],
    )
    assert [row[0] for row in page_tables(page)["images0"][1:]] == ["0000", "0001"]
    assert "in the order of the files" in page.read_text()


def test_names_are_escaped_and_images_outside_the_folder_keep_their_path(tmp_path: Path):
    page = tmp_path / "index.html"
    row = ImageRow("<x>", [Path("/elsewhere/x.png")], [""])
    write_page(page, "h2z <run>", comparison_results(), [Section("A → B", ["input A"], [row])])
    text = page.read_text()
    assert "h2z &lt;run&gt;" in text and "<run>" not in text and "<x>" not in text
    assert "src='/elsewhere/x.png'" in text


def test_thousands_of_images_make_a_self_contained_page_of_a_few_mb(tmp_path: Path):
    page = tmp_path / "index.html"
    many = rows(tmp_path, [float(i) for i in range(5000)])
    write_page(page, "t", comparison_results(), [Section("A → B", ["input A", "fake B"], many)])
    text = page.read_text()
    assert len(text.encode()) < 3_000_000
    images = re.findall(r"<img [^>]*>", text)
    assert len(images) == 10_000 and all("loading='lazy'" in image for image in images)
    assert "<script" not in text and "<link" not in text and "@import" not in text
    assert not re.search(r"(src|href)=['\"]?(https?:)?//", text)  # nothing from the internet
