import ContinuityStepper
import Foundation
import SphereGrid
import XCTest
@testable import Experiment

final class DensityRunTests: XCTestCase {
    private var folder: URL!

    override func setUpWithError() throws {
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("meanfield-run-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(at: folder)
    }

    private func config(_ json: String) throws -> RunConfig {
        try RunConfig.parse(data: Data(json.utf8), source: nil)
    }

    private func run(_ config: RunConfig, override: VelocityField? = nil) throws -> URL {
        let directory = folder.appendingPathComponent(config.name)
        let run = DensityRun(config: config, outputDirectory: directory, log: ProgressLog(quiet: true))
        run.velocityOverride = override
        _ = try run.execute()
        return directory
    }

    /// Rows of a CSV file as dictionaries keyed by the header.
    private func readCSV(_ url: URL) throws -> [[String: Double]] {
        let text = try String(contentsOf: url, encoding: .utf8)
        var lines = text.split(separator: "\n")
        let header = lines.removeFirst().split(separator: ",").map(String.init)
        return lines.map { line in
            var row: [String: Double] = [:]
            for (key, field) in zip(header, line.split(separator: ",", omittingEmptySubsequences: false)) {
                row[key] = Double(field)
            }
            return row
        }
    }

    private let usa = """
    { "name": "usa", "model": { "beta": 2.0, "normalization": "none" },
      "initial": { "kind": "uniform", "perturbation": { "degree": 2, "amplitude": 0.2, "seed": 4 } },
      "density": { "grid": { "kind": "gauss-legendre", "nlat": 12 }, "cfl": 0.5 },
      "time": { "end": 0.2, "snapshot_every": 0.1 },
      "output": { "fields": ["velocity"] } }
    """

    func testRunWritesSnapshotsDiagnosticsAndRecord() throws {
        let directory = try run(try config(usa))
        let names = try FileManager.default.contentsOfDirectory(atPath: directory.appendingPathComponent("density").path).sorted()
        XCTAssertEqual(names, ["t=0.000000.csv", "t=0.100000.csv", "t=0.200000.csv"])

        let header = try String(contentsOf: directory.appendingPathComponent("diagnostics.csv"), encoding: .utf8)
            .split(separator: "\n").first.map(String.init)
        XCTAssertEqual(header, DiagnosticsRow.header)
        XCTAssertTrue(header?.hasPrefix("step,time,dt,mass,min_density,max_density,energy") ?? false)

        let rows = try readCSV(directory.appendingPathComponent("diagnostics.csv"))
        XCTAssertGreaterThan(rows.count, 2)
        XCTAssertEqual(rows.first?["step"], 0)
        XCTAssertEqual(rows.last?["time"], 0.2)
        for (previous, row) in zip(rows, rows.dropFirst()) {
            XCTAssertEqual(row["mass"]!, 1, accuracy: 1e-13)
            XCTAssertGreaterThanOrEqual(row["min_density"]!, 0)
            XCTAssertGreaterThanOrEqual(row["energy"]!, previous["energy"]! * (1 - 1e-13))
            let eigenvalueSum = row["second_moment_eigenvalue_1"]! + row["second_moment_eigenvalue_2"]! + row["second_moment_eigenvalue_3"]!
            XCTAssertEqual(eigenvalueSum, 1, accuracy: 1e-12)
        }
        XCTAssertGreaterThan(rows.last!["energy"]!, rows.first!["energy"]!)

        let snapshot = try readCSV(directory.appendingPathComponent("density/t=0.100000.csv"))
        XCTAssertEqual(snapshot.count, 12 * 24)
        let mass = snapshot.reduce(0.0) { $0 + $1["density"]! * $1["area"]! }
        XCTAssertEqual(mass, 1, accuracy: 1e-13)
        let area = snapshot.reduce(0.0) { $0 + $1["area"]! }
        XCTAssertEqual(area, 4 * Double.pi, accuracy: 1e-12)
        for row in snapshot {
            let x = SIMD3(row["x"]!, row["y"]!, row["z"]!)
            let v = SIMD3(row["velocity_x"]!, row["velocity_y"]!, row["velocity_z"]!)
            XCTAssertEqual((x * x).sum(), 1, accuracy: 1e-14)
            XCTAssertEqual((x * v).sum(), 0, accuracy: 1e-12, "velocity is tangent")
            XCTAssertEqual(cos(row["colatitude"]!), x.z, accuracy: 1e-15)
        }

        let record = try JSONSerialization.jsonObject(with: Data(contentsOf: directory.appendingPathComponent("run.json"))) as? [String: Any]
        XCTAssertEqual(record?["status"] as? String, "completed")
        XCTAssertEqual(record?["kernel_path"] as? String, "spectral")
        XCTAssertEqual((record?["grid"] as? [String: Any])?["nlat"] as? Int, 12)
        XCTAssertNotNil(record?["wall_time_seconds"] as? Double)
        let program = record?["program"] as? [String: Any]
        XCTAssertTrue(["AVX-512F", "AVX2 and FMA", "portable C"].contains(program?["vector_kernels"] as? String ?? ""))
    }

    func testEndZeroWritesOnlyInitialSnapshot() throws {
        let directory = try run(try config(usa.replacingOccurrences(of: "\"end\": 0.2, \"snapshot_every\": 0.1", with: "\"end\": 0")))
        let names = try FileManager.default.contentsOfDirectory(atPath: directory.appendingPathComponent("density").path)
        XCTAssertEqual(names, ["t=0.000000.csv"])
        XCTAssertEqual(try readCSV(directory.appendingPathComponent("diagnostics.csv")).count, 1)
    }

    func testRotationSnapshotVelocityIsSolidBody() throws {
        let directory = try run(try config("""
        { "name": "rotation", "model": { "beta": 1.0, "normalization": "softmax" },
          "initial": { "kind": "von-mises-fisher", "mean": [1, 0, 0], "kappa": 5 },
          "velocity": { "kind": "linear", "matrix": [[0, -2, 0], [2, 0, 0], [0, 0, 0]] },
          "density": { "grid": { "kind": "gauss-legendre", "nlat": 16 } },
          "time": { "end": 0.1, "snapshots": [0.05] },
          "output": { "fields": ["velocity"] } }
        """))
        let rows = try readCSV(directory.appendingPathComponent("density/t=0.050000.csv"))
        for row in rows {
            // X = ω × x with ω = (0, 0, 2).
            XCTAssertEqual(row["velocity_x"]!, -2 * row["y"]!, accuracy: 1e-14)
            XCTAssertEqual(row["velocity_y"]!, 2 * row["x"]!, accuracy: 1e-14)
            XCTAssertEqual(row["velocity_z"]!, 0, accuracy: 1e-14)
        }
        let diagnostics = try readCSV(directory.appendingPathComponent("diagnostics.csv"))
        XCTAssertNil(diagnostics.last?["energy"], "a prescribed field has no interaction energy")
    }

    func testRunContinuesFromSnapshot() throws {
        let first = try run(try config(usa))
        let snapshot = first.appendingPathComponent("density/t=0.200000.csv")
        let continued = try run(try config("""
        { "name": "continued", "model": { "beta": 2.0, "normalization": "none" },
          "initial": { "kind": "csv", "path": "\(snapshot.path)" },
          "density": { "grid": { "kind": "gauss-legendre", "nlat": 12 } },
          "time": { "end": 0 } }
        """))
        let before = try readCSV(snapshot).map { $0["density"]! }
        let after = try readCSV(continued.appendingPathComponent("density/t=0.000000.csv")).map { $0["density"]! }
        XCTAssertEqual(before, after, "the density is read back exactly")

        XCTAssertThrowsError(try run(try config("""
        { "name": "wrong-grid", "model": { "beta": 2.0, "normalization": "none" },
          "initial": { "kind": "csv", "path": "\(snapshot.path)" },
          "density": { "grid": { "kind": "gauss-legendre", "nlat": 16 } },
          "time": { "end": 0 } }
        """))) { error in
            XCTAssertTrue("\(error)".contains("cells"), "\(error)")
        }
    }

    /// A field that moves a little mass across one face, and returns a NaN
    /// flux from its 41st evaluation on.
    private struct FailingField: VelocityField {
        let grid: SphereGrid
        var isDensityDependent: Bool { true }
        let clock: Clock

        final class Clock { var calls = 0 }

        func faceFluxes(density: [Double]) throws -> FaceFluxes {
            clock.calls += 1
            var fluxes = FaceFluxes.zero(on: grid)
            fluxes.zonal[0] = clock.calls > 40 ? .nan : 1e-4
            return fluxes
        }
    }

    func testFailureKeepsEarlierSnapshots() throws {
        var settings = try config(usa)
        settings.output.fields = []
        settings.density?.maximumStep = 0.01
        let grid = try SphereGrid(nlat: 12)
        XCTAssertThrowsError(try run(settings, override: FailingField(grid: grid, clock: .init()))) { error in
            guard let failure = error as? RunFailure else { return XCTFail("expected RunFailure, got \(error)") }
            XCTAssertGreaterThan(failure.step, 0)
            XCTAssertNotNil(failure.lastSnapshot)
            XCTAssertTrue(failure.description.contains("stopped at step"), failure.description)
        }
        let directory = folder.appendingPathComponent("usa")
        let names = try FileManager.default.contentsOfDirectory(atPath: directory.appendingPathComponent("density").path)
        XCTAssertTrue(names.contains("t=0.000000.csv"))
        XCTAssertTrue(names.contains("t=0.100000.csv"))
        XCTAssertFalse(names.contains("t=0.200000.csv"))
        let record = try JSONSerialization.jsonObject(with: Data(contentsOf: directory.appendingPathComponent("run.json"))) as? [String: Any]
        XCTAssertEqual(record?["status"] as? String, "failed")
        XCTAssertNotNil(record?["failure"])
        XCTAssertGreaterThan(try readCSV(directory.appendingPathComponent("diagnostics.csv")).count, 10)
    }

    func testOverflowingUnnormalizedVelocityNamesTheCause() throws {
        // e^{β a} with β a = 2000 exceeds the doubles, so the first velocity is not finite.
        let settings = try config("""
        { "name": "overflow", "model": { "beta": 2000, "normalization": "none",
                                         "query": [[1, 0, 0], [0, 1, 0], [0, 0, 1.0000001]] },
          "initial": { "kind": "von-mises-fisher", "mean": [0, 0, 1], "kappa": 2 },
          "density": { "grid": "gl16", "kernel": "direct" }, "time": { "end": 0.1 } }
        """)
        XCTAssertThrowsError(try run(settings)) { error in
            guard let failure = error as? RunFailure else { return XCTFail("expected RunFailure, got \(error)") }
            XCTAssertTrue(failure.reason.contains("non-finite"), failure.reason)
            XCTAssertTrue(failure.reason.contains("use softmax normalization or a smaller beta"), failure.reason)
        }
        // Row 0 describes the initial state although its energy could not be computed.
        let rows = try readCSV(folder.appendingPathComponent("overflow/diagnostics.csv"))
        XCTAssertEqual(rows.count, 1)
        XCTAssertEqual(rows.first?["step"], 0)
        XCTAssertEqual(rows.first?["mass"] ?? 0, 1, accuracy: 1e-12)
        XCTAssertNil(rows.first?["energy"], "the energy column is empty")
    }
}
