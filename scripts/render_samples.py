"""Render sample cases into text-layer PDFs and fax-like image PDFs, deterministically.

For each chosen case `sample_notes/cNN_*/` this writes
- `pdf/<document>.pdf`: each text document as a text-layer PDF (Helvetica, hard-wrapped lines);
- `fax/packet.pdf`: every document of the case in one fax packet, cover sheet first, each document
  starting on a new page, every page a 200 dpi 1-bit image with a fax header line, slight skew and
  speckle, and no text layer;
- `fax/rotated.pdf`: the same packet as if fed upside down or sideways, each page turned on its own
  (90, 180 or 270 degrees counter-clockwise in turn, starting from a case-seeded angle).

Same input, same bytes: randomness is seeded by case and page, PDF dates are fixed.
Usage: python scripts/render_samples.py [CASE_DIR ...]   (default: the representative subset below)
"""

from __future__ import annotations

import random
import sys
import textwrap
import time
import zlib
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "sample_notes"
SUBSET = (
    "c01_gbm_recurrence_vs_necrosis",
    "c02_nsclc_brain_met_srs_fax",
    "c04_ring_enhancing_abscess_vs_glioma",
    "c11_tle_mesial_temporal_sclerosis",
    "c13_parkinson_fax_unsigned_note",
    "c20_breast_mets_fax_stale_office_note",
)
FIXED_DATE = time.strptime("2026-01-01", "%Y-%m-%d")
FONT_PATHS = (
    "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
    "/usr/share/fonts/truetype/liberation/LiberationSans-Regular.ttf",
)

# text-layer PDF geometry (points)
PAGE_W, PAGE_H, MARGIN, LEADING, SIZE, WRAP = 612, 792, 54, 13, 10, 96
# fax geometry (pixels at 200 dpi)
DPI, FAX_W, FAX_H, FAX_MARGIN, FAX_SIZE, FAX_LEADING, FAX_WRAP = 200, 1700, 2200, 130, 28, 37, 88


def read_text(path: Path) -> str:
    data = path.read_bytes()
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            return data.decode(encoding).replace("\r\n", "\n")
        except UnicodeDecodeError:
            continue
    return data.decode("latin-1")


def wrap(text: str, width: int) -> list[str]:
    out: list[str] = []
    for para in text.split("\n"):
        out.extend(textwrap.wrap(para, width, break_long_words=False, break_on_hyphens=False) or [""])
    return out


def paginate(lines: list[str], per_page: int) -> list[list[str]]:
    return [lines[i : i + per_page] for i in range(0, len(lines), per_page)] or [[]]


def case_documents(case: Path) -> list[Path]:
    docs = sorted(p for p in case.glob("*.txt"))
    return sorted(docs, key=lambda p: (0 if "cover" in p.name else 1, p.name))


# --- text-layer PDF -------------------------------------------------------------------------------


def _escape(line: str) -> bytes:
    raw = line.encode("cp1252", "replace")
    return raw.replace(b"\\", b"\\\\").replace(b"(", b"\\(").replace(b")", b"\\)")


