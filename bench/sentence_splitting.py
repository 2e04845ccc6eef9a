"""Sentence splitting: the hand-written splitter (rag/sentences.py) against maintained segmenters.

Quality: a labelled German/English sample with the hard cases of this corpus (abbreviations such as
"z.B.", "u.a.", "S. 43", "Prof. Dr.", "ca. 30 %", dates "am 3. Mai", ordinals, decimals, initials,
citations, quotes, lists); a boundary is right when it falls where the labels put one.
Speed: characters per second on the seed article repeated, the hand-written splitter as the baseline
in the same run, and the embedder on the same article's chunks for scale (what ingest spends anyway).

Candidates are measured when installed (`pip install somajo==2.5.0 syntok==1.4.4 sentencex==1.0.32`);
the project pins none of them.
"""

import argparse
import contextlib
import re
import time
from collections.abc import Callable

import common

from ingest.chunking import chunk_document, embedding_text
from ingest.documents import parse_document
from rag.sentences import sentence_spans
from rag.settings import Settings

# Each passage is its sentences, joined by a space (or by what the passage names) to make the input.
SAMPLE: list[tuple[str, list[str], str]] = [
    ("de", ["Empfohlen werden z.B. gemeinsame Trainings.", "Danach folgt die Planung."], " "),
    ("de", ["Das betrifft u.a. den Vertrieb und z. B. den Innendienst.", "Beide profitieren davon."], " "),
    ("de", ["Der Beitrag steht auf S. 43-60 im Sammelband.", "Er ist lesenswert."], " "),
    ("de", ["Prof. Dr. Christian Homburg hat das untersucht.", "Die Studie erschien 2007."], " "),
    ("de", ["Am 3. Mai 2024 erschien Teil 2.", "Teil 3 folgt im Juni."], " "),
    ("de", ["Die Quote liegt bei ca. 30 % der Leads.", "Das ist zu wenig."], " "),
    ("de", ["Im 20. Jahrhundert begann die Spezialisierung.", "Marketing wurde eine eigene Abteilung."], " "),
    ("de", ["Homburg, C. & Jensen, O. (2007) zeigen das.", "Ihre Befunde sind robust."], " "),
    ("de", ["Die Quote stieg auf 2.5 Prozent.", "Im Vorjahr waren es 1,9 Prozent."], " "),
    ("de", ["Das steht in Heft Nr. 3 der Reihe, vgl. Abb. 2.", "Dort finden sich weitere Zahlen."], " "),
    ("de", ["Sie sprechen über Preise, Rabatte usw.", "Danach wird verhandelt."], " "),
    ("de", ["Das Budget beträgt 1,2 Mio. Euro.", "Es reicht für zwei Kampagnen."], " "),
    ("de", ["Es gibt Hoffnung!", "Welche Studien gibt es?", "Die Artikel sollen Antworten liefern…"], " "),
    ("de", ["„Wir müssen reden“, sagte der Vertriebsleiter.", "Das Marketing stimmte zu."], " "),
    ("de", ["Er fragte: „Wann kommt die Übergabe?“", "Niemand wusste es."], " "),
    ("de", ["Das Treffen ist um 9 Uhr.", "Bitte pünktlich sein."], " "),
    ("de", ["Der Umsatz wuchs 2023.", "Im Jahr 2024 sank er wieder."], " "),
    ("de", ["Der 1. FC Köln ist ein Beispiel, d.h. ein Verein mit starker Marke.", "Er verkauft viel."], " "),
    ("de", ["Der Vertrieb erhält die Leads i.d.R. binnen 24 Std.", "Danach ruft er an."], " "),
    ("de", ["Die Zusammenarbeit ist gut (s. Kap. 4).", "Verbesserungen gibt es trotzdem."], " "),
    ("de", ["Informationsaustausch", "Marketing teilt Daten mit dem Vertrieb."], "\n\n"),
    ("de", ["1. Macht", "2. Wissen", "3. Strukturen"], "\n"),
    ("de", ["Die GmbH & Co. KG hat 12 Mitarbeiter.", "Sie wächst."], " "),
    ("de", ["Sie nutzen Tools wie HubSpot bzw. Salesforce.", "Beide sind verbreitet."], " "),
    ("de", ["Weitere Infos unter www.example.de.", "Dort gibt es auch ein Whitepaper."], " "),
    ("en", ["Dr. Smith met Mr. Jones at 5 p.m. on Friday.", "They discussed the budget."], " "),
    ("en", ["See e.g. the study by Homburg et al. (2008).", "It covers 1,200 firms."], " "),
    ("en", ["The U.S. market grew by approx. 4.5 percent.", "Europe lagged behind."], " "),
    ("en", ["Results are shown in Fig. 3 on p. 12.", "Table 2 gives the details."], " "),
    ("en", ["Sales and marketing vs. product management is a classic conflict.", "It is well studied."], " "),
    ("en", ['"Do we agree?" she asked.', "Nobody answered."], " "),
    ("en", ["Revenue rose in 2023.", "Costs fell."], " "),
    ("en", ["Kotler, P. and Keller, K. L. wrote the textbook.", "It is in its 16th edition."], " "),
    ("en", ["This works, i.e. both teams win.", "Everyone is happy."], " "),
]

