import Foundation

/// A law for initial tokens on S^{d−1}.
public enum TokenDistribution: Sendable, Equatable {
    /// Uniform on the sphere: normalized standard Gaussian vectors.
    case uniform
    /// Von Mises–Fisher with density ∝ exp(κ⟨μ, x⟩). The mean direction is
    /// normalized, and κ = 0 is the uniform law.
    case vonMisesFisher(meanDirection: [Double], concentration: Double)
    /// Each token picks a component with probability proportional to its
    /// weight, then draws from it.
    case mixture([MixtureComponent])
}

/// One weighted component of `TokenDistribution.mixture`.
public struct MixtureComponent: Sendable, Equatable {
    public var weight: Double
    public var distribution: TokenDistribution

    public init(weight: Double, distribution: TokenDistribution) {
        self.weight = weight
        self.distribution = distribution
    }
}

extension Tokens {
    /// Draws `count` tokens in dimension d from `SeededGenerator(seed:)`. The
    /// same arguments give the same tokens. Throws for count < 1, d < 2, a
    /// mean direction of the wrong length, zero or non-finite, κ negative or
    /// non-finite, or mixture weights that are negative, non-finite or all 0.
    public static func sample(_ distribution: TokenDistribution, count: Int, dimension: Int,
                              seed: UInt64) throws -> Tokens {
        guard count >= 1 else {
            throw ParticleError.invalidParameter(name: "token count", value: "\(count)",
                                                 expected: "an integer ≥ 1")
        }
        guard dimension >= 2 else {
            throw ParticleError.invalidParameter(name: "dimension", value: "\(dimension)",
                                                 expected: "an integer d ≥ 2")
        }
        let sampler = try TokenSampler(distribution, dimension: dimension)
        var generator = SeededGenerator(seed: seed)
        var positions = [Double]()
        positions.reserveCapacity(count * dimension)
        for _ in 0..<count {
            positions.append(contentsOf: sampler.draw(using: &generator))
        }
        return Tokens(unchecked: positions, dimension: dimension)
    }
}

/// A validated distribution, ready to draw from.
private indirect enum TokenSampler {
    case uniform(dimension: Int)
    case vonMisesFisher(mean: [Double], concentration: Double)
    case mixture(cumulativeWeights: [Double], components: [TokenSampler])

    init(_ distribution: TokenDistribution, dimension d: Int) throws {
        switch distribution {
        case .uniform:
            self = .uniform(dimension: d)
        case let .vonMisesFisher(meanDirection, concentration):
            guard meanDirection.count == d else {
                throw ParticleError.invalidParameter(
                    name: "von Mises–Fisher mean direction length", value: "\(meanDirection.count)",
                    expected: "the dimension \(d)")
            }
            let norm = meanDirection.reduce(0) { $0 + $1 * $1 }.squareRoot()
            guard norm.isFinite, norm > 0 else {
                throw ParticleError.invalidParameter(
                    name: "von Mises–Fisher mean direction", value: "\(meanDirection)",
                    expected: "a finite nonzero vector")
            }
            guard concentration.isFinite, concentration >= 0 else {
                throw ParticleError.invalidParameter(
                    name: "von Mises–Fisher concentration κ", value: "\(concentration)",
                    expected: "a finite number ≥ 0")
            }
            self = concentration == 0
                ? .uniform(dimension: d)
                : .vonMisesFisher(mean: meanDirection.map { $0 / norm }, concentration: concentration)
        case let .mixture(components):
            guard !components.isEmpty,
                  components.allSatisfy({ $0.weight.isFinite && $0.weight >= 0 }),
                  components.contains(where: { $0.weight > 0 }) else {
                throw ParticleError.invalidParameter(
                    name: "mixture weights", value: "\(components.map(\.weight))",
                    expected: "finite weights ≥ 0, at least one of them > 0")
            }
            let total = components.reduce(0) { $0 + $1.weight }
            var running = 0.0
            let cumulative = components.map { component -> Double in
                running += component.weight / total
                return running
            }
            self = .mixture(cumulativeWeights: cumulative,
                            components: try components.map { try TokenSampler($0.distribution, dimension: d) })
        }
    }

    func draw(using generator: inout SeededGenerator) -> [Double] {
        switch self {
        case let .uniform(dimension):
            return uniformPoint(dimension: dimension, using: &generator)
        case let .vonMisesFisher(mean, concentration):
            return vonMisesFisherPoint(mean: mean, concentration: concentration, using: &generator)
        case let .mixture(cumulativeWeights, components):
            let u = generator.nextUniform()
            let index = cumulativeWeights.firstIndex(where: { u < $0 }) ?? components.count - 1
            return components[index].draw(using: &generator)
        }
    }
}

