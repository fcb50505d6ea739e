"""Optimizers, learning-rate schedules, gradient clipping and early stopping, following PyTorch's
update rules.

An optimizer holds the model's ``Parameter`` objects. A training step is the same as in PyTorch:

    optimizer.zero_grad()                      # .grad = 0 (backward *adds* into it)
    loss = criterion(model(x), y)
    model.backward(criterion.backward())       # fills every .grad with dL/dw
    optimizer.step()                           # w <- w - (update computed from .grad)

Updates are done in place on ``.data`` and keep its dtype (a float32 model stays float32).
"""
import math

import numpy as np


class Optimizer:
    def __init__(self, params, lr):
        self.params = list(params)
        if not self.params:
            raise ValueError(f"{type(self).__name__}: got an empty list of parameters")
        if lr < 0:
            raise ValueError(f"{type(self).__name__}: learning rate must be >= 0, got {lr}")
        self.lr = float(lr)   # a Python float: it never turns a float32 update into float64
        self.state = [{} for _ in self.params]

    def zero_grad(self):
        for p in self.params:
            p.zero_grad()

    def step(self):
        raise NotImplementedError


class SGD(Optimizer):
    """Stochastic gradient descent, optionally with momentum and weight decay (L2).

    For each parameter w with gradient g = dL/dw:
        g <- g + weight_decay * w
        momentum > 0:  b <- g at the first step, then b <- momentum * b + (1 - dampening) * g;
                       g <- b   (nesterov: g <- g + momentum * b)
        w <- w - lr * g
    """

    def __init__(self, params, lr, momentum=0.0, dampening=0.0, weight_decay=0.0, nesterov=False):
        super().__init__(params, lr)
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError("SGD: nesterov momentum requires momentum > 0 and dampening = 0")
        self.momentum, self.dampening = float(momentum), float(dampening)
        self.weight_decay, self.nesterov = float(weight_decay), nesterov

    def step(self):
        for p, state in zip(self.params, self.state):
            g = p.grad
            if self.weight_decay:
                g = g + self.weight_decay * p.data
            if self.momentum:
                b = state.get("momentum_buffer")
                if b is None:
                    b = state["momentum_buffer"] = g.copy()
                else:
                    b *= self.momentum
                    b += (1 - self.dampening) * g
                g = g + self.momentum * b if self.nesterov else b
            p.data -= self.lr * g


class Adam(Optimizer):
    """Adam: a step along the running mean of the gradient, scaled per weight by its running
    root mean square. For each parameter w with gradient g at step t = 1, 2, ...:

        g <- g + weight_decay * w                         (L2 penalty, as torch.optim.Adam)
        m <- beta1 * m + (1 - beta1) * g                  (first moment, m = 0 at start)
        v <- beta2 * v + (1 - beta2) * g^2                (second moment, v = 0 at start)
        w <- w - lr / (1 - beta1^t) * m / (sqrt(v) / sqrt(1 - beta2^t) + eps)

    The factors 1 / (1 - beta^t) undo the bias of starting m and v at 0.
    """

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0):
        super().__init__(params, lr)
        self.betas = (float(betas[0]), float(betas[1]))
        self.eps, self.weight_decay = float(eps), float(weight_decay)
        self.t = 0

    def step(self):
        self.t += 1
        beta1, beta2 = self.betas
        step_size = self.lr / (1 - beta1 ** self.t)
        bias_correction2_sqrt = math.sqrt(1 - beta2 ** self.t)
        for p, state in zip(self.params, self.state):
            g = p.grad
            if self.weight_decay:
                g = g + self.weight_decay * p.data
            if not state:
                state["exp_avg"], state["exp_avg_sq"] = np.zeros_like(p.data), np.zeros_like(p.data)
            m, v = state["exp_avg"], state["exp_avg_sq"]
            m *= beta1
            m += (1 - beta1) * g
            v *= beta2
            v += (1 - beta2) * (g * g)
            p.data -= step_size * m / (np.sqrt(v) / bias_correction2_sqrt + self.eps)


