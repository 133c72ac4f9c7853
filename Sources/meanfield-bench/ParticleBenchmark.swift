import Foundation
import LinearAlgebra
import Particles

/// Times one softmax velocity evaluation (β = 1, Q = K = V = I) for
/// n ∈ {1000, 4000, 16000} and d ∈ {3, 16}, and the same step in NumPy
/// (`numpy_particles_bench.py`, float64, row blocks, 2 BLAS threads) run by
/// the interpreter in `.venv/bench` of the repository that contains the
/// current directory, in three processes of which the fastest counts. Returns Markdown tables of median wall times.
///
/// Columns: "ours" is the default method (fused rows for these d) on two
/// workers; "BLAS blocks" is the dgemm-based method on two workers with
/// single-threaded OpenBLAS. The ratio is NumPy time / "ours" time. A second
/// table compares the two methods over d at n = 4000, which is where the
/// automatic method's dimension limit comes from.
public func runParticleBenchmark() -> String {
    let cases: [(n: Int, d: Int)] = [(1000, 3), (1000, 16), (4000, 3), (4000, 16), (16000, 3), (16000, 16)]
    let originalBLASThreads = blasThreadCount()
    defer { setBLASThreadCount(originalBLASThreads) }
    setBLASThreadCount(1)
    let numpy = NumPyParticleRunner()
    var lines = [
        "| n | d | ours (ms) | ours, BLAS blocks (ms) | NumPy (ms) | NumPy / ours |",
        "|---:|---:|---:|---:|---:|---:|",
    ]
    var notes: [String] = []
    var targetRatios: [(n: Int, d: Int, ratio: Double)] = []
    if let problem = numpy.problem { notes.append(problem) }

    for (n, d) in cases {
        let repeats = n >= 16000 ? 5 : 21
        let ours = medianMilliseconds(n: n, d: d, method: .automatic, repeats: repeats)
        let blocked = medianMilliseconds(n: n, d: d, method: .blasBlocks, repeats: repeats)
        let reference = numpy.fastestMedianMilliseconds(n: n, d: d, repeats: repeats, processes: 3)
        let referenceText: String
        let ratioText: String
        switch reference {
        case let .success(milliseconds):
            referenceText = format(milliseconds)
            ratioText = String(format: "%.2f", milliseconds / ours)
            if n >= 4000 { targetRatios.append((n, d, milliseconds / ours)) }
        case let .failure(error):
            referenceText = "n/a"
            ratioText = "n/a"
            if numpy.problem == nil { notes.append("NumPy run for n = \(n), d = \(d) failed: \(error.message)") }
        }
        lines.append("| \(n) | \(d) | \(format(ours)) | \(format(blocked)) | \(referenceText) | \(ratioText) |")
    }
    let header = "## Particle step\n\nParticle velocity, softmax, β = 1, Q = K = V = I; median wall time of "
        + "5 (n = 16000) or 21 runs after one warm-up, two workers. \"ours\" is the default method, "
        + "fused rows with \(vectorKernelInstructionSet) kernels; \"BLAS blocks\" forms scores and weighted sums "
        + "by single-threaded dgemm per worker. NumPy runs in row blocks with two BLAS threads, in 3 separate processes, and the fastest "
        + "process median is shown. On the development machine NumPy's time for one case varied by up to 2× "
        + "between invocations minutes apart, much more than ours, so single ratios carry that uncertainty.\n\n"
    let target = "\n\nTarget: NumPy / ours at least 2 at n = 4000 and 16000. This run: "
        + targetRatios.map { String(format: "n = %d, d = %d: %.2f", $0.n, $0.d, $0.ratio) }.joined(separator: "; ")
        + (targetRatios.allSatisfy { $0.ratio >= 2 } ? " (met)." : " (not met in every case).")
    return header + (lines + notes.map { "\nNote: \($0)" }).joined(separator: "\n") + target
        + "\n\n" + methodComparison()
}

/// Fused rows against BLAS blocks at n = 4000 over d.
private func methodComparison() -> String {
    var lines = [
        "### Methods over d",
        "",
        "n = 4000, two workers, median of 5 runs. `automatic` uses fused rows up to "
            + "d = \(AttentionMethod.fusedDimensionLimit) and BLAS blocks above.",
        "",
        "| d | fused rows (ms) | BLAS blocks (ms) | BLAS blocks / fused rows |",
        "|---:|---:|---:|---:|",
    ]
    for d in [16, 32, 48, 64, 128, 256] {
        let fused = medianMilliseconds(n: 4000, d: d, method: .fusedRows, repeats: 5)
        let blocked = medianMilliseconds(n: 4000, d: d, method: .blasBlocks, repeats: 5)
        lines.append("| \(d) | \(format(fused)) | \(format(blocked)) | \(String(format: "%.2f", blocked / fused)) |")
    }
    return lines.joined(separator: "\n")
}

