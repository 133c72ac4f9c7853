import Foundation

/// Interaction energy E_β = (1/(2βn²)) Σ_{i,j} exp(β⟨x_i, A x_j⟩), A = Qᵀ K,
/// with its diagonal part S = (1/(2βn²)) Σ_i exp(β⟨x_i, A x_i⟩), both kept
/// as logarithms because they overflow for large β‖A‖.
public struct InteractionEnergy: Sendable, Equatable {
    /// log E_β.
    public let logEnergy: Double
    /// log S.
    public let logSelfInteraction: Double

    /// E_β, +inf when it exceeds the doubles.
    public var energy: Double { exp(logEnergy) }
    /// S, the i = j terms of E_β, +inf when it exceeds the doubles.
    public var selfInteraction: Double { exp(logSelfInteraction) }
    /// E_β − S, the energy that a density without atoms would have,
    /// computed as exp(log E_β + log(1 − e^{log S − log E_β})) so that it is
    /// 0, not NaN, when S = E_β overflows, and +inf only when E_β − S does.
    public var energyWithoutSelfInteraction: Double {
        let fraction = -expm1(logSelfInteraction - logEnergy)
        if fraction == 0 { return 0 }
        return exp(logEnergy + log(fraction))
    }
}

extension ParticleModel {
    /// Interaction energy of the tokens, evaluated in row blocks by
    /// log-sum-exp like the velocity.
    public func energy(of tokens: Tokens) throws -> InteractionEnergy {
        try checkDimension(of: tokens)
        let sums = attentionSums(positions: tokens.positions, count: tokens.count, includeAverages: false)
        return energy(from: sums, positions: tokens.positions)
    }

    func energy(from sums: AttentionSums, positions: [Double]) -> InteractionEnergy {
        let d = dimension
        let n = positions.count / d
        let normalizer = log(2 * beta) + 2 * log(Double(n))
        let a = interaction
        var diagonal = [Double](repeating: 0, count: n)
        for i in 0..<n {
            var score = 0.0
            for row in 0..<d {
                var ax = 0.0
                for column in 0..<d { ax += a[row * d + column] * positions[i * d + column] }
                score += positions[i * d + row] * ax
            }
            diagonal[i] = beta * score
        }
        return InteractionEnergy(logEnergy: logSumExp(sums.logRowSums) - normalizer,
                                 logSelfInteraction: logSumExp(diagonal) - normalizer)
    }
}

/// Computes log Σ_k e^{values_k} shifted by the maximum, or NaN if any value is NaN.
func logSumExp(_ values: [Double]) -> Double {
    guard let maximum = values.max() else { return -.infinity }
    if values.contains(where: { $0.isNaN }) { return .nan }
    guard maximum.isFinite else { return maximum }
    var sum = 0.0
    for value in values { sum += exp(value - maximum) }
    return maximum + log(sum)
}
