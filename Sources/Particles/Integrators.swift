/// Time integrator of the particle system.
public enum Integrator: String, Sendable, CaseIterable {
    /// One Transformer layer per step, explicit Euler then renormalization:
    /// x_i ← normalize(x_i + h y_i) with y_i the unprojected attention term
    /// (`ParticleModel.attentionDrift(of:)`). Projecting y_i first would give a
    /// different point at finite h, though both agree to first order in h.
    case layer
    /// Classical fourth-order Runge–Kutta on dx_i/dt = P⊥(x_i) y_i in R^d,
    /// with P⊥(x) v = v − ⟨x, v⟩ x at the stage points, and every token
    /// renormalized after each step.
    case rk4
}

extension ParticleModel {
    /// Advances the tokens by one step of size h.
    public func step(_ tokens: Tokens, integrator: Integrator, stepSize h: Double) throws -> Tokens {
        try checkDimension(of: tokens)
        guard h.isFinite, h > 0 else {
            throw ParticleError.invalidParameter(name: "step size", value: "\(h)",
                                                 expected: "a finite number > 0")
        }
        let sums = attentionSums(positions: tokens.positions, count: tokens.count, includeAverages: true)
        let next = try step(positions: tokens.positions, sumsAtStart: sums,
                            integrator: integrator, stepSize: h)
        return Tokens(unchecked: next, dimension: dimension)
    }

    /// Takes one step from `positions`, reusing the attention sums already
    /// computed there, and returns the renormalized (possibly non-finite)
    /// positions.
    func step(positions: [Double], sumsAtStart: AttentionSums, integrator: Integrator,
              stepSize h: Double) throws -> [Double] {
        let n = positions.count / dimension
        switch integrator {
        case .layer:
            let drift = try self.drift(from: sumsAtStart, count: n)
            var next = positions
            for index in next.indices { next[index] += h * drift[index] }
            normalizeRows(&next, dimension: dimension)
            return next

        case .rk4:
            var k1 = try drift(from: sumsAtStart, count: n)
            project(&k1, onto: positions)
            let k2 = try projectedVelocity(at: offset(positions, by: k1, scale: h / 2))
            let k3 = try projectedVelocity(at: offset(positions, by: k2, scale: h / 2))
            let k4 = try projectedVelocity(at: offset(positions, by: k3, scale: h))
            var next = positions
            let sixth = h / 6
            for index in next.indices {
                next[index] += sixth * ((k1[index] + k4[index]) + 2 * (k2[index] + k3[index]))
            }
            normalizeRows(&next, dimension: dimension)
            return next
        }
    }

    /// P⊥(y_i) applied to the drift at arbitrary (not necessarily unit) points.
    private func projectedVelocity(at points: [Double]) throws -> [Double] {
        let sums = attentionSums(positions: points, count: points.count / dimension, includeAverages: true)
        var velocity = try drift(from: sums, count: points.count / dimension)
        project(&velocity, onto: points)
        return velocity
    }

    private func offset(_ base: [Double], by direction: [Double], scale: Double) -> [Double] {
        var result = base
        for index in result.indices { result[index] += scale * direction[index] }
        return result
    }
}
