import Foundation
import XCTest
@testable import SphereGrid

/// Prints transform timings when MEANFIELD_TRANSFORM_TIMING=1; build with
/// `swift test -c release -Xswiftc -enable-testing --filter TransformTimingTests`.
final class TransformTimingTests: XCTestCase {
    /// Process CPU time (user + system, all threads) in milliseconds.
    private func processMilliseconds() -> Double {
        var usage = rusage()
        getrusage(__rusage_who_t(RUSAGE_SELF.rawValue), &usage)
        let user = Double(usage.ru_utime.tv_sec) * 1e3 + Double(usage.ru_utime.tv_usec) / 1e3
        let system = Double(usage.ru_stime.tv_sec) * 1e3 + Double(usage.ru_stime.tv_usec) / 1e3
        return user + system
    }

    /// Median wall-clock time of `repeats` runs of `body` and the mean CPU
    /// time per run summed over threads, both in milliseconds. On a loaded
    /// machine the CPU time is the steadier measure of the work done.
    private func measure(repeats: Int, _ body: () -> Void) -> (wall: Double, cpu: Double) {
        var times = [Double]()
        let cpuStart = processMilliseconds()
        for _ in 0..<repeats {
            let start = DispatchTime.now().uptimeNanoseconds
            body()
            times.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6)
        }
        let cpu = (processMilliseconds() - cpuStart) / Double(repeats)
        return (times.sorted()[repeats / 2], cpu)
    }

    func testPrintTransformTimings() throws {
        try XCTSkipUnless(ProcessInfo.processInfo.environment["MEANFIELD_TRANSFORM_TIMING"] == "1",
                          "set MEANFIELD_TRANSFORM_TIMING=1 to print timings")
        let sizes = ProcessInfo.processInfo.environment["MEANFIELD_TRANSFORM_TIMING_NLAT"]?
            .split(separator: ",").compactMap { Int($0) } ?? [64, 128, 256, 512]
        for nlat in sizes {
            let degree = ProcessInfo.processInfo.environment["MEANFIELD_TRANSFORM_TIMING_DEGREE"].flatMap { Int($0) }
            let transform = try SphericalHarmonicTransform(grid: SphereGrid(nlat: nlat), maximumDegree: degree)
            var generator = SplitMix64(seed: 5)
            var coefficients = HarmonicCoefficients(maximumDegree: transform.maximumDegree)
            for i in coefficients.values.indices { coefficients.values[i] = generator.nextSigned() }
            var field = transform.synthesize(coefficients)
            let repeats = nlat <= 128 ? 101 : 21
            let synthesis = measure(repeats: repeats) { field = transform.synthesize(coefficients) }
            let analysis = measure(repeats: repeats) { coefficients = transform.analyze(field) }
            let gradient = measure(repeats: repeats) { _ = transform.synthesizeGradient(coefficients) }
            print(String(format: "nlat %4d  wall ms: synthesis %7.3f analysis %7.3f round trip %7.3f gradient %7.3f  |  cpu ms: synthesis %7.3f analysis %7.3f round trip %7.3f gradient %7.3f",
                         nlat, synthesis.wall, analysis.wall, synthesis.wall + analysis.wall, gradient.wall,
                         synthesis.cpu, analysis.cpu, synthesis.cpu + analysis.cpu, gradient.cpu))
        }
    }
}
