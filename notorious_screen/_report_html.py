"""The report's HTML: one self-contained page with inline SVG charts, no script, printable.

Charts are written by hand as SVG: a dozen bar charts and one grid need no library, and the
page then carries no JavaScript at all (its Content-Security-Policy forbids every script and
every fetch, so even a file that slipped past escaping could not run or load anything).
Every text that comes from the input goes through :func:`_e` and is wrapped in ``<bdi>`` so
bidi overrides in a seller name cannot reorder the text around it.

A service module (private to the package; its public names are imported by `reporting`).
"""

from __future__ import annotations

import html
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .reporting import Report, Tally, WorstListing

__all__ = ["render"]

_MAX_TEXT = 300  # characters of one cell shown; longer values are cut with an ellipsis
_MAX_LABEL = 32  # characters of a chart label
_TOP_BARS = 15  # bars per chart; the rest is one "other" bar
_TIER_COLOURS = ("#b91c1c", "#ea580c", "#ca8a04", "#0f766e", "#475569")
_STATUS_COLOURS = {
    "listed": "#b91c1c",
    "lookalike": "#7c3aed",
    "unlisted": "#ea580c",
    "unrecognised": "#94a3b8",
    "unusable": "#1e293b",
}
_STATUS_TEXT = {
    "listed": "on a listed market",
    "lookalike": "lookalike of a market",
    "unlisted": "known platform or owner, not listed",
    "unrecognised": "not recognised",
    "unusable": "unusable input (ns_error)",
}


def _e(value: object) -> str:
    """Text for HTML (and SVG inside it): escaped, and cut when very long."""
    text = "" if value is None else str(value)
    if len(text) > _MAX_TEXT:
        text = text[: _MAX_TEXT - 1] + "…"
    return html.escape(text, quote=True)


def _t(value: object) -> str:
    """An input text in a table cell: escaped and bidi-isolated."""
    return f"<bdi>{_e(value)}</bdi>" if value not in (None, "") else '<span class="none">–</span>'


def _short(text: str, limit: int = _MAX_LABEL) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _n(value: int | None, estimated: bool = False) -> str:
    if value is None:
        return "–"
    return ("≈" if estimated else "") + f"{value:,}"


def _pct(part: int, whole: int) -> str:
    return f"{100 * part / whole:.1f}%" if whole else "–"


# ---- charts --------------------------------------------------------------------------------
def _bar_chart(
    chart: str,
    caption: str,
    bars: Sequence[tuple[str, int, str]],
    *,
    unit: str = "rows",
    note: str = "",
    width: int = 680,
) -> str:
    """Horizontal bars: (label, value, colour) each; values are written beside the bars."""
    label_w, value_w, row_h, top = (230 if width >= 600 else 130), 70, 24, 8
    bar_w = width - label_w - value_w
    height = top * 2 + row_h * max(len(bars), 1)
    peak = max((v for _, v, _ in bars), default=0) or 1
    parts = [
        f'<figure class="chart" id="chart-{chart}" data-chart="{chart}" data-bars="horizontal">',
        f"<figcaption>{_e(caption)}</figcaption>",
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
        f'width="{width}" height="{height}" role="img" aria-label="{_e(caption)}">',
    ]
    for i, (label, value, colour) in enumerate(bars):
        y = top + i * row_h
        w = round(bar_w * value / peak, 1)
        parts.append(
            f'<g class="bar" data-label="{_e(label)}" data-value="{value}">'
            f"<title>{_e(label)}: {value:,} {unit}</title>"
            f'<text class="label" x="{label_w - 8}" y="{y + 16}" text-anchor="end">'
            f"{_e(_short(label))}</text>"
            f'<rect x="{label_w}" y="{y + 3}" width="{max(w, 0.5)}" height="{row_h - 6}" '
            f'fill="{colour}"/>'
            f'<text class="value" x="{label_w + w + 6}" y="{y + 16}">{value:,}</text></g>'
        )
    if not bars:
        parts.append(f'<text x="8" y="{top + 16}" class="label">no rows</text>')
    parts.append("</svg>")
    if note:
        parts.append(f'<p class="note">{_e(note)}</p>')
    parts.append("</figure>")
    return "".join(parts)


