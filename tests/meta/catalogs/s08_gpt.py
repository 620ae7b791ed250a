"""Stage 8 · The full GPT: mistakes and variants."""

from catalog import Edited as Mistake
from catalog import Edited as Variant

MISTAKES = [
    Mistake(
        "no-position-embedding",
        "s08_gpt",
        "never added the position embedding",
        (("x = self.blocks(tok_emb + pos_emb)", "x = self.blocks(tok_emb)"),),
        "the embedding of each position",
    ),
    Mistake(
        "no-final-layernorm",
        "s08_gpt",
        "skipped ln_f",
        (("logits = self.lm_head(self.ln_f(x))", "logits = self.lm_head(x)"),),
    ),
    Mistake(
        "generate-without-cropping",
        "s08_gpt",
        "fed the whole sequence to the model",
        (("idx_cond = idx[:, -self.config.block_size :]", "idx_cond = idx"),),
    ),
    Mistake(
        "default-initialisation",
        "s08_gpt",
        "kept PyTorch's default initialisation",
        (("        self.apply(self._init_weights)\n", ""),),
        "std 0.02",
    ),
    Mistake(
        "lm-head-without-bias",
        "s08_gpt",
        "left the bias off lm_head",
        (
            (
                "self.lm_head = nn.Linear(config.n_embd, config.vocab_size)",
                "self.lm_head = nn.Linear(config.n_embd, config.vocab_size, bias=False)",
            ),
        ),
        "10,788,929",
    ),
    Mistake(
        "no-length-check",
        "s08_gpt",
        "did not reject sequences longer than block_size",
        (("        if T > self.config.block_size:\n", "        if False:\n"),),
        "IndexError",
    ),
]

VARIANTS = [
    Variant(
        "positions-from-the-table",
        "s08_gpt",
        "slices the position table instead of looking up arange",
        (
            (
                "pos_emb = self.position_embedding_table(torch.arange(T, device=idx.device))  # (T, C)",
                "pos_emb = self.position_embedding_table.weight[:T]",
            ),
        ),
    ),
]
