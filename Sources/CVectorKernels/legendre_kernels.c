// Legendre recurrence kernels. See include/legendre_kernels.h for the contract.

#include "legendre_kernels.h"

typedef double vector4_double __attribute__((vector_size(32), aligned(8)));
typedef long long mask4 __attribute__((vector_size(32)));

// Consecutive exponent levels differ by 2^512, and a value above 2^256
// at a level below 0 moves up one level (see LegendreTables in SphereGrid).
#define LEVEL_INVERSE 0x1p-512
#define LEVEL_RESCALE_THRESHOLD 0x1p256

// Lanes of when_true where mask is set (all bits), of when_false elsewhere.
// A macro, so that it compiles with the target of each variant.
#define select4(mask, when_true, when_false) \
    ((vector4_double)(((mask) & (mask4)(when_true)) | (~(mask) & (mask4)(when_false))))

#define TARGET
#define SUFFIX _portable
#include "legendre_body.h"
#undef TARGET
#undef SUFFIX

#if defined(__x86_64__)
#define TARGET __attribute__((target("avx2,fma")))
#define SUFFIX _avx2
#include "legendre_body.h"
#undef TARGET
#undef SUFFIX
#endif

static int use_avx2(int level) {
#if defined(__x86_64__)
    return level >= vector_level_avx2 && available_vector_level() >= vector_level_avx2;
#else
    (void)level;
    return 0;
#endif
}

void legendre_analyze_block_at_level(int level, const double *x, const double *current, const double *next,
                                     const double *exponent_levels, long first, long last, const double *factor,
                                     const double *even_cos_parts, const double *even_sin_parts,
                                     const double *odd_cos_parts, const double *odd_sin_parts, double *sums) {
#if defined(__x86_64__)
    if (use_avx2(level)) {
        analyze_block_avx2(x, current, next, exponent_levels, first, last, factor, even_cos_parts, even_sin_parts,
                           odd_cos_parts, odd_sin_parts, sums);
        return;
    }
#endif
    analyze_block_portable(x, current, next, exponent_levels, first, last, factor, even_cos_parts, even_sin_parts,
                           odd_cos_parts, odd_sin_parts, sums);
}

void legendre_synthesize_block_at_level(int level, const double *x, const double *current, const double *next,
                                        const double *exponent_levels, long first, long last, const double *factor,
                                        const double *cos_coefficients, const double *sin_coefficients,
                                        double *even_cos, double *even_sin, double *odd_cos, double *odd_sin) {
#if defined(__x86_64__)
    if (use_avx2(level)) {
        synthesize_block_avx2(x, current, next, exponent_levels, first, last, factor, cos_coefficients,
                              sin_coefficients, even_cos, even_sin, odd_cos, odd_sin);
        return;
    }
#endif
    synthesize_block_portable(x, current, next, exponent_levels, first, last, factor, cos_coefficients,
                              sin_coefficients, even_cos, even_sin, odd_cos, odd_sin);
}

void legendre_gradient_block_at_level(int level, const double *x, const double *current, const double *next,
                                      const double *exponent_levels, long first, long last, const double *factor,
                                      const double *const *coefficients, double *accumulators) {
#if defined(__x86_64__)
    if (use_avx2(level)) {
        gradient_block_avx2(x, current, next, exponent_levels, first, last, factor, coefficients, accumulators);
        return;
    }
#endif
    gradient_block_portable(x, current, next, exponent_levels, first, last, factor, coefficients, accumulators);
}

void legendre_analyze_block(const double *x, const double *current, const double *next,
                            const double *exponent_levels, long first, long last, const double *factor,
                            const double *even_cos_parts, const double *even_sin_parts,
                            const double *odd_cos_parts, const double *odd_sin_parts, double *sums) {
    legendre_analyze_block_at_level(vector_level_avx512, x, current, next, exponent_levels, first, last, factor,
                                    even_cos_parts, even_sin_parts, odd_cos_parts, odd_sin_parts, sums);
}

void legendre_synthesize_block(const double *x, const double *current, const double *next,
                               const double *exponent_levels, long first, long last, const double *factor,
                               const double *cos_coefficients, const double *sin_coefficients, double *even_cos,
                               double *even_sin, double *odd_cos, double *odd_sin) {
    legendre_synthesize_block_at_level(vector_level_avx512, x, current, next, exponent_levels, first, last, factor,
                                       cos_coefficients, sin_coefficients, even_cos, even_sin, odd_cos, odd_sin);
}

void legendre_gradient_block(const double *x, const double *current, const double *next,
                             const double *exponent_levels, long first, long last, const double *factor,
                             const double *const *coefficients, double *accumulators) {
    legendre_gradient_block_at_level(vector_level_avx512, x, current, next, exponent_levels, first, last, factor,
                                     coefficients, accumulators);
}
