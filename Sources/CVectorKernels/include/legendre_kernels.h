#ifndef MEANFIELD_LEGENDRE_KERNELS_H
#define MEANFIELD_LEGENDRE_KERNELS_H

// Inner loops of the Legendre step of the spherical-harmonic transforms:
// the three-term recurrence q_{n+2} = a_{n+2} x q_{n+1} - q_n in the degree
// offset n = l - m of one order m, run for a block of LEGENDRE_BLOCK_RINGS
// rings at once, with the sums of one transform folded in. The caller
// provides the recurrence state at its first degree `first`: per ring the
// mantissas of q_first and q_{first+1} and their common exponent level
// e <= 0 (q = mantissa * 2^{512 e}), and the factors a of the order. The
// loop runs to n = last inclusive. While a ring is at a level below 0 its
// terms count as 0. When its mantissa exceeds 2^256 it moves up one level,
// which is the scaling described on LegendreTables in SphereGrid.
//
// The AVX2-with-FMA variant is used when the processor has it (see
// vector_level.h), and portable code otherwise. Arrays of one value per ring
// have LEGENDRE_BLOCK_RINGS entries.

#include "vector_level.h"

#ifdef __cplusplus
extern "C" {
#endif

/// Rings per block.
#define LEGENDRE_BLOCK_RINGS 8

/// Adds the analysis terms of degrees first ... last to `sums`. For each n,
/// sums[4n ..< 4n + 2] gets two partial sums over the rings r of q_n(x_r)
/// times cos_parts[r], and sums[4n + 2 ..< 4n + 4] the same with sin_parts.
/// The parts are the even ones for even n and the odd ones for odd n.
void legendre_analyze_block(const double *x, const double *current, const double *next,
                            const double *exponent_levels, long first, long last,
                            const double *factor, const double *even_cos_parts, const double *even_sin_parts,
                            const double *odd_cos_parts, const double *odd_sin_parts, double *sums);

/// Adds cos_coefficients[n] q_n and sin_coefficients[n] q_n over n = first
/// ... last to the per-ring accumulators, the even-n terms to even_cos and
/// even_sin and the odd-n terms to odd_cos and odd_sin.
void legendre_synthesize_block(const double *x, const double *current, const double *next,
                               const double *exponent_levels, long first, long last, const double *factor, const double *cos_coefficients,
                               const double *sin_coefficients, double *even_cos, double *even_sin,
                               double *odd_cos, double *odd_sin);

/// Adds coefficients[k][n] q_n over n = first ... last for the six
/// coefficient sets k = 0 ..< 6 to accumulators[(2k + n mod 2) * LEGENDRE_BLOCK_RINGS + r].
void legendre_gradient_block(const double *x, const double *current, const double *next,
                             const double *exponent_levels, long first, long last, const double *factor, const double *const *coefficients, double *accumulators);

/// The three kernels with the variant of the given level, lowered to
/// available_vector_level() when the processor lacks it. Tests use them to
/// check every level that the machine can run.
void legendre_analyze_block_at_level(int level, const double *x, const double *current, const double *next,
                                     const double *exponent_levels, long first, long last, const double *factor,
                                     const double *even_cos_parts, const double *even_sin_parts,
                                     const double *odd_cos_parts, const double *odd_sin_parts, double *sums);
void legendre_synthesize_block_at_level(int level, const double *x, const double *current, const double *next,
                                        const double *exponent_levels, long first, long last, const double *factor,
                                        const double *cos_coefficients, const double *sin_coefficients,
                                        double *even_cos, double *even_sin, double *odd_cos, double *odd_sin);
void legendre_gradient_block_at_level(int level, const double *x, const double *current, const double *next,
                                      const double *exponent_levels, long first, long last, const double *factor,
                                      const double *const *coefficients, double *accumulators);

#ifdef __cplusplus
}
#endif

#endif
