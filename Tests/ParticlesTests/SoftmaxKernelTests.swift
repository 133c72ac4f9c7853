import CVectorKernels
import Foundation
import XCTest
@testable import Particles

/// Checks every instruction-set level of the C softmax kernels that this
/// processor can run against libm and against plain loops.
final class SoftmaxKernelTests: XCTestCase {
    private var levels: [Int32] { Array(0...available_vector_level()) }

    func testExponentialWithinTwoUlpOfExp2() {
        var generator = SeededGenerator(seed: 3)
        let inputs = (0..<200_000).map { _ in -65_000 * generator.nextUniform() * generator.nextUniform() }
        for level in levels {
            var values = inputs
            let sum = softmax_exponentiate_shifted_at_level(level, &values, values.count, 0)
            var worstUlps = 0.0
            var reference = 0.0
            for (input, result) in zip(inputs, values) {
                let exact = Foundation.exp2(input / 64)
                worstUlps = max(worstUlps, abs(result - exact) / exact.ulp)
                reference += exact
            }
            XCTAssertLessThanOrEqual(worstUlps, 2, "level \(level)")
            XCTAssertEqual(sum, reference, accuracy: 1e-12 * reference, "level \(level)")
        }
    }

    func testExponentialSpecialValues() {
        let inputs: [Double] = [-70_000, -1021 * 64 - 1, 0, .nan, -.infinity, -1e-300, -64, -1000.5, -1021 * 64]
        for level in levels {
            var values = inputs
            _ = softmax_exponentiate_shifted_at_level(level, &values, values.count, 0)
            XCTAssertEqual(values[0], 0, "level \(level)")
            XCTAssertEqual(values[1], 0, "level \(level)")
            XCTAssertEqual(values[2], 1, "level \(level)")
            XCTAssertTrue(values[3].isNaN, "level \(level)")
            XCTAssertEqual(values[4], 0, "level \(level)")
            XCTAssertEqual(values[5], 1, "level \(level)")
            XCTAssertEqual(values[6], 0.5, "level \(level)")
            let reference = Foundation.exp2(-1000.5 / 64)
            XCTAssertEqual(values[7], reference, accuracy: 2 * reference.ulp, "level \(level)")
            XCTAssertEqual(values[8], Foundation.exp2(-1021), "level \(level)")
        }
    }

    func testExponentialShiftAndTails() {
        // Lengths around the 4, 8 and 16 lane widths exercise every tail path.
        var generator = SeededGenerator(seed: 8)
        for count in [0, 1, 3, 4, 7, 8, 9, 15, 16, 17, 31, 33] {
            let inputs = (0..<count).map { _ in 500 * generator.nextUniform() }
            let shift = 500.0
            for level in levels {
                var values = inputs
                let sum = softmax_exponentiate_shifted_at_level(level, &values, count, shift)
                var reference = 0.0
                for (input, result) in zip(inputs, values) {
                    let exact = Foundation.exp2((input - shift) / 64)
                    XCTAssertEqual(result, exact, accuracy: 2 * exact.ulp, "level \(level), count \(count)")
                    reference += exact
                }
                XCTAssertEqual(sum, reference, accuracy: 1e-14 * max(reference, 1), "level \(level), count \(count)")
            }
        }
    }

    func testRowMaximumIgnoresNaN() {
        var generator = SeededGenerator(seed: 4)
        for count in [1, 5, 8, 13, 16, 29, 64] {
            var values = (0..<count).map { _ in generator.nextNormal() }
            let expected = values.max()!
            values.insert(.nan, at: count / 2)
            for level in levels {
                XCTAssertEqual(softmax_row_maximum_at_level(level, values, values.count), expected,
                               "level \(level), count \(count)")
            }
        }
        for level in levels {
            XCTAssertEqual(softmax_row_maximum_at_level(level, [.nan, .nan, .nan], 3), -.infinity)
            XCTAssertEqual(softmax_row_maximum_at_level(level, [], 0), -.infinity)
        }
    }

