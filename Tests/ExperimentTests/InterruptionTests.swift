import Foundation
import XCTest
@testable import Experiment

/// A stored SIGINT or SIGTERM stops the current run after one step and keeps
/// its files. The signal is set with `simulateInterrupt`, as the handler
/// would set it, and cleared after each test.
final class InterruptionTests: XCTestCase {
    private var folder: URL!

    override func setUpWithError() throws {
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("meanfield-interrupt-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        simulateInterrupt(0)
        try? FileManager.default.removeItem(at: folder)
    }

    private func runRecord(_ directory: URL) throws -> [String: Any] {
        let data = try Data(contentsOf: directory.appendingPathComponent("run.json"))
        return try XCTUnwrap(JSONSerialization.jsonObject(with: data) as? [String: Any])
    }

    /// Runs a config through `ExperimentRun` and returns the `RunFailure` it throws.
    private func interruptedRun(_ json: String, signal: Int32) throws -> (RunFailure, URL) {
        let config = try RunConfig.parse(data: Data(json.utf8), source: nil)
        let directory = folder.appendingPathComponent(config.name)
        simulateInterrupt(signal)
        do {
            _ = try ExperimentRun(config: config, outputDirectory: directory, log: ProgressLog(quiet: true)).execute()
        } catch let failure as RunFailure {
            return (failure, directory)
        }
        XCTFail("the run finished despite the stored signal")
        throw CancellationError()
    }

    func testDensityRunStopsWithInterruptedStatus() throws {
        let (failure, directory) = try interruptedRun("""
        { "name": "density", "model": { "beta": 1.0, "normalization": "softmax" },
          "initial": { "kind": "von-mises-fisher", "mean": [0, 0, 1], "kappa": 1 },
          "density": { "grid": "gl16" }, "time": { "end": 1.0, "snapshot_every": 0.5 } }
        """, signal: SIGINT)
        XCTAssertEqual(failure.interruptSignal, SIGINT)
        XCTAssertEqual(failure.step, 1)
        XCTAssertTrue(failure.summaryLine.hasPrefix("density: interrupted at step 1"))

        let record = try runRecord(directory)
        XCTAssertEqual(record["status"] as? String, "interrupted")
        let recordedFailure = try XCTUnwrap(record["failure"] as? [String: Any])
        XCTAssertEqual(recordedFailure["reason"] as? String, "interrupted by SIGINT (Ctrl-C)")
        XCTAssertEqual(recordedFailure["last_snapshot"] as? String, "density/t=0.000000.csv")
        XCTAssertTrue(FileManager.default.fileExists(atPath: directory.appendingPathComponent("density/t=0.000000.csv").path))
        let diagnostics = try String(contentsOf: directory.appendingPathComponent("diagnostics.csv"), encoding: .utf8)
        XCTAssertEqual(diagnostics.split(separator: "\n").count, 3, "header, the initial state and step 1")
    }

    func testParticleRunStopsWithInterruptedStatus() throws {
        let (failure, directory) = try interruptedRun("""
        { "name": "tokens", "model": { "dimension": 5, "beta": 1.0, "normalization": "softmax" },
          "initial": { "kind": "uniform" },
          "particles": { "count": 40, "seed": 1, "integrator": "layer", "step": 0.1 },
          "time": { "end": 2.0, "snapshot_every": 1.0 } }
        """, signal: SIGTERM)
        XCTAssertEqual(failure.interruptSignal, SIGTERM)
        XCTAssertEqual(failure.step, 0, "the observer of the initial state stops the run")

        let record = try runRecord(directory)
        XCTAssertEqual(record["status"] as? String, "interrupted")
        let recordedFailure = try XCTUnwrap(record["failure"] as? [String: Any])
        XCTAssertEqual(recordedFailure["reason"] as? String, "interrupted by SIGTERM")
        let diagnostics = try String(contentsOf: directory.appendingPathComponent("particles/diagnostics.csv"),
                                     encoding: .utf8)
        XCTAssertEqual(diagnostics.split(separator: "\n").count, 2, "header and the initial state")
    }

    func testParticleRecordNamesSnapshotFromRunFolder() throws {
        // The signal arrives after 15 polls, so seed 1 stops at the poll
        // after step 15, past its snapshot at t = 1 (step 10).
        let config = try RunConfig.parse(data: Data("""
        { "name": "seeds", "model": { "dimension": 3, "beta": 1.0, "normalization": "softmax" },
          "initial": { "kind": "uniform" },
          "particles": { "count": 30, "seeds": [1, 2], "integrator": "layer", "step": 0.1 },
          "time": { "end": 2.0, "snapshot_every": 1.0 } }
        """.utf8), source: nil)
        let directory = folder.appendingPathComponent(config.name)
        simulateInterrupt(SIGINT, afterPolls: 15)
        XCTAssertThrowsError(
            try ExperimentRun(config: config, outputDirectory: directory, log: ProgressLog(quiet: true)).execute()
        ) { error in
            XCTAssertEqual((error as? RunFailure)?.interruptSignal, SIGINT)
        }
        let record = try runRecord(directory)
        XCTAssertEqual(record["status"] as? String, "interrupted")
        XCTAssertEqual(record["steps"] as? Int, 15)
        let failure = try XCTUnwrap(record["failure"] as? [String: Any])
        let snapshot = try XCTUnwrap(failure["last_snapshot"] as? String)
        XCTAssertEqual(snapshot, "particles/n=30-seed=1/t=1.000000.csv")
        XCTAssertTrue(FileManager.default.fileExists(atPath: directory.appendingPathComponent(snapshot).path))
        XCTAssertFalse(FileManager.default.fileExists(atPath: directory.appendingPathComponent("particles/n=30-seed=2").path))
    }

    func testPendingInterruptStartsNoConfig() throws {
        let url = folder.appendingPathComponent("uniform.json")
        try Data("""
        { "name": "uniform", "model": { "beta": 1.0, "normalization": "softmax" },
          "initial": { "kind": "uniform" }, "density": { "grid": "gl16" }, "time": { "end": 1.0 } }
        """.utf8).write(to: url)
        simulateInterrupt(SIGINT)
        let output = folder.appendingPathComponent("out")
        XCTAssertEqual(MeanFieldCommand.main(arguments: ["run", url.path, "--output", output.path, "--quiet"]),
                       128 + SIGINT)
        XCTAssertFalse(FileManager.default.fileExists(atPath: output.appendingPathComponent("uniform").path))
    }
}