Segmenter = Callable[[str, str], list[str]]


def hand_written(text: str, lang: str) -> list[str]:
    return [text[start:end] for start, end in sentence_spans(text)]


def somajo_segmenter() -> Segmenter:
    from somajo import SoMaJo

    tokenizers = {lang: SoMaJo(model, character_offsets=True) for lang, model in (("de", "de_CMC"), ("en", "en_PTB"))}

    def split(text: str, lang: str) -> list[str]:
        sentences = []
        for paragraph in re.split(r"\n\s*\n", text):  # SoMaJo takes paragraphs; offsets count within each
            for tokens in filter(None, tokenizers[lang].tokenize_text([paragraph])):
                sentences.append(paragraph[tokens[0].character_offset[0] : tokens[-1].character_offset[1]])
        return sentences

    return split


def syntok_segmenter() -> Segmenter:
    from syntok import segmenter

    def split(text: str, lang: str) -> list[str]:
        spans = [(s[0].offset, s[-1].offset + len(s[-1].value)) for p in segmenter.analyze(text) for s in p]
        return [text[start:end] for start, end in spans]

    return split


def sentencex_segmenter() -> Segmenter:
    from sentencex import segment

    return lambda text, lang: list(segment(lang, text))


def segmenters() -> tuple[dict[str, Segmenter], list[str]]:
    """The hand-written splitter and every installed candidate; names of those not installed."""
    found: dict[str, Segmenter] = {"rag.sentences (hand-written)": hand_written}
    missing = []
    for name, make in (("somajo", somajo_segmenter), ("syntok", syntok_segmenter), ("sentencex", sentencex_segmenter)):
        try:
            found[name] = make()
        except ImportError:
            missing.append(name)
    return found, missing


# Inputs from tests/test_splitting_properties.py: a segmenter must lose or change no character of them.
MESSY = [
    "Satz eins.\f\x00Satz zwei \u0301 e\u0301 Ende.\n",
    "שלום עולם. مرحبا بالعالم؟ \u202eumgekehrt\u202c. Ende.",
    "Ein Satz. " + "x" * 100_000 + " Ende.",
    "Text am Ende \n\n\f\v ",
    "\x1c\x1f.\u2028!\u00a0?\u3000…\x85 z.B.\r\n- Punkt\n1. Punkt",
]


def squeezed(text: str) -> str:
    return re.sub(r"\s+", "", text)


def keeps_messy_text(split: Segmenter) -> int:
    """How many of MESSY come back whole: no exception, the sentences together are the text."""
    kept = 0
    for text in MESSY:
        with contextlib.suppress(Exception):  # any failure is what this counts
            kept += squeezed("".join(split(text, "de"))) == squeezed(text)
    return kept


def boundaries(sentences: list[str]) -> set[int]:
    """Where sentences end, counted in characters other than white space (extractors differ in spacing)."""
    ends, position = set(), 0
    for sentence in sentences:
        position += len(re.sub(r"\s+", "", sentence))
        ends.add(position)
    return ends


