"""Text-layer PDFs through pdfplumber, keeping every character's page and box.

Scanned pages (no text layer) get a warning here; OCR and hostile-file isolation come with PDF intake.
"""

from __future__ import annotations

import io

from .errors import DocumentError
from .ingest import Document, classify, sha256_bytes

MAX_PAGES = 2000


def read_pdf_document(name: str, data: bytes) -> Document:
    import pdfplumber
    from pdfminer.pdfdocument import PDFEncryptionError, PDFPasswordIncorrect
    from pdfminer.pdfparser import PDFSyntaxError

    start = data.find(b"%PDF-")
    if start < 0:
        raise DocumentError("not a PDF (no %PDF- header)")
    try:
        with pdfplumber.open(io.BytesIO(data[start:])) as pdf:
            pages = pdf.pages
            if not pages:
                raise DocumentError("PDF has no pages")
            if len(pages) > MAX_PAGES:
                raise DocumentError(f"PDF has {len(pages)} pages (limit {MAX_PAGES})")
            text: list[str] = []
            boxes: list[tuple[float, float, float, float] | None] = []
            page_starts: list[int] = []
            empty_pages: list[int] = []
            for number, page in enumerate(pages, start=1):
                page_starts.append(len(text))
                lines = page.extract_text_lines(return_chars=True, strip=True)
                if not lines:
                    empty_pages.append(number)
                for line in lines:
                    prev = None
                    for ch in line["chars"]:
                        if prev is not None and ch["x0"] - prev["x1"] > 0.25 * max(ch.get("size", 10), 1):
                            text.append(" ")
                            boxes.append(None)
                        text.append(ch["text"])
                        boxes.append((ch["x0"], ch["top"], ch["x1"], ch["bottom"]))
                        prev = ch
                    text.append("\n")
                    boxes.append(None)
                text.append("\f")
                boxes.append(None)
    except DocumentError:
        raise
    except (PDFPasswordIncorrect, PDFEncryptionError):
        raise DocumentError("PDF is encrypted (password protected)") from None
    except PDFSyntaxError:
        raise DocumentError("damaged PDF (cannot parse)") from None
    except Exception as exc:
        raise DocumentError(f"damaged PDF ({type(exc).__name__})") from None
    joined = "".join(text)
    if not joined.strip():
        raise DocumentError("PDF has no text layer (scanned pages need OCR)")
    doc = Document(name=name, sha256=sha256_bytes(data), text=joined, page_starts=page_starts, boxes=boxes)
    if empty_pages:
        doc.warnings.append(f"pages without a text layer (not read): {', '.join(map(str, empty_pages))}")
    doc.doc_type = classify(joined)
    return doc
