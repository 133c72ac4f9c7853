import Foundation
import XCTest
@testable import AttentionKernel

final class BesselTests: XCTestCase {
    private let arguments: [Double] = [1e-3, 0.5, 4, 30, 500]

    /// e^{−z} i_l(z) from the power series
    /// i_l(z) = Σ_k z^{l+2k} / (2^k k! (2l+2k+1)!!), summed in extended
    /// precision; every term is positive, so the sum is accurate to ~1e−18.
    private func seriesSphericalBessel(_ l: Int, _ z: Double) -> Double {
        let x = Float80(z)
        var term: Float80 = 1
        for n in 0...l {
            term *= n == 0 ? 1 : x / Float80(2 * n + 1)
        }
        var sum: Float80 = 0
        var k = 0
        while true {
            sum += term
            k += 1
            term *= x * x / (2 * Float80(k) * Float80(2 * l + 2 * k + 1))
            if term < sum * 1e-22 && Float80(k) > x { break }
        }
        return Double(sum * Foundation.exp(-x))
    }

    /// e^{−z} I_k(z) from I_k(z) = Σ_m (z/2)^{2m+k} / (m! (m+k)!) in extended precision.
    private func seriesBessel(_ k: Int, _ z: Double) -> Double {
        let half = Float80(z) / 2
        var term: Float80 = 1
        for n in stride(from: 1, through: k, by: 1) {
            term *= half / Float80(n)
        }
        var sum: Float80 = 0
        var m = 0
        while true {
            sum += term
            m += 1
            term *= half * half / (Float80(m) * Float80(m + k))
            if term < sum * 1e-22 && Float80(m) > half { break }
        }
        return Double(sum * Foundation.exp(-Float80(z)))
    }

    private func assertRelative(_ value: Double, _ reference: Double, _ tolerance: Double,
                                _ message: String, file: StaticString = #filePath, line: UInt = #line) {
        let error = abs(value - reference) / abs(reference)
        XCTAssertLessThanOrEqual(error, tolerance, "\(message): got \(value), expected \(reference)",
                                 file: file, line: line)
    }

    func testSphericalBesselClosedForms() {
        for z in arguments {
            let values = scaledModifiedSphericalBessel(maximumDegree: 2, argument: z)
            let x = Float80(z)
            let scale = Foundation.exp(-x)
            let sinhValue = Foundation.sinh(x), coshValue = Foundation.cosh(x)
            // The closed forms cancel for small z, where the series is the reference.
            let i0 = z < 0.1 ? seriesSphericalBessel(0, z) : Double(scale * sinhValue / x)
            let i1 = z < 0.1 ? seriesSphericalBessel(1, z) : Double(scale * (x * coshValue - sinhValue) / (x * x))
            let i2 = z < 0.1 ? seriesSphericalBessel(2, z)
                : Double(scale * ((x * x + 3) * sinhValue - 3 * x * coshValue) / (x * x * x))
            assertRelative(values[0], i0, 1e-14, "i_0(\(z))")
            assertRelative(values[1], i1, 1e-13, "i_1(\(z))")
            assertRelative(values[2], i2, 1e-13, "i_2(\(z))")
        }
    }

    func testSphericalBesselMatchesSeries() {
        for z in arguments + [1000] {
            let values = scaledModifiedSphericalBessel(maximumDegree: 80, argument: z)
            for l in 0...80 {
                let reference = seriesSphericalBessel(l, z)
                guard reference > 1e-280 else { continue }
                assertRelative(values[l], reference, 1e-13, "i_\(l)(\(z))")
            }
        }
    }

    func testSphericalBesselLargeArgumentExpansion() {
        // For integer l the expansion terminates:
        // e^{−z} i_l(z) = (1/(2z)) Σ_{k≤l} (−1)^k (l+k)! / (k! (l−k)! (2z)^k) + O(e^{−2z}).
        let z = 1000.0
        let values = scaledModifiedSphericalBessel(maximumDegree: 30, argument: z)
        for l in 0...30 {
            var sum: Float80 = 0
            var term: Float80 = 1
            for k in 0...l {
                sum += term
                term *= -Float80((l + k + 1) * (l - k)) / (Float80(k + 1) * 2 * Float80(z))
            }
            let reference = Double(sum / (2 * Float80(z)))
            assertRelative(values[l], reference, 1e-13, "i_\(l)(1000)")
        }
    }

    func testSphericalBesselSmallArgumentLimit() {
        let z = 1e-6
        let values = scaledModifiedSphericalBessel(maximumDegree: 6, argument: z)
        var doubleFactorial = 1.0
        for l in 0...6 {
            if l > 0 { doubleFactorial *= Double(2 * l + 1) }
            // i_l(z) = z^l/(2l+1)!! (1 + z²/(2(2l+3)) + …), and e^{−z} = 1 − z + …
            let leading = pow(z, Double(l)) / doubleFactorial * (1 - z)
            assertRelative(values[l], leading, 1e-11, "i_\(l)(1e-6)")
        }
    }

