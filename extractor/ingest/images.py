"""Page images for the case page: every page of a PDF as a PNG, rendered once at intake.

Runs inside the bounded worker of sandbox.py (memory cap and deadline), so the web server process never
opens a PDF. A page is drawn at Settings.page_image_scale (1.5: 108 dpi, readable fax text, ~100-200 KB a
letter page), smaller when that would pass Settings.page_image_max_pixels (a poster-sized page is drawn
within the cap, as OCR's renders are)."""

from __future__ import annotations

import io

from extractor.config import Settings

from .pdf import open_pdf


def render_pngs(data: bytes, rotation: dict[int, int], settings: Settings) -> list[bytes]:
    """PNG of every page; `rotation` (1-based page -> degrees clockwise) shows a page fed upside down or
    sideways the way OCR read it, so the finding boxes lie on its words."""
    pdf = open_pdf(data)
    try:
        out = []
        for i in range(len(pdf)):
            page = pdf[i]
            try:
                width, height = page.get_size()
                scale = settings.page_image_scale
                if width * height * scale * scale > settings.page_image_max_pixels:
                    scale = (settings.page_image_max_pixels / (width * height)) ** 0.5
                image = page.render(scale=scale, rotation=rotation.get(i + 1, 0) % 360).to_pil()
            finally:
                page.close()
            buf = io.BytesIO()
            image.save(buf, format="PNG", optimize=False)
            out.append(buf.getvalue())
        return out
    finally:
        pdf.close()
