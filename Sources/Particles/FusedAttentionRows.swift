import CVectorKernels
import Dispatch
import Foundation
import LinearAlgebra

extension ParticleModel {
    /// Computes `AttentionSums` with the fused C kernel `softmax_attention_rows`.
    ///
    /// The queries c β Q x_i (c = 64 / ln 2) are stored by rows, and the keys
    /// K x_j and values V x_j by components (d × stride, columns padded with
    /// zeros to a multiple of 16), both formed by dgemm. For each group of
    /// four target rows the kernel computes the scores and their maxima,
    /// exponentiates them in place and forms the weighted value sums, so each
    /// worker holds only 4 × stride weights and memory is O(n·d) in all.
    /// Blocks of `evaluation.blockRows` rows run on `evaluation.workerCount`
    /// threads.
    func fusedAttentionSums(positions: [Double], count n: Int, includeAverages: Bool) -> AttentionSums {
        let d = dimension
        let stride = roundUp(n, to: Int(SOFTMAX_COLUMN_ALIGNMENT))
        let valueRows = roundUp(d, to: Int(SOFTMAX_COMPONENT_ALIGNMENT))
        let scaledQueries = transform(positions, count: n, by: query, scale: beta * scoreScaleToBinary)
        let keys = componentRows(positions, count: n, by: key, rows: d, stride: stride)
        let values = includeAverages ? componentRows(positions, count: n, by: value, rows: valueRows, stride: stride) : []

        let rowsPerBlock = max(1, min(evaluation.blockRows, n))
        let blockCount = (n + rowsPerBlock - 1) / rowsPerBlock
        let workers = max(1, min(evaluation.workerCount, blockCount))

        var maxima = [Double](repeating: 0, count: n)
        var sums = [Double](repeating: 0, count: n)
        var averages = [Double](repeating: 0, count: includeAverages ? n * d : 0)

        scaledQueries.withUnsafeBufferPointer { queryBuffer in
            keys.withUnsafeBufferPointer { keyBuffer in
                values.withUnsafeBufferPointer { valueBuffer in
                    maxima.withUnsafeMutableBufferPointer { maximumBuffer in
                        sums.withUnsafeMutableBufferPointer { sumBuffer in
                            averages.withUnsafeMutableBufferPointer { averageBuffer in
                                let rows = FusedRowInputs(
                                    queries: queryBuffer.baseAddress!, keys: keyBuffer.baseAddress!,
                                    values: includeAverages ? valueBuffer.baseAddress : nil,
                                    maxima: maximumBuffer.baseAddress!, sums: sumBuffer.baseAddress!,
                                    averages: includeAverages ? averageBuffer.baseAddress : nil,
                                    count: n, stride: stride, dimension: d, rowsPerBlock: rowsPerBlock)
                                if workers == 1 {
                                    rows.run(blocks: Swift.stride(from: 0, to: blockCount, by: 1))
                                } else {
                                    DispatchQueue.concurrentPerform(iterations: workers) { worker in
                                        rows.run(blocks: Swift.stride(from: worker, to: blockCount, by: workers))
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }

        var logRowSums = [Double](repeating: 0, count: n)
        for i in 0..<n {
            // A row of NaN scores has no maximum, so NaN is passed on to the caller's checks.
            let maximum = maxima[i] == -.infinity ? Double.nan : maxima[i]
            logRowSums[i] = maximum / scoreScaleToBinary + log(sums[i])
        }
        return AttentionSums(logRowSums: logRowSums, averages: averages)
    }

    /// M Xᵀ by components: entry (c, j) at c · stride + j is (M x_j)_c for
    /// c < d, and rows d ..< `rows` and columns n ..< stride are zero.
    private func componentRows(_ positions: [Double], count n: Int, by matrix: [Double],
                               rows: Int, stride: Int) -> [Double] {
        let d = dimension
        var result = [Double](repeating: 0, count: rows * stride)
        positions.withUnsafeBufferPointer { x in
            matrix.withUnsafeBufferPointer { m in
                result.withUnsafeMutableBufferPointer { r in
                    matrixMultiply(m.baseAddress!, leadingA: d, x.baseAddress!, transposeB: true,
                                   leadingB: d, into: r.baseAddress!, leadingC: stride,
                                   m: d, n: n, k: d)
                }
            }
        }
        return result
    }
}

private func roundUp(_ value: Int, to multiple: Int) -> Int {
    (value + multiple - 1) / multiple * multiple
}

/// Pointers shared by the workers of one fused evaluation. Workers write
/// disjoint row ranges of the outputs. `values` and `averages` are nil when
/// only row sums are needed.
private struct FusedRowInputs: @unchecked Sendable {
    let queries: UnsafePointer<Double>
    let keys: UnsafePointer<Double>
    let values: UnsafePointer<Double>?
    let maxima: UnsafeMutablePointer<Double>
    let sums: UnsafeMutablePointer<Double>
    let averages: UnsafeMutablePointer<Double>?
    let count: Int
    let stride: Int
    let dimension: Int
    let rowsPerBlock: Int

    func run(blocks: StrideTo<Int>) {
        let scratch = UnsafeMutablePointer<Double>.allocate(capacity: Int(SOFTMAX_GROUP_ROWS) * stride)
        defer { scratch.deallocate() }
        for blockIndex in blocks {
            let firstRow = blockIndex * rowsPerBlock
            let rows = min(rowsPerBlock, count - firstRow)
            softmax_attention_rows(queries + firstRow * dimension, keys, values, count, stride, dimension, rows,
                                   scratch, maxima + firstRow, sums + firstRow,
                                   averages.map { $0 + firstRow * dimension })
        }
    }
}
