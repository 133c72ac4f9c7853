import Foundation
import XCTest
@testable import Particles

/// Runs only with MEANFIELD_SLOW_TESTS=1.
final class LargeSystemTests: XCTestCase {
    func testVelocityAtFiftyThousandTokens() throws {
        try XCTSkipUnless(ProcessInfo.processInfo.environment["MEANFIELD_SLOW_TESTS"] == "1",
                          "set MEANFIELD_SLOW_TESTS=1 to run")
        let n = 50_000
        let tokens = try Tokens.sample(.uniform, count: n, dimension: 3, seed: 50)
        let model = try ParticleModel(dimension: 3, beta: 4, value: .random(seed: 51))
        let velocity = try model.velocity(of: tokens)
        XCTAssertEqual(velocity.count, n * 3)
        XCTAssertTrue(velocity.allSatisfy { $0.isFinite })

        // Spot-check a few rows against a direct sum over all n sources.
        for i in [0, 12_345, n - 1] {
            let x = tokens[i]
            let scores = (0..<n).map { j in model.beta * (0..<3).reduce(0) { $0 + x[$1] * tokens.positions[j * 3 + $1] } }
            let maximum = scores.max()!
            var weighted = [0.0, 0.0, 0.0]
            var sum = 0.0
            for j in 0..<n {
                let weight = exp(scores[j] - maximum)
                sum += weight
                for row in 0..<3 {
                    for column in 0..<3 {
                        weighted[row] += weight * model.value[row * 3 + column] * tokens.positions[j * 3 + column]
                    }
                }
            }
            var y = weighted.map { $0 / sum }
            let radial = (0..<3).reduce(0) { $0 + y[$1] * x[$1] }
            for k in 0..<3 { y[k] -= radial * x[k] }
            for k in 0..<3 {
                XCTAssertEqual(velocity[i * 3 + k], y[k], accuracy: 1e-12 * max(1, abs(y[k])))
            }
        }
    }
}
