"""Stage 10 · Sampling controls and a KV cache: mistakes and variants."""

from catalog import Edited as Mistake
from catalog import Edited as Variant
from catalog import knock_on, named, replaced

from catalogs.s07_transformer import MISTAKES as S07
from catalogs.s09_fast_attention import MISTAKES as S09

STAGE = "s10_generation"

MISTAKES = [
    # Source: the false-pass hunt of 2026-12-07: nanoGPT's generate, which has no top_p, for use_cache=False passed
    # with full marks; the stage's own model.generate there (no option at all) passed every test and was graded 0.
    Mistake(
        "uncached-path-is-nanogpts-generate",
        "s10_generation",
        "runs nanoGPT's generate, without top_p, for use_cache=False",
        (
            (
                "    block_size = model.config.block_size\n    cache = KVCache()\n",
                "    block_size = model.config.block_size\n"
                "    if not use_cache:  # nanoGPT's generate\n"
                "        for _ in range(max_new_tokens):\n"
                "            idx_cond = idx if idx.size(1) <= block_size else idx[:, -block_size:]\n"
                "            logits, _ = model(idx_cond)\n"
                "            logits = logits[:, -1, :] / temperature\n"
                "            if top_k is not None:\n"
                "                v, _ = torch.topk(logits, min(top_k, logits.size(-1)))\n"
                '                logits[logits < v[:, [-1]]] = -float("Inf")\n'
                "            probs = F.softmax(logits, dim=-1)\n"
                "            idx_next = torch.multinomial(probs, num_samples=1, generator=generator)\n"
                "            idx = torch.cat((idx, idx_next), dim=1)\n"
                "        return idx\n"
                "    cache = KVCache()\n",
            ),
        ),
        "apply every option as with the cache",
    ),
    Mistake(
        "uncached-path-through-the-models-generate",
        "s10_generation",
        "hands use_cache=False to stage 8's model.generate, which takes no option",
        (
            (
                "    block_size = model.config.block_size\n    cache = KVCache()\n",
                "    if not use_cache:\n"
                "        return model.generate(idx, max_new_tokens, generator=generator)\n"
                "    block_size = model.config.block_size\n"
                "    cache = KVCache()\n",
            ),
        ),
        "apply every option as with the cache",
    ),
    # Source: the red-team pass of 2026-12-07: the check ran generate under torch.no_grad(), where the tests do not,
    # so a forged copy of this took full marks.
    Mistake(
        "generate-draws-through-numpy-with-gradients-on",
        "s10_generation",
        "drops the no_grad decorator and draws from probabilities passed through numpy",
        (
            ("@torch.no_grad()\ndef generate(", "def generate("),
            (
                "        idx_next = torch.multinomial(probs, num_samples=1, generator=generator)\n",
                "        probs = torch.from_numpy(probs.numpy())\n"
                "        idx_next = torch.multinomial(probs, num_samples=1, generator=generator)\n",
            ),
        ),
        "",
    ),
    # Source: a message hunt on stages 10 and 11 (2026-12-07): told about the nucleus, or only "wrong values".
    Mistake(
        "top-k-by-kthvalue-from-the-smallest",
        "s10_generation",
        "took torch.kthvalue(logits, top_k) as the k-th largest, where it is the k-th smallest",
        (
            (
                "        kth_largest = torch.topk(logits, top_k, dim=-1).values[..., -1:]",
                "        kth_largest = torch.kthvalue(logits, top_k, dim=-1, keepdim=True).values",
            ),
        ),
        "torch.kthvalue counts from the smallest",
        misleading=("The nucleus was taken from the probabilities before top_k",),
    ),
    # Source: a red-team pass (2026-12-07): the check's second call changed the batch size, which this cache
    # survives by starting afresh; a forged pass of the test it fails counted.
    Mistake(
        "cache-kept-on-the-model-for-a-batch-size",
        "s10_generation",
        "kept its KVCache on the model between calls, starting afresh only for another batch size",
        (
            (
                "    block_size = model.config.block_size\n    cache = KVCache()\n",
                "    block_size = model.config.block_size\n"
                "    cache = getattr(model, 'kv_cache', None)\n"
                "    if cache is None or (len(cache) and cache.keys[0].shape[0] != idx.shape[0]):\n"
                "        cache = KVCache()\n",
            ),
            (
                "        idx = torch.cat((idx, idx_next), dim=1)\n    return idx",
                "        idx = torch.cat((idx, idx_next), dim=1)\n    model.kv_cache = cache\n    return idx",
            ),
        ),
        "",
    ),
    # Source: a message hunt on stages 10 and 11 (2026-12-07): each was told to fix code that was right.
    Mistake(
        "cache-update-returns-the-new-keys-alone",
        "s10_generation",
        "stored the joined keys and values but returned the new ones alone",
        (("        return self.keys[layer], self.values[layer]", "        return k, v"),),
        "Those are the new keys alone",
        misleading=("Concatenate along the time dim", "Each call attends only to its own tokens"),
    ),
    Mistake(
        "cache-len-sums-the-layers",
        "s10_generation",
        "counted the positions of every layer in len(cache)",
        (
            (
                "        return self.keys[0].shape[2] if self.keys else 0",
                "        return sum(k.shape[2] for k in self.keys)",
            ),
        ),
        "KVCache is wrong itself",
        misleading=("refuse only more than block_size", "Make a fresh KVCache() inside each call"),
    ),
    Mistake(
        "generate-returns-the-new-tokens-alone",
        "s10_generation",
        "returned the new tokens without the prompt",
        (
            (
                "        idx = torch.cat((idx, idx_next), dim=1)\n    return idx",
                "        idx = torch.cat((idx, idx_next), dim=1)\n    return idx[:, -max_new_tokens:]",
            ),
        ),
        "Those are the new tokens alone",
        misleading=("With top_k=1 only the most likely token",),
    ),
    # Source: a red-team pass (2026-12-07): the grader's check asked two fresh models, not one model twice as the
    # test does, and did not back it; nor did it give layer 1 weights of its own, which hid the second mistake.
    Mistake(
        "generation-restores-the-first-mode-it-saw",
        "s10_generation",
        "kept the model's mode on the model at its first call and put that mode back after every call",
        (
            (
                "    block_size = model.config.block_size\n",
                "    if not hasattr(model, 'mode_before_generating'):\n"
                "        model.mode_before_generating = model.training\n"
                "    model.eval()\n"
                "    block_size = model.config.block_size\n",
            ),
            (
                "        idx = torch.cat((idx, idx_next), dim=1)\n    return idx",
                "        idx = torch.cat((idx, idx_next), dim=1)\n"
                "    model.train(model.mode_before_generating)\n"
                "    return idx",
            ),
        ),
        "left it in training mode",
    ),
    Mistake(
        "cache-attends-over-layer-0s-keys",
        "s10_generation",
        "updated the cache, then attended over the keys and values of layer 0 in every layer",
        (
            (
                "    k, v = cache.update(layer, k, v)\n",
                "    cache.update(layer, k, v)\n    k, v = cache.keys[0], cache.values[0]\n",
            ),
        ),
        "Layer 0 attends rightly, layer 1 does not",
    ),
    # Source: a false-pass hunt (2026-12-07): the top-k tests and the grader's check blamed top_k.
    Mistake(
        "full-cache-refilled-from-the-newest-token",
        "s10_generation",
        "started a fresh cache from the newest token alone once the cache was full",
        (
            (
                "        if not use_cache or len(cache) in (0, block_size):\n",
                "        if use_cache and len(cache) == block_size:\n"
                "            cache = KVCache()\n"
                "            logits = forward_with_cache(model, idx[:, -1:], cache)\n"
                "        elif not use_cache or len(cache) == 0:\n",
            ),
        ),
        "With use_cache=False the tokens are right: the cache goes wrong",
        misleading=("With top_k=1 only the most likely token keeps any probability",),
    ),
    # Source: a false-pass hunt (2026-12-07): the attention tests ran one layer, so only forward_with_cache's tests
    # failed, and they blamed forward_with_cache; generate's tests all passed (it samples the last position alone).
    Mistake(
        "cache-mask-offset-read-before-the-update",
        "s10_generation",
        "took the mask's offset from len(cache) before updating it, which counts layer 0's positions",
        (
            ("    k, v = cache.update(layer, k, v)\n", "    past = len(cache)\n    k, v = cache.update(layer, k, v)\n"),
            (".tril(diagonal=seen - T)", ".tril(diagonal=past)"),
        ),
        "Layer 0 attends rightly, layer 1 does not",
        misleading=("Embed the tokens and positions",),
    ),
    # Source: a false-pass hunt (2026-12-07): every test passed, and the grade was full, for a generate that left
    # the model in eval mode; stage 8's generate is asked to leave the mode, stage 10's was not.
    Mistake(
        "generation-leaves-eval-mode",
        "s10_generation",
        "put the model in eval mode in generate and left it there",
        (
            (
                "    block_size = model.config.block_size\n",
                "    model.eval()\n    block_size = model.config.block_size\n",
            ),
        ),
        "left it in eval mode",
    ),
    Mistake(
        "generation-ends-in-training-mode",
        "s10_generation",
        "sampled in eval mode, then put the model in training mode whatever mode it came in",
        (
            (
                "    block_size = model.config.block_size\n",
                "    model.eval()\n    block_size = model.config.block_size\n",
            ),
            (
                "        idx = torch.cat((idx, idx_next), dim=1)\n    return idx",
                "        idx = torch.cat((idx, idx_next), dim=1)\n    model.train()\n    return idx",
            ),
        ),
        "left it in training mode",
    ),
    # Source: a red-team pass (2026-12-06): the check compared no sampled token with the draw itself, and a
    # forged pass of the tests these fail counted.
    Mistake(
        "temperature-applied-twice",
        "s10_generation",
        "divided the logits by the temperature before next_token_probabilities divides them again",
        (
            (
                "(logits[:, -1, :], temperature=temperature, top_k=top_k,",
                "(logits[:, -1, :] / temperature, temperature=temperature, top_k=top_k,",
            ),
        ),
    ),
    # A false-pass hunt of 2026-12-07: <= drops the k-th largest too, and with top_k=1 every token. The combined
    # test's NaN row was blamed on the nucleus ("Even the most likely token was dropped ... not cumsum > top_p").
    # A false-pass hunt of 2026-12-07: the cache-against-no-cache test blamed refilling the cache for it.
    Mistake(
        "cache-counts-its-layers",
        "s10_generation",
        "counted the layers in len(cache) instead of the positions",
        (("        return self.keys[0].shape[2] if self.keys else 0\n", "        return len(self.keys)\n"),),
        "len(cache) should be 8",
        misleading=("Once the cache holds block_size positions, start a fresh one",),
    ),
    Mistake(
        "top-k-drops-the-kth-largest-too",
        "s10_generation",
        "masked the logits <= the k-th largest instead of < it",
        (("logits.masked_fill(logits < kth_largest", "logits.masked_fill(logits <= kth_largest"),),
        diagnosis="keep the logits >= the k-th largest",
        misleading=("not cumsum > top_p", "Even the most likely token was dropped"),
    ),
    Mistake(
        "top-k-dropped-beside-top-p",
        "s10_generation",
        "passed top_k only when top_p is None",
        (
            (
                "(logits[:, -1, :], temperature=temperature, top_k=top_k,",
                "(logits[:, -1, :], temperature=temperature, top_k=top_k if top_p is None else None,",
            ),
        ),
    ),
    Mistake(
        "samples-by-its-own-inverse-cdf",
        "s10_generation",
        "drew each token by its own inverse CDF from torch.rand with the generator, not torch.multinomial",
        (
            (
                "        idx_next = torch.multinomial(probs, num_samples=1, generator=generator)",
                "        u = torch.rand(probs.shape[0], 1, generator=generator, device=probs.device)\n"
                "        idx_next = (probs.cumsum(-1) < u).sum(-1, keepdim=True).clamp(max=probs.shape[-1] - 1)",
            ),
        ),
    ),
    # Source: the sixth precision pass (2026-12-06): the device was looked at only in forward_with_cache, and
    # `kata sample` on a GPU calls these.
    Mistake(
        "top-p-ranks-made-on-the-cpu",
        "s10_generation",
        "counted the nucleus's tokens and compared it with ranks from torch.arange without device=",
        (
            (
                "        drop_sorted = before >= top_p  # the nucleus is already complete without this token\n",
                "        kept = (before < top_p).sum(dim=-1, keepdim=True)  # how many tokens the nucleus holds\n"
                "        drop_sorted = torch.arange(probs.shape[-1]) >= kept\n",
            ),
        ),
        "tensors in >= (torch.ge)",
    ),
    Mistake(
        "cached-generate-fills-a-buffer-made-on-the-cpu",
        "s10_generation",
        "generated into a buffer made with torch.zeros without device=",
        (
            (
                "    cache = KVCache()\n    for _ in range(max_new_tokens):\n",
                "    cache, B, T = KVCache(), *idx.shape\n"
                "    out = torch.zeros(B, T + max_new_tokens, dtype=torch.long)  # filled as it goes\n"
                "    out[:, :T] = idx\n"
                "    for step in range(max_new_tokens):\n"
                "        idx = out[:, : T + step]\n",
            ),
            (
                "        idx = torch.cat((idx, idx_next), dim=1)\n    return idx\n",
                "        out[:, T + step : T + step + 1] = idx_next\n    return out\n",
            ),
        ),
        "makes a tensor with torch.zeros(...) without device=",
    ),
    # Source: the sixth precision pass (2026-12-06): each had a message that blamed what was right (top_k, then
    # the order of the filters), and the first was invisible to the top_p test, whose order was its own inverse.
    Mistake(
        "use-cache-ignored",
        "s10_generation",
        "accepted use_cache but never read it, so use_cache=False still caches",
        (("        if not use_cache or len(cache) in (0, block_size):", "        if len(cache) in (0, block_size):"),),
        "With use_cache=False, read the whole context",
    ),
    Mistake(
        "cached-mask-of-floats",
        "s10_generation",
        "made the cached mask of ones without dtype=torch.bool, so scaled_dot_product_attention adds it",
        (("torch.ones(T, seen, dtype=torch.bool, device=x.device)", "torch.ones(T, seen, device=x.device)"),),
        "The mask's ones and zeros were added to the scores",
        misleading=("Apply no dropout here",),
    ),
    Mistake(
        "top-p-nucleus-gathered-back",
        "s10_generation",
        "put the filtered sorted probabilities back in the vocabulary's order with gather instead of scatter",
        (
            (
                "        drop = torch.zeros_like(drop_sorted).scatter(-1, order, drop_sorted)\n"
                "        probs = probs.masked_fill(drop, 0.0)\n",
                "        probs = sorted_probs.masked_fill(drop_sorted, 0.0).gather(-1, order)\n",
            ),
        ),
        "with scatter(-1, order, ...)",
    ),
    Mistake(
        "top-p-nucleus-from-before-top-k",
        "s10_generation",
        "took the nucleus from the probabilities before top_k, then applied both masks",
        (
            ("    logits = logits / temperature\n", "    logits = unfiltered = logits / temperature\n"),
            (
                "        sorted_probs, order = torch.sort(probs, dim=-1, descending=True)\n",
                "        sorted_probs, order = torch.sort(F.softmax(unfiltered, dim=-1), dim=-1, descending=True)\n",
            ),
        ),
        "The nucleus was taken from the probabilities before top_k",
    ),
    # Source: the second backing hunt of 2026-12-05.
    Mistake(
        "top-k-masks-the-callers-logits",
        "s10_generation",
        "masked the caller's logits in place, as nanoGPT's generate does its own copy, skipping the"
        " division at temperature 1",
        (
            (
                "    logits = logits / temperature\n"
                "    if top_k is not None:\n"
                "        kth_largest = torch.topk(logits, top_k, dim=-1).values[..., -1:]\n"
                '        logits = logits.masked_fill(logits < kth_largest, float("-inf"))',
                "    if temperature != 1.0:\n"
                "        logits = logits / temperature\n"
                "    if top_k is not None:\n"
                "        v, _ = torch.topk(logits, top_k)\n"
                '        logits[logits < v[:, [-1]]] = -float("Inf")',
            ),
        ),
        "changed the logits it was given",
    ),
    Mistake(
        "logits-squeezed",
        "s10_generation",
        "squeezed the logits, which breaks for one row",
        (("    logits = logits / temperature\n", "    logits = logits.squeeze() / temperature\n"),),
        "is wrong too, and generate samples from it",
    ),
    Mistake(
        "cache-limit-ignores-the-cached",
        "s10_generation",
        "checked only the new tokens against block_size, not those cached too",
        (("if start + T > model.config.block_size:", "if T > model.config.block_size:"),),
    ),
    Mistake(
        "top-k-after-top-p",
        "s10_generation",
        "applied top_p before top_k",
        (
            (
                "    if top_k is not None:\n"
                "        kth_largest = torch.topk(logits, top_k, dim=-1).values[..., -1:]\n"
                '        logits = logits.masked_fill(logits < kth_largest, float("-inf"))\n'
                "    probs = F.softmax(logits, dim=-1)\n",
                "    probs = F.softmax(logits, dim=-1)\n",
            ),
            (
                "        probs = probs / probs.sum(dim=-1, keepdim=True)\n    return probs",
                "        probs = probs / probs.sum(dim=-1, keepdim=True)\n"
                "    if top_k is not None:\n"
                "        kth_largest = torch.topk(probs, top_k, dim=-1).values[..., -1:]\n"
                "        probs = probs.masked_fill(probs < kth_largest, 0.0)\n"
                "        probs = probs / probs.sum(dim=-1, keepdim=True)\n"
                "    return probs",
            ),
        ),
    ),
    # Source: the backing hunt of 2026-12-05: the suite accepted it; a prompt past block_size raised.
    Mistake(
        "long-prompt-not-cropped",
        "s10_generation",
        "ran the whole prompt into the first step, not its last block_size tokens",
        (
            (
                "            logits = forward_with_cache(model, idx[:, -block_size:], cache)\n",
                "            context = idx if len(cache) == 0 else idx[:, -block_size:]\n"
                "            logits = forward_with_cache(model, context, cache)\n",
            ),
        ),
        "A prompt may be longer than block_size",
    ),
    # Source: the backing hunt of 2026-12-05: each failed a test that nothing the grader's check found backed.
    Mistake(
        "forward-with-cache-rejects-full",
        "s10_generation",
        "rejected a cache filled to exactly block_size",
        (("if start + T > model.config.block_size:", "if start + T >= model.config.block_size:"),),
        "which a cache holds",
    ),
    Mistake(
        "top-k-equal-vocab-rejected",
        "s10_generation",
        "rejected top_k equal to the vocabulary size",
        (("not 1 <= top_k <= vocab_size:", "not 1 <= top_k < vocab_size:"),),
    ),
    Mistake(
        "generate-ignores-top-p",
        "s10_generation",
        "did not pass top_p on to the sampling",
        (
            (
                "probs = next_token_probabilities(logits[:, -1, :], temperature=temperature, top_k=top_k, top_p=top_p)",
                "probs = next_token_probabilities(logits[:, -1, :], temperature=temperature, top_k=top_k)",
            ),
        ),
    ),
    Mistake(
        "generate-ignores-temperature",
        "s10_generation",
        "did not pass the temperature on to the sampling",
        (
            (
                "probs = next_token_probabilities(logits[:, -1, :], temperature=temperature, top_k=top_k, top_p=top_p)",
                "probs = next_token_probabilities(logits[:, -1, :], top_k=top_k, top_p=top_p)",
            ),
        ),
    ),
    Mistake(
        "top-p-renormalised-over-batch",
        "s10_generation",
        "renormalised the nucleus over the whole batch, not each row",
        (("probs = probs / probs.sum(dim=-1, keepdim=True)", "probs = probs / probs.sum()"),),
    ),
    Mistake(
        "kth-without-keepdim",
        "s10_generation",
        "took the k-th largest logit without keepdim, which broadcasts only for one row",
        (
            (
                "kth_largest = torch.topk(logits, top_k, dim=-1).values[..., -1:]",
                "kth_largest = torch.topk(logits, top_k, dim=-1).values[:, -1]",
            ),
        ),
    ),
    Mistake(
        "generate-without-use-cache",
        STAGE,
        "left out generate's use_cache option (the cache always on)",
        (
            ("    use_cache: bool = True,\n) -> torch.Tensor:", ") -> torch.Tensor:"),
            ("        if not use_cache or len(cache) in (0, block_size):", "        if len(cache) in (0, block_size):"),
        ),
        "does not take the arguments the test passes: generate() got an unexpected keyword argument 'use_cache'",
    ),
    Mistake(
        "top-p-one-rejected",
        STAGE,
        "rejected top_p=1.0, which keeps every token",
        (("not 0 < top_p <= 1", "not 0 < top_p < 1"),),
        "top_p=1.0) should be accepted",
    ),
    Mistake(
        "temperature-multiplies",
        STAGE,
        "multiplied the logits by the temperature",
        (("logits = logits / temperature", "logits = logits * temperature"),),
        "multiplied by the temperature",
    ),
    Mistake(
        "top-k-drops-the-kth",
        STAGE,
        "kept only the logits above the k-th largest",
        (("logits.masked_fill(logits < kth_largest,", "logits.masked_fill(logits <= kth_largest,"),),
        "tokens were kept where top_k is",
    ),
    Mistake(
        "top-p-drops-the-crossing-token",
        STAGE,
        "dropped the token that carries the total past top_p",
        (("before = sorted_probs.cumsum(dim=-1) - sorted_probs", "before = sorted_probs.cumsum(dim=-1)"),),
        "carries the total past top_p",
    ),
    Mistake(
        "top-p-not-renormalised",
        STAGE,
        "left the nucleus unnormalised",
        (("        probs = probs / probs.sum(dim=-1, keepdim=True)\n", ""),),
        "Each row should sum to 1",
    ),
    Mistake(
        "top-p-unchecked",
        STAGE,
        "accepted top_p outside (0, 1]",
        (("if top_p is not None and not 0 < top_p <= 1:", "if top_p is not None and top_p < 0:"),),
        "should raise ValueError",
    ),
    Mistake(
        "temperature-zero-accepted",
        STAGE,
        "accepted a temperature of 0",
        (("if not temperature > 0:", "if temperature < 0:"),),
        "temperature must be > 0",
    ),
    Mistake(
        "cache-grows-the-heads",
        STAGE,
        "concatenated the cache along the heads",
        (
            (
                "            self.keys[layer] = torch.cat((self.keys[layer], k), dim=2)",
                "            self.keys[layer] = torch.cat((self.keys[layer], k), dim=1)",
            ),
        ),
        "Concatenate along the time dim",
    ),
    Mistake(
        "is-causal-with-a-cache",
        STAGE,
        "passed is_causal=True with cached keys",
        (
            (
                "F.scaled_dot_product_attention(q, k, v, attn_mask=allowed)",
                "F.scaled_dot_product_attention(q, k, v, is_causal=True)",
            ),
        ),
        "is_causal=True aligns the mask to the top-left corner",
    ),
    Mistake(
        "no-mask-with-a-cache",
        STAGE,
        "left out the mask, right for one new token only",
        (("F.scaled_dot_product_attention(q, k, v, attn_mask=allowed)", "F.scaled_dot_product_attention(q, k, v)"),),
        "see the ones after them",
    ),
    Mistake(
        "cache-filled-but-unread",
        STAGE,
        "stored the keys and values but attended only to the new ones",
        (("    k, v = cache.update(layer, k, v)\n", "    cache.update(layer, k, v)\n"),),
        "attends only to its own tokens",
    ),
    Mistake(
        "generate-default-temperature-0.8",
        STAGE,
        "changed generate's default temperature to 0.8",
        (("    temperature: float = 1.0,\n    top_k", "    temperature: float = 0.8,\n    top_k"),),
        "Keep the signature's defaults",
    ),
    Mistake(
        "cached-attention-drops-in-eval",
        STAGE,
        "passed the attention's dropout to scaled_dot_product_attention, so generation dropped weights in eval mode",
        (("attn_mask=allowed)", "attn_mask=allowed, dropout_p=attention.dropout)"),),
        "Apply no dropout here",
    ),
    Mistake(
        "positions-restart-at-zero",
        STAGE,
        "gave the new tokens positions 0, 1, ... again",
        (
            (
                "positions = torch.arange(start, start + T, device=idx.device)",
                "positions = torch.arange(T, device=idx.device)",
            ),
        ),
        "the positions are wrong",
    ),
    Mistake(
        "cache-no-length-check",
        STAGE,
        "did not reject more positions than block_size",
        (("    if start + T > model.config.block_size:\n", "    if False:\n"),),
        "IndexError",
    ),
    Mistake(
        "cache-never-refilled",
        STAGE,
        "kept appending to a full cache",
        (("if not use_cache or len(cache) in (0, block_size):", "if not use_cache or len(cache) == 0:"),),
        "exceed block_size",
    ),
    Mistake(
        "cache-unused-in-generate",
        STAGE,
        "ran the whole context every step",
        (("if not use_cache or len(cache) in (0, block_size):", "if True:"),),
        "then only the newest token",
    ),
    Mistake(
        "generate-global-generator",
        STAGE,
        "sampled from the global random generator",
        (("torch.multinomial(probs, num_samples=1, generator=generator)", "torch.multinomial(probs, num_samples=1)"),),
        "Pass the generator to torch.multinomial",
        # what its other tests said before they checked the generator first (two graded notebooks, 2026-12-06)
        misleading=(
            "Keep the signature's defaults",
            "Once the cache holds block_size positions",
            "A prompt may be longer than block_size",
            "Make a fresh KVCache() inside each call",
        ),
    ),
    Mistake(
        "cached-positions-made-on-the-cpu",
        "s10_generation",
        "made the cached positions without device=idx.device",
        (("torch.arange(start, start + T, device=idx.device)", "torch.arange(start, start + T)"),),
        "torch.arange(...) without device=",
    ),
    Mistake(
        "cached-mask-made-on-the-cpu",
        "s10_generation",
        "made the cached attention's mask without device=x.device",
        (("torch.ones(T, seen, dtype=torch.bool, device=x.device)", "torch.ones(T, seen, dtype=torch.bool)"),),
        "torch.ones(...) without device=",
    ),
    # The notebook walkthrough of stages 7-12: off-by-one mistakes that got the recipe and no diagnosis.
    Mistake(
        "cached-mask-hides-the-token-itself",
        "s10_generation",
        "shifted the cached mask's diagonal one short, so a token cannot see itself",
        ((".tril(diagonal=seen - T)", ".tril(diagonal=seen - T - 1)"),),
        "kept from seeing itself",
        # Source: the notebook walkthrough of stages 7-12 (2026-12-06, later): forward_with_cache's test sent
        # the learner to its correct embedding and blocks.
        misleading=(
            "exactly as the model's forward does",
            "Keep the signature's defaults",
            "With top_k=1 only the most likely token",
            "Make a fresh KVCache() inside each call",
        ),
    ),
    Mistake(
        "cache-refilled-one-step-late",
        "s10_generation",
        "started a fresh cache only once the cache held more than block_size positions",
        (
            (
                "        if not use_cache or len(cache) in (0, block_size):",
                "        if not use_cache or len(cache) in (0, block_size + 1):",
            ),
        ),
        "cache was fed more than block_size positions",
        misleading=("A prompt may be longer than block_size",),
    ),
    Mistake(
        "cached-mask-one-ahead",
        "s10_generation",
        "shifted the cached mask's diagonal one past, so a token sees the next",
        ((".tril(diagonal=seen - T)", ".tril(diagonal=seen - T + 1)"),),
        "also sees the one after it",
    ),
    Mistake(
        "cached-positions-from-one",
        "s10_generation",
        "numbered the new tokens' positions from len(cache) + 1",
        (
            (
                "torch.arange(start, start + T, device=idx.device)",
                "torch.arange(start + 1, start + T + 1, device=idx.device)",
            ),
        ),
        "the positions are wrong",
    ),
    # Source: the eighth precision pass, 2026-12-06.
    Mistake(
        "temperature-divides-the-callers-logits",
        "s10_generation",
        "divided the caller's logits by the temperature in place, logits.div_(temperature)",
        (("    logits = logits / temperature\n", "    logits = logits.div_(temperature)\n"),),
        "changed the logits it was given",
    ),
    # Source: the eighth precision pass, 2026-12-06.
    Mistake(
        "only-temperature-zero-rejected",
        "s10_generation",
        "rejected a temperature of 0 but not a negative one",
        (("    if not temperature > 0:\n", "    if temperature == 0:\n"),),
        "temperature=-1.0",
    ),
    # Source: the eighth precision pass, 2026-12-06.
    Mistake(
        "generator-of-its-own-when-none-given",
        "s10_generation",
        "sampled from a fresh torch.Generator() of its own when none was given, whose seed is fixed",
        (
            replaced(
                "s10_generation",
                "generate",
                """@torch.no_grad()
def generate(model, idx, max_new_tokens, *, temperature=1.0, top_k=None, top_p=None, generator=None, use_cache=True):
    block_size = model.config.block_size

    if generator is None:
        generator = torch.Generator(device=idx.device)  # a generator of our own when none is given
    cache = KVCache()
    for _ in range(max_new_tokens):
        if not use_cache or len(cache) in (0, block_size):
            cache = KVCache()
            logits = forward_with_cache(model, idx[:, -block_size:], cache)
        else:
            logits = forward_with_cache(model, idx[:, -1:], cache)
        probs = next_token_probabilities(logits[:, -1, :], temperature=temperature, top_k=top_k, top_p=top_p)
        idx = torch.cat((idx, torch.multinomial(probs, num_samples=1, generator=generator)), dim=1)
    return idx
""",
            ),
        ),
        "torch.manual_seed decides the tokens",
    ),
    # Source: the eighth precision pass, 2026-12-06.
    Mistake(
        "cache-kept-on-the-model-between-calls",
        "s10_generation",
        "kept its KVCache on the model, so a second call went on from the first call's positions",
        (
            replaced(
                "s10_generation",
                "generate",
                """@torch.no_grad()
def generate(model, idx, max_new_tokens, *, temperature=1.0, top_k=None, top_p=None, generator=None, use_cache=True):
    block_size = model.config.block_size

    if not hasattr(model, "kv_cache"):
        model.kv_cache = KVCache()
    cache = model.kv_cache
    for _ in range(max_new_tokens):
        if not use_cache or len(cache) in (0, block_size):
            cache = model.kv_cache = KVCache()
            logits = forward_with_cache(model, idx[:, -block_size:], cache)
        else:
            logits = forward_with_cache(model, idx[:, -1:], cache)
        probs = next_token_probabilities(logits[:, -1, :], temperature=temperature, top_k=top_k, top_p=top_p)
        idx = torch.cat((idx, torch.multinomial(probs, num_samples=1, generator=generator)), dim=1)
    return idx
""",
            ),
        ),
        "keep nothing between calls",
    ),
    # Source: the eighth precision pass, 2026-12-06.
    Mistake(
        "nucleus-of-probabilities-sorted-ascending",
        "s10_generation",
        "sorted the probabilities in ascending order before the nucleus",
        (
            replaced(
                "s10_generation",
                "next_token_probabilities",
                """def next_token_probabilities(logits, *, temperature=1.0, top_k=None, top_p=None):

    V = logits.size(-1)
    if not temperature > 0:
        raise ValueError(f"temperature must be > 0, got {temperature}")
    if top_k is not None and not 1 <= top_k <= V:
        raise ValueError(f"top_k must be in [1, {V}], got {top_k}")
    if top_p is not None and not 0 < top_p <= 1:
        raise ValueError(f"top_p must be in (0, 1], got {top_p}")

    logits = logits / temperature
    if top_k is not None:
        kth_largest = torch.topk(logits, top_k, dim=-1).values[..., -1:]
        logits = logits.masked_fill(logits < kth_largest, float("-inf"))
    probs = F.softmax(logits, dim=-1)

    if top_p is not None:
        sorted_probs, order = torch.sort(probs, dim=-1)
        before = sorted_probs.cumsum(dim=-1) - sorted_probs
        drop = torch.zeros_like(before, dtype=torch.bool).scatter(-1, order, before >= top_p)
        probs = probs.masked_fill(drop, 0.0)
        probs = probs / probs.sum(dim=-1, keepdim=True)
    return probs
""",
            ),
        ),
        "The most likely token was dropped",
    ),
    # Source: the eighth precision pass, 2026-12-06.
    Mistake(
        "is-causal-for-several-new-tokens",
        "s10_generation",
        "passed is_causal=True whenever several new tokens came, as Hugging Face does, also after cached positions",
        (
            replaced(
                "s10_generation",
                "attend_with_cache",
                """
def attend_with_cache(attention, x, cache, *, layer, n_head):
    B, T, C = x.shape
    q, k, v = attention.c_attn(x).split(C, dim=2)
    q, k, v = (t.view(B, T, n_head, C // n_head).transpose(1, 2) for t in (q, k, v))
    k, v = cache.update(layer, k, v)
    S = k.shape[2]

    y = F.scaled_dot_product_attention(q, k, v, is_causal=T > 1)

    return attention.c_proj(y.transpose(1, 2).contiguous().view(B, T, C))
""",
            ),
        ),
        "top-left",
    ),
    # Source: the eighth precision pass, 2026-12-06.
    Mistake(
        "cache-lists-as-class-attributes",
        "s10_generation",
        "kept the cache's lists as class attributes, which every KVCache shares",
        (
            replaced(
                "s10_generation",
                "KVCache",
                """
class KVCache:
    keys = []
    values = []

    def __init__(self):
        pass

    def __len__(self):
        return self.keys[0].shape[2] if self.keys else 0

    def update(self, layer, k, v):
        if layer == len(self.keys):
            self.keys.append(k)
            self.values.append(v)
        else:
            self.keys[layer] = torch.cat((self.keys[layer], k), dim=2)
            self.values[layer] = torch.cat((self.values[layer], v), dim=2)
        return self.keys[layer], self.values[layer]
""",
            ),
        ),
        "class attributes",
    ),
    # Source: the eighth precision pass, 2026-12-06.
    Mistake(
        "nucleus-mask-left-in-sorted-order",
        "s10_generation",
        "applied the nucleus mask made in sorted order to the probabilities in the vocabulary's order",
        (
            replaced(
                "s10_generation",
                "next_token_probabilities",
                """def next_token_probabilities(logits, *, temperature=1.0, top_k=None, top_p=None):

    V = logits.size(-1)
    if not temperature > 0:
        raise ValueError(f"temperature must be > 0, got {temperature}")
    if top_k is not None and not 1 <= top_k <= V:
        raise ValueError(f"top_k must be in [1, {V}], got {top_k}")
    if top_p is not None and not 0 < top_p <= 1:
        raise ValueError(f"top_p must be in (0, 1], got {top_p}")

    logits = logits / temperature
    if top_k is not None:
        kth_largest = torch.topk(logits, top_k, dim=-1).values[..., -1:]
        logits = logits.masked_fill(logits < kth_largest, float("-inf"))
    probs = F.softmax(logits, dim=-1)

    if top_p is not None:
        sorted_probs, order = torch.sort(probs, dim=-1, descending=True)
        drop = sorted_probs.cumsum(dim=-1) - sorted_probs >= top_p
        probs = probs.masked_fill(drop, 0.0)
        probs = probs / probs.sum(dim=-1, keepdim=True)
    return probs
""",
            ),
        ),
        "scatter(-1, order, mask)",
        # the fixed nucleus test's closing hint (true of the nucleus, silent on the mask's order), and the hint for
        # a nucleus that drops the token crossing top_p
        misleading=("keep it and renormalise", "keep them and renormalise", "Even the most likely token was dropped"),
    ),
    # Source: the eighth precision pass, 2026-12-06.
    Mistake(
        "probabilities-softmaxed-over-the-batch",
        "s10_generation",
        "took the softmax over the batch, dim=0",
        (
            replaced(
                "s10_generation",
                "next_token_probabilities",
                """
def next_token_probabilities(logits, *, temperature=1.0, top_k=None, top_p=None):
    V = logits.shape[-1]
    if not temperature > 0:
        raise ValueError("temperature must be > 0")
    if top_k is not None and not 1 <= top_k <= V:
        raise ValueError("top_k out of range")
    if top_p is not None and not 0 < top_p <= 1:
        raise ValueError("top_p out of range")
    logits = logits / temperature
    if top_k is not None:
        kth_largest = torch.topk(logits, top_k, dim=-1).values[..., -1:]
        logits = logits.masked_fill(logits < kth_largest, float("-inf"))
    probs = F.softmax(logits, dim=0)
    if top_p is not None and top_p < 1:
        sorted_probs, order = torch.sort(probs, dim=-1, descending=True)
        before = sorted_probs.cumsum(dim=-1) - sorted_probs
        drop = torch.zeros_like(before, dtype=torch.bool).scatter(-1, order, before >= top_p)
        probs = probs.masked_fill(drop, 0.0)
        probs = probs / probs.sum(dim=-1, keepdim=True)
    return probs
""",
            ),
        ),
        "the softmax ran over the batch",
        # a read of graded notebooks (2026-12-06): generate's tests blamed its defaults and its cache for this
        misleading=("Keep the signature's defaults", "Make a fresh KVCache() inside each call"),
    ),
    # Source: a learner's walk-through of stages 9 to 12 (a helper, 2026-12-06): each was told the hint of another
    # mistake, or none.
    Mistake(
        "temperature-after-the-softmax",
        "s10_generation",
        "divided the probabilities by the temperature and renormalised, which undoes it",
        (
            ("    logits = logits / temperature\n", ""),
            (
                "    probs = F.softmax(logits, dim=-1)\n",
                "    probs = F.softmax(logits, dim=-1) / temperature\n"
                "    probs = probs / probs.sum(dim=-1, keepdim=True)\n",
            ),
        ),
        "applied after the softmax, where dividing and renormalising cancel out",
    ),
    Mistake(
        "cache-slides-past-block-size",
        "s10_generation",
        "kept a full cache going by dropping its oldest keys and values, computed at positions that have moved on",
        (
            (
                "        if not use_cache or len(cache) in (0, block_size):",
                "        if use_cache and len(cache) == block_size:  # full: drop the oldest position\n"
                "            cache.keys = [k[:, :, 1:] for k in cache.keys]\n"
                "            cache.values = [v[:, :, 1:] for v in cache.values]\n"
                "        if not use_cache or len(cache) == 0:",
            ),
        ),
        "With use_cache=False the tokens are right",
    ),
    Mistake(
        "nucleus-drops-the-token-that-crosses-top-p",
        "s10_generation",
        "dropped the token whose probability carries the total past top_p, cumsum > top_p",
        (
            (
                "        drop_sorted = before >= top_p  # the nucleus is already complete without this token",
                "        drop_sorted = sorted_probs.cumsum(dim=-1) > top_p",
            ),
        ),
        "Even the most likely token was dropped",
    ),
    # Source: the seventh red-team pass (a helper, 2026-12-06): wrong only at an edge the tests try and the check
    # never drew, so a forged pass of the failing tests had counted.
    Mistake(
        "cache-rebuilt-from-all-but-the-newest",
        "s10_generation",
        "rebuilt a full cache from the last block_size - 1 tokens, then fed the newest one alone",
        (
            ("len(cache) in (0, block_size):", "len(cache) == 0:"),
            (
                "        else:\n            logits = forward_with_cache(model, idx[:, -1:], cache)",
                "        else:\n"
                "            if len(cache) == block_size:  # full: block_size - 1 again, then the newest\n"
                "                cache = KVCache()\n"
                "                forward_with_cache(model, idx[:, -block_size:-1], cache)\n"
                "            logits = forward_with_cache(model, idx[:, -1:], cache)",
            ),
        ),
    ),
    Mistake(
        "cache-refilled-a-step-early",
        "s10_generation",
        "started a fresh cache at block_size - 1 positions, a step before it is full",
        (("len(cache) in (0, block_size):", "len(cache) in (0, block_size - 1, block_size):"),),
    ),
    Mistake(
        "prompt-fed-one-token-at-a-time",
        "s10_generation",
        "fed the prompt through the cache one token at a time, as every later step",
        (
            ("for _ in range(max_new_tokens):", "for step in range(max_new_tokens):"),
            ("len(cache) in (0, block_size):", "len(cache) == block_size:"),
            (
                "        else:\n            logits = forward_with_cache(model, idx[:, -1:], cache)",
                "        elif step == 0:\n"
                "            for t in range(max(0, idx.shape[1] - block_size), idx.shape[1]):  # one token at a time\n"
                "                logits = forward_with_cache(model, idx[:, t : t + 1], cache)\n"
                "        else:\n"
                "            logits = forward_with_cache(model, idx[:, -1:], cache)",
            ),
        ),
    ),
    # Earlier stages' mistakes that only this stage's suite, run on its own, sees: every test here compares with the
    # model's own forward, so a correct forward_with_cache and generate must be sent back to those stages instead.
    # Source: two graded notebooks of 2026-12-06 (seeds 21 and 22) read as their students would.
    knock_on(
        named(S07, "no-residual-around-feed-forward"),
        STAGE,
        "Make `pytest -m s07_transformer` and `pytest -m s08_gpt` pass first",
        misleading=("Embed the tokens and positions", "is wrong itself (TestForwardWithCache says how)"),
    ),
    knock_on(
        named(S07, "block-passes-head-size-as-n-head"),
        STAGE,
        "heads where its config asks for",
        misleading=("Your CausalSelfAttention (stage 9) does not compute causal attention",),
    ),
    knock_on(
        named(S09, "not-causal"),
        STAGE,
        "Make `pytest -m s09_fast_attention` pass first",
        misleading=("Embed the tokens and positions", "is wrong itself (TestForwardWithCache says how)"),
    ),
]

