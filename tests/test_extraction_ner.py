"""The project's statistical NER: its corpus, its training, the shipped model."""

from __future__ import annotations

import json
import re
from pathlib import Path

from extraction import ner_corpus
from extraction.ner_train import MODEL_DIR, NER_MODEL, corpus_hash, examples, train

ROOT = Path(__file__).resolve().parent.parent
HELD_OUT = [ROOT / "tests" / "data" / n for n in (
    "extraction_entities.txt", "extraction_entities_heldout.txt", "extraction_entities_heldout_c.txt",
    "extraction_entities_heldout_ocr.txt", "extraction_entities_heldout_d.txt")]


def _texts(path: Path) -> set[str]:
    return {t for t, _ in ner_corpus.read_marked(path)}


def test_corpus_in_the_tree_is_what_the_generator_writes():
    lines = ner_corpus.generate()
    stored = [l for l in ner_corpus.TRAIN_PATH.read_text(encoding="utf-8").splitlines() if not l.startswith("#")]
    assert stored == [l.replace("\n", " ⏎ ") for l in lines]
    labels = {label for _, spans in ner_corpus.read_marked(ner_corpus.TRAIN_PATH) for *_, label in spans}
    assert labels == {"PER", "ORG", "LOC", "DATE"}
    assert len(lines) >= 4000


def test_held_out_sets_share_no_sentence_and_no_template_with_training():
    train = _texts(ner_corpus.TRAIN_PATH) | _texts(ner_corpus.HANDCHECKED_PATH)
    templates = [re.compile(re.escape(t).replace(r"\{", "{").replace(r"\}", "}")
                 .replace("{PER}", ".+?").replace("{ORG}", ".+?").replace("{LOC}", ".+?").replace("{DATE}", ".+?")
                 .replace("{DATE_NUM}", ".+?").replace("{PLACE}", ".+?").replace("{ORG_CAPS}", ".+?")
                 .replace("{LOC_CAPS}", ".+?").replace("{LOC_CAPS2}", ".+?").replace("{DATE_CAPS}", ".+?")
                 .replace("{ORG_SHORT}", ".+?"))
                 for t in ner_corpus.TEMPLATES + ner_corpus._REFERENCES + ner_corpus._BARE_NAMES
                 + ner_corpus._CAPS_WITH if len(re.sub(r"\{\w+\}", "", t)) >= 15]  # enough fixed words to be a template
    for path in HELD_OUT:
        held = _texts(path)
        assert held and not (held & train), path.name
        for text in held:
            assert not any(t.fullmatch(text) for t in templates), (path.name, text)


def test_every_annotation_falls_on_token_boundaries():
    from extraction.entities import make_blank_vi

    nlp = make_blank_vi()
    for path in (ner_corpus.TRAIN_PATH, ner_corpus.HANDCHECKED_PATH):
        items = ner_corpus.read_marked(path)
        assert len(examples(nlp, items, path)) == len(items)


def test_misaligned_annotation_is_a_typed_error_naming_the_file():
    import pytest

    from extraction.entities import make_blank_vi
    from extraction.ner_train import CorpusError

    items = [ner_corpus.parse_marked("Huyện [[ủy Vũ|ORG]] Thư")]
    items[0][1][0] = (2, 10, "ORG")  # "yện ủy V": inside syllables
    with pytest.raises(CorpusError, match="bad.txt: line 1"):
        examples(make_blank_vi(), items, Path("bad.txt"))


def test_ocr_noise_keeps_lengths_and_only_slips_diacritics():
    import random

    text = "Đồng chí Nguyễn Văn Bình, Bí thư Huyện ủy Đông Hưng, về dự hội nghị."
    noisy = ner_corpus.ocr_noise(text, random.Random(1), rate=1.0)
    assert len(noisy) == len(text) and noisy != text
    assert noisy.startswith("Dông chí") and "Huyên uy Dông Hung" in noisy


def test_shipped_model_is_small_trained_on_this_corpus_and_loads(tmp_path):
    from extraction.entities import entity_pipeline

    size = sum(p.stat().st_size for p in MODEL_DIR.rglob("*") if p.is_file())
    assert size < 5_000_000
    assert (MODEL_DIR / "corpus.sha256").read_text().strip() == corpus_hash()
    nlp = entity_pipeline("statistical")
    assert nlp.pipe_names == ["ner"]
    assert sorted(nlp.get_pipe("ner").labels) == ["DATE", "LOC", "ORG", "PER"]
    cfg = json.loads(json.dumps(nlp.config["components"]["ner"]["model"]["tok2vec"]))
    assert cfg["width"] == NER_MODEL["tok2vec"]["width"] and cfg["pretrained_vectors"] is None
    doc = nlp("Đồng chí Lường Văn Khánh, Giám đốc Trung tâm Khuyến nông tỉnh, làm việc tại xã Tả Phìn.")
    assert ("Lường Văn Khánh", "PER") in {(e.text, e.label_) for e in doc.ents}


def test_training_runs_with_spacy_and_learns(tmp_path):
    import spacy

    from extraction.entities import _make_tokenizer

    small = tmp_path / "small.txt"
    lines = ner_corpus.TRAIN_PATH.read_text(encoding="utf-8").splitlines()[:600]
    small.write_text("\n".join(lines) + "\n", encoding="utf-8")
    out = train(tmp_path / "model", epochs=4, corpus=(small,), log=False)
    nlp = spacy.load(out, exclude=["tokenizer"])
    nlp.tokenizer = _make_tokenizer(nlp.vocab)
    found = {(e.text.split()[0], e.label_) for e in nlp("Đồng chí Nguyễn Văn Hùng làm việc với Huyện ủy Vũ Thư.").ents}
    assert {("Nguyễn", "PER"), ("Huyện", "ORG")} <= found  # 600 lines, 4 epochs: the shapes, if not every edge
    assert (out / "corpus.sha256").read_text().strip() == corpus_hash((small,))


def test_training_is_deterministic(tmp_path):
    import hashlib

    small = tmp_path / "small.txt"
    small.write_text("\n".join(ner_corpus.TRAIN_PATH.read_text(encoding="utf-8").splitlines()[:200]) + "\n",
                     encoding="utf-8")
    digests = [hashlib.sha256((train(tmp_path / f"m{i}", epochs=2, corpus=(small,), log=False) / "ner" / "model")
                              .read_bytes()).hexdigest() for i in range(2)]
    assert digests[0] == digests[1]
