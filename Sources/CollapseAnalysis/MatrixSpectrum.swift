import Foundation
import LinearAlgebra

/// One eigenvalue of a real matrix with its right eigenvector.
///
/// For a real eigenvalue `imaginaryVector` is nil. For a complex eigenvalue
/// the eigenvector is `realVector + i·imaginaryVector`, and the real plane
/// spanned by the two parts is invariant under the matrix: the flow
/// dx/dt = Vx rotates (and scales) within it.
public struct Eigenpair: Sendable, Equatable {
    public let real: Double
    public let imaginary: Double
    public let realVector: [Double]
    public let imaginaryVector: [Double]?

    public var isReal: Bool { imaginary == 0 }
}

/// Eigen-decomposition of a d×d real matrix M and of its symmetric part
/// (M + Mᵀ)/2.
///
/// The general eigenpairs come from LAPACKE_dgeev and are sorted by real
/// part, largest first, with the positive-imaginary member of a complex pair
/// first. The symmetric part comes from LAPACKE_dsyev, sorted largest first.
/// The symmetric part bounds the growth of |x| under dx/dt = Mx:
/// d|x|²/dt = 2 xᵀ ((M + Mᵀ)/2) x.
public struct MatrixSpectrum: Sendable {
    public let order: Int
    /// The matrix, row-major.
    public let matrix: [Double]
    public let eigenpairs: [Eigenpair]
    public let symmetricPartEigenvalues: [Double]
    /// `symmetricPartEigenvectors[k]` belongs to `symmetricPartEigenvalues[k]`.
    public let symmetricPartEigenvectors: [[Double]]

    /// Throws `AnalysisError` for a malformed matrix and `LinearAlgebraError`
    /// when LAPACK fails to converge.
    public init(matrix: [Double], order: Int, name: String = "input") throws {
        try checkSquareMatrix(matrix, order: order, name: name)
        self.order = order
        self.matrix = matrix

        let general = try generalEigen(of: matrix, order: order)
        var pairs = [Eigenpair]()
        var index = 0
        while index < order {
            let imaginary = general.imaginary[index]
            if imaginary == 0 {
                pairs.append(Eigenpair(real: general.real[index], imaginary: 0,
                                       realVector: general.vectors[index], imaginaryVector: nil))
                index += 1
                continue
            }
            // dgeev stores a complex pair in consecutive columns j, j + 1 as the
            // real and imaginary parts of the vector of the eigenvalue with
            // positive imaginary part. The conjugate eigenvalue has the
            // conjugate vector.
            let realPart = general.vectors[index]
            let imaginaryPart = general.vectors[index + 1]
            pairs.append(Eigenpair(real: general.real[index], imaginary: imaginary,
                                   realVector: realPart, imaginaryVector: imaginaryPart))
            pairs.append(Eigenpair(real: general.real[index + 1], imaginary: general.imaginary[index + 1],
                                   realVector: realPart, imaginaryVector: imaginaryPart.map { -$0 }))
            index += 2
        }
        eigenpairs = pairs.sorted { lhs, rhs in
            lhs.real != rhs.real ? lhs.real > rhs.real : lhs.imaginary > rhs.imaginary
        }

        var symmetricPart = matrix
        for row in 0..<order {
            for column in 0..<order {
                symmetricPart[row * order + column] =
                    0.5 * (matrix[row * order + column] + matrix[column * order + row])
            }
        }
        let symmetric = try symmetricEigen(of: symmetricPart, order: order)
        symmetricPartEigenvalues = symmetric.values.reversed()
        symmetricPartEigenvectors = symmetric.vectors.reversed()
    }

    /// Largest absolute entry, the scale for the relative tolerances below.
    public var entryScale: Double { matrix.map { abs($0) }.max() ?? 0 }

    /// Returns the c with M = c·I when every entry is within `relativeTolerance` ×
    /// (largest absolute entry) of c·I, or nil. The zero matrix gives 0.
    public func scalarMultipleOfIdentity(relativeTolerance: Double = 1e-10) -> Double? {
        let c = (0..<order).map { matrix[$0 * order + $0] }.reduce(0, +) / Double(order)
        let tolerance = relativeTolerance * entryScale
        for row in 0..<order {
            for column in 0..<order {
                let expected = row == column ? c : 0
                if abs(matrix[row * order + column] - expected) > tolerance { return nil }
            }
        }
        return c
    }

    /// Tests whether |M_ij − M_ji| ≤ `relativeTolerance` × (largest absolute entry)
    /// for every pair.
    public func isSymmetric(relativeTolerance: Double = 1e-10) -> Bool {
        let tolerance = relativeTolerance * entryScale
        for row in 0..<order {
            for column in (row + 1)..<order
            where abs(matrix[row * order + column] - matrix[column * order + row]) > tolerance {
                return false
            }
        }
        return true
    }

    /// Dimension of the eigenspace of a real eigenvalue λ: d − rank(M − λI),
    /// with the rank counted from the eigenvalues of (M − λI)ᵀ(M − λI) above
    /// (`relativeTolerance` × max(largest entry, |λ|))², so a Jordan block
    /// counts once however large its algebraic multiplicity.
    public func eigenspaceDimension(of eigenvalue: Double, relativeTolerance: Double = 1e-6) throws -> Int {
        var shifted = matrix
        for row in 0..<order { shifted[row * order + row] -= eigenvalue }
        var gram = [Double](repeating: 0, count: order * order)
        for row in 0..<order {
            for column in 0..<order {
                var sum = 0.0
                for k in 0..<order { sum += shifted[k * order + row] * shifted[k * order + column] }
                gram[row * order + column] = sum
            }
        }
        let scale = max(entryScale, abs(eigenvalue))
        let cutoff = pow(relativeTolerance * scale, 2)
        let values = try symmetricEigenvalues(of: gram, order: order)
        return values.filter { $0 <= cutoff }.count
    }

    /// JSON-compatible summary: eigenvalues as [real, imaginary] pairs with
    /// their vectors, and the symmetric part.
    public var jsonObject: [String: Any] {
        let values: [[Double]] = eigenpairs.map { [$0.real, $0.imaginary] }
        let vectors: [[String: Any]] = eigenpairs.map { pair in
            var entry: [String: Any] = ["real": pair.realVector]
            if let imaginaryVector = pair.imaginaryVector { entry["imaginary"] = imaginaryVector }
            return entry
        }
        return [
            "order": order,
            "matrix": matrix,
            "eigenvalues": values,
            "eigenvectors": vectors,
            "symmetric_part_eigenvalues": symmetricPartEigenvalues,
            "symmetric_part_eigenvectors": symmetricPartEigenvectors,
        ]
    }
}
