// Vectorized softmax row kernels. See include/softmax_kernels.h for the contract.
//
// The exponential is table-driven. With w = v/4 in units of 1/16 of a binary exponent (v/4 is exact), k = round(w)
// and t = w - k, so |t| <= 1/2 and
//     2^{v/64} = 2^{floor(k/16)} * 2^{(k mod 16)/16} * 2^{t/16}.
// The 16 table values are the doubles nearest 2^{j/16}. 2^{t/16} is
// 1 + t q(t), where q is a degree-5 polynomial fitted to (2^{t/16} - 1)/t on
// [-1/2, 1/2] by Chebyshev interpolation in 50-digit arithmetic (mpmath
// chebyfit); with its coefficients rounded to double, 1 + t q(t) is within
// 1.5e-17 relative of 2^{t/16}. t is exact and the leading term is exactly 1,
// so 2^0 = 1 and 2^{-1} = 0.5 come out exact. The result carries about
// 2 ulp of rounding (table, polynomial, one product) plus the rounding of v.
//
// The 16-entry table fits two AVX-512 registers, so the lookup is one
// permutation there. AVX2 gathers it from memory and the portable kernel
// indexes it.

#include "softmax_kernels.h"
#include "vector_level.h"

#include <math.h>
#include <stdint.h>
#include <string.h>

#if defined(__x86_64__)
#include <immintrin.h>
#endif

// 2^{j/16} for j = 0 ..< 16, each the double nearest the exact value
// (computed with 60 significant decimal digits and rounded once).
static const double powers_of_two[16] = {
    0x1.0000000000000p+0, 0x1.0b5586cf9890fp+0, 0x1.172b83c7d517bp+0, 0x1.2387a6e756238p+0,
    0x1.306fe0a31b715p+0, 0x1.3dea64c123422p+0, 0x1.4bfdad5362a27p+0, 0x1.5ab07dd485429p+0,
    0x1.6a09e667f3bcdp+0, 0x1.7a11473eb0187p+0, 0x1.8ace5422aa0dbp+0, 0x1.9c49182a3f090p+0,
    0x1.ae89f995ad3adp+0, 0x1.c199bdd85529cp+0, 0x1.d5818dcfba487p+0, 0x1.ea4afa2a490dap+0,
};

// Below this difference the result would fall under 2^{-1021}, and 0 is returned.
#define UNDERFLOW_BOUND (-1021.0 * 64.0)
// Adding 1.5 * 2^52 rounds a double of magnitude below 2^51 to an integer,
// which then sits in the low bits of the sum's bit pattern.
#define ROUNDING_SHIFTER 0x1.8p52
#define SHIFTER_BITS INT64_C(0x4338000000000000)
// Coefficients of q(t), degree 5 down to 0; q(0) is close to ln(2)/16.
#define Q5 0x1.430a1d08ec681p-37
#define Q4 0x1.5d897e525c216p-30
#define Q3 0x1.3b2ab6fb41213p-23
#define Q2 0x1.c6b08d6f2a289p-17
#define Q1 0x1.ebfbdff82c590p-11
#define Q0 0x1.62e42fefa39f3p-5

// MARK: Portable kernel

static inline double exponential_portable(double v) {
    int underflow = v < UNDERFLOW_BOUND;
    double clamped = underflow ? UNDERFLOW_BOUND : v;
    double w = clamped * 0.25;
    double shifted = w + ROUNDING_SHIFTER;
    double k = shifted - ROUNDING_SHIFTER;
    double t = w - k;

    double q = Q5;
    q = q * t + Q4;
    q = q * t + Q3;
    q = q * t + Q2;
    q = q * t + Q1;
    q = q * t + Q0;
    double p = t * q + 1.0;

    int64_t bits;
    memcpy(&bits, &shifted, sizeof bits);
    int64_t k_integer = bits - SHIFTER_BITS;
    // The low four bits are k mod 16 in two's complement, and the rest is floor(k/16).
    double table_value = powers_of_two[k_integer & 15];
    int64_t exponent = k_integer >> 4;
    uint64_t scale_bits = (uint64_t)(exponent + 1023) << 52;
    double scale;
    memcpy(&scale, &scale_bits, sizeof scale);

    double result = p * table_value * scale;
    return underflow ? 0.0 : result;
}

static double exponentiate_portable(double *values, long count, double shift) {
    double sums[4] = {0, 0, 0, 0};
    long i = 0;
    for (; i + 4 <= count; i += 4) {
        for (int lane = 0; lane < 4; lane++) {
            double e = exponential_portable(values[i + lane] - shift);
            values[i + lane] = e;
            sums[lane] += e;
        }
    }
    double total = (sums[0] + sums[1]) + (sums[2] + sums[3]);
    for (; i < count; i++) {
        double e = exponential_portable(values[i] - shift);
        values[i] = e;
        total += e;
    }
    return total;
}

