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
_LINES_PER_PAGE = 66


def _text_lines(item) -> list[str]:
    if isinstance(item, Facts):
        width = max((len(k) for k, _ in item.rows), default=0)
        out = []
        for k, v in item.rows:
            wrapped = textwrap.wrap(v, 88 - width) or [""]
            out.append(f"{k:<{width}}  {wrapped[0]}")
            out.extend(f"{'':<{width}}  {w}" for w in wrapped[1:])
        return out
    if isinstance(item, Table):
        cols = [item.headers, *item.rows]
        widths = [max(len(str(r[i])) for r in cols) for i in range(len(item.headers))]
        line = lambda r: "  ".join(f"{str(c):>{w}}" if i else f"{str(c):<{w}}"  # noqa: E731
                                    for i, (c, w) in enumerate(zip(r, widths, strict=False)))
        return [line(item.headers), "-" * len(line(item.headers)), *(line(r) for r in item.rows)]
    if isinstance(item, Pre):
        return item.text.splitlines()
    return []


def write_pdf(doc: Document, path: str | Path) -> Path:
    """One or more text pages per section's facts and tables, one page per figure."""
    from matplotlib.backends.backend_pdf import PdfPages
    from matplotlib.figure import Figure as MplFigure

    path = Path(path)

    def text_page(title: str | None, lines: list[str], first: bool) -> MplFigure:
        fig = MplFigure(figsize=_A4)
        y = 0.95
        if first:
            fig.text(0.07, y, doc.title, fontsize=18, weight="bold", va="top")
            fig.text(0.07, y - 0.03, f"{doc.subtitle} · made {doc.created} by Instrument Studio", fontsize=9,
                     color="#555", va="top")
            y -= 0.07
        if title:
            fig.text(0.07, y, title, fontsize=14, weight="bold", va="top")
            y -= 0.035
        fig.text(0.07, y, "\n".join(lines), family="monospace", fontsize=7.6, va="top", linespacing=1.35)
        return fig

    with atomic_path(path, suffix=".pdf.part") as tmp:
        with PdfPages(tmp, metadata={"Title": doc.title, "Creator": "Instrument Studio"}) as pdf:
            first = True
            for section in doc.sections:
                lines: list[str] = []
                for item in section.items:
                    if isinstance(item, Figure):
                        continue
                    lines.extend(_text_lines(item))
                    lines.append("")
                budget = _LINES_PER_PAGE - (5 if first else 0)
                chunks = [lines[i:i + budget] for i in range(0, len(lines), budget)] if lines else []
                for n, chunk in enumerate(chunks):
                    pdf.savefig(text_page(section.heading + (" (continued)" if n else ""), chunk, first))
                    first = False
                for item in section.items:
                    if isinstance(item, Figure):
                        fig = item.figure
                        heading = section.heading + (f": {item.caption}" if item.caption else "")
                        fig.suptitle(heading, fontsize=12, weight="bold")
                        pdf.savefig(fig, bbox_inches="tight")
                        first = False
    return path
