import Foundation

/// Rings processed together in the Legendre step: one SIMD lane per ring,
/// as many as LEGENDRE_BLOCK_RINGS of the C kernels.
typealias RingLanes = SIMD8<Double>

/// Factor applied to a scaled Legendre value when it moves up one exponent
/// level: consecutive levels differ by 2^512.
let legendreLevelInverse = 0x1p-512
/// A scaled value above this magnitude moves up one level.
let legendreRescaleThreshold = 0x1p256
/// Magnitude of q_lm (2^−70, about 8.5e−22) that starts the Legendre sums
/// of a ring block: they begin at the first degree where some lane exceeds
/// it. Every skipped term is below this bound times c_lm = P̄_lm / q_lm
/// times its coefficient, far below the double round-off of the sums.
let legendreStartThreshold = 0x1p-70

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
/// The transforms run it on q_lm = P̄_lm / c_lm with c_mm = c_{m+1,m} = 1 and
/// c_lm = −β_lm c_{l−2,m}, which turns it into
///
///     q_lm = a_lm x q_{l−1,m} − q_{l−2,m},   a_lm = α_lm c_{l−1,m} / c_lm,
///
/// one multiplication per step fewer; the c_lm go into the coefficients.
/// P̄_mm falls far below the double range near the poles at large m
/// (sin^1000 θ at the polar ring of nlat = 1024 is about 10^−2900), so every
/// value is carried as a mantissa μ and an integer level e ≤ 0 with
/// q = μ · 2^(512 e). The recurrence is linear, so it runs on μ directly;
/// when |μ| exceeds 2^256 at a level below 0 both recurrence values are
/// multiplied by 2^−512 and e goes up by one. A value at a level below 0 is
/// below 2^−256 · c_lm and contributes nothing to a sum; level-0 values are
/// the plain q_lm, which stay far below 2^256 (|P̄_lm| ≤ √((2l+1)/(4π)) and
/// c_lm shrinks no faster than a power of l).
///
/// Only the northern rings and the equator are stored: ring j and ring
/// nlat − 1 − j share sin θ and have opposite cos θ, and
/// P̄_lm(−x) = (−1)^(l+m) P̄_lm(x).
struct LegendreTables: Sendable {
    let maximumDegree: Int
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

    /// Start of order m in the per-order arrays `recurrenceFactor`,
    /// `normalization` and `gradientFactor`, each of which contains entries
    /// n = l − m for n = 0...L − m + 3 (three entries past l = L keep the
    /// unrolled loops in bounds).
    let orderOffset: [Int]
    /// a_lm at orderOffset[m] + l − m (a_mm = 0, a_{m+1,m} = √(2m+3)).
    let recurrenceFactor: [Double]
    /// c_lm = P̄_lm / q_lm at orderOffset[m] + l − m.
    let normalization: [Double]
    /// d_lm = √((2l+1)/(2l−1) · (l²−m²)) at orderOffset[m] + l − m, from
    /// sin θ ∂_θ P̄_lm = l cos θ P̄_lm − d_lm P̄_{l−1,m} (d_mm = 0).
    let gradientFactor: [Double]

    /// First n = l − m at which some lane of block b has |q_{m+n,m}| or
    /// |q_{m+n+1,m}| above `legendreStartThreshold`, at m · blockCount + b;
    /// above L − m when no ring of the block needs order m at all.
    let startIndex: [Int]
    /// Recurrence state at `startIndex` per ring, at m · paddedPairCount + j:
    /// the mantissas of q_{m+n,m} and q_{m+n+1,m} and their common level.
    let startCurrent: [Double]
    let startNext: [Double]
    let startLevel: [Double]

