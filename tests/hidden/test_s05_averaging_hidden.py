"""Stage 5, hidden from learners (kept out of handouts; `kata grade` runs it, `kata` does not)."""

import torch
from feedback import expect_equal_tensors
from strategies import random_floats
from test_s05_averaging import version_diagnosis  # what the visible tests say of the same mistakes

from kata.implementation import StageModule

stage = StageModule("s05_averaging")


def test_the_versions_agree_past_the_lectures_block_size():
    # 300 positions: more than the 256 of the lecture's gpt.py, whose tril buffer a learner may size by it
    x = random_floats((2, 300, 4), seed=7)
    expected = x.double().cumsum(1) / torch.arange(1, 301, dtype=torch.float64).view(1, -1, 1)
    for name in ("average_loops", "average_matmul", "average_softmax"):
        got = getattr(stage, name)(x)
        hint = version_diagnosis(got, x, name)  # the weights it builds on first, where they are wrong for T = 300
        expect_equal_tensors(got, expected.float(), f"{name}(x of shape (2, 300, 4))", atol=1e-5, hint=hint)
