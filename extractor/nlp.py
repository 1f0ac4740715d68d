"""The medspaCy pipeline: clinical sentences, target rules, sections and ConText, all from models/."""

import logging
import re
import warnings
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import lru_cache

import spacy
from spacy.language import Language
from spacy.tokens import Doc, Span
from spacy.util import filter_spans

from . import knowledge

FLAGS = ("negated", "historical", "hypothetical", "family", "uncertain")

for _noisy in ("PyRuSH", "medspacy", "spacy", "quickumls"):
    logging.getLogger(_noisy).setLevel(logging.WARNING)


def quiet_library_logs() -> None:
    """PyRuSH logs every sentence through loguru at DEBUG: never let note text reach a log."""
    try:
        from loguru import logger

        logger.disable("PyRuSH")
        logger.disable("medspacy")
    except ImportError:
        pass


class ClinicalSentencizer:
    """Rule-based sentence splitter for clinical text, much faster than PyRuSH.

    A sentence starts after a line break (headers, fields and list items keep theirs once wrapped
    lines are rejoined) and after ". ? !" unless the dot closes an abbreviation or an initial.
    """

    def __init__(self, abbreviations: Iterable[str]):
        self.abbreviations = {a.lower().rstrip(".") for a in abbreviations}

    def __call__(self, doc: Doc) -> Doc:
        n = len(doc)
        if not n:
            return doc
        starts = [False] * n
        starts[0] = True
        pending = False
        prev_text = ""
        abbreviations = self.abbreviations
        for i, tok in enumerate(doc):
            text = tok.text
            if tok.is_space:
                if "\n" in text:
                    pending = True
                continue
            if pending:
                starts[i] = True
                pending = False
            if text in (".", "?", "!", "...") or (len(text) > 1 and text[-1] in "?!"):
                if text == "." and (
                    (len(prev_text) == 1 and prev_text.isupper())
                    or (prev_text.lower().rstrip(".") in abbreviations and not prev_text.isupper())
                ):
                    pass
                else:
                    pending = True
            elif (
                text.endswith(".")
                and len(text) > 1
                and text[:-1].lower().rstrip(".") not in abbreviations
                and not text[0].isdigit()
            ):
                if not (len(text) <= 3 and text[0].isupper()):
                    pending = True
            prev_text = text
        for i in range(1, n):
            doc[i].is_sent_start = starts[i]
        doc[0].is_sent_start = True
        return doc


@Language.factory("clinical_sentencizer", default_config={"abbreviations": []})
def make_clinical_sentencizer(nlp: Language, name: str, abbreviations: list[str]) -> "ClinicalSentencizer":
    return ClinicalSentencizer(abbreviations)


TARGET_GROUP = "medspacy_targets"


@Language.component("target_spans_to_ents")
def target_spans_to_ents(doc: Doc) -> Doc:
    """Set the target matcher's spans as doc.ents in one assignment.

    medspaCy's own "ents" mode appends one span at a time (`doc.ents += (span,)`), which re-reads every
    token per match; that alone took about a third of the pipeline's time.
    """
    spans = doc.spans.get(TARGET_GROUP, [])
    if spans:
        doc.set_ents(filter_spans(list(spans)))
        del doc.spans[TARGET_GROUP]
    return doc


def _register_extensions() -> None:
    for attr in ("is_negated", "is_uncertain", "is_historical", "is_hypothetical", "is_family"):
        if not Span.has_extension(attr):
            Span.set_extension(attr, default=False)


@lru_cache(maxsize=1)
def load() -> Language:
    """The product's medspaCy pipeline; one per process (rules cannot be pickled across processes)."""
    import medspacy  # noqa: F401  registers the medspaCy factories

    quiet_library_logs()
    from medspacy.context import ConTextRule
    from medspacy.custom_tokenizer import create_medspacy_tokenizer
    from medspacy.target_matcher import TargetRule

    cfg = knowledge.pipeline_config()
    _register_extensions()
    nlp = spacy.blank("en")
    nlp.tokenizer = create_medspacy_tokenizer(nlp)
    nlp.max_length = 10**9
    nlp.add_pipe("clinical_sentencizer", config={"abbreviations": cfg.sentence_abbreviations})
    matcher = nlp.add_pipe("medspacy_target_matcher", config={"result_type": "group", "span_group_name": TARGET_GROUP})
    nlp.add_pipe("target_spans_to_ents")
    matcher.add(TargetRule.from_json(str(knowledge.rule_file("target_rules.json"))))
    matcher.add(TargetRule.from_json(str(knowledge.rule_file("documentation_rules.json"))))
    nlp.add_pipe(
        "medspacy_sectionizer",
        config={"rules": str(knowledge.rule_file("section_rules.json")), "span_attrs": cfg.section_attributes},
    )
    context_config: dict = {"rules": None}
    if cfg.context_max_scope:
        context_config["max_scope"] = cfg.context_max_scope
    context = nlp.add_pipe("medspacy_context", config=context_config)
    context.add(phrase_rules(nlp, ConTextRule.from_json(str(knowledge.rule_file("context_rules.json")))))
    # Passed through spaCy's config, medspaCy's terminating_types lists become one-shot iterators;
    # apply them to the rules directly.
    for rule in context.rules:
        rule.terminated_by.update(t.upper() for t in cfg.context_terminating_types.get(rule.category.upper(), []))
    return nlp


