"""Answer text + passages → verified citations, since small models cite unreliably.

The answer is cut into claims (a sentence; an intro ending in ':' together with its list). Each
claim is compared with every passage sentence: support is the larger of their embeddings'
cosine similarity and the share of the claim's stemmed words found in the sentence (literal
copies). A marker stays when its passage supports the claim; an out-of-range marker is dropped;
a claim without a supported marker gets the best-supporting passage if any reaches the
threshold. A fragment ("30 %") means something only with the question, and is checked as a
quotation: it is supported by the passage sentences that contain it (its figures digit for digit,
since an answer translated from the passages says "12 people" for "12 Personen"; else its words),
ranked by their similarity to the question and fragment together. A claim with a figure that
neither the passages nor the question contain was made up and is withdrawn. A passage whose sentence the
claim contradicts (contradiction.py) does not support it; a claim that only contradicting passages
support is corrected where the passage says what is right (the sentence it negates, in the answer's
language; the document's author) and withdrawn otherwise; a claim leaning on a withdrawn one
("Among these, …") goes with it. Markers are renumbered in order of first use; the answer's own
layout is kept.
"""

import re
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from rag.contradiction import Cited, asked_kinds, contradiction
from rag.embedders import Embedder
from rag.followup import refers_back
from rag.grounding import figures, invented_figures
from rag.lexical import tokenize
from rag.retrieval import Passage, quotable_fields
from rag.sentences import sentence_spans, sentence_spans_or_whole

MARKER_GROUP = re.compile(r"[ \t]*\[(\d+(?:\s*[,;]\s*\d+)*)\]")
TRAILING_PUNCTUATION = re.compile(r"[.!?…:;]+[\"'“”»)]*$")
LIST_ITEM = re.compile(r"^\s*(?:[-*•]|\d+[.)])\s")
# Claims this short ("Ja." / "Siehe unten.") carry nothing worth a citation.
MIN_CLAIM_WORDS = 3


@dataclass
class Citation:
    n: int
    passage: Passage
    support_start: int  # span of the supporting sentence within passage.text
    support_end: int
    support: float

    def to_json(self) -> dict[str, Any]:
        return {
            "n": self.n,
            **self.passage.to_json(),
            "support": {"start": self.support_start, "end": self.support_end, "score": round(self.support, 4)},
        }


@dataclass
class _Claim:
    start: int  # span in the answer, markers included
    end: int
    markers: list[int] = field(default_factory=list)  # 0-based passage indices, in order of appearance
    replacement: str | None = None  # set when the claim contradicted its passages: "" withdraws it

    def text(self, answer: str) -> str:
        return MARKER_GROUP.sub("", answer[self.start : self.end]).strip()


def verify(
    answer: str, passages: list[Passage], embedder: Embedder, threshold: float, question: str = "", lang: str = ""
) -> tuple[str, list[Citation]]:
    """The answer with repaired markers [1]..[k], and the k citations in order of first use."""
    claims = _claims(answer, len(passages))
    if not claims or not passages:
        return _render(answer, claims, {}), []
    texts = [claim.text(answer) for claim in claims]
    quotable = [question, *map(_citable_text, passages)]
    fragments = [text if _is_fragment(text) and question else None for text in texts]
    support = _Support(
        [f"{question} {text}" if fragment else text for text, fragment in zip(texts, fragments, strict=True)],
        passages,
        embedder,
        fragments,
    )
    for index, claim in enumerate(claims):
        if _is_fragment(texts[index]) and not question:
            claim.markers = []
            continue
        if invented_figures(texts[index], quotable):
            claim.markers, claim.replacement = [], ""  # a figure no passage has was made up
        else:
            _choose_support(claim, index, texts[index], support, passages, threshold, question, lang)
        withdrawn_before = index > 0 and claims[index - 1].replacement == ""
        if withdrawn_before and refers_back(texts[index], lang):
            # "Among these, 74 were A contacts" after a withdrawn claim would say what it leans on.
            claim.markers, claim.replacement = [], ""
    numbering: dict[int, int] = {}
    for claim in claims:
        for passage_index in claim.markers:
            numbering.setdefault(passage_index, len(numbering) + 1)
    citations = [
        Citation(n, passages[p], *support.supporting_span(p, [i for i, c in enumerate(claims) if p in c.markers]))
        for p, n in numbering.items()
    ]
    return _render(answer, claims, numbering), citations