static double maximum_portable(const double *values, long count) {
    double maxima[4] = {-INFINITY, -INFINITY, -INFINITY, -INFINITY};
    long i = 0;
    for (; i + 4 <= count; i += 4) {
        for (int lane = 0; lane < 4; lane++) {
            // A NaN entry compares false and leaves the maximum unchanged.
            if (values[i + lane] > maxima[lane]) maxima[lane] = values[i + lane];
        }
    }
    double result = -INFINITY;
    for (int lane = 0; lane < 4; lane++) {
        if (maxima[lane] > result) result = maxima[lane];
    }
    for (; i < count; i++) {
        if (values[i] > result) result = values[i];
    }
    return result;
}

#if defined(__x86_64__)

// MARK: AVX2 kernel

#define AVX2_TARGET __attribute__((target("avx2,fma")))

AVX2_TARGET static inline __m256d exponential_avx2(__m256d v) {
    const __m256d bound = _mm256_set1_pd(UNDERFLOW_BOUND);
    const __m256d shifter = _mm256_set1_pd(ROUNDING_SHIFTER);
    __m256d underflow = _mm256_cmp_pd(v, bound, _CMP_LT_OQ);
    __m256d clamped = _mm256_blendv_pd(v, bound, underflow);
    __m256d w = _mm256_mul_pd(clamped, _mm256_set1_pd(0.25));
    __m256d shifted = _mm256_add_pd(w, shifter);
    __m256d k = _mm256_sub_pd(shifted, shifter);
    __m256d t = _mm256_sub_pd(w, k);

    __m256d q = _mm256_set1_pd(Q5);
    q = _mm256_fmadd_pd(q, t, _mm256_set1_pd(Q4));
    q = _mm256_fmadd_pd(q, t, _mm256_set1_pd(Q3));
    q = _mm256_fmadd_pd(q, t, _mm256_set1_pd(Q2));
    q = _mm256_fmadd_pd(q, t, _mm256_set1_pd(Q1));
    q = _mm256_fmadd_pd(q, t, _mm256_set1_pd(Q0));
    __m256d p = _mm256_fmadd_pd(t, q, _mm256_set1_pd(1.0));

    __m256i index = _mm256_and_si256(_mm256_castpd_si256(shifted), _mm256_set1_epi64x(15));
    __m256d table_value = _mm256_i64gather_pd(powers_of_two, index, 8);
    // floor(k/16) is exact in double; the shifter puts it in the low bits,
    // and moving it into the exponent field gives 2^{floor(k/16)}.
    __m256d exponent = _mm256_add_pd(_mm256_floor_pd(_mm256_mul_pd(k, _mm256_set1_pd(1.0 / 16))), shifter);
    __m256i scale_bits = _mm256_slli_epi64(
        _mm256_add_epi64(_mm256_castpd_si256(exponent), _mm256_set1_epi64x(1023 - SHIFTER_BITS)), 52);
    __m256d result = _mm256_mul_pd(_mm256_mul_pd(p, table_value), _mm256_castsi256_pd(scale_bits));
    return _mm256_andnot_pd(underflow, result);
}

AVX2_TARGET static double exponentiate_avx2(double *values, long count, double shift) {
    const __m256d s = _mm256_set1_pd(shift);
    __m256d sum0 = _mm256_setzero_pd(), sum1 = _mm256_setzero_pd();
    long i = 0;
    for (; i + 8 <= count; i += 8) {
        __m256d e0 = exponential_avx2(_mm256_sub_pd(_mm256_loadu_pd(values + i), s));
        __m256d e1 = exponential_avx2(_mm256_sub_pd(_mm256_loadu_pd(values + i + 4), s));
        _mm256_storeu_pd(values + i, e0);
        _mm256_storeu_pd(values + i + 4, e1);
        sum0 = _mm256_add_pd(sum0, e0);
        sum1 = _mm256_add_pd(sum1, e1);
    }
    double lanes[4];
    _mm256_storeu_pd(lanes, _mm256_add_pd(sum0, sum1));
    double total = (lanes[0] + lanes[1]) + (lanes[2] + lanes[3]);
    for (; i < count; i += 4) {
        double tail[4] = {-INFINITY, -INFINITY, -INFINITY, -INFINITY};
        long remaining = count - i < 4 ? count - i : 4;
        memcpy(tail, values + i, (size_t)remaining * sizeof(double));
        __m256d e = exponential_avx2(_mm256_sub_pd(_mm256_loadu_pd(tail), s));
        _mm256_storeu_pd(tail, e);
        for (long lane = 0; lane < remaining; lane++) {
            values[i + lane] = tail[lane];
            total += tail[lane];
        }
    }
    return total;
}

