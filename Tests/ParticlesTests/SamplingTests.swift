import Foundation
import XCTest
@testable import Particles

/// I_ν(κ) / I_{ν−1}(κ) from its continued fraction
/// 1 / (2ν/κ + 1 / (2(ν+1)/κ + 1 / (2(ν+2)/κ + …))), evaluated from the tail.
func besselRatio(order nu: Double, argument kappa: Double) -> Double {
    var tail = 0.0
    for k in stride(from: 400, through: 0, by: -1) {
        tail = 1 / (2 * (nu + Double(k)) / kappa + tail)
    }
    return tail
}

final class SamplingTests: XCTestCase {
    func testBesselRatioMatchesClosedForms() {
        // d = 3: I_{3/2}/I_{1/2} = coth κ − 1/κ.
        XCTAssertEqual(besselRatio(order: 1.5, argument: 5), 1 / tanh(5) - 0.2, accuracy: 1e-14)
        XCTAssertEqual(besselRatio(order: 1.5, argument: 0.3), 1 / tanh(0.3) - 1 / 0.3, accuracy: 1e-14)
    }

    func testVonMisesFisherMeanResultantLength() throws {
        let cases: [(dimension: Int, kappa: Double)] = [(2, 1), (3, 5), (3, 0.5), (10, 20), (16, 300)]
        let count = 20_000
        for (dimension, kappa) in cases {
            var mean = [Double](repeating: 0, count: dimension)
            mean[0] = 1
            mean[dimension - 1] = -2
            let norm = (5.0).squareRoot()
            let direction = mean.map { $0 / norm }
            let tokens = try Tokens.sample(.vonMisesFisher(meanDirection: mean, concentration: kappa),
                                           count: count, dimension: dimension, seed: UInt64(dimension))
            let projections = (0..<count).map { i in
                (0..<dimension).reduce(0) { $0 + tokens.positions[i * dimension + $1] * direction[$1] }
            }
            let sampleMean = projections.reduce(0, +) / Double(count)
            let variance = projections.reduce(0) { $0 + ($1 - sampleMean) * ($1 - sampleMean) } / Double(count - 1)
            let standardError = (variance / Double(count)).squareRoot()
            let expected = besselRatio(order: Double(dimension) / 2, argument: kappa)
            XCTAssertEqual(sampleMean, expected, accuracy: 4 * standardError, "d = \(dimension), κ = \(kappa)")

            // The mean vector points along μ: its orthogonal part is sampling noise.
            let moments = try tokens.moments()
            XCTAssertEqual(moments.firstMomentNorm, sampleMean, accuracy: 5 / Double(count).squareRoot())
        }
    }

    func testUniformMeanShrinksLikeInverseSquareRoot() throws {
        for (count, seed) in [(1_000, UInt64(1)), (10_000, 2), (100_000, 3)] {
            let norm = try Tokens.sample(.uniform, count: count, dimension: 3, seed: seed).moments().firstMomentNorm
            let scaled = norm * Double(count).squareRoot()
            XCTAssertLessThan(scaled, 4, "n = \(count)")
            XCTAssertGreaterThan(scaled, 0.05, "n = \(count)")
        }
    }

    func testZeroConcentrationIsUniform() throws {
        let uniform = try Tokens.sample(.uniform, count: 100, dimension: 3, seed: 9)
        let vmf = try Tokens.sample(.vonMisesFisher(meanDirection: [0, 0, 1], concentration: 0),
                                    count: 100, dimension: 3, seed: 9)
        XCTAssertEqual(uniform, vmf)
    }

    func testMixtureWeights() throws {
        let north = TokenDistribution.vonMisesFisher(meanDirection: [0, 0, 1], concentration: 50)
        let south = TokenDistribution.vonMisesFisher(meanDirection: [0, 0, -1], concentration: 50)
        let count = 8_000
        let tokens = try Tokens.sample(
            .mixture([MixtureComponent(weight: 3, distribution: north),
                      MixtureComponent(weight: 1, distribution: south)]),
            count: count, dimension: 3, seed: 12)
        let northern = (0..<count).filter { tokens.positions[3 * $0 + 2] > 0 }.count
        let fraction = Double(northern) / Double(count)
        XCTAssertEqual(fraction, 0.75, accuracy: 4 * (0.75 * 0.25 / Double(count)).squareRoot())
    }

    func testSamplesAreReproducibleAndUnit() throws {
        let distribution = TokenDistribution.vonMisesFisher(meanDirection: [1, 1, 0, 0], concentration: 3)
        let first = try Tokens.sample(distribution, count: 500, dimension: 4, seed: 77)
        let second = try Tokens.sample(distribution, count: 500, dimension: 4, seed: 77)
        let other = try Tokens.sample(distribution, count: 500, dimension: 4, seed: 78)
        XCTAssertEqual(first, second)
        XCTAssertNotEqual(first, other)
        for i in 0..<first.count {
            let norm = first[i].reduce(0) { $0 + $1 * $1 }
            XCTAssertEqual(norm, 1, accuracy: 1e-14)
        }
    }

    func testSeededGeneratorStream() {
        // First outputs of SplitMix64 from seed 1234567, as published with the algorithm.
        var generator = SeededGenerator(seed: 1_234_567)
        XCTAssertEqual(generator.next(), 6_457_827_717_110_365_317)
        XCTAssertEqual(generator.next(), 3_203_168_211_198_807_973)
    }

    func testInvalidDistributionsThrow() {
        XCTAssertThrowsError(try Tokens.sample(.uniform, count: 0, dimension: 3, seed: 1))
        XCTAssertThrowsError(try Tokens.sample(.uniform, count: 10, dimension: 1, seed: 1))
        XCTAssertThrowsError(try Tokens.sample(.vonMisesFisher(meanDirection: [1, 0], concentration: 1),
                                               count: 10, dimension: 3, seed: 1))
        XCTAssertThrowsError(try Tokens.sample(.vonMisesFisher(meanDirection: [0, 0, 0], concentration: 1),
                                               count: 10, dimension: 3, seed: 1))
        XCTAssertThrowsError(try Tokens.sample(.vonMisesFisher(meanDirection: [0, 0, 1], concentration: -1),
                                               count: 10, dimension: 3, seed: 1))
        XCTAssertThrowsError(try Tokens.sample(.mixture([MixtureComponent(weight: 0, distribution: .uniform)]),
                                               count: 10, dimension: 3, seed: 1))
        XCTAssertThrowsError(try Tokens.sample(.mixture([]), count: 10, dimension: 3, seed: 1))
    }
}
