import AttentionKernel
import ContinuityStepper
import Foundation
import SphereGrid
import XCTest
@testable import Experiment

final class CircleRunTests: XCTestCase {
    private var folder: URL!

    override func setUpWithError() throws {
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("meanfield-circle-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(at: folder)
    }

    private func config(_ json: String) throws -> RunConfig {
        try RunConfig.parse(data: Data(json.utf8), source: nil)
    }

    private func runCircle(_ config: RunConfig, override: CircleVelocityField? = nil) throws -> URL {
        let directory = folder.appendingPathComponent(config.name)
        let run = CircleDensityRun(config: config, outputDirectory: directory, log: ProgressLog(quiet: true))
        run.velocityOverride = override
        _ = try run.execute()
        return directory
    }

    private func lines(_ url: URL) throws -> [Substring] {
        try String(contentsOf: url, encoding: .utf8).split(separator: "\n")
    }

    /// Rows of a CSV file as dictionaries keyed by the header.
    private func readCSV(_ url: URL) throws -> [[String: Double]] {
        var rows = try lines(url)
        let header = rows.removeFirst().split(separator: ",").map(String.init)
        return rows.map { line in
            var row: [String: Double] = [:]
            for (key, field) in zip(header, line.split(separator: ",", omittingEmptySubsequences: false)) {
                row[key] = Double(field)
            }
            return row
        }
    }

    private let sa = """
    { "name": "circle-sa",
      "model": { "dimension": 2, "beta": 4, "normalization": "softmax" },
      "initial": { "kind": "uniform", "perturbation": { "degree": 2, "amplitude": 0.2, "seed": 3 } },
      "density": { "grid": { "kind": "circle", "cells": 128 } },
      "time": { "end": 2, "snapshots": [0, 1, 2] },
      "output": { "fields": ["velocity"] } }
    """

    func testCircleRunWritesHeadersMassAndEnergy() throws {
        let directory = try runCircle(try config(sa))
        let snapshot = directory.appendingPathComponent("density/t=1.000000.csv")
        XCTAssertEqual(try lines(snapshot).first, "angle,x,y,length,density,angular_velocity,velocity_x,velocity_y")
        XCTAssertEqual(try lines(snapshot).count, 129)
        let diagnosticsURL = directory.appendingPathComponent("diagnostics.csv")
        XCTAssertEqual(try lines(diagnosticsURL).first,
                       "step,time,dt,mass,min_density,max_density,energy,first_moment_x,first_moment_y,first_moment_norm,second_moment_eigenvalue_1,second_moment_eigenvalue_2,effective_rank")

        let rows = try readCSV(diagnosticsURL)
        XCTAssertGreaterThan(rows.count, 10)
        for row in rows {
            XCTAssertEqual(row["mass"]!, 1, accuracy: 1e-13, "step \(row["step"]!)")
            XCTAssertGreaterThanOrEqual(row["min_density"]!, 0)
        }
        // For A = V = I the energy is a Lyapunov function of the SA dynamics.
        for (previous, next) in zip(rows, rows.dropFirst()) {
            XCTAssertGreaterThanOrEqual(next["energy"]!, previous["energy"]! * (1 - 1e-14), "step \(next["step"]!)")
        }
        XCTAssertGreaterThan(rows.last!["energy"]!, rows.first!["energy"]!)

        let cells = try readCSV(snapshot)
        let grid = try CircleGrid(cells: 128)
        for (k, cell) in cells.enumerated() {
            XCTAssertEqual(cell["angle"]!, grid.angle(cell: k), accuracy: 1e-15)
            XCTAssertEqual(cell["length"]!, grid.cellLength, accuracy: 1e-15)
            // The Cartesian velocity is X_θ e_θ, tangent to the circle.
            XCTAssertEqual(cell["velocity_x"]! * cell["x"]! + cell["velocity_y"]! * cell["y"]!, 0, accuracy: 1e-14)
        }

        let record = try JSONSerialization.jsonObject(with: Data(contentsOf: directory.appendingPathComponent("run.json"))) as! [String: Any]
        XCTAssertEqual(record["status"] as? String, "completed")
        let gridEntry = record["grid"] as? [String: Any]
        XCTAssertEqual(gridEntry?["kind"] as? String, "circle")
        XCTAssertEqual(gridEntry?["cells"] as? Int, 128)
        let finalState = try JSONSerialization.jsonObject(with: Data(contentsOf: directory.appendingPathComponent("final_state.json"))) as! [String: Any]
        XCTAssertEqual((finalState["first_moment"] as? [Double])?.count, 2)
    }

    func testSnapshotWithoutVelocityHasFiveColumns() throws {
        var settings = try config(sa)
        settings.output.fields = []
        let directory = try runCircle(settings)
        XCTAssertEqual(try lines(directory.appendingPathComponent("density/t=0.000000.csv")).first,
                       "angle,x,y,length,density")
    }

    func testVonMisesDensityMassAndMoment() throws {
        for (kappa, cells) in [(0.0, 64), (5.0, 720), (800.0, 8192)] {
            let settings = try config("""
            { "model": { "dimension": 2, "beta": 1, "normalization": "softmax" },
              "initial": { "kind": "von-mises-fisher", "mean": [0, 2], "kappa": \(kappa) },
              "density": { "grid": { "kind": "circle", "cells": \(cells) } },
              "time": { "end": 0 } }
            """)
            let grid = try CircleGrid(cells: cells)
            let sampled = try CircleInitialDensity.sample(settings.initial, grid: grid)
            XCTAssertEqual(grid.integrate(sampled), 1, accuracy: 1e-12, "analytic mass, κ = \(kappa)")
            let density = try CircleInitialDensity.build(settings.initial, grid: grid)
            XCTAssertEqual(grid.integrate(density), 1, accuracy: 1e-14, "κ = \(kappa)")
            let angles = grid.angles()
            let x = grid.integrate(zip(density, angles).map { $0 * cos($1) })
            let y = grid.integrate(zip(density, angles).map { $0 * sin($1) })
            let bessel = scaledModifiedBessel(maximumOrder: 1, argument: kappa)
            XCTAssertEqual(x, 0, accuracy: 1e-12, "κ = \(kappa)")
            XCTAssertEqual(y, bessel[1] / bessel[0], accuracy: 1e-12, "I_1(κ)/I_0(κ), κ = \(kappa)")
        }
    }

    func testPerturbationIsFourierModeWithUnitMaximum() throws {
        let grid = try CircleGrid(cells: 96)
        let shape = CircleInitialDensity.randomMode(3, seed: 7, grid: grid)
        XCTAssertEqual(shape.map(abs).max()!, 1, accuracy: 1e-15)
        // A pure mode 3 has no other Fourier content.
        for mode in [1, 2, 4, 5] {
            let c = grid.integrate(zip(shape, grid.angles()).map { $0 * cos(Double(mode) * $1) })
            let s = grid.integrate(zip(shape, grid.angles()).map { $0 * sin(Double(mode) * $1) })
            XCTAssertEqual(c, 0, accuracy: 1e-13, "mode \(mode)")
            XCTAssertEqual(s, 0, accuracy: 1e-13, "mode \(mode)")
        }
        let settings = try config("""
        { "model": { "dimension": 2, "beta": 1, "normalization": "softmax" },
          "initial": { "kind": "uniform", "perturbation": { "degree": 48, "amplitude": 0.5 } },
          "density": { "grid": { "kind": "circle", "cells": 96 } },
          "time": { "end": 0 } }
        """)
        XCTAssertThrowsError(try CircleInitialDensity.build(settings.initial, grid: grid)) { error in
            XCTAssertTrue("\(error)".contains("initial.perturbation.degree = 48"), "\(error)")
        }
    }

    func testLinearRotationMovesMeanByAngle() throws {
        let settings = try config("""
        { "name": "rotation",
          "model": { "dimension": 2, "beta": 1, "normalization": "softmax" },
          "initial": { "kind": "von-mises-fisher", "mean": [1, 0], "kappa": 4 },
          "density": { "grid": { "kind": "circle", "cells": 512 } },
          "velocity": { "kind": "linear", "matrix": [[0, -1], [1, 0]] },
          "time": { "end": 1 },
          "output": { "fields": ["velocity"] } }
        """)
        let directory = try runCircle(settings)
        let rows = try readCSV(directory.appendingPathComponent("diagnostics.csv"))
        let last = rows.last!
        XCTAssertEqual(atan2(last["first_moment_y"]!, last["first_moment_x"]!), 1, accuracy: 1e-3)
        XCTAssertEqual(last["first_moment_norm"]!, rows.first!["first_moment_norm"]!, accuracy: 1e-3)
        XCTAssertTrue(rows.allSatisfy { $0["energy"] == nil }, "a prescribed field has no energy")
        let cells = try readCSV(directory.appendingPathComponent("density/t=1.000000.csv"))
        XCTAssertTrue(cells.allSatisfy { abs($0["angular_velocity"]! - 1) < 1e-14 })
    }

    func testRunContinuesFromCircleSnapshot() throws {
        let first = try runCircle(try config(sa))
        let path = first.appendingPathComponent("density/t=2.000000.csv").path
        let written = try readCSV(URL(fileURLWithPath: path)).map { $0["density"]! }
        let restart = try config("""
        { "name": "restart",
          "model": { "dimension": 2, "beta": 4, "normalization": "softmax" },
          "initial": { "kind": "csv", "path": "\(path)" },
          "density": { "grid": { "kind": "circle", "cells": 128 } },
          "time": { "end": 0 } }
        """)
        let grid = try CircleGrid(cells: 128)
        XCTAssertEqual(try CircleInitialDensity.build(restart.initial, grid: grid), written)

        let otherGrid = try CircleGrid(cells: 64)
        XCTAssertThrowsError(try CircleInitialDensity.build(restart.initial, grid: otherGrid)) { error in
            XCTAssertTrue("\(error)".contains("has 128 cells but the circle grid has 64"), "\(error)")
        }
    }

    private struct FailingField: CircleVelocityField {
        let grid: CircleGrid
        var isDensityDependent: Bool { true }
        let clock: Clock

        final class Clock { var calls = 0 }

        func faceVelocities(density: [Double]) throws -> CircleFaceVelocities {
            clock.calls += 1
            var velocities = [Double](repeating: 1e-3, count: grid.cells)
            if clock.calls > 40 { velocities[0] = .nan }
            return CircleFaceVelocities(velocities: velocities)
        }
    }

    func testCircleFailureKeepsEarlierSnapshots() throws {
        var settings = try config(sa)
        settings.output.fields = []
        settings.density?.maximumStep = 0.1
        let grid = try CircleGrid(cells: 128)
        XCTAssertThrowsError(try runCircle(settings, override: FailingField(grid: grid, clock: .init()))) { error in
            guard let failure = error as? RunFailure else { return XCTFail("expected RunFailure, got \(error)") }
            XCTAssertGreaterThan(failure.step, 0)
            XCTAssertEqual(failure.lastSnapshot, "density/t=1.000000.csv")
        }
        let directory = folder.appendingPathComponent("circle-sa")
        let names = try FileManager.default.contentsOfDirectory(atPath: directory.appendingPathComponent("density").path)
        XCTAssertEqual(Set(names), ["t=0.000000.csv", "t=1.000000.csv"])
        let record = try JSONSerialization.jsonObject(with: Data(contentsOf: directory.appendingPathComponent("run.json"))) as! [String: Any]
        XCTAssertEqual(record["status"] as? String, "failed")
    }

    func testCircleSamplerDrawsInsideCells() throws {
        let grid = try CircleGrid(cells: 16)
        var density = [Double](repeating: 0, count: 16)
        density[0] = 1
        density[5] = 3
        let tokens = try CellSampler(grid: grid, density: density).sample(count: 4000, seed: 9)
        XCTAssertEqual(tokens.dimension, 2)
        var counts = [0, 0]
        for i in 0..<tokens.count {
            var theta = atan2(tokens.positions[2 * i + 1], tokens.positions[2 * i])
            if theta < -grid.cellLength / 2 { theta += 2 * Double.pi }
            if abs(theta - grid.angle(cell: 0)) <= grid.cellLength / 2 {
                counts[0] += 1
            } else if abs(theta - grid.angle(cell: 5)) <= grid.cellLength / 2 {
                counts[1] += 1
            } else {
                XCTFail("token \(i) at angle \(theta) lies outside cells 0 and 5")
            }
        }
        // Cell 5 contains 3/4 of the mass; the binomial standard deviation is about 27.
        XCTAssertEqual(Double(counts[1]), 3000, accuracy: 150)
    }

    func testCircleComparisonDistancesShrinkWithCount() throws {
        let settings = try config("""
        { "name": "circle-compare",
          "model": { "dimension": 2, "beta": 2, "normalization": "softmax" },
          "initial": { "kind": "von-mises-fisher", "mean": [1, 0], "kappa": 1 },
          "density": { "grid": { "kind": "circle", "cells": 128 } },
          "particles": { "counts": [100, 6400], "seeds": [1, 2, 3, 4], "step": 0.1 },
          "time": { "end": 0.2, "snapshots": [0, 0.2] } }
        """)
        let directory = folder.appendingPathComponent("circle-compare")
        _ = try ExperimentRun(config: settings, outputDirectory: directory, log: ProgressLog(quiet: true)).execute()
        let comparison = directory.appendingPathComponent("comparison.csv")
        XCTAssertEqual(try lines(comparison).first,
                       "time,count,seed,density_energy,particle_energy,particle_energy_without_self_interaction,energy_difference,density_first_moment_norm,particle_first_moment_norm,density_second_moment_eigenvalue_1,density_second_moment_eigenvalue_2,particle_second_moment_eigenvalue_1,particle_second_moment_eigenvalue_2,density_effective_rank,particle_effective_rank,distance")
        let rows = try readCSV(comparison)
        XCTAssertEqual(rows.count, 16)
        for time in [0.0, 0.2] {
            func meanDistance(_ count: Double) -> Double {
                let values = rows.filter { $0["time"] == time && $0["count"] == count }.map { $0["distance"]! }
                return values.reduce(0, +) / Double(values.count)
            }
            // The expected distance falls like n^{−1/2}: a factor 8 from n = 100 to 6400.
            XCTAssertLessThan(meanDistance(6400), meanDistance(100) / 3, "t = \(time)")
        }
        XCTAssertTrue(FileManager.default.fileExists(atPath: directory.appendingPathComponent("comparison_slopes.csv").path))
        let record = try JSONSerialization.jsonObject(with: Data(contentsOf: directory.appendingPathComponent("run.json"))) as! [String: Any]
        let entry = record["comparison"] as? [String: Any]
        XCTAssertEqual(entry?["distance"] as? String, "negative Sobolev norm H^-1 over Fourier modes 1...cells/2")
    }

    func testFourierDistanceOfExactSampleMatchesExpectation() throws {
        // For n samples of the piecewise-constant density, E d² = Σ_k w_k (1 − |ρ̂_k|²)/n.
        let grid = try CircleGrid(cells: 64)
        let density = grid.angles().map { exp(2 * cos($0)) }
        let mass = grid.integrate(density)
        let normalized = density.map { $0 / mass }
        let coefficients = CircleFourierDistance.coefficients(density: normalized, grid: grid, maximumMode: 32)
        XCTAssertEqual(coefficients[0].re, 1, accuracy: 1e-14)
        let expected = (1...32).map { k in
            CircleFourierDistance.weight(mode: k)
                * (1 - coefficients[k].re * coefficients[k].re - coefficients[k].im * coefficients[k].im)
        }.reduce(0, +)
        let sampler = try CellSampler(grid: grid, density: normalized)
        let n = 500
        var total = 0.0
        let repeats = 200
        for seed in 1...repeats {
            let d = CircleFourierDistance.distance(tokens: try sampler.sample(count: n, seed: UInt64(seed)),
                                                   density: coefficients)
            total += d * d
        }
        // The mean of 200 squared distances has a relative spread of about 10%.
        XCTAssertEqual(total / Double(repeats) * Double(n), expected, accuracy: 0.3 * expected)
    }

    func testCircleConfigErrors() {
        func assertRejected(_ json: String, mentions fragments: [String], line: UInt = #line) {
            XCTAssertThrowsError(try config(json), line: line) { error in
                let text = "\(error)"
                for fragment in fragments {
                    XCTAssertTrue(text.contains(fragment), "missing \"\(fragment)\" in: \(text)", line: line)
                }
            }
        }
        assertRejected("""
        { "model": { "dimension": 3, "beta": 1, "normalization": "softmax" }, "initial": { "kind": "uniform" },
          "density": { "grid": { "kind": "circle", "cells": 64 } }, "time": { "end": 1 } }
        """, mentions: ["density.grid.kind = \"circle\"", "model.dimension = 3", "set model.dimension to 2"])
        assertRejected("""
        { "model": { "dimension": 2, "beta": 1, "normalization": "softmax" }, "initial": { "kind": "uniform" },
          "density": { "grid": { "kind": "gauss-legendre", "nlat": 16 } }, "time": { "end": 1 } }
        """, mentions: ["density.grid", "model.dimension = 2", "\"kind\": \"circle\""])
        assertRejected("""
        { "model": { "dimension": 4, "beta": 1, "normalization": "softmax" }, "initial": { "kind": "uniform" },
          "density": { "grid": { "kind": "circle", "cells": 64 } }, "time": { "end": 1 } }
        """, mentions: ["model.dimension = 4", "remove \"density\"", "dimension 2 or 3"])
        assertRejected("""
        { "model": { "dimension": 2, "beta": 1, "normalization": "softmax" }, "initial": { "kind": "uniform" },
          "density": { "grid": { "kind": "circle", "cells": 64 } },
          "velocity": { "kind": "linear", "matrix": [[0, -1], [1, 0]], "vector": [1, 0] }, "time": { "end": 1 } }
        """, mentions: ["velocity.vector", "S^1", "remove \"vector\""])
        assertRejected("""
        { "model": { "dimension": 2, "beta": 1, "normalization": "softmax" }, "initial": { "kind": "uniform" },
          "density": { "grid": { "kind": "circle", "cells": 64 } },
          "velocity": { "kind": "linear", "matrix": [[0, -1, 0], [1, 0, 0], [0, 0, 0]] }, "time": { "end": 1 } }
        """, mentions: ["velocity.matrix", "2×2"])
        assertRejected("""
        { "model": { "dimension": 2, "beta": 1, "normalization": "softmax" }, "initial": { "kind": "uniform" },
          "density": { "grid": { "kind": "circle", "cells": 4 } }, "time": { "end": 1 } }
        """, mentions: ["density.grid", "cells = 4", "from 8"])
    }

    func testCircleConfigParsesGridAndMatrix() throws {
        let settings = try config("""
        { "model": { "dimension": 2, "beta": 1, "normalization": "none" }, "initial": { "kind": "uniform" },
          "density": { "grid": { "kind": "circle", "cells": 720 } },
          "velocity": { "kind": "linear", "matrix": 2 }, "time": { "end": 1 } }
        """)
        XCTAssertEqual(settings.density?.grid, .circle(CircleGridSpecification(cells: 720)))
        XCTAssertEqual(settings.velocity, .circleLinear(matrix: .scaledIdentity(2)))
        XCTAssertEqual(try AnalyzeCommand.maximumDegree(for: settings), 360)
    }
}
