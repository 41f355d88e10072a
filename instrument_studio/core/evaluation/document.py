"""A report as plain data (sections of facts, tables, preformatted text and figures), written as one
self-contained HTML file (figures embedded as base64 PNG) or as a PDF (matplotlib's PdfPages).

The run report and the sweep report build a `Document`; these writers know nothing of runs.
Figures are matplotlib `Figure` objects made without pyplot (no GUI backend, safe off the main
thread). Both files are written atomically.
"""

from __future__ import annotations

import base64
import html
import io
import textwrap
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import StudioError
from ..fileio import atomic_path, atomic_write_text

FORMATS = ("html", "pdf")


@dataclass
class Facts:
    """Name/value pairs, shown as a two-column table."""
    rows: list[tuple[str, str]]


@dataclass
class Table:
    headers: list[str]
    rows: list[list[str]]


@dataclass
class Pre:
    """Preformatted text (a model summary)."""
    text: str


@dataclass
class Figure:
    """A matplotlib Figure with a caption."""
    figure: Any
    caption: str = ""


@dataclass
class Section:
    heading: str
    items: list = field(default_factory=list)


@dataclass
class Document:
    title: str
    subtitle: str = ""
    sections: list[Section] = field(default_factory=list)
    created: str = field(default_factory=lambda: time.strftime("%Y-%m-%d %H:%M"))


def report_format(path: str | Path) -> str:
    """'html' or 'pdf' from the file name, or a StudioError saying what to do."""
    suffix = Path(path).suffix.lower().lstrip(".")
    fmt = {"htm": "html"}.get(suffix, suffix)
    if fmt not in FORMATS:
        raise StudioError(f"a report is written as .html or .pdf, not {Path(path).name!r}", path=path)
    return fmt


def write_document(doc: Document, path: str | Path) -> Path:
    path = Path(path)
    if report_format(path) == "html":
        atomic_write_text(path, to_html(doc))
    else:
        write_pdf(doc, path)
    return path


# --- HTML -------------------------------------------------------------------------------------
_CSS = """
body{font-family:system-ui,-apple-system,'Segoe UI',sans-serif;max-width:1000px;margin:2em auto;padding:0 1em;
color:#1a1a1a;line-height:1.45}
h1{margin-bottom:0}.sub{color:#555;margin-top:.2em}h2{border-bottom:2px solid #ddd;padding-bottom:.2em;margin-top:2em}
table{border-collapse:collapse;margin:.6em 0}td,th{border:1px solid #ccc;padding:.25em .7em;text-align:left}
th{background:#f2f2f2}td.num{text-align:right;font-variant-numeric:tabular-nums}
pre{background:#f7f7f7;border:1px solid #ddd;padding:.8em;overflow-x:auto;font-size:.85em}
figure{margin:1em 0}figure img{max-width:100%;border:1px solid #eee}figcaption{color:#555;font-size:.9em}
"""


def png_bytes(fig, *, dpi: int = 110) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi, bbox_inches="tight")
    return buf.getvalue()


def _is_number(text: str) -> bool:
    try:
        float(text.rstrip("% s"))
        return True
    except ValueError:
        return False


def _cell(tag: str, text: str) -> str:
    cls = ' class="num"' if tag == "td" and _is_number(text) else ""
    return f"<{tag}{cls}>{html.escape(text)}</{tag}>"


def _item_html(item) -> str:
    if isinstance(item, Facts):
        return "<table>" + "".join(f"<tr><th>{html.escape(k)}</th>{_cell('td', v)}</tr>" for k, v in item.rows) \
            + "</table>"
    if isinstance(item, Table):
        head = "<tr>" + "".join(_cell("th", h) for h in item.headers) + "</tr>"
        body = "".join("<tr>" + "".join(_cell("td", c) for c in row) + "</tr>" for row in item.rows)
        return f"<table>{head}{body}</table>"
    if isinstance(item, Pre):
        return f"<pre>{html.escape(item.text)}</pre>"
    if isinstance(item, Figure):
        data = base64.b64encode(png_bytes(item.figure)).decode("ascii")
        caption = f"<figcaption>{html.escape(item.caption)}</figcaption>" if item.caption else ""
        return f'<figure><img alt="{html.escape(item.caption)}" src="data:image/png;base64,{data}">{caption}</figure>'
    raise TypeError(f"unknown report item {type(item).__name__}")


def to_html(doc: Document) -> str:
    parts = [f"<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>{html.escape(doc.title)}"
             f"</title><style>{_CSS}</style></head><body><h1>{html.escape(doc.title)}</h1>"
             f"<p class=\"sub\">{html.escape(doc.subtitle)} · made {html.escape(doc.created)} by Instrument Studio</p>"]
    for section in doc.sections:
        parts.append(f"<h2>{html.escape(section.heading)}</h2>")
        parts.extend(_item_html(item) for item in section.items)
    parts.append("</body></html>\n")
    return "\n".join(parts)


# --- PDF ---------------------------------------------------------------------------------------
_A4 = (8.27, 11.69)
_LINE = 0.0142        # one 8.3 pt monospace line, as a fraction of the A4 page height
_WIDTH = 92           # characters per line at that size


