import XCTest
@testable import Particles

final class VelocityTests: XCTestCase {
    func testVelocityMatchesNaiveLoopForBothNormalizations() throws {
        let tokens = gaussianTokens(count: 300, dimension: 4, seed: 11)
        for method in AttentionMethod.allCases {
            for normalization in Normalization.allCases {
                // Small blocks and two workers so several blocks and both threads run.
                let model = try ParticleModel(
                    dimension: 4, beta: 1.3, query: .random(seed: 1), key: .random(seed: 2),
                    value: .random(seed: 3), normalization: normalization,
                    evaluation: EvaluationOptions(blockRows: 37, workerCount: 2, method: method))
                let fast = try model.velocity(of: tokens)
                let reference = naiveVelocity(model: model, tokens: tokens)
                XCTAssertLessThan(relativeDifference(fast, reference), 1e-12, "\(method), \(normalization)")
            }
        }
    }

    func testMethodsAgreeAcrossDimensions() throws {
        // d = 5 and d = 33 pad the value components to a multiple of four,
        // and n = 61 pads the columns to a multiple of 16.
        for d in [2, 3, 5, 16, 33] {
            let tokens = gaussianTokens(count: 61, dimension: d, seed: UInt64(d))
            var velocities: [AttentionMethod: [Double]] = [:]
            for method in [AttentionMethod.fusedRows, .blasBlocks] {
                let model = try ParticleModel(
                    dimension: d, beta: 2.5, query: .random(seed: 7), key: .random(seed: 8),
                    value: .random(seed: 9), evaluation: EvaluationOptions(blockRows: 6, method: method))
                velocities[method] = try model.velocity(of: tokens)
                let reference = naiveVelocity(model: model, tokens: tokens)
                XCTAssertLessThan(relativeDifference(velocities[method]!, reference), 1e-12, "d = \(d), \(method)")
            }
        }
    }

    func testAttentionDriftIsUnprojected() throws {
        let tokens = gaussianTokens(count: 120, dimension: 3, seed: 5)
        let model = try ParticleModel(dimension: 3, beta: 2, value: .random(seed: 9))
        let drift = try model.attentionDrift(of: tokens)
        let reference = naiveVelocity(model: model, tokens: tokens, projected: false)
        XCTAssertLessThan(relativeDifference(drift, reference), 1e-12)
    }

    func testSoftmaxAtLargeBetaStaysFinite() throws {
        let tokens = gaussianTokens(count: 200, dimension: 3, seed: 21)
        for method in AttentionMethod.allCases {
            let model = try ParticleModel(dimension: 3, beta: 1000, query: .random(seed: 4),
                                          key: .random(seed: 5), value: .random(seed: 6),
                                          evaluation: EvaluationOptions(method: method))
            let fast = try model.velocity(of: tokens)
            XCTAssertTrue(fast.allSatisfy { $0.isFinite }, "\(method)")
            let reference = naiveVelocity(model: model, tokens: tokens)
            XCTAssertLessThan(relativeDifference(fast, reference), 1e-12, "\(method)")
        }
    }

    func testUnnormalizedOverflowThrows() throws {
        let tokens = gaussianTokens(count: 50, dimension: 3, seed: 2)
        let model = try ParticleModel(dimension: 3, beta: 1000, normalization: .unnormalized)
        XCTAssertThrowsError(try model.velocity(of: tokens)) { error in
            guard case ParticleError.overflow = error else {
                return XCTFail("expected an overflow error, got \(error)")
            }
        }
    }

    func testUnnormalizedLargeButFiniteVelocity() throws {
        // e^{β} with β = 705 is finite, and the row sums carry it in log form.
        // The unprojected drift is compared, because projecting cancels
        // the e^705 radial part down to round-off.
        let tokens = try Tokens(dimension: 3, positions: [1, 0, 0, 0.6, 0.8, 0])
        let model = try ParticleModel(dimension: 3, beta: 705, normalization: .unnormalized)
        let fast = try model.attentionDrift(of: tokens)
        let reference = naiveVelocity(model: model, tokens: tokens, projected: false)
        XCTAssertTrue(fast.allSatisfy { $0.isFinite })
        XCTAssertLessThan(relativeDifference(fast, reference), 1e-12)
    }

    func testInvalidModelParametersThrow() {
        XCTAssertThrowsError(try ParticleModel(dimension: 1, beta: 1))
        XCTAssertThrowsError(try ParticleModel(dimension: 3, beta: 0))
        XCTAssertThrowsError(try ParticleModel(dimension: 3, beta: .infinity))
        XCTAssertThrowsError(try ParticleModel(dimension: 3, beta: 1, value: .explicit([1, 2, 3])))
        XCTAssertThrowsError(try ParticleModel(dimension: 2, beta: 1, key: .explicit([1, .nan, 0, 1])))
    }

    func testRandomMatrixIsReproducible() throws {
        let first = try MatrixSource.random(seed: 42).matrix(dimension: 16, name: "V")
        let second = try MatrixSource.random(seed: 42).matrix(dimension: 16, name: "V")
        XCTAssertEqual(first, second)
        // Entries are N(0, 1/d), so the mean square is near 1/d = 1/16.
        let meanSquare = first.reduce(0) { $0 + $1 * $1 } / Double(first.count)
        XCTAssertEqual(meanSquare, 1.0 / 16, accuracy: 0.02)
    }
}
