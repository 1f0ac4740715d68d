"""`prefill --format html`: a standalone page whose evidence links land on highlighted text, text escaped."""

import os
import re
import subprocess
import sys
from html.parser import HTMLParser

from extractor.render.html import to_html
from tests.helpers import prefilled


class _Marks(HTMLParser):
    """Collects element ids, link targets, resource attributes and the text inside each <mark>."""

    def __init__(self):
        super().__init__()
        self.ids, self.hrefs, self.srcs, self.marks = set(), [], [], []
        self._in_mark = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if "id" in a:
            self.ids.add(a["id"])
        if "href" in a:
            self.hrefs.append(a["href"])
        if "src" in a:
            self.srcs.append(a["src"])
        if tag == "mark":
            self._in_mark = [a.get("class", ""), ""]

    def handle_endtag(self, tag):
        if tag == "mark" and self._in_mark is not None:
            self.marks.append(tuple(self._in_mark))
            self._in_mark = None

    def handle_data(self, data):
        if self._in_mark is not None:
            self._in_mark[1] += data


def test_every_evidence_link_lands_on_a_highlight_in_its_document():
    _, review, docs = prefilled("c01_gbm_recurrence_vs_necrosis")
    page = _Marks()
    page.feed(to_html(review, {n: d.text for n, d in docs.items()}))
    assert page.hrefs and all(h.startswith("#") for h in page.hrefs) and not page.srcs
    assert {h[1:] for h in page.hrefs} <= page.ids
    marked = {text for _, text in page.marks}
    supported = next(i for i in review.indications if i.status == "supported")
    for f in supported.evidence:
        assert docs[f.document].text[f.start : f.end] in marked
    negated = [text for classes, text in page.marks if "negated" in classes.split()]
    assert "enhancing focus" in negated


def test_document_text_is_escaped(tmp_path):
    note = tmp_path / "note.txt"
    note.write_text(
        "Glioblastoma s/p resection and radiation therapy; <script>alert(1)</script> new enhancing lesion, "
        "recurrence versus radiation necrosis. Request MR spectroscopy.\n",
        encoding="utf-8",
    )
    env = {**os.environ, "PYTHONIOENCODING": "utf-8"}
    out = subprocess.run(
        [sys.executable, "-m", "extractor.cli", "prefill", str(note), "--format", "html",
         "--request-date", "2026-03-01"],
        capture_output=True, text=True, timeout=120, env=env,
    )  # fmt: skip
    assert out.returncode == 0, out.stderr
    assert "<script>" not in out.stdout and "&lt;script&gt;alert(1)&lt;/script&gt;" in out.stdout
    assert re.search(r'<mark id="d0-\d+" class="[^"]*" title="BRAIN_TUMOR: affirmed">Glioblastoma</mark>', out.stdout)
    assert "likely_meets_criteria" in out.stdout
