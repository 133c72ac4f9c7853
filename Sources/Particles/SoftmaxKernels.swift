import CVectorKernels

// Attention scores reach the softmax kernels as u = (64 / ln 2) · β⟨Q x_i, K x_j⟩,
// a scaling folded into the query product, so that e^{β⟨Q x_i, K x_j⟩} = 2^{u/64}.
// The kernels (C target CVectorKernels) use AVX-512 or AVX2 when the
// processor has them, and portable code otherwise. Results are within about
// 2 ulp of the exact power, plus the rounding of u itself, which is the
// relative error that computing β⟨Q x_i, K x_j⟩ in double has anyway.
// Differences below −1021 · 64 give 0, which changes an attention row sum
// (at least 1 from its largest term) by less than 1e−307 relative.

/// (64 / ln 2): scores times this are in units of 1/64 of a binary exponent.
let scoreScaleToBinary = 64 * 1.4426950408889634

/// Returns the largest of `values[0..<count]`, ignoring NaN entries.
@inline(__always)
func rowMaximum(_ values: UnsafePointer<Double>, count: Int) -> Double {
    softmax_row_maximum(values, count)
}

/// Replaces `values[0..<count]` by 2^((values − shift)/64) and returns their sum.
@inline(__always)
func exponentiateShifted(_ values: UnsafeMutablePointer<Double>, count: Int, shift: Double) -> Double {
    softmax_exponentiate_shifted(values, count, shift)
}

/// The widest instruction set of the C kernels (CVectorKernels) on this
/// processor: "AVX-512F" (the softmax kernels; the Legendre kernels use
/// AVX2 there), "AVX2 and FMA", or "portable C". Levels agree to round-off.
public var vectorKernelInstructionSet: String {
    switch available_vector_level() {
    case Int32(vector_level_avx512.rawValue): return "AVX-512F"
    case Int32(vector_level_avx2.rawValue): return "AVX2 and FMA"
    default: return "portable C"
    }
}
