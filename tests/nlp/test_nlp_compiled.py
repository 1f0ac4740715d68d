"""The fast pipeline must find what the rules as written find.

`nlp.load()` compiles rules at load time (regexes and word-list patterns into phrases, a NumPy
sentencizer, a sectionizer without per-token writes); `nlp.build(compiled=False)` keeps the rules
exactly as written in models/ and medspaCy's own components. Both must agree on every sample note and
every kit sentence: same entities, same context flags, same sections.
"""

from __future__ import annotations

import re
import warnings

import pytest

from extractor.evaluate import read_kit
from extractor.ingest.files import decode_text
from extractor.nlp import normalize, pipeline
from extractor.nlp.extract import extract
from extractor.nlp.medspacy_patches import _medspacy_matcher, prune_longest
from extractor.nlp.normalize import rejoin
from extractor.nlp.regex_needs import could_match, needed
from extractor.nlp.regex_starts import fold
from extractor.nlp.rules import split_first_token
from tests.helpers import KIT, SAMPLES


@pytest.fixture(scope="module")
def reference():
    return pipeline.build(compiled=False)


def signature(doc):
    return [
        (
            e.start_char,
            e.end_char,
            e.label_,
            e._.is_negated,
            e._.is_historical,
            e._.is_hypothetical,
            e._.is_family,
            e._.is_uncertain,
            e._.section_category,
        )
        for e in doc.ents
    ]


def corpus() -> list[str]:
    texts = [rejoin(decode_text(p.read_bytes()))[0] for p in sorted(SAMPLES.glob("*/*.txt"))]
    if KIT.is_dir():
        texts += [row["sentence"] for row in read_kit(KIT)]
    return [normalize.collapse_spaces(t)[0] for t in texts]


def test_compiled_pipeline_agrees_with_the_rules_as_written(nlp, reference):
    texts = corpus()
    assert len(texts) > 50
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        differ = [t[:80] for t in texts if signature(nlp(t)) != signature(reference(t))]
    assert differ == []


def test_sections_agree_with_medspacy_sectionizer(nlp, reference):
    text = "HISTORY OF PRESENT ILLNESS: s/p XRT.\nFAMILY HISTORY: Mother had glioblastoma.\nPLAN: MRS.\n"
    ours, theirs = nlp(text), reference(text)
    assert [(s.category, s.section_span) for s in ours._.sections] == [
        (s.category, s.section_span) for s in theirs._.sections
    ]
    assert [t._.section_category for t in ours] == [t._.section_category for t in theirs]
    assert "family_history" in {t._.section_category for t in ours}


def reference_sentence_starts(doc, abbreviations: set[str]) -> list[int]:
    """The sentencizer's rules written as a plain loop over tokens: the readable specification."""
    starts, pending, prev = [0], False, ""
    for tok in doc:
        text = tok.text
        if tok.is_space:
            pending = pending or "\n" in text
            continue
        if pending and tok.i:
            starts.append(tok.i)
        pending = False
        if text in (".", "?", "!", "...") or (len(text) > 1 and text[-1] in "?!"):
            initial = len(prev) == 1 and prev.isupper()
            abbreviation = prev.lower().rstrip(".") in abbreviations and not prev.isupper()
            shielded = text == "." and (initial or abbreviation)
            pending = not shielded
        elif text.endswith(".") and len(text) > 1 and text[:-1].lower().rstrip(".") not in abbreviations:
            pending = not text[0].isdigit() and not (len(text) <= 3 and text[0].isupper())
        prev = text
    return starts


@pytest.mark.parametrize(
    "text",
    [
        "Dr. Smith saw the pt. today. No seizures! Plan: MRS?\n\n- item one.\nA. B. Jones reviewed.",
        "Impression:\n1. Enhancing lesion, e.g. recurrence vs. necrosis.\n2. No abscess...",
        "BP 120/80. Temp 98.6. Seen on 03/04/2026.",
        ".",
        "\n\n",
    ],
)
def test_sentencizer_follows_its_rules(nlp, text):
    sentencizer = nlp.get_pipe("clinical_sentencizer")
    doc = sentencizer(nlp.make_doc(text))
    assert [s.start for s in doc.sents] == reference_sentence_starts(nlp.make_doc(text), sentencizer.abbreviations)


def test_sentencizer_on_every_sample_note(nlp):
    sentencizer = nlp.get_pipe("clinical_sentencizer")
    for text in corpus()[:80]:
        doc = sentencizer(nlp.make_doc(text))
        assert [s.start for s in doc.sents] == reference_sentence_starts(doc, sentencizer.abbreviations)


def test_upper_case_abbreviation_keeps_its_case():
    # "MS" is multiple sclerosis; "ms" is milliseconds.
    labels = {(m.label, m.text) for m in extract("History of MS. TE 30 ms.").mentions}
    assert ("INFLAMMATORY", "MS") in labels
    assert not any(text == "ms" for _, text in labels)


def test_upper_case_cannot_exclude_is_uncertain():
    # medspaCy's tokenizer splits "cannot" but not "CANNOT": both must still be uncertainty cues.
    for text in ("CANNOT EXCLUDE NEOPLASM.", "Cannot exclude neoplasm."):
        (m,) = [m for m in extract(text).mentions if m.label == "BRAIN_TUMOR"]
        assert m.uncertain and not m.negated, text


