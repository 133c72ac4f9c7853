/// e^x for four arguments x ≤ 0 at once, with a relative error of a few
/// units in the last place. Arguments below −708 (including −inf) return 0,
/// which drops terms below e^{−708} of the row maximum in a log-sum-exp.
///
/// Range reduction x = k ln 2 + r with |r| ≤ ln 2 / 2 (ln 2 split in two
/// parts so that k · ln2High is exact), a degree-13 Taylor polynomial for
/// e^r (truncation error below 5e−18), and 2^k built from its bit pattern.
@inline(__always)
func fastExponential(_ x: SIMD4<Double>) -> SIMD4<Double> {
    let lowerLimit = SIMD4<Double>(repeating: -708)
    let clamped = pointwiseMax(x, lowerLimit)
    // Adding 1.5 · 2^52 rounds to the nearest integer and leaves k in the low
    // mantissa bits.
    let shifter = SIMD4<Double>(repeating: 6_755_399_441_055_744.0)
    let shifted = clamped * 1.4426950408889634 + shifter
    let k = shifted - shifter
    let ln2High = 6.93147180369123816490e-01
    let ln2Low = 1.90821492927058770002e-10
    let r = (clamped - k * ln2High) - k * ln2Low

    var p = SIMD4<Double>(repeating: 1.0 / 6_227_020_800.0)
    p = p * r + 1.0 / 479_001_600.0
    p = p * r + 1.0 / 39_916_800.0
    p = p * r + 1.0 / 3_628_800.0
    p = p * r + 1.0 / 362_880.0
    p = p * r + 1.0 / 40_320.0
    p = p * r + 1.0 / 5_040.0
    p = p * r + 1.0 / 720.0
    p = p * r + 1.0 / 120.0
    p = p * r + 1.0 / 24.0
    p = p * r + 1.0 / 6.0
    p = p * r + 0.5
    p = p * r + 1.0
    p = p * r + 1.0

    // (k + 1023) << 52 is the bit pattern of 2^k for −1022 ≤ k ≤ 1023; the
    // high bits of the shifted value fall off the left end.
    let bits = unsafeBitCast(shifted, to: SIMD4<UInt64>.self)
    let powerBits = (bits &+ 1023) &<< 52
    let power = unsafeBitCast(powerBits, to: SIMD4<Double>.self)
    return (p * power).replacing(with: 0, where: x .< lowerLimit)
}