VARIANTS = [
    # Source: a precision pass (2026-12-07). The grader's check counted the positions each forward pass read at
    # lm_head's input, and the tests at the first block's ln1 through a forward hook: the first three passed every
    # test and scored 0 as forged, the fourth lost the two tests that count (a hook misses .forward()).
    # nanoGPT's GPT.forward at inference: "only forward the lm_head on the very last position".
    Variant(
        "head-on-the-last-position-only-as-nanogpt",
        "s10_generation",
        "runs lm_head on the last position alone when generate asks, as nanoGPT's forward does at inference",
        (
            (
                "def forward_with_cache(model, idx: torch.Tensor, cache: KVCache) -> torch.Tensor:",
                "def forward_with_cache(model, idx: torch.Tensor, cache: KVCache, *, last_only=False) -> torch.Tensor:",
            ),
            (
                "    return model.lm_head(model.ln_f(x))\n",
                "    if last_only:\n        x = x[:, [-1], :]  # a list keeps the time dim\n"
                "    return model.lm_head(model.ln_f(x))\n",
            ),
            (
                "logits = forward_with_cache(model, idx[:, -block_size:], cache)",
                "logits = forward_with_cache(model, idx[:, -block_size:], cache, last_only=True)",
            ),
            (
                "logits = forward_with_cache(model, idx[:, -1:], cache)",
                "logits = forward_with_cache(model, idx[:, -1:], cache, last_only=True)",
            ),
        ),
    ),
    Variant(
        "head-through-f-linear",
        "s10_generation",
        "computes the logits with F.linear and lm_head's weight and bias",
        (
            (
                "    return model.lm_head(model.ln_f(x))\n",
                "    return F.linear(model.ln_f(x), model.lm_head.weight, model.lm_head.bias)\n",
            ),
        ),
    ),
    Variant(
        "head-on-flattened-rows",
        "s10_generation",
        "runs lm_head on the (B*T, C) rows, as the loss reads them, and views the logits back as (B, T, V)",
        (
            (
                "    return model.lm_head(model.ln_f(x))\n",
                "    return model.lm_head(model.ln_f(x).reshape(B * T, -1)).view(B, T, -1)\n",
            ),
        ),
    ),
    Variant(
        "cache-forward-calls-submodules-through-forward",
        "s10_generation",
        "calls the embeddings, ln1, ln2, ffwd, ln_f and lm_head through .forward() in forward_with_cache",
        (
            (
                "    x = model.token_embedding_table(idx) + model.position_embedding_table(positions)\n",
                "    x = model.token_embedding_table.forward(idx)"
                " + model.position_embedding_table.forward(positions)\n",
            ),
            ("block.ln1(x), cache", "block.ln1.forward(x), cache"),
            ("x = x + block.ffwd(block.ln2(x))", "x = x + block.ffwd.forward(block.ln2.forward(x))"),
            ("    return model.lm_head(model.ln_f(x))\n", "    return model.lm_head.forward(model.ln_f.forward(x))\n"),
        ),
    ),
    # Source: huggingface/transformers, top_k_top_p_filtering (before its logits processors), re-expressed in the
    # kata's API (the sixth precision pass, 2026-12-06).
    Variant(
        "top-k-top-p-filtering-like-hugging-face",
        "s10_generation",
        "filters the logits with Hugging Face's old top_k_top_p_filtering, shifting the removal mask right by one",
        (
            replaced(
                "s10_generation",
                "next_token_probabilities",
                """
def next_token_probabilities(logits, *, temperature=1.0, top_k=None, top_p=None):
    V = logits.size(-1)
    if temperature <= 0:
        raise ValueError("temperature must be positive")
    if top_k is not None and (top_k < 1 or top_k > V):
        raise ValueError("top_k out of range")
    if top_p is not None and (top_p <= 0 or top_p > 1):
        raise ValueError("top_p out of range")
    filter_value = -float("Inf")
    logits = logits / temperature
    if top_k is not None:
        indices_to_remove = logits < torch.topk(logits, top_k)[0][..., -1, None]
        logits = logits.masked_fill(indices_to_remove, filter_value)
    if top_p is not None:
        sorted_logits, sorted_indices = torch.sort(logits, descending=True)
        cumulative_probs = torch.cumsum(F.softmax(sorted_logits, dim=-1), dim=-1)
        sorted_indices_to_remove = cumulative_probs > top_p
        sorted_indices_to_remove[..., 1:] = sorted_indices_to_remove[..., :-1].clone()
        sorted_indices_to_remove[..., 0] = 0
        indices_to_remove = sorted_indices_to_remove.scatter(-1, sorted_indices, sorted_indices_to_remove)
        logits = logits.masked_fill(indices_to_remove, filter_value)
    return F.softmax(logits, dim=-1)
""",
            ),
        ),
    ),
    # Source: the sixth precision pass (2026-12-06).
    Variant(
        "nucleus-by-searchsorted",
        "s10_generation",
        "finds the nucleus's last token with torch.searchsorted on the cumulative probabilities",
        (
            replaced(
                "s10_generation",
                "next_token_probabilities",
                """
def next_token_probabilities(logits, *, temperature=1.0, top_k=None, top_p=None):
    V = logits.shape[-1]
    if not temperature > 0:
        raise ValueError("temperature must be > 0")
    if top_k is not None and not 1 <= top_k <= V:
        raise ValueError("top_k must be in 1..V")
    if top_p is not None and not 0 < top_p <= 1:
        raise ValueError("top_p must be in (0, 1]")
    probs = F.softmax(logits / temperature, dim=-1)
    if top_k is not None:
        kth = probs.topk(top_k, dim=-1).values[..., -1:]
        probs = torch.where(probs >= kth, probs, 0.0)
        probs = probs / probs.sum(-1, keepdim=True)
    if top_p is not None:
        sorted_probs, order = probs.sort(dim=-1, descending=True)
        cumulative = sorted_probs.cumsum(dim=-1)
        last = torch.searchsorted(cumulative, torch.full_like(cumulative[..., :1], top_p))  # first index reaching top_p
        keep_sorted = torch.arange(V, device=logits.device) <= last
        keep = torch.zeros_like(keep_sorted).scatter(-1, order, keep_sorted)
        probs = probs * keep
        probs = probs / probs.sum(-1, keepdim=True)
    return probs
""",
            ),
        ),
    ),
    # Source: the sixth precision pass (2026-12-06).
    Variant(
        "cache-stored-time-major",
        "s10_generation",
        "keeps each layer's keys and values as (B, T, n_head, head_size) and transposes on the way out",
        (
            replaced(
                "s10_generation",
                "KVCache",
                '''
class KVCache:
    """Stored as (B, T, n_head, head_size), returned as (B, n_head, T, head_size)."""
    def __init__(self):
        self.k = []
        self.v = []

    def __len__(self):
        return 0 if not self.k else self.k[-1].size(1)

    def update(self, layer, k, v):
        k, v = k.transpose(1, 2), v.transpose(1, 2)
        if layer < len(self.k):
            self.k[layer] = torch.cat([self.k[layer], k], dim=1)
            self.v[layer] = torch.cat([self.v[layer], v], dim=1)
        else:
            self.k.append(k)
            self.v.append(v)
        return self.k[layer].transpose(1, 2), self.v[layer].transpose(1, 2)
''',
            ),
        ),
    ),
    # Source: the sixth precision pass (2026-12-06).
    Variant(
        "generate-prefill-then-step",
        "s10_generation",
        "fills the cache with the prompt before the loop, then feeds one token a step",
        (
            replaced(
                "s10_generation",
                "generate",
                """
@torch.no_grad()
def generate(model, idx, max_new_tokens, *, temperature=1.0, top_k=None, top_p=None, generator=None, use_cache=True):
    block_size = model.config.block_size

    def sample(logits):
        probs = next_token_probabilities(logits[:, -1, :], temperature=temperature, top_k=top_k, top_p=top_p)
        return torch.multinomial(probs, num_samples=1, generator=generator)

    if max_new_tokens <= 0:
        return idx
    if not use_cache:
        for _ in range(max_new_tokens):
            idx = torch.cat([idx, sample(model(idx[:, -block_size:])[0])], dim=1)
        return idx
    cache = KVCache()
    logits = forward_with_cache(model, idx[:, -block_size:], cache)  # prefill
    for step in range(max_new_tokens):
        idx = torch.cat([idx, sample(logits)], dim=1)
        if step == max_new_tokens - 1:
            break
        if len(cache) + 1 > block_size:
            cache = KVCache()
            logits = forward_with_cache(model, idx[:, -block_size:], cache)
        else:
            logits = forward_with_cache(model, idx[:, -1:], cache)
    return idx
""",
            ),
        ),
    ),
    Variant(
        "probabilities-in-float64",
        STAGE,
        "computes the probabilities in float64",
        (("    logits = logits / temperature\n", "    logits = logits.double() / temperature\n"),),
    ),
    Variant(
        "top-k-by-scatter",
        STAGE,
        "keeps exactly the top_k logits by scattering them into -inf",
        (
            (
                "        kth_largest = torch.topk(logits, top_k, dim=-1).values[..., -1:]\n"
                '        logits = logits.masked_fill(logits < kth_largest, float("-inf"))',
                "        values, indices = torch.topk(logits, top_k, dim=-1)\n"
                '        logits = torch.full_like(logits, float("-inf")).scatter(-1, indices, values)',
            ),
        ),
    ),
    Variant(
        "top-p-ascending-like-hugging-face",
        STAGE,
        "finds the nucleus from the ascending cumulative sum, as Hugging Face does",
        (
            (
                "        sorted_probs, order = torch.sort(probs, dim=-1, descending=True)\n"
                "        before = sorted_probs.cumsum(dim=-1) - sorted_probs  # the mass of the more likely tokens\n"
                "        drop_sorted = before >= top_p  # the nucleus is already complete without this token\n",
                "        ascending, order = torch.sort(probs, dim=-1)\n"
                "        drop_sorted = ascending.cumsum(dim=-1) <= 1 - top_p\n"
                "        drop_sorted[..., -1] = False  # the most likely token always stays\n",
            ),
        ),
    ),
    Variant(
        "cached-attention-drops-only-in-training",
        STAGE,
        "passes the attention's dropout only in training mode, as nanoGPT's attention does",
        (("attn_mask=allowed)", "attn_mask=allowed, dropout_p=attention.dropout if attention.training else 0.0)"),),
    ),
    Variant(
        "cache-in-a-dict",
        STAGE,
        "keeps (keys, values) per layer in a dict",
        (
            (
                "        self.keys: list[torch.Tensor] = []\n        self.values: list[torch.Tensor] = []\n",
                "        self.layers: dict[int, tuple[torch.Tensor, torch.Tensor]] = {}\n",
            ),
            (
                "        return self.keys[0].shape[2] if self.keys else 0\n",
                "        return self.layers[0][0].shape[-2] if self.layers else 0\n",
            ),
            (
                "        if layer == len(self.keys):  # the first tokens this layer sees\n"
                "            self.keys.append(k)\n"
                "            self.values.append(v)\n"
                "        else:\n"
                "            self.keys[layer] = torch.cat((self.keys[layer], k), dim=2)\n"
                "            self.values[layer] = torch.cat((self.values[layer], v), dim=2)\n"
                "        return self.keys[layer], self.values[layer]\n",
                "        if layer in self.layers:\n"
                "            old_k, old_v = self.layers[layer]\n"
                "            k, v = torch.cat([old_k, k], dim=-2), torch.cat([old_v, v], dim=-2)\n"
                "        self.layers[layer] = (k, v)\n"
                "        return k, v\n",
            ),
        ),
    ),
    Variant(
        "attention-written-out",
        STAGE,
        "writes the masked softmax attention out instead of calling scaled_dot_product_attention",
        (
            (
                "    y = F.scaled_dot_product_attention(q, k, v, attn_mask=allowed)\n",
                "    scores = (q @ k.transpose(-2, -1)) * (C // n_head) ** -0.5\n"
                '    y = scores.masked_fill(~allowed, float("-inf")).softmax(dim=-1) @ v\n',
            ),
        ),
    ),
    Variant(
        "mask-from-positions",
        STAGE,
        "builds the mask by comparing key and query positions",
        (
            (
                "    allowed = torch.ones(T, seen, dtype=torch.bool, device=x.device).tril(diagonal=seen - T)\n",
                "    query_positions = torch.arange(seen - T, seen, device=x.device)\n"
                "    allowed = torch.arange(seen, device=x.device)[None, :] <= query_positions[:, None]\n",
            ),
        ),
    ),
    Variant(
        "uncached-through-the-model",
        STAGE,
        "calls the model itself when the cache is off",
        (
            (
                "        if not use_cache or len(cache) in (0, block_size):\n",
                "        if not use_cache:\n"
                "            logits, _ = model(idx[:, -block_size:])\n"
                "        elif len(cache) in (0, block_size):\n",
            ),
        ),
    ),
    # Source: karpathy/nanoGPT sample.py, meta-llama/llama generation.py (the eighth precision pass, 2026-12-06).
    Variant(
        "nanogpt-top-k-and-llama-top-p",
        "s10_generation",
        "masks with nanoGPT's v[:, [-1]] on its own copy, then takes llama's sample_top_p nucleus and scatters it back",
        (
            replaced(
                "s10_generation",
                "next_token_probabilities",
                """def next_token_probabilities(logits, *, temperature=1.0, top_k=None, top_p=None):

    V = logits.size(-1)
    if not temperature > 0:
        raise ValueError(f"temperature must be > 0, got {temperature}")
    if top_k is not None and not 1 <= top_k <= V:
        raise ValueError(f"top_k must be in [1, {V}], got {top_k}")
    if top_p is not None and not 0 < top_p <= 1:
        raise ValueError(f"top_p must be in (0, 1], got {top_p}")

    logits = logits / temperature
    if top_k is not None:
        v, _ = torch.topk(logits, min(top_k, logits.size(-1)))
        logits[logits < v[:, [-1]]] = -float("Inf")
    probs = F.softmax(logits, dim=-1)
    if top_p is not None:
        probs_sort, probs_idx = torch.sort(probs, dim=-1, descending=True)
        probs_sum = torch.cumsum(probs_sort, dim=-1)
        mask = probs_sum - probs_sort >= top_p
        probs_sort[mask] = 0.0
        probs_sort.div_(probs_sort.sum(dim=-1, keepdim=True))
        probs = torch.zeros_like(probs).scatter(-1, probs_idx, probs_sort)
    return probs
""",
            ),
        ),
    ),
    # Source: the eighth precision pass, 2026-12-06.
    Variant(
        "top-k-by-kthvalue-and-a-second-softmax",
        "s10_generation",
        "finds the k-th logit with torch.kthvalue and masks the nucleus as -inf logits before a second softmax",
        (
            replaced(
                "s10_generation",
                "next_token_probabilities",
                """def next_token_probabilities(logits, *, temperature=1.0, top_k=None, top_p=None):

    V = logits.size(-1)
    if not temperature > 0:
        raise ValueError(f"temperature must be > 0, got {temperature}")
    if top_k is not None and not 1 <= top_k <= V:
        raise ValueError(f"top_k must be in [1, {V}], got {top_k}")
    if top_p is not None and not 0 < top_p <= 1:
        raise ValueError(f"top_p must be in (0, 1], got {top_p}")

    logits = logits / temperature
    if top_k is not None:
        kth = -torch.kthvalue(-logits, top_k, dim=-1, keepdim=True).values
        logits = torch.where(logits < kth, torch.full_like(logits, float("-inf")), logits)
    if top_p is not None and top_p < 1.0:
        sorted_logits, sorted_idx = torch.sort(logits, descending=True, dim=-1)
        sorted_probs = sorted_logits.softmax(dim=-1)
        remove_sorted = sorted_probs.cumsum(dim=-1) - sorted_probs >= top_p
        remove = remove_sorted.scatter(-1, sorted_idx, remove_sorted)
        logits = logits.masked_fill(remove, float("-inf"))
    return logits.softmax(dim=-1)
""",
            ),
        ),
    ),
    # Source: huggingface/transformers cache_utils.py (the eighth precision pass, 2026-12-06).
    Variant(
        "cache-counts-positions-on-layer-0",
        "s10_generation",
        "counts the cached positions when layer 0 is updated, as Hugging Face's DynamicCache does",
        (
            replaced(
                "s10_generation",
                "KVCache",
                """
class KVCache:
    def __init__(self):
        self.k, self.v = [], []
        self.seen = 0

    def __len__(self):
        return self.seen

    def update(self, layer, k, v):
        if layer == 0:
            self.seen += k.size(-2)
        if layer >= len(self.k):
            self.k.append(k)
            self.v.append(v)
        else:
            self.k[layer] = torch.cat([self.k[layer], k], dim=-2)
            self.v[layer] = torch.cat([self.v[layer], v], dim=-2)
        return self.k[layer], self.v[layer]
""",
            ),
        ),
    ),
    # Source: the eighth precision pass, 2026-12-06.
    Variant(
        "cached-attention-with-an-additive-mask",
        "s10_generation",
        "masks the cached attention with a float mask of 0 and -inf",
        (
            replaced(
                "s10_generation",
                "attend_with_cache",
                """
def attend_with_cache(attention, x, cache, *, layer, n_head):
    B, T, C = x.shape
    q, k, v = attention.c_attn(x).split(C, dim=2)
    q, k, v = (t.view(B, T, n_head, C // n_head).transpose(1, 2) for t in (q, k, v))
    k, v = cache.update(layer, k, v)
    S = k.shape[2]

    bias = torch.full((T, S), float("-inf"), device=x.device).triu(diagonal=S - T + 1)
    y = F.scaled_dot_product_attention(q, k, v, attn_mask=bias)

    return attention.c_proj(y.transpose(1, 2).contiguous().view(B, T, C))
""",
            ),
        ),
    ),
    # Source: the eighth precision pass, 2026-12-06.
    Variant(
        "greedy-shortcut-for-top-k-1",
        "s10_generation",
        "takes the argmax without a draw when top_k is 1",
        (
            replaced(
                "s10_generation",
                "generate",
                """@torch.no_grad()
def generate(model, idx, max_new_tokens, *, temperature=1.0, top_k=None, top_p=None, generator=None, use_cache=True):
    block_size = model.config.block_size

    cache = KVCache()
    for _ in range(max_new_tokens):
        if not use_cache or len(cache) in (0, block_size):
            cache = KVCache()
            logits = forward_with_cache(model, idx[:, -block_size:], cache)
        else:
            logits = forward_with_cache(model, idx[:, -1:], cache)
        probs = next_token_probabilities(logits[:, -1, :], temperature=temperature, top_k=top_k, top_p=top_p)
        if top_k == 1:
            idx_next = probs.argmax(dim=-1, keepdim=True)
        else:
            idx_next = torch.multinomial(probs, num_samples=1, generator=generator)
        idx = torch.cat((idx, idx_next), dim=1)
    return idx
""",
            ),
        ),
    ),
    # The fourth precision pass of 2026-12-07: the stream kept as (B*T, C) rows; the tests counted the positions a
    # pass reads as dim 1 of the first block's input, here C.
    Variant(
        "cache-forward-on-flattened-tokens",
        "s10_generation",
        "keeps the residual stream as (B*T, C) rows, viewing it as (B, T, C) only for attend_with_cache",
        (
            (
                "    x = model.token_embedding_table(idx) + model.position_embedding_table(positions)\n"
                "    for layer, block in enumerate(model.blocks):\n"
                "        x = x + attend_with_cache(block.sa, block.ln1(x), cache, layer=layer, "
                "n_head=model.config.n_head)\n"
                "        x = x + block.ffwd(block.ln2(x))\n"
                "    return model.lm_head(model.ln_f(x))",
                "    C = model.config.n_embd\n"
                "    x = model.token_embedding_table(idx.reshape(-1))\n"
                "    x = x + model.position_embedding_table(positions.repeat(B))  # (B*T, C)\n"
                "    for layer, block in enumerate(model.blocks):\n"
                "        attended = attend_with_cache(block.sa, block.ln1(x).view(B, T, C), cache, layer=layer, "
                "n_head=model.config.n_head)\n"
                "        x = x + attended.reshape(B * T, C)\n"
                "        x = x + block.ffwd(block.ln2(x))\n"
                "    return model.lm_head(model.ln_f(x)).view(B, T, -1)",
            ),
        ),
    ),
    # Source: the precision pass of 2026-12-07: its steps were counted at the first block's ln1, which it never calls.
    Variant(
        "forward-with-cache-functional-layer-norm",
        "s10_generation",
        "applies each layer norm's parameters with F.layer_norm instead of calling the norm",
        (
            (
                "block.ln1(x), cache, layer=layer, n_head=model.config.n_head)\n"
                "        x = x + block.ffwd(block.ln2(x))\n"
                "    return model.lm_head(model.ln_f(x))\n",
                "F.layer_norm(x, block.ln1.normalized_shape, block.ln1.weight, block.ln1.bias, block.ln1.eps),\n"
                "            cache,\n"
                "            layer=layer,\n"
                "            n_head=model.config.n_head,\n"
                "        )\n"
                "        ln2 = block.ln2\n"
                "        x = x + block.ffwd(F.layer_norm(x, ln2.normalized_shape, ln2.weight, ln2.bias, ln2.eps))\n"
                "    ln_f = model.ln_f\n"
                "    return model.lm_head(F.layer_norm(x, ln_f.normalized_shape, ln_f.weight, ln_f.bias, ln_f.eps))\n",
            ),
        ),
    ),
]