    func testSphericalBesselAtZero() {
        XCTAssertEqual(scaledModifiedSphericalBessel(maximumDegree: 3, argument: 0), [1, 0, 0, 0])
        XCTAssertEqual(scaledModifiedSphericalBesselDerivative(maximumDegree: 2, argument: 0), [0, 1.0 / 3, 0])
        XCTAssertEqual(scaledModifiedSphericalBesselOverArgument(maximumDegree: 2, argument: 0), [0, 1.0 / 3, 0])
    }

    func testSphericalBesselDerivative() {
        for z in arguments {
            let derivatives = scaledModifiedSphericalBesselDerivative(maximumDegree: 20, argument: z)
            // i_l' = i_{l−1} − (l+1)/z · i_l and i_0' = i_1.
            assertRelative(derivatives[0], seriesSphericalBessel(1, z), 1e-13, "i_0'(\(z))")
            for l in 1...20 {
                let reference = seriesSphericalBessel(l - 1, z) - Double(l + 1) / z * seriesSphericalBessel(l, z)
                guard abs(reference) > 1e-280 else { continue }
                // The reference itself cancels for z ≫ l, by about a factor z/l.
                assertRelative(derivatives[l], reference, 1e-13 * max(1, z / Double(l)), "i_\(l)'(\(z))")
            }
        }
    }

    func testSphericalBesselOverArgument() {
        for z in arguments {
            let quotients = scaledModifiedSphericalBesselOverArgument(maximumDegree: 20, argument: z)
            for l in 1...20 {
                let reference = seriesSphericalBessel(l, z) / z
                guard reference > 1e-280 else { continue }
                assertRelative(quotients[l], reference, 1e-13, "i_\(l)(\(z))/z")
            }
        }
    }

    func testLogOrderZero() {
        assertRelative(logModifiedSphericalBesselOrderZero(argument: 2), log(sinh(2.0) / 2), 1e-15, "log i_0(2)")
        assertRelative(logModifiedSphericalBesselOrderZero(argument: -2), log(sinh(2.0) / 2), 1e-15, "log i_0(-2)")
        // log i_0(1000) = 1000 − log 2000 + log(1 − e^{−2000}).
        assertRelative(logModifiedSphericalBesselOrderZero(argument: 1000), 1000 - log(2000.0), 1e-15, "log i_0(1000)")
        XCTAssertEqual(logModifiedSphericalBesselOrderZero(argument: 0), 0)
    }

    func testIntegerOrderBesselKnownValues() {
        let values = scaledModifiedBessel(maximumOrder: 1, argument: 1)
        assertRelative(values[0] * exp(1.0), 1.2660658777520082, 1e-14, "I_0(1)")
        assertRelative(values[1] * exp(1.0), 0.5651591039924851, 1e-14, "I_1(1)")
        XCTAssertEqual(scaledModifiedBessel(maximumOrder: 2, argument: 0), [1, 0, 0])
    }

    func testIntegerOrderBesselMatchesSeries() {
        for z in arguments + [1000] {
            let values = scaledModifiedBessel(maximumOrder: 60, argument: z)
            for k in 0...60 {
                let reference = seriesBessel(k, z)
                guard reference > 1e-280 else { continue }
                assertRelative(values[k], reference, 1e-13, "I_\(k)(\(z))")
            }
        }
    }

    func testIntegerOrderBesselAsymptotics() {
        // e^{−z} I_0(z) = (1/√(2πz)) Σ_k ((2k−1)!!)² / (k! (8z)^k); the terms
        // beyond k = 4 are below 3e−16 at z = 1000.
        let z = 1000.0
        let value = scaledModifiedBessel(maximumOrder: 0, argument: z)[0]
        let series = 1 + 1 / (8 * z) + 9 / (128 * z * z) + 225 / (3072 * pow(z, 3)) + 11025 / (98304 * pow(z, 4))
        assertRelative(value, series / (2 * Double.pi * z).squareRoot(), 1e-13, "I_0(1000)")
        // Small z: I_k(z) ≈ (z/2)^k / k!.
        let small = scaledModifiedBessel(maximumOrder: 3, argument: 1e-6)
        assertRelative(small[3], pow(0.5e-6, 3) / 6 * (1 - 1e-6), 1e-11, "I_3(1e-6)")
    }
}

/// A small seeded generator, so that random tests repeat exactly.
struct SplitMix64: RandomNumberGenerator {
    private var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    /// Uniform in [0, 1).
    mutating func nextUnit() -> Double { Double(next() >> 11) * 0x1p-53 }
}
