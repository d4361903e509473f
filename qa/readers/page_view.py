"""One page of a PDF or an image drawn for the source viewer, with its words' boxes on the drawing.

Runs in the parsing worker's child process (a page is drawn under the same
memory and time ceilings as a parse: a PDF's embedded image can ask for
gigabytes), like the readers. The words come from where the reader took
them: the text layer (qa/readers/pdf_words.py) or, for a page read by OCR,
Tesseract's reading of it (from the OCR cache, or read again). Boxes are in
the pixels of the drawing, so a viewer only scales them with the image.

Each word list comes with the orders in which a sentence of the document's
text may run across it (the content stream's, the layout's reading order,
row by row); qa/source.py looks for the sentence in each.
"""

from __future__ import annotations

import base64
import ctypes
import io
from dataclasses import dataclass, field

from ..errors import DocumentError
from .ocr import OcrOptions, from_reading, open_cache, parse_tsv, scale_for

VIEW_DPI = 110  # about 900 pixels across an A4 page: legible, and a PNG of 100-300 kB
MAX_VIEW_PIXELS = 8_000_000  # a page so large it would draw bigger is drawn at a lower resolution


@dataclass
class PageDrawing:
    """A page drawn as PNG, and its words' boxes in the drawing's pixels.

    ``words``: (text, x0, top, x1, bottom); ``orders``: lists of word indices,
    each one way the page's text may be read; ``scale``: pixels per point.
    ``error``: why the words are missing ("" when they are not).
    """

    png: bytes
    width: int
    height: int
    scale: float
    pages: int
    words: list = field(default_factory=list)
    orders: list = field(default_factory=list)
    ocr: bool = False
    error: str = ""

    def to_dict(self) -> dict:
        return {"png": base64.b64encode(self.png).decode("ascii"), "width": self.width, "height": self.height,
                "scale": self.scale, "pages": self.pages, "words": self.words, "orders": self.orders,
                "ocr": self.ocr, "error": self.error}

    @classmethod
    def from_dict(cls, d: dict) -> "PageDrawing":
        return cls(base64.b64decode(d["png"]), int(d["width"]), int(d["height"]), float(d["scale"]),
                   int(d["pages"]), [list(w) for w in d["words"]], [list(o) for o in d["orders"]],
                   bool(d["ocr"]), str(d.get("error", "")))


def draw(kind: str, data: bytes, name: str, page: int, ocr_page: bool, ocr: OcrOptions) -> PageDrawing:
    """Page ``page`` (1-based) of the PDF or image ``data``; ``ocr_page``: its text came from OCR."""
    if kind == "pdf":
        return _draw_pdf(data, name, page, ocr_page, ocr)
    if kind == "image":
        return _draw_image(data, name, page, ocr)
    raise DocumentError(name, f"has no pages to show ({kind})")


def _png(image) -> bytes:
    out = io.BytesIO()
    image.save(out, format="PNG", optimize=False, compress_level=6)
    return out.getvalue()


def _draw_pdf(data: bytes, name: str, number: int, ocr_page: bool, ocr: OcrOptions) -> PageDrawing:
    import pypdfium2 as pdfium
    import pypdfium2.raw as raw

    try:
        pdf = pdfium.PdfDocument(data)
    except pdfium.PdfiumError as exc:
        raise DocumentError(name, f"cannot be opened as a PDF ({exc})")
    try:
        count = len(pdf)
        if not 1 <= number <= count:
            raise DocumentError(name, f"has no page {number} (it has {count})")
        page = pdf[number - 1]
        try:
            w_pt, h_pt = page.get_width(), page.get_height()
            scale = VIEW_DPI / 72.0
            if w_pt * h_pt * scale * scale > MAX_VIEW_PIXELS:
                scale = (MAX_VIEW_PIXELS / (w_pt * h_pt)) ** 0.5
            bitmap = page.render(scale=scale)
            image = bitmap.to_pil()
            width, height = image.size
            if ocr_page:
                words, orders, error = _ocr_words(data, lambda: _render_gray(page, ocr), width, height, number, ocr)
            else:
                words, orders = _layer_words(page, raw, width, height)
                error = ""
        finally:
            page.close()
    finally:
        pdf.close()
    return PageDrawing(_png(image), width, height, width / w_pt if w_pt else scale, count, words, orders,
                       ocr_page, error)


def _render_gray(page, ocr: OcrOptions):
    scale = scale_for(page.get_width(), page.get_height(), ocr)
    return page.render(scale=scale, grayscale=True).to_pil(), 1.0 / scale


def _layer_words(page, raw, width: int, height: int):
    """The text layer's words as the reader takes them, boxed in the drawing's pixels."""
    from .layout import group_blocks, group_rows, is_rtl, reading_order, segments, Box
    from .pdf_words import _from_frame, read_page

    got = read_page(page)
    q, fx0, fy0 = got.frame
    dx, dy = ctypes.c_int(), ctypes.c_int()

    def device(u: float, v: float) -> tuple[int, int]:
        x, y = _from_frame(q, u + fx0, v + fy0)
        raw.FPDF_PageToDevice(page.raw, 0, 0, width, height, 0, x, y, ctypes.byref(dx), ctypes.byref(dy))
        return dx.value, dy.value

    def device_xy(x: float, y: float) -> tuple[int, int]:
        raw.FPDF_PageToDevice(page.raw, 0, 0, width, height, 0, x, y, ctypes.byref(dx), ctypes.byref(dy))
        return dx.value, dy.value

    words = []
    textpage = page.get_textpage()
    try:
        for w in got.words:
            # The glyphs' own boxes: the loose boxes the layout measures with reach the font's ascent
            # and descent, which for some fonts lie well above or below the printed letters.
            tight = _ink_box(textpage.raw, raw, w.order, w.end)
            if tight is not None:
                (ax, ay), (bx, by) = device_xy(tight[0], tight[3]), device_xy(tight[2], tight[1])
            else:
                (ax, ay), (bx, by) = device(w.x0, w.top), device(w.x1, w.bottom)
            words.append([w.text, min(ax, bx), min(ay, by), max(ax, bx), max(ay, by)])
    finally:
        textpage.close()
    index = {id(w): i for i, w in enumerate(got.words)}
    content = sorted(range(len(got.words)), key=lambda i: got.words[i].order)
    rows = group_rows(list(got.words))
    by_rows = [index[id(w)] for row in rows for w in _line_words(row, is_rtl)]
    blocks = group_blocks(segments(rows=rows)) if rows else []
    laid = []
    for box in reading_order([Box(b.x0, b.top, b.x1, b.bottom, b) for b in blocks]):
        for line in box.item.lines:
            laid.extend(index[id(w)] for w in _line_words(line.words, is_rtl))
    return words, [o for o in (laid, content, by_rows) if o]


