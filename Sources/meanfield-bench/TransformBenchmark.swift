import AttentionKernel
import Foundation
import LinearAlgebra
import SphereGrid

/// Median wall time of `body` in milliseconds over `repeats` calls after one warm-up call.
func medianTime(repeats: Int, _ body: () throws -> Void) rethrows -> Double {
    try body()
    var samples: [Double] = []
    for _ in 0..<repeats {
        let start = DispatchTime.now().uptimeNanoseconds
        try body()
        samples.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6)
    }
    samples.sort()
    return samples[samples.count / 2]
}

func formatMilliseconds(_ value: Double) -> String {
    value < 10 ? String(format: "%.3f", value) : String(format: "%.1f", value)
}

/// Timings of ducc0's transforms from `ducc0_bench.py`, keyed by nlat.
struct Ducc0Timings {
    var roundTrip: [Int: Double] = [:]
    var gradient: [Int: Double] = [:]
    var problem: String?

    /// `heapAllocator` true runs Python with the glibc settings of
    /// `keepLargeAllocationsInHeap()`, false with glibc's defaults.
    init(python: String, threads: Int, ringCounts: [Int], heapAllocator: Bool) {
        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("ducc0_bench.py")
        let process = Process()
        process.executableURL = URL(fileURLWithPath: python)
        process.arguments = [script.path, String(threads)] + ringCounts.map(String.init)
        var environment = ProcessInfo.processInfo.environment
        if heapAllocator {
            environment["MALLOC_MMAP_THRESHOLD_"] = String(512 << 20)
            environment["MALLOC_TRIM_THRESHOLD_"] = String(1 << 30)
        } else {
            environment["MALLOC_MMAP_THRESHOLD_"] = nil
            environment["MALLOC_TRIM_THRESHOLD_"] = nil
        }
        process.environment = environment
        let pipe = Pipe()
        process.standardOutput = pipe
        do {
            try process.run()
        } catch {
            problem = "ducc0 was not run: \(python) could not be started (\(error.localizedDescription)); run `make bench`, which creates the virtual environment"
            return
        }
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            problem = "ducc0_bench.py exited with status \(process.terminationStatus)"
            return
        }
        for line in String(decoding: data, as: UTF8.self).split(separator: "\n") {
            guard let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any],
                  let nlat = object["nlat"] as? Int else { continue }
            roundTrip[nlat] = object["round_trip_ms"] as? Double
            gradient[nlat] = object["gradient_ms"] as? Double
        }
    }
}

/// Random band-limited coefficients from a fixed linear congruential sequence.
func sampleCoefficients(maximumDegree: Int) -> HarmonicCoefficients {
    var coefficients = HarmonicCoefficients(maximumDegree: maximumDegree)
    var state: UInt64 = 12345
    for index in coefficients.values.indices {
        state = state &* 6364136223846793005 &+ 1442695040888963407
        coefficients.values[index] = Double(state >> 11) * 0x1p-53 - 0.5
    }
    return coefficients
}

