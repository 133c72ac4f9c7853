import Foundation
import LinearAlgebra

/// First and second moments of the empirical measure of the tokens.
public struct TokenMoments: Sendable, Equatable {
    /// m = (1/n) Σ_i x_i.
    public let firstMoment: [Double]
    /// Σ = (1/n) Σ_i x_i x_iᵀ, row-major d×d, trace 1 for unit tokens.
    public let secondMoment: [Double]
    /// Eigenvalues of Σ in descending order (LAPACK dsyev).
    public let secondMomentEigenvalues: [Double]

    /// |m|: 1 when all tokens coincide, about n^{-1/2} for a uniform sample.
    public var firstMomentNorm: Double {
        firstMoment.reduce(0) { $0 + $1 * $1 }.squareRoot()
    }

    /// exp(−Σ_k p_k log p_k) with p_k = λ_k / Σ λ, negative round-off
    /// eigenvalues set to 0 and 0 log 0 = 0. It is 1 for tokens on one line
    /// (one point or an antipodal pair), 2 on a great circle and d for a
    /// spread state.
    public var effectiveRank: Double {
        LinearAlgebra.effectiveRank(eigenvalues: secondMomentEigenvalues)
    }
}

extension Tokens {
    /// Computes m and Σ, the latter as (1/n) Xᵀ X by dgemm.
    public func moments() throws -> TokenMoments {
        let d = dimension
        let n = count
        var first = [Double](repeating: 0, count: d)
        for i in 0..<n {
            for k in 0..<d { first[k] += positions[i * d + k] }
        }
        for k in 0..<d { first[k] /= Double(n) }

        var second = [Double](repeating: 0, count: d * d)
        positions.withUnsafeBufferPointer { x in
            second.withUnsafeMutableBufferPointer { s in
                matrixMultiply(x.baseAddress!, transposeA: true, leadingA: d,
                               x.baseAddress!, leadingB: d, into: s.baseAddress!, leadingC: d,
                               m: d, n: d, k: n, alpha: 1 / Double(n))
            }
        }
        let eigenvalues = try symmetricEigenvalues(of: second, order: d)
        return TokenMoments(firstMoment: first, secondMoment: second,
                            secondMomentEigenvalues: eigenvalues.reversed())
    }
}
