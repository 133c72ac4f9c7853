import Foundation
import XCTest
@testable import Particles

final class DynamicsTests: XCTestCase {
    func testSmallBetaEndsInOneCluster() throws {
        let model = try ParticleModel(dimension: 3, beta: 1)
        let tokens = try Tokens.sample(.uniform, count: 200, dimension: 3, seed: 2024)
        let simulation = try ParticleSimulation(model: model, tokens: tokens, integrator: .rk4, stepSize: 0.1)
        try simulation.run(until: 20)
        let observation = try simulation.observe()
        XCTAssertGreaterThan(observation.firstMomentNorm, 0.99)
        XCTAssertEqual(try simulation.tokens.clusters().count, 1)
    }

    func testLargeBetaKeepsSeveralClusters() throws {
        let model = try ParticleModel(dimension: 3, beta: 9)
        let tokens = try Tokens.sample(.uniform, count: 200, dimension: 3, seed: 2024)
        let simulation = try ParticleSimulation(model: model, tokens: tokens, integrator: .rk4, stepSize: 0.05)
        try simulation.run(until: 5)
        let clusters = try simulation.tokens.clusters()
        let large = clusters.filter { $0.size >= 5 }
        XCTAssertGreaterThanOrEqual(large.count, 3, "cluster sizes \(clusters.map(\.size))")
        XCTAssertLessThan(try simulation.observe().firstMomentNorm, 0.9)
    }

    func testLayerConvergesToRK4AtFirstOrder() throws {
        let model = try ParticleModel(dimension: 3, beta: 1.5, query: .random(seed: 31), key: .random(seed: 32),
                                      value: .random(seed: 33))
        let tokens = try Tokens.sample(.uniform, count: 60, dimension: 3, seed: 34)
        let endTime = 1.0
        let reference = try ParticleSimulation(model: model, tokens: tokens, integrator: .rk4, stepSize: 1e-3)
        try reference.run(until: endTime)

        var errors: [Double] = []
        for h in [0.02, 0.01, 0.005] {
            let layer = try ParticleSimulation(model: model, tokens: tokens, integrator: .layer, stepSize: h)
            try layer.run(until: endTime)
            XCTAssertEqual(layer.time, endTime)
            errors.append(zip(layer.tokens.positions, reference.tokens.positions).map { abs($0 - $1) }.max()!)
        }
        for k in 0..<2 {
            let order = log2(errors[k] / errors[k + 1])
            XCTAssertGreaterThanOrEqual(order, 0.8, "errors \(errors)")
            XCTAssertLessThanOrEqual(order, 1.2, "errors \(errors)")
        }
    }

    func testRK4ConvergesAtFourthOrder() throws {
        let model = try ParticleModel(dimension: 3, beta: 1.5, query: .random(seed: 41), key: .random(seed: 42),
                                      value: .random(seed: 43), normalization: .unnormalized)
        let tokens = try Tokens.sample(.uniform, count: 40, dimension: 3, seed: 44)
        let reference = try ParticleSimulation(model: model, tokens: tokens, integrator: .rk4, stepSize: 0.005)
        try reference.run(until: 1)
        var errors: [Double] = []
        for h in [0.1, 0.05] {
            let run = try ParticleSimulation(model: model, tokens: tokens, integrator: .rk4, stepSize: h)
            try run.run(until: 1)
            errors.append(zip(run.tokens.positions, reference.tokens.positions).map { abs($0 - $1) }.max()!)
        }
        let order = log2(errors[0] / errors[1])
        XCTAssertGreaterThan(order, 3.5, "errors \(errors)")
        XCTAssertLessThan(order, 4.5, "errors \(errors)")
    }

    func testLayerStepMatchesFormula() throws {
        let model = try ParticleModel(dimension: 3, beta: 2, value: .random(seed: 3))
        let tokens = try Tokens.sample(.uniform, count: 30, dimension: 3, seed: 4)
        let h = 0.3
        let next = try model.step(tokens, integrator: .layer, stepSize: h)
        let drift = naiveVelocity(model: model, tokens: tokens, projected: false)
        var expected = zip(tokens.positions, drift).map { $0 + h * $1 }
        normalizeRows(&expected, dimension: 3)
        XCTAssertLessThan(relativeDifference(next.positions, expected), 1e-13)
    }
}
