"""NumPy float64 reference for one softmax attention velocity evaluation.

For tokens X (n x d) on the unit sphere with Q = K = V = I and beta = 1, this
computes X_i = P(x_i) sum_j P_ij x_j with P_ij = softmax_j(beta <x_i, x_j>),
in row blocks so that memory stays at O(n d + block n): scores by a matrix
product, each row shifted by its maximum, exp in place, row sums, then the
weighted sum by a second matrix product. BLAS threads are limited with
threadpoolctl (default 2).

Usage: python numpy_particles_bench.py N D [--repeats R] [--threads T] [--block B]
Prints the median wall time of R evaluations in milliseconds on one line.
"""

import argparse
import time

import numpy as np
from threadpoolctl import threadpool_limits


def velocity(x, beta, block):
    n, d = x.shape
    out = np.empty_like(x)
    scores = np.empty((block, n))
    for start in range(0, n, block):
        stop = min(start + block, n)
        s = scores[: stop - start]
        np.matmul(x[start:stop], x.T, out=s)
        s *= beta
        s -= s.max(axis=1, keepdims=True)
        np.exp(s, out=s)
        sums = s.sum(axis=1)
        y = (s @ x) / sums[:, None]
        radial = np.einsum("ij,ij->i", y, x[start:stop])
        out[start:stop] = y - radial[:, None] * x[start:stop]
    return out


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("n", type=int)
    parser.add_argument("d", type=int)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--block", type=int, default=256)
    args = parser.parse_args()

    rng = np.random.default_rng(1)
    x = rng.standard_normal((args.n, args.d))
    x /= np.linalg.norm(x, axis=1, keepdims=True)

    with threadpool_limits(limits=args.threads):
        velocity(x, 1.0, args.block)
        times = []
        for _ in range(args.repeats):
            start = time.perf_counter()
            velocity(x, 1.0, args.block)
            times.append(time.perf_counter() - start)
    print(f"{1000 * float(np.median(times)):.3f}")


if __name__ == "__main__":
    main()
