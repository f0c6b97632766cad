"""Train the project's statistical NER with spaCy's own training loop.

Why this shape: the model must be small enough to ship in the repository
(a CNN tok2vec of width 64 on hashed NORM/PREFIX/SUFFIX/SHAPE features, no
word vectors: about 2 MB on disk) and train in about a minute on one core, so
anyone can rebuild it. It runs on the same ``vi`` blank pipeline and syllable
tokenizer as the gazetteer EntityRuler (``extraction.entities``), so the two
see the same tokens and can be combined.

``python -m extraction.ner_train`` trains on ``extraction/data/ner/train.txt``
(+ the hand-checked sentences) and writes ``extraction/data/ner/model``.
Training is deterministic for a given seed and corpus.
"""

from __future__ import annotations

import hashlib
import random
import time
from pathlib import Path
from typing import Any

from extraction.entities import make_blank_vi
from extraction.ner_corpus import HANDCHECKED_PATH, NER_DIR, TRAIN_PATH, read_marked

MODEL_DIR = NER_DIR / "model"
LABELS = ("PER", "ORG", "LOC", "DATE")

NER_MODEL: dict[str, Any] = {
    "@architectures": "spacy.TransitionBasedParser.v2",
    "state_type": "ner",
    "extra_state_tokens": False,
    "hidden_width": 64,
    "maxout_pieces": 2,
    "use_upper": True,
    "nO": None,
    "tok2vec": {
        "@architectures": "spacy.HashEmbedCNN.v2",
        "pretrained_vectors": None,
        "width": 64,
        "depth": 4,
        "embed_size": 2000,
        "window_size": 1,
        "maxout_pieces": 3,
        "subword_features": True,
    },
}


class CorpusError(ValueError):
    """An annotated line whose spans do not fall on token boundaries."""


def examples(nlp: Any, items: list[tuple[str, list[tuple[int, int, str]]]], source: Path) -> list[Any]:
    from spacy.training import Example

    out = []
    for n, (text, spans) in enumerate(items, 1):
        doc = nlp.make_doc(text)
        for start, end, label in spans:
            if doc.char_span(start, end, label=label) is None:
                raise CorpusError(f"{source}: line {n}: {text[start:end]!r} does not fall on token boundaries")
        out.append(Example.from_dict(doc, {"entities": spans}))
    return out


def train(out_dir: Path = MODEL_DIR, epochs: int = 12, seed: int = 0,
          corpus: tuple[Path, ...] = (TRAIN_PATH, HANDCHECKED_PATH), log: bool = True) -> Path:
    """Train and write the model; returns its folder."""
    from spacy.util import fix_random_seed, minibatch

    fix_random_seed(seed)
    nlp = make_blank_vi()
    nlp.add_pipe("ner", config={"model": NER_MODEL})
    train_ex: list[Any] = []
    for path in corpus:
        ex = examples(nlp, read_marked(path), path)
        train_ex.extend(ex * (4 if path == HANDCHECKED_PATH else 1))  # hand-checked lines weigh more
    optimizer = nlp.initialize(lambda: train_ex)
    rng = random.Random(seed)
    t0 = time.process_time()
    for epoch in range(epochs):
        rng.shuffle(train_ex)
        losses: dict[str, float] = {}
        for batch in minibatch(train_ex, size=32):
            nlp.update(batch, drop=0.2, sgd=optimizer, losses=losses)
        if log:
            print(f"epoch {epoch + 1:>2}  loss {losses.get('ner', 0.0):9.1f}  cpu {time.process_time() - t0:6.1f} s")
    out_dir.mkdir(parents=True, exist_ok=True)
    nlp.to_disk(out_dir, exclude=["tokenizer"])
    (out_dir / "corpus.sha256").write_text(corpus_hash(corpus) + "\n", encoding="utf-8")
    return out_dir


def corpus_hash(corpus: tuple[Path, ...] = (TRAIN_PATH, HANDCHECKED_PATH)) -> str:
    """What the model was trained on: a test compares it with the corpus in the tree."""
    h = hashlib.sha256()
    for path in corpus:
        h.update(path.read_bytes())
    return h.hexdigest()


def main() -> int:
    out = train()
    size = sum(p.stat().st_size for p in out.rglob("*") if p.is_file())
    print(f"model → {out} ({size / 1e6:.2f} MB)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
