import CVectorKernels
import Dispatch
import Foundation
import LinearAlgebra

/// (64 / ln 2): the softmax kernels take scores in units of 1/64 of a binary
/// exponent, so natural-log scores are multiplied by this.
private let scoreScaleToBinary = 64 * 1.4426950408889634

/// Source cells with positive mass, by components for the C kernel
/// `softmax_attention_rows`. A source y_j with mass m_j = ρ_j · area_j is the
/// key column (y_j, c log m_j) and the value column (y_j, 0), where
/// c = 64 / ln 2, so a query (c w, 1) scores c (⟨w, y_j⟩ + log m_j).
struct PackedSources {
    /// Number of sources with positive mass.
    let count: Int
    /// Columns per component row: `count` rounded up to SOFTMAX_COLUMN_ALIGNMENT.
    let stride: Int
    /// 4 × stride, row-major: y_x, y_y, y_z and c log m_j, zero past `count`.
    let keys: [Double]
    /// 4 × stride, row-major: y_x, y_y, y_z and a zero row.
    let values: [Double]

    init(points: [SIMD3<Double>], masses: [Double]) {
        let sources = zip(points, masses).filter { $0.1 > 0 }
        let alignment = Int(SOFTMAX_COLUMN_ALIGNMENT)
        count = sources.count
        stride = max(alignment, (count + alignment - 1) / alignment * alignment)
        var keys = [Double](repeating: 0, count: 4 * stride)
        var values = [Double](repeating: 0, count: 4 * stride)
        for (j, (point, mass)) in sources.enumerated() {
            for component in 0..<3 {
                keys[component * stride + j] = point[component]
                values[component * stride + j] = point[component]
            }
            keys[3 * stride + j] = scoreScaleToBinary * log(mass)
        }
        self.keys = keys
        self.values = values
    }
}

/// Row sums of the direct method for a set of target points x_i, each with
/// its own log-sum-exp shift s_i = max_j [β ⟨x_i, A y_j⟩ + log m_j]:
///     D_i = e^{s_i} · denominator[i],
///     Σ_j exp(β ⟨x_i, A y_j⟩) m_j y_j = e^{s_i} · firstMoment[i],
/// so N_i = e^{s_i} V firstMoment[i].
struct DirectRows {
    var shift: [Double]
    var denominator: [Double]
    var firstMoment: [SIMD3<Double>]
}

/// Target rows per unit of work shared out to the threads.
private let rowsPerChunk = 16

/// Computes the direct row sums at `targets` over `sources`, where
/// `scoreMatrix` = β Aᵀ maps a target x to w with ⟨w, y⟩ = β ⟨x, A y⟩.
///
/// The C kernel scores four targets at a time against every source, shifts
/// each row by its maximum, exponentiates and sums the weights with the
/// source positions (AVX-512, AVX2 or portable code, chosen at run time).
/// Chunks of targets are shared out to one thread per active processor,
/// each holding 4 × `sources.stride` weights.
func computeDirectRows(targets: [SIMD3<Double>], sources: PackedSources,
                       scoreMatrix: Matrix3) -> DirectRows {
    let count = targets.count
    var shift = [Double](repeating: 0, count: count)
    var denominator = [Double](repeating: 0, count: count)
    var firstMoment = [SIMD3<Double>](repeating: .zero, count: count)
    guard count > 0, sources.count > 0 else {
        return DirectRows(shift: shift, denominator: denominator, firstMoment: firstMoment)
    }

    var queries = [Double](repeating: 1, count: 4 * count)
    for (i, target) in targets.enumerated() {
        let w = scoreScaleToBinary * scoreMatrix.apply(target)
        queries[4 * i] = w.x
        queries[4 * i + 1] = w.y
        queries[4 * i + 2] = w.z
    }
    var maxima = [Double](repeating: 0, count: count)
    var averages = [Double](repeating: 0, count: 4 * count)

    let chunkCount = (count + rowsPerChunk - 1) / rowsPerChunk
    let workers = max(1, min(ProcessInfo.processInfo.activeProcessorCount, chunkCount))
    queries.withUnsafeBufferPointer { queryBuffer in
        sources.keys.withUnsafeBufferPointer { keyBuffer in
            sources.values.withUnsafeBufferPointer { valueBuffer in
                maxima.withUnsafeMutableBufferPointer { maximumBuffer in
                    denominator.withUnsafeMutableBufferPointer { sumBuffer in
                        averages.withUnsafeMutableBufferPointer { averageBuffer in
                            let inputs = DirectRowInputs(
                                queries: queryBuffer.baseAddress!, keys: keyBuffer.baseAddress!,
                                values: valueBuffer.baseAddress!, maxima: maximumBuffer.baseAddress!,
                                sums: sumBuffer.baseAddress!, averages: averageBuffer.baseAddress!,
                                targetCount: count, sourceCount: sources.count, stride: sources.stride)
                            DispatchQueue.concurrentPerform(iterations: workers) { worker in
                                inputs.run(chunks: Swift.stride(from: worker, to: chunkCount, by: workers))
                            }
                        }
                    }
                }
            }
        }
    }

    for i in 0..<count {
        shift[i] = maxima[i] / scoreScaleToBinary
        let average = SIMD3(averages[4 * i], averages[4 * i + 1], averages[4 * i + 2])
        firstMoment[i] = average * denominator[i]
    }
    return DirectRows(shift: shift, denominator: denominator, firstMoment: firstMoment)
}

/// Pointers shared by the threads of one evaluation. Each thread writes
/// disjoint chunks of target rows.
private struct DirectRowInputs: @unchecked Sendable {
    let queries: UnsafePointer<Double>
    let keys: UnsafePointer<Double>
    let values: UnsafePointer<Double>
    let maxima: UnsafeMutablePointer<Double>
    let sums: UnsafeMutablePointer<Double>
    let averages: UnsafeMutablePointer<Double>
    let targetCount: Int
    let sourceCount: Int
    let stride: Int

    func run(chunks: StrideTo<Int>) {
        let scratch = UnsafeMutablePointer<Double>.allocate(capacity: Int(SOFTMAX_GROUP_ROWS) * stride)
        defer { scratch.deallocate() }
        for chunk in chunks {
            let first = chunk * rowsPerChunk
            let rows = min(rowsPerChunk, targetCount - first)
            softmax_attention_rows(queries + 4 * first, keys, values, sourceCount, stride, 4, rows, scratch,
                                   maxima + first, sums + first, averages + 4 * first)
        }
    }
}
