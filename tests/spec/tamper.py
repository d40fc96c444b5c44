"""What tampering with a signed PDF looks like, as a forger holding the file would do it:
shared by the PAdES tests and the verification tests."""

from __future__ import annotations

import io
import re

from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.reader import PdfFileReader


def flip_in_page_content(pdf: bytes) -> bytes:
    """One bit changed inside the first page's content stream, which every signature covers."""
    page = PdfFileReader(io.BytesIO(pdf)).root["/Pages"]["/Kids"][0]
    contents = page.raw_get("/Contents")
    assert isinstance(contents, generic.IndirectObject)
    header = re.search(rb"(?<![0-9])%d 0 obj" % contents.idnum, pdf)
    assert header is not None
    start = pdf.index(b"stream", header.end()) + len(b"stream\n") + 5
    return pdf[:start] + bytes([pdf[start] ^ 0x01]) + pdf[start + 1 :]


def write_in_padding(pdf: bytes) -> bytes:
    """A hex digit written into the zeros that pad the last signature's /Contents: the one part
    of a signed revision that no signature covers."""
    last = PdfFileReader(io.BytesIO(pdf)).embedded_regular_signatures[-1]
    at = last.byte_range[2] - 2  # the last hex digit before the closing ">"
    assert pdf[at : at + 2] == b"0>"
    return pdf[:at] + b"7" + pdf[at + 1 :]


def update(pdf: bytes, change) -> bytes:
    """An incremental update made with pyHanko's writer, as a forger with the file would."""
    buffer = io.BytesIO(pdf)
    writer = IncrementalPdfFileWriter(buffer)
    change(writer)
    writer.write_in_place()
    return buffer.getvalue()


def draw_on_page(writer: IncrementalPdfFileWriter) -> None:
    rectangle = writer.add_object(generic.StreamObject(stream_data=b"0 0 1 rg 20 20 200 40 re f"))
    writer.add_stream_to_page(0, rectangle)


def retitle(writer: IncrementalPdfFileWriter) -> None:
    writer.document_meta.title = "Another specification"


def drop_field(name: str):
    def change(writer: IncrementalPdfFileWriter) -> None:
        def others(array):
            return generic.ArrayObject(r for r in array if r.get_object().get("/T") != name)

        form_ref = writer.root.raw_get("/AcroForm")
        form = form_ref.get_object()
        form["/Fields"] = others(form["/Fields"])
        writer.mark_update(form_ref)
        page_ref = writer.find_page_for_modification(0)[0]
        page = page_ref.get_object()
        page["/Annots"] = others(page["/Annots"])
        writer.mark_update(page_ref)

    return change