AVX2_TARGET static double maximum_avx2(const double *values, long count) {
    // _mm256_max_pd(x, m) returns m when x is NaN, so NaN entries are skipped.
    __m256d max0 = _mm256_set1_pd(-INFINITY), max1 = max0;
    long i = 0;
    for (; i + 8 <= count; i += 8) {
        max0 = _mm256_max_pd(_mm256_loadu_pd(values + i), max0);
        max1 = _mm256_max_pd(_mm256_loadu_pd(values + i + 4), max1);
    }
    double lanes[4];
    _mm256_storeu_pd(lanes, _mm256_max_pd(max0, max1));
    double result = -INFINITY;
    for (int lane = 0; lane < 4; lane++) {
        if (lanes[lane] > result) result = lanes[lane];
    }
    for (; i < count; i++) {
        if (values[i] > result) result = values[i];
    }
    return result;
}

// MARK: AVX-512 kernel

#define AVX512_TARGET __attribute__((target("avx512f")))

AVX512_TARGET static inline __m512d exponential_avx512(__m512d v, __m512d table_low, __m512d table_high) {
    const __m512d bound = _mm512_set1_pd(UNDERFLOW_BOUND);
    const __m512d shifter = _mm512_set1_pd(ROUNDING_SHIFTER);
    __mmask8 underflow = _mm512_cmp_pd_mask(v, bound, _CMP_LT_OQ);
    __m512d clamped = _mm512_mask_blend_pd(underflow, v, bound);
    __m512d w = _mm512_mul_pd(clamped, _mm512_set1_pd(0.25));
    __m512d shifted = _mm512_add_pd(w, shifter);
    __m512d k = _mm512_sub_pd(shifted, shifter);
    __m512d t = _mm512_sub_pd(w, k);

    __m512d q = _mm512_set1_pd(Q5);
    q = _mm512_fmadd_pd(q, t, _mm512_set1_pd(Q4));
    q = _mm512_fmadd_pd(q, t, _mm512_set1_pd(Q3));
    q = _mm512_fmadd_pd(q, t, _mm512_set1_pd(Q2));
    q = _mm512_fmadd_pd(q, t, _mm512_set1_pd(Q1));
    q = _mm512_fmadd_pd(q, t, _mm512_set1_pd(Q0));
    __m512d p = _mm512_fmadd_pd(t, q, _mm512_set1_pd(1.0));

    // The permutation reads the low four bits of each index, which are k mod 16.
    __m512d table_value = _mm512_permutex2var_pd(table_low, _mm512_castpd_si512(shifted), table_high);
    // scalef multiplies by 2^{floor(k/16)} exactly.
    __m512d result = _mm512_scalef_pd(_mm512_mul_pd(p, table_value), _mm512_mul_pd(k, _mm512_set1_pd(1.0 / 16)));
    return _mm512_maskz_mov_pd((__mmask8)~underflow, result);
}

AVX512_TARGET static double exponentiate_avx512(double *values, long count, double shift) {
    const __m512d table_low = _mm512_loadu_pd(powers_of_two);
    const __m512d table_high = _mm512_loadu_pd(powers_of_two + 8);
    const __m512d s = _mm512_set1_pd(shift);
    __m512d sum0 = _mm512_setzero_pd(), sum1 = _mm512_setzero_pd();
    long i = 0;
    for (; i + 16 <= count; i += 16) {
        __m512d e0 = exponential_avx512(_mm512_sub_pd(_mm512_loadu_pd(values + i), s), table_low, table_high);
        __m512d e1 = exponential_avx512(_mm512_sub_pd(_mm512_loadu_pd(values + i + 8), s), table_low, table_high);
        _mm512_storeu_pd(values + i, e0);
        _mm512_storeu_pd(values + i + 8, e1);
        sum0 = _mm512_add_pd(sum0, e0);
        sum1 = _mm512_add_pd(sum1, e1);
    }
    for (; i < count; i += 8) {
        long remaining = count - i;
        __mmask8 mask = remaining >= 8 ? (__mmask8)0xFF : (__mmask8)((1u << remaining) - 1);
        // Lanes past the end load -infinity, whose exponential is 0.
        __m512d v = _mm512_mask_loadu_pd(_mm512_set1_pd(-INFINITY), mask, values + i);
        __m512d e = exponential_avx512(_mm512_sub_pd(v, s), table_low, table_high);
        _mm512_mask_storeu_pd(values + i, mask, e);
        sum0 = _mm512_add_pd(sum0, _mm512_maskz_mov_pd(mask, e));
    }
    return _mm512_reduce_add_pd(_mm512_add_pd(sum0, sum1));
}

