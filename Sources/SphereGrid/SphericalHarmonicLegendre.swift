import Foundation

/// Rings processed together in the Legendre step: one SIMD lane per ring.
typealias RingLanes = SIMD4<Double>

/// Scale factor between consecutive exponent levels of a scaled Legendre value.
let legendreLevelFactor = 0x1p512
/// Inverse of `legendreLevelFactor`.
let legendreLevelInverse = 0x1p-512
/// A scaled value above this magnitude moves up one level.
let legendreRescaleThreshold = 0x1p256

/// Precomputed Legendre data of one transform.
///
/// The Legendre step evaluates P̄_lm(x) for fixed m and increasing l by the
/// three-term recurrence
///
///     P̄_{m+1,m} = √(2m+3) x P̄_mm
///     P̄_lm      = α_lm x P̄_{l−1,m} + β_lm P̄_{l−2,m}            (l ≥ m + 2)
///     α_lm = √((4l²−1)/(l²−m²)),   β_lm = −√((2l+1)/(2l−3) · ((l−1)²−m²)/(l²−m²))
///
/// started from P̄_mm = √((2m+1)/(2m)) sin θ · P̄_{m−1,m−1}, P̄_00 = 1/√(4π).
/// P̄_mm falls far below the double range near the poles at large m
/// (sin^1000 θ at the polar ring of nlat = 1024 is about 10^−2900), so every
/// value is carried as a mantissa μ and an integer level e ≤ 0 with
/// P̄ = μ · 2^(512 e). The recurrence is linear, so it runs on μ directly;
/// when |μ| exceeds 2^256 at a level below 0 both recurrence values are
/// multiplied by 2^−512 and e goes up by one. A value at a level below 0 is
/// below 2^−256 and contributes nothing to a sum; level-0 values are the
/// plain P̄_lm, which stay below about √((2l+1)/(4π))·√2 in magnitude.
///
/// Only the northern rings and the equator are stored: ring j and ring
/// nlat − 1 − j share sin θ and have opposite cos θ, and
/// P̄_lm(−x) = (−1)^(l+m) P̄_lm(x).
struct LegendreTables: Sendable {
    let maximumDegree: Int
    let ringCount: Int
    /// Northern rings plus the equatorial ring when nlat is odd: (nlat + 1)/2.
    let pairCount: Int
    /// `pairCount` rounded up to a whole number of `RingLanes`.
    let paddedPairCount: Int
    var blockCount: Int { paddedPairCount / RingLanes.scalarCount }

    /// cos θ_j for j < pairCount, then 0 in the padding lanes.
    let cosColatitude: [Double]
    /// sin θ_j for j < pairCount, then 1 in the padding lanes.
    let sinColatitude: [Double]
    /// Cell area of ring j for j < pairCount, then 0 in the padding lanes.
    let cellArea: [Double]

    /// Start of order m in the per-order arrays `alpha`, `beta` and
    /// `gradientFactor`, each of which holds entries n = l − m for
    /// n = 0...L − m + 3 (three entries past l = L keep unrolled loops in bounds).
    let orderOffset: [Int]
    /// α_lm at orderOffset[m] + l − m (α_mm = 0, α_{m+1,m} = √(2m+3)).
    let alpha: [Double]
    /// β_lm at orderOffset[m] + l − m (zero for l < m + 2).
    let beta: [Double]
    /// d_lm = √((2l+1)/(2l−1) · (l²−m²)) at orderOffset[m] + l − m, from
    /// sin θ ∂_θ P̄_lm = l cos θ P̄_lm − d_lm P̄_{l−1,m} (d_mm = 0).
    let gradientFactor: [Double]

    /// μ of P̄_mm(x_j) at m · paddedPairCount + j.
    let diagonalMantissa: [Double]
    /// Level e of P̄_mm(x_j) at m · paddedPairCount + j, as a Double ≤ 0.
    let diagonalLevel: [Double]

