// Detection of the widest instruction set the processor and the operating
// system support, shared by every kernel of this target.

#include "vector_level.h"

#include <stdint.h>

#if defined(__x86_64__)
#include <cpuid.h>

static int detect_vector_level(void) {
    unsigned eax, ebx, ecx, edx;
    if (!__get_cpuid(1, &eax, &ebx, &ecx, &edx)) return vector_level_portable;
    int has_osxsave = (ecx >> 27) & 1;
    int has_avx = (ecx >> 28) & 1;
    int has_fma = (ecx >> 12) & 1;
    if (!has_osxsave || !has_avx) return vector_level_portable;

    // XCR0 records which register states the operating system saves:
    // bits 1-2 for SSE and AVX, bits 5-7 for the AVX-512 mask and upper registers.
    unsigned xcr0_low, xcr0_high;
    __asm__ volatile("xgetbv" : "=a"(xcr0_low), "=d"(xcr0_high) : "c"(0));
    uint64_t xcr0 = ((uint64_t)xcr0_high << 32) | xcr0_low;
    if ((xcr0 & 0x6) != 0x6) return vector_level_portable;

    if (!__get_cpuid_count(7, 0, &eax, &ebx, &ecx, &edx)) return vector_level_portable;
    int has_avx2 = (ebx >> 5) & 1;
    int has_avx512f = (ebx >> 16) & 1;
    if (has_avx512f && has_avx2 && has_fma && (xcr0 & 0xE6) == 0xE6) return vector_level_avx512;
    if (has_avx2 && has_fma) return vector_level_avx2;
    return vector_level_portable;
}

#else

static int detect_vector_level(void) { return vector_level_portable; }

#endif

// -1 until the first call detects the level. Concurrent first calls detect
// the same value, so the race is harmless.
static int cached_level = -1;

int available_vector_level(void) {
    int level = __atomic_load_n(&cached_level, __ATOMIC_RELAXED);
    if (level < 0) {
        level = detect_vector_level();
        __atomic_store_n(&cached_level, level, __ATOMIC_RELAXED);
    }
    return level;
}

