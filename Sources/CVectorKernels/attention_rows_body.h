// One instruction-set variant of softmax_attention_rows, included by
// softmax_kernels.c once per level. Before inclusion the file defines:
//   VECTOR         a clang vector type of doubles, LANES wide, aligned to 8 bytes
//   LANES          lanes of VECTOR
//   TILE_COMPONENTS value components accumulated at once in the weighted sums
//   TARGET         the target attribute of the level (may be empty)
//   SUFFIX         the suffix of the function names, e.g. _avx512
//   EXPONENTIATE   the level's exponentiate_* function
//
// Rows are processed in groups of GROUP_ROWS. For each group the kernel
//   1. computes the scores of all `stride` columns and each row's maximum,
//      keeping the scores in `scratch` (GROUP_ROWS x stride doubles),
//   2. exponentiates each score row shifted by its maximum and sums it,
//   3. accumulates the weighted sums of the value components, vectorized
//      over columns, and divides them by the row sums.
// Columns at or past `count` are padding: their scores are set to -infinity,
// so their weights are exactly 0.

#define CONCAT_(a, b) a##b
#define CONCAT(a, b) CONCAT_(a, b)
#define NAME(base) CONCAT(base, SUFFIX)

TARGET static inline VECTOR NAME(splat)(double value) {
    VECTOR result;
    for (int lane = 0; lane < LANES; lane++) result[lane] = value;
    return result;
}

TARGET static inline double NAME(horizontal_sum)(VECTOR v) {
    double total = 0;
    for (int lane = 0; lane < LANES; lane++) total += v[lane];
    return total;
}

// Scores of GROUP_ROWS target rows for columns [0, stride), stored in the
// scratch rows, and the maximum of each row. Every row is computed, so the
// loops have constant bounds and the accumulators stay in registers. A
// caller with fewer rows repeats its last row.
TARGET static inline void NAME(group_scores)(const double *const queries[GROUP_ROWS], const double *keys_t,
                                             long count, long stride, long dimension, double *scratch,
                                             double maxima[GROUP_ROWS]) {
    // Padding lanes of the last chunk get -infinity; earlier chunks get 0.
    double tail_bias[2 * LANES];
    long last_chunk = (count - 1) / (2 * LANES) * (2 * LANES);
    for (int lane = 0; lane < 2 * LANES; lane++) tail_bias[lane] = last_chunk + lane < count ? 0.0 : -INFINITY;
    const VECTOR minus_infinity = NAME(splat)(-INFINITY);

    VECTOR maximum[GROUP_ROWS];
    for (int r = 0; r < GROUP_ROWS; r++) maximum[r] = minus_infinity;

    for (long j = 0; j < stride; j += 2 * LANES) {
        VECTOR low[GROUP_ROWS], high[GROUP_ROWS];
        for (int r = 0; r < GROUP_ROWS; r++) {
            low[r] = NAME(splat)(0.0);
            high[r] = NAME(splat)(0.0);
        }
        for (long k = 0; k < dimension; k++) {
            VECTOR key_low = *(const VECTOR *)(keys_t + k * stride + j);
            VECTOR key_high = *(const VECTOR *)(keys_t + k * stride + j + LANES);
            for (int r = 0; r < GROUP_ROWS; r++) {
                VECTOR q = NAME(splat)(queries[r][k]);
                low[r] += q * key_low;
                high[r] += q * key_high;
            }
        }
        if (j >= last_chunk) {
            // Chunks past the last one hold padding only.
            VECTOR bias_low = j == last_chunk ? *(const VECTOR *)tail_bias : minus_infinity;
            VECTOR bias_high = j == last_chunk ? *(const VECTOR *)(tail_bias + LANES) : minus_infinity;
            for (int r = 0; r < GROUP_ROWS; r++) {
                low[r] += bias_low;
                high[r] += bias_high;
            }
        }
        for (int r = 0; r < GROUP_ROWS; r++) {
            *(VECTOR *)(scratch + r * stride + j) = low[r];
            *(VECTOR *)(scratch + r * stride + j + LANES) = high[r];
            // maxnum semantics: a NaN score leaves the maximum unchanged.
            maximum[r] = __builtin_elementwise_max(maximum[r], __builtin_elementwise_max(low[r], high[r]));
        }
    }
    for (int r = 0; r < GROUP_ROWS; r++) {
        double result = -INFINITY;
        for (int lane = 0; lane < LANES; lane++) {
            if (maximum[r][lane] > result) result = maximum[r][lane];
        }
        maxima[r] = result;
    }
}

