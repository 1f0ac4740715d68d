"""Documents' text in, mentions with context flags (negated, historical, hypothetical, family, uncertain)
and section out, by the medspaCy pipeline built from the rules under models/.

Bottom up: normalize (every offset map: rejoin, OCR repair, space collapsing), medspacy_patches (every reach
into medspaCy's private attributes), rules (the rule compiler), sentences (the sentencizer component),
pipeline (load/build), extract (the per-document run; offsets into the extracted text).
"""

from extractor.nlp.medspacy_import import import_medspacy

import_medspacy()  # before any module here imports medspaCy
