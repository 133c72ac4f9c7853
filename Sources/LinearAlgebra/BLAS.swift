import CBLAS

/// Row-major C = alpha · op(A) · op(B) + beta · C through cblas_dgemm, where
/// op transposes when the flag is set. A is m×k after op, B is k×n after op.
public func matrixMultiply(
    _ a: UnsafePointer<Double>, transposeA: Bool = false, leadingA: Int,
    _ b: UnsafePointer<Double>, transposeB: Bool = false, leadingB: Int,
    into c: UnsafeMutablePointer<Double>, leadingC: Int,
    m: Int, n: Int, k: Int, alpha: Double = 1, beta: Double = 0
) {
    cblas_dgemm(CblasRowMajor,
                transposeA ? CblasTrans : CblasNoTrans,
                transposeB ? CblasTrans : CblasNoTrans,
                Int32(m), Int32(n), Int32(k), alpha,
                a, Int32(leadingA), b, Int32(leadingB), beta, c, Int32(leadingC))
}

/// Sets the number of threads OpenBLAS uses inside each call.
public func setBLASThreadCount(_ count: Int) {
    openblas_set_num_threads(Int32(count))
}