def _column_chart(chart: str, caption: str, bars: Sequence[tuple[str, int, str]]) -> str:
    """Vertical bars (the score histogram)."""
    bar_w, gap, plot_h, top, bottom = 52, 10, 150, 22, 26
    width = len(bars) * (bar_w + gap) + gap
    height = top + plot_h + bottom
    peak = max((v for _, v, _ in bars), default=0) or 1
    parts = [
        f'<figure class="chart" id="chart-{chart}" data-chart="{chart}" data-bars="vertical">',
        f"<figcaption>{_e(caption)}</figcaption>",
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
        f'width="{width}" height="{height}" role="img" aria-label="{_e(caption)}">',
    ]
    for i, (label, value, colour) in enumerate(bars):
        x = gap + i * (bar_w + gap)
        h = round(plot_h * value / peak, 1)
        y = top + plot_h - h
        parts.append(
            f'<g class="bar" data-label="{_e(label)}" data-value="{value}">'
            f"<title>score {_e(label)}: {value:,} rows</title>"
            f'<rect x="{x}" y="{y}" width="{bar_w}" height="{max(h, 0.5)}" fill="{colour}"/>'
            f'<text class="value" x="{x + bar_w / 2}" y="{y - 5}" text-anchor="middle">'
            f"{value:,}</text>"
            f'<text class="label" x="{x + bar_w / 2}" y="{top + plot_h + 17}" '
            f'text-anchor="middle">{_e(label)}</text></g>'
        )
    parts.append("</svg></figure>")
    return "".join(parts)


def _top(tallies: Sequence[Tally], colour: str, what: str) -> list[tuple[str, int, str]]:
    bars = [(t.label, t.rows, colour) for t in tallies[:_TOP_BARS]]
    rest = tallies[_TOP_BARS:]
    if rest:
        bars.append((f"{len(rest)} other {what}", sum(t.rows for t in rest), "#94a3b8"))
    return bars


def _tier_colour(index: int, label: str) -> str:
    from .reporting import NO_TIER

    if label == NO_TIER:
        return "#cbd5e1"
    return _TIER_COLOURS[min(index, len(_TIER_COLOURS) - 1)]


def _timeline(report: Report) -> str:
    editions, history = report.editions, report.history
    name_w, cell_w, row_h, head_h = 210, 86, 22, 46
    width = name_w + cell_w * len(editions) + 8
    height = head_h + row_h * len(history) + 8
    parts = [
        '<figure class="chart" id="chart-timeline" data-chart="timeline">',
        "<figcaption>Editions that list each market found (a ? is an edition the bundled "
        "data knows only in part: the absence proves nothing)</figcaption>",
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
        f'width="{width}" height="{height}" role="img" aria-label="editions timeline">',
        '<defs><pattern id="partial" width="6" height="6" patternUnits="userSpaceOnUse" '
        'patternTransform="rotate(45)"><rect width="6" height="6" fill="#f8fafc"/>'
        '<line x1="0" y1="0" x2="0" y2="6" stroke="#cbd5e1" stroke-width="3"/></pattern></defs>',
    ]
    for j, col in enumerate(editions):
        x = name_w + j * cell_w
        complete = col.online_complete
        short = col.label.replace("USTR NML", "USTR").replace("EU CPWL", "EU")
        online = col.coverage.split(",")[0].replace("online ", "")
        parts.append(
            f'<g class="edition" data-edition="{_e(col.list)}-{col.year}" '
            f'data-complete="{str(complete).lower()}" data-coverage="{_e(col.coverage)}">'
            f"<title>{_e(col.label)}: {_e(col.coverage)} captured"
            f"{'' if complete else ' (online list incomplete in the data)'}</title>"
            f'<rect x="{x + 2}" y="2" width="{cell_w - 4}" height="{head_h - 8}" '
            f'fill="{"#e2e8f0" if complete else "url(#partial)"}"/>'
            f'<text x="{x + cell_w / 2}" y="18" text-anchor="middle" class="head">'
            f"{_e(short)}</text>"
            f'<text x="{x + cell_w / 2}" y="32" text-anchor="middle" class="sub">'
            f"{_e(online)}{'' if complete else ' ◐'}</text></g>"
        )
    for i, item in enumerate(history):
        y = head_h + i * row_h
        label = item.name + ("" if item.known else " (unknown to this data)")
        parts.append(
            f'<g class="market" data-market="{_e(item.market_id)}" data-rows="{item.rows}">'
            f'<text x="{name_w - 8}" y="{y + 15}" text-anchor="end" class="label">'
            f"<title>{_e(label)}: {item.rows:,} rows</title>{_e(_short(label, 30))}</text>"
        )
        for j, (cell, scoped) in enumerate(zip(item.cells, item.scoped, strict=True)):
            x = name_w + j * cell_w
            state = cell or "not-listed"
            if cell == "?":
                fill, mark, state = "#ffffff", "?", "not-captured"
            elif cell:
                fill, mark = ("#7f1d1d" if cell == "new" else "#dc2626"), ("◐" if scoped else "")
            else:
                fill, mark = "#f1f5f9", ""
            col = editions[j]
            tip = f"{item.name}, {col.label}: " + (
                "not in the captured data (edition incomplete)"
                if cell == "?"
                else f"listed (status: {cell}{', part of the platform' if scoped else ''})"
                if cell
                else "not listed"
            )
            parts.append(
                f'<g class="cell" data-edition="{_e(col.list)}-{col.year}" '
                f'data-state="{_e(state)}">'
                f"<title>{_e(tip)}</title>"
                f'<rect x="{x + 4}" y="{y + 3}" width="{cell_w - 8}" height="{row_h - 6}" '
                f'rx="3" fill="{fill}" stroke="#94a3b8" stroke-width="{1 if cell == "?" else 0}" '
                f'stroke-dasharray="3 2"/>'
                + (
                    f'<text x="{x + cell_w / 2}" y="{y + 15}" text-anchor="middle" '
                    f'class="mark{" dark" if cell and cell != "?" else ""}">{mark}</text>'
                    if mark
                    else ""
                )
                + "</g>"
            )
        parts.append("</g>")
    parts.append("</svg>")
    parts.append(
        '<p class="legend"><span class="key" style="background:#7f1d1d"></span> listed, new '
        '<span class="key" style="background:#dc2626"></span> listed, continuing or other '
        "status (◐: only part of the platform, e.g. some country domains) "
        '<span class="key" style="background:#f1f5f9"></span> not listed '
        '<span class="key unknown">?</span> not in the captured data</p></figure>'
    )
    return "".join(parts)