// Unnormalized weighted sums of value components [first, first + TILE_COMPONENTS)
// for the GROUP_ROWS weight rows in scratch. The first `rows` rows are
// written to sums_out (row-major, `dimension` per row). Components at or
// past `dimension` are zero rows of values_t and are not written.
TARGET static inline void NAME(group_values)(const double *values_t, long stride, long dimension,
                                             long first, int rows, const double *scratch,
                                             double *sums_out) {
    VECTOR accumulator[GROUP_ROWS][TILE_COMPONENTS];
    for (int r = 0; r < GROUP_ROWS; r++) {
        for (int c = 0; c < TILE_COMPONENTS; c++) accumulator[r][c] = NAME(splat)(0.0);
    }
    for (long j = 0; j < stride; j += LANES) {
        VECTOR value[TILE_COMPONENTS];
        for (int c = 0; c < TILE_COMPONENTS; c++) value[c] = *(const VECTOR *)(values_t + (first + c) * stride + j);
        for (int r = 0; r < GROUP_ROWS; r++) {
            VECTOR weight = *(const VECTOR *)(scratch + r * stride + j);
            for (int c = 0; c < TILE_COMPONENTS; c++) accumulator[r][c] += weight * value[c];
        }
    }
    for (int r = 0; r < rows; r++) {
        for (int c = 0; c < TILE_COMPONENTS && first + c < dimension; c++) {
            sums_out[r * dimension + first + c] = NAME(horizontal_sum)(accumulator[r][c]);
        }
    }
}

TARGET static void NAME(attention_rows)(const double *queries, const double *keys_t, const double *values_t,
                                        long count, long stride, long dimension, long rows, double *scratch,
                                        double *maxima, double *sums, double *averages) {
    for (long first_row = 0; first_row < rows; first_row += GROUP_ROWS) {
        int group = rows - first_row < GROUP_ROWS ? (int)(rows - first_row) : GROUP_ROWS;
        const double *group_queries[GROUP_ROWS];
        for (int r = 0; r < GROUP_ROWS; r++) {
            long row = first_row + (r < group ? r : group - 1);
            group_queries[r] = queries + row * dimension;
        }
        double group_maxima[GROUP_ROWS];
        NAME(group_scores)(group_queries, keys_t, count, stride, dimension, scratch, group_maxima);
        // Rows past `group` repeat the last row, so they hold finite weights
        // after this loop too and cannot disturb the value sums below.
        for (int r = 0; r < GROUP_ROWS; r++) {
            double sum = EXPONENTIATE(scratch + r * stride, stride, group_maxima[r]);
            if (r < group) {
                maxima[first_row + r] = group_maxima[r];
                sums[first_row + r] = sum;
            }
        }
        if (averages == NULL || values_t == NULL) continue;
        double *target = averages + first_row * dimension;
        for (long first = 0; first < dimension; first += TILE_COMPONENTS) {
            NAME(group_values)(values_t, stride, dimension, first, group, scratch, target);
        }
        for (int r = 0; r < group; r++) {
            double inverse = 1.0 / sums[first_row + r];
            for (long c = 0; c < dimension; c++) target[r * dimension + c] *= inverse;
        }
    }
}

#undef NAME
#undef CONCAT
#undef CONCAT_
