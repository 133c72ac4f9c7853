import Foundation
import XCTest
@testable import Experiment
import LinearAlgebra
import SphereGrid

final class ConfigTests: XCTestCase {
    private func parse(_ json: String) throws -> RunConfig {
        try RunConfig.parse(data: Data(json.utf8), source: nil)
    }

    /// Asserts that parsing fails and that the message contains every fragment.
    private func assertRejected(_ json: String, mentions fragments: [String], line: UInt = #line) {
        XCTAssertThrowsError(try parse(json), line: line) { error in
            let message = "\(error)"
            for fragment in fragments {
                XCTAssertTrue(message.contains(fragment), "message \"\(message)\" lacks \"\(fragment)\"", line: line)
            }
        }
    }

    private let base = """
    "model": { "beta": 4.0, "normalization": "none", "query": "identity", "key": "identity", "value": "identity" },
    "initial": { "kind": "uniform" },
    "density": { "grid": "gl32", "cfl": 0.5 },
    "time": { "end": 1.0, "snapshot_every": 0.5 }
    """

    func testIssueExampleConfigParses() throws {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("examples/cluster-usa.json")
        let config = try RunConfig.load(path: url.path)
        XCTAssertEqual(config.name, "cluster-usa")
        XCTAssertEqual(config.model.beta, 4)
        XCTAssertEqual(config.model.normalization, "none")
        XCTAssertEqual(config.model.query, .identity)
        XCTAssertEqual(config.density?.grid, .sphere(.gaussLegendre(nlat: 64)))
        XCTAssertEqual(config.density?.cfl, 0.5)
        XCTAssertEqual(config.time.end, 5)
        XCTAssertEqual(config.time.snapshots.count, 11)
        XCTAssertEqual(config.time.snapshots.last, 5)
        XCTAssertEqual(config.output.directory, "out/cluster-usa")
        XCTAssertEqual(config.velocity, .attention)
        guard case .uniform(let perturbation?) = config.initial else {
            return XCTFail("expected a perturbed uniform density, got \(config.initial)")
        }
        XCTAssertEqual(perturbation.degree, 3)
        XCTAssertEqual(perturbation.amplitude, 0.05)
        XCTAssertEqual(perturbation.seed, 1)
    }

    func testEveryExampleParses() throws {
        let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("examples")
        let files = try FileManager.default.contentsOfDirectory(atPath: folder.path).filter { $0.hasSuffix(".json") }
        XCTAssertFalse(files.isEmpty)
        for file in files {
            XCTAssertNoThrow(try RunConfig.load(path: folder.appendingPathComponent(file).path), file)
        }
    }

    func testSnapshotListAndEndZero() throws {
        let list = try parse("""
        { \(base.replacingOccurrences(of: "\"snapshot_every\": 0.5", with: "\"snapshots\": [0, 1, 0.25, 0.25]")) }
        """)
        XCTAssertEqual(list.time.snapshots, [0, 0.25, 1])
        let zero = try parse("""
        { \(base.replacingOccurrences(of: "\"end\": 1.0, \"snapshot_every\": 0.5", with: "\"end\": 0")) }
        """)
        XCTAssertEqual(zero.time.snapshots, [0])
    }

    func testInlineGridAndLinearVelocity() throws {
        let config = try parse("""
        { \(base.replacingOccurrences(of: "\"gl32\"", with: "{ \"kind\": \"gauss-legendre\", \"nlat\": 48 }")),
          "velocity": { "kind": "linear", "matrix": [[0, -1, 0], [1, 0, 0], [0, 0, 0]] } }
        """)
        XCTAssertEqual(config.density?.grid, .sphere(.gaussLegendre(nlat: 48)))
        XCTAssertEqual(config.velocity, .linear(matrix: Matrix3(rows: [[0, -1, 0], [1, 0, 0], [0, 0, 0]]), vector: .zero))
    }

