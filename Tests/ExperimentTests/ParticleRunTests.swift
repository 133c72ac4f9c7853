import Foundation
import XCTest
@testable import Experiment

final class ParticleRunTests: XCTestCase {
    private var folder: URL!

    override func setUpWithError() throws {
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("meanfield-particles-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(at: folder)
    }

    private func run(_ json: String) throws -> URL {
        let config = try RunConfig.parse(data: Data(json.utf8), source: nil)
        let directory = folder.appendingPathComponent(config.name)
        _ = try ExperimentRun(config: config, outputDirectory: directory, log: ProgressLog(quiet: true)).execute()
        return directory
    }

    private func lines(_ url: URL) throws -> [String] {
        try String(contentsOf: url, encoding: .utf8).split(separator: "\n").map(String.init)
    }

    func testParticleRunWritesTokensDiagnosticsAndFinalState() throws {
        let directory = try run("""
        { "name": "d4", "model": { "dimension": 4, "beta": 1.0, "normalization": "softmax",
                                   "value": { "kind": "random", "seed": 5 } },
          "initial": { "kind": "von-mises-fisher", "mean": [1, 0, 0, 0], "kappa": 1 },
          "particles": { "count": 60, "seed": 2, "integrator": "layer", "step": 0.1 },
          "time": { "end": 0.5, "snapshots": [0.2] } }
        """)
        let snapshot = try lines(directory.appendingPathComponent("particles/t=0.200000.csv"))
        XCTAssertEqual(snapshot.first, "particle,x1,x2,x3,x4")
        XCTAssertEqual(snapshot.count, 61)
        let row = snapshot[1].split(separator: ",").compactMap { Double($0) }
        XCTAssertEqual(row.dropFirst().reduce(0) { $0 + $1 * $1 }, 1, accuracy: 1e-13, "tokens stay on the sphere")

        let diagnostics = try lines(directory.appendingPathComponent("particles/diagnostics.csv"))
        let header = diagnostics[0].split(separator: ",").map(String.init)
        for column in ["time", "energy", "first_moment_norm", "effective_rank"] {
            XCTAssertTrue(header.contains(column), "missing \(column)")
        }
        XCTAssertEqual(diagnostics.count, 1 + 6, "rows for t = 0 and five layers")

        let finalState = try JSONSerialization.jsonObject(with: Data(contentsOf: directory.appendingPathComponent("particles/final_state.json"))) as? [String: Any]
        XCTAssertEqual(finalState?["time"] as? Double, 0.5)
        XCTAssertNotNil(finalState?["class"] as? String)
    }

    func testComparisonWritesDistancesAndSlopes() throws {
        let directory = try run("""
        { "name": "compare", "model": { "beta": 2.0, "normalization": "softmax" },
          "initial": { "kind": "von-mises-fisher", "mean": [0, 0, 1], "kappa": 2.0 },
          "density": { "grid": "gl16" },
          "particles": { "counts": [100, 1600], "seeds": [1, 2], "integrator": "rk4", "step": 0.05 },
          "time": { "end": 0.2, "snapshot_every": 0.1 } }
        """)
        let rows = try lines(directory.appendingPathComponent("comparison.csv"))
        XCTAssertEqual(rows.count, 1 + 3 * 4, "three snapshot times, two counts, two seeds")
        let header = rows[0].split(separator: ",").map(String.init)
        let distanceColumn = try XCTUnwrap(header.firstIndex(of: "distance"))
        let countColumn = try XCTUnwrap(header.firstIndex(of: "count"))
        let energyColumn = try XCTUnwrap(header.firstIndex(of: "energy_difference"))
        var small = 0.0, large = 0.0
        for row in rows.dropFirst().prefix(4) {
            let fields = row.split(separator: ",", omittingEmptySubsequences: false)
            let distance = try XCTUnwrap(Double(fields[distanceColumn]))
            XCTAssertTrue(Double(fields[energyColumn])!.isFinite)
            if fields[countColumn] == "100" { small += distance } else { large += distance }
        }
        XCTAssertLessThan(large, small / 2, "16× more tokens sit about 4× closer to the density")
        XCTAssertTrue(FileManager.default.fileExists(atPath: directory.appendingPathComponent("comparison_slopes.csv").path))
        XCTAssertTrue(FileManager.default.fileExists(atPath: directory.appendingPathComponent("particles/n=1600-seed=2/t=0.200000.csv").path))
    }

    func testParticleConfigErrors() {
        let cases: [(String, String)] = [
            ("""
            { "model": { "dimension": 16, "beta": 1, "normalization": "softmax" }, "initial": { "kind": "uniform" },
              "density": { "grid": "gl16" }, "time": { "end": 1 } }
            """, "model.dimension"),
            ("""
            { "model": { "beta": 1, "normalization": "softmax" }, "initial": { "kind": "uniform" },
              "particles": { "count": 10, "integrator": "layer", "step": 0.3 }, "time": { "end": 1 } }
            """, "particles.step"),
            ("""
            { "model": { "beta": 1, "normalization": "softmax" }, "initial": { "kind": "uniform" },
              "particles": { "count": 1, "step": 0.1 }, "time": { "end": 1 } }
            """, "particles.count"),
            ("""
            { "model": { "beta": 1, "normalization": "softmax" }, "initial": { "kind": "uniform" },
              "time": { "end": 1 } }
            """, "particles"),
            ("""
            { "model": { "dimension": 4, "beta": 1, "normalization": "softmax" },
              "initial": { "kind": "von-mises-fisher", "mean": [0, 0, 1], "kappa": 1 },
              "particles": { "count": 10, "step": 0.1 }, "time": { "end": 1 } }
            """, "initial.mean"),
        ]
        for (json, fragment) in cases {
            XCTAssertThrowsError(try RunConfig.parse(data: Data(json.utf8), source: nil)) { error in
                XCTAssertTrue("\(error)".contains(fragment), "\(error) lacks \(fragment)")
            }
        }
    }

    func testAnalyzeWritesGrowthRates() throws {
        let config = folder.appendingPathComponent("model.json")
        try Data("""
        { "name": "analyze", "model": { "beta": 4.0, "normalization": "none" },
          "initial": { "kind": "uniform" }, "density": { "grid": "gl32" }, "time": { "end": 1 } }
        """.utf8).write(to: config)
        let output = folder.appendingPathComponent("analysis")
        XCTAssertEqual(MeanFieldCommand.main(arguments: ["analyze", config.path, "--output", output.path]), 0)
        let rates = try lines(output.appendingPathComponent("growth_rates.csv"))
        XCTAssertEqual(rates.first, "degree,growth_rate,scaled_growth_rate,log_growth_rate")
        XCTAssertEqual(rates.count, 1 + 32, "degrees 0 to L = 31")
        let analysis = try JSONSerialization.jsonObject(with: Data(contentsOf: output.appendingPathComponent("analysis.json"))) as? [String: Any]
        XCTAssertNotNil(analysis?["growth_rates"] as? [String: Any] ?? analysis?["growth_rates"] as? [Any])
    }
}