def _choose_support(
    claim: _Claim,
    index: int,
    text: str,
    support: "_Support",
    passages: list[Passage],
    threshold: float,
    question: str,
    lang: str,
) -> None:
    """The claim's own markers that support it, else the best passage that does; a claim that only
    contradicting passages support gets their correction, or is withdrawn."""
    supporting = [p for p in support.ranked_passages(index) if support.score(index, p) >= threshold]
    own = [p for p in claim.markers if p in supporting]
    findings = []
    for passage_index in own + [p for p in supporting if p not in own]:
        start, end, _ = support.supporting_span(passage_index, [index])
        passage = passages[passage_index]
        found = contradiction(text, _cited(passage, start, end, lang), question)
        if found is None:
            conflicting = {p for p, _, _ in findings}
            claim.markers = [p for p in own if p not in conflicting] if passage_index in own else [passage_index]
            return
        findings.append((passage_index, found, passage))
    claim.markers = []
    for passage_index, found, passage in findings:
        if found.kind == "author" and passage.metadata.get("author"):
            claim.markers, claim.replacement = [passage_index], str(passage.metadata["author"])
            return
        if found.kind == "polarity" and _in_language(passage, lang):
            claim.markers, claim.replacement = [passage_index], found.says_otherwise.strip()
            return
    if any(found.kind == "work" for _, found, _ in findings) and _cite_author_of_asked_work(claim, passages, question):
        return
    if findings:
        claim.replacement = ""


def _citable_text(passage: Passage) -> str:
    """The passage with the citation fields the model may quote too."""
    return " ".join([*quotable_fields(passage.metadata).values(), passage.text])


def _cited(passage: Passage, start: int, end: int, lang: str) -> Cited:
    """The passage sentence passage.text[start:end] as the contradiction check reads it."""
    meta = passage.metadata
    kind = str(meta.get("kind") or "")
    return Cited(passage.text[start:end], passage.text, quotable_fields(meta), _in_language(passage, lang), kind)


def _in_language(passage: Passage, lang: str) -> bool:
    return passage.metadata.get("lang", lang) == lang


def _cite_author_of_asked_work(claim: _Claim, passages: list[Passage], question: str) -> bool:
    """Asked who wrote the blog article, a claim citing another kind of document is answered with the
    author of the first passage of the asked kind, cited to it; False if none is among the passages."""
    kinds = asked_kinds(question)
    for index, passage in enumerate(passages):
        if passage.metadata.get("kind") in kinds and passage.metadata.get("author"):
            claim.markers, claim.replacement = [index], str(passage.metadata["author"])
            return True
    return False


def _claims(answer: str, passage_count: int) -> list[_Claim]:
    """Sentences (with their markers read out), an intro ending in ':' merged with the list after it."""
    claims: list[_Claim] = []
    for start, end in sentence_spans(answer):
        markers = [
            int(number) - 1
            for group in MARKER_GROUP.finditer(answer, start, end)
            for number in re.split(r"\s*[,;]\s*", group.group(1))
            if 0 < int(number) <= passage_count
        ]
        stripped = MARKER_GROUP.sub("", answer[start:end]).strip()
        previous = claims[-1] if claims else None
        joins_previous = (
            previous is not None
            and (
                not re.search(r"\w", stripped)  # a marker standing alone after its sentence: "… Text. [2]"
                or (LIST_ITEM.match(answer[start:end]) and _opens_list(answer, previous))
            )
        )
        if joins_previous:
            previous.end = end
            previous.markers += [m for m in markers if m not in previous.markers]
        else:
            claims.append(_Claim(start, end, list(dict.fromkeys(markers))))
    return claims


def _is_fragment(claim: str) -> bool:
    return len(claim.split()) < MIN_CLAIM_WORDS


