import Dispatch
import Foundation
import LinearAlgebra

/// Row sums of the attention kernel for every target token i:
/// L_i = log Σ_j exp(β⟨x_i, A x_j⟩) and the softmax average
/// a_i = Σ_j exp(β⟨x_i, A x_j⟩ − L_i) V x_j. Velocities, layer updates and
/// the energy all follow from these two.
struct AttentionSums {
    var logRowSums: [Double]
    /// Row-major n×d, or empty when only the row sums were requested.
    var averages: [Double]
}

extension ParticleModel {
    /// Computes `AttentionSums` of `positions` (n×d row-major) with the
    /// method of `evaluation.method`.
    func attentionSums(positions: [Double], count n: Int, includeAverages: Bool) -> AttentionSums {
        switch evaluation.method {
        case .fusedRows:
            return fusedAttentionSums(positions: positions, count: n, includeAverages: includeAverages)
        case .blasBlocks:
            return blockedAttentionSums(positions: positions, count: n, includeAverages: includeAverages)
        case .automatic:
            if dimension <= AttentionMethod.fusedDimensionLimit {
                return fusedAttentionSums(positions: positions, count: n, includeAverages: includeAverages)
            }
            return blockedAttentionSums(positions: positions, count: n, includeAverages: includeAverages)
        }
    }

    /// Computes `AttentionSums` through BLAS.
    ///
    /// With QX = c β X Qᵀ, KX = X Kᵀ and VX = X Vᵀ (n×d each), targets are
    /// processed in blocks of b rows: scores S = (QX)_block (KX)ᵀ by dgemm,
    /// each row shifted by its own maximum before exponentiation so nothing
    /// overflows, then averages = S (VX) by dgemm. The factor c = 64 / ln 2
    /// puts scores in the units of `exponentiateShifted`. Memory is O(n·d + b·n) per
    /// worker. Blocks run on `evaluation.workerCount` threads, each calling
    /// single-threaded BLAS, and the OpenBLAS thread count is restored afterwards.
    func blockedAttentionSums(positions: [Double], count n: Int, includeAverages: Bool) -> AttentionSums {
        let d = dimension
        let scaledQueries = transform(positions, count: n, by: query, scale: beta * scoreScaleToBinary)
        let keys = transform(positions, count: n, by: key, scale: 1)
        let values = includeAverages ? transform(positions, count: n, by: value, scale: 1) : []

        let rowsPerBlock = max(1, min(evaluation.blockRows, evaluation.maximumBlockEntries / n, n))
        let blockCount = (n + rowsPerBlock - 1) / rowsPerBlock
        let workers = max(1, min(evaluation.workerCount, blockCount))

        var logRowSums = [Double](repeating: 0, count: n)
        var averages = [Double](repeating: 0, count: includeAverages ? n * d : 0)

        // NOTE: the OpenBLAS thread count is process-wide, so BLAS calls made
        // by other threads during this evaluation also run single-threaded.
        let previousBLASThreads = blasThreadCount()
        if workers > 1 { setBLASThreadCount(1) }
        defer { if workers > 1 { setBLASThreadCount(previousBLASThreads) } }

        scaledQueries.withUnsafeBufferPointer { queryBuffer in
            keys.withUnsafeBufferPointer { keyBuffer in
                values.withUnsafeBufferPointer { valueBuffer in
                    logRowSums.withUnsafeMutableBufferPointer { logBuffer in
                        averages.withUnsafeMutableBufferPointer { averageBuffer in
                            let block = BlockInputs(
                                queries: queryBuffer.baseAddress!, keys: keyBuffer.baseAddress!,
                                values: includeAverages ? valueBuffer.baseAddress : nil,
                                logRowSums: logBuffer.baseAddress!,
                                averages: includeAverages ? averageBuffer.baseAddress : nil,
                                count: n, dimension: d, rowsPerBlock: rowsPerBlock)
                            if workers == 1 {
                                block.run(blocks: stride(from: 0, to: blockCount, by: 1))
                            } else {
                                DispatchQueue.concurrentPerform(iterations: workers) { worker in
                                    block.run(blocks: stride(from: worker, to: blockCount, by: workers))
                                }
                            }
                        }
                    }
                }
            }
        }
        return AttentionSums(logRowSums: logRowSums, averages: averages)
    }

    /// scale · X Mᵀ: row i is scale · M x_i.
    func transform(_ positions: [Double], count n: Int, by matrix: [Double], scale: Double) -> [Double] {
        let d = dimension
        var result = [Double](repeating: 0, count: n * d)
        positions.withUnsafeBufferPointer { x in
            matrix.withUnsafeBufferPointer { m in
                result.withUnsafeMutableBufferPointer { r in
                    matrixMultiply(x.baseAddress!, leadingA: d, m.baseAddress!, transposeB: true,
                                   leadingB: d, into: r.baseAddress!, leadingC: d,
                                   m: n, n: d, k: d, alpha: scale)
                }
            }
        }
        return result
    }
}

/// Pointers shared by the workers of one evaluation. Workers write disjoint
/// row ranges of `logRowSums` and `averages`. `values` and `averages` are nil
/// when only row sums are needed, because an empty array's base address is
/// not nil and must not be written through.
private struct BlockInputs: @unchecked Sendable {
    let queries: UnsafePointer<Double>
    let keys: UnsafePointer<Double>
    let values: UnsafePointer<Double>?
    let logRowSums: UnsafeMutablePointer<Double>
    let averages: UnsafeMutablePointer<Double>?
    let count: Int
    let dimension: Int
    let rowsPerBlock: Int

    func run(blocks: StrideTo<Int>) {
        let n = count
        let d = dimension
        let scores = UnsafeMutablePointer<Double>.allocate(capacity: rowsPerBlock * n)
        defer { scores.deallocate() }
        var rowSums = [Double](repeating: 0, count: rowsPerBlock)

        for blockIndex in blocks {
            let firstRow = blockIndex * rowsPerBlock
            let rows = min(rowsPerBlock, n - firstRow)
            matrixMultiply(queries + firstRow * d, leadingA: d, keys, transposeB: true, leadingB: d,
                           into: scores, leadingC: n, m: rows, n: n, k: d)
            for row in 0..<rows {
                let scoreRow = scores + row * n
                var maximum = rowMaximum(scoreRow, count: n)
                // A row of NaN scores has no maximum, so NaN is passed on to the caller's checks.
                if maximum == -.infinity { maximum = .nan }
                let sum = exponentiateShifted(scoreRow, count: n, shift: maximum)
                rowSums[row] = sum
                logRowSums[firstRow + row] = maximum / scoreScaleToBinary + log(sum)
            }
            guard let values, let averages else { continue }
            let target = averages + firstRow * d
            matrixMultiply(scores, leadingA: n, values, leadingB: d,
                           into: target, leadingC: d, m: rows, n: d, k: n)
            for row in 0..<rows {
                let inverse = 1 / rowSums[row]
                for k in 0..<d { target[row * d + k] *= inverse }
            }
        }
    }
}