def text_pdf(text: str) -> bytes:
    pages = paginate(wrap(text, WRAP), (PAGE_H - 2 * MARGIN) // LEADING)
    objects: list[bytes] = [b"<< /Type /Catalog /Pages 2 0 R >>"]
    kids = " ".join(f"{4 + 2 * i} 0 R" for i in range(len(pages)))
    objects.append(f"<< /Type /Pages /Kids [{kids}] /Count {len(pages)} >>".encode())
    objects.append(b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>")
    for i, lines in enumerate(pages):
        ops = [f"BT /F1 {SIZE} Tf {LEADING} TL {MARGIN} {PAGE_H - MARGIN} Td".encode()]
        ops += [b"(" + _escape(line) + b") Tj T*" for line in lines]
        ops.append(b"ET")
        stream = zlib.compress(b"\n".join(ops), 9)
        objects.append(
            f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 {PAGE_W} {PAGE_H}] "
            f"/Resources << /Font << /F1 3 0 R >> >> /Contents {5 + 2 * i} 0 R >>".encode()
        )
        objects.append(b"<< /Length %d /Filter /FlateDecode >>\nstream\n" % len(stream) + stream + b"\nendstream")
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % off for off in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


# --- fax-like image PDF ---------------------------------------------------------------------------


def _font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    for path in FONT_PATHS:
        if Path(path).is_file():
            return ImageFont.truetype(path, size)
    return ImageFont.load_default(size)


def fax_header(case: Path, page: int, total: int) -> str:
    sender = case.name.split("_", 1)[1].replace("_", " ").upper()[:22]
    stamp = f"FEB-18-2026 10:{14 + page // 3:02d}"
    return f"{stamp}   FROM: {sender}   (312) 555-0192   TO: 18005550147   P.{page:03d}/{total:03d}"


def fax_page(lines: list[str], header: str, seed: int) -> Image.Image:
    rng = random.Random(seed)
    image = Image.new("L", (FAX_W, FAX_H), 255)
    draw = ImageDraw.Draw(image)
    draw.text((60, 28), header, font=_font(22), fill=0)
    body = _font(FAX_SIZE)
    for i, line in enumerate(lines):
        draw.text((FAX_MARGIN, FAX_MARGIN + i * FAX_LEADING), line, font=body, fill=0)
    image = image.rotate(rng.uniform(-0.7, 0.7), resample=Image.Resampling.BICUBIC, fillcolor=255)
    pixels = image.load()
    for _ in range(1200):
        x, y = rng.randrange(FAX_W - 2), rng.randrange(FAX_H - 2)
        for dx in range(rng.choice((1, 1, 2))):
            for dy in range(rng.choice((1, 1, 2))):
                pixels[x + dx, y + dy] = 0
    return image.point(lambda v: 255 if v > 150 else 0, mode="1")


def fax_packet(case: Path) -> list[Image.Image]:
    per_page = (FAX_H - 2 * FAX_MARGIN) // FAX_LEADING
    pages: list[list[str]] = []
    for doc in case_documents(case):
        pages += paginate(wrap(read_text(doc), FAX_WRAP), per_page)
    seed = sum(map(ord, case.name))
    return [fax_page(lines, fax_header(case, i + 1, len(pages)), seed * 1000 + i) for i, lines in enumerate(pages)]


def save_fax(images: list[Image.Image], path: Path) -> None:
    images[0].save(
        path,
        "PDF",
        save_all=True,
        append_images=images[1:],
        resolution=float(DPI),
        creationDate=FIXED_DATE,
        modDate=FIXED_DATE,
        producer="render_samples",
        title="fax packet",
    )


ROTATIONS = (90, 180, 270)


def rotated_packet(case: Path) -> list[Image.Image]:
    """The fax packet fed badly: page i turned by ROTATIONS[(seed + i) % 3], so every angle occurs."""
    seed = sum(map(ord, case.name))
    return [im.rotate(ROTATIONS[(seed + i) % 3], expand=True) for i, im in enumerate(fax_packet(case))]


def render_case(case: Path) -> list[Path]:
    written = []
    (case / "pdf").mkdir(exist_ok=True)
    for doc in case_documents(case):
        target = case / "pdf" / f"{doc.stem}.pdf"
        target.write_bytes(text_pdf(read_text(doc)))
        written.append(target)
    (case / "fax").mkdir(exist_ok=True)
    target = case / "fax" / "packet.pdf"
    save_fax(fax_packet(case), target)
    written.append(target)
    target = case / "fax" / "rotated.pdf"
    save_fax(rotated_packet(case), target)
    written.append(target)
    return written


def main(argv: list[str]) -> int:
    cases = [Path(a).resolve() for a in argv] or [SAMPLES / name for name in SUBSET]
    for case in cases:
        for path in render_case(case):
            print(f"{path.relative_to(ROOT)}  {path.stat().st_size // 1024} KB")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
