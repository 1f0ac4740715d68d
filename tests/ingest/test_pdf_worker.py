"""The PDF worker carries no secrets and leaves no traces: minimal environment, no core dumps, JSON replies."""

import io
import json
import struct
import subprocess
import sys
from pathlib import Path

import pypdfium2 as pdfium
import pytest

from extractor.config import Settings
from extractor.ingest import sandbox
from extractor.ingest.pdf import parse_pdf, read_pages
from tests.helpers import SAMPLE_PAGES, SAMPLES, make_pdf


def test_the_worker_has_no_database_url_no_secret_and_no_core_dumps(monkeypatch):
    monkeypatch.setenv("EXTRACTOR_DATABASE_URL", "postgresql+psycopg://app:hunter22@db/phi")
    monkeypatch.setenv("EXTRACTOR_SESSION_SECRET", "s3cret")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "abc")
    worker = sandbox._Worker(Settings())
    try:
        worker.call("read", make_pdf([["hello"]]), Settings())  # it answered: its limits are set
        pid = worker.proc.pid
        environ = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
        names = {e.split(b"=", 1)[0].decode() for e in environ if e}
        assert not {"EXTRACTOR_DATABASE_URL", "EXTRACTOR_SESSION_SECRET", "AWS_SECRET_ACCESS_KEY"} & names
        assert b"hunter22" not in b"".join(environ)
        limits = Path(f"/proc/{pid}/limits").read_text().splitlines()
        core = next(line for line in limits if line.startswith("Max core file size")).split()
        assert core[4:6] == ["0", "0"]
    finally:
        worker.kill()


def test_the_settings_sent_with_a_request_are_only_pdf_and_ocr_ones():
    sent = sandbox.worker_settings(Settings(database_url="postgresql://u:pw@h/db"))
    assert sent and all(k.startswith(("pdf_", "ocr_")) for k in sent)
    assert "pw@" not in json.dumps(sent)


def _raw_exchange(data: bytes, op: str = "read", rotation: list | None = None) -> bytes:
    """One request to a worker started by hand; its reply's bytes as they came."""
    env = sandbox.worker_env(2048)
    root = str(Path(sandbox.__file__).resolve().parents[2])
    proc = subprocess.Popen(
        [sys.executable, "-I", "-c", sandbox._BOOT, root], stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=env
    )
    request = {"op": op, "settings": sandbox.worker_settings(Settings()), "rotation": rotation or []}
    head = json.dumps(request).encode()
    out, _ = proc.communicate(struct.pack("!QQ", len(head), len(data)) + head + data, timeout=120)
    (size,) = struct.unpack("!Q", out[:8])
    return out[8 : 8 + size]


def test_the_worker_answers_in_json_that_decodes_to_the_same_reading_and_documents():
    data = make_pdf(SAMPLE_PAGES)
    reply = json.loads(_raw_exchange(data))  # JSON, not a pickle
    assert reply["status"] == "ok"
    decoded = sandbox.decode_value("read", reply["value"])
    assert decoded == read_pages(data, Settings(pdf_isolation=False))
    assert sandbox.read_pdf("x.pdf", data, Settings()) == parse_pdf("x.pdf", data, Settings())
    images = json.loads(_raw_exchange(data, "render", [[1, 90]]))
    pngs = sandbox.decode_value("render", images["value"])
    assert images["status"] == "ok" and len(pngs) == len(SAMPLE_PAGES) and pngs[0].startswith(b"\x89PNG")
    scanned = _first_pages(SAMPLES / "c02_nsclc_brain_met_srs_fax" / "fax" / "rotated.pdf", 2)
    isolated = sandbox.read_pdf("rotated.pdf", scanned, Settings())
    assert isolated == parse_pdf("rotated.pdf", scanned, Settings(pdf_isolation=False))
    assert isolated[0].page_rotation and isinstance(next(iter(isolated[0].page_rotation)), int)
    errors = json.loads(_raw_exchange(b"%PDF-1.4 truncated"))
    assert errors["status"] == "error" and "PDF" in errors["value"]


def _first_pages(path, n: int) -> bytes:
    """The first `n` pages of a scanned PDF: two fed-turned pages OCR in a few seconds, the packet in 30."""
    whole = pdfium.PdfDocument(str(path))
    part = pdfium.PdfDocument.new()
    part.import_pages(whole, list(range(n)))
    out = io.BytesIO()
    part.save(out)
    return out.getvalue()


def test_a_reply_that_is_not_a_reading_or_page_images_is_refused():
    with pytest.raises(ValueError):
        sandbox.decode_value("read", {"$obj": "os.system"})
    with pytest.raises(ValueError):
        sandbox.decode_value("render", [{"$obj": "os.system"}])
    with pytest.raises(ValueError):
        sandbox.decode_value("render", ["aGVsbG8="])  # base64, but not a PNG


def test_one_content_sniff_a_note_that_mentions_pdf_is_text_a_bannered_fax_is_a_pdf(tmp_path):
    from extractor import store
    from extractor.ingest import files

    assert store.sniff is files.sniff
    note = b"FAX COVER: attachment scan_%PDF-1.4 could not be opened; note typed below.\nMRI brain: new lesion.\n"
    assert files.sniff(note) == "text"
    assert files.sniff(make_pdf([["x"]])) == "pdf"
    assert files.sniff(b"FAX SERVER 12:00 PAGE 1\r\n" + make_pdf([["x"]])) == "pdf"  # a banner before it
    assert files.sniff(b"Attached:\n%PDF-1.4 scan could not be opened.\nMRI brain: new lesion.\n") == "text"
    (tmp_path / "cover.txt").write_bytes(note)
    [doc] = files.read_file(tmp_path / "cover.txt")
    assert doc.text.startswith("FAX COVER")
    (tmp_path / "cover.pdf").write_bytes(note)
    with pytest.raises(files.DocumentError, match=r"not a PDF \(no %PDF- header\)"):
        files.read_file(tmp_path / "cover.pdf")
