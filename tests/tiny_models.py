"""Tiny random BERT models built locally, so tests load models through the real code path.

No weights can be downloaded here; these models have random weights, so their outputs
mean nothing, but their files, shapes and loading behaviour are those of real models.
"""

from __future__ import annotations

from pathlib import Path

SPECIAL_TOKENS = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]


def _vocab() -> list[str]:
    """Special tokens, printable ASCII (+ "##" pieces so Latin words split into letters),
    and the CJK Unified Ideographs block, which covers Traditional and Simplified."""
    ascii_chars = [chr(c) for c in range(0x21, 0x7F)]
    pieces = ["##" + c for c in ascii_chars if c.isalnum()]
    cjk = [chr(c) for c in range(0x4E00, 0x9FA6)]
    return SPECIAL_TOKENS + ascii_chars + pieces + cjk


def _tokenizer(out_dir: Path):
    from transformers import BertTokenizer

    out_dir.mkdir(parents=True, exist_ok=True)
    vocab_file = out_dir / "vocab.txt"
    vocab_file.write_text("\n".join(_vocab()) + "\n", encoding="utf-8")
    # `vocab=` (not `vocab_file=`, silently ignored in transformers 5: all tokens [UNK]).
    return BertTokenizer(vocab=str(vocab_file), tokenize_chinese_chars=True)


def _bert_config(vocab_size: int, **extra):
    from transformers import BertConfig

    return BertConfig(
        vocab_size=vocab_size,
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=64,
        max_position_embeddings=512,
        **extra,
    )


def build_tiny_sentence_transformer(out_dir: Path) -> Path:
    """Save a 32-d mean-pooling sentence-transformers model in out_dir; return its path."""
    import torch
    from sentence_transformers import SentenceTransformer
    from sentence_transformers.sentence_transformer.modules import Pooling, Transformer
    from transformers import BertModel

    out_dir = Path(out_dir)
    hf_dir = out_dir.parent / (out_dir.name + "-hf")
    tok = _tokenizer(hf_dir)
    tok.save_pretrained(hf_dir)
    torch.manual_seed(0)
    BertModel(_bert_config(len(tok))).save_pretrained(hf_dir)
    transformer = Transformer(str(hf_dir), max_seq_length=128)
    pooling = Pooling(transformer.get_embedding_dimension(), pooling_mode="mean")
    SentenceTransformer(modules=[transformer, pooling], device="cpu").save(str(out_dir))
    return out_dir


def build_tiny_cross_encoder(out_dir: Path) -> Path:
    """Save a one-label BertForSequenceClassification (a CrossEncoder) in out_dir."""
    import torch
    from transformers import BertForSequenceClassification

    out_dir = Path(out_dir)
    tok = _tokenizer(out_dir)
    tok.save_pretrained(out_dir)
    torch.manual_seed(0)
    BertForSequenceClassification(_bert_config(len(tok), num_labels=1)).save_pretrained(out_dir)
    return out_dir
