"""Bad and hostile PDFs: each is one clear line naming the file, never a traceback, a hang or a crash.

Every PDF is read in a worker process with a memory cap and a deadline (extractor.sandbox), so a
decompression bomb or a pathological file costs that document, not the case, the batch or the server.
"""

import json
import os
import zlib

import pytest

from extractor.config import Settings
from extractor.errors import DocumentError
from extractor.ingest.files import read_file
from extractor.ingest.sandbox import read_pdf
from tests.helpers import SAMPLES, assemble, make_pdf, page_with_stream, run

NOTE = [
    "NEURO-ONCOLOGY OFFICE VISIT",
    "Left frontal glioblastoma s/p GTR and chemoradiation; recurrence versus necrosis.",
]
CATALOG = b"<< /Type /Catalog /Pages 2 0 R >>"


def encrypted_pdf() -> bytes:
    """A PDF under the Standard security handler whose user password is not empty."""
    return assemble(
        [
            CATALOG,
            b"<< /Type /Pages /Kids [] /Count 0 >>",
            b"<< /Filter /Standard /V 1 /R 2 /O <" + b"11" * 32 + b"> /U <" + b"22" * 32 + b"> /P -44 >>",
        ],
        b"/Encrypt 3 0 R /ID [<0123456789abcdef0123456789abcdef> <0123456789abcdef0123456789abcdef>] ",
    )


def nested_pdf(depth: int = 200_000) -> bytes:
    deep = b"[" * depth + b"]" * depth
    return assemble(
        [
            b"<< /Type /Catalog /Pages 2 0 R /Deep " + deep + b" >>",
            b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources << /X " + deep + b" >> >>",
        ]
    )


def bomb_pdf(megabytes: int) -> bytes:
    """A ~1000:1 Flate content stream: a few hundred KB on disk, `megabytes` of page operators inflated."""
    packer = zlib.compressobj(9)
    chunk = b"0 " * (1 << 19)
    stream = b"".join(packer.compress(chunk) for _ in range(megabytes)) + packer.flush()
    return page_with_stream(stream, b"/Filter /FlateDecode ")


HOSTILE = {
    "empty": (b"", "file is empty"),
    "truncated": (make_pdf([NOTE] * 3)[:300], "damaged PDF (cannot parse)"),
    "random_bytes": (bytes(range(256)) * 40, "not a PDF (no %PDF- header)"),
    "html": (b"<!DOCTYPE html><html><body>Login</body></html>", "not a PDF (no %PDF- header)"),
    "encrypted": (encrypted_pdf(), "PDF is encrypted (password protected)"),
    "zero_pages": (assemble([CATALOG, b"<< /Type /Pages /Kids [] /Count 0 >>"]), "PDF has no pages"),
    "cyclic_page_tree": (
        assemble([CATALOG, b"<< /Type /Pages /Kids [2 0 R 3 0 R] /Count 2 >>", b"<< /Type /Pages /Kids [2 0 R] >>"]),
        "damaged PDF (cannot load page 1)",
    ),
    "deeply_nested": (nested_pdf(), "PDF has no text (no text layer, and OCR found none)"),
}


@pytest.mark.parametrize("kind", sorted(HOSTILE))
def test_hostile_pdf_is_one_clear_error(kind, tmp_path):
    data, reason = HOSTILE[kind]
    path = tmp_path / f"{kind}.pdf"
    path.write_bytes(data)
    with pytest.raises(DocumentError) as err:
        read_file(path)
    assert str(err.value) == reason


def test_pdf_alone_that_cannot_be_read_exits_2_with_one_line(tmp_path):
    path = tmp_path / "locked.pdf"
    path.write_bytes(encrypted_pdf())
    out = run("prefill", path)
    assert out.returncode == 2
    assert out.stderr == "error: locked.pdf: PDF is encrypted (password protected)\n"


