"""The page beside an evaluation: input | translation | reconstruction, one row per image.

Like the ``index.html`` the CycleGAN authors' ``test.py`` writes, it links the PNG files of the
evaluation folder by relative paths, so the folder can be moved or served as it is.
"""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence
from pathlib import Path

#: One row: column title -> image path (absolute or relative to the page).
Row = Mapping[str, Path]


def write_html(path: Path, title: str, sections: Mapping[str, Sequence[Row]], width: int) -> None:
    """Write ``path``: a heading per section (a direction) and a table row per image."""
    parts = [
        "<!DOCTYPE html>",
        f"<html><head><meta charset='utf-8'><title>{html.escape(title)}</title></head><body>",
        f"<h1>{html.escape(title)}</h1>",
    ]
    for heading, rows in sections.items():
        parts.append(f"<h2>{html.escape(heading)}</h2>")
        parts.append("<table border='1' style='table-layout: fixed;'>")
        for row in rows:
            parts.append("<tr>")
            for column, image in row.items():
                link = html.escape(_relative(image, path.parent))
                parts.append(
                    f"<td style='word-wrap: break-word;' halign='center' valign='top'>"
                    f"<p><a href='{link}'><img src='{link}' style='width:{width}px'></a><br>"
                    f"{html.escape(column)}: {html.escape(Path(image).name)}</p></td>"
                )
            parts.append("</tr>")
        parts.append("</table>")
    parts.append("</body></html>")
    path.write_text("\n".join(parts) + "\n")


def _relative(image: Path, folder: Path) -> str:
    image = Path(image)
    try:
        return image.relative_to(folder).as_posix()
    except ValueError:
        return image.as_posix()
