import CVectorKernels
import XCTest
@testable import SphereGrid

/// Checks the C Legendre kernels at every instruction-set level this
/// processor runs against a scalar loop of the same recurrence.
final class LegendreKernelTests: XCTestCase {
    private let rings = Int(LEGENDRE_BLOCK_RINGS)
    private var levels: [Int32] { Array(0...available_vector_level()) }

    /// Recurrence factors of order m from real tables, and a start state of
    /// plain values at degree offset `first`.
    private func problem(order m: Int, first: Int, seed: UInt64)
        -> (tables: LegendreTables, x: [Double], current: [Double], next: [Double]) {
        let grid = try! SphereGrid(nlat: 64)
        let tables = LegendreTables(grid: grid, maximumDegree: 63)
        var generator = SplitMix64(seed: seed)
        let x = (0..<rings).map { _ in generator.nextSigned() }
        let current = (0..<rings).map { _ in 0.5 * generator.nextSigned() }
        let next = (0..<rings).map { _ in 0.5 * generator.nextSigned() }
        return (tables, x, current, next)
    }

    /// q_n per ring for n = first ... last by the scalar recurrence, with 0
    /// while a ring's exponent level is below 0 and the rescaling by 2^−512
    /// when its value passes 2^256.
    private func values(x: [Double], current: [Double], next: [Double], levels: [Double], first: Int, last: Int,
                        factor: UnsafePointer<Double>) -> [[Double]] {
        var result: [[Double]] = []
        var q0 = current, q1 = next, level = levels
        var n = first
        while n <= last {
            result.append((0..<rings).map { level[$0] == 0 ? q0[$0] : 0 })
            for r in 0..<rings {
                let following = factor[n + 2] * x[r] * q1[r] - q0[r]
                q0[r] = q1[r]
                q1[r] = following
                if level[r] < 0 && abs(following) > 0x1p256 {
                    q0[r] *= 0x1p-512
                    q1[r] *= 0x1p-512
                    level[r] += 1
                }
            }
            n += 1
        }
        return result
    }

    private let plainLevels = [Double](repeating: 0, count: Int(LEGENDRE_BLOCK_RINGS))

    func testAnalyzeBlockMatchesScalarSums() {
        for (m, first) in [(0, 0), (3, 1), (10, 4), (30, 33 - 30 + 1)] {
            let (tables, x, current, next) = problem(order: m, first: first, seed: UInt64(m + 1))
            let last = 63 - m
            var generator = SplitMix64(seed: 99)
            let parts = (0..<4).map { _ in (0..<rings).map { _ in 0.5 * generator.nextSigned() } }
            let factor = tables.recurrenceFactor.withUnsafeBufferPointer { Array($0[tables.orderOffset[m]...]) }
            let q = factor.withUnsafeBufferPointer {
                values(x: x, current: current, next: next, levels: plainLevels, first: first, last: last, factor: $0.baseAddress!)
            }
            var expected = [Double](repeating: 0, count: 4 * (last + 1))
            for (offset, row) in q.enumerated() {
                let n = first + offset
                let cosParts = n % 2 == 0 ? parts[0] : parts[2]
                let sinParts = n % 2 == 0 ? parts[1] : parts[3]
                expected[4 * n] = (0..<rings).reduce(0) { $0 + row[$1] * cosParts[$1] }
                expected[4 * n + 2] = (0..<rings).reduce(0) { $0 + row[$1] * sinParts[$1] }
            }
            for level in levels {
                var sums = [Double](repeating: 0, count: 4 * (last + 1))
                legendre_analyze_block_at_level(level, x, current, next, plainLevels, first, last, factor,
                                                parts[0], parts[1], parts[2], parts[3], &sums)
                // Each degree's two partial sums add up to the scalar sum.
                for n in 0...last {
                    let cosSum = sums[4 * n] + sums[4 * n + 1]
                    let sinSum = sums[4 * n + 2] + sums[4 * n + 3]
                    let scale = max(1, abs(expected[4 * n]), abs(expected[4 * n + 2]))
                    XCTAssertEqual(cosSum, expected[4 * n], accuracy: 1e-12 * scale, "level \(level), m = \(m), n = \(n)")
                    XCTAssertEqual(sinSum, expected[4 * n + 2], accuracy: 1e-12 * scale, "level \(level), m = \(m), n = \(n)")
                }
            }
        }
    }

