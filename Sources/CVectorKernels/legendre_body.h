// One instruction-set variant of the Legendre kernels, included by
// legendre_kernels.c once per level. Before inclusion the file defines
// TARGET (the target attribute, may be empty) and SUFFIX (e.g. _avx2).
// A block of 8 rings is two 4-lane vectors, whose recurrences are two
// independent dependency chains.

#define CONCAT_(a, b) a##b
#define CONCAT(a, b) CONCAT_(a, b)
#define NAME(base) CONCAT(base, SUFFIX)

// One recurrence step of half h: q_{n+2} = a_{n+2} x q_{n+1} - q_n, with
// (current, next) = (q_n, q_{n+1}) moved on to (q_{n+1}, q_{n+2}).
#define ADVANCE(h, a)                                       \
    do {                                                    \
        vector4_double following = (a) * x[h] * next[h] - current[h]; \
        current[h] = next[h];                               \
        next[h] = following;                                \
    } while (0)

// Mixed-phase step of one half: the recurrence step, then lanes whose new
// value exceeds 2^256 move up one exponent level (both values times 2^-512).
TARGET static inline void NAME(advance_scaled)(vector4_double *current, vector4_double *next,
                                               vector4_double *level, const vector4_double *x, double a) {
    vector4_double following = a * *x * *next - *current;
    *current = *next;
    *next = following;
    mask4 large = __builtin_elementwise_abs(following) > LEVEL_RESCALE_THRESHOLD;
    if (__builtin_reduce_or(large)) {
        *next = select4(large, *next * LEVEL_INVERSE, *next);
        *current = select4(large, *current * LEVEL_INVERSE, *current);
        *level = select4(large, *level + 1.0, *level);
    }
}

// 1 in lanes at level 0, whose values are plain q values, and 0 in lanes
// still below the double range. A macro, because 4-lane vectors passed by
// value change the calling convention of the portable variant.
#define LEVEL_WEIGHT(level) select4((level) == 0.0, ((vector4_double){1.0, 1.0, 1.0, 1.0}), ((vector4_double){0.0, 0.0, 0.0, 0.0}))

TARGET static inline void NAME(analysis_term)(double *sums, long n, const vector4_double p[2],
                                              const vector4_double cos_parts[2],
                                              const vector4_double sin_parts[2]) {
    vector4_double c = p[0] * cos_parts[0] + p[1] * cos_parts[1];
    vector4_double s = p[0] * sin_parts[0] + p[1] * sin_parts[1];
    // (c0 + c2, c1 + c3, s0 + s2, s1 + s3): two partial sums of each.
    vector4_double folded = __builtin_shufflevector(c, s, 0, 1, 4, 5) + __builtin_shufflevector(c, s, 2, 3, 6, 7);
    *(vector4_double *)(sums + 4 * n) += folded;
}

TARGET static void NAME(analyze_block)(const double *x_in, const double *current_in, const double *next_in,
                                       const double *level_in, long first, long last, const double *factor,
                                       const double *even_cos_in, const double *even_sin_in,
                                       const double *odd_cos_in, const double *odd_sin_in, double *sums) {
    if (first > last) return;
    vector4_double x[2], current[2], next[2], level[2];
    vector4_double even_cos[2], even_sin[2], odd_cos[2], odd_sin[2];
    for (int h = 0; h < 2; h++) {
        x[h] = *(const vector4_double *)(x_in + 4 * h);
        current[h] = *(const vector4_double *)(current_in + 4 * h);
        next[h] = *(const vector4_double *)(next_in + 4 * h);
        level[h] = *(const vector4_double *)(level_in + 4 * h);
        even_cos[h] = *(const vector4_double *)(even_cos_in + 4 * h);
        even_sin[h] = *(const vector4_double *)(even_sin_in + 4 * h);
        odd_cos[h] = *(const vector4_double *)(odd_cos_in + 4 * h);
        odd_sin[h] = *(const vector4_double *)(odd_sin_in + 4 * h);
    }

    long n = first;
    // Mixed phase: lanes below the double range contribute 0 until they
    // reach level 0.
    while (n <= last && __builtin_reduce_or((level[0] < 0.0) | (level[1] < 0.0))) {
        vector4_double weighted[2];
        for (int h = 0; h < 2; h++) weighted[h] = current[h] * LEVEL_WEIGHT(level[h]);
        if (n & 1) {
            NAME(analysis_term)(sums, n, weighted, odd_cos, odd_sin);
        } else {
            NAME(analysis_term)(sums, n, weighted, even_cos, even_sin);
        }
        for (int h = 0; h < 2; h++) NAME(advance_scaled)(&current[h], &next[h], &level[h], &x[h], factor[n + 2]);
        n += 1;
    }
    if (n > last) return;
    // Start on an even n so that the unrolled loop has fixed parities.
    if (n & 1) {
        NAME(analysis_term)(sums, n, current, odd_cos, odd_sin);
        for (int h = 0; h < 2; h++) ADVANCE(h, factor[n + 2]);
        n += 1;
    }
    while (n < last) {
        NAME(analysis_term)(sums, n, current, even_cos, even_sin);
        NAME(analysis_term)(sums, n + 1, next, odd_cos, odd_sin);
        for (int h = 0; h < 2; h++) {
            ADVANCE(h, factor[n + 2]);
            ADVANCE(h, factor[n + 3]);
        }
        n += 2;
    }
    if (n == last) NAME(analysis_term)(sums, n, current, even_cos, even_sin);
}

