#ifndef MEANFIELD_VECTOR_LEVEL_H
#define MEANFIELD_VECTOR_LEVEL_H

#ifdef __cplusplus
extern "C" {
#endif

/// Instruction sets of the kernels, widest last.
enum vector_level {
    vector_level_portable = 0,
    /// AVX2 with FMA.
    vector_level_avx2 = 1,
    /// AVX-512F, with AVX2 and FMA.
    vector_level_avx512 = 2,
};

/// Returns the widest level usable on this processor, detected once per
/// process with CPUID and XGETBV (always vector_level_portable off x86-64).
int available_vector_level(void);

#ifdef __cplusplus
}
#endif

#endif
