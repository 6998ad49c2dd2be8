"""Placeholder until the training issue lands: one gradient step checked against p - y."""
import numpy as np

import minigrad as mg

rng = np.random.default_rng(0)
X = rng.standard_normal((8, 2))
W = mg.Tensor(rng.standard_normal((2, 3)), requires_grad=True)
logits = mg.Tensor(X) @ W
p = (logits - logits.max(axis=1, keepdims=True)).exp()
p = p / p.sum(axis=1, keepdims=True)
y = np.eye(3)[rng.integers(0, 3, 8)]
loss = -(mg.Tensor(y) * p.log()).sum() / 8
loss.backward()
closed = X.T @ (p.data - y) / 8
print("max |autograd - X^T (p - y) / N| =", np.abs(W.grad.data - closed).max())