TARGET static void NAME(synthesize_block)(const double *x_in, const double *current_in, const double *next_in,
                                          const double *level_in, long first, long last, const double *factor,
                                          const double *cos_coefficients, const double *sin_coefficients,
                                          double *even_cos_io, double *even_sin_io, double *odd_cos_io,
                                          double *odd_sin_io) {
    if (first > last) return;
    vector4_double x[2], current[2], next[2], level[2];
    vector4_double even_cos[2], even_sin[2], odd_cos[2], odd_sin[2];
    for (int h = 0; h < 2; h++) {
        x[h] = *(const vector4_double *)(x_in + 4 * h);
        current[h] = *(const vector4_double *)(current_in + 4 * h);
        next[h] = *(const vector4_double *)(next_in + 4 * h);
        level[h] = *(const vector4_double *)(level_in + 4 * h);
        even_cos[h] = *(vector4_double *)(even_cos_io + 4 * h);
        even_sin[h] = *(vector4_double *)(even_sin_io + 4 * h);
        odd_cos[h] = *(vector4_double *)(odd_cos_io + 4 * h);
        odd_sin[h] = *(vector4_double *)(odd_sin_io + 4 * h);
    }

    long n = first;
    while (n <= last && __builtin_reduce_or((level[0] < 0.0) | (level[1] < 0.0))) {
        for (int h = 0; h < 2; h++) {
            vector4_double weighted = current[h] * LEVEL_WEIGHT(level[h]);
            if (n & 1) {
                odd_cos[h] += cos_coefficients[n] * weighted;
                odd_sin[h] += sin_coefficients[n] * weighted;
            } else {
                even_cos[h] += cos_coefficients[n] * weighted;
                even_sin[h] += sin_coefficients[n] * weighted;
            }
            NAME(advance_scaled)(&current[h], &next[h], &level[h], &x[h], factor[n + 2]);
        }
        n += 1;
    }
    if (n <= last && (n & 1)) {
        for (int h = 0; h < 2; h++) {
            odd_cos[h] += cos_coefficients[n] * current[h];
            odd_sin[h] += sin_coefficients[n] * current[h];
            ADVANCE(h, factor[n + 2]);
        }
        n += 1;
    }
    while (n < last) {
        for (int h = 0; h < 2; h++) {
            even_cos[h] += cos_coefficients[n] * current[h];
            even_sin[h] += sin_coefficients[n] * current[h];
            odd_cos[h] += cos_coefficients[n + 1] * next[h];
            odd_sin[h] += sin_coefficients[n + 1] * next[h];
            ADVANCE(h, factor[n + 2]);
            ADVANCE(h, factor[n + 3]);
        }
        n += 2;
    }
    if (n == last) {
        for (int h = 0; h < 2; h++) {
            even_cos[h] += cos_coefficients[n] * current[h];
            even_sin[h] += sin_coefficients[n] * current[h];
        }
    }

    for (int h = 0; h < 2; h++) {
        *(vector4_double *)(even_cos_io + 4 * h) = even_cos[h];
        *(vector4_double *)(even_sin_io + 4 * h) = even_sin[h];
        *(vector4_double *)(odd_cos_io + 4 * h) = odd_cos[h];
        *(vector4_double *)(odd_sin_io + 4 * h) = odd_sin[h];
    }
}

// The gradient needs twelve accumulators per half, so the halves run one
// after the other to keep them in registers.
TARGET static void NAME(gradient_block)(const double *x_in, const double *current_in, const double *next_in,
                                        const double *level_in, long first, long last, const double *factor,
                                        const double *const *coefficients, double *accumulators) {
    if (first > last) return;
    for (int h = 0; h < 2; h++) {
        vector4_double x[1] = {*(const vector4_double *)(x_in + 4 * h)};
        vector4_double current[1] = {*(const vector4_double *)(current_in + 4 * h)};
        vector4_double next[1] = {*(const vector4_double *)(next_in + 4 * h)};
        vector4_double level = *(const vector4_double *)(level_in + 4 * h);
        vector4_double sums[6][2];
        for (int k = 0; k < 6; k++) {
            for (int parity = 0; parity < 2; parity++) {
                sums[k][parity] = *(vector4_double *)(accumulators + (2 * k + parity) * 8 + 4 * h);
            }
        }

        long n = first;
        while (n <= last && __builtin_reduce_or(level < 0.0)) {
            vector4_double weighted = current[0] * LEVEL_WEIGHT(level);
            for (int k = 0; k < 6; k++) sums[k][n & 1] += coefficients[k][n] * weighted;
            NAME(advance_scaled)(&current[0], &next[0], &level, &x[0], factor[n + 2]);
            n += 1;
        }
        if (n <= last && (n & 1)) {
            for (int k = 0; k < 6; k++) sums[k][1] += coefficients[k][n] * current[0];
            ADVANCE(0, factor[n + 2]);
            n += 1;
        }
        while (n < last) {
            for (int k = 0; k < 6; k++) {
                sums[k][0] += coefficients[k][n] * current[0];
                sums[k][1] += coefficients[k][n + 1] * next[0];
            }
            ADVANCE(0, factor[n + 2]);
            ADVANCE(0, factor[n + 3]);
            n += 2;
        }
        if (n == last) {
            for (int k = 0; k < 6; k++) sums[k][0] += coefficients[k][n] * current[0];
        }

        for (int k = 0; k < 6; k++) {
            for (int parity = 0; parity < 2; parity++) {
                *(vector4_double *)(accumulators + (2 * k + parity) * 8 + 4 * h) = sums[k][parity];
            }
        }
    }
}

#undef ADVANCE
#undef LEVEL_WEIGHT
#undef NAME
#undef CONCAT
#undef CONCAT_