def _ink_box(h, raw, a: int, b: int, most: int = 400):
    """The union of the tight boxes of characters ``a``-``b`` (user space: left, bottom, right,
    top), None when none has one (spaces only, or a range that is no word's)."""
    left = right = bottom = top = None
    l, r, lo, hi = ctypes.c_double(), ctypes.c_double(), ctypes.c_double(), ctypes.c_double()
    for i in range(a, min(b, a + most)):
        if not raw.FPDFText_GetCharBox(h, i, ctypes.byref(l), ctypes.byref(r), ctypes.byref(lo), ctypes.byref(hi)):
            continue
        if r.value - l.value <= 0 or hi.value - lo.value <= 0:
            continue
        left = l.value if left is None else min(left, l.value)
        right = r.value if right is None else max(right, r.value)
        bottom = lo.value if bottom is None else min(bottom, lo.value)
        top = hi.value if top is None else max(top, hi.value)
    return None if left is None else (left, bottom, right, top)


def _line_words(words, is_rtl):
    words = sorted(words, key=lambda w: w.x0)
    return list(reversed(words)) if is_rtl(words) else words


def _ocr_words(data: bytes, render, width: int, height: int, number: int, ocr: OcrOptions):
    """A page's OCR words boxed in the drawing's pixels (``width`` x ``height``): from the OCR
    cache, or read again (and kept there) when the cache has none."""
    from .ocr import ocr_pages

    cache = open_cache(data, ocr)
    reading = cache.get(number) if cache is not None else None
    if reading is None:
        got = dict(ocr_pages(lambda n: render(), [number], ocr, None, cache))
        if cache is not None:
            cache.save()
            reading = cache.get(number)
        if reading is None:
            return [], [], got[number].error or "the page's words could not be read again"
    if reading.error:
        return [], [], reading.error
    words = parse_tsv(reading.tsv)
    # The reading's pixels are of the image Tesseract read: the page drawn at OCR's resolution, then
    # turned clockwise by ``turned`` degrees when it read upright only so.
    turned = reading.turned % 360
    w_read, h_read = (reading.height, reading.width) if turned in (90, 270) else (reading.width, reading.height)
    sx, sy = width / max(1, w_read), height / max(1, h_read)
    out = []
    for wd in words:
        corners = [_unturn(x, y, turned, reading.width, reading.height) for x, y in
                   ((wd.x0, wd.top), (wd.x1, wd.bottom))]
        xs, ys = [c[0] * sx for c in corners], [c[1] * sy for c in corners]
        out.append([wd.text, min(xs), min(ys), max(xs), max(ys)])
    page = from_reading(reading)  # straightened: its rows are the page's lines even when askew
    from .layout import group_rows

    rows = group_rows(list(page.words))
    by_rows = [w.order for row in rows for w in sorted(row, key=lambda w: w.x0)]
    return out, [list(range(len(out))), by_rows], ""


def _unturn(x: float, y: float, turned: int, w: int, h: int) -> tuple[float, float]:
    """A point of the image turned clockwise by ``turned`` degrees (``w`` x ``h`` after turning)
    back in the image as drawn."""
    if turned == 90:
        return y, w - x
    if turned == 180:
        return w - x, h - y
    if turned == 270:
        return h - y, x
    return x, y


def _draw_image(data: bytes, name: str, number: int, ocr: OcrOptions) -> PageDrawing:
    from PIL import Image, ImageOps

    from .image import _dpi, ocr_frame

    Image.MAX_IMAGE_PIXELS = ocr.max_pixels * 4
    try:
        image = Image.open(io.BytesIO(data))
        count = int(getattr(image, "n_frames", 1) or 1)
        if not 1 <= number <= count:
            raise DocumentError(name, f"has no page {number} (it has {count})")
        image.seek(number - 1)
        frame = ImageOps.exif_transpose(image)
    except (OSError, ValueError, Image.DecompressionBombError) as exc:
        raise DocumentError(name, f"is not an image that can be shown ({type(exc).__name__}: {str(exc)[:160]})")
    dpi = _dpi(image)
    w_pt = frame.width * 72.0 / dpi
    factor = min(1.0, (VIEW_DPI / dpi), (MAX_VIEW_PIXELS / max(1, frame.width * frame.height)) ** 0.5)
    shown = frame.convert("RGB")
    if factor < 1.0:
        shown = shown.resize((max(1, int(frame.width * factor)), max(1, int(frame.height * factor))))
    width, height = shown.size

    words, orders, error = _ocr_words(data, lambda: ocr_frame(frame, dpi, ocr.max_pixels), width, height, number, ocr)
    return PageDrawing(_png(shown), width, height, width / w_pt, count, words, orders, True, error)
