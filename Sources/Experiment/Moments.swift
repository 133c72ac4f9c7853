import Foundation
import LinearAlgebra

/// First and second moments of a probability measure on S^2, and the
/// effective rank of the second moment.
///
/// m = ∫ x dμ and Σ = ∫ x xᵀ dμ (trace 1 for a probability measure). The
/// effective rank is exp(−Σ_k p_k log p_k) with p_k = λ_k / Σ λ: 1 when all
/// mass lies on one line (one cluster or an antipodal pair), 2 on a great
/// circle, 3 for a spread state.
public struct MomentSummary: Equatable {
    public var firstMoment: SIMD3<Double>
    /// Eigenvalues of Σ in descending order.
    public var secondMomentEigenvalues: [Double]
    public var effectiveRank: Double

    public var firstMomentNorm: Double {
        (firstMoment * firstMoment).sum().squareRoot()
    }

    /// Moments of the measure with masses `masses[i]` at unit vectors `points[i]`.
    public init(points: [SIMD3<Double>], masses: [Double]) throws {
        precondition(points.count == masses.count, "one mass per point")
        var first = SIMD3<Double>(repeating: 0)
        var second = [Double](repeating: 0, count: 9)
        for (x, mass) in zip(points, masses) {
            first += mass * x
            for row in 0..<3 {
                for column in row..<3 { second[3 * row + column] += mass * x[row] * x[column] }
            }
        }
        firstMoment = first
        let values = try symmetricEigenvalues(of: second, order: 3).reversed().map { max($0, 0) }
        secondMomentEigenvalues = values
        effectiveRank = LinearAlgebra.effectiveRank(eigenvalues: values)
    }
}
