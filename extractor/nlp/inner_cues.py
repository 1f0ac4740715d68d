"""ConText cues that overlap their entity: "STATUS POST CABG", "PSYCHIATRIC HISTORY", "could not be performed".

medspaCy's guard against a concept modifying itself is lopsided: a cue that shares the entity's first or
last token never modifies it, while a cue strictly inside modifies all of it. Both are settled by where
the cue points. `head_guard` (each rule's `on_modifies`) keeps a cue strictly inside from modifying
words it does not point at: "DISC BULGE IS SEEN WITHOUT CANAL COMPROMISE" is an affirmed bulge, and a
documentation phrase "could not be performed" is not negated by its own "not". The `context_inner_cues`
component, right after ConText, applies a cue of the categories named in models/pipeline.json
(`context_inner_cue_categories`) that sits at the entity's edge and points into it: a forward cue
followed by more of the entity, a backward cue preceded by more of it, or a cue that holds the whole
entity and more ("denies ALCOHOL or drugs": a habit named in its own statement), or all of it when its
rule's metadata says `names_its_entity` ("Denies ALCOHOL."). A cue strictly inside
("HEMIARTHROPLASTY IS UNCHANGED IN POSITION") points at neither edge and is left alone. The cue's
allowed and excluded types hold as they do in ConText.
"""

from collections.abc import Callable

from spacy.language import Language
from spacy.tokens import Doc, Span

from extractor import knowledge

# a rule's metadata key: its cue may be the whole entity (a habit cue: the habit is the social history)
NAMES_ITS_ENTITY = "names_its_entity"


class InnerCues:
    def __init__(self, categories: frozenset[str], attributes: dict[str, dict[str, bool]]) -> None:
        self.categories = categories
        self.attributes = attributes

    def __call__(self, doc: Doc) -> Doc:
        graph = doc._.context_graph
        if graph is None or not doc.ents:
            return doc
        cues = [m for m in graph.modifiers if m.category in self.categories and m.category in self.attributes]
        if not cues:
            return doc
        for ent in doc.ents:
            for cue in cues:
                start, end = cue.modifier_span
                if end <= ent.start or start >= ent.end or not cue.allows(ent.label_.upper()):
                    continue
                direction = cue.direction.upper()
                # from the entity's edge inward, or from cue words outside it over all of it
                at_start, at_end = start <= ent.start, end >= ent.end
                forward = direction in ("FORWARD", "BIDIRECTIONAL") and at_start and (start < ent.start or not at_end)
                backward = direction in ("BACKWARD", "BIDIRECTIONAL") and at_end and (end > ent.end or not at_start)
                # a cue whose rule says so ("names_its_entity") may be all of its entity: "Denies ALCOHOL."
                named = (start, end) == (ent.start, ent.end) and bool((cue.rule.metadata or {}).get(NAMES_ITS_ENTITY))
                if not (forward or backward or named) or cue in ent._.modifiers:
                    continue
                ent._.modifiers += (cue,)
                for attr, value in self.attributes[cue.category].items():
                    setattr(ent._, attr, value)
        return doc


@Language.factory("context_inner_cues")
def make_inner_cues(nlp: Language, name: str) -> InnerCues:
    """After medspacy_context: its attribute mapping says what each category sets."""
    context = nlp.get_pipe("medspacy_context")
    categories = frozenset(c.upper() for c in knowledge.pipeline_config().context_inner_cue_categories)
    return InnerCues(categories, dict(context.context_attributes_mapping or {}))



def head_guard(direction: str) -> Callable[[Span, Span, Span], bool]:
    """A ConText `on_modifies` test: a cue inside its entity modifies it only when it points at the entity's
    first words (forward) or last words (backward). medspaCy lets a cue strictly inside an entity modify
    all of it: "DISC BULGE IS SEEN WITHOUT CANAL COMPROMISE" came out negated, though "without" is about
    what follows it, not about the bulge the phrase names."""
    direction = direction.upper()

    def reaches(target: Span, modifier: Span, between: Span) -> bool:
        if modifier.end <= target.start or modifier.start >= target.end:
            return True
        if direction == "FORWARD":
            return modifier.start <= target.start
        if direction == "BACKWARD":
            return modifier.end >= target.end
        return modifier.start <= target.start or modifier.end >= target.end

    return reaches
