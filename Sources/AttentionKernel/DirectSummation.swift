import Dispatch
import Foundation
import LinearAlgebra

/// Source cells with positive mass, stored as structure-of-arrays in groups
/// of four for SIMD. The padding entries have position 0 and log mass −inf,
/// so they contribute exactly 0.
struct PackedSources {
    var x: [SIMD4<Double>] = []
    var y: [SIMD4<Double>] = []
    var z: [SIMD4<Double>] = []
    /// log(ρ_j · area_j).
    var logMass: [SIMD4<Double>] = []

    init(points: [SIMD3<Double>], masses: [Double]) {
        var px = [Double](), py = [Double](), pz = [Double](), pl = [Double]()
        for (point, mass) in zip(points, masses) where mass > 0 {
            px.append(point.x)
            py.append(point.y)
            pz.append(point.z)
            pl.append(log(mass))
        }
        while px.count % 4 != 0 {
            px.append(0)
            py.append(0)
            pz.append(0)
            pl.append(-Double.infinity)
        }
        for start in stride(from: 0, to: px.count, by: 4) {
            x.append(SIMD4(px[start], px[start + 1], px[start + 2], px[start + 3]))
            y.append(SIMD4(py[start], py[start + 1], py[start + 2], py[start + 3]))
            z.append(SIMD4(pz[start], pz[start + 1], pz[start + 2], pz[start + 3]))
            logMass.append(SIMD4(pl[start], pl[start + 1], pl[start + 2], pl[start + 3]))
        }
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

/// Source groups per block: the scores of one block (8 KB) stay in the L1
/// cache between the score pass and the exponential pass.
private let sourceBlockSize = 256

/// Computes the direct row sums at `targets` over `sources`, where
/// `scoreMatrix` = β Aᵀ maps a target x to w with ⟨w, y⟩ = β ⟨x, A y⟩.
///
/// Each row runs an online log-sum-exp: per block the scores are computed,
/// the running maximum is raised if needed (rescaling the sums by
/// e^{old − new}), and the terms e^{score − max} are accumulated. Targets are
/// split across threads with `DispatchQueue.concurrentPerform`.
func computeDirectRows(targets: [SIMD3<Double>], sources: PackedSources,
                       scoreMatrix: Matrix3) -> DirectRows {
    let count = targets.count
    var shift = [Double](repeating: 0, count: count)
    var denominator = [Double](repeating: 0, count: count)
    var firstMoment = [SIMD3<Double>](repeating: .zero, count: count)
    guard count > 0 else { return DirectRows(shift: shift, denominator: denominator, firstMoment: firstMoment) }

    let chunkSize = 16
    let chunkCount = (count + chunkSize - 1) / chunkSize
    shift.withUnsafeMutableBufferPointer { shiftOut in
        denominator.withUnsafeMutableBufferPointer { denominatorOut in
            firstMoment.withUnsafeMutableBufferPointer { momentOut in
                sources.x.withUnsafeBufferPointer { sx in
                    sources.y.withUnsafeBufferPointer { sy in
                        sources.z.withUnsafeBufferPointer { sz in
                            sources.logMass.withUnsafeBufferPointer { sl in
                                let source = SourcePointers(x: sx, y: sy, z: sz, logMass: sl)
                                let outputs = RowOutputs(shift: shiftOut, denominator: denominatorOut,
                                                         firstMoment: momentOut)
                                DispatchQueue.concurrentPerform(iterations: chunkCount) { chunk in
                                    let buffer = UnsafeMutablePointer<SIMD4<Double>>.allocate(capacity: sourceBlockSize)
                                    defer { buffer.deallocate() }
                                    let end = min(count, (chunk + 1) * chunkSize)
                                    for target in (chunk * chunkSize)..<end {
                                        let w = scoreMatrix.apply(targets[target])
                                        let row = accumulateRow(w: w, source: source, scores: buffer)
                                        outputs.shift[target] = row.shift
                                        outputs.denominator[target] = row.denominator
                                        outputs.firstMoment[target] = row.firstMoment
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
    return DirectRows(shift: shift, denominator: denominator, firstMoment: firstMoment)
}

private struct SourcePointers: @unchecked Sendable {
    let x: UnsafeBufferPointer<SIMD4<Double>>
    let y: UnsafeBufferPointer<SIMD4<Double>>
    let z: UnsafeBufferPointer<SIMD4<Double>>
    let logMass: UnsafeBufferPointer<SIMD4<Double>>
}

/// Output buffers; each thread writes a disjoint range of targets.
private struct RowOutputs: @unchecked Sendable {
    let shift: UnsafeMutableBufferPointer<Double>
    let denominator: UnsafeMutableBufferPointer<Double>
    let firstMoment: UnsafeMutableBufferPointer<SIMD3<Double>>
}

@inline(__always)
private func accumulateRow(w: SIMD3<Double>, source: SourcePointers,
                           scores: UnsafeMutablePointer<SIMD4<Double>>)
    -> (shift: Double, denominator: Double, firstMoment: SIMD3<Double>) {
    let groupCount = source.x.count
    let wx = SIMD4<Double>(repeating: w.x)
    let wy = SIMD4<Double>(repeating: w.y)
    let wz = SIMD4<Double>(repeating: w.z)
    var runningMax = -Double.infinity
    var sumD = SIMD4<Double>.zero
    var sumX = SIMD4<Double>.zero
    var sumY = SIMD4<Double>.zero
    var sumZ = SIMD4<Double>.zero

    var blockStart = 0
    while blockStart < groupCount {
        let blockEnd = min(groupCount, blockStart + sourceBlockSize)
        var blockMax = SIMD4<Double>(repeating: -.infinity)
        for group in blockStart..<blockEnd {
            var score = wx * source.x[group]
            score += wy * source.y[group]
            score += wz * source.z[group]
            score += source.logMass[group]
            scores[group - blockStart] = score
            blockMax = pointwiseMax(blockMax, score)
        }
        let newMax = blockMax.max()
        if newMax > runningMax {
            if runningMax > -.infinity {
                let factor = exp(runningMax - newMax)
                sumD *= factor
                sumX *= factor
                sumY *= factor
                sumZ *= factor
            }
            runningMax = newMax
        }
        let maxVector = SIMD4<Double>(repeating: runningMax)
        for group in blockStart..<blockEnd {
            let term = fastExponential(scores[group - blockStart] - maxVector)
            sumD += term
            sumX += term * source.x[group]
            sumY += term * source.y[group]
            sumZ += term * source.z[group]
        }
        blockStart = blockEnd
    }
    return (runningMax, sumD.sum(), SIMD3(sumX.sum(), sumY.sum(), sumZ.sum()))
}
