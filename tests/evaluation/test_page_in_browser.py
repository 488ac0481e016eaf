"""The evaluation page as a person sees it, in headless Chromium: the numbers of the results,
every image loaded (the lazily loaded ones too), one column per model, the thumbnails showing
the files."""

import io
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch
from PIL import Image
from selenium.webdriver.common.by import By

from unpaired.data.datamodule import SyntheticDataModule
from unpaired.evaluation.evaluate import EvaluatedModel, Evaluation, MetricOptions
from unpaired.evaluation.html import ImageRow, Section, write_page
from unpaired.models import CycleGAN

#: JavaScript: the images not (yet) shown, as their sources.
NOT_LOADED = (
    "return [...document.images].filter(i => !(i.complete && i.naturalWidth > 0))"
    ".map(i => i.getAttribute('src'))"
)


def images_not_loaded(driver, timeout: float = 20) -> list[str]:
    """Scroll every image into view (lazy ones load only then) and wait for them; those that
    did not load within ``timeout`` seconds, by source."""
    for image in driver.find_elements(By.TAG_NAME, "img"):
        driver.execute_script("arguments[0].scrollIntoView()", image)
    deadline = time.monotonic() + timeout
    while (missing := driver.execute_script(NOT_LOADED)) and time.monotonic() < deadline:
        time.sleep(0.1)
    return missing


def shown_rows(driver, selector: str) -> list[list[str]]:
    """The visible text of a table's cells, row by row, the header first."""
    return [
        [cell.text for cell in row.find_elements(By.CSS_SELECTOR, "th, td")]
        for row in driver.find_elements(By.CSS_SELECTOR, f"{selector} tr")
    ]


def test_the_comparison_page_shows_the_numbers_every_image_and_one_column_per_model(
    tmp_path: Path,
    tiny_data: Callable[[], SyntheticDataModule],
    make_cyclegan: Callable[..., CycleGAN],
    random_inception_weights: Path,
    browser,
    assert_metrics_shown,
) -> None:
    torch.manual_seed(0)
    models = [
        EvaluatedModel("CycleGAN", make_cyclegan().eval(), {"weights": "raw"}),
        EvaluatedModel("CUT", make_cyclegan("model=cut", "model.nce_layers=[0,4]").eval()),
    ]
    options = MetricOptions(inception_weights=str(random_inception_weights), batch_size=2)
    results = Evaluation(models, tiny_data(), tmp_path, options).run()
    browser.get((tmp_path / "index.html").as_uri())

    assert_metrics_shown(shown_rows(browser, "#metrics"), results)
    assert images_not_loaded(browser) == []
    assert len(browser.find_elements(By.TAG_NAME, "img")) == 2 * 4 + 2 * 3  # 2 test images
    headers = [
        [cell.text for cell in table.find_elements(By.CSS_SELECTOR, "thead th")]
        for table in browser.find_elements(By.CSS_SELECTOR, "table.images")
    ]
    assert headers == [  # CUT translates A to B only
        ["image", "input A", "CycleGAN", "CUT", "true B"],
        ["image", "input B", "CycleGAN", "true A"],
    ]

    # What the screen shows in CUT's first thumbnail is CUT's translation of that row's image.
    thumbnail = browser.find_element(By.CSS_SELECTOR, "table.images tbody tr td:nth-child(4) img")
    browser.execute_script("arguments[0].scrollIntoView()", thumbnail)
    box = browser.execute_script(
        "const r = arguments[0].getBoundingClientRect(); return [r.left, r.top, r.right, r.bottom]",
        thumbnail,
    )
    screen = Image.open(io.BytesIO(browser.get_screenshot_as_png())).convert("RGB")
    source = tmp_path / thumbnail.get_attribute("src").split(tmp_path.as_uri() + "/")[1]
    assert source.parent == tmp_path / "images" / "CUT" / "fake_B"
    with Image.open(source) as original:
        shown = screen.crop(tuple(round(v) for v in box)).resize(original.size, Image.BOX)
        difference = np.abs(np.asarray(shown, float) - np.asarray(original.convert("RGB"), float))
    assert difference.mean() < 4, difference.mean()  # another model's image: ~27


def test_a_long_page_loads_its_images_only_as_they_are_scrolled_to(tmp_path: Path, browser):
    folder = tmp_path / "images" / "real_A"
    folder.mkdir(parents=True)
    rows = []
    for index in range(300):
        path = folder / f"{index:04d}.png"
        Image.new("RGB", (32, 32), (index % 256, 0, 0)).save(path)
        rows.append(ImageRow(path.stem, [path], [""]))
    write_page(tmp_path / "index.html", "t", {"protocol": {}}, [Section("A → B", ["A"], rows)])
    browser.get((tmp_path / "index.html").as_uri())

    waiting = browser.execute_script(NOT_LOADED)
    assert len(waiting) > 200  # the rows far below are not fetched up front
    assert images_not_loaded(browser) == []
