"""XLSX writing shared by the ledger and the notices: text cells are always text (never formulas:
enterprise names are typed by staff and can start with "="; see audit/export.py), numbers stay
numbers so totals can be checked in a spreadsheet."""

from __future__ import annotations

import io
from collections.abc import Iterable, Sequence
from datetime import date
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from audit.export import _ILLEGAL_XML


def put(ws: Worksheet, row: int, col: int, value: Any) -> None:
    cell = ws.cell(row=row, column=col)
    if value is None:
        cell.value = ""
        cell.data_type = "s"
    elif isinstance(value, bool):
        cell.value = "是" if value else "否"
        cell.data_type = "s"
    elif isinstance(value, (int, float)):
        cell.value = value
    else:
        cell.value = _ILLEGAL_XML.sub("\ufffd", value.isoformat() if isinstance(value, date) else str(value))
        cell.data_type = "s"  # text, even when it starts with "=": never a formula


def sheet(wb: Workbook, title: str, heading: str, subtitle: str, headers: Sequence[str],
          rows: Iterable[Sequence[Any]], widths: Sequence[int], footer: Sequence[str] = ()) -> Worksheet:
    """A sheet in the layout district offices hand in: a title line, a line saying who/when, the
    header row, the data rows, then footer lines (totals, notes)."""
    ws = wb.create_sheet(title)
    n = len(headers)
    put(ws, 1, 1, heading)
    ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=n)
    ws.cell(1, 1).font = Font(bold=True, size=14)
    ws.cell(1, 1).alignment = Alignment(horizontal="center")
    put(ws, 2, 1, subtitle)
    ws.merge_cells(start_row=2, start_column=1, end_row=2, end_column=n)
    for c, h in enumerate(headers, start=1):
        put(ws, 3, c, h)
        ws.cell(3, c).font = Font(bold=True)
    r = 3
    for values in rows:
        r += 1
        for c, v in enumerate(values, start=1):
            put(ws, r, c, v)
    for line in footer:
        r += 1
        put(ws, r, 1, line)
        ws.merge_cells(start_row=r, start_column=1, end_row=r, end_column=n)
    for c, w in enumerate(widths, start=1):
        ws.column_dimensions[get_column_letter(c)].width = w
    ws.freeze_panes = "A4"
    return ws


def new_workbook() -> Workbook:
    wb = Workbook()
    wb.remove(wb.active)
    return wb


def to_bytes(wb: Workbook) -> bytes:
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()