/// Markdown section comparing our transforms with ducc0 and timing the kernel.
func runTransformBenchmark(python: String, threads: Int) throws -> String {
    let ringCounts = [64, 128, 256]
    let ducc0 = Ducc0Timings(python: python, threads: threads, ringCounts: ringCounts, heapAllocator: true)
    let ducc0Default = Ducc0Timings(python: python, threads: threads, ringCounts: ringCounts, heapAllocator: false)
    var lines = [
        "## Spherical-harmonic transforms and attention kernel",
        "",
        "Gauss–Legendre grids with nlat rings and 2·nlat longitudes, L = nlat − 1,",
        "\(threads) threads for both libraries. Round trip = analysis + synthesis of one",
        "scalar field; gradient = synthesis of ∂f/∂θ and (1/sin θ) ∂f/∂φ (ducc0: spin-1",
        "synthesis in DERIV1 mode, the same output). Velocity = one full attention",
        "velocity evaluation on the spectral path (softmax, β = 4, Q = K = V = I): D, the",
        "velocity, the potential and the energy at every cell, as the solver requests them.",
        "Median wall time in milliseconds. Our process keeps large arrays in the glibc heap",
        "(`keepLargeAllocationsInHeap`, as `meanfield` does); the ducc0 columns use the same",
        "allocator settings, and the last ducc0 column glibc's defaults, under which each new",
        "output array is a fresh mapping whose pages fault on first touch.",
        "",
        "| nlat | round trip | ducc0 round trip | ratio | gradient | ducc0 gradient | ratio | velocity (spectral) | velocity / round trip | ducc0 round trip, default allocator |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    var roundTripRatio256: Double?
    var roundTripDefault256: Double?
    var velocityRatio128: Double?
    for nlat in ringCounts {
        let grid = try SphereGrid(nlat: nlat)
        let transform = try SphericalHarmonicTransform(grid: grid)
        let coefficients = sampleCoefficients(maximumDegree: transform.maximumDegree)
        let field = transform.synthesize(coefficients)
        let repeats = nlat <= 128 ? 50 : 20
        let roundTrip = medianTime(repeats: repeats) { _ = transform.synthesize(transform.analyze(field)) }
        let gradient = medianTime(repeats: repeats) { _ = transform.synthesizeGradient(coefficients) }

        let model = try AttentionModel(beta: 4, normalization: .softmax)
        let kernel = try AttentionKernel(grid: grid, model: model, path: .spectral)
        // A positive density 1 + f/2 with the random field scaled to max |f| = 1.
        let areas = grid.cellAreas()
        let largest = field.map(abs).max() ?? 1
        let shape = field.map { 1 + 0.5 * $0 / largest }
        let total = zip(shape, areas).map { $0 * $1 }.reduce(0, +)
        let density = shape.map { $0 / total }
        let velocity = try medianTime(repeats: repeats) {
            _ = try kernel.evaluate(density: density, includeNumerator: false)
        }

        if nlat == 256, let peer = ducc0.roundTrip[nlat] { roundTripRatio256 = roundTrip / peer }
        if nlat == 256, let peer = ducc0Default.roundTrip[nlat] { roundTripDefault256 = roundTrip / peer }
        if nlat == 128 { velocityRatio128 = velocity / roundTrip }
        func ratio(_ ours: Double, _ peer: Double?) -> String {
            peer.map { String(format: "%.2f", ours / $0) } ?? "n/a"
        }
        lines.append("| \(nlat) | \(formatMilliseconds(roundTrip)) | \(ducc0.roundTrip[nlat].map(formatMilliseconds) ?? "n/a") | \(ratio(roundTrip, ducc0.roundTrip[nlat])) | \(formatMilliseconds(gradient)) | \(ducc0.gradient[nlat].map(formatMilliseconds) ?? "n/a") | \(ratio(gradient, ducc0.gradient[nlat])) | \(formatMilliseconds(velocity)) | \(String(format: "%.2f", velocity / roundTrip)) | \(ducc0Default.roundTrip[nlat].map(formatMilliseconds) ?? "n/a") |")
    }
    if let problem = ducc0.problem ?? ducc0Default.problem { lines += ["", "NOTE: \(problem)."] }

    // Direct path: exact quadrature over all cell pairs.
    let grid = try SphereGrid(nlat: 64)
    let model = try AttentionModel(beta: 4, normalization: .softmax)
    let direct = try AttentionKernel(grid: grid, model: model, path: .direct)
    let density = [Double](repeating: 1 / (4 * Double.pi), count: grid.cellCount)
    let directTime = try medianTime(repeats: 3) { _ = try direct.evaluate(density: density) }
    lines += [
        "",
        "Direct path (exact quadrature over all \(grid.cellCount)² cell pairs, any A) at nlat = 64: \(formatMilliseconds(directTime)) ms per velocity evaluation.",
        "",
        "Targets: round trip at nlat = 256 no slower than 1.5× ducc0; one spectral velocity evaluation at nlat = 128 within 5 round-trip times.",
        "",
        "This run: round trip at nlat = 256 "
            + (roundTripRatio256.map { String(format: "%.2f× ducc0 with the same allocator (%@)", $0, $0 <= 1.5 ? "met" : "not met") } ?? "not compared")
            + (roundTripDefault256.map { String(format: ", %.2f× ducc0 with its default allocator", $0) } ?? "")
            + "; spectral velocity at nlat = 128 "
            + (velocityRatio128.map { String(format: "%.2f round trips (%@)", $0, $0 < 5 ? "met" : "not met") } ?? "not measured")
            + ".",
    ]
    return lines.joined(separator: "\n") + "\n"
}
