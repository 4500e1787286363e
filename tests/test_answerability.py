"""The learned answerability decision: its features on real sentences, the shipped model, and the
conversation and verification rules around it. No model is loaded here: these are the fast tests."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest
from conftest import ROOT

from sstc_assistant.answerability import (
    FEATURES,
    MODEL_PATH,
    PORTABLE,
    AnswerabilityModel,
    Candidate,
    QuestionView,
    TermWeights,
    describe,
    is_candidate,
)
from sstc_assistant.answering import states_a_claim
from sstc_assistant.conversation import is_follow_up, standalone
from sstc_assistant.lexicons import DATA, lexicon
from sstc_assistant.questions import stem
from sstc_assistant.types import SearchHit

PASSAGES = [
    "The United Nations Office at Nairobi hosts the headquarters of UNEP and UN-Habitat.",
    "Nairobi is the capital of Kenya, and its population was about 4.4 million in 2019.",
    "The High-level Committee on South-South Cooperation held its twenty-second session in New York.",
    "The Committee elected Omar Hilale (Morocco) as President of its twenty-second session.",
    "South-South cooperation is a complement to, not a substitute for, North-South cooperation.",
]


def _hit(i: int, text: str, doc: str = "doc", dense: float = 0.5) -> SearchHit:
    return SearchHit(
        chunk_id=f"c{i}",
        vector_id=f"v{i}",
        doc_id=doc,
        text=text,
        pages=[1],
        score=dense,
        scores={"dense": dense, "bm25": 1.0},
    )


def _view(question: str, **kw) -> QuestionView:
    return QuestionView(text=question, asked=question, weights=TermWeights.count(PASSAGES), **kw)


def _features(question: str, text: str, **kw) -> dict[str, float]:
    cand = Candidate(text, 0, sim=0.5)
    describe(_view(question, **kw), [cand], [_hit(0, text)])
    return cand.features


def test_rare_words_weigh_more_than_common_ones() -> None:
    weights = TermWeights.count(PASSAGES)
    assert weights.idf("popul") > weights.idf("southsouth")  # hyphens fold: "South-South"
    assert weights.idf("never-seen-word") == pytest.approx(1.0)


def test_the_focus_of_the_question_must_be_in_the_sentence() -> None:
    # "population" is what is asked: a sentence about the UN Office at Nairobi does not hold it
    q = "What is the population of Nairobi?"
    about_office = _features(q, PASSAGES[0])
    about_people = _features(q, PASSAGES[1])
    assert about_people["cover_sentence"] > about_office["cover_sentence"]
    assert about_office["missing_idf_sentence"] > about_people["missing_idf_sentence"]


def test_a_question_word_is_found_as_its_synonym_but_not_as_a_rarer_sense() -> None:
    # "first called" is answered by "named as ... at that time"; "name" is the first sense of both
    named = "The Office was named Special Unit for Technical Cooperation among Developing Countries."
    q = "What was the Office called?"
    assert _features(q, named)["cover_sentence"] == pytest.approx(1.0)
    without = "The Office was known as Special Unit for Technical Cooperation among Developing Countries."
    assert _features(q, without)["cover_sentence"] < 1.0
    # "call" as telephoning is a rare sense: a sentence about telephones does not hold "called"
    phoned = "The Office was telephoned by the Special Unit."
    assert _features(q, phoned)["cover_sentence"] < 1.0
    # a derived word lends nothing to its base: "establishment" is not "organization"
    assert (
        _features("When was the Office established?", "The Office is an organization.")["cover_sentence"]
        < _features("When was the Office established?", "The Office was founded in 1974.")["cover_sentence"]
    )


def test_the_synonyms_are_stems_of_the_shipped_term_weights() -> None:
    """synonyms.json is keyed by stems as `questions.stem` makes them today and restricted to the
    words of term_weights.json: a changed stemmer or recount without `eval/build_synonyms.py` fails
    here, instead of silently matching nothing."""
    table = lexicon("synonyms")["synonyms"]
    vocabulary = set(lexicon("term_weights")["df"])
    assert len(table) > 1000
    assert set(table) <= vocabulary
    assert all(set(v) <= vocabulary for v in table.values())
    assert "name" in table[stem("called")] and stem("cities") in vocabulary


def test_what_is_asked_and_pinned_becomes_features() -> None:
    who = "Who was elected President of the twenty-second session?"
    assert _features(who, PASSAGES[3])["type_missing"] == 0.0
    assert _features(who, PASSAGES[2])["type_missing"] == 1.0  # no person named there
    brazil = _features("What did the Government of Brazil offer the Committee?", PASSAGES[2])
    assert brazil["states_missing"] == 1.0
    twelfth = _features("Where did the twelfth session of the High-level Committee take place?", PASSAGES[2])
    assert twelfth["ordinal_missing"] == 1.0
    assert _features("When did the twenty-second session take place?", PASSAGES[2])["ordinal_missing"] == 0.0
    named = _features("What does resolution 77/999 say?", PASSAGES[4], named_absent=True)
    assert named["named_absent"] == 1.0
    assert set(named) == set(FEATURES)


def test_a_sentence_that_asks_is_never_a_candidate() -> None:
    assert not is_candidate("(b) What are good practice examples of measures taken by Governments?")
    assert not is_candidate("何时举行会议？")
    assert is_candidate("The Committee met in New York.")


def test_the_shipped_model_matches_the_features_and_scores_in_range() -> None:
    model = AnswerabilityModel.load()
    assert tuple(model.meta["features"]) == FEATURES
    assert set(model.groups) == {"english", "other"}
    cands = [Candidate(t, 0, sim=s) for t, s in ((PASSAGES[3], 0.7), (PASSAGES[4], 0.1))]
    view = _view("Who was elected President of the twenty-second session?")
    describe(view, cands, [_hit(0, PASSAGES[3], dense=0.8)])
    threshold = model.score(view, cands)
    assert 0 < threshold < 1
    assert all(0 <= c.probability <= 1 for c in cands)
    # the sentence naming the President answers better than an unrelated one
    assert cands[0].probability > cands[1].probability


def test_the_shipped_model_is_trained_on_the_committed_dev_split() -> None:
    """Retrain with eval/train_answerability.py when the dev split or the features change."""
    meta = json.loads(MODEL_PATH.read_text(encoding="utf-8"))
    assert meta["dataset"] == "eval/generated/dev.jsonl"
    run = subprocess.run(
        [sys.executable, str(ROOT / "eval/train_answerability.py"), "--check"],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    for group in meta["groups"].values():
        assert len(group["coef"]) == len(FEATURES)
        assert np.isfinite(group["coef"]).all()


@pytest.mark.parametrize(
    "question",
    [
        "And what was it first called?",
        "What about financing?",
        "Et comment s'appelait-il à l'origine ?",
        "¿Y qué dice sobre la financiación?",
        "А как он назывался раньше?",
        "它最初叫什么？",
    ],
)
def test_follow_ups_in_the_six_languages_are_recognised(question: str) -> None:
    assert is_follow_up(question)


def test_standalone_questions_are_not_follow_ups() -> None:
    assert not is_follow_up("What is the capital of France?")
    assert not is_follow_up("When was the UN Office for South-South Cooperation established?")


def test_a_follow_up_carries_the_conversation() -> None:
    first = "What does resolution 80/156 ask the United Nations development system to do?"
    resolved = standalone("And what about financing?", [first])
    assert "80/156" in resolved and "financing" in resolved
    # a follow-up of a follow-up keeps the first question's subject too
    second = standalone("And who chairs it?", [first, "And what about financing?"])
    assert "80/156" in second and "chairs" in second


def test_a_generated_sentence_without_a_claim_of_its_own_is_not_kept() -> None:
    passage = (
        "The Committee highlighted capacity development, technology transfer and financing as "
        "priorities of South-South cooperation."
    )
    assert not states_a_claim("These priorities were highlighted in the passage.", passage)
    assert not states_a_claim("As mentioned above, they matter.", passage)
    assert states_a_claim("The Committee named technology transfer and financing as priorities.", passage)


def test_every_lexicon_says_where_it_comes_from() -> None:
    files = sorted(DATA.glob("*.json"))
    assert {f.stem for f in files} >= {"answer_cues", "countries", "named_documents", "stopwords"}
    for f in files:
        if f.stem == "answerability":
            continue
        data = lexicon(f.stem)
        assert data.get("source") and data.get("about"), f.name


def test_an_index_of_another_embedder_is_scored_by_the_portable_variant() -> None:
    """A raw dense score means one thing under e5 (near 0.85) and another under MiniLM (near 0.5):
    the weights that read it apply only to indexes of the embedder they were trained on."""
    own = AnswerabilityModel.load(embedder=AnswerabilityModel.load().meta["embedder"])
    other = AnswerabilityModel.load(embedder="some-other-embedder")
    assert own.features == FEATURES and "dense" in own.features
    assert other.features == PORTABLE and "dense" not in other.features
    assert other.meta["variant"] == "portable"
    for group in other.groups.values():
        assert len(group.coef) == len(PORTABLE)
