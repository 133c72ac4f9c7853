import CLAPACKE

/// Failure reported by a LAPACK driver.
public struct LinearAlgebraError: Error, CustomStringConvertible {
    public let routine: String
    public let info: Int32
    public var description: String {
        "LAPACK routine \(routine) failed with info = \(info)"
    }
}

/// Eigenvalues (ascending) of a real symmetric `order`×`order` matrix given
/// row-major, computed by LAPACKE_dsyev. Only the upper triangle is read.
public func symmetricEigenvalues(of matrix: [Double], order: Int) throws -> [Double] {
    try symmetricEigen(of: matrix, order: order, vectors: false).values
}

/// Eigenvalues (ascending) and orthonormal eigenvectors of a real symmetric
/// matrix given row-major (LAPACKE_dsyev). `vectors[k]` belongs to `values[k]`.
public func symmetricEigen(of matrix: [Double], order: Int, vectors: Bool = true) throws
    -> (values: [Double], vectors: [[Double]])
{
    precondition(matrix.count == order * order, "matrix must hold order² entries")
    var a = matrix
    var w = [Double](repeating: 0, count: order)
    let n = Int32(order)
    let info = LAPACKE_dsyev(LAPACK_ROW_MAJOR, vectors ? 86 /* V */ : 78 /* N */, 85 /* U */,
                             n, &a, n, &w)
    guard info == 0 else { throw LinearAlgebraError(routine: "dsyev", info: info) }
    guard vectors else { return (w, []) }
    // Row-major storage: column k of `a` is the k-th eigenvector.
    let columns = (0..<order).map { k in (0..<order).map { row in a[row * order + k] } }
    return (w, columns)
}

/// Eigenvalues of a real general matrix (row-major) as (real, imaginary)
/// parts, with right eigenvectors, computed by LAPACKE_dgeev. For a complex
/// pair the vectors hold real and imaginary parts in consecutive entries as
/// LAPACK returns them.
public func generalEigen(of matrix: [Double], order: Int) throws
    -> (real: [Double], imaginary: [Double], vectors: [[Double]])
{
    precondition(matrix.count == order * order, "matrix must hold order² entries")
    var a = matrix
    let n = Int32(order)
    var wr = [Double](repeating: 0, count: order)
    var wi = [Double](repeating: 0, count: order)
    var vl = [Double](repeating: 0, count: 1)
    var vr = [Double](repeating: 0, count: order * order)
    let info = LAPACKE_dgeev(LAPACK_ROW_MAJOR, 78 /* N */, 86 /* V */, n, &a, n,
                             &wr, &wi, &vl, 1, &vr, n)
    guard info == 0 else { throw LinearAlgebraError(routine: "dgeev", info: info) }
    let columns = (0..<order).map { k in (0..<order).map { row in vr[row * order + k] } }
    return (wr, wi, columns)
}
