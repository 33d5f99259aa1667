"""Small generators of hostile files (nothing of the kind is committed): each builds, in a
few kilobytes, a file that used to cost unbounded memory or time, or a traceback."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq


def _varint(n: int) -> bytes:
    out = bytearray()
    while True:
        byte, n = n & 0x7F, n >> 7
        if not n:
            out.append(byte)
            return bytes(out)
        out.append(byte | 0x80)


def parquet_dictionary_bomb(path: Path, *, rows: int, value_bytes: int) -> Path:
    """One long value, dictionary-encoded and repeated: kilobytes on disk, rows x value_bytes
    of text once expanded."""
    indices = pa.array([0] * rows, pa.int32())
    column = pa.DictionaryArray.from_arrays(indices, pa.array(["x" * value_bytes]))
    pq.write_table(pa.table({"url": column}), path, compression="zstd", row_group_size=rows)
    return path


def parquet_lying_page(path: Path) -> Path:
    """A valid file whose dictionary page header claims 2 GiB of uncompressed data."""
    table = pa.table({"url": pa.array(["example.org"] * 3).dictionary_encode()})
    pq.write_table(table, path, compression="snappy", write_statistics=False)
    data = bytearray(path.read_bytes())
    at = pq.ParquetFile(path).metadata.row_group(0).column(0).dictionary_page_offset
    # Thrift compact PageHeader: 0x15 type, 0x15 uncompressed_page_size (zigzag varint), ...
    assert data[at] == 0x15 and data[at + 2] == 0x15
    end = at + 3
    while data[end] & 0x80:
        end += 1
    size = 2**31 - 1
    data[at + 3 : end + 1] = _varint((size << 1) ^ (size >> 31))
    path.write_bytes(bytes(data))
    return path


def parquet_corrupt_pages(path: Path) -> Path:
    """Good metadata, garbage pages: the footer opens, reading the rows fails."""
    table = pa.table({"url": [f"https://shop{i}.example/" for i in range(5000)]})
    pq.write_table(table, path, compression="snappy", use_dictionary=False)
    data = bytearray(path.read_bytes())
    for i in range(200, 2000):
        data[i] ^= 0x5A
    path.write_bytes(bytes(data))
    return path


# ---- XLSX ----------------------------------------------------------------------------------
_NS = 'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'
_R = 'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"'
_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_PKG = "http://schemas.openxmlformats.org/package/2006/relationships"


def sheet_xml(rows: list[str], *, dimension: str | None = None) -> bytes:
    """A worksheet part from ``<row>`` elements written out."""
    dim = f'<dimension ref="{dimension}"/>' if dimension else ""
    return f"<worksheet {_NS}>{dim}<sheetData>{''.join(rows)}</sheetData></worksheet>".encode()


def row(r: int, *cells: str) -> str:
    return f'<row r="{r}">{"".join(cells)}</row>'


def s(ref: str, index: int) -> str:
    """A shared-string cell."""
    return f'<c r="{ref}" t="s"><v>{index}</v></c>'


def text(ref: str, value: str) -> str:
    """An inline-string cell."""
    return f'<c r="{ref}" t="inlineStr"><is><t>{value}</t></is></c>'


def num(ref: str, value: str, style: int | None = None) -> str:
    st = f' s="{style}"' if style is not None else ""
    return f'<c r="{ref}"{st}><v>{value}</v></c>'


def xlsx(
    path: Path,
    sheets: list[tuple[str, bytes]] | None = None,
    *,
    strings: list[str] | bytes | None = None,
    states: dict[str, str] | None = None,
    active: int | None = None,
    styles: bytes | None = None,
    extra: dict[str, bytes] | None = None,
) -> Path:
    """A minimal workbook, written part by part with zipfile (deflated, as Excel does)."""
    import zipfile

    sheets = sheets if sheets is not None else []
    states = states or {}
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr(
            "_rels/.rels",
            f'<Relationships xmlns="{_PKG}"><Relationship Id="rId1" '
            f'Type="{_REL}/officeDocument" Target="xl/workbook.xml"/></Relationships>',
        )
        entries = "".join(
            f'<sheet name="{name}" sheetId="{i + 1}" r:id="rId{i + 1}"'
            + (f' state="{states[name]}"' if name in states else "")
            + "/>"
            for i, (name, _) in enumerate(sheets)
        )
        view = f'<bookViews><workbookView activeTab="{active}"/></bookViews>' if active else ""
        z.writestr(
            "xl/workbook.xml",
            f"<workbook {_NS} {_R}>{view}<sheets>{entries}</sheets></workbook>",
        )
        rels = [
            f'<Relationship Id="rId{i + 1}" Type="{_REL}/worksheet" '
            f'Target="worksheets/sheet{i + 1}.xml"/>'
            for i in range(len(sheets))
        ]
        if strings is not None:
            rels.append(f'<Relationship Id="rIdS" Type="{_REL}/sharedStrings" '
                        'Target="sharedStrings.xml"/>')  # fmt: skip
            body = (
                strings
                if isinstance(strings, bytes)
                else f"<sst {_NS}>{''.join(f'<si><t>{v}</t></si>' for v in strings)}</sst>".encode()
            )
            z.writestr("xl/sharedStrings.xml", body)
        if styles is not None:
            rels.append(f'<Relationship Id="rIdT" Type="{_REL}/styles" Target="styles.xml"/>')
            z.writestr("xl/styles.xml", styles)
        z.writestr(
            "xl/_rels/workbook.xml.rels",
            f'<Relationships xmlns="{_PKG}">{"".join(rels)}</Relationships>',
        )
        for i, (_, data) in enumerate(sheets):
            z.writestr(f"xl/worksheets/sheet{i + 1}.xml", data)
        for name, data in (extra or {}).items():
            z.writestr(name, data)
    return path


def shared_strings_stream(count: int, value: str = "x") -> bytes:
    return f"<sst {_NS}>".encode() + f"<si><t>{value}</t></si>".encode() * count + b"</sst>"


DATE_STYLES = (
    f'<styleSheet {_NS}><cellXfs count="2"><xf numFmtId="0"/><xf numFmtId="14"/></cellXfs>'
    "</styleSheet>"
).encode()


def corrupt_member(path: Path, member: str, *, at: float = 0.5, span: int = 64) -> Path:
    """Flip bytes in the middle of one member's compressed data (headers left intact)."""
    import zipfile

    with zipfile.ZipFile(path) as z:
        info = z.getinfo(member)
    data = bytearray(path.read_bytes())
    name_len = int.from_bytes(data[info.header_offset + 26 : info.header_offset + 28], "little")
    extra_len = int.from_bytes(data[info.header_offset + 28 : info.header_offset + 30], "little")
    start = info.header_offset + 30 + name_len + extra_len
    middle = start + int(info.compress_size * at)
    for i in range(middle, min(middle + span, start + info.compress_size)):
        data[i] ^= 0xA5
    path.write_bytes(bytes(data))
    return path
