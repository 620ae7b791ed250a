"""What `kata sample` and `kata train --tokenizer bpe` take from stages 10 and 12 (kata/sampling.py,
kata/bpe_corpus.py), on the references, small."""

import pytest
import torch
from support import fixed_seed

from kata import bpe_corpus, implementation, sampling
from kata.corpus import load_corpus
from kata.manifest import REPOSITORY_ROOT

pytestmark = pytest.mark.meta


@pytest.fixture
def references():
    previous = implementation.activate(REPOSITORY_ROOT / "solutions")
    try:
        yield implementation.load_stage
    finally:
        implementation.activate(previous)


class CharacterTokenizer:
    def __init__(self, vocabulary):
        self.vocabulary = vocabulary

    def encode(self, text):
        return [self.vocabulary.index(char) for char in text]

    def decode(self, ids):
        return "".join(self.vocabulary[i] for i in ids)


def tiny_gpt(load_stage, seed=0):
    config = load_stage("s08_gpt").GPTConfig(vocab_size=5, block_size=8, n_embd=8, n_head=2, n_layer=1, dropout=0.0)
    with fixed_seed(seed):
        return load_stage("s08_gpt").GPTLanguageModel(config).eval()


def test_a_per_head_gpt_gets_fused_attention_with_the_same_logits(references):
    model = tiny_gpt(references)
    idx = torch.randint(5, (2, 8), generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        before = model(idx)[0]
        after = sampling.with_fused_attention(model, references("s09_fast_attention"))(idx)[0]
    assert all(hasattr(block.sa, "c_attn") for block in model.blocks)
    torch.testing.assert_close(after, before, atol=1e-6, rtol=0)


def test_sample_text_with_top_k_1_continues_greedily_past_block_size(references):
    model = sampling.with_fused_attention(tiny_gpt(references, 1), references("s09_fast_attention"))
    tokenizer = CharacterTokenizer(list("abcde"))
    text = sampling.sample_text(references("s10_generation"), model, tokenizer, "ab", 12, top_k=1)
    idx = torch.tensor([tokenizer.encode("ab")])
    with torch.no_grad():
        for _ in range(12):
            idx = torch.cat((idx, model(idx[:, -8:])[0][:, -1:].argmax(-1)), dim=1)
    assert text == tokenizer.decode(idx[0].tolist())


def test_the_corpus_encoded_by_paragraph_decodes_back_and_restores_from_the_merges(references):
    text = load_corpus()[:6000]
    tokenizer = bpe_corpus.train_tokenizer(references("s12_bpe"), text, vocab_size=300, characters=3000)
    ids = tokenizer.encode(text)
    assert tokenizer.vocab_size == 300 and max(ids) < 300 and len(ids) < len(text)
    assert tokenizer.decode(ids) == text
    paragraph = text.split("\n\n")[1]
    assert tokenizer.encode(paragraph) == tokenizer.tokenizer.encode(paragraph)
    restored = bpe_corpus.restore_tokenizer(references("s12_bpe"), tokenizer.merges)
    assert restored.encode(text) == ids
