"""The medspaCy pipeline: clinical sentences, target rules, sections and ConText, all from models/."""

import logging
from functools import lru_cache

import medspacy  # noqa: F401  registers the medspaCy factories
import spacy
from medspacy.context import ConTextRule
from medspacy.custom_tokenizer import create_medspacy_tokenizer
from medspacy.target_matcher import TargetRule
from spacy.language import Language
from spacy.tokens import Doc
from spacy.util import filter_spans

from extractor import knowledge

# register the anatomy_filter, context_inner_cues and clinical_sentencizer factories
from . import anatomy, inner_cues, sentences  # noqa: F401
from .medspacy_patches import (
    add_rules,
    install_lean_context,
    install_lean_pruning,
    install_lean_sectionizer,
    keep_text,
    read_text_once,
    register_extensions,
)
from .rules import EXACT, literal_target_rules, phrase_rules

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


TARGET_GROUP = "medspacy_targets"


@Language.component("target_spans_to_ents")
def target_spans_to_ents(doc: Doc) -> Doc:
    """Set the target matcher's spans as doc.ents in one assignment.

    medspaCy's own "ents" mode appends one span at a time (`doc.ents += (span,)`), which re-reads every
    token per match; that alone took about a third of the pipeline's time.
    """
    spans = doc.spans.get(TARGET_GROUP, [])
    if spans:
        kept = []
        for span in spans:
            rule = span._.target_rule  # one read: each extension access builds an Underscore object
            exact = (rule.metadata or {}).get(EXACT) if rule else None
            if exact is None or span.text in exact:
                kept.append(span)
        doc.set_ents(filter_spans(kept))
        del doc.spans[TARGET_GROUP]
    return doc


@lru_cache(maxsize=1)
def load() -> Language:
    """The product's medspaCy pipeline; one per process (rules cannot be pickled across processes)."""
    return build()


def build(compiled: bool = True) -> Language:
    """Build the pipeline. `compiled=False` keeps the rules exactly as written in models/ and medspaCy's
    own sectionizer: the slow reference the compiled pipeline is tested against."""
    quiet_library_logs()
    cfg = knowledge.pipeline_config()
    register_extensions()
    nlp = spacy.blank("en")
    nlp.tokenizer = create_medspacy_tokenizer(nlp)
    if compiled:
        # spaCy stops caching a doc's words once a special case is hit, and " ", "\n", "\t" are
        # special cases: after a doc's first line break every word went through the affix regexes
        # again. Whitespace tokenizes the same without them.
        nlp.tokenizer.rules = {k: v for k, v in nlp.tokenizer.rules.items() if k.strip()}
    nlp.max_length = 10**9
    if compiled:
        keep_text(nlp)
    nlp.add_pipe("clinical_sentencizer", config={"abbreviations": cfg.sentence_abbreviations})
    matcher = nlp.add_pipe("medspacy_target_matcher", config={"result_type": "group", "span_group_name": TARGET_GROUP})
    read_text_once(matcher)
    if compiled:
        install_lean_pruning(matcher)
    nlp.add_pipe("target_spans_to_ents")
    for name in ("target_rules.json", "documentation_rules.json"):
        rules = TargetRule.from_json(str(knowledge.rule_file(name)))
        add_rules(matcher, literal_target_rules(nlp, rules) if compiled else rules)
    sectionizer = nlp.add_pipe(
        "medspacy_sectionizer",
        config={"rules": str(knowledge.rule_file("section_rules.json")), "span_attrs": cfg.section_attributes},
    )
    if compiled:
        install_lean_sectionizer(sectionizer)
        read_text_once(sectionizer)
    context_config: dict = {"rules": None}
    if cfg.context_max_scope:
        context_config["max_scope"] = cfg.context_max_scope
    context = nlp.add_pipe("medspacy_context", config=context_config)
    if compiled:
        install_lean_context(context)
        install_lean_pruning(context)
    nlp.add_pipe("context_inner_cues")
    # after ConText: a relative's lung infection is a family INFECTION, kept as such, not dropped as
    # "not about the brain"
    nlp.add_pipe("anatomy_filter")
    read_text_once(context)
    context_rules = ConTextRule.from_json(str(knowledge.rule_file("context_rules.json")))
    add_rules(context, phrase_rules(nlp, context_rules) if compiled else context_rules)
    # Passed through spaCy's config, medspaCy's terminating_types lists become one-shot iterators;
    # apply them to the rules directly.
    for rule in context.rules:
        if rule.on_modifies is None:
            rule.on_modifies = inner_cues.head_guard(rule.direction)
        rule.terminated_by.update(t.upper() for t in cfg.context_terminating_types.get(rule.category.upper(), []))
        excluded = cfg.context_excluded_types.get(rule.category.upper())
        if excluded and rule.allowed_types is None:  # medspaCy takes one of allowed/excluded
            rule.excluded_types = set(rule.excluded_types or ()) | set(excluded)
    return nlp