    func testMixtureAndVonMisesFisher() throws {
        let config = try parse("""
        { \(base.replacingOccurrences(of: "{ \"kind\": \"uniform\" }", with: """
        { "kind": "mixture", "components": [
          { "weight": 0.7, "kind": "von-mises-fisher", "mean": [0, 0, 2], "kappa": 4.0 },
          { "weight": 0.3, "kind": "uniform" } ] }
        """)) }
        """)
        guard case .mixture(let components) = config.initial else { return XCTFail("expected a mixture") }
        XCTAssertEqual(components.count, 2)
        XCTAssertEqual(components[0].condition, .vonMisesFisher(mean: [0, 0, 1], kappa: 4))
    }

    func testErrorsNameKeyValueAndRange() {
        assertRejected("{ \(base.replacingOccurrences(of: "\"beta\": 4.0", with: "\"beta\": -1")) }",
                       mentions: ["model.beta", "-1", "(0, 10000]"])
        assertRejected("{ \(base.replacingOccurrences(of: "\"none\"", with: "\"sparsemax\"")) }",
                       mentions: ["model.normalization", "sparsemax", "softmax"])
        assertRejected("{ \(base.replacingOccurrences(of: "\"cfl\": 0.5", with: "\"cfl\": 2")) }",
                       mentions: ["density.cfl", "2"])
        assertRejected("{ \(base.replacingOccurrences(of: "\"gl32\"", with: "\"gl33\"")) }",
                       mentions: ["density.grid", "gl33", "gl32"])
        assertRejected("{ \(base.replacingOccurrences(of: "\"end\": 1.0", with: "\"end\": \"soon\"")) }",
                       mentions: ["time.end", "soon"])
        assertRejected("{ \(base), \"velocty\": { \"kind\": \"attention\" } }",
                       mentions: ["velocty", "not a known key"])
        assertRejected("{ \(base.replacingOccurrences(of: "\"query\": \"identity\"", with: "\"query\": [[1, 0], [0, 1]]")) }",
                       mentions: ["model.query"])
        assertRejected("{ \(base.replacingOccurrences(of: "{ \"kind\": \"uniform\" }", with: "{ \"kind\": \"uniform\", \"perturbation\": { \"degree\": 3, \"amplitude\": 1.5 } }")) }",
                       mentions: ["initial.perturbation.amplitude", "1.5"])
        assertRejected("{ \(base.replacingOccurrences(of: "\"snapshot_every\": 0.5", with: "\"snapshots\": [0, 2]")) }",
                       mentions: ["time.snapshots[1]", "2"])
        assertRejected("{ \(base.replacingOccurrences(of: "\"identity\", \"key\": \"identity\"", with: "1e200, \"key\": 1e200")) }",
                       mentions: ["model", "1e+200", "scale the query or key matrix down"])
        assertRejected("{ \(base.replacingOccurrences(of: "\"identity\", \"key\": \"identity\"", with: "1e4, \"key\": 1e4")) }",
                       mentions: ["beta·|A|", "run particles only"])
        assertRejected("{ \(base.replacingOccurrences(of: "\"beta\": 4.0", with: "\"beta\": 1e999")) }",
                       mentions: ["outside the double range", "1e999"])
        assertRejected("{ \"model\": 1 ", mentions: ["not valid JSON"])
        assertRejected("[1, 2]", mentions: ["JSON object"])
    }

    func testMissingConfigFileIsReported() {
        XCTAssertThrowsError(try RunConfig.load(path: "/nonexistent/run.json")) { error in
            XCTAssertTrue("\(error)".contains("/nonexistent/run.json"), "\(error)")
        }
    }

    func testRunArgumentsParse() throws {
        let parsed = try MeanFieldCommand.parseRunArguments(["a.json", "b.json", "--output", "results", "--quiet"])
        XCTAssertEqual(parsed.configPaths, ["a.json", "b.json"])
        XCTAssertEqual(parsed.output, "results")
        XCTAssertTrue(parsed.quiet)
        XCTAssertThrowsError(try MeanFieldCommand.parseRunArguments(["--output"]))
        XCTAssertThrowsError(try MeanFieldCommand.parseRunArguments(["a.json", "--frobnicate"]))
        XCTAssertThrowsError(try MeanFieldCommand.parseRunArguments([]))
    }

    func testInvalidConfigExitsWithUsageCode() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("meanfield-config-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let file = folder.appendingPathComponent("bad.json")
        try Data("{ \(base.replacingOccurrences(of: "\"beta\": 4.0", with: "\"beta\": 0")) }".utf8).write(to: file)
        XCTAssertEqual(MeanFieldCommand.main(arguments: ["run", file.path, "--quiet"]), 64)
        XCTAssertEqual(MeanFieldCommand.main(arguments: ["run", folder.appendingPathComponent("missing.json").path]), 64)
        XCTAssertEqual(MeanFieldCommand.main(arguments: ["frobnicate"]), 64)
    }

    func testInputFilesAndKernelPathCheckedBeforeRunning() {
        assertRejected("{ \(base.replacingOccurrences(of: "{ \"kind\": \"uniform\" }", with: "{ \"kind\": \"csv\", \"path\": \"/nonexistent/t=0.000000.csv\" }")) }",
                       mentions: ["initial.path", "/nonexistent/t=0.000000.csv", "not found"])
        assertRejected("{ \(base.replacingOccurrences(of: "\"query\": \"identity\"", with: "\"query\": [[1, 0, 0], [0, 2, 0], [0, 0, 1]]").replacingOccurrences(of: "\"cfl\": 0.5", with: "\"cfl\": 0.5, \"kernel\": \"spectral\"")) }",
                       mentions: ["density.kernel", "spectral", "direct"])
    }

    func testInputFileContentsCheckedBeforeRunning() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("meanfield-inputs-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }

        // Five tokens for a run that requests six.
        let tokens = directory.appendingPathComponent("tokens.csv")
        try Data("x1,x2,x3\n1,0,0\n0,1,0\n0,0,1\n-1,0,0\n0,-1,0\n".utf8).write(to: tokens)
        assertRejected("""
        { "name": "tokens", "model": { "beta": 1.0, "normalization": "softmax" },
          "initial": { "kind": "csv", "path": "\(tokens.path)" },
          "particles": { "count": 6, "step": 0.1 }, "time": { "end": 1.0 } }
        """, mentions: ["initial.path", "5 tokens", "particles.count is 6"])

        // A mixture with a token file needs a density grid to sample from.
        assertRejected("""
        { "name": "mixture", "model": { "beta": 1.0, "normalization": "softmax" },
          "initial": { "kind": "mixture", "components": [
              { "weight": 0.5, "kind": "uniform" }, { "weight": 0.5, "kind": "csv", "path": "\(tokens.path)" }] },
          "particles": { "count": 5, "step": 0.1 }, "time": { "end": 1.0 } }
        """, mentions: ["initial.components", "csv component needs a density section"])

        // A snapshot with three cells for gl32, which has 2048.
        let snapshot = directory.appendingPathComponent("t=0.000000.csv")
        try Data("colatitude,longitude,area,density\n0.1,0.1,0.01,1\n0.2,0.1,0.01,1\n0.3,0.1,0.01,1\n".utf8).write(to: snapshot)
        assertRejected("{ \(base.replacingOccurrences(of: "{ \"kind\": \"uniform\" }", with: "{ \"kind\": \"csv\", \"path\": \"\(snapshot.path)\" }")) }",
                       mentions: [snapshot.path, "3 cells", "2048"])

        // A snapshot of gl32 whose densities are all 0.
        let grid = try SphereGrid(nlat: 32)
        let empty = directory.appendingPathComponent("t=1.000000.csv")
        try Data(snapshotText(grid: grid, centres: grid.cellCentres(), areas: grid.cellAreas(),
                              density: [Double](repeating: 0, count: grid.cellCount), velocity: nil).utf8).write(to: empty)
        assertRejected("{ \(base.replacingOccurrences(of: "{ \"kind\": \"uniform\" }", with: "{ \"kind\": \"csv\", \"path\": \"\(empty.path)\" }")) }",
                       mentions: [empty.path, "density 0 in every cell"])
    }
}