def test_padded_words_still_match_and_map_back():
    text = "IMPRESSION:   metastatic    disease  to the brain."
    (m,) = [m for m in extract(text).mentions if m.label == "BRAIN_TUMOR"]
    assert text[m.start : m.end].split() == ["metastatic", "disease", "to", "the", "brain"]


def test_collapse_spaces_maps_every_character():
    text = "a  b\t\tc\nd"
    collapsed, src = normalize.collapse_spaces(text)
    assert collapsed == "a b c\nd"
    assert [text[i] for i in src[:-1]] == ["a", " ", "b", "\t", "c", "\n", "d"]
    assert normalize.collapse_spaces("no runs here") == ("no runs here", None)


def context_graph_signature(nlp, text: str, call) -> tuple:
    """ConText's whole result on one text: modifiers with their scopes, edges, and each entity's modifiers."""
    context = nlp.get_pipe("medspacy_context")
    doc = nlp.make_doc(text)
    for name, pipe in nlp.pipeline:
        if name == "medspacy_context":
            break
        doc = pipe(doc)
    doc = call(context, doc)
    graph = doc._.context_graph
    return (
        [(m.modifier_span, m.scope_span, m.category, m.rule.literal, m.num_targets) for m in graph.modifiers],
        [(t.start, t.end, m.modifier_span, m.category) for t, m in graph.edges],
        [
            (e.start, e.end, [m.modifier_span for m in e._.modifiers], e._.is_negated, e._.is_historical)
            for e in doc.ents
        ],
    )


def test_lean_context_gives_medspacys_graph(nlp):
    """The lean ConText call skips only comparisons that cannot change anything: medspaCy's own call must
    give the same modifiers, scopes and edges on every sample note and kit sentence."""
    context = nlp.get_pipe("medspacy_context")
    assert type(context).__name__ == "LeanConText"
    lean, medspacys = type(context).__call__, type(context).__mro__[1].__call__
    texts = corpus()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        differ = [
            t[:80] for t in texts if context_graph_signature(nlp, t, lean) != context_graph_signature(nlp, t, medspacys)
        ]
        crowded = "No fever, no chills, no headache; denies seizure. Prior resection of glioma, no recurrence, not MS."
        assert context_graph_signature(nlp, crowded, lean) == context_graph_signature(nlp, crowded, medspacys)
    assert differ == []


def test_split_first_token_patterns():
    pattern = [{"ORTH": {"IN": ["in", "on", "in"]}}, {"ORTH": "/"}]
    assert split_first_token(pattern) == [[{"ORTH": "in"}, {"ORTH": "/"}], [{"ORTH": "on"}, {"ORTH": "/"}]]
    assert split_first_token([{"LOWER": {"IN": ["a"]}, "OP": "?"}, {"ORTH": "b"}]) is None  # an OP: left whole
    assert split_first_token([{"TEXT": {"REGEX": "^a$"}}]) is None
    # a plain attribute beside the list goes with each word: a timeline line opening with its date
    dated = [{"SHAPE": {"IN": ["d", "dd"]}, "IS_SENT_START": True}, {"ORTH": "/"}]
    assert split_first_token(dated) == [
        [{"SHAPE": "d", "IS_SENT_START": True}, {"ORTH": "/"}],
        [{"SHAPE": "dd", "IS_SENT_START": True}, {"ORTH": "/"}],
    ]
    assert split_first_token([{"LOWER": {"IN": ["a"]}, "TEXT": {"REGEX": "^a$"}}]) is None  # two checks: left whole


def test_regex_needs_reads_necessary_words():
    assert needed(r"\bab(?:cde|fgh)\b", re.I) == {"cde", "fgh"}
    assert needed(r"\b\d+\s?c?Gy\b", re.I) == {"gy"}
    assert needed(r"(?:x|)y?", re.I) is None
    assert could_match(re.compile("s", re.I), None)  # not ASCII: always run ("ſ" matches "s")
    assert not could_match(re.compile(r"\bglioma\b", re.I), "no tumour here")


def test_regex_needs_never_skips_a_regex_that_matches(nlp):
    """Every regex rule of both matchers, on every sample note and kit sentence: where it matches, the
    words it needs are there."""
    patterns = []
    for name in ("medspacy_target_matcher", "medspacy_context"):
        regex = _medspacy_matcher(nlp.get_pipe(name))._MedspacyMatcher__regex_matcher
        patterns += [p for group in regex._patterns.values() for p in group]
    assert len(patterns) > 5
    texts = corpus()
    wrong = [
        (p.pattern[:60], t[:60])
        for t in texts
        for p in patterns
        if p.search(t) and not could_match(p, fold(t))
    ]
    assert wrong == []


def test_prune_longest_is_medspacys_pruning():
    """Random overlapping matches, many ties: the same kept matches in the same order as medspaCy's."""
    import random

    from medspacy.common.util import prune_overlapping_matches

    rng = random.Random(11)
    for _ in range(3000):
        n = rng.randint(0, 12)
        matches = []
        for _ in range(n):
            start = rng.randint(0, 15)
            matches.append((rng.randint(1, 4), start, start + rng.randint(1, 4)))
        assert prune_longest(list(matches)) == prune_overlapping_matches(list(matches)), matches