# ---- tables --------------------------------------------------------------------------------
def _table(head: Sequence[str], rows: Iterable[Sequence[str]], cls: str = "") -> str:
    out = [f'<table class="{cls}"><thead><tr>']
    out.extend(f"<th>{h}</th>" for h in head)
    out.append("</tr></thead><tbody>")
    for row in rows:
        out.append("<tr>" + "".join(f"<td>{c}</td>" for c in row) + "</tr>")
    out.append("</tbody></table>")
    return "".join(out)


def _tally_table(tallies: Sequence[Tally], what: str, report: Report) -> str:
    sellers = report.seller_column is not None
    head = [what, "rows", "share", *(["sellers"] if sellers else []), "flagged", "max score"]
    rows = [
        [
            _t(t.label) + (f' <span class="id">{_e(t.key)}</span>' if t.key else ""),
            _n(t.rows),
            _pct(t.rows, report.rows),
            *([_n(t.sellers, t.sellers_estimated)] if sellers else []),
            _n(t.flagged),
            _n(t.max_score),
        ]
        for t in tallies
    ]
    return _table(head, rows, "tally")


def _missing(report: Report, section: str) -> str:
    why = report.missing.get(section)
    return (
        f'<p class="missing" data-missing="{_e(section)}">Not shown: {_e(why)}.</p>' if why else ""
    )