    func testSynthesizeBlockMatchesScalarSums() {
        for (m, first) in [(0, 0), (5, 3), (20, 2), (40, 23)] {
            let (tables, x, current, next) = problem(order: m, first: first, seed: UInt64(m + 7))
            let last = 63 - m
            var generator = SplitMix64(seed: 5)
            let cosCoefficients = (0...(last + 3)).map { _ in 0.5 * generator.nextSigned() }
            let sinCoefficients = (0...(last + 3)).map { _ in 0.5 * generator.nextSigned() }
            let factor = tables.recurrenceFactor.withUnsafeBufferPointer { Array($0[tables.orderOffset[m]...]) }
            let q = factor.withUnsafeBufferPointer {
                values(x: x, current: current, next: next, levels: plainLevels, first: first, last: last, factor: $0.baseAddress!)
            }
            // Accumulators start from nonzero values, as after a mixed phase.
            let initial = (0..<4).map { k in (0..<rings).map { Double(k + $0) } }
            var expected = initial
            for (offset, row) in q.enumerated() {
                let n = first + offset
                let parity = n % 2
                for r in 0..<rings {
                    expected[2 * parity][r] += cosCoefficients[n] * row[r]
                    expected[2 * parity + 1][r] += sinCoefficients[n] * row[r]
                }
            }
            for level in levels {
                var evenCos = initial[0], evenSin = initial[1], oddCos = initial[2], oddSin = initial[3]
                legendre_synthesize_block_at_level(level, x, current, next, plainLevels, first, last, factor,
                                                   cosCoefficients, sinCoefficients,
                                                   &evenCos, &evenSin, &oddCos, &oddSin)
                for (result, reference) in zip([evenCos, evenSin, oddCos, oddSin], expected) {
                    for r in 0..<rings {
                        XCTAssertEqual(result[r], reference[r], accuracy: 1e-12 * max(1, abs(reference[r])),
                                       "level \(level), m = \(m), ring \(r)")
                    }
                }
            }
        }
    }

    func testGradientBlockMatchesScalarSums() {
        for (m, first) in [(0, 1), (12, 0), (50, 5)] {
            let (tables, x, current, next) = problem(order: m, first: first, seed: UInt64(m + 3))
            let last = 63 - m
            var generator = SplitMix64(seed: 11)
            let sets = (0..<6).map { _ in (0...(last + 3)).map { _ in 0.5 * generator.nextSigned() } }
            let factor = tables.recurrenceFactor.withUnsafeBufferPointer { Array($0[tables.orderOffset[m]...]) }
            let q = factor.withUnsafeBufferPointer {
                values(x: x, current: current, next: next, levels: plainLevels, first: first, last: last, factor: $0.baseAddress!)
            }
            var expected = [Double](repeating: 0.25, count: 12 * rings)
            for (offset, row) in q.enumerated() {
                let n = first + offset
                for k in 0..<6 {
                    for r in 0..<rings { expected[(2 * k + n % 2) * rings + r] += sets[k][n] * row[r] }
                }
            }
            for level in levels {
                var accumulators = [Double](repeating: 0.25, count: 12 * rings)
                sets[0].withUnsafeBufferPointer { s0 in
                sets[1].withUnsafeBufferPointer { s1 in
                sets[2].withUnsafeBufferPointer { s2 in
                sets[3].withUnsafeBufferPointer { s3 in
                sets[4].withUnsafeBufferPointer { s4 in
                sets[5].withUnsafeBufferPointer { s5 in
                    let pointers: [UnsafePointer<Double>?] = [s0, s1, s2, s3, s4, s5].map { $0.baseAddress }
                    legendre_gradient_block_at_level(level, x, current, next, plainLevels, first, last, factor, pointers,
                                                     &accumulators)
                }
                }
                }
                }
                }
                }
                for index in 0..<(12 * rings) {
                    XCTAssertEqual(accumulators[index], expected[index], accuracy: 1e-12 * max(1, abs(expected[index])),
                                   "level \(level), m = \(m), slot \(index)")
                }
            }
        }
    }

