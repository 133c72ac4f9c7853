import Foundation

// Vectorized exponential of the shifted attention scores.
//
// The scores reach this file as u = (64 / ln 2) · β⟨Q x_i, K x_j⟩, a scaling
// folded into the query product, so that e^{β⟨Q x_i, K x_j⟩} = 2^{u/64}. For
// v = u − max_j u ≤ 0 the method is table-driven, as in Tang (1989):
// k = round(v), r = (v − k) · ln(2)/64 with |r| ≤ ln(2)/128, and
// 2^{v/64} = 2^{k div 64} · 2^{(k mod 64)/64} · e^r, where e^r is its Taylor
// polynomial of degree 5 (truncation below 4e−17 relative) and the 64 values
// 2^{j/64} come from a table. v − k is exact, so the only error beyond the
// kernel's 2 ulp is the rounding of u itself, which is the relative error
// that computing β⟨Q x_i, K x_j⟩ in double has anyway. Results below
// 2^{−1021} (v < −1021 · 64) return 0. That changes an attention row sum,
// which is at least 1 from its largest term, by less than 1e−307 relative.
// NaN returns NaN.
//
// The package builds for baseline x86-64, so SIMD8<Double> compiles to SSE2
// pairs. Eight lanes per call keep several independent chains in flight.

private let tableSize = 64
/// (64 / ln 2): scores times this are in units of 1/64 of a binary exponent.
let scoreScaleToBinary = 64 * 1.4426950408889634
private let ln2Over64 = 0.6931471805599453 / 64
private let roundingShifter = 0x1.8p52
private let shifterBits: Int64 = 0x4338_0000_0000_0000
private let underflowBound = -1021.0 * 64

/// 2^(j/64) for j = 0 ..< 64, from exp2 of glibc.
private let powersOfTwo: [Double] = (0..<tableSize).map { exp2(Double($0) / Double(tableSize)) }

/// Computes 2^(v/64) lane by lane for v ≤ 0, and 0 for v < −1021 · 64.
@inline(__always)
func binaryExponential(_ v: SIMD8<Double>, table: UnsafePointer<Double>) -> SIMD8<Double> {
    let underflow = v .< underflowBound
    let clamped = v.replacing(with: underflowBound, where: underflow)
    let shifted = clamped + roundingShifter
    let k = shifted - roundingShifter
    let r = (clamped - k) * ln2Over64

    var p = r * (1.0 / 120) + 1.0 / 24
    p = p * r + 1.0 / 6
    p = p * r + 0.5
    p = p * r + 1
    p = p * r + 1

    let kInteger = unsafeBitCast(shifted, to: SIMD8<Int64>.self) &- shifterBits
    let index = kInteger & Int64(tableSize - 1)
    let exponent = kInteger &>> 6
    let scale = unsafeBitCast((exponent &+ 1023) &<< 52, to: SIMD8<Double>.self)
    var tableValue = SIMD8<Double>()
    for lane in 0..<8 { tableValue[lane] = table[Int(index[lane])] }

    return (p * tableValue * scale).replacing(with: 0, where: underflow)
}

/// Calls `body` with a pointer to the 2^(j/64) table.
@inline(__always)
func withBinaryExponentialTable<Result>(_ body: (UnsafePointer<Double>) -> Result) -> Result {
    powersOfTwo.withUnsafeBufferPointer { body($0.baseAddress!) }
}

/// Returns the largest of `values[0..<count]`, ignoring NaN entries.
func rowMaximum(_ values: UnsafePointer<Double>, count: Int) -> Double {
    var maximum = SIMD8<Double>(repeating: -.infinity)
    var index = 0
    let raw = UnsafeRawPointer(values)
    while index + 8 <= count {
        let x = raw.loadUnaligned(fromByteOffset: index * 8, as: SIMD8<Double>.self)
        maximum = maximum.replacing(with: x, where: x .> maximum)
        index += 8
    }
    var result = maximum.max()
    while index < count {
        if values[index] > result { result = values[index] }
        index += 1
    }
    return result
}

/// Replaces `values[0..<count]` by 2^((values − shift)/64) and returns their sum.
func exponentiateShifted(_ values: UnsafeMutablePointer<Double>, count: Int, shift: Double) -> Double {
    withBinaryExponentialTable { table in
        var sum = SIMD8<Double>(repeating: 0)
        var index = 0
        let raw = UnsafeMutableRawPointer(values)
        while index + 8 <= count {
            let v = raw.loadUnaligned(fromByteOffset: index * 8, as: SIMD8<Double>.self)
            let e = binaryExponential(v - shift, table: table)
            raw.storeBytes(of: e, toByteOffset: index * 8, as: SIMD8<Double>.self)
            sum += e
            index += 8
        }
        var total = sum.sum()
        if index < count {
            var tail = SIMD8<Double>(repeating: -.infinity)
            for lane in 0..<(count - index) { tail[lane] = values[index + lane] - shift }
            let e = binaryExponential(tail, table: table)
            for lane in 0..<(count - index) {
                values[index + lane] = e[lane]
                total += e[lane]
            }
        }
        return total
    }
}