def _opens_list(answer: str, claim: _Claim) -> bool:
    first_line = MARKER_GROUP.sub("", answer[claim.start : claim.end]).split("\n", 1)[0].rstrip()
    return first_line.endswith(":") or bool(LIST_ITEM.match(answer[claim.start : claim.end]))


def _render(answer: str, claims: list[_Claim], numbering: dict[int, int]) -> str:
    """The answer as written, each claim's markers replaced by its verified ones at its end, and
    contradicting claims replaced by their correction or left out."""
    parts, cursor = [], 0
    for claim in claims:
        parts.append(MARKER_GROUP.sub("", answer[cursor : claim.start]))
        body = MARKER_GROUP.sub("", answer[claim.start : claim.end]).rstrip()
        if claim.replacement is not None:
            ending = TRAILING_PUNCTUATION.search(body)
            body = claim.replacement.rstrip(".!?…") + (ending.group(0)[:1] if ending and claim.replacement else "")
        markers = "".join(f"[{numbering[p]}]" for p in claim.markers if p in numbering)
        if markers:
            match = TRAILING_PUNCTUATION.search(body)
            cut = match.start() if match else len(body)
            body = f"{body[:cut]} {markers}{body[cut:]}"
        parts.append(body)
        cursor = claim.end
    parts.append(MARKER_GROUP.sub("", answer[cursor:]))
    return re.sub(r"[ \t]{2,}", " ", "".join(parts)).strip()


class _Support:
    """Support of each claim by each passage sentence, computed once."""

    def __init__(
        self, claims: list[str], passages: list[Passage], embedder: Embedder, literal: list[str | None]
    ) -> None:
        """`literal[i]`, if set, is a fragment that claim i's supporting sentence must quote."""
        self.spans = [sentence_spans_or_whole(p.text) for p in passages]
        self.owners = np.array([p for p, spans in enumerate(self.spans) for _ in spans])
        sentences = [passages[p].text[a:b] for p, spans in enumerate(self.spans) for a, b in spans]
        vectors = embedder.embed(claims + sentences)
        cosine = vectors[: len(claims)] @ vectors[len(claims) :].T
        self.matrix = np.maximum(cosine, _containment(claims, sentences))  # claim × passage sentence
        for index, text in enumerate(literal):
            if text is not None:
                # A quotation is backed by the sentence it quotes; similarity only ranks those sentences.
                self.matrix[index] = np.where(_quoting(text, sentences), (1 + cosine[index]) / 2, 0.0)

    def _columns(self, passage_index: int) -> np.ndarray:
        return np.flatnonzero(self.owners == passage_index)

    def score(self, claim_index: int, passage_index: int) -> float:
        return float(self.matrix[claim_index, self._columns(passage_index)].max())

    def ranked_passages(self, claim_index: int) -> list[int]:
        """Passage indices, best support for the claim first."""
        best = [float(self.matrix[claim_index, self._columns(p)].max()) for p in range(int(self.owners.max()) + 1)]
        return sorted(range(len(best)), key=lambda p: -best[p])

    def supporting_span(self, passage_index: int, claim_indices: list[int]) -> tuple[int, int, float]:
        """The passage sentence that best supports the claims citing it."""
        columns = self._columns(passage_index)
        scores = self.matrix[np.ix_(claim_indices, columns)].max(axis=0)
        best = int(np.argmax(scores))
        start, end = self.spans[passage_index][best]
        return start, end, float(scores[best])


def _quoting(fragment: str, sentences: list[str]) -> np.ndarray:
    """Which sentences contain the fragment: all its figures if it has any, else all its words."""
    wanted = figures(fragment)
    if wanted:
        return np.array([wanted <= figures(sentence) for sentence in sentences])
    return _containment([fragment], sentences)[0] == 1.0


def _containment(claims: list[str], sentences: list[str]) -> np.ndarray:
    """Share of each claim's stemmed words that occur in each sentence."""
    sentence_tokens = [set(tokenize(s)) for s in sentences]
    matrix = np.zeros((len(claims), len(sentences)), dtype=np.float32)
    for i, claim in enumerate(claims):
        words = set(tokenize(claim))
        if words:
            matrix[i] = [len(words & tokens) / len(words) for tokens in sentence_tokens]
    return matrix