# ---- the page ------------------------------------------------------------------------------
_CSS = """
:root { --ink: #0f172a; --muted: #475569; --line: #e2e8f0; }
* { box-sizing: border-box; }
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "Noto Sans", sans-serif;
  color: var(--ink); margin: 0 auto; max-width: 1100px; padding: 24px; }
h1 { font-size: 24px; margin: 0 0 4px; } h2 { font-size: 18px; margin: 28px 0 8px;
  border-bottom: 2px solid var(--line); padding-bottom: 4px; }
.sub, .note, .legend, figcaption { color: var(--muted); }
figcaption { font-weight: 600; margin-bottom: 4px; }
nav { margin: 12px 0; } nav a { margin-right: 12px; color: #1d4ed8; text-decoration: none; }
.figures { display: flex; flex-wrap: wrap; gap: 10px; margin: 16px 0; padding: 0; }
.figures div { border: 1px solid var(--line); border-radius: 6px; padding: 8px 14px;
  min-width: 140px; }
.figures dt { color: var(--muted); font-size: 12px; } .figures dd { margin: 0; font-size: 22px;
  font-weight: 600; }
figure { margin: 10px 0 16px; overflow-x: auto; } svg { max-width: 100%; height: auto; }
svg text { font: 12px system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; fill: #1e293b; }
svg text.value { fill: #334155; } svg text.head { font-weight: 600; }
svg text.sub { font-size: 10px; fill: #475569; } svg text.mark.dark { fill: #ffffff; }
table { border-collapse: collapse; width: 100%; margin: 6px 0 14px; font-size: 13px; }
th, td { text-align: left; padding: 4px 8px; border-bottom: 1px solid var(--line);
  vertical-align: top; overflow-wrap: anywhere; }
th { background: #f8fafc; font-weight: 600; }
td:nth-child(n+2) { font-variant-numeric: tabular-nums; }
.id { color: var(--muted); font-size: 11px; } .none { color: #94a3b8; }
.missing { background: #fef9c3; border-left: 4px solid #ca8a04; padding: 6px 10px; }
.key { display: inline-block; width: 12px; height: 12px; border-radius: 2px;
  vertical-align: -1px; margin-left: 8px; }
.key.unknown { border: 1px dashed #94a3b8; width: auto; height: auto; padding: 0 3px;
  font-size: 10px; line-height: 12px; }
ol.listings { margin: 0; padding-left: 18px; } ol.listings li { margin: 0 0 2px; }
.grid { display: grid; grid-template-columns: repeat(auto-fit, minmax(500px, 1fr));
  gap: 0 24px; }
footer { margin-top: 32px; color: var(--muted); font-size: 12px; }
@page { size: A4; margin: 14mm; }
@media print {
  body { max-width: none; padding: 0; font-size: 10.5pt; }
  nav { display: none; }
  h2 { break-after: avoid; }
  figure, tr, .figures { break-inside: avoid; }
  * { -webkit-print-color-adjust: exact; print-color-adjust: exact; }
  a { color: inherit; text-decoration: none; }
}
"""


def render(report: Report, *, title: str | None = None) -> str:
    """The whole page."""
    from .reporting import NO_TIER

    heading = title or "Where the brand is sold: screening report"
    flagged = sum(t.rows for t in report.tiers if t.label != NO_TIER)
    status = {t.label: t.rows for t in report.statuses}
    figures = [
        ("rows screened", _n(report.rows)),
        (
            "sellers",
            _n(report.sellers.sellers, report.sellers.sellers_estimated)
            if report.seller_column
            else "–",
        ),
        ("rows with a tier", _n(flagged) if report.tiers else "–"),
        ("on listed markets", _n(status.get("listed")) if report.statuses else "–"),
        ("lookalike rows", _n(status.get("lookalike")) if report.statuses else "–"),
        (
            "markets found",
            _n(len(report.markets)) if report.markets or not report.missing.get("markets") else "–",
        ),
    ]
    out = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        # No script, no fetch of any kind: the page is inert and offline by construction.
        '<meta http-equiv="Content-Security-Policy" content="default-src \'none\'; '
        "style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'\">",
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f'<meta name="generator" content="notorious_screen {_e(report.version)}">',
        f"<title>{_e(heading)}</title><style>{_CSS}</style></head><body>",
        f"<header><h1>{_e(heading)}</h1>",
        f'<p class="sub">{_t(report.source)} · {report.rows:,} rows · generated '
        f"{_e(report.generated)} by notorious_screen {_e(report.version)}</p>",
        '<dl class="figures">'
        + "".join(f"<div><dt>{_e(k)}</dt><dd>{v}</dd></div>" for k, v in figures)
        + "</dl></header>",
        '<nav><a href="#overview">Overview</a><a href="#markets">Markets</a>'
        '<a href="#owners">Owners</a><a href="#countries">Countries</a>'
        '<a href="#sellers">Sellers</a><a href="#lookalikes">Lookalikes</a>'
        '<a href="#timeline">Editions</a><a href="#reproduce">Reproduce</a></nav><main>',
    ]
    out.append(_overview(report))
    for section, heading, what, tallies, colour, caption in (
        ("markets", "Markets", "market", report.markets, "#b91c1c",
         "Rows on each market (lookalikes are counted in their own section)"),
        ("owners", "Owners", "owner", report.owners, "#9a3412",
         "Rows on each owner's platforms and hosts"),
        ("countries", "Countries", "country", report.countries, "#1d4ed8",
         "Rows by the country of the market they are on"),
    ):  # fmt: skip
        out.append(_dimension(report, section, heading, what, tallies, colour, caption))
    out.append(_sellers(report))
    out.append(_lookalikes(report))
    out.append(_history(report))
    out.append(_reproduce(report))
    out.append(
        "</main><footer>Made by notorious_screen from the screened rows alone: figures count "
        "rows as they were screened. Listings come from the bundled USTR NML and EU CPWL data, "
        "some editions of which are known only in part (see Editions).</footer></body></html>"
    )
    return "\n".join(out)