    func testMixedPhaseWeightsAndRescaling() {
        // Rings 0–3 start one exponent level down, at x near ±1 where the
        // recurrence grows, so they pass 2^256, move up and join the sums.
        let m = 2
        let (tables, randomX, _, _) = problem(order: m, first: 0, seed: 21)
        let last = 63 - m
        let exponentLevels: [Double] = [-1, -1, -1, -1, 0, 0, 0, 0]
        let x: [Double] = [0.99, 0.98, -0.97, 0.995] + Array(randomX.suffix(4))
        let current: [Double] = [0x1p254, 0x1p255, 3 * 0x1p253, 0x1p254, 0.1, 0.2, 0.3, 0.4]
        let next: [Double] = [0x1p255, 3 * 0x1p254, 0x1p255, 5 * 0x1p253, 0.2, 0.2, 0.2, 0.2]
        let factor = tables.recurrenceFactor.withUnsafeBufferPointer { Array($0[tables.orderOffset[m]...]) }
        let q = factor.withUnsafeBufferPointer {
            values(x: x, current: current, next: next, levels: exponentLevels, first: 0, last: last,
                   factor: $0.baseAddress!)
        }
        for r in 0..<4 {
            XCTAssertEqual(q.first![r], 0, "ring \(r) starts below the double range")
            XCTAssertNotEqual(q.last![r], 0, "ring \(r) reaches level 0 by n = \(last)")
        }

        var generator = SplitMix64(seed: 8)
        let cosCoefficients = (0...(last + 3)).map { _ in 0.5 * generator.nextSigned() }
        let sinCoefficients = (0...(last + 3)).map { _ in 0.5 * generator.nextSigned() }
        var expected = [[Double]](repeating: [Double](repeating: 0, count: rings), count: 4)
        for (n, row) in q.enumerated() {
            for r in 0..<rings {
                expected[2 * (n % 2)][r] += cosCoefficients[n] * row[r]
                expected[2 * (n % 2) + 1][r] += sinCoefficients[n] * row[r]
            }
        }
        for level in levels {
            var evenCos = [Double](repeating: 0, count: rings)
            var evenSin = evenCos, oddCos = evenCos, oddSin = evenCos
            legendre_synthesize_block_at_level(level, x, current, next, exponentLevels, 0, last, factor,
                                               cosCoefficients, sinCoefficients, &evenCos, &evenSin, &oddCos, &oddSin)
            for (result, reference) in zip([evenCos, evenSin, oddCos, oddSin], expected) {
                for r in 0..<rings {
                    XCTAssertEqual(result[r], reference[r], accuracy: 1e-12 * abs(reference[r]),
                                   "level \(level), ring \(r)")
                }
            }
        }
    }

    func testEmptyRangeLeavesOutputsUnchanged() {
        let (tables, x, current, next) = problem(order: 0, first: 0, seed: 1)
        let factor = Array(tables.recurrenceFactor)
        for level in levels {
            var sums = [Double](repeating: 7, count: 16)
            let parts = [Double](repeating: 1, count: rings)
            legendre_analyze_block_at_level(level, x, current, next, plainLevels, 5, 4, factor, parts, parts, parts, parts,
                                            &sums)
            XCTAssertEqual(sums, [Double](repeating: 7, count: 16), "level \(level)")
        }
    }
}
