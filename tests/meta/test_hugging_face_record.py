"""Stage 11's tests compare with a record of what Hugging Face's GPT2LMHeadModel computes
(tests/hugging_face_gpt2.pt), so that neither the learner's loop nor grading imports transformers. This
maintainer's test rebuilds the record with the installed transformers and checks that the stored one says
the same. After changing the recorded cases, or where a new transformers computes otherwise, write it again:

    .venv/bin/python tests/meta/test_hugging_face_record.py
"""

import sys
from pathlib import Path

import pytest
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run as a script: the tests' helpers
from support import fixed_seed  # noqa: E402
from test_s11_gpt2 import (  # noqa: E402
    RECORD,
    RECORDED_CASES,
    TINY,
    hugging_face_record,
    hugging_face_state_dict,
    record_case,
    recorded_tokens,
)

pytestmark = pytest.mark.meta


def hugging_face_gpt2(seed: int):
    """A small GPT2LMHeadModel whose every parameter in turn is torch.randn(shape) * 0.3 from a generator
    seeded with `seed`."""
    try:
        import transformers
        from transformers import GPT2Config, GPT2LMHeadModel
    except ImportError:
        pytest.fail("The record of Hugging Face's GPT-2 is checked with transformers: pip install -e '.[dev]'")
    transformers.logging.set_verbosity_error()
    config = GPT2Config(
        vocab_size=TINY["vocab_size"],
        n_positions=TINY["block_size"],
        n_embd=TINY["n_embd"],
        n_layer=TINY["n_layer"],
        n_head=TINY["n_head"],
        resid_pdrop=0.0,
        embd_pdrop=0.0,
        attn_pdrop=0.0,
        bos_token_id=0,
        eos_token_id=0,
    )
    with fixed_seed(seed):
        model = GPT2LMHeadModel(config).eval()
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for parameter in model.parameters():
            parameter.copy_(torch.randn(parameter.shape, generator=generator) * 0.3)
    return model


def rebuilt_record() -> dict:
    import transformers

    model = hugging_face_gpt2(0)
    names = {id(parameter): name for name, parameter in model.named_parameters()}
    state_dict = model.state_dict()
    record = {
        "transformers": transformers.__version__,
        "parameters": [(name, list(parameter.shape)) for name, parameter in model.named_parameters()],
        "state_dict": list(state_dict),
        # keys whose tensor is another key's parameter (lm_head.weight is the token embedding's)
        "tied": {
            key: names[id(parameter)]
            for key, parameter in model.state_dict(keep_vars=True).items()
            if id(parameter) in names and names[id(parameter)] != key
        },
        "logits": {},
    }
    for seed, shape in RECORDED_CASES:
        with torch.no_grad():
            logits = hugging_face_gpt2(seed)(recorded_tokens(seed, shape)).logits
        record["logits"][record_case(seed, shape)] = logits.contiguous()
    return record


def test_the_stored_record_is_what_transformers_computes():
    stored, rebuilt = hugging_face_record(), rebuilt_record()
    again = f"write it again with `.venv/bin/python {Path(__file__).relative_to(RECORD.parents[1])}`"
    for what in ("parameters", "state_dict", "tied"):
        changed = f"transformers {rebuilt['transformers']}'s GPT-2 has other {what}"
        assert stored[what] == rebuilt[what], f"{changed}: {again}"
    assert stored["logits"].keys() == rebuilt["logits"].keys(), f"RECORDED_CASES changed: {again}"
    for case, logits in rebuilt["logits"].items():
        assert torch.allclose(stored["logits"][case], logits, atol=1e-6), f"the logits for {case} differ: {again}"


def test_the_record_rebuilds_hugging_faces_state_dict():
    for seed in range(5):
        expected = hugging_face_gpt2(seed).state_dict()
        rebuilt = hugging_face_state_dict(seed)
        assert list(rebuilt) == list(expected)
        assert all(torch.equal(rebuilt[key], tensor) for key, tensor in expected.items()), f"seed {seed}"


if __name__ == "__main__":
    torch.save(rebuilt_record(), RECORD)
    print(f"wrote {RECORD}")