class AdamW(Adam):
    """Adam with decoupled weight decay (Loshchilov and Hutter), as ``torch.optim.AdamW``:

        w <- w - lr * weight_decay * w                 (shrink the weight itself ...)
        then the Adam step of ``Adam`` with the plain gradient g (no L2 term added to g)

    With L2 in Adam the penalty's gradient is divided by sqrt(v) like every other gradient, so
    weights with large gradients are barely decayed; decoupled, every weight decays at the same
    rate. PyTorch's default weight_decay is 0.01.
    """

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.01):
        super().__init__(params, lr, betas, eps, weight_decay=0.0)
        self.decoupled_weight_decay = float(weight_decay)

    def step(self):
        if self.decoupled_weight_decay:
            for p in self.params:
                p.data *= 1 - self.lr * self.decoupled_weight_decay
        super().step()


def clip_grad_norm_(parameters, max_norm, eps=1e-6):
    """Scale all gradients together so that their joint L2 norm is at most ``max_norm``, as
    ``torch.nn.utils.clip_grad_norm_``: with total = sqrt(sum over every gradient entry of g^2),

        g <- g * min(1, max_norm / (total + eps))

    The direction of the step is kept, only its length is limited (against exploding gradients,
    in RNNs and transformers). Returns ``total``, the norm before clipping, as a float.
    """
    params = [p for p in parameters]
    total = float(np.sqrt(sum(float(np.sum(np.square(p.grad, dtype=np.float64))) for p in params)))
    factor = min(1.0, max_norm / (total + eps))
    if factor < 1.0:
        for p in params:
            p.grad *= p.grad.dtype.type(factor)
    return total


class LambdaLR:
    """lr_epoch = lr_0 * lr_lambda(epoch), as ``torch.optim.lr_scheduler.LambdaLR``: the factor for
    epoch 0 is applied at construction, each ``step()`` moves to the next epoch (or step)."""

    def __init__(self, optimizer, lr_lambda):
        self.optimizer, self.lr_lambda = optimizer, lr_lambda
        self.base_lr, self.last_epoch = optimizer.lr, 0
        optimizer.lr = self.base_lr * lr_lambda(0)

    def step(self):
        self.last_epoch += 1
        self.optimizer.lr = self.base_lr * self.lr_lambda(self.last_epoch)

    def get_last_lr(self):
        return [self.optimizer.lr]


def warmup_cosine(warmup_steps, total_steps, start_factor=0.01, min_factor=0.0):
    """The factor of a linear warm-up followed by a cosine decay, for ``LambdaLR``:

        s < W:        f(s) = start_factor + (1 - start_factor) * s / W
        W <= s <= T:  f(s) = min_factor + (1 - min_factor) * (1 + cos(pi (s - W) / (T - W))) / 2
        s > T:        f(s) = min_factor

    (W = ``warmup_steps``, T = ``total_steps``.) A transformer starts with small steps while Adam's
    moment estimates settle, then anneals. The same schedule as PyTorch's composition
    ``SequentialLR([LinearLR(start_factor, total_iters=W), CosineAnnealingLR(T_max=T - W,
    eta_min=min_factor * lr)], milestones=[W])``.
    """
    if not 0 <= warmup_steps < total_steps:
        raise ValueError(f"warmup_cosine: need 0 <= warmup_steps < total_steps, got {warmup_steps} "
                         f"and {total_steps}")

    def factor(step):
        if step < warmup_steps:
            return start_factor + (1 - start_factor) * step / warmup_steps
        progress = min(1.0, (step - warmup_steps) / (total_steps - warmup_steps))
        return min_factor + (1 - min_factor) * (1 + math.cos(math.pi * progress)) / 2

    return factor