AVX512_TARGET static double maximum_avx512(const double *values, long count) {
    // _mm512_max_pd(x, m) returns m when x is NaN, so NaN entries are skipped.
    __m512d max0 = _mm512_set1_pd(-INFINITY), max1 = max0;
    long i = 0;
    for (; i + 16 <= count; i += 16) {
        max0 = _mm512_max_pd(_mm512_loadu_pd(values + i), max0);
        max1 = _mm512_max_pd(_mm512_loadu_pd(values + i + 8), max1);
    }
    for (; i < count; i += 8) {
        long remaining = count - i;
        __mmask8 mask = remaining >= 8 ? (__mmask8)0xFF : (__mmask8)((1u << remaining) - 1);
        max0 = _mm512_max_pd(_mm512_mask_loadu_pd(_mm512_set1_pd(-INFINITY), mask, values + i), max0);
    }
    return _mm512_reduce_max_pd(_mm512_max_pd(max0, max1));
}

#endif

// MARK: Attention rows

#define GROUP_ROWS SOFTMAX_GROUP_ROWS

typedef double vector2_double __attribute__((vector_size(16), aligned(8)));

#define VECTOR vector2_double
#define LANES 2
#define TILE_COMPONENTS 2
#define TARGET
#define SUFFIX _portable
#define EXPONENTIATE exponentiate_portable
#include "attention_rows_body.h"
#undef VECTOR
#undef LANES
#undef TILE_COMPONENTS
#undef TARGET
#undef SUFFIX
#undef EXPONENTIATE

#if defined(__x86_64__)

typedef double vector4_double __attribute__((vector_size(32), aligned(8)));
typedef double vector8_double __attribute__((vector_size(64), aligned(8)));

#define VECTOR vector4_double
#define LANES 4
#define TILE_COMPONENTS 2
#define TARGET AVX2_TARGET
#define SUFFIX _avx2
#define EXPONENTIATE exponentiate_avx2
#include "attention_rows_body.h"
#undef VECTOR
#undef LANES
#undef TILE_COMPONENTS
#undef TARGET
#undef SUFFIX
#undef EXPONENTIATE

#define VECTOR vector8_double
#define LANES 8
#define TILE_COMPONENTS 4
#define TARGET AVX512_TARGET
#define SUFFIX _avx512
#define EXPONENTIATE exponentiate_avx512
#include "attention_rows_body.h"
#undef VECTOR
#undef LANES
#undef TILE_COMPONENTS
#undef TARGET
#undef SUFFIX
#undef EXPONENTIATE

#endif

// MARK: Dispatch

static int usable_level(int requested) {
    int available = available_vector_level();
    return requested < available ? requested : available;
}

double softmax_exponentiate_shifted_at_level(int level, double *values, long count, double shift) {
    switch (usable_level(level)) {
#if defined(__x86_64__)
    case vector_level_avx512: return exponentiate_avx512(values, count, shift);
    case vector_level_avx2: return exponentiate_avx2(values, count, shift);
#endif
    default: return exponentiate_portable(values, count, shift);
    }
}

double softmax_row_maximum_at_level(int level, const double *values, long count) {
    switch (usable_level(level)) {
#if defined(__x86_64__)
    case vector_level_avx512: return maximum_avx512(values, count);
    case vector_level_avx2: return maximum_avx2(values, count);
#endif
    default: return maximum_portable(values, count);
    }
}

void softmax_attention_rows_at_level(int level, const double *queries, const double *keys_t,
                                     const double *values_t, long count, long stride, long dimension,
                                     long rows, double *scratch, double *maxima, double *sums,
                                     double *averages) {
    switch (usable_level(level)) {
#if defined(__x86_64__)
    case vector_level_avx512:
        attention_rows_avx512(queries, keys_t, values_t, count, stride, dimension, rows, scratch, maxima, sums,
                              averages);
        return;
    case vector_level_avx2:
        attention_rows_avx2(queries, keys_t, values_t, count, stride, dimension, rows, scratch, maxima, sums,
                            averages);
        return;
#endif
    default:
        attention_rows_portable(queries, keys_t, values_t, count, stride, dimension, rows, scratch, maxima, sums,
                                averages);
    }
}

void softmax_attention_rows(const double *queries, const double *keys_t, const double *values_t, long count,
                            long stride, long dimension, long rows, double *scratch, double *maxima,
                            double *sums, double *averages) {
    softmax_attention_rows_at_level(vector_level_avx512, queries, keys_t, values_t, count, stride, dimension,
                                    rows, scratch, maxima, sums, averages);
}

double softmax_exponentiate_shifted(double *values, long count, double shift) {
    return softmax_exponentiate_shifted_at_level(vector_level_avx512, values, count, shift);
}

double softmax_row_maximum(const double *values, long count) {
    return softmax_row_maximum_at_level(vector_level_avx512, values, count);
}