    func testAttentionRowsMatchPlainLoops() {
        var generator = SeededGenerator(seed: 12)
        let alignment = Int(SOFTMAX_COLUMN_ALIGNMENT)
        let componentAlignment = Int(SOFTMAX_COMPONENT_ALIGNMENT)
        for (count, dimension, rows) in [(1, 1, 1), (5, 2, 3), (16, 3, 4), (17, 3, 7), (50, 5, 9), (40, 16, 5)] {
            let stride = (count + alignment - 1) / alignment * alignment
            let valueRows = (dimension + componentAlignment - 1) / componentAlignment * componentAlignment
            // Scores of up to ±300 in binary units span 2^±4.7 before the shift.
            let queries = (0..<(rows * dimension)).map { _ in 60 * generator.nextNormal() }
            var keys = [Double](repeating: 0, count: dimension * stride)
            var values = [Double](repeating: 0, count: valueRows * stride)
            for c in 0..<dimension {
                for j in 0..<count {
                    keys[c * stride + j] = generator.nextNormal()
                    values[c * stride + j] = generator.nextNormal()
                }
            }

            var expectedMaxima = [Double](repeating: 0, count: rows)
            var expectedSums = [Double](repeating: 0, count: rows)
            var expectedAverages = [Double](repeating: 0, count: rows * dimension)
            for i in 0..<rows {
                let scores = (0..<count).map { j in
                    (0..<dimension).reduce(0.0) { $0 + queries[i * dimension + $1] * keys[$1 * stride + j] }
                }
                let maximum = scores.max()!
                expectedMaxima[i] = maximum
                let weights = scores.map { Foundation.exp2(($0 - maximum) / 64) }
                expectedSums[i] = weights.reduce(0, +)
                for c in 0..<dimension {
                    let weighted = (0..<count).reduce(0.0) { $0 + weights[$1] * values[c * stride + $1] }
                    expectedAverages[i * dimension + c] = weighted / expectedSums[i]
                }
            }

            for level in levels {
                var scratch = [Double](repeating: .nan, count: Int(SOFTMAX_GROUP_ROWS) * stride)
                var maxima = [Double](repeating: .nan, count: rows)
                var sums = [Double](repeating: .nan, count: rows)
                var averages = [Double](repeating: .nan, count: rows * dimension)
                softmax_attention_rows_at_level(level, queries, keys, values, count, stride, dimension, rows,
                                                &scratch, &maxima, &sums, &averages)
                let label = "level \(level), n = \(count), d = \(dimension), rows = \(rows)"
                XCTAssertLessThan(relativeDifference(maxima, expectedMaxima), 1e-13, label)
                XCTAssertLessThan(relativeDifference(sums, expectedSums), 1e-12, label)
                XCTAssertLessThan(relativeDifference(averages, expectedAverages), 1e-12, label)

                // Without values only maxima and sums are computed.
                var sumsOnly = [Double](repeating: .nan, count: rows)
                softmax_attention_rows_at_level(level, queries, keys, nil, count, stride, dimension, rows,
                                                &scratch, &maxima, &sumsOnly, nil)
                XCTAssertLessThan(relativeDifference(sumsOnly, expectedSums), 1e-12, label)
            }
        }
    }

    func testAttentionRowsPassNaNScoresOn() {
        let stride = Int(SOFTMAX_COLUMN_ALIGNMENT)
        var keys = [Double](repeating: 0, count: 3 * stride)
        keys[0] = 1
        keys[stride + 1] = .nan
        let values = [Double](repeating: 1, count: Int(SOFTMAX_COMPONENT_ALIGNMENT) * stride)
        for level in levels {
            var scratch = [Double](repeating: 0, count: Int(SOFTMAX_GROUP_ROWS) * stride)
            var maxima = [0.0], sums = [0.0], averages = [0.0, 0.0, 0.0]
            softmax_attention_rows_at_level(level, [1, 1, 1], keys, values, 2, stride, 3, 1,
                                            &scratch, &maxima, &sums, &averages)
            XCTAssertEqual(maxima[0], 1, "level \(level)")
            XCTAssertTrue(sums[0].isNaN, "level \(level)")
            XCTAssertTrue(averages.allSatisfy { $0.isNaN }, "level \(level)")
        }
    }
}