def quality(split: Segmenter) -> dict:
    right = missed = wrong = passages_right = 0
    errors = []
    for lang, gold, joiner in SAMPLE:
        text = joiner.join(gold)
        found = [s.strip() for s in split(text, lang) if s.strip()]
        expected, got = boundaries(gold), boundaries(found)
        right += len(expected & got)
        missed += len(expected - got)
        wrong += len(got - expected)
        passages_right += expected == got
        if expected != got:
            errors.append(" | ".join(found))
    total = sum(len(gold) for _, gold, _ in SAMPLE)
    return {
        "boundaries": total,
        "right": right,
        "missed": missed,
        "false": wrong,
        "passages": len(SAMPLE),
        "passages_right": passages_right,
        "errors": errors,
    }


def seed_texts(chars: int, count: int) -> list[str]:
    """`count` texts of the seed article repeated, each starting elsewhere in it, so that no timed run
    can be answered from what a segmenter kept of the one before."""
    body = parse_document(common.SEED_ARTICLE, common.SEED_ARTICLE.read_bytes()).text
    repeated = "\n\n".join([body] * (chars // len(body) + 2))
    return [repeated[shift * 997 : shift * 997 + chars] for shift in range(count)]


def chars_per_second(split: Segmenter, texts: list[str]) -> float:
    """Best of one run per text, so that other work on the machine distorts the figure least."""
    return len(texts[0]) / min(common.timed(split, text, "de")[1] for text in texts)


def embedder_chars_per_second(repeats: int) -> float:
    from rag.embedders import make_embedder

    settings = Settings()
    document = parse_document(common.SEED_ARTICLE, common.SEED_ARTICLE.read_bytes())
    texts = [embedding_text(document.metadata["title"], c) for c in chunk_document(document, settings.chunk_size, 0)]
    embedder = make_embedder(settings.embedder)
    embedder.embed(texts[:2])  # load and warm up outside the measurement
    best = min(common.timed(embedder.embed, texts)[1] for _ in range(repeats))
    return sum(len(t) for t in texts) / best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--chars", type=int, default=300_000, help="characters of repeated seed article (300000)")
    parser.add_argument("--repeats", type=int, default=3, help="timed runs per segmenter, best counts (3)")
    parser.add_argument("--no-embedder", action="store_true", help="skip the embedder figure")
    parser.add_argument("--verbose", action="store_true", help="print every passage a segmenter got wrong")
    parser.add_argument("--quick", action="store_true", help="smoke run: 30,000 characters, 1 repeat")
    args = parser.parse_args()
    if args.quick:
        args.chars, args.repeats = 30_000, 1
    started = time.time()
    common.warn_if_busy()

    found, missing = segmenters()
    texts = seed_texts(args.chars, args.repeats)
    results: dict = {"missing": missing, "segmenters": {}}
    baseline_speed = None
    rows = []
    for name, split in found.items():
        scores = quality(split)
        speed = chars_per_second(split, texts)
        baseline_speed = baseline_speed or speed
        kept = keeps_messy_text(split)
        results["segmenters"][name] = {**scores, "chars_per_s": speed, "messy_texts_kept": kept}
        rows.append(
            [
                name,
                f"{scores['right']}/{scores['boundaries']}",
                scores["missed"],
                scores["false"],
                f"{scores['passages_right']}/{scores['passages']}",
                f"{kept}/{len(MESSY)}",
                speed,
                common.ratio(speed, baseline_speed),
            ]
        )
    embed_speed = None if args.no_embedder else embedder_chars_per_second(args.repeats)
    results["embedder_chars_per_s"] = embed_speed
    if embed_speed:
        scale = common.ratio(embed_speed, baseline_speed)
        rows.append(["embedder (for scale)", "", "", "", "", "", embed_speed, scale])
    common.print_table(
        f"Sentence splitting: labelled sample ({len(SAMPLE)} passages), messy inputs, {args.chars:,} characters",
        ["segmenter", "boundaries right", "missed", "false", "passages right", "messy kept", "chars/s", "× baseline"],
        rows,
        2,
    )
    if missing:
        print(f"\nnot installed, not measured: {', '.join(missing)}")
    if args.verbose:
        for name, scores in results["segmenters"].items():
            for error in scores["errors"]:
                print(f"{name}: {error}")
    common.write_results("sentence_splitting", args, results, started)


if __name__ == "__main__":
    main()
