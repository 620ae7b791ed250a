"""The AdamW that `kata train` hands to the learner's train_step.

Why not torch.optim.AdamW: every torch.optim optimizer imports torch._dynamo on its first call (its
methods are wrapped to keep torch.compile out of them), which costs 1.2 s of the 3 s before a run's
first step. The update itself is torch's: its fused AdamW kernel, which AdamW(fused=True) calls. Where
that kernel does not run (a device or dtype it lacks; before torch 2.4 it ran only on CUDA), `adamw`
hands out torch.optim.AdamW instead. The interface is what a train_step and `kata train` use:
param_groups, zero_grad, step, state_dict, load_state_dict; the state dict has torch.optim.AdamW's
layout, so a checkpoint written with either resumes with either.
"""

import functools

import torch


def adamw(parameters, *, lr: float, betas: tuple[float, float], weight_decay: float):
    """kata's AdamW where torch's fused kernel runs for these parameters, torch.optim.AdamW elsewhere."""
    parameters = list(parameters)
    fused = not parameters or fused_kernel_runs_on(parameters[0].device.type, parameters[0].dtype)
    return (AdamW if fused else torch.optim.AdamW)(parameters, lr=lr, betas=betas, weight_decay=weight_decay)


class AdamW:
    def __init__(self, params, *, lr: float, betas: tuple[float, float], weight_decay: float, eps: float = 1e-8):
        group = dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, amsgrad=False, maximize=False)
        self.param_groups = [dict(group, params=list(params))]
        self.state: dict[torch.Tensor, dict[str, torch.Tensor]] = {}

    def zero_grad(self, set_to_none: bool = True) -> None:
        for parameter in self._parameters():
            if parameter.grad is None:
                continue
            if set_to_none:
                parameter.grad = None
            else:
                parameter.grad.detach_().zero_()

    @torch.no_grad()
    def step(self, closure=None):
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        for group in self.param_groups:
            parameters = [parameter for parameter in group["params"] if parameter.grad is not None]
            if parameters:
                self._update(group, parameters)
        return loss

    def _update(self, group: dict, parameters: list[torch.Tensor]) -> None:
        states = [self._state_of(parameter) for parameter in parameters]
        exp_avgs, exp_avg_sqs, steps = ([state[key] for state in states] for key in ("exp_avg", "exp_avg_sq", "step"))
        torch._foreach_add_(steps, 1)
        (beta1, beta2), lr, weight_decay, eps = group["betas"], group["lr"], group["weight_decay"], group["eps"]
        torch._fused_adamw_(
            parameters, [parameter.grad for parameter in parameters], exp_avgs, exp_avg_sqs, [], steps,
            amsgrad=False, lr=lr, beta1=beta1, beta2=beta2, weight_decay=weight_decay, eps=eps, maximize=False,
            grad_scale=None, found_inf=None,
        )  # fmt: skip

    def _state_of(self, parameter: torch.Tensor) -> dict[str, torch.Tensor]:
        if parameter not in self.state:
            self.state[parameter] = dict(
                step=torch.tensor(0.0, dtype=torch.float32, device=parameter.device),
                exp_avg=torch.zeros_like(parameter, memory_format=torch.preserve_format),
                exp_avg_sq=torch.zeros_like(parameter, memory_format=torch.preserve_format),
            )
        return self.state[parameter]

    def _parameters(self):
        return (parameter for group in self.param_groups for parameter in group["params"])

    def state_dict(self) -> dict:
        """torch.optim's layout: parameters by their index across the groups, in order."""
        index = {id(parameter): number for number, parameter in enumerate(self._parameters())}
        groups = [dict(group, params=[index[id(p)] for p in group["params"]]) for group in self.param_groups]
        return dict(state={index[id(p)]: dict(state) for p, state in self.state.items()}, param_groups=groups)

    def load_state_dict(self, state_dict: dict) -> None:
        parameters = list(self._parameters())
        saved_groups = state_dict["param_groups"]
        if [len(group["params"]) for group in saved_groups] != [len(group["params"]) for group in self.param_groups]:
            raise ValueError("the saved optimizer state has other parameter groups than this model's optimizer")
        for group, saved in zip(self.param_groups, saved_groups, strict=True):
            group.update({key: saved[key] for key in ("lr", "betas", "eps", "weight_decay") if key in saved})
        self.state = {}
        for number, state in state_dict["state"].items():
            parameter = parameters[number]
            self.state[parameter] = dict(
                step=torch.as_tensor(state["step"], dtype=torch.float32).to(parameter.device).clone(),
                exp_avg=state["exp_avg"].to(parameter).clone(),
                exp_avg_sq=state["exp_avg_sq"].to(parameter).clone(),
            )


@functools.cache
def fused_kernel_runs_on(device_type: str, dtype: torch.dtype) -> bool:
    """Whether this torch has the fused AdamW kernel for such parameters: tried once on a one-number model."""
    one = [torch.zeros(1, device=device_type, dtype=dtype) for _ in range(4)]
    try:
        torch._fused_adamw_(
            one[:1], one[1:2], one[2:3], one[3:], [], [torch.ones((), device=device_type)],
            amsgrad=False, lr=0.1, beta1=0.9, beta2=0.99, weight_decay=0.0, eps=1e-8, maximize=False,
        )  # fmt: skip
    except (AttributeError, NotImplementedError, RuntimeError):
        return False
    return True
