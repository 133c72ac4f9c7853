"""Times ducc0's spherical-harmonic transforms on the Gauss-Legendre grids
that MeanField uses, for the side-by-side table in docs/benchmarks.md.

Usage: python ducc0_bench.py NTHREADS NLAT [NLAT ...]
Prints one JSON object per line:
  {"nlat": N, "round_trip_ms": ..., "gradient_ms": ..., "threads": T}
Times are medians over repeated calls, in milliseconds.
"""
import json
import sys
import time

import numpy as np
import ducc0


def median_ms(function, repeats):
    function()  # warm-up: plans, caches
    samples = []
    for _ in range(repeats):
        start = time.perf_counter()
        function()
        samples.append(time.perf_counter() - start)
    return 1e3 * float(np.median(samples))


def main():
    threads = int(sys.argv[1])
    for nlat in map(int, sys.argv[2:]):
        lmax = nlat - 1
        nlon = 2 * nlat
        nalm = (lmax + 1) * (lmax + 2) // 2
        rng = np.random.default_rng(1)
        alm = rng.standard_normal((1, nalm)) + 1j * rng.standard_normal((1, nalm))
        alm[0, : lmax + 1] = alm[0, : lmax + 1].real  # m = 0 coefficients are real
        sht = ducc0.sht.experimental
        field = sht.synthesis_2d(alm=alm, spin=0, lmax=lmax, geometry="GL",
                                 ntheta=nlat, nphi=nlon, nthreads=threads)

        def round_trip():
            coefficients = sht.analysis_2d(map=field, spin=0, lmax=lmax, geometry="GL",
                                           nthreads=threads)
            sht.synthesis_2d(alm=coefficients, spin=0, lmax=lmax, geometry="GL",
                             ntheta=nlat, nphi=nlon, nthreads=threads)

        def gradient():
            sht.synthesis_2d(alm=alm, spin=1, lmax=lmax, geometry="GL", ntheta=nlat,
                             nphi=nlon, nthreads=threads, mode="DERIV1")

        repeats = 50 if nlat <= 128 else 20
        print(json.dumps({
            "nlat": nlat,
            "threads": threads,
            "round_trip_ms": median_ms(round_trip, repeats),
            "gradient_ms": median_ms(gradient, repeats),
        }), flush=True)


if __name__ == "__main__":
    main()
