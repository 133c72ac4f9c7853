import Foundation
import XCTest
@testable import Particles

final class SimulationTests: XCTestCase {
    func testRK4SnapshotsLandOnRequestedTimes() throws {
        let model = try ParticleModel(dimension: 3, beta: 1)
        let tokens = try Tokens.sample(.uniform, count: 50, dimension: 3, seed: 1)
        let simulation = try ParticleSimulation(model: model, tokens: tokens, integrator: .rk4,
                                                stepSize: 0.3, startTime: 0.5)
        var observations: [StepObservation] = []
        try simulation.run(until: 2.5, snapshotTimes: [1.7, 0.5, 1.0]) { observations.append($0) }
        XCTAssertEqual(simulation.snapshots.map(\.time), [0.5, 1.0, 1.7])
        XCTAssertEqual(simulation.time, 2.5)
        // 0.5 → 1.0: 0.3 + 0.2; 1.0 → 1.7: 0.3 + 0.3 + 0.1; 1.7 → 2.5: 0.3 + 0.3 + 0.2.
        XCTAssertEqual(simulation.step, 8)
        XCTAssertEqual(observations.map(\.step), Array(0...8))
        XCTAssertEqual(observations.first?.time, 0.5)
        XCTAssertEqual(observations.last?.time, 2.5)
        XCTAssertEqual(simulation.snapshots[0].tokens, tokens)
        for observation in observations {
            XCTAssertEqual(observation.secondMomentEigenvalues.reduce(0, +), 1, accuracy: 1e-12)
            XCTAssertGreaterThanOrEqual(observation.effectiveRank, 1)
        }
    }

    func testLayerRejectsTimesOffTheGrid() throws {
        let model = try ParticleModel(dimension: 3, beta: 1)
        let tokens = try Tokens.sample(.uniform, count: 20, dimension: 3, seed: 1)
        let simulation = try ParticleSimulation(model: model, tokens: tokens, integrator: .layer, stepSize: 0.1)
        XCTAssertThrowsError(try simulation.run(until: 1.0, snapshotTimes: [0.25]))
        XCTAssertEqual(simulation.step, 0)
        try simulation.run(until: 1.0, snapshotTimes: [0.3])
        XCTAssertEqual(simulation.step, 10)
        XCTAssertEqual(simulation.snapshots.map(\.step), [3])
        XCTAssertEqual(simulation.time, 1.0)
    }

    func testInvalidTimesThrow() throws {
        let model = try ParticleModel(dimension: 3, beta: 1)
        let tokens = try Tokens.sample(.uniform, count: 20, dimension: 3, seed: 1)
        XCTAssertThrowsError(try ParticleSimulation(model: model, tokens: tokens, integrator: .rk4, stepSize: 0))
        let simulation = try ParticleSimulation(model: model, tokens: tokens, integrator: .rk4, stepSize: 0.1)
        XCTAssertThrowsError(try simulation.run(until: -1))
        XCTAssertThrowsError(try simulation.run(until: 1, snapshotTimes: [2]))
        XCTAssertThrowsError(try simulation.run(until: .nan))
    }

    func testNonFinitePositionsKeepLastGoodState() throws {
        // The unnormalized drift at β = 700 is about e^700 / n; a layer of size
        // 1e10 pushes x + h y past the doubles, so normalization yields NaN.
        let model = try ParticleModel(dimension: 3, beta: 700, normalization: .unnormalized)
        let tokens = try Tokens(dimension: 3, positions: [1, 0, 0, 0.8, 0.6, 0])
        let simulation = try ParticleSimulation(model: model, tokens: tokens, integrator: .layer, stepSize: 1e10)
        try simulation.run(until: 0, snapshotTimes: [0])
        XCTAssertThrowsError(try simulation.run(until: 1e10)) { error in
            XCTAssertEqual(error as? ParticleError, .nonFinitePositions(step: 1, time: 1e10))
        }
        XCTAssertEqual(simulation.tokens, tokens)
        XCTAssertEqual(simulation.step, 0)
        XCTAssertEqual(simulation.snapshots.count, 1)
    }

    func testDimensionMismatchThrows() throws {
        let model = try ParticleModel(dimension: 4, beta: 1)
        let tokens = try Tokens.sample(.uniform, count: 20, dimension: 3, seed: 1)
        XCTAssertThrowsError(try model.velocity(of: tokens))
        XCTAssertThrowsError(try ParticleSimulation(model: model, tokens: tokens, integrator: .rk4, stepSize: 0.1))
    }
}
