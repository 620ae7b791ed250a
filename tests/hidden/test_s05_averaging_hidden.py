"""Stage 5, hidden from learners (kept out of handouts; `kata grade` runs it, `kata` does not)."""

import torch
from feedback import expect_equal_tensors
from strategies import random_floats

from kata.implementation import StageModule

stage = StageModule("s05_averaging")


def test_the_versions_agree_on_a_lecture_sized_context():
    x = random_floats((2, 256, 4), seed=7)
    expected = x.double().cumsum(1) / torch.arange(1, 257, dtype=torch.float64).view(1, -1, 1)
    for name in ("average_loops", "average_matmul", "average_softmax"):
        expect_equal_tensors(getattr(stage, name)(x), expected.float(), f"{name}(x of shape (2, 256, 4))", atol=1e-5)
