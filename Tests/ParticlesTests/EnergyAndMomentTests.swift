import Foundation
import XCTest
@testable import Particles

final class EnergyAndMomentTests: XCTestCase {
    func testEnergyMatchesDirectSum() throws {
        let tokens = gaussianTokens(count: 150, dimension: 4, seed: 8)
        let model = try ParticleModel(dimension: 4, beta: 2.5, query: .random(seed: 1), key: .random(seed: 2),
                                      evaluation: EvaluationOptions(blockRows: 16))
        let a = model.interaction
        var total = 0.0
        var diagonal = 0.0
        for i in 0..<tokens.count {
            for j in 0..<tokens.count {
                var score = 0.0
                for row in 0..<4 {
                    for column in 0..<4 {
                        score += tokens.positions[i * 4 + row] * a[row * 4 + column] * tokens.positions[j * 4 + column]
                    }
                }
                total += exp(model.beta * score)
                if i == j { diagonal += exp(model.beta * score) }
            }
        }
        let normalizer = 2 * model.beta * Double(tokens.count * tokens.count)
        let energy = try model.energy(of: tokens)
        XCTAssertEqual(energy.energy, total / normalizer, accuracy: 1e-12 * total / normalizer)
        XCTAssertEqual(energy.selfInteraction, diagonal / normalizer, accuracy: 1e-12 * diagonal / normalizer)
        XCTAssertEqual(energy.energyWithoutSelfInteraction, (total - diagonal) / normalizer,
                       accuracy: 1e-12 * total / normalizer)
    }

    func testEnergyOfOnePoint() throws {
        let beta = 3.0
        let tokens = try Tokens(dimension: 3, positions: Array(repeating: [0.0, 0.6, 0.8], count: 40).flatMap { $0 })
        let energy = try ParticleModel(dimension: 3, beta: beta).energy(of: tokens)
        XCTAssertEqual(energy.energy, exp(beta) / (2 * beta), accuracy: 1e-14 * exp(beta))
        XCTAssertEqual(energy.selfInteraction, exp(beta) / (2 * beta * 40), accuracy: 1e-14 * exp(beta))
    }

    func testEnergyOfAntipodalGroups() throws {
        let beta = 2.0
        let up: [Double] = Array(repeating: [1.0, 0, 0], count: 25).flatMap { $0 }
        let down: [Double] = Array(repeating: [-1.0, 0, 0], count: 25).flatMap { $0 }
        let tokens = try Tokens(dimension: 3, positions: up + down)
        let energy = try ParticleModel(dimension: 3, beta: beta).energy(of: tokens)
        XCTAssertEqual(energy.energy, cosh(beta) / (2 * beta), accuracy: 1e-14 * cosh(beta))
    }

    func testEnergyAtLargeBetaStaysInLogForm() throws {
        let tokens = try Tokens(dimension: 3, positions: [0, 0, 1, 0, 0, 1])
        let energy = try ParticleModel(dimension: 3, beta: 1000).energy(of: tokens)
        XCTAssertEqual(energy.logEnergy, 1000 - log(2000.0), accuracy: 1e-12 * 1000)
        XCTAssertEqual(energy.logSelfInteraction, 1000 - log(4000.0), accuracy: 1e-12 * 1000)
        XCTAssertEqual(energy.energy, .infinity)
        XCTAssertEqual(energy.energyWithoutSelfInteraction, .infinity, "half of an overflowing energy overflows")
    }

    func testEnergyWithoutSelfInteractionOfOneOverflowingToken() throws {
        // One token: E = S, both +inf at β = 1000, and E − S is exactly 0.
        let tokens = try Tokens(dimension: 3, positions: [0, 0, 1])
        let energy = try ParticleModel(dimension: 3, beta: 1000).energy(of: tokens)
        XCTAssertEqual(energy.energy, .infinity)
        XCTAssertEqual(energy.energyWithoutSelfInteraction, 0)
    }

    func testEnergyNeverDecreasesAlongRK4() throws {
        let initial = try Tokens.sample(.uniform, count: 200, dimension: 3, seed: 17)
        for normalization in Normalization.allCases {
            let model = try ParticleModel(dimension: 3, beta: 1, normalization: normalization)
            let simulation = try ParticleSimulation(model: model, tokens: initial, integrator: .rk4, stepSize: 0.02)
            var previous: Double?
            var worstDrop = -Double.infinity
            try simulation.run(until: 4) { observation in
                if let previous {
                    worstDrop = max(worstDrop, (previous - observation.energy.energy) / previous)
                }
                previous = observation.energy.energy
            }
            XCTAssertEqual(simulation.step, 200)
            XCTAssertLessThan(worstDrop, 1e-12, "\(normalization)")
        }
    }

    func testMomentsOfOnePointAndAntipodalPair() throws {
        let point = try Tokens(dimension: 3, positions: Array(repeating: [0.0, 0.6, 0.8], count: 10).flatMap { $0 })
        let pointMoments = try point.moments()
        XCTAssertEqual(pointMoments.firstMomentNorm, 1, accuracy: 1e-14)
        XCTAssertEqual(pointMoments.effectiveRank, 1, accuracy: 1e-9)
        XCTAssertEqual(pointMoments.secondMomentEigenvalues[0], 1, accuracy: 1e-14)

        let pair = try Tokens(dimension: 4, positions: [0.5, 0.5, 0.5, 0.5, -0.5, -0.5, -0.5, -0.5])
        let pairMoments = try pair.moments()
        XCTAssertEqual(pairMoments.firstMomentNorm, 0, accuracy: 1e-15)
        XCTAssertEqual(pairMoments.effectiveRank, 1, accuracy: 1e-9)
    }

    func testEffectiveRankOfGreatCircle() throws {
        let count = 64
        var positions: [Double] = []
        for k in 0..<count {
            let angle = 2 * Double.pi * Double(k) / Double(count)
            positions += [cos(angle) * 0.6, sin(angle), cos(angle) * 0.8]
        }
        let moments = try Tokens(dimension: 3, positions: positions).moments()
        XCTAssertEqual(moments.effectiveRank, 2, accuracy: 1e-12)
        XCTAssertEqual(moments.firstMomentNorm, 0, accuracy: 1e-14)
        let trace = moments.secondMoment[0] + moments.secondMoment[4] + moments.secondMoment[8]
        XCTAssertEqual(trace, 1, accuracy: 1e-14)
    }

    func testEffectiveRankOfUniformSampleApproachesDimension() throws {
        for dimension in [3, 6] {
            let tokens = try Tokens.sample(.uniform, count: 40_000, dimension: dimension, seed: 5)
            let moments = try tokens.moments()
            XCTAssertEqual(moments.effectiveRank, Double(dimension), accuracy: 0.01 * Double(dimension))
            let eigenvalues = moments.secondMomentEigenvalues
            XCTAssertEqual(eigenvalues.reduce(0, +), 1, accuracy: 1e-12)
            XCTAssertGreaterThanOrEqual(eigenvalues[0], eigenvalues[dimension - 1])
        }
    }
}
