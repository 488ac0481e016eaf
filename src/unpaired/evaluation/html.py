"""The page beside an evaluation, ``index.html``: the numbers first, then the images.

It opens with the metrics table (one row per model and translation: FID, KID ± std with its
subset size and sample, the ground-truth L1/PSNR/SSIM where known), the models (checkpoint,
weights, training summary) and the protocol, all read from the results that ``results.json``
holds. Then, per translation, one row per test image: input | translation(s) | reconstruction |
true translation, each image's ground-truth error under it, worst rows first where an error is
known. Thumbnails link to the full-size PNG files by paths relative to the page (the folder can be
moved or served as it is) and load lazily, so thousands of rows stay a page of a few MB. The page
is self-contained: its style is inline, it loads nothing from the internet and runs no script.
"""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from unpaired.evaluation.results import (
    kid_warning,
    metric_cells,
    model_entries,
    model_label,
    style_cells,
)

#: Width of the thumbnails, in CSS pixels (a click shows the full-size image).
THUMBNAIL_WIDTH = 160

_STYLE = f"""
body {{ font-family: sans-serif; margin: 1.5em; color: #222; }}
table {{ border-collapse: collapse; margin-bottom: 1em; }}
th, td {{ border: 1px solid #ccc; padding: 4px 8px; text-align: left; vertical-align: top; }}
th {{ background: #f0f0f0; }}
td.path {{ overflow-wrap: anywhere; min-width: 8em; }}
td.number {{ text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }}
.warning {{ color: #a40; }}
table.images img {{ width: {THUMBNAIL_WIDTH}px; image-rendering: pixelated; display: block; }}
table.images td {{ font-size: 80%; }}
.caption {{ max-width: {THUMBNAIL_WIDTH}px; }}
dl {{ display: grid; grid-template-columns: max-content auto; gap: 2px 12px; }}
dt {{ font-weight: bold; }}
dd {{ margin: 0; }}
"""


@dataclass
class ImageRow:
    """One test image: its name, one image per column, a caption per column (may be empty),
    and the error its row is sorted by (None: unknown)."""

    name: str
    images: list[Path]
    captions: list[str]
    error: float | None = None


@dataclass
class Section:
    """The images of one translation: its title (``A → B``), column titles and rows."""

    title: str
    columns: list[str]
    rows: list[ImageRow]
    #: what the rows' errors are, for the line above the table
    error_name: str = "error"


#: The translation cell of a row of means over a model's translations.
MEAN_ROW = "mean over the translations"


def write_page(
    path: Path, title: str, results: Mapping[str, Any], sections: Sequence[Section]
) -> None:
    """Write ``path``: the numbers of ``results`` (as ``results.json`` holds them), then the
    image table of each section, its rows worst first where their errors are known."""
    parts = [
        "<!DOCTYPE html>",
        "<html><head><meta charset='utf-8'>",
        f"<title>{_text(title)}</title><style>{_STYLE}</style></head><body>",
        f"<h1>{_text(title)}</h1>",
        *_metrics(results),
        *_models(results),
        *_protocol(results["protocol"]),
    ]
    for section in sections:
        parts += _images(section, path.parent)
    parts.append("</body></html>")
    path.write_text("\n".join(parts) + "\n")


def _text(value: Any) -> str:
    """``value`` as page text: escaped, and None (nothing recorded) as a dash."""
    return html.escape("—" if value is None else str(value), quote=True)


def _number(value: Any) -> str:
    """A right-aligned table cell that does not wrap."""
    return f"<td class='number'>{_text(value)}</td>"


def _path(value: Any) -> str:
    """A table cell holding a path, which may break anywhere."""
    return f"<td class='path'>{_text(value)}</td>"


def _table(
    headers: Sequence[str], rows: Sequence[Sequence[str]], attributes: str = ""
) -> list[str]:
    """A table of already escaped cells; a cell starting with ``<td`` is taken as it is."""
    lines = [f"<table{attributes}><thead><tr>"]
    lines.append("".join(f"<th>{_text(header)}</th>" for header in headers) + "</tr></thead>")
    lines.append("<tbody>")
    for row in rows:
        cells = (cell if cell.startswith("<td") else f"<td>{cell}</td>" for cell in row)
        lines.append("<tr>" + "".join(cells) + "</tr>")
    lines.append("</tbody></table>")
    return lines


