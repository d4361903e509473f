"""Images (PNG, JPEG, TIFF): a photo or scan of pages, read by OCR, one page per frame.

Runs inside the parsing worker's child process, like the PDF reader, and
shares its OCR and layout (qa/readers/pdf.py): a scanned page is read the
same whether it came as a PDF or as an image. A multi-page TIFF is one
document of several pages. The image's own resolution (its DPI tag) gives
the points per pixel; without one, 300 dpi is assumed (only sizes, never
the words, depend on it). A camera's EXIF orientation is applied first.
"""

from __future__ import annotations

import io

from ..errors import DocumentError
from ._base import Limits, Parsed
from .ocr import INSTALL_HINT, OcrOptions, engine, open_cache
from .pdf import compose, ocr_into, ocr_note, ocr_warnings

DEFAULT_DPI = 300.0


def parse(data: bytes, name: str, limits: Limits, ocr: OcrOptions | None = None, progress=None) -> Parsed:
    ocr = ocr or OcrOptions()
    if ocr.mode == "off":
        raise DocumentError(name, "is an image: docqa reads images with OCR, which is off (QA_OCR=off); "
                                  "set QA_OCR=auto to read it")
    if engine() is None:
        raise DocumentError(name, f"is an image: docqa reads images with OCR, which needs Tesseract: {INSTALL_HINT}")
    from PIL import Image, ImageOps, UnidentifiedImageError

    Image.MAX_IMAGE_PIXELS = ocr.max_pixels * 4  # beyond this PIL raises: a decompression bomb, not a page
    try:
        image = Image.open(io.BytesIO(data))
        frames = int(getattr(image, "n_frames", 1) or 1)
    except (UnidentifiedImageError, Image.DecompressionBombError, OSError, ValueError) as exc:
        raise DocumentError(name, f"is not an image that can be read ({type(exc).__name__}: {str(exc)[:160]})")
    if frames > limits.max_pages:
        raise DocumentError(name, f"has {frames:,} frames (pages), above the limit of {limits.max_pages:,}; "
                                  "split it into smaller files")
    dpi = _dpi(image)

    def render(number: int):
        image.seek(number - 1)
        return ocr_frame(ImageOps.exif_transpose(image), dpi, ocr.max_pixels)

    pages: list[list] = [[] for _ in range(frames)]
    heights, bodies = [0.0] * frames, [10.0] * frames
    try:
        done, blank, failed = ocr_into(render, list(range(1, frames + 1)), ocr, progress, pages, heights, bodies,
                                       open_cache(data, ocr))
    except (OSError, ValueError, Image.DecompressionBombError) as exc:
        raise DocumentError(name, f"is a damaged image ({type(exc).__name__}: {str(exc)[:160]})")
    warnings = ocr_warnings(failed, ocr)
    if not any(pages):
        if warnings:
            raise DocumentError(name, f"has no text that could be read: {warnings[0]}")
        raise DocumentError(name, "has no text: OCR found no words in it")
    text, starts, blocks, tables, truncated, title = compose(pages, heights, bodies, limits.max_chars)
    if truncated:
        warnings.append(f"only the first {limits.max_chars:,} characters were read; the rest is not indexed")
    warnings.insert(0, ocr_note(done, whole=frames == 1))
    return Parsed(text=text, title=title, pages=tuple(starts), warnings=tuple(warnings), paragraphs=tuple(blocks),
                  tables=tuple(tables), ocr_pages=tuple(done))


def ocr_frame(frame, dpi: float, max_pixels: int):
    """A frame (upright) as OCR reads it: grayscale, at most ``max_pixels``; and its points per pixel."""
    gray, per_px = frame.convert("L"), 72.0 / dpi
    if gray.width * gray.height > max_pixels:
        factor = (max_pixels / (gray.width * gray.height)) ** 0.5
        gray = gray.resize((max(1, int(gray.width * factor)), max(1, int(gray.height * factor))))
        per_px /= factor
    return gray, per_px


def _dpi(image) -> float:
    dpi = image.info.get("dpi")
    try:
        value = float(dpi[0]) if isinstance(dpi, (tuple, list)) else float(dpi) if dpi else 0.0
    except (TypeError, ValueError):
        value = 0.0
    return value if 50.0 <= value <= 2400.0 else DEFAULT_DPI
