import Foundation
@testable import Particles

/// Direct O(n²) evaluation of the attention velocity, written from the
/// formulas with plain loops, as the reference for the blocked BLAS version.
/// Scores are shifted by each row's maximum, so large β stays finite.
func naiveVelocity(model: ParticleModel, tokens: Tokens, projected: Bool = true) -> [Double] {
    let d = model.dimension
    let n = tokens.count
    let x = tokens.positions
    func apply(_ matrix: [Double], _ i: Int) -> [Double] {
        (0..<d).map { row in (0..<d).reduce(0) { $0 + matrix[row * d + $1] * x[i * d + $1] } }
    }
    let qx = (0..<n).map { apply(model.query, $0) }
    let kx = (0..<n).map { apply(model.key, $0) }
    let vx = (0..<n).map { apply(model.value, $0) }
    var result = [Double](repeating: 0, count: n * d)
    for i in 0..<n {
        var scores = [Double](repeating: 0, count: n)
        for j in 0..<n {
            var dot = 0.0
            for k in 0..<d { dot += qx[i][k] * kx[j][k] }
            scores[j] = model.beta * dot
        }
        let maximum = scores.max()!
        var sum = 0.0
        var weighted = [Double](repeating: 0, count: d)
        for j in 0..<n {
            let weight = exp(scores[j] - maximum)
            sum += weight
            for k in 0..<d { weighted[k] += weight * vx[j][k] }
        }
        let scale = model.normalization == .softmax ? 1 / sum : exp(maximum) / Double(n)
        var y = weighted.map { $0 * scale }
        if projected {
            let radial = (0..<d).reduce(0) { $0 + y[$1] * x[i * d + $1] }
            for k in 0..<d { y[k] -= radial * x[i * d + k] }
        }
        for k in 0..<d { result[i * d + k] = y[k] }
    }
    return result
}

/// Largest |a − b| over all entries divided by the largest |b|.
func relativeDifference(_ a: [Double], _ b: [Double]) -> Double {
    precondition(a.count == b.count)
    let scale = b.map { abs($0) }.max() ?? 0
    let difference = zip(a, b).map { abs($0 - $1) }.max() ?? 0
    return difference / max(scale, .leastNormalMagnitude)
}

/// Deterministic tokens for tests: normalized Gaussians from a fixed seed.
func gaussianTokens(count: Int, dimension: Int, seed: UInt64) -> Tokens {
    var generator = SeededGenerator(seed: seed)
    let values = (0..<(count * dimension)).map { _ in generator.nextNormal() }
    return try! Tokens(dimension: dimension, positions: values)
}