MAX_EXPANSIONS = 400


def _alternatives(spec: dict) -> list[str | None] | None:
    """Token spec -> the lower-case words it accepts (None = may be absent), or None if not a plain word list."""
    keys = set(spec) - {"OP"}
    op = spec.get("OP")
    if op not in (None, "?") or len(keys) != 1:
        return None
    key = keys.pop()
    value = spec[key]
    if key == "LOWER":
        if isinstance(value, str):
            words = [value]
        elif isinstance(value, dict) and set(value) == {"IN"}:
            words = value["IN"]
        else:
            words = None
    elif key == "ORTH" and isinstance(value, str) and not any(c.isalpha() for c in value):
        words = [value]
    else:
        return None
    if words is None or any(not isinstance(w, str) or not w or " " in w or "'" in w for w in words):
        return None
    return [*words, None] if op == "?" else list(words)


def phrase_rules(nlp: Language, rules: list) -> list:
    """Turn ConText token patterns that are only word lists into phrase literals.

    The same matches, but through spaCy's PhraseMatcher instead of its Matcher, which costs
    most of ConText's time on these rules. Patterns that need more (regexes, repeats, spaces,
    case) are left as they are.
    """
    from itertools import product

    from medspacy.context import ConTextRule

    out = []
    for rule in rules:
        options = [_alternatives(s) for s in rule.pattern] if isinstance(rule.pattern, list) else [None]
        if any(o is None for o in options) or _count(options) > MAX_EXPANSIONS:
            out.append(rule)
            continue
        phrases = {" ".join(w for w in combo if w) for combo in product(*options)} - {""}
        if any(len(nlp.tokenizer(p)) != len(p.split()) for p in phrases):
            out.append(rule)
            continue
        for phrase in sorted(phrases):
            out.append(
                ConTextRule(
                    literal=phrase,
                    category=rule.category,
                    direction=rule.direction,
                    allowed_types=rule.allowed_types,
                    excluded_types=rule.excluded_types,
                    max_scope=rule.max_scope,
                    max_targets=rule.max_targets,
                    terminated_by=set(rule.terminated_by),
                    metadata={**(rule.metadata or {}), "rule": rule.literal},
                )
            )
    return out


def _count(options: list) -> int:
    n = 1
    for o in options:
        n *= len(o)
    return n


@dataclass(slots=True)
class Mention:
    """A matched concept in NLP text coordinates."""

    label: str
    text: str
    start: int
    end: int
    sentence: str
    section: str | None
    negated: bool
    historical: bool
    hypothetical: bool
    family: bool
    uncertain: bool


def _mention(ent: Span, offset: int, section: str | None) -> Mention:
    sent = ent.sent
    return Mention(
        label=ent.label_,
        text=ent.text,
        start=ent.start_char + offset,
        end=ent.end_char + offset,
        sentence=re.sub(r"\s+", " ", sent.text).strip()[:600],
        section=section,
        negated=ent._.is_negated,
        historical=ent._.is_historical,
        hypothetical=ent._.is_hypothetical,
        family=ent._.is_family,
        uncertain=ent._.is_uncertain,
    )


def chunks(text: str, size: int) -> Iterator[tuple[int, str]]:
    """Split text at paragraph (else line, else space) boundaries into pieces of at most `size` chars."""
    start = 0
    while start < len(text):
        end = min(start + size, len(text))
        if end < len(text):
            for sep in ("\n\n", "\n", ". ", " "):
                cut = text.rfind(sep, start + size // 2, end)
                if cut != -1:
                    end = cut + len(sep)
                    break
        yield start, text[start:end]
        start = end


@dataclass
class Extraction:
    mentions: list[Mention]
    sections: list[tuple[int, int, str]]


def extract(text: str, nlp: Language | None = None) -> Extraction:
    """Run the pipeline over a whole document, however long, in chunks that carry the section over."""
    nlp = nlp or load()
    sections: list[tuple[int, int, str]] = []
    cfg = knowledge.pipeline_config()
    section_attrs = cfg.section_attributes
    mentions: list[Mention] = []
    last_section: str | None = None
    pieces = list(chunks(text, cfg.chunk_chars))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        for (offset, _), doc in zip(pieces, nlp.pipe(piece for _, piece in pieces), strict=True):
            for ent in doc.ents:
                section = ent._.section_category
                if section is None and last_section is not None:
                    section = last_section
                    for attr, value in section_attrs.get(section, {}).items():
                        setattr(ent._, attr, value)
                mentions.append(_mention(ent, offset, section))
            for sec in doc._.sections:
                if sec.category:
                    span = doc[sec.section_span[0] : sec.section_span[1]]
                    sections.append((span.start_char + offset, span.end_char + offset, sec.category))
            if doc._.sections:
                last_section = doc._.sections[-1].category
    return Extraction(mentions, sections)
