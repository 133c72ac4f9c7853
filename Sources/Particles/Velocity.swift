import Foundation

extension ParticleModel {
    /// Attention term of one Transformer layer for every token, row-major n×d:
    /// y_i = Σ_j P_ij V x_j with P_ij = softmax_j(β⟨Q x_i, K x_j⟩) (softmax),
    /// or y_i = (1/n) Σ_j exp(β⟨Q x_i, K x_j⟩) V x_j (unnormalized).
    /// No projection is applied. Throws `ParticleError.overflow` when an
    /// unnormalized term exceeds the doubles.
    public func attentionDrift(of tokens: Tokens) throws -> [Double] {
        try checkDimension(of: tokens)
        let sums = attentionSums(positions: tokens.positions, count: tokens.count, includeAverages: true)
        return try drift(from: sums, count: tokens.count)
    }

    /// Velocity X_i = P⊥(x_i) y_i of every token, row-major n×d, with y_i
    /// from `attentionDrift(of:)` and P⊥(x) = I − x xᵀ.
    public func velocity(of tokens: Tokens) throws -> [Double] {
        try checkDimension(of: tokens)
        let sums = attentionSums(positions: tokens.positions, count: tokens.count, includeAverages: true)
        var result = try drift(from: sums, count: tokens.count)
        project(&result, onto: tokens.positions)
        return result
    }

    /// Unprojected drift y from the row sums. Softmax uses the averages as they
    /// are. Unnormalized scales row i by exp(L_i − log n), formed from the log
    /// so that only a true overflow of the result fails.
    func drift(from sums: AttentionSums, count n: Int) throws -> [Double] {
        var result = sums.averages
        guard normalization == .unnormalized else {
            try checkFinite(result, quantity: "softmax velocity")
            return result
        }
        let d = dimension
        let logCount = log(Double(n))
        for i in 0..<n {
            let logScale = sums.logRowSums[i] - logCount
            let scale = exp(logScale)
            for k in 0..<d {
                let term = result[i * d + k]
                if term == 0 { continue }
                // exp(logScale) can overflow while the product still fits.
                let value = scale.isFinite ? term * scale : term * exp(logScale - 700) * exp(700)
                guard value.isFinite || term.isNaN else {
                    throw ParticleError.overflow(
                        quantity: "unnormalized velocity",
                        detail: "token \(i) has mean attention weight e^\(sums.logRowSums[i] - logCount), beyond double precision; "
                            + "unnormalized velocities grow like e^{β‖QᵀK‖}, and a step that is long against that "
                            + "scale lets Runge–Kutta stages leave the sphere, so lower the particle step, β or "
                            + "the norm of QᵀK, or use softmax normalization")
                }
                result[i * d + k] = value
            }
        }
        try checkFinite(result, quantity: "unnormalized velocity")
        return result
    }

    private func checkFinite(_ values: [Double], quantity: String) throws {
        if let index = values.firstIndex(where: { !$0.isFinite }) {
            throw ParticleError.overflow(
                quantity: quantity,
                detail: "component \(index % dimension) of token \(index / dimension) is \(values[index])")
        }
    }

    /// Replaces each row v_i by v_i − ⟨y_i, v_i⟩ y_i with y_i the matching row
    /// of `points`, which is P⊥(y_i) v_i when |y_i| = 1.
    func project(_ vectors: inout [Double], onto points: [Double]) {
        let d = dimension
        let n = points.count / d
        vectors.withUnsafeMutableBufferPointer { v in
            points.withUnsafeBufferPointer { y in
                for i in 0..<n {
                    var radial = 0.0
                    for k in 0..<d { radial += v[i * d + k] * y[i * d + k] }
                    for k in 0..<d { v[i * d + k] -= radial * y[i * d + k] }
                }
            }
        }
    }
}
