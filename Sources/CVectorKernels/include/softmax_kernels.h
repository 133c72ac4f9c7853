#ifndef MEANFIELD_SOFTMAX_KERNELS_H
#define MEANFIELD_SOFTMAX_KERNELS_H

// Row kernels of a numerically stable softmax: the maximum of a row and the
// exponential of the row shifted by it. Scores are in units of 1/64 of a
// binary exponent, so the entry v stands for e^{v ln 2 / 64} = 2^{v/64}.
//
// Each call picks the widest instruction set that the processor and the
// operating system support (AVX-512F, then AVX2 with FMA, then portable C),
// detected once per process with CPUID and XGETBV.

#include "vector_level.h"

#ifdef __cplusplus
extern "C" {
#endif

/// Returns the largest of values[0 ..< count], ignoring NaN entries, or
/// -infinity when count is 0 or every entry is NaN.
double softmax_row_maximum(const double *values, long count);

/// Replaces values[i] by 2^{(values[i] - shift)/64} and returns the sum of the
/// results. Differences below -1021 * 64 give 0 and NaN gives NaN.
/// Differences are expected to be at most 0, which holds when shift is the
/// row maximum. Results are within 2 ulp of the exact power, for any level.
double softmax_exponentiate_shifted(double *values, long count, double shift);

/// softmax_exponentiate_shifted with the kernel of the given level, lowered
/// to available_vector_level() when the processor lacks it. Tests use
/// it to check every level that the machine can run.
double softmax_exponentiate_shifted_at_level(int level, double *values, long count, double shift);

/// softmax_row_maximum with the kernel of the given level, lowered as above.
double softmax_row_maximum_at_level(int level, const double *values, long count);

/// Column counts of keys_t, values_t and scratch rows must be multiples of this.
#define SOFTMAX_COLUMN_ALIGNMENT 16
/// values_t has the value dimension rounded up to a multiple of this in rows.
#define SOFTMAX_COMPONENT_ALIGNMENT 4
/// Rows of `stride` doubles in the scratch buffer of softmax_attention_rows.
#define SOFTMAX_GROUP_ROWS 4

/// Computes softmax attention for `rows` target rows against `count` sources
/// without storing more than SOFTMAX_GROUP_ROWS rows of weights.
///
/// For target row i with query q_i = queries[i * dimension ..] and the
/// scores s_ij = <q_i, k_j> (units of 1/64 of a binary exponent), where
/// k_j is column j of keys_t (dimension x stride, row-major):
///     maxima[i]   = max_j s_ij (NaN scores ignored),
///     sums[i]     = sum_j 2^{(s_ij - maxima[i])/64},
///     averages[i*dimension + c] = sum_j 2^{(s_ij - maxima[i])/64} values_t[c][j] / sums[i]
/// for c < dimension. values_t has dimension rounded up to
/// SOFTMAX_COMPONENT_ALIGNMENT rows of `stride` doubles; averages and
/// values_t may both be NULL when only maxima and sums are needed. Columns
/// j >= count are ignored, but keys_t and values_t must hold finite values
/// there (zeros), as must the padding rows of values_t. stride is a multiple
/// of SOFTMAX_COLUMN_ALIGNMENT and at least count >= 1. scratch has room for
/// SOFTMAX_GROUP_ROWS * stride doubles, and distinct threads need distinct
/// scratch and output rows.
void softmax_attention_rows(const double *queries, const double *keys_t, const double *values_t, long count,
                            long stride, long dimension, long rows, double *scratch, double *maxima,
                            double *sums, double *averages);

/// softmax_attention_rows with the kernels of the given level, lowered as above.
void softmax_attention_rows_at_level(int level, const double *queries, const double *keys_t,
                                     const double *values_t, long count, long stride, long dimension,
                                     long rows, double *scratch, double *maxima, double *sums,
                                     double *averages);

#ifdef __cplusplus
}
#endif

#endif