    init(grid: SphereGrid, maximumDegree L: Int) {
        maximumDegree = L
        ringCount = grid.nlat
        pairCount = (grid.nlat + 1) / 2
        let width = RingLanes.scalarCount
        paddedPairCount = (pairCount + width - 1) / width * width

        var cosines = [Double](repeating: 0, count: paddedPairCount)
        var sines = [Double](repeating: 1, count: paddedPairCount)
        var areas = [Double](repeating: 0, count: paddedPairCount)
        for j in 0..<pairCount {
            cosines[j] = grid.nodes.cosColatitude[j]
            sines[j] = grid.nodes.sinColatitude[j]
            areas[j] = grid.cellArea[j]
        }
        cosColatitude = cosines
        sinColatitude = sines
        cellArea = areas

        var offsets = [Int](repeating: 0, count: L + 2)
        for m in 0...L { offsets[m + 1] = offsets[m] + (L - m + 4) }
        orderOffset = offsets
        var alpha = [Double](repeating: 0, count: offsets[L + 1])
        var beta = [Double](repeating: 0, count: offsets[L + 1])
        var gradient = [Double](repeating: 0, count: offsets[L + 1])
        for m in 0...L {
            let mm = Double(m) * Double(m)
            for l in m...(L + 3) {
                let index = offsets[m] + l - m
                let ld = Double(l)
                if l == m + 1 {
                    alpha[index] = (2 * ld + 1).squareRoot()
                } else if l >= m + 2 {
                    alpha[index] = ((4 * ld * ld - 1) / (ld * ld - mm)).squareRoot()
                    beta[index] = -((2 * ld + 1) / (2 * ld - 3) * ((ld - 1) * (ld - 1) - mm) / (ld * ld - mm)).squareRoot()
                }
                if l > m {
                    gradient[index] = ((2 * ld + 1) / (2 * ld - 1) * (ld * ld - mm)).squareRoot()
                }
            }
        }
        self.alpha = alpha
        self.beta = beta
        self.gradientFactor = gradient

        var mantissa = [Double](repeating: 0, count: (L + 1) * paddedPairCount)
        var level = [Double](repeating: 0, count: (L + 1) * paddedPairCount)
        for j in 0..<pairCount {
            LegendreTables.fillDiagonal(sinColatitude: sines[j], maximumOrder: L, ring: j,
                                        stride: paddedPairCount, mantissa: &mantissa, level: &level)
        }
        diagonalMantissa = mantissa
        diagonalLevel = level
    }

    /// Computes P̄_mm(cos θ) = (1/√(4π)) ∏_{k=1}^{m} √((2k+1)/(2k)) · sin^m θ for
    /// m = 0...maximumOrder in extended precision with a separate binary
    /// exponent, so that neither rounding (m products) nor underflow limits it,
    /// and stores each as mantissa and level.
    private static func fillDiagonal(sinColatitude s: Double, maximumOrder: Int, ring j: Int, stride: Int,
                                     mantissa: inout [Double], level: inout [Double]) {
        var significand = 1 / (4 * Float80.pi).squareRoot()
        var exponent = 0
        for m in 0...maximumOrder {
            if m > 0 {
                let k = Float80(m)
                significand *= Float80(s) * ((2 * k + 1) / (2 * k)).squareRoot()
            }
            exponent += Int(significand.exponent)
            significand = significand.significand
            // P̄_mm = significand · 2^exponent with significand in [1, 2).
            // Level e = ⌈(exponent − 256)/512⌉ ≤ 0 puts the stored exponent in
            // (−256, 256]; Swift's division truncates, which is ⌈⌉ for negatives.
            let e = exponent > 256 ? 0 : (exponent - 256) / 512
            mantissa[m * stride + j] = Double(sign: .plus, exponent: exponent - 512 * e,
                                              significand: Double(significand))
            level[m * stride + j] = Double(e)
        }
    }
}

extension LegendreTables {
    /// Runs the recurrence for order m over one block of rings and calls
    /// `body(n, P̄_{m+n,m}(x), isOdd)` for n = 0...L − m, where `isOdd` is
    /// whether n is odd. Lanes whose value is below the double range get 0.
    /// `alpha` and `beta` point at this order's entries.
    @inline(__always)
    static func recur(order m: Int, maximumDegree L: Int, x: RingLanes,
                      diagonal: RingLanes, level startLevel: RingLanes,
                      alpha: UnsafePointer<Double>, beta: UnsafePointer<Double>,
                      _ body: (Int, RingLanes, Bool) -> Void) {
        let last = L - m
        var n = 0
        var current = diagonal
        var next = alpha[1] * x * diagonal
        var level = startLevel

        // Scaled phase: some lanes are still below the double range.
        if any(level .< 0) {
            while n <= last {
                let ready = level .== 0
                if all(ready) { break }
                if any(ready) {
                    body(n, RingLanes(repeating: 0).replacing(with: current, where: ready), n & 1 == 1)
                }
                let following = alpha[n + 2] * x * next + beta[n + 2] * current
                current = next
                next = following
                n += 1
                let large = (next .> legendreRescaleThreshold) .| (next .< -legendreRescaleThreshold)
                if any(large) {
                    next = next.replacing(with: next * legendreLevelInverse, where: large)
                    current = current.replacing(with: current * legendreLevelInverse, where: large)
                    level = level.replacing(with: level + 1, where: large)
                }
            }
            if n > last { return }
        }

        // Plain phase: start on an even n so the loop below has fixed parities.
        if n & 1 == 1 {
            body(n, current, true)
            let following = alpha[n + 2] * x * next + beta[n + 2] * current
            current = next
            next = following
            n += 1
        }
        while n < last {
            body(n, current, false)
            body(n + 1, next, true)
            current = alpha[n + 2] * x * next + beta[n + 2] * current
            next = alpha[n + 3] * x * current + beta[n + 3] * next
            n += 2
        }
        if n == last {
            body(n, current, false)
        }
    }

    /// Loads lanes `block·width ..< (block+1)·width` of `array`.
    @inline(__always)
    static func lanes(_ array: UnsafePointer<Double>, block: Int) -> RingLanes {
        UnsafeRawPointer(array + block * RingLanes.scalarCount).loadUnaligned(as: RingLanes.self)
    }
}
