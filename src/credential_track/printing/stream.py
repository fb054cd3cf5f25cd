"""Many pages in one PDF without holding them all in memory.

reportlab keeps every page of a canvas in memory until `save()`. For bulk
labels (thousands of pages) we draw `chunk` pages per canvas into a buffer,
then copy that chunk's objects into the output file under new object numbers,
and finally write one page tree, catalog and cross-reference table for all of
them. Only reportlab's own output is read here (classic xref table, no object
streams), so the parser can stay small.
"""
from __future__ import annotations

import hashlib
import io
import re
from collections.abc import Callable, Iterable
from typing import BinaryIO, TypeVar

T = TypeVar("T")

_REF = re.compile(rb"(\d+) 0 R")
_OBJ_HEAD = re.compile(rb"^(\d+) 0 obj")
_TAG = re.compile(rb"/([A-Z]{6})\+")


class _Out:
    """The output PDF being written: objects 1-3 are reserved for the catalog,
    the page tree and the document information, written last."""

    CATALOG, PAGES, INFO = 1, 2, 3

    def __init__(self, out: BinaryIO):
        self.out = out
        self.pos = 0
        self.offsets: list[int] = [0, 0, 0, 0]  # index = object number
        self.kids: list[int] = []
        self._write(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")

    def _write(self, data: bytes) -> None:
        self.out.write(data)
        self.pos += len(data)

    def add_object(self, number: int, body: bytes) -> None:
        if number >= len(self.offsets):
            self.offsets.extend([0] * (number + 1 - len(self.offsets)))
        self.offsets[number] = self.pos
        self._write(b"%d 0 obj\n" % number)
        self._write(body)
        self._write(b"\nendobj\n")

    def next_number(self) -> int:
        return len(self.offsets)

    def close(self, title: str, doc_id: bytes) -> None:
        kids = b" ".join(b"%d 0 R" % k for k in self.kids)
        self.add_object(self.PAGES, b"<< /Type /Pages /Count %d /Kids [ %s ] >>" % (len(self.kids), kids))
        self.add_object(self.CATALOG, b"<< /Type /Catalog /Pages %d 0 R /PageMode /UseNone >>" % self.PAGES)
        safe = title.encode("ascii", "replace").replace(b"\\", b"").replace(b"(", b"").replace(b")", b"")
        self.add_object(self.INFO, b"<< /Title (%s) /Creator (Credential Track) /Producer (ReportLab) >>" % safe)
        xref = self.pos
        lines = [b"xref\n0 %d\n" % len(self.offsets), b"0000000000 65535 f \n"]
        lines += [b"%010d 00000 n \n" % off for off in self.offsets[1:]]
        self._write(b"".join(lines))
        hexid = doc_id.hex().encode()
        self._write(b"trailer\n<< /Size %d /Root %d 0 R /Info %d 0 R /ID [<%s><%s>] >>\nstartxref\n%d\n%%%%EOF\n"
                    % (len(self.offsets), self.CATALOG, self.INFO, hexid, hexid, xref))


def _objects(pdf: bytes) -> tuple[dict[int, bytes], int, int]:
    """The objects of a reportlab PDF by number (bytes between `N 0 obj` and
    `endobj`), and the numbers of its catalog and info objects."""
    start = int(re.search(rb"startxref\s+(\d+)", pdf[-200:]).group(1))
    m = re.match(rb"xref\s+0 (\d+)\s+", pdf[start:])
    count = int(m.group(1))
    table = pdf[start + m.end(): start + m.end() + 20 * count]
    offsets = {i: int(table[20 * i: 20 * i + 10]) for i in range(1, count)}
    trailer = pdf[start:]
    root = int(re.search(rb"/Root (\d+) 0 R", trailer).group(1))
    info_m = re.search(rb"/Info (\d+) 0 R", trailer)
    bounds = sorted(offsets.values()) + [start]
    following = {a: b for a, b in zip(bounds, bounds[1:])}
    objs = {}
    for num, off in offsets.items():
        chunk = pdf[off: following[off]]
        head = _OBJ_HEAD.match(chunk)
        end = chunk.rindex(b"endobj")
        objs[num] = chunk[head.end(): end].strip(b"\r\n")
    return objs, root, int(info_m.group(1)) if info_m else -1


def _append_pdf(out: _Out, pdf: bytes, chunk_no: int) -> None:
    objs, root, info = _objects(pdf)
    pages_num = int(re.search(rb"/Pages (\d+) 0 R", objs[root]).group(1))
    kids = [int(k) for k in _REF.findall(re.search(rb"/Kids \[(.*?)\]", objs[pages_num], re.S).group(1))]
    base = out.next_number()
    skip = {root, info, pages_num}
    keep = sorted(n for n in objs if n not in skip)
    renumber = {n: base + i for i, n in enumerate(keep)}
    renumber[pages_num] = _Out.PAGES

    def tag(m: re.Match) -> bytes:  # a subset tag unique to this chunk's font subset
        digest = hashlib.md5(b"%d" % chunk_no + m.group(1)).digest()
        return b"/" + bytes(65 + b % 26 for b in digest[:6]) + b"+"

    for n in keep:
        body = objs[n]
        split = body.find(b"stream\n")
        if split == -1:
            split = body.find(b"stream\r\n")
        head, rest = (body, b"") if split == -1 else (body[:split], body[split:])
        head = _REF.sub(lambda m: b"%d 0 R" % renumber[int(m.group(1))], head)
        head = _TAG.sub(tag, head)
        out.add_object(renumber[n], head + rest)
    out.kids.extend(renumber[k] for k in kids)


def write_chunked(items: Iterable[T], out: BinaryIO, *, new_canvas: Callable[[BinaryIO], object],
                  draw: Callable[[object, T], None], chunk: int = 500, title: str = "",
                  progress: Callable[[int], None] | None = None) -> int:
    """Draw each item (one or more pages each) with `draw(canvas, item)`,
    `chunk` items per canvas, into one PDF written to `out`. Returns the
    number of items drawn. An empty `items` gives a valid PDF with no pages."""
    writer = _Out(out)
    digest = hashlib.md5()
    done = 0
    chunk_no = 0
    batch: list[T] = []

    def flush() -> None:
        nonlocal chunk_no
        if not batch:
            return
        buf = io.BytesIO()
        canvas = new_canvas(buf)
        for item in batch:
            draw(canvas, item)
        canvas.save()
        pdf = buf.getvalue()
        digest.update(pdf[:64] + pdf[-64:])
        _append_pdf(writer, pdf, chunk_no)
        chunk_no += 1
        if progress:
            progress(len(batch))
        batch.clear()

    for item in items:
        batch.append(item)
        done += 1
        if len(batch) >= chunk:
            flush()
    flush()
    writer.close(title, digest.digest())
    return done
