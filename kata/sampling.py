"""Text from a trained GPT through the learner's own stage-10 generation: temperature, top_k, top_p
and the KV cache. `kata sample` uses it once stage 10 passes (else the model's own generate)."""

import torch


def with_fused_attention(model, fast_attention_stage):
    """The KV cache reads each block's fused c_attn (stage 9). A GPT trained before stage 9 passed has
    per-head attention: convert it in place with the learner's own from_multihead (same function)."""
    for block in model.blocks:
        if not hasattr(block.sa, "c_attn"):
            block.sa = fast_attention_stage.CausalSelfAttention.from_multihead(block.sa)
    return model


def sample_text(
    generation_stage,
    model,
    tokenizer,
    prompt: str,
    tokens: int,
    *,
    seed: int = 0,
    temperature: float = 1.0,
    top_k: int | None = None,
    top_p: float | None = None,
) -> str:
    """The prompt and `tokens` tokens after it, sampled with generation_stage.generate (the cache on)."""
    model.eval()
    device = next(model.parameters()).device
    idx = torch.tensor([tokenizer.encode(prompt)], dtype=torch.long, device=device)
    generator = torch.Generator(device=device).manual_seed(seed)
    out = generation_stage.generate(
        model, idx, tokens, temperature=temperature, top_k=top_k, top_p=top_p, generator=generator
    )
    return tokenizer.decode(out[0].tolist())