private func uniformPoint(dimension: Int, using generator: inout SeededGenerator) -> [Double] {
    while true {
        let g = (0..<dimension).map { _ in generator.nextNormal() }
        let norm = g.reduce(0) { $0 + $1 * $1 }.squareRoot()
        if norm > 0 { return g.map { $0 / norm } }
    }
}

/// Draws from the von Mises–Fisher law on S^{d−1} by the rejection sampler of
/// A. T. A. Wood, "Simulation of the von Mises Fisher distribution",
/// Communications in Statistics – Simulation and Computation 23 (1994).
///
/// The component w = ⟨x, μ⟩ has density ∝ e^{κw} (1 − w²)^{(d−3)/2}. With
/// b = (d−1) / (2κ + √(4κ² + (d−1)²)), x0 = (1−b)/(1+b) and
/// c = κ x0 + (d−1) log(1 − x0²), draw z ~ Beta((d−1)/2, (d−1)/2) and
/// w = (1 − (1+b) z) / (1 − (1−b) z), and accept when
/// κ w + (d−1) log(1 − x0 w) − c ≥ log u for u uniform. The tangent part is a
/// uniform unit vector orthogonal to μ. Here 1 − w = 2bz / (1 − (1−b) z) is
/// formed directly, so √(1 − w²) keeps its accuracy at large κ.
private func vonMisesFisherPoint(mean: [Double], concentration kappa: Double,
                                 using generator: inout SeededGenerator) -> [Double] {
    let d = mean.count
    let m = Double(d - 1)
    let b = m / (2 * kappa + (4 * kappa * kappa + m * m).squareRoot())
    let x0 = (1 - b) / (1 + b)
    let c = kappa * x0 + m * log(1 - x0 * x0)

    var w = 0.0
    var oneMinusW = 0.0
    while true {
        let z = generator.nextBeta(m / 2, m / 2)
        let denominator = 1 - (1 - b) * z
        w = (1 - (1 + b) * z) / denominator
        oneMinusW = 2 * b * z / denominator
        let u = generator.nextUniform()
        if kappa * w + m * log(1 - x0 * w) - c >= log(u) { break }
    }

    // Uniform direction orthogonal to μ: a Gaussian with its μ-part removed.
    var tangent = [Double](repeating: 0, count: d)
    var tangentNorm = 0.0
    while tangentNorm == 0 {
        let g = (0..<d).map { _ in generator.nextNormal() }
        let along = zip(g, mean).reduce(0) { $0 + $1.0 * $1.1 }
        tangent = zip(g, mean).map { $0 - along * $1 }
        tangentNorm = tangent.reduce(0) { $0 + $1 * $1 }.squareRoot()
    }
    let sine = (oneMinusW * (2 - oneMinusW)).squareRoot()
    var point = (0..<d).map { w * mean[$0] + sine * tangent[$0] / tangentNorm }
    // Remove the round-off drift from unit length.
    let norm = point.reduce(0) { $0 + $1 * $1 }.squareRoot()
    for k in 0..<d { point[k] /= norm }
    return point
}