def _translations(entry: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """The per-translation entries of one model's results (those with ``n_translated``)."""
    return [
        value for value in entry.values() if isinstance(value, Mapping) and "n_translated" in value
    ]


def _arrow(entry: Mapping[str, Any]) -> str:
    """``A → B``, from the folders an entry compares (``real_A``, ``real_B``)."""
    source = Path(entry["inputs"]).name.removeprefix("real_")
    target = Path(entry["reference"]).name.removeprefix("real_")
    return f"{source} → {target}"


def _metrics(results: Mapping[str, Any]) -> list[str]:
    rows: list[list[str]] = []
    warnings: dict[str, list[str]] = {}  # warning -> the rows it applies to
    shown = [
        (model_label(model), entry)
        for model in model_entries(results)
        for entry in _translations(model)
    ]
    columns = list(dict.fromkeys(key for *_, entry in shown for key in metric_cells(entry)))
    subsets = ["KID subset"] if "KID" in columns else []
    for label, entry in shown:
        cells = metric_cells(entry)
        rows.append(
            [
                _text(label),
                _text(_arrow(entry)),
                *(_number(cells.get(column)) for column in columns),
                *(
                    f"<td class='number'>{_text(entry.get('kid_subset_size'))}</td>"
                    for _ in subsets
                ),
                _number(f"{entry['n_translated']} / {entry['n_reference']}"),
                _path(entry["reference_source"]),
            ]
        )
        if (warning := kid_warning(entry)) is not None:
            warnings.setdefault(warning, []).append(f"{label} {_arrow(entry)}")
    rows += _means(results, columns, len(subsets))
    headers = [
        "model",
        "translation",
        *columns,
        *subsets,
        "images translated / reference",
        "reference set",
    ]
    notes = [
        f"<p class='warning'>⚠ {_text(', '.join(where))}: {_text(warning)}</p>"
        for warning, where in warnings.items()
    ]
    return ["<h2>Metrics</h2>", *_table(headers, rows, " id='metrics'"), *notes]


def _means(results: Mapping[str, Any], columns: Sequence[str], blanks: int) -> list[list[str]]:
    """A row per model whose results hold means over its translations (``styles_mean``)."""
    rows = []
    for model in model_entries(results):
        if "styles_mean" in model:
            cells = style_cells(model["styles_mean"])
            shown = [_number(cells.get(column)) for column in columns]
            rows.append(
                [_text(model_label(model)), MEAN_ROW, *shown, *[_number(None)] * (blanks + 1), ""]
            )
    return rows


def _models(results: Mapping[str, Any]) -> list[str]:
    models = model_entries(results)
    keys = list(dict.fromkeys(key for model in models for key in model.get("training", {})))
    rows = [
        [
            _text(model_label(model)),
            *(_text(model.get("training", {}).get(key)) for key in keys),
            _text(model.get("weights")),
            _path(model.get("checkpoint")),
        ]
        for model in models
    ]
    return [
        "<h2>Models</h2>",
        *_table(["model", *keys, "weights", "checkpoint"], rows, " id='models'"),
    ]


def _protocol(protocol: Mapping[str, Any]) -> list[str]:
    items = "".join(
        f"<dt>{_text(key.replace('_', ' '))}</dt><dd>{_text(value)}</dd>"
        for key, value in protocol.items()
    )
    return ["<h2>Protocol</h2>", f"<dl id='protocol'>{items}</dl>"]


def _images(section: Section, folder: Path) -> list[str]:
    known = all(row.error is not None for row in section.rows)
    rows = section.rows
    if known:  # worst first; sorted() keeps the files' order among equal errors
        rows = sorted(rows, key=lambda row: -(row.error or 0.0))
    order = f"worst first, by {section.error_name}" if known else "in the order of the files"
    table_rows = []
    for row in rows:
        cells = [_text(row.name)]
        for image, caption in zip(row.images, row.captions, strict=True):
            link = _text(_relative(image, folder))
            cells.append(
                f"<td><a href='{link}'><img src='{link}' loading='lazy'></a>"
                f"<div class='caption'>{_text(caption)}</div></td>"
            )
        table_rows.append(cells)
    return [
        f"<h2>{_text(section.title)}</h2>",
        f"<p>{len(rows)} test images, {order}. Click an image for its full size.</p>",
        *_table(["image", *section.columns], table_rows, " class='images'"),
    ]


def _relative(image: Path, folder: Path) -> str:
    image = Path(image)
    try:
        return image.relative_to(folder).as_posix()
    except ValueError:
        return image.as_posix()