def _overview(report: Report) -> str:
    from .reporting import NO_TIER

    parts = ['<section id="overview"><h2>Overview</h2><div class="grid">']
    if report.tiers:
        tiers = [t for t in report.tiers]
        bars = [(t.label, t.rows, _tier_colour(i, t.label)) for i, t in enumerate(tiers)]
        parts.append(_bar_chart("tiers", "Rows per tier", bars, width=520))
    else:
        parts.append(_missing(report, "tiers"))
    if report.statuses:
        bars = [(t.label, t.rows, _STATUS_COLOURS[t.label]) for t in report.statuses]
        legend = "; ".join(f"{t.label}: {_STATUS_TEXT[t.label]}" for t in report.statuses)
        parts.append(
            _bar_chart(
                "statuses", "Listed, unlisted and lookalike rows", bars, width=520, note=legend
            )
        )
    else:
        parts.append(_missing(report, "statuses"))
    parts.append("</div>")
    if report.scores:
        labels = [f"{i * 10}-{i * 10 + 9}" for i in range(9)] + ["90-100"]
        bars = [(label, v, "#334155") for label, v in zip(labels, report.scores, strict=True)]
        parts.append(_column_chart("scores", "Rows per score band", bars))
    else:
        parts.append(_missing(report, "scores"))
    if report.tiers:
        sellers = report.seller_column is not None
        head = ["tier", "rows", "share", *(["sellers"] if sellers else []), "max score"]
        rows = [
            [
                _t(t.label) if t.label != NO_TIER else "no tier",
                _n(t.rows),
                _pct(t.rows, report.rows),
                *([_n(t.sellers, t.sellers_estimated)] if sellers else []),
                _n(t.max_score),
            ]
            for t in report.tiers
        ]
        parts.append(_table(head, rows, "tally"))
    parts.append("</section>")
    return "".join(parts)


def _dimension(
    report: Report,
    section: str,
    heading: str,
    what: str,
    tallies: Sequence[Tally],
    colour: str,
    caption: str,
) -> str:
    parts = [f'<section id="{section}"><h2>{heading}</h2>']
    if report.missing.get(section):
        parts.append(_missing(report, section))
    else:
        plural = {"country": "countries"}.get(what, what + "s")
        parts.append(_bar_chart(section, caption, _top(tallies, colour, plural)))
        parts.append(_tally_table(tallies, what, report))
    parts.append("</section>")
    return "".join(parts)


def _sellers(report: Report) -> str:
    parts = ['<section id="sellers"><h2>Top sellers and their worst listings</h2>']
    if report.seller_column is None:
        parts.append(_missing(report, "sellers"))
        parts.append("</section>")
        return "".join(parts)
    parts.append(
        f'<p class="sub">Sellers from column <code>{_e(report.seller_column)}</code>, ranked '
        "by their worst score, then by rows with a tier, then by rows.</p>"
    )
    if not report.sellers_complete:
        parts.append(
            '<p class="missing" data-missing="sellers-bounded">The file names more sellers than '
            "the report keeps; sellers outside the top were let go while reading, so their "
            "counts here may be low. Seller counts by market, owner, country and tier are "
            "unaffected.</p>"
        )
    top = report.top_sellers
    bars = [(s.seller, s.rows, "#0f766e") for s in top]
    parts.append(_bar_chart("sellers", "Rows of the top sellers", bars))
    rows = []
    for s in top:
        listings = "".join(_listing(item) for item in s.listings)
        rows.append(
            [
                _t(s.seller),
                _n(s.rows),
                _n(s.flagged),
                _n(s.worst_score) + (f" ({_e(s.worst_tier)})" if s.worst_tier else ""),
                ", ".join(_t(m) for m in s.markets) or _t(None),
                f'<ol class="listings">{listings}</ol>',
            ]
        )
    parts.append(
        _table(["seller", "rows", "with a tier", "worst score", "markets", "worst listings"], rows)
    )
    if report.url_column is None:
        parts.append('<p class="note">No URL column: listings are shown by row number.</p>')
    parts.append("</section>")
    return "".join(parts)


