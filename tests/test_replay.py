"""`python -m rag eval --replay`: the model's replies kept and given again for the same call."""

from pathlib import Path

import pytest
from helpers import SpyGenerator, smollm_path

from evaluation.replay import ReplayGenerator, ReplayMismatchError
from rag.generators import LlamaCppGenerator

ASK = [{"role": "system", "content": "Answer briefly."}, {"role": "user", "content": "Name three colours."}]
YES_NO = [{"role": "user", "content": "Is Paris the capital of France? Reply with Yes or No."}]


@pytest.fixture(scope="module")
def model() -> LlamaCppGenerator:
    return LlamaCppGenerator(smollm_path(), threads=2, context=512, temperature=0.0)


def stand_in(model: LlamaCppGenerator) -> SpyGenerator:
    """A generator under the real model's name that has nothing to say: a call reaching it shows."""
    spy = SpyGenerator()
    spy.name = model.name
    return spy


def test_a_stored_reply_comes_back_piece_by_piece_without_the_model(model: LlamaCppGenerator, tmp_path: Path) -> None:
    own = list(model.stream(ASK, max_tokens=16))
    recorded = list(ReplayGenerator(model, tmp_path / "replies.sqlite").stream(ASK, max_tokens=16))
    assert recorded == own and len(own) > 1

    spy = stand_in(model)
    replay = ReplayGenerator(spy, tmp_path / "replies.sqlite")
    assert list(replay.stream(ASK, max_tokens=16)) == own
    assert spy.calls == [] and replay.calls == {"replayed": 1, "asked": 0}


def test_another_prompt_or_length_or_model_is_asked(model: LlamaCppGenerator, tmp_path: Path) -> None:
    list(ReplayGenerator(model, tmp_path / "replies.sqlite").stream(ASK, max_tokens=16))
    spy = stand_in(model)
    replay = ReplayGenerator(spy, tmp_path / "replies.sqlite")
    other = [ASK[0], {"role": "user", "content": "Name three colours!"}]
    list(replay.stream(other, max_tokens=16))
    list(replay.stream(ASK, max_tokens=17))
    assert spy.calls == [other, ASK] and replay.calls == {"replayed": 0, "asked": 2}
    renamed = SpyGenerator()
    list(ReplayGenerator(renamed, tmp_path / "replies.sqlite").stream(ASK, max_tokens=16))
    assert renamed.calls == [ASK], "replies of one model are not given as another's"


def test_a_reply_read_only_in_part_is_completed_by_the_model_once(model: LlamaCppGenerator, tmp_path: Path) -> None:
    own = list(model.stream(ASK, max_tokens=16))
    pieces = ReplayGenerator(model, tmp_path / "replies.sqlite").stream(ASK, max_tokens=16)
    head = [next(pieces), next(pieces)]
    pieces.close()  # the reader stopped early, as the loop cutter does

    replay = ReplayGenerator(model, tmp_path / "replies.sqlite")
    assert list(replay.stream(ASK, max_tokens=16)) == own, "the stored head, then the rest, nothing twice"
    assert head == own[:2] and replay.calls == {"replayed": 1, "asked": 0}
    spy = stand_in(model)
    assert list(ReplayGenerator(spy, tmp_path / "replies.sqlite").stream(ASK, max_tokens=16)) == own
    assert spy.calls == [], "now stored whole"


def test_a_stored_head_the_model_would_not_write_stops_the_replay(model: LlamaCppGenerator, tmp_path: Path) -> None:
    """Replies stored from another build (here: a stand-in under the model's name) are never mixed
    with the model's own: the reader already got the stored head and cannot take it back."""
    other = stand_in(model)
    other.replies = ["Purple, teal and ochre are three colours."]
    pieces = ReplayGenerator(other, tmp_path / "replies.sqlite").stream(ASK, max_tokens=16)
    next(pieces), next(pieces)
    pieces.close()

    with pytest.raises(ReplayMismatchError, match="start a new replay file"):
        list(ReplayGenerator(model, tmp_path / "replies.sqlite").stream(ASK, max_tokens=16))


def test_a_yes_probability_is_stored_too(model: LlamaCppGenerator, tmp_path: Path) -> None:
    probability = ReplayGenerator(model, tmp_path / "replies.sqlite").yes_probability(YES_NO)
    spy = stand_in(model)
    spy.yes = -1.0  # what the stand-in would say if asked
    assert ReplayGenerator(spy, tmp_path / "replies.sqlite").yes_probability(YES_NO) == probability
    assert probability is not None and 0 <= probability <= 1 and spy.checks == []