    init(grid: SphereGrid, maximumDegree L: Int) {
        maximumDegree = L
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
        var factor = [Double](repeating: 0, count: offsets[L + 1])
        var normalization = [Double](repeating: 0, count: offsets[L + 1])
        var gradient = [Double](repeating: 0, count: offsets[L + 1])
        for m in 0...L {
            let mm = Double(m) * Double(m)
            let base = offsets[m]
            normalization[base] = 1
            for l in (m + 1)...(L + 3) {
                let index = base + l - m
                let ld = Double(l)
                if l == m + 1 {
                    normalization[index] = 1
                    factor[index] = (2 * ld + 1).squareRoot()
                } else {
                    let alpha = ((4 * ld * ld - 1) / (ld * ld - mm)).squareRoot()
                    let beta = -((2 * ld + 1) / (2 * ld - 3) * ((ld - 1) * (ld - 1) - mm) / (ld * ld - mm)).squareRoot()
                    normalization[index] = -beta * normalization[index - 2]
                    factor[index] = alpha * normalization[index - 1] / normalization[index]
                }
                gradient[index] = ((2 * ld + 1) / (2 * ld - 1) * (ld * ld - mm)).squareRoot()
            }
        }
        self.recurrenceFactor = factor
        self.normalization = normalization
        self.gradientFactor = gradient

        var mantissa = [Double](repeating: 0, count: (L + 1) * paddedPairCount)
        var level = [Double](repeating: 0, count: (L + 1) * paddedPairCount)
        for j in 0..<pairCount {
            LegendreTables.fillDiagonal(sinColatitude: sines[j], maximumOrder: L, ring: j,
                                        stride: paddedPairCount, mantissa: &mantissa, level: &level)
        }

        // Run the scaled recurrence once per (m, block) up to the first
        // degree that matters, so the transforms skip the underflowing part.
        let blocks = paddedPairCount / width
        var startIndex = [Int](repeating: 0, count: (L + 1) * blocks)
        var startCurrent = [Double](repeating: 0, count: (L + 1) * paddedPairCount)
        var startNext = [Double](repeating: 0, count: (L + 1) * paddedPairCount)
        var startLevel = [Double](repeating: 0, count: (L + 1) * paddedPairCount)
        let padded = paddedPairCount
        startIndex.withUnsafeMutableBufferPointer { indexBuffer in
        startCurrent.withUnsafeMutableBufferPointer { currentBuffer in
        startNext.withUnsafeMutableBufferPointer { nextBuffer in
        startLevel.withUnsafeMutableBufferPointer { levelBuffer in
            let indexOut = UnsafeSendablePointer(indexBuffer.baseAddress!)
            let currentOut = UnsafeSendablePointer(currentBuffer.baseAddress!)
            let nextOut = UnsafeSendablePointer(nextBuffer.baseAddress!)
            let levelOut = UnsafeSendablePointer(levelBuffer.baseAddress!)
            cosines.withUnsafeBufferPointer { cosineBuffer in
            mantissa.withUnsafeBufferPointer { mantissaBuffer in
            level.withUnsafeBufferPointer { diagonalLevelBuffer in
            factor.withUnsafeBufferPointer { factorBuffer in
                DispatchQueue.concurrentPerform(iterations: L + 1) { m in
                    for block in 0..<blocks {
                        let lane = m * padded + block * width
                        let state = LegendreTables.advanceToRepresentable(
                            order: m, maximumDegree: L,
                            x: LegendreTables.lanes(cosineBuffer.baseAddress!, block: block),
                            diagonal: LegendreTables.lanes(mantissaBuffer.baseAddress! + m * padded, block: block),
                            level: LegendreTables.lanes(diagonalLevelBuffer.baseAddress! + m * padded, block: block),
                            factor: factorBuffer.baseAddress! + offsets[m])
                        indexOut.pointer[m * blocks + block] = state.index
                        UnsafeMutableRawPointer(currentOut.pointer + lane).storeBytes(of: state.current, as: RingLanes.self)
                        UnsafeMutableRawPointer(nextOut.pointer + lane).storeBytes(of: state.next, as: RingLanes.self)
                        UnsafeMutableRawPointer(levelOut.pointer + lane).storeBytes(of: state.level, as: RingLanes.self)
                    }
                }
            }
            }
            }
            }
        }
        }
        }
        }
        self.startIndex = startIndex
        self.startCurrent = startCurrent
        self.startNext = startNext
        self.startLevel = startLevel
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

/// Recurrence state of one block of rings for one order: mantissas of
/// q_{m+n,m} and q_{m+n+1,m} with their common level per lane.
struct LegendreState {
    var index: Int
    var current: RingLanes
    var next: RingLanes
    var level: RingLanes
}

extension LegendreTables {
    /// Runs the scaled recurrence from q_mm = P̄_mm until q_{m+n,m} or
    /// q_{m+n+1,m} of some lane exceeds `legendreStartThreshold` in magnitude
    /// and returns the state there, or an index above L − m when none does.
    static func advanceToRepresentable(order m: Int, maximumDegree L: Int, x: RingLanes,
                                       diagonal: RingLanes, level startLevel: RingLanes,
                                       factor: UnsafePointer<Double>) -> LegendreState {
        let last = L - m
        var state = LegendreState(index: 0, current: diagonal, next: factor[1] * x * diagonal, level: startLevel)
        let threshold = legendreStartThreshold
        while state.index <= last {
            let large = (state.current .> threshold) .| (state.current .< -threshold)
                .| (state.next .> threshold) .| (state.next .< -threshold)
            if anyLane((state.level .== 0) .& large) { break }
            step(&state, x: x, factor: factor)
        }
        return state
    }

    /// Advances the scaled recurrence by one degree, moves lanes whose new
    /// value exceeds 2^256 up one level and returns whether any lane moved.
    @inline(__always) @discardableResult
    static func step(_ state: inout LegendreState, x: RingLanes, factor: UnsafePointer<Double>) -> Bool {
        let n = state.index
        let following = factor[n + 2] * x * state.next - state.current
        state.current = state.next
        state.next = following
        state.index = n + 1
        let large = (following .> legendreRescaleThreshold) .| (following .< -legendreRescaleThreshold)
        guard anyLane(large) else { return false }
        state.next = state.next.replacing(with: state.next * legendreLevelInverse, where: large)
        state.current = state.current.replacing(with: state.current * legendreLevelInverse, where: large)
        state.level = state.level.replacing(with: state.level + 1, where: large)
        return true
    }

    /// Returns whether any lane of `mask` is set. The standard library's `any`
    /// is a reduction call that the optimizer did not inline into these loops.
    @inline(__always)
    static func anyLane(_ mask: SIMDMask<RingLanes.MaskStorage>) -> Bool {
        fold(RingLanes.zero.replacing(with: 1, where: mask)).sum() > 0
    }

    /// Adds the lanes of `value` pairwise down to two partial sums.
    @inline(__always)
    static func fold(_ value: RingLanes) -> SIMD2<Double> {
        let half = value.lowHalf + value.highHalf
        return half.lowHalf + half.highHalf
    }

    /// Loads lanes `block·width ..< (block+1)·width` of `array`.
    @inline(__always)
    static func lanes(_ array: UnsafePointer<Double>, block: Int) -> RingLanes {
        UnsafeRawPointer(array + block * RingLanes.scalarCount).loadUnaligned(as: RingLanes.self)
    }
}
