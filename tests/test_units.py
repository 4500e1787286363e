"""The pure functions at the seams, on hand-made inputs: rank fusion, answerability scoring,
answer composition, symbol parsing, question analysis and the evaluation metrics. No model, no
index, no server, no process: every test here runs in milliseconds (the fast loop is
`python -m pytest -m "not slow"`)."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
from pydantic import ValidationError

from sstc_assistant.answerability import (
    FEATURES,
    PORTABLE,
    AnswerabilityModel,
    Candidate,
    GroupModel,
    QuestionView,
    TermWeights,
    describe,
)
from sstc_assistant.answering import looks_like_prose, split_claims
from sstc_assistant.catalog import symbol_from_name
from sstc_assistant.citations import facts, missing_facts, pages_of_quote
from sstc_assistant.conversation import is_follow_up, standalone, subject_of
from sstc_assistant.dedup import containment
from sstc_assistant.glossary import Glossary, gloss
from sstc_assistant.metrics import keypoint_recall, normalize_answer, token_f1
from sstc_assistant.questions import (
    answer_type,
    asks_for_list,
    content_terms,
    countries,
    ordinal_value,
    spells_out,
    stem,
)
from sstc_assistant.references import SymbolError, cited_symbols, normalize_symbol, symbols_in
from sstc_assistant.retrieval import Filters, RankedList, fuse, named_symbols, without_names
from sstc_assistant.types import DocumentMeta, SearchHit

# --- fusion: weighted reciprocal rank (retrieval.fuse) -------------------------------------------


def test_fusion_adds_weight_over_rank_and_keeps_each_lists_own_score() -> None:
    dense = RankedList("dense", [("a", 0.91), ("b", 0.80)], 1.0)
    bm25 = RankedList("bm25", [("b", 12.5), ("c", 3.0)], 0.5)
    fused, scores = fuse([dense, bm25], rrf_k=60)
    assert fused == pytest.approx({"a": 1 / 61, "b": 1 / 62 + 0.5 / 61, "c": 0.5 / 62})
    # found by both lists, "b" overtakes the dense list's first
    assert sorted(fused, key=lambda v: -fused[v]) == ["b", "a", "c"]
    # the raw scores stay apart per list, for the answerability features
    assert scores == {"a": {"dense": 0.91}, "b": {"dense": 0.80, "bm25": 12.5}, "c": {"bm25": 3.0}}


def test_fusion_weights_decide_between_two_lists_that_disagree() -> None:
    def first(dense_weight: float, bm25_weight: float) -> str:
        fused, _ = fuse(
            [
                RankedList("dense", [("d", 0.9), ("l", 0.1)], dense_weight),
                RankedList("bm25", [("l", 9.0), ("d", 1.0)], bm25_weight),
            ],
            rrf_k=60,
        )
        return max(fused, key=fused.__getitem__)

    assert first(1.0, 0.5) == "d"
    assert first(0.5, 1.0) == "l"


def test_fusion_of_nothing_and_the_effect_of_rrf_k() -> None:
    assert fuse([], rrf_k=60) == ({}, {})
    assert fuse([RankedList("named", [], 2.0)], rrf_k=60) == ({}, {})
    # a zero weight ranks nothing up but still reports the list's score
    fused, scores = fuse([RankedList("mention", [("m", 1.0)], 0.0)], rrf_k=60)
    assert fused == {"m": 0.0} and scores == {"m": {"mention": 1.0}}
    # a small rrf_k makes the top of a list count for much more than the rest
    sharp, _ = fuse([RankedList("x", [("p", 0), ("q", 0)], 1.0)], rrf_k=0)
    flat, _ = fuse([RankedList("x", [("p", 0), ("q", 0)], 1.0)], rrf_k=1000)
    assert sharp["p"] / sharp["q"] == pytest.approx(2.0)
    assert flat["p"] / flat["q"] == pytest.approx(1002 / 1001)


# --- documents a question names (retrieval.named_symbols, without_names) -------------------------


def test_only_general_assembly_sessions_are_read_as_resolutions() -> None:
    assert named_symbols("What did resolution 40/1 decide?") == ["A/RES/40/1"]
    assert named_symbols("What did resolution 99/12 decide?") == ["A/RES/99/12"]
    assert named_symbols("What did resolution 30/12 decide?") == []  # before session 40
    assert named_symbols("What did resolution 100/12 decide?") == []
    # symbols of other bodies, kept whole (and upper-cased as the catalogue keys them)
    assert named_symbols("Compare E/2025/15/Add.1 with UNW/2024/1.") == ["E/2025/15/ADD.1", "UNW/2024/1"]
    # a symbol named twice is one document
    assert named_symbols("A/RES/72/237, that is resolution 72/237") == ["A/RES/72/237"]


@pytest.mark.parametrize(
    ("question", "asking"),
    [
        ("Who chaired the twenty-second session of the High-level Committee on South-South Cooperation?", "Who chaired the ?"),
        ("Qui a présidé la vingt-deuxième session du Comité de haut niveau pour la coopération Sud-Sud ?", "Qui a présidé la ?"),
        ("¿Quién presidió el 22º período de sesiones del Comité de Alto Nivel sobre la Cooperación Sur-Sur?", "¿Quién presidió el ?"),
        ("Кто был Председателем двадцать второй сессии Комитета высокого уровня по сотрудничеству Юг-Юг?", "Кто был Председателем ?"),
        ("من ترأس الدورة الثانية والعشرين للجنة الرفيعة المستوى المعنية بالتعاون فيما بين بلدان الجنوب؟", "من ترأس ؟"),
        ("谁主持了南南合作高级别委员会第二十二届会议？", "谁主持了 ？"),
    ],
)  # fmt: skip
def test_the_committee_session_is_named_in_six_languages_with_its_full_name(
    question: str, asking: str
) -> None:
    """The whole official name goes, "on South-South Cooperation" included: left in, it matches every
    passage of the report it names and tells none apart."""
    assert named_symbols(question) == ["A/80/39"]
    assert without_names(question, min_terms=0) == asking


def test_too_little_left_without_the_name_keeps_the_whole_question() -> None:
    question = "What is in resolution 72/237 about cities?"
    assert without_names(question) == "What is in about cities?"
    # "cities" is one word of three letters or more that is not a question word: not three
    assert without_names(question, min_terms=3) == question
    assert without_names("") == ""


# --- filters (retrieval.Filters) -----------------------------------------------------------------


def _meta(**kw) -> DocumentMeta:
    return DocumentMeta(doc_id=kw.pop("doc_id", "d"), **kw)


def test_filters_combine_with_and_and_undated_documents_fail_a_year_bound() -> None:
    f = Filters(kinds=["resolution"], year_from=2015, year_to=2020)
    assert f.admits(_meta(kind="resolution", date="2015-01-01"))
    assert f.admits(_meta(kind="resolution", date="2020-12-31"))
    assert not f.admits(_meta(kind="resolution", date="2014-12-31"))
    assert not f.admits(_meta(kind="sg-report", date="2018-06-01"))
    assert not f.admits(_meta(kind="resolution", date=""))  # no year: not within any bound
    assert not Filters(year_to=2020).admits(_meta(date="n.d."))
    assert Filters(doc_ids=["a", "b"]).admits(_meta(doc_id="b"))
    assert not Filters(doc_ids=["a"]).admits(_meta(doc_id="b"))
    # nothing set admits every known document, and never an unknown one
    assert Filters().admits(_meta()) and not Filters().active
    assert not Filters().admits(None)


def test_filter_symbols_are_trimmed_and_matched_in_upper_case() -> None:
    f = Filters(symbols=[" a/res/72/237 ", "   "])
    assert f.symbols == ["A/RES/72/237"] and f.active
    assert f.admits(_meta(symbol="A/RES/72/237"))
    assert f.admits(_meta(symbol="a/res/72/237"))
    assert not f.admits(_meta(symbol="A/RES/72/238"))
    assert not f.admits(_meta(symbol=""))


def test_filters_refuse_what_would_silently_match_nothing() -> None:
    assert Filters(year_from=2020, year_to=2020).active  # one year is a range
    with pytest.raises(ValidationError, match=r"year_from \(2020\) is after year_to \(2010\)"):
        Filters(year_from=2020, year_to=2010)
    for bad in ({"year_from": 1899}, {"year_to": 2101}, {"kinds": ["memo"]}, {"colour": "blue"}):
        with pytest.raises(ValidationError):
            Filters(**bad)


# --- answerability: what a question asks, and the features of a sentence -------------------------


def test_coverage_weighs_the_rare_words_and_counts_a_spelled_out_acronym() -> None:
    weights = TermWeights({"popul": 1, "nairobi": 10}, n=10)
    assert weights.idf("nairobi") == 0.0  # in every passage: says nothing
    assert weights.idf("popul") == pytest.approx(math.log(11 / 2) / math.log(11))
    assert weights.idf("unseen") == 1.0
    question = "What does UNCTAD say about population?"
    view = QuestionView(question, question, weights)
    assert set(view.terms) == {"unctad", "popul"}
    assert view.coverage("UNCTAD counts the population.") == (1.0, 0.0)
    # the acronym written out in full is the acronym
    spelled = "The United Nations Conference on Trade and Development counts the population."
    assert view.coverage(spelled) == (1.0, 0.0)
    # without the rarest word: the share of weight found, and the weight of what is missing
    have, missing = view.coverage("The population grew.")
    assert have == pytest.approx(view.terms["popul"] / (1.0 + view.terms["popul"]))
    assert missing == 1.0
    assert view.coverage("") == (0.0, 1.0)


def test_coverage_reads_a_two_letter_acronym() -> None:
    question = "Who heads the UN office?"
    view = QuestionView(question, question, TermWeights({}, 10))  # every word equally rare
    assert {"head", "un"} <= set(view.terms)
    # "United Nations" spells UN; "led" is not "heads" (general synonyms measured no gain on dev)
    assert view.coverage("The United Nations office is headed by a Director.") == (1.0, 0.0)
    have, missing = view.coverage("The United Nations office is led by a Director.")
    assert have == pytest.approx(1 - view.terms["head"] / sum(view.terms.values())) and missing == 1.0


def test_a_question_without_content_words_covers_nothing() -> None:
    view = QuestionView("What?", "What?", TermWeights({}, 0))
    assert view.terms == {} and view.coverage("anything at all") == (0.0, 0.0)


def test_a_chinese_question_is_covered_through_its_english_gloss() -> None:
    question = "南南合作高级别委员会第二十二届会议何时举行？"
    view = QuestionView(question, question, TermWeights.shipped())
    assert not view.english and "twenty-second" in view.words
    assert {"highlevel", "southsouth", "session", "twentysecond"} <= set(view.terms)
    answer = "The High-level Committee on South-South Cooperation held its twenty-second session in New York."
    assert view.coverage(answer) == (1.0, 0.0)
    have, missing = view.coverage("The weather was fine.")
    assert have == 0.0 and missing == max(view.terms.values())
    # read against its own language's passages, it is not glossed (and has no Latin words)
    same = QuestionView(question, question, TermWeights.shipped(), same_language=True)
    assert same.words == question and same.terms == {}
    assert AnswerabilityModel.group(view) == "other" and AnswerabilityModel.group(same) == "english"


def _hit(i: int, text: str, *, doc: str = "d", title: str = "", scores: dict | None = None) -> SearchHit:
    return SearchHit(
        chunk_id=f"c{i}", vector_id=f"v{i}", doc_id=doc, title=title, text=text, pages=[1], score=0.0,
        scores={"dense": 0.5} if scores is None else scores,
    )  # fmt: skip


def test_features_are_relative_to_the_best_candidate_and_passage() -> None:
    weights = TermWeights.count(["The Committee met in New York in 2023.", "The Expo was held in Bangkok."])
    question = "Where did the Committee meet in 2023?"
    view = QuestionView(question, question, weights, named_docs={"report"})
    hits = [
        _hit(0, "The Committee met in New York.", doc="report", title="Report of 2023",
             scores={"dense": 0.8, "bm25": 3.0}),
        _hit(1, "The Expo was held in Bangkok in 2022.", doc="other", scores={"dense": 0.6}),
    ]  # fmt: skip
    committee = Candidate("The Committee met in New York.", 0, sim=0.7)
    expo = Candidate("The Expo was held in Bangkok in 2022.", 1, prose=False, sim=0.4)
    short = Candidate("It met there.", 0, sim=0.9)
    describe(view, [committee, expo, short], hits)
    f, g, s = committee.features, expo.features, short.features
    assert set(f) == set(FEATURES)
    # sentence similarity: the gap to the best and the rank among the candidates
    assert (s["sim_gap"], f["sim_gap"], g["sim_gap"]) == pytest.approx((0.0, -0.2, -0.5))
    assert (s["sim_rank"], f["sim_rank"], g["sim_rank"]) == (1.0, 0.5, 1 / 3)
    # the passage: its rank, its dense score against the best, the named document, the year
    assert (f["hit_rank"], g["hit_rank"]) == (1.0, 0.5)
    assert (f["dense"], f["dense_gap"], g["dense_gap"]) == pytest.approx((0.8, 0.0, -0.2))
    assert (f["named_here"], f["named_elsewhere"]) == (1.0, 0.0)
    assert (g["named_here"], g["named_elsewhere"]) == (0.0, 1.0)
    assert f["years_missing"] == 0.0  # 2023 stands in the passage's title
    assert g["years_missing"] == 1.0
    assert (f["lexical_hit"], g["lexical_hit"]) == (1.0, 0.0)  # only keyword search found the first
    # candidates of one passage share its passage features
    assert {k: s[k] for k in ("cover_passage", "dense", "named_here")} == {
        k: f[k] for k in ("cover_passage", "dense", "named_here")
    }
    best_cover = max(c.features["cover_sentence"] for c in (committee, expo, short))
    for c in (committee, expo, short):
        assert c.features["cover_gap"] == pytest.approx(c.features["cover_sentence"] - best_cover)
    assert (f["prose"], g["prose"], f["cross_lingual"]) == (1.0, 0.0, 0.0)
    assert f["sentence_words"] == pytest.approx(math.log1p(6))


def test_describing_no_candidates_is_a_no_op_and_other_languages_are_cross_lingual() -> None:
    weights = TermWeights.count(["The Committee met."])
    describe(QuestionView("When?", "When?", weights), [], [_hit(0, "The Committee met.")])
    french = "Où le Comité s'est-il réuni en 2023 ?"
    cand = Candidate("The Committee met in New York.", 0, sim=0.5)
    describe(QuestionView(french, french, weights), [cand], [_hit(0, cand.text)])
    assert cand.features["cross_lingual"] == 1.0
    cand = Candidate("Le Comité s'est réuni à New York.", 0, sim=0.5)
    describe(QuestionView(french, french, weights, same_language=True), [cand], [_hit(0, cand.text)])
    assert cand.features["cross_lingual"] == 0.0


# --- answerability: the model --------------------------------------------------------------------


def test_a_logistic_group_is_monotone_in_each_feature_by_the_sign_of_its_weight() -> None:
    group = GroupModel(
        mean=np.array([0.5, 0.0]), scale=np.array([0.25, 1.0]), coef=np.array([2.0, -1.0]),
        intercept=0.0, threshold=0.5,
    )  # fmt: skip
    at_mean = group.probabilities(np.array([[0.5, 0.0]]))
    assert at_mean == pytest.approx([0.5])  # standardised: the mean row scores the intercept
    rising = group.probabilities(np.array([[x, 0.0] for x in (0.0, 0.25, 0.5, 0.75, 1.0)]))
    falling = group.probabilities(np.array([[0.5, x] for x in (-2.0, -1.0, 0.0, 1.0, 2.0)]))
    assert np.all(np.diff(rising) > 0) and np.all(np.diff(falling) < 0)
    assert np.all((rising > 0) & (rising < 1))
    assert rising[4] == pytest.approx(1 / (1 + math.exp(-4.0)))  # (1.0 - 0.5) / 0.25 * 2


def test_the_shipped_weights_rise_with_their_strongest_evidence() -> None:
    model = AnswerabilityModel.load()
    for group in model.groups.values():
        strongest = int(np.argmax(group.coef))
        assert group.coef[strongest] > 0
        rows = np.tile(group.mean, (5, 1))
        rows[:, strongest] = group.mean[strongest] + group.scale[strongest] * np.linspace(-2, 2, 5)
        assert np.all(np.diff(group.probabilities(rows)) > 0)


def _group(n: int, sim_weight: float, threshold: float) -> dict:
    return {"mean": [0.0] * n, "scale": [1.0] * n, "coef": [sim_weight] + [0.0] * (n - 1),
            "intercept": 0.0, "threshold": threshold}  # fmt: skip


def _model_file(tmp_path: Path, **over) -> Path:
    data = {
        "features": list(FEATURES),
        "embedder": "e5",
        "groups": {"english": _group(len(FEATURES), 4.0, 0.4), "other": _group(len(FEATURES), 4.0, 0.6)},
        "portable": {
            "features": list(PORTABLE),
            "groups": {"english": _group(len(PORTABLE), 1.0, 0.3), "other": _group(len(PORTABLE), 1.0, 0.7)},
        },
    }
    data.update(over)
    path = tmp_path / "answerability.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


def test_the_variant_follows_the_embedder_that_built_the_index(tmp_path: Path) -> None:
    path = _model_file(tmp_path)
    full = AnswerabilityModel.load(path)
    assert AnswerabilityModel.load(path, "e5") is not full  # cached per (path, embedder)
    assert AnswerabilityModel.load(path) is full
    for model in (full, AnswerabilityModel.load(path, "e5")):
        assert model.meta["variant"] == "full" and model.features == FEATURES
    portable = AnswerabilityModel.load(path, "minilm")
    assert portable.meta["variant"] == "portable" and portable.features == PORTABLE
    assert portable.meta["embedder"] == "e5" and "groups" not in portable.meta
    assert (portable.groups["english"].threshold, portable.groups["other"].threshold) == (0.3, 0.7)

    english = QuestionView("When did the Committee meet?", "When did the Committee meet?", TermWeights({}, 1))
    cands = [Candidate(f"s{i}", 0, features=dict.fromkeys(FEATURES, 0.0) | {"sim": sim})
             for i, sim in enumerate((-0.5, 0.0, 0.5))]  # fmt: skip
    assert full.score(english, cands) == 0.4
    assert [c.probability for c in cands] == pytest.approx([1 / (1 + math.exp(x)) for x in (2.0, 0.0, -2.0)])
    french = QuestionView(
        "Quand le Comité s'est-il réuni ?", "Quand le Comité s'est-il réuni ?", TermWeights({}, 1)
    )
    assert portable.score(french, cands) == 0.7  # the threshold of the question's group
    assert cands[2].probability == pytest.approx(1 / (1 + math.exp(-0.5)))
    assert full.score(english, []) == 0.4


def test_an_unreadable_or_outdated_model_says_how_to_retrain(tmp_path: Path) -> None:
    with pytest.raises(RuntimeError, match=r"unreadable .*run eval/train_answerability\.py"):
        AnswerabilityModel.load(tmp_path / "missing.json")
    broken = tmp_path / "broken.json"
    broken.write_text("{not json", encoding="utf-8")
    with pytest.raises(RuntimeError, match="unreadable"):
        AnswerabilityModel.load(broken)
    (tmp_path / "old").mkdir()
    outdated = _model_file(tmp_path / "old", features=list(FEATURES[:-1]))
    with pytest.raises(RuntimeError, match="trained on other features"):
        AnswerabilityModel.load(outdated)


# --- composition: claims, prose (answering), follow-ups (conversation) ---------------------------


def test_generated_text_is_split_into_claims_with_the_passages_they_cite() -> None:
    text = "It began in 2017 [1]. It grew [2], [3]. Nothing cites here. Wrong passage [9] [1]. [2]"
    assert list(split_claims(text, n_hits=3)) == [
        ("It began in 2017.", [1]),
        ("It grew.", [2, 3]),
        ("Nothing cites here.", []),
        ("Wrong passage.", [1, 2]),  # [9] points nowhere; a marker after the full stop is the sentence's
    ]
    assert list(split_claims("Cities joined in 2018 [1][2] and [1] again [1].", n_hits=1)) == [
        ("Cities joined in 2018 and again.", [1])
    ]
    assert list(split_claims("", n_hits=3)) == []


def test_headings_labels_and_table_rows_are_not_prose() -> None:
    assert looks_like_prose("Requests the Secretary-General to submit a report on the implementation;")
    assert looks_like_prose("Welcomes the “outcome” of the conference held in Nairobi (A/80/39).")
    for text in (
        "I. Outcome of the fourth session",  # short and unpunctuated: a heading
        "Principle 5: Clarity in defining terrorism",
        "Table 3",
        "2017 2018 2019 2020 2021 2022 2023.",  # figures, not words
        "USD 12,000 | 34,000 | 56,000 | 78,000 | 90,000 | total",
        "",
    ):
        assert not looks_like_prose(text), text


def test_the_subject_of_a_question_is_its_longest_name() -> None:
    assert subject_of("When was the UN Office for South-South Cooperation established?") == (
        "the UN Office for South-South Cooperation"
    )
    assert subject_of("What was the Cities Project?") == "the Cities Project"
    assert subject_of("What does resolution 80/156 ask?") == "80/156"
    assert subject_of("What does A/RES/73/291 say?") == "73/291"
    assert subject_of("what is it?") is None  # question openers and pronouns are no names
    assert subject_of("") is None


def test_a_pronoun_is_replaced_by_the_earlier_subject_and_named_documents_are_kept() -> None:
    established = "When was the UN Office for South-South Cooperation established?"
    assert standalone("And what was it first called?", [established]) == (
        "what was the UN Office for South-South Cooperation first called?"
    )
    assert standalone("What about its budget?", ["What is the Cities Project?"]) == (
        "What about the Cities Project's budget?"
    )
    assert (
        standalone(
            "And when was it adopted?", ["What does A/RES/73/291 say about the Buenos Aires Plan of Action?"]
        )
        == "when was the Buenos Aires Plan of Action adopted? A/RES/73/291"
    )
    # the subject of a conversation of follow-ups comes from the question before the follow-up
    assert standalone("And when did they meet?", ["Who chairs the High-level Committee?", "And where?"]) == (
        "when did the High-level Committee meet?"
    )


def test_what_is_not_resolved_by_substitution_is_carried_or_left_alone() -> None:
    established = "When was the UN Office for South-South Cooperation established?"
    # another language: the earlier question is carried along, not substituted into
    assert standalone("它最初叫什么？", [established]) == f"{established} 它最初叫什么？"
    assert (
        standalone("Et comment s'appelait-il ?", [established]) == f"{established} Et comment s'appelait-il ?"
    )
    # no history, or not a follow-up: the question as asked
    assert standalone("And what was it first called?", []) == "And what was it first called?"
    assert standalone("What is the capital of France?", [established]) == "What is the capital of France?"


def test_a_long_question_with_a_pronoun_stands_on_its_own() -> None:
    assert is_follow_up("Also, which cities?") and is_follow_up("  and then?")
    assert is_follow_up("Their budget?") and is_follow_up("他们在哪里开会？")
    assert not is_follow_up(
        "Who funds the Cities Project and when did the United Nations Office for South-South "
        "Cooperation start it in earnest across regions?"
    )
    assert not is_follow_up("Andorra joined when?")  # "And" only as a word of its own


# --- symbols and citations (references, catalog, citations) --------------------------------------


def test_symbols_in_running_text_are_read_with_their_place() -> None:
    text = "See A/RES/72/237. Then E/ICEF/2025/11- and TD/B/C.II/1; UNW/2024/1, DP/FPA/2025/1 (A/80/39)"
    found = symbols_in(text)
    assert [symbol for symbol, _, _ in found] == [
        "A/RES/72/237", "E/ICEF/2025/11", "TD/B/C.II/1", "UNW/2024/1", "DP/FPA/2025/1", "A/80/39",
    ]  # fmt: skip
    for symbol, start, end in found:  # a full stop or hyphen after a symbol is not part of it
        assert text[start : start + len(symbol)] == symbol and end >= start + len(symbol)
    # Chinese writes no space after a symbol
    assert [s for s, _, _ in symbols_in("A/RES/72/237号决议")] == ["A/RES/72/237"]
    for text in ("and/or S/A", "xA/RES/1", "a/res/72/237", ""):  # a symbol has a number and a known body
        assert symbols_in(text) == [], text
    # after a Chinese character ("第A/RES/72/237号决议") a symbol still begins
    assert [s for s, _, _ in symbols_in("第A/RES/72/237号决议")] == ["A/RES/72/237"]
    # typed in lower case into a question: read when asked for, in the catalogue's capitals
    assert [s for s, _, _ in symbols_in("what does a/res/72/237 ask?", any_case=True)] == ["A/RES/72/237"]
    # written as documents write it, kept so: passages are searched for it verbatim
    assert [s for s, _, _ in symbols_in("What does E/2025/15/Add.1 say?", any_case=True)] == [
        "E/2025/15/Add.1"
    ]
    for text in ("and/or s/a", "xa/res/1", "ea/res/72/1"):
        assert symbols_in(text, any_case=True) == [], text


def test_symbols_of_other_bodies_are_normalised_and_malformed_ones_refused() -> None:
    assert normalize_symbol("e/2025/15/Add.1") == "E/2025/15/Add.1"  # the body upper-cased, the rest kept
    assert normalize_symbol("UNEP/EA.6/Res.1") == "UNEP/EA.6/Res.1"
    assert normalize_symbol("TD/B/C.II/1") == "TD/B/C.II/1"
    assert normalize_symbol("S/RES/2719 (2024)") == "S/RES/2719(2024)"
    assert normalize_symbol("A/RES/79/236\n") == "A/RES/79/236"
    for bad in ("A", "A/", "A//1", "1/2", "A/RES/" + "1/" * 50):
        with pytest.raises(SymbolError, match="is not a UN document symbol"):
            normalize_symbol(bad)


def test_cited_resolutions_of_other_bodies_and_old_sessions_are_left_out() -> None:
    assert cited_symbols("Human Rights Council resolution 26/8 and General Assembly resolution 64/222") == [
        "A/RES/64/222"
    ]
    # a body's name before "General Assembly" does not make it another body's resolution
    assert cited_symbols("the General Assembly Committee resolution 64/222") == ["A/RES/64/222"]
    assert cited_symbols("resolution 30/12 and resolution 31/1") == ["A/RES/31/1"]  # numbered from 1976
    # a list broken over lines, its part letters kept
    assert cited_symbols("resolutions 60/212 and\n  71/244 A") == ["A/RES/60/212", "A/RES/71/244A"]
    # a resolution cited by number and by symbol is one, at its first mention
    assert cited_symbols("Recalling its resolution 64/222, and A/RES/64/222.") == ["A/RES/64/222"]
    assert cited_symbols("A/74/336. A/74/336 and E/2025/15/Add.1.") == ["A/74/336", "E/2025/15/Add.1"]
    assert cited_symbols("") == []


def test_a_symbol_is_read_from_a_file_name_in_any_official_language() -> None:
    assert symbol_from_name("A_RES_72_237") == "A/RES/72/237"  # without a language
    assert symbol_from_name("A_RES_72_237.fr") == "A/RES/72/237"
    assert symbol_from_name("A_RES_72_237.ZH") == "A/RES/72/237"
    assert symbol_from_name("TD_B_C.II_1.es") == "TD/B/C.II/1"
    assert symbol_from_name("UNEP_EA.6_Res.1.en") == "UNEP/EA.6/Res.1"
    assert symbol_from_name("A_RES_ABC") == ""  # a symbol has a number
    assert symbol_from_name("a_res_72_237.en") == ""  # bodies are upper case


def test_the_facts_a_supporting_passage_must_state() -> None:
    assert facts("In 2017, UNOSSC initiated the Cities Project with the Government of China.") == {
        "2017", "Cities Project", "Government of China",
    }  # fmt: skip
    assert facts("It grew by 1,200 cities and 3 regions.") == {"1,200", "3"}
    assert facts("See A/RES/72/237, para. 5.") == {"A/RES/72/237", "5"}
    assert facts("Costs rose 4.5 per cent.") == {"4.5"}
    assert facts("") == set()


def test_missing_facts_read_figures_without_separators_and_names_without_case() -> None:
    assert missing_facts("It grew by 1,200 cities in 2017.", "In 2017 the network grew by 1200 cities.") == []
    assert missing_facts("It grew by 1,300 cities in 2017.", "In 2017 it grew by 1 200 cities.") == ["1,300"]
    named = "See A/RES/72/237 of the Government of China."
    assert missing_facts(named, "as a/res/72/237 says, the government of china") == []
    assert missing_facts("See A/RES/72/238.", "as A/RES/72/237 says") == ["A/RES/72/238"]
    assert missing_facts("Nothing to check here.", "") == []


PAGES = {
    3: "Preamble text. The High-level Committee on South-South Cooperation, having considered the report of the Administrator,",
    4: "decided to convene its twenty-third session in New   York in 2026 and requested a report on progress.\nOther text",
    5: "Unrelated annex.",
}


def test_a_quote_is_placed_on_the_pages_it_stands_on() -> None:
    across = (
        "The High-level Committee on South-South Cooperation, having considered the report of the "
        "Administrator, decided to convene its twenty-third session in New York in 2026 and requested "
        "a report on progress."
    )
    assert pages_of_quote(PAGES, across, 3, 5) == [3, 4]
    # white space is squashed on both sides
    assert pages_of_quote(PAGES, "convene its twenty-third\nsession in New York", 3, 5) == [4]
    assert pages_of_quote(PAGES, "Unrelated annex.", 3, 5) == [5]
    # not found within the span (or the span's pages unknown): the whole span
    assert pages_of_quote(PAGES, "Unrelated annex.", 3, 4) == [3, 4]
    assert pages_of_quote({}, "anything", 2, 3) == [2, 3]


# --- question analysis (questions) ---------------------------------------------------------------


def test_content_terms_fold_hyphens_drop_stopwords_and_keep_symbols() -> None:
    assert content_terms("South-South cooperation") == {"southsouth", "cooper"}
    assert content_terms("sub-national and subnational") == {"subnational"}
    assert content_terms("A/RES/72/237 of 2017") == {"a/res/72/237", "2017"}
    assert content_terms("COVID-19") == {"covid19"}
    assert content_terms("-- - / x") == set()  # no one-letter terms
    assert content_terms("南南合作") == set()  # Latin letters and digits only
    assert content_terms("") == set()


def test_stems_meet_across_inflections_and_spellings_but_keep_short_words() -> None:
    assert stem("initiated") == stem("initiate") == "initiat"
    assert stem("priorities") == stem("priority") == "priorit"
    assert stem("prioritise") == stem("prioritize")  # British and American spellings
    assert stem("organisation") == stem("organization")
    assert stem("cities") == stem("city") == "city" and stem("states") == "stat"
    assert stem("parties") == stem("party") and stem("countries") == stem("country")
    for short in ("bus", "uses", "ise"):  # a stem keeps four letters at least
        assert stem(short) == short


@pytest.mark.parametrize(
    ("token", "value"),
    [("hundredth", 100), ("Hundredth", 100), ("101st", 101), ("nineteenth", 19), ("thirtieth", 30),
     ("forty first", 41), ("ninety-ninth", 99), ("twenty-tenth", None), ("twenty-", None), ("", None)],
)  # fmt: skip
def test_more_ordinals_read_as_numbers(token: str, value: int | None) -> None:
    assert ordinal_value(token) == value


def test_how_much_and_by_what_date_are_answer_types_too() -> None:
    assert answer_type("How much funding was mobilized?") == "number"
    assert answer_type("By what date must proposals arrive?") == "year"
    assert answer_type("When is the deadline?") == "deadline"  # a deadline before a date
    assert answer_type("What does the resolution say?") is None
    assert answer_type("") is None


def test_a_question_for_every_point_is_told_from_a_question_for_one_fact() -> None:
    for question in (
        "What does resolution 80/156 ask the UN development system to do?",
        "Which measures does it call for?",
        "What services does the project provide?",
        "List the challenges.",
        "Quelles mesures ?",
    ):
        assert asks_for_list(question), question
    for question in ("When was it founded?", "Who chaired the session?", ""):
        assert not asks_for_list(question), question


def test_countries_are_told_apart_from_their_longer_and_shorter_namesakes() -> None:
    assert countries("Niger and Nigeria") == {"Niger", "Nigeria"}
    assert countries("the Democratic Republic of the Congo and the Congo") == {
        "Democratic Republic of the Congo", "Congo",
    }  # fmt: skip
    assert countries("Dominica and the Dominican Republic") == {"Dominica", "Dominican Republic"}
    assert countries("Republic of Korea and Democratic People's Republic of Korea") == {
        "Republic of Korea", "Democratic People's Republic of Korea",
    }  # fmt: skip
    assert countries("Ivory Coast") == {"Côte d'Ivoire"} and countries("Vietnam") == {"Viet Nam"}
    assert countries("NIGER") == {"Niger"}  # case does not matter
    assert countries("Sudanese delegates") == set()  # whole names only
    assert countries("中国") == set() and countries("") == set()


def test_an_acronym_is_spelled_by_initials_skipping_only_small_words() -> None:
    assert spells_out("UNDP", "the United Nations Development Programme")
    assert spells_out("UNDP", "United-Nations Development/Programme")  # hyphens and slashes split words
    assert spells_out("WHO", "World Health Organization")
    assert spells_out("A&B", "Alpha and Beta")
    assert not spells_out("UNEP", "United Nations new Environment Programme")  # a word that does not fit
    assert not spells_out("SDG", "")


# --- glossary, duplicates, evaluation metrics (metrics) ------------------------------------------


def test_the_shipped_gloss_keeps_names_and_symbols_and_folds_spellings() -> None:
    assert gloss("") == ""
    assert gloss("résolution") == "resolution"
    assert gloss("Résolutions 72/237 du PNUD") == "resolution 72/237 UNDP"
    assert (
        gloss("Организация Объединённых Наций") == gloss("Организация Объединенных Наций") == "United Nations"
    )
    assert gloss("الأمم المتحدة") == "United Nations"
    assert gloss("ABC南南合作xyz") == "ABC South-South cooperation"  # Chinese read between Latin words
    assert gloss("Hello world") == "Hello"  # a capitalised word may be a name; other words are not terms


def test_chinese_is_read_by_longest_match_and_arabic_without_its_article() -> None:
    glossary = Glossary(
        [
            {"en": "resolution", "zh": ["决议"]},
            {"en": "General Assembly", "zh": ["大会"], "ar": ["الجمعية العامة"]},
            {"en": "South-South cooperation", "zh": ["南南合作"]},
            {"en": "South", "zh": ["南"]},
        ]
    )
    assert glossary.gloss("南南合作") == "South-South cooperation"
    assert glossary.gloss("南") == "South"
    assert glossary.gloss("大会第72/237号决议") == "General Assembly 72/237 resolution"
    assert glossary.gloss("的大会的大会") == "General Assembly"  # each English word once
    assert glossary.gloss("والجمعية العامة") == "General Assembly"  # "and the" prefixed


def test_containment_counts_runs_of_words_in_the_longer_text() -> None:
    short = "The Committee decided to convene its twenty-third session in New York in 2026."
    longer = f"Recalling that {short[:-1]}, and noting the report."
    assert containment(short, longer) == containment(longer, short) == 1.0  # symmetric: the shorter inside
    assert containment("THE COMMITTEE, decided!", "the committee decided") == 1.0  # case and punctuation
    # runs shorter than min_run do not count
    assert containment("one two three four five six", "one two x three four five six") == pytest.approx(4 / 6)
    assert containment("one two three four", "one two x three four") == 0.0
    assert containment("one two three four", "one two x three four", min_run=2) == 1.0
    # the same words in another order share no run
    assert containment("convene its session", "its session convene") == 0.0
    assert containment("", short) == containment(short, "") == 0.0


def test_answers_are_compared_without_case_punctuation_or_articles() -> None:
    assert normalize_answer("The Year: 2017!") == "year 2017"
    assert normalize_answer("“An” answer, the end") == "answer end"
    assert normalize_answer("theatre a an") == "theatre"  # whole words only
    assert normalize_answer("") == ""
    assert token_f1("", "") == 1.0 and token_f1("", "2017") == 0.0
    assert token_f1("the", "a") == 1.0  # nothing left of either: the same
    assert token_f1("a b b", "b b c") == pytest.approx(0.8)  # shared tokens counted with multiplicity


def test_a_keypoint_counts_once_any_of_its_phrasings_is_in_the_answer() -> None:
    points = [["Capacity  Development"], ["technology transfer", "transfer of technology"], ["finance"]]
    answer = "It asks for capacity development and the transfer of\ntechnology."
    assert keypoint_recall(points, answer) == pytest.approx(2 / 3)
    assert keypoint_recall([], answer) == 0.0
    assert keypoint_recall([[]], answer) == 0.0


def test_percentile_is_the_nearest_rank() -> None:
    from sstc_assistant.metrics import percentile

    values = [5.0, 1.0, 4.0, 2.0, 3.0]
    assert percentile(values, 0.5) == 3.0
    assert percentile(values, 0.95) == 5.0 and percentile(values, 0.0) == 1.0
    assert percentile(list(range(1, 101)), 0.95) == 95
    assert math.isnan(percentile([], 0.5))
