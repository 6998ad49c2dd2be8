import numpy as np

import minigrad as mg


def test_cubic_gradient():
    x = mg.Tensor([1.0, 2.0, 3.0], requires_grad=True)
    (x ** 3).sum().backward()
    np.testing.assert_allclose(x.grad.data, 3 * np.array([1.0, 2.0, 3.0]) ** 2)