def _listing(item: WorstListing) -> str:
    parts = [f"<li>row {item.row:,}: score {_n(item.score)}"]
    if item.tier:
        parts.append(f" ({_e(item.tier)})")
    if item.match == "variant":
        parts.append(" lookalike" + (f" of {_t(item.market)}" if item.market else ""))
    elif item.market:
        parts.append(f" on {_t(item.market)}")
    if item.url:
        parts.append(f" · {_t(item.url)}")
    if item.reasons:
        parts.append(f'<br><span class="id">{_e(item.reasons)}</span>')
    parts.append("</li>")
    return "".join(parts)


def _lookalikes(report: Report) -> str:
    parts = ['<section id="lookalikes"><h2>Lookalike hosts and what they imitate</h2>']
    if report.missing.get("lookalikes"):
        parts.append(_missing(report, "lookalikes"))
        parts.append("</section>")
        return "".join(parts)
    for note in ("lookalike hosts", "imitated hosts"):
        parts.append(_missing(report, note))
    items = report.lookalikes
    if not items:
        parts.append('<p class="sub">No lookalike rows (ns_match variant) in the file.</p>')
        parts.append("</section>")
        return "".join(parts)
    by_market: dict[str, int] = {}
    for item in items:
        label = item.market or "(market not recorded)"
        by_market[label] = by_market.get(label, 0) + item.rows
    bars = [
        (label, rows, "#7c3aed")
        for label, rows in sorted(by_market.items(), key=lambda kv: (-kv[1], kv[0]))
    ]
    parts.append(_bar_chart("lookalikes", "Lookalike rows per imitated market", bars))
    if not report.lookalikes_complete:
        parts.append(
            '<p class="missing" data-missing="lookalikes-bounded">More distinct lookalike hosts '
            "than the report keeps: the rarest were let go while reading.</p>"
        )
    rows = [
        [
            _t(item.host),
            _t(item.imitates),
            _t(item.market),
            _t(item.variant),
            "–" if item.similarity is None else f"{item.similarity:.0f}",
            _n(item.rows),
            _n(item.max_score),
        ]
        for item in items
    ]
    parts.append(
        _table(["host", "imitates", "market", "class", "similarity", "rows", "max score"], rows)
    )
    parts.append("</section>")
    return "".join(parts)


def _history(report: Report) -> str:
    parts = ['<section id="timeline"><h2>Editions that list the markets found</h2>']
    if not report.history:
        parts.append(_missing(report, "markets") or '<p class="sub">No market found.</p>')
    else:
        parts.append(_timeline(report))
        rows = [
            [
                _e(col.label),
                _e(col.coverage),
                "complete" if col.online_complete else "incomplete: absence proves nothing",
            ]
            for col in report.editions
        ]
        parts.append(_table(["edition", "captured / official", "online list in the data"], rows))
    parts.append("</section>")
    return "".join(parts)


def _reproduce(report: Report) -> str:
    packs = "<br>".join(f"{_t(t.label)} ({_n(t.rows)} rows)" for t in report.rule_packs)
    editions = "<br>".join(f"{_t(t.label)} ({_n(t.rows)} rows)" for t in report.screened_editions)
    errors = "<br>".join(f"{_t(t.label)} ({_n(t.rows)} rows)" for t in report.errors)
    rows = [
        ["input", _t(report.source) + f" ({report.rows:,} rows)"],
        ["rule pack (name and hash)", packs or _e(report.missing.get("rule pack", "–"))],
        ["edition screened against", editions or _e(report.missing.get("edition", "–"))],
        ["Public Suffix List snapshot", _e(report.missing.get("psl", report.psl_version))],
        ["unusable rows (ns_error)", errors or "none"],
        [
            "ns_* columns in the file",
            ", ".join(_t(c) for c in report.columns if c.startswith("ns_")),
        ],
        ["report made by", f"notorious_screen {_e(report.version)}, {_e(report.generated)}"],
    ]
    return (
        '<section id="reproduce"><h2>Reproduce</h2>' + _table(["", ""], rows, "kv") + "</section>"
    )
