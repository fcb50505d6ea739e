"""Rosenblatt's perceptron (1958): the first neuron that learned.

A perceptron is a neuron with a step activation::

    z = x . w + b            x: (n, in_features) or (in_features,)   w: (in_features,)   b: scalar
    y_hat = step(z)          1 where z >= 0, else 0

It is trained one example at a time by the perceptron learning rule::

    error = y - y_hat        in {-1, 0, +1}
    w <- w + lr * error * x
    b <- b + lr * error

A correct prediction (error 0) changes nothing; a missed positive adds x to w, pulling the
boundary ``x . w + b = 0`` towards it; a false positive subtracts x. When the classes can be split
by a straight line (a hyperplane in higher dimensions) the rule finds one in finitely many
updates (the perceptron convergence theorem); when they cannot, as in XOR, it never settles.
"""
import numpy as np

from .functional import step


class Perceptron:
    """A single-neuron binary classifier with PyTorch-style parameter names.

    Attributes:
        weight: (in_features,) float64, starts at zero unless ``rng`` is given
        bias:   float
    """

    def __init__(self, in_features, lr=1.0, rng=None):
        if not (isinstance(in_features, (int, np.integer)) and in_features > 0):
            raise ValueError(f"Perceptron: in_features must be a positive integer, got {in_features!r}")
        self.in_features = int(in_features)
        self.lr = float(lr)
        if rng is None:
            self.weight = np.zeros(self.in_features)
        else:
            self.weight = rng.normal(0.0, 0.1, size=self.in_features)
        self.bias = 0.0

    def _check(self, x):
        x = np.asarray(x, dtype=np.float64)
        if x.ndim not in (1, 2) or x.shape[-1] != self.in_features:
            raise ValueError(f"Perceptron(in_features={self.in_features}): expected input of shape "
                             f"({self.in_features},) or (batch, {self.in_features}), got {x.shape}")
        return x

    def net_input(self, x):
        """z = x . w + b, shape (n,) for a batch, a scalar for one example."""
        return self._check(x) @ self.weight + self.bias

    def forward(self, x):
        """Predicted class, 0 or 1: step(z)."""
        return step(self.net_input(x))

    __call__ = forward
    predict = forward

    def update(self, x, y):
        """Apply the learning rule to one example; return its error y - y_hat (-1, 0 or +1)."""
        x = self._check(x)
        if x.ndim != 1:
            raise ValueError(f"Perceptron.update takes one example of shape ({self.in_features},), "
                             f"got {x.shape}")
        error = float(y) - float(self.forward(x))
        self.weight = self.weight + self.lr * error * x
        self.bias = self.bias + self.lr * error
        return error

    def fit(self, X, y, epochs=100):
        """Sweep the data in order, updating after each example, until an epoch has no mistakes
        or ``epochs`` sweeps are done. Returns the number of mistakes in each epoch."""
        X = self._check(X)
        y = np.asarray(y)
        if X.ndim != 2 or y.shape != (X.shape[0],):
            raise ValueError(f"Perceptron.fit: expected X of shape (n, {self.in_features}) and y of "
                             f"shape (n,), got {X.shape} and {y.shape}")
        if not np.isin(y, (0, 1)).all():
            raise ValueError("Perceptron.fit: labels must be 0 or 1")
        mistakes = []
        for _ in range(epochs):
            mistakes.append(sum(self.update(xi, yi) != 0 for xi, yi in zip(X, y)))
            if mistakes[-1] == 0:
                break
        return mistakes

    def __repr__(self):
        return f"Perceptron(in_features={self.in_features}, lr={self.lr})"