def _text_lines(item) -> list[str]:
    if isinstance(item, Facts):
        width = min(30, max((len(k) for k, _ in item.rows), default=0))
        out = []
        for k, v in item.rows:
            wrapped = textwrap.wrap(v, _WIDTH - width - 2) or [""]
            out.append(f"{k:<{width}}  {wrapped[0]}")
            out.extend(f"{'':<{width}}  {w}" for w in wrapped[1:])
        return out
    if isinstance(item, Table):
        cols = [item.headers, *item.rows]
        widths = [max(len(str(r[i])) for r in cols) for i in range(len(item.headers))]

        def line(r):
            return "  ".join(f"{str(c):>{w}}" if i else f"{str(c):<{w}}"
                             for i, (c, w) in enumerate(zip(r, widths, strict=False)))

        return [line(item.headers), "-" * len(line(item.headers)), *(line(r) for r in item.rows)]
    if isinstance(item, Pre):
        return [ln[:_WIDTH] for ln in item.text.splitlines()]
    return []


class _Pages:
    """A4 pages filled top to bottom: text lines, headings and figures (as 150 dpi images)."""

    TOP, BOTTOM, LEFT, WIDTH = 0.95, 0.05, 0.07, 0.86

    def __init__(self, pdf, doc: Document):
        self.pdf, self.page, self.y = pdf, None, self.TOP
        self._new()
        self.page.text(self.LEFT, self.y, doc.title, fontsize=18, weight="bold", va="top")
        self.page.text(self.LEFT, self.y - 0.03, f"{doc.subtitle} · made {doc.created} by Instrument Studio",
                       fontsize=9, color="#555", va="top")
        self.y -= 0.07

    def _new(self) -> None:
        from matplotlib.figure import Figure as MplFigure

        if self.page is not None:
            self.pdf.savefig(self.page)
        self.page, self.y = MplFigure(figsize=_A4), self.TOP

    def room(self, height: float) -> None:
        """Start a new page unless `height` (fraction of the page) fits below."""
        if self.y - height < self.BOTTOM and self.y < self.TOP:
            self._new()

    def heading(self, text: str, *, keep: float = 0.0) -> None:
        self.room(2.2 * _LINE + keep)
        self.page.text(self.LEFT, self.y, text, fontsize=13, weight="bold", va="top")
        self.y -= 2.2 * _LINE

    def lines(self, lines: list[str]) -> None:
        for line in lines:
            self.room(_LINE)
            self.page.text(self.LEFT, self.y, line, family="monospace", fontsize=8.3, va="top")
            self.y -= _LINE

    @classmethod
    def figure_size(cls, fig) -> tuple[float, float]:
        """Width and height on the page (fractions): the figure's own size, within the page width
        and at most 45 % of its height."""
        w_in, h_in = fig.get_size_inches()
        width = min(cls.WIDTH, w_in / _A4[0])
        height = width * _A4[0] * h_in / w_in / _A4[1]
        if height > 0.45:
            width, height = width * 0.45 / height, 0.45
        return width, height

    def figure(self, fig, caption: str) -> None:
        from matplotlib.image import imread

        image = imread(io.BytesIO(png_bytes(fig, dpi=150)), format="png")
        width, _ = self.figure_size(fig)
        height = width * _A4[0] * image.shape[0] / image.shape[1] / _A4[1]   # the tight box's own aspect
        self.room(height + 1.5 * _LINE)
        ax = self.page.add_axes((self.LEFT, self.y - height, width, height))
        ax.imshow(image, interpolation="antialiased")
        ax.set_axis_off()
        self.y -= height + 0.4 * _LINE
        if caption:
            self.page.text(self.LEFT, self.y, caption, fontsize=8.5, color="#555", style="italic", va="top")
            self.y -= 1.2 * _LINE
        self.y -= _LINE

    def close(self) -> None:
        self.pdf.savefig(self.page)


def write_pdf(doc: Document, path: str | Path) -> Path:
    """Headings, text (facts, tables, the model summary) and figures flowed over A4 pages; a table or
    a figure is not split across pages when it fits on one."""
    from matplotlib.backends.backend_pdf import PdfPages

    path = Path(path)
    with atomic_path(path, suffix=".pdf.part") as tmp:
        with PdfPages(tmp, metadata={"Title": doc.title, "Creator": "Instrument Studio"}) as pdf:
            pages = _Pages(pdf, doc)
            for section in doc.sections:
                first = section.items[0] if section.items else None
                if isinstance(first, Figure):
                    keep = _Pages.figure_size(first.figure)[1] + 1.5 * _LINE
                else:
                    keep = len(_text_lines(first)) * _LINE if first is not None else 0.0
                pages.heading(section.heading, keep=min(keep, 0.6))
                for item in section.items:
                    if isinstance(item, Figure):
                        pages.figure(item.figure, item.caption)
                    else:
                        text = _text_lines(item)
                        if len(text) * _LINE < 0.6:
                            pages.room(len(text) * _LINE)
                        pages.lines([*text, ""])
            pages.close()
    return path