private func format(_ milliseconds: Double) -> String {
    String(format: milliseconds < 10 ? "%.2f" : "%.1f", milliseconds)
}

private func medianMilliseconds(n: Int, d: Int, method: AttentionMethod, repeats: Int) -> Double {
    do {
        let model = try ParticleModel(dimension: d, beta: 1, normalization: .softmax,
                                      evaluation: EvaluationOptions(workerCount: 2, method: method))
        let tokens = try Tokens.sample(.uniform, count: n, dimension: d, seed: 1)
        _ = try model.velocity(of: tokens)
        var times: [Double] = []
        for _ in 0..<repeats {
            let start = DispatchTime.now().uptimeNanoseconds
            _ = try model.velocity(of: tokens)
            times.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6)
        }
        return times.sorted()[times.count / 2]
    } catch {
        return .nan
    }
}

private struct BenchmarkFailure: Error {
    let message: String
}

/// Locates the NumPy script and the benchmark interpreter from the current
/// directory upward and runs one case per call.
private struct NumPyParticleRunner {
    var python: URL?
    var script: URL?
    var problem: String?

    init() {
        var directory = URL(fileURLWithPath: FileManager.default.currentDirectoryPath)
        var root: URL?
        while true {
            if FileManager.default.fileExists(atPath: directory.appendingPathComponent("Package.swift").path) {
                root = directory
                break
            }
            let parent = directory.deletingLastPathComponent()
            if parent.path == directory.path { break }
            directory = parent
        }
        guard let root else {
            problem = "no Package.swift found above the current directory, so NumPy was not run"
            return
        }
        let python = root.appendingPathComponent(".venv/bench/bin/python")
        let script = root.appendingPathComponent("Sources/meanfield-bench/numpy_particles_bench.py")
        guard FileManager.default.isExecutableFile(atPath: python.path) else {
            problem = "the virtual environment \(root.path)/.venv/bench is missing, so NumPy was not run; "
                + "create it with `python3 -m venv .venv/bench && .venv/bench/bin/pip install numpy threadpoolctl`"
            return
        }
        guard FileManager.default.fileExists(atPath: script.path) else {
            problem = "\(script.path) not found, so NumPy was not run"
            return
        }
        self.python = python
        self.script = script
    }

    /// Runs the script in `processes` separate processes and returns the
    /// smallest of their medians, or the first failure.
    func fastestMedianMilliseconds(n: Int, d: Int, repeats: Int, processes: Int) -> Result<Double, BenchmarkFailure> {
        var fastest = Double.infinity
        for _ in 0..<processes {
            switch medianMilliseconds(n: n, d: d, repeats: repeats) {
            case let .success(milliseconds): fastest = min(fastest, milliseconds)
            case let .failure(error): return .failure(error)
            }
        }
        return .success(fastest)
    }

    func medianMilliseconds(n: Int, d: Int, repeats: Int) -> Result<Double, BenchmarkFailure> {
        guard let python, let script else {
            return .failure(BenchmarkFailure(message: problem ?? "NumPy is unavailable"))
        }
        let process = Process()
        process.executableURL = python
        process.arguments = [script.path, "\(n)", "\(d)", "--repeats", "\(repeats)", "--threads", "2"]
        let output = Pipe()
        let errors = Pipe()
        process.standardOutput = output
        process.standardError = errors
        do {
            try process.run()
        } catch {
            return .failure(BenchmarkFailure(message: "failed to start \(python.path): \(error)"))
        }
        let data = output.fileHandleForReading.readDataToEndOfFile()
        let errorData = errors.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        let text = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        guard process.terminationStatus == 0, let milliseconds = Double(text) else {
            let detail = String(decoding: errorData, as: UTF8.self).split(separator: "\n").last ?? ""
            return .failure(BenchmarkFailure(
                message: "the script failed with exit status \(process.terminationStatus) and output \"\(text)\" \(detail)"))
        }
        return .success(milliseconds)
    }
}