class ReduceLROnPlateau:
    """Divide the learning rate when a monitored value stops improving, as PyTorch's
    ``ReduceLROnPlateau`` (same arguments and defaults). Call ``step(value)`` once per epoch.

    In mode "min" a value improves on the best so far when value < best * (1 - threshold)
    (``threshold_mode="rel"``) or value < best - threshold ("abs"); mode "max" mirrors it. After
    more than ``patience`` epochs in a row without improvement, lr <- max(lr * factor, min_lr)
    (skipped when the change would be below ``eps``), and ``cooldown`` epochs follow during which
    bad epochs are not counted.
    """

    def __init__(self, optimizer, mode="min", factor=0.1, patience=10, threshold=1e-4,
                 threshold_mode="rel", cooldown=0, min_lr=0.0, eps=1e-8):
        if factor >= 1.0:
            raise ValueError(f"ReduceLROnPlateau: factor must be < 1, got {factor}")
        if mode not in ("min", "max") or threshold_mode not in ("rel", "abs"):
            raise ValueError(f"ReduceLROnPlateau: mode must be 'min' or 'max' and threshold_mode "
                             f"'rel' or 'abs', got {mode!r} and {threshold_mode!r}")
        self.optimizer, self.mode, self.factor, self.patience = optimizer, mode, factor, patience
        self.threshold, self.threshold_mode = threshold, threshold_mode
        self.cooldown, self.min_lr, self.eps = cooldown, min_lr, eps
        self.best = math.inf if mode == "min" else -math.inf
        self.num_bad_epochs, self.cooldown_counter, self.last_epoch = 0, 0, 0

    def _improves(self, value):
        if self.mode == "min":
            bar = self.best * (1 - self.threshold) if self.threshold_mode == "rel" \
                else self.best - self.threshold
            return value < bar
        bar = self.best * (1 + self.threshold) if self.threshold_mode == "rel" \
            else self.best + self.threshold
        return value > bar

    def step(self, value):
        value = float(value)
        self.last_epoch += 1
        if self._improves(value):
            self.best, self.num_bad_epochs = value, 0
        else:
            self.num_bad_epochs += 1
        if self.cooldown_counter > 0:
            self.cooldown_counter -= 1
            self.num_bad_epochs = 0
        if self.num_bad_epochs > self.patience:
            new_lr = max(self.optimizer.lr * self.factor, self.min_lr)
            if self.optimizer.lr - new_lr > self.eps:
                self.optimizer.lr = new_lr
            self.cooldown_counter, self.num_bad_epochs = self.cooldown, 0

    def get_last_lr(self):
        return [self.optimizer.lr]


class StepLR:
    """Multiply the optimizer's learning rate by ``gamma`` every ``step_size`` calls to ``step()``
    (one call per epoch): lr_epoch = lr_0 * gamma ** (epoch // step_size)."""

    def __init__(self, optimizer, step_size, gamma=0.1):
        if step_size < 1:
            raise ValueError(f"StepLR: step_size must be a positive integer, got {step_size}")
        self.optimizer, self.step_size, self.gamma = optimizer, step_size, gamma
        self.last_epoch = 0

    def step(self):
        self.last_epoch += 1
        if self.last_epoch % self.step_size == 0:
            self.optimizer.lr *= self.gamma

    def get_last_lr(self):
        """The current learning rate, in a list as PyTorch returns it (one per parameter group)."""
        return [self.optimizer.lr]


class EarlyStopping:
    """Stop training when a monitored value has not improved for ``patience`` epochs in a row.

    Call ``step(value)`` once per epoch (the first call is epoch 0); it returns True when training
    should stop. A value improves when it beats ``best`` by more than ``min_delta``:
    value < best - min_delta in mode "min" (a loss), value > best + min_delta in mode "max"
    (an accuracy). ``best`` and ``best_epoch`` tell which epoch's weights to keep.
    """

    def __init__(self, patience, min_delta=0.0, mode="min"):
        if mode not in ("min", "max"):
            raise ValueError(f"EarlyStopping: mode must be 'min' or 'max', got {mode!r}")
        if patience < 0 or min_delta < 0:
            raise ValueError(f"EarlyStopping: patience and min_delta must be >= 0, got "
                             f"{patience} and {min_delta}")
        self.patience, self.min_delta, self.mode = patience, min_delta, mode
        self.best = math.inf if mode == "min" else -math.inf
        self.best_epoch = None
        self.epoch = -1
        self.num_bad_epochs = 0

    def step(self, value):
        self.epoch += 1
        value = float(value)
        if self.mode == "min":
            improved = value < self.best - self.min_delta
        else:
            improved = value > self.best + self.min_delta
        if improved:
            self.best, self.best_epoch, self.num_bad_epochs = value, self.epoch, 0
        else:
            self.num_bad_epochs += 1
        return not improved and self.num_bad_epochs >= self.patience
