"""Files in, documents out: each document's text with a map from every character to its page and box.

Bottom up: document (Document, FailedDocument, classify; imports nothing of ingest), ocr (Tesseract),
packet (fax headers, one fax into several documents), pdf (pdfplumber/pdfium, OCR per page), sandbox
(each PDF read in a worker process with a memory cap and a deadline), files (the front door: text or PDF?).
"""
