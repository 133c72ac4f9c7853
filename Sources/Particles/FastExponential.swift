// Vectorized e^x for the shifted attention scores, which lie in (−∞, 0].
//
// Method (table-driven, as in Tang 1989): k = round(64 x / ln 2),
// r = x − k ln(2)/64 with |r| ≤ ln(2)/128, and
// e^x = 2^(k div 64) · 2^((k mod 64)/64) · e^r, where e^r is its Taylor
// polynomial of degree 5 (truncation below 4e-17 relative) and the 64 values
// 2^(j/64) come from a table. Inputs below −708 return 0, which changes an
// attention row sum by less than e^−708 ≈ 3e−308 of its largest term, and NaN
// returns NaN. The unit tests bound the error against glibc exp by 2 ulp.
//
// The package builds for baseline x86-64, so SIMD8<Double> compiles to SSE2
// pairs; eight lanes per call keep several independent chains in flight.

import Foundation

private let tableSize = 64
// ln(2)/64 split so that k · ln2Over64High is exact for |k| < 2^20 (fdlibm's
// split of ln 2, divided by 64).
private let ln2Over64High = 6.93147180369123816490e-01 / 64
private let ln2Over64Low = 1.90821492927058770002e-10 / 64
private let scaledLog2e = 64 * 1.4426950408889634
private let roundingShifter = 0x1.8p52
private let shifterBits: Int64 = 0x4338_0000_0000_0000
private let underflowBound = -708.0

/// 2^(j/64) for j = 0 ..< 64, each correctly rounded by exp2 of glibc.
private let powersOfTwo: [Double] = (0..<tableSize).map { exp2(Double($0) / Double(tableSize)) }

/// e^x lane by lane for x ≤ 0; x < −708 gives 0.
@inline(__always)
func exponential(_ x: SIMD8<Double>, table: UnsafePointer<Double>) -> SIMD8<Double> {
    let clamped = x.replacing(with: underflowBound, where: x .< underflowBound)
    let shifted = clamped * scaledLog2e + roundingShifter
    let k = shifted - roundingShifter
    let r = (clamped - k * ln2Over64High) - k * ln2Over64Low

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

    let result = p * tableValue * scale
    return result.replacing(with: 0, where: x .< underflowBound)
}

/// Calls `body` with a pointer to the 2^(j/64) table.
@inline(__always)
func withExponentialTable<Result>(_ body: (UnsafePointer<Double>) -> Result) -> Result {
    powersOfTwo.withUnsafeBufferPointer { body($0.baseAddress!) }
}

/// Largest of `values[0..<count]`; NaN entries are ignored.
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

/// Replaces `values[0..<count]` by exp(values − shift) and returns their sum.
func exponentiateShifted(_ values: UnsafeMutablePointer<Double>, count: Int, shift: Double) -> Double {
    withExponentialTable { table in
        var sum = SIMD8<Double>(repeating: 0)
        var index = 0
        let raw = UnsafeMutableRawPointer(values)
        while index + 8 <= count {
            let x = raw.loadUnaligned(fromByteOffset: index * 8, as: SIMD8<Double>.self)
            let e = exponential(x - shift, table: table)
            raw.storeBytes(of: e, toByteOffset: index * 8, as: SIMD8<Double>.self)
            sum += e
            index += 8
        }
        var total = sum.sum()
        if index < count {
            var tail = SIMD8<Double>(repeating: -.infinity)
            for lane in 0..<(count - index) { tail[lane] = values[index + lane] - shift }
            let e = exponential(tail, table: table)
            for lane in 0..<(count - index) {
                values[index + lane] = e[lane]
                total += e[lane]
            }
        }
        return total
    }
}