def test_decompression_bomb_beside_a_good_note_costs_only_itself(tmp_path):
    bomb = tmp_path / "bomb.pdf"
    bomb.write_bytes(bomb_pdf(256))
    assert bomb.stat().st_size < 400_000
    good = tmp_path / "note.pdf"
    good.write_bytes(make_pdf([NOTE]))
    out = run("prefill", bomb, good, env_extra={"EXTRACTOR_PDF_MEMORY_MB": "512"})
    assert out.returncode == 0, out.stderr
    docs = {d["name"]: d for d in json.loads(out.stdout)["documents"]}
    assert docs["note.pdf"]["error"] is None and docs["note.pdf"]["pages"] == 1
    assert docs["bomb.pdf"]["error"].startswith(("PDF crashed the reader", "PDF needs more than 512 MB"))
    assert "Traceback" not in out.stderr


def test_500_page_pdf_is_read_within_bounds_and_a_page_limit_refuses_it():
    data = make_pdf([[f"Progress note {i}: glioblastoma stable after radiation."] for i in range(500)])
    docs = read_pdf("long.pdf", data, Settings())
    assert len(docs) == 1 and docs[0].pages == 500 and docs[0].page_of(len(docs[0].text) - 2) == 500
    with pytest.raises(DocumentError, match=r"PDF has 500 pages \(limit 100\)"):
        read_pdf("long.pdf", data, Settings(pdf_max_pages=100))


def test_page_200_inches_wide_is_rendered_within_the_pixel_cap():
    data = page_with_stream(b"", media=b"[0 0 14400 792]")
    with pytest.raises(DocumentError, match="no text"):
        read_pdf("wide.pdf", data, Settings(ocr_max_pixels=8_000_000))
    with pytest.raises(DocumentError, match=r"too large to OCR \(200 x 11 in\)"):
        read_pdf("wide.pdf", data, Settings(ocr_max_pixels=2_000_000))


def test_deadline_kills_the_worker_and_the_next_document_is_read():
    fax = (SAMPLES / "c02_nsclc_brain_met_srs_fax" / "fax" / "packet.pdf").read_bytes()
    with pytest.raises(DocumentError, match=r"took longer than 0.5 s to read \(time limit\)"):
        read_pdf("packet.pdf", fax, Settings(pdf_timeout_s=0.5))
    assert read_pdf("note.pdf", make_pdf([NOTE]), Settings())[0].text.startswith("NEURO-ONCOLOGY")


def test_oversized_file_is_refused_before_reading():
    with pytest.raises(DocumentError, match=r"PDF is 2 MB \(limit 1 MB\)"):
        read_pdf("big.pdf", b"%PDF-1.4\n" + b" " * (2 << 20), Settings(pdf_max_bytes=1 << 20))


def test_worker_memory_cap_is_applied_in_the_worker(tmp_path):
    """RLIMIT_AS from Settings.pdf_memory_mb: a bomb that a 2 GB worker survives is refused under 256 MB."""
    data = bomb_pdf(128)
    with pytest.raises(DocumentError, match=r"PDF has no text"):
        read_pdf("bomb.pdf", data, Settings())
    with pytest.raises(DocumentError, match=r"PDF crashed the reader|PDF needs more than 256 MB"):
        read_pdf("bomb.pdf", data, Settings(pdf_memory_mb=256))


def test_a_worker_that_died_while_idle_is_replaced():
    from extractor.ingest import sandbox

    read_pdf("note.pdf", make_pdf([NOTE]), Settings())
    for worker in list(sandbox._idle):
        os.kill(worker.proc.pid, 9)
        worker.proc.wait()
    assert read_pdf("note.pdf", make_pdf([NOTE]), Settings())[0].pages == 1


def test_pdfs_read_from_many_threads_at_once_all_come_back():
    """A web server's threads share the bounded workers; each caller gets its own document."""
    from concurrent.futures import ThreadPoolExecutor

    notes = [make_pdf([[f"NEURO-ONCOLOGY OFFICE VISIT {i}", "Glioblastoma s/p chemoradiation."]]) for i in range(6)]
    with ThreadPoolExecutor(max_workers=6) as pool:
        docs = list(pool.map(lambda i: read_pdf(f"n{i}.pdf", notes[i], Settings())[0], range(6)))
    assert [d.text.split("\n")[0] for d in docs] == [f"NEURO-ONCOLOGY OFFICE VISIT {i}" for i in range(6)]
