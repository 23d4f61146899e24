"""Deterministic XLSX files: the same rows give byte-identical workbooks.

openpyxl stamps the wall clock twice: into docProps/core.xml (``save`` overwrites ``modified``) and
into every zip entry's time. Both are pinned to a caller-given timestamp (the report's own date),
so drops are a pure function of their content.
"""
from __future__ import annotations

import datetime as dt
import io
import zipfile
from pathlib import Path

from openpyxl import Workbook
from openpyxl.writer.excel import ExcelWriter


def write_xlsx(path: Path, sheet: str, header: list[str], rows, stamp: dt.datetime) -> int:
    """Write one sheet (header + rows) to ``path``; returns the number of data rows."""
    wb = Workbook(write_only=True)
    wb.properties.creator = "Riverton demo city"
    wb.properties.created = stamp
    ws = wb.create_sheet(sheet)
    ws.append(header)
    n = 0
    for row in rows:
        ws.append(row)
        n += 1
    buffer = io.BytesIO()
    archive = zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, allowZip64=True)
    wb.properties.modified = stamp  # ExcelWriter (unlike Workbook.save) keeps it
    ExcelWriter(wb, archive).save()
    zip_time = stamp.timetuple()[:6]
    with zipfile.ZipFile(buffer) as src, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            pinned = zipfile.ZipInfo(info.filename, date_time=zip_time)
            pinned.compress_type = zipfile.ZIP_DEFLATED
            pinned.external_attr = 0o644 << 16
            dst.writestr(pinned, src.read(info.filename))
    return n
