import CVectorKernels
import Foundation

/// Spherical-harmonic analysis and synthesis on a Gauss–Legendre `SphereGrid`,
/// in the real orthonormal basis described on `HarmonicCoefficients`.
///
/// Each transform is an FFT along every ring (FFTW, length nlon) and a
/// Legendre sum per order m over the rings. The Legendre values come from
/// the three-term recurrence in l with exponent scaling (see
/// `LegendreTables`), paired across the equator, eight rings per block in
/// the C kernels of `legendre_kernels.h`, and the orders are spread over all
/// cores with `DispatchQueue.concurrentPerform`.
/// All methods may be called concurrently: each call allocates its own scratch.
public final class SphericalHarmonicTransform: @unchecked Sendable {
    public let grid: SphereGrid
    /// Highest degree L of the coefficients; at most grid.nlat − 1, where
    /// the Gauss quadrature of a product of two harmonics is still exact.
    public let maximumDegree: Int

    let tables: LegendreTables
    let ringTransform: FFTWRingTransform

    /// Prepares the tables and FFT plans of the transform up to degree
    /// `maximumDegree` (default and maximum: grid.nlat − 1).
    /// Throws `GridError` when the degree is negative or above grid.nlat − 1.
    public init(grid: SphereGrid, maximumDegree: Int? = nil) throws {
        let degree = maximumDegree ?? grid.nlat - 1
        guard degree >= 0, degree <= grid.nlat - 1 else {
            throw GridError("maximumDegree = \(degree) is out of range for a grid with nlat = \(grid.nlat): use a degree from 0 to \(grid.nlat - 1)")
        }
        self.grid = grid
        self.maximumDegree = degree
        self.tables = LegendreTables(grid: grid, maximumDegree: degree)
        self.ringTransform = FFTWRingTransform(length: grid.nlon)
    }

    // MARK: - Analysis

    /// Analysis by Gauss quadrature: f_lm = Σ_cells f_i Y_lm(x_i) area_i,
    /// with area_i = w_j · 2π/nlon the cell area of ring j. This is exact
    /// for fields band-limited to degree nlat − 1 and is, up to round-off,
    /// exactly the area-weighted sum over cells.
    ///
    /// Discrete form: F_jm = Σ_k f_jk e^{−imφ_k} by FFT on ring j, then
    /// f_lm = κ_m Σ_j area_j P̄_lm(cos θ_j) Re F_jm and
    /// f_l,−m = κ_m Σ_j area_j P̄_lm(cos θ_j) (−Im F_jm), with κ_0 = 1 and κ_m = √2 for m > 0.
    /// `field` contains one value per cell in flat index j·nlon + k.
    public func analyze(_ field: [Double]) -> HarmonicCoefficients {
        precondition(field.count == grid.cellCount,
                     "field has \(field.count) values, the grid has \(grid.cellCount) cells")
        let nlat = grid.nlat, nlon = grid.nlon
        let fft = ringTransform
        let L = maximumDegree
        var result = HarmonicCoefficients(maximumDegree: L)
        fft.withBuffers(rings: nlat, zeroSpectra: false) { buffers in
            field.withUnsafeBufferPointer { source in
                forEachRingChunk { rings in
                    for j in rings {
                        (buffers.samples + j * fft.sampleStride)
                            .update(from: source.baseAddress! + j * nlon, count: nlon)
                        fft.forward(ring: j, in: buffers)
                    }
                }
            }
            result.values.withUnsafeMutableBufferPointer { output in
                let coefficients = UnsafeSendablePointer(output.baseAddress!)
                DispatchQueue.concurrentPerform(iterations: L + 1) { m in
                    analyzeOrder(m, spectra: buffers.spectra, into: coefficients.pointer)
                }
            }
        }
        return result
    }

    /// Legendre sums of order m over all rings, written to the (l, ±m) coefficients.
    private func analyzeOrder(_ m: Int, spectra: UnsafeMutablePointer<Double>,
                              into coefficients: UnsafeMutablePointer<Double>) {
        let L = maximumDegree
        let count = L - m + 1
        let tables = self.tables
        let spectrumStride = ringTransform.spectrumStride
        let nlat = grid.nlat

        // Per-degree sums, folded from the ring lanes to two partial sums per
        // step (fewer loads and stores than one sum per lane), added at the
        // end: the cos sum of degree m + n at 2n and the sin sum at 2n + 1.
        // One allocation keeps each pair adjacent (two separate buffers can
        // sit a multiple of 4 KiB apart and stall loads behind stores).
        let sums = UnsafeMutablePointer<SIMD2<Double>>.allocate(capacity: 2 * count)
        sums.initialize(repeating: .zero, count: 2 * count)

        // Even and odd parts of the area-weighted ring spectra per ring,
        // even = area (F_north + F_south), odd = area (F_north − F_south),
        // written with scalar stores here and read back as whole vectors below.
        let padded = tables.paddedPairCount
        let parts = UnsafeMutablePointer<Double>.allocate(capacity: 4 * padded)
        parts.initialize(repeating: 0, count: 4 * padded)
        defer {
            sums.deallocate()
            parts.deallocate()
        }
        let evenCosParts = parts, evenSinParts = parts + padded
        let oddCosParts = parts + 2 * padded, oddSinParts = parts + 3 * padded
        for j in 0..<tables.pairCount {
            let south = nlat - 1 - j
            let area = tables.cellArea[j]
            let northIndex = 2 * (j * spectrumStride + m)
            let northCos = spectra[northIndex], northSin = -spectra[northIndex + 1]
            var southCos = 0.0, southSin = 0.0
            if south != j {
                let southIndex = 2 * (south * spectrumStride + m)
                southCos = spectra[southIndex]
                southSin = -spectra[southIndex + 1]
            }
            evenCosParts[j] = area * (northCos + southCos)
            evenSinParts[j] = area * (northSin + southSin)
            oddCosParts[j] = area * (northCos - southCos)
            oddSinParts[j] = area * (northSin - southSin)
        }

        let sumValues = UnsafeMutableRawPointer(sums).assumingMemoryBound(to: Double.self)
        let width = RingLanes.scalarCount
        tables.withPointers(order: m) { pointers in
            for block in 0..<tables.blockCount {
                let first = pointers.startIndex[block]
                guard first <= L - m else { continue }
                let lane = block * width
                legendre_analyze_block(pointers.cosColatitude + lane, pointers.startCurrent + lane,
                                       pointers.startNext + lane, pointers.startLevel + lane, first, L - m,
                                       pointers.recurrenceFactor, evenCosParts + lane, evenSinParts + lane,
                                       oddCosParts + lane, oddSinParts + lane, sumValues)
            }
        }

        // f_lm = κ_m c_lm Σ_j q_lm(x_j) (…), with c_lm = P̄_lm / q_lm.
        let scale = m == 0 ? 1.0 : 2.0.squareRoot()
        let normalization = tables.normalization[tables.orderOffset[m]...]
        for n in 0..<count {
            let l = m + n
            let weight = scale * normalization[normalization.startIndex + n]
            coefficients[l * l + l + m] = weight * sums[2 * n].sum()
            if m > 0 {
                coefficients[l * l + l - m] = weight * sums[2 * n + 1].sum()
            }
        }
    }

    // MARK: - Synthesis

    /// Synthesis f(θ_j, φ_k) = Σ_lm f_lm Y_lm(θ_j, φ_k) at every cell centre,
    /// in flat index j·nlon + k.
    ///
    /// Discrete form: C_jm = κ_m Σ_l f_lm P̄_lm(cos θ_j) and
    /// S_jm = κ_m Σ_l f_l,−m P̄_lm(cos θ_j) (κ_0 = 1, κ_m = √2), then
    /// f_jk = Σ_m (C_jm cos mφ_k + S_jm sin mφ_k) by one inverse FFT per ring.
    /// Coefficients above the transform's degree must be zero: they are ignored.
    public func synthesize(_ coefficients: HarmonicCoefficients) -> [Double] {
        ringTransform.withBuffers(rings: grid.nlat, zeroSpectra: true) { buffers in
            synthesizeSpectra(coefficients, gradient: false, into: buffers, longitudeBuffers: nil)
            return inverseFourier(buffers)
        }
    }

    /// Spherical gradient of the synthesized field at the cell centres, as
    /// the colatitude component ∂f/∂θ and the longitude component
    /// (1/sin θ) ∂f/∂φ, both in flat index j·nlon + k.
    ///
    /// Discrete form: with G_lm(x) = sin θ ∂_θ P̄_lm = l x P̄_lm − d_lm P̄_{l−1,m},
    /// d_lm = √((2l+1)/(2l−1) · (l²−m²)), the colatitude component has ring
    /// coefficients κ_m Σ_l f_l,±m G_lm(x_j) / sin θ_j, and the longitude
    /// component has m (S_jm, −C_jm) / sin θ_j in (cos mφ, sin mφ). The
    /// division is by sin θ at Gauss nodes, which never lie on a pole.
    public func synthesizeGradient(_ coefficients: HarmonicCoefficients) -> (colatitude: [Double], longitude: [Double]) {
        ringTransform.withBuffers(rings: grid.nlat, zeroSpectra: true) { colatitudeBuffers in
            ringTransform.withBuffers(rings: grid.nlat, zeroSpectra: true) { longitudeBuffers in
                synthesizeSpectra(coefficients, gradient: true, into: colatitudeBuffers, longitudeBuffers: longitudeBuffers)
                return (inverseFourier(colatitudeBuffers), inverseFourier(longitudeBuffers))
            }
        }
    }

    /// Runs `body` on disjoint ring ranges covering 0..<nlat, in parallel.
    private func forEachRingChunk(_ body: (Range<Int>) -> Void) {
        let nlat = grid.nlat
        let chunkCount = min(nlat, 4 * ProcessInfo.processInfo.activeProcessorCount)
        DispatchQueue.concurrentPerform(iterations: chunkCount) { chunk in
            body((chunk * nlat / chunkCount)..<((chunk + 1) * nlat / chunkCount))
        }
    }

    /// Inverse FFT of every ring spectrum in `buffers`, returned as a field.
    private func inverseFourier(_ buffers: RingBuffers) -> [Double] {
        let nlon = grid.nlon
        let fft = ringTransform
        return [Double](unsafeUninitializedCapacity: grid.cellCount) { output, initializedCount in
            let target = UnsafeSendablePointer(output.baseAddress!)
            forEachRingChunk { rings in
                for j in rings {
                    fft.backward(ring: j, in: buffers)
                    (target.pointer + j * nlon).initialize(from: buffers.samples + j * fft.sampleStride, count: nlon)
                }
            }
            initializedCount = grid.cellCount
        }
    }

    /// Fills the ring spectra of the synthesized field (or of its gradient
    /// components when `gradient` is set) in the layout the inverse FFT
    /// expects: slot m contains (C − iS)/2 for m > 0 and C for m = 0.
    ///
    /// Work items are a block of rings and a run of consecutive orders, so
    /// each item writes neighbouring slots of the same few ring spectra.
    /// Items over all orders for one block instead of all blocks for one
    /// order keep those writes within a few cache lines per ring.
    private func synthesizeSpectra(_ coefficients: HarmonicCoefficients, gradient: Bool,
                                   into buffers: RingBuffers, longitudeBuffers: RingBuffers?) {
        let L = min(maximumDegree, coefficients.maximumDegree)
        let sets = synthesisCoefficients(coefficients, degree: L, gradient: gradient)
        let orderGroups = (L + ordersPerItem) / ordersPerItem
        let blockCount = tables.blockCount
        withPointers(to: sets) { setPointers in
            let pointers = UnsafeSendablePointer(UnsafeMutablePointer(mutating: setPointers.baseAddress!))
            DispatchQueue.concurrentPerform(iterations: blockCount * orderGroups) { item in
                let block = item % blockCount
                let orders = (item / blockCount * ordersPerItem)..<min(L + 1, (item / blockCount + 1) * ordersPerItem)
                let scratch = LaneScratch(slots: 12)
                let orderSets = UnsafeMutablePointer<UnsafePointer<Double>?>.allocate(capacity: sets.count)
                defer {
                    scratch.deallocate()
                    orderSets.deallocate()
                }
                for m in orders {
                    let offset = tables.orderOffset[m]
                    for k in 0..<sets.count { orderSets[k] = UnsafePointer(pointers.pointer[k]! + offset) }
                    if gradient {
                        synthesizeGradient(order: m, block: block, degree: L, sets: orderSets, scratch: scratch,
                                           colatitude: buffers.spectra, longitude: longitudeBuffers!.spectra)
                    } else {
                        synthesize(order: m, block: block, degree: L, cosines: orderSets[0]!, sines: orderSets[1]!,
                                   scratch: scratch, spectra: buffers.spectra)
                    }
                }
            }
        }
    }

    /// Builds the coefficient sets of the synthesis sums, indexed by
    /// orderOffset[m] + l − m and zero past l = L. All carry c_lm = P̄_lm / q_lm
    /// because the sums run over q_lm. The values are κ_m c f_lm and
    /// κ_m c f_l,−m. The gradient adds l times those and d_{l+1,m} c_lm κ_m f_{l+1,±m},
    /// because Σ_l f_l G_l = x Σ_l (l f_l) P̄_l − Σ_l (d_{l+1} f_{l+1}) P̄_l.
    private func synthesisCoefficients(_ coefficients: HarmonicCoefficients, degree L: Int,
                                       gradient: Bool) -> [[Double]] {
        let (plainCos, plainSin) = groupByOrder(coefficients, degree: L)
        let size = plainCos.count
        var cosines = [Double](repeating: 0, count: size)
        var sines = [Double](repeating: 0, count: size)
        for index in 0..<size {
            cosines[index] = tables.normalization[index] * plainCos[index]
            sines[index] = tables.normalization[index] * plainSin[index]
        }
        guard gradient else { return [cosines, sines] }

        var weightedCos = [Double](repeating: 0, count: size)
        var weightedSin = [Double](repeating: 0, count: size)
        var shiftedCos = [Double](repeating: 0, count: size)
        var shiftedSin = [Double](repeating: 0, count: size)
        for m in 0...L {
            let offset = tables.orderOffset[m]
            for n in 0...(L - m) {
                let index = offset + n
                let l = Double(m + n)
                weightedCos[index] = l * cosines[index]
                weightedSin[index] = l * sines[index]
                let factor = tables.normalization[index] * tables.gradientFactor[index + 1]
                shiftedCos[index] = factor * plainCos[index + 1]
                shiftedSin[index] = factor * plainSin[index + 1]
            }
        }
        return [cosines, sines, weightedCos, weightedSin, shiftedCos, shiftedSin]
    }

    /// Coefficients regrouped by order, scaled by κ_m (1 for m = 0, else √2):
    /// κ_m f_lm in `cos` and κ_m f_l,−m in `sin` at orderOffset[m] + l − m,
    /// zero past l = L. One pass in storage order reads the coefficients
    /// sequentially, while gathering each order separately would touch a new
    /// cache line for almost every coefficient.
    private func groupByOrder(_ coefficients: HarmonicCoefficients, degree L: Int) -> (cos: [Double], sin: [Double]) {
        let size = tables.orderOffset[tables.maximumDegree + 1]
        var cosines = [Double](repeating: 0, count: size)
        var sines = [Double](repeating: 0, count: size)
        let root2 = 2.0.squareRoot()
        let offsets = tables.orderOffset
        coefficients.values.withUnsafeBufferPointer { values in
            cosines.withUnsafeMutableBufferPointer { cosBuffer in
                sines.withUnsafeMutableBufferPointer { sinBuffer in
                    for l in 0...L {
                        let row = l * l + l
                        cosBuffer[offsets[0] + l] = values[row]
                        if l == 0 { continue }
                        for m in 1...l {
                            cosBuffer[offsets[m] + l - m] = root2 * values[row + m]
                            sinBuffer[offsets[m] + l - m] = root2 * values[row - m]
                        }
                    }
                }
            }
        }
        return (cosines, sines)
    }

    /// Stores (C − iS)/2 (or C when m = 0) in slot m of ring j.
    @inline(__always)
    private func store(cos c: Double, sin s: Double, order m: Int, ring j: Int, spectra: UnsafeMutablePointer<Double>) {
        let index = 2 * (j * ringTransform.spectrumStride + m)
        if m == 0 {
            spectra[index] = c
            spectra[index + 1] = 0
        } else {
            spectra[index] = 0.5 * c
            spectra[index + 1] = -0.5 * s
        }
    }

    /// Legendre sums of order m for one block of rings, stored in slot m of
    /// `spectra`. `cosines` and `sines` point at this order's scaled
    /// coefficients (see `synthesisCoefficients`).
    private func synthesize(order m: Int, block: Int, degree L: Int, cosines: UnsafePointer<Double>,
                            sines: UnsafePointer<Double>, scratch: LaneScratch,
                            spectra: UnsafeMutablePointer<Double>) {
        let width = RingLanes.scalarCount
        let nlat = grid.nlat
        tables.withPointers(order: m) { pointers in
            let first = pointers.startIndex[block]
            guard first <= L - m else { return }
            let lane = block * width
            for slot in 0..<4 { scratch.store(.zero, slot: slot) }
            legendre_synthesize_block(pointers.cosColatitude + lane, pointers.startCurrent + lane,
                                      pointers.startNext + lane, pointers.startLevel + lane, first,
                                      L - m, pointers.recurrenceFactor, cosines, sines,
                                      scratch.slot(0), scratch.slot(1), scratch.slot(2), scratch.slot(3))
            let evenCos = scratch.load(slot: 0), evenSin = scratch.load(slot: 1)
            let oddCos = scratch.load(slot: 2), oddSin = scratch.load(slot: 3)
            for lane in 0..<width {
                let j = block * width + lane
                guard j < tables.pairCount else { break }
                store(cos: evenCos[lane] + oddCos[lane], sin: evenSin[lane] + oddSin[lane],
                      order: m, ring: j, spectra: spectra)
                let south = nlat - 1 - j
                if south != j {
                    store(cos: evenCos[lane] - oddCos[lane], sin: evenSin[lane] - oddSin[lane],
                          order: m, ring: south, spectra: spectra)
                }
            }
        }
    }

    /// Gradient sums of order m for one block of rings, stored in slot m of
    /// the `colatitude` and `longitude` spectra. `sets` point at this
    /// order's six coefficient sets (see `synthesisCoefficients`), in the
    /// order of the accumulator slots of `legendre_gradient_block`.
    private func synthesizeGradient(order m: Int, block: Int, degree L: Int,
                                    sets: UnsafeMutablePointer<UnsafePointer<Double>?>,
                                    scratch: LaneScratch, colatitude: UnsafeMutablePointer<Double>,
                                    longitude: UnsafeMutablePointer<Double>) {
        let width = RingLanes.scalarCount
        let nlat = grid.nlat
        let order = Double(m)
        tables.withPointers(order: m) { pointers in
            let first = pointers.startIndex[block]
            guard first <= L - m else { return }
            let lane = block * width
            for slot in 0..<12 { scratch.store(.zero, slot: slot) }
            legendre_gradient_block(pointers.cosColatitude + lane, pointers.startCurrent + lane,
                                    pointers.startNext + lane, pointers.startLevel + lane, first, L - m,
                                    pointers.recurrenceFactor, sets, scratch.slot(0))
            // Value sums (for ∂_φ) and the two derivative sums A and B,
            // each split by the parity of l − m: slot 2k + parity contains set k.
            let valueCos = (scratch.load(slot: 0), scratch.load(slot: 1))
            let valueSin = (scratch.load(slot: 2), scratch.load(slot: 3))
            let aCos = (scratch.load(slot: 4), scratch.load(slot: 5))
            let aSin = (scratch.load(slot: 6), scratch.load(slot: 7))
            let bCos = (scratch.load(slot: 8), scratch.load(slot: 9))
            let bSin = (scratch.load(slot: 10), scratch.load(slot: 11))
            let x = LegendreTables.lanes(pointers.cosColatitude, block: block)
            let inverseSin = 1 / LegendreTables.lanes(pointers.sinColatitude, block: block)
            // North: G = x (A_even + A_odd) − (B_even + B_odd);
            // south (x → −x, odd parts change sign): G = −x (A_even − A_odd) − (B_even − B_odd).
            let northDerivativeCos = (x * (aCos.0 + aCos.1) - (bCos.0 + bCos.1)) * inverseSin
            let northDerivativeSin = (x * (aSin.0 + aSin.1) - (bSin.0 + bSin.1)) * inverseSin
            let southDerivativeCos = (-x * (aCos.0 - aCos.1) - (bCos.0 - bCos.1)) * inverseSin
            let southDerivativeSin = (-x * (aSin.0 - aSin.1) - (bSin.0 - bSin.1)) * inverseSin
            let northCos = (valueCos.0 + valueCos.1) * inverseSin * order
            let northSin = (valueSin.0 + valueSin.1) * inverseSin * order
            let southCos = (valueCos.0 - valueCos.1) * inverseSin * order
            let southSin = (valueSin.0 - valueSin.1) * inverseSin * order
            for lane in 0..<width {
                let j = block * width + lane
                guard j < tables.pairCount else { break }
                store(cos: northDerivativeCos[lane], sin: northDerivativeSin[lane],
                      order: m, ring: j, spectra: colatitude)
                // ∂_φ (C cos mφ + S sin mφ) = m S cos mφ − m C sin mφ.
                store(cos: northSin[lane], sin: -northCos[lane], order: m, ring: j, spectra: longitude)
                let south = nlat - 1 - j
                if south != j {
                    store(cos: southDerivativeCos[lane], sin: southDerivativeSin[lane],
                          order: m, ring: south, spectra: colatitude)
                    store(cos: southSin[lane], sin: -southCos[lane], order: m, ring: south, spectra: longitude)
                }
            }
        }
    }
}

/// Scratch slots of one `RingLanes` vector each, passed to the C kernels,
/// which take vectors as arrays of doubles.
struct LaneScratch {
    let base: UnsafeMutablePointer<Double>

    init(slots: Int) {
        base = UnsafeMutablePointer<Double>.allocate(capacity: slots * RingLanes.scalarCount)
    }

    func deallocate() { base.deallocate() }

    func slot(_ index: Int) -> UnsafeMutablePointer<Double> { base + index * RingLanes.scalarCount }

    func store(_ value: RingLanes, slot index: Int) {
        UnsafeMutableRawPointer(slot(index)).storeBytes(of: value, as: RingLanes.self)
    }

    func load(slot index: Int) -> RingLanes {
        UnsafeRawPointer(slot(index)).loadUnaligned(as: RingLanes.self)
    }
}

/// Consecutive orders per synthesis work item: 16 complex slots, four
/// 64-byte cache lines of each ring spectrum the item writes.
private let ordersPerItem = 16

/// Calls `body` with a buffer of base addresses of `arrays`, valid during the call.
private func withPointers<Result>(to arrays: [[Double]],
                                  _ body: (UnsafeBufferPointer<UnsafePointer<Double>?>) -> Result) -> Result {
    func nest(_ index: Int, _ collected: [UnsafePointer<Double>?]) -> Result {
        if index == arrays.count { return collected.withUnsafeBufferPointer(body) }
        return arrays[index].withUnsafeBufferPointer { nest(index + 1, collected + [$0.baseAddress]) }
    }
    return nest(0, [])
}

/// A raw pointer handed to `concurrentPerform` workers that write disjoint elements.
struct UnsafeSendablePointer<Pointee>: @unchecked Sendable {
    let pointer: UnsafeMutablePointer<Pointee>
    init(_ pointer: UnsafeMutablePointer<Pointee>) { self.pointer = pointer }
}

/// Pointers into the tables for one order m.
struct LegendreOrderPointers {
    let cosColatitude: UnsafePointer<Double>
    let sinColatitude: UnsafePointer<Double>
    let recurrenceFactor: UnsafePointer<Double>
    let startIndex: UnsafePointer<Int>
    let startCurrent: UnsafePointer<Double>
    let startNext: UnsafePointer<Double>
    let startLevel: UnsafePointer<Double>
}

extension LegendreTables {
    /// Calls `body` with pointers to the arrays of order m.
    func withPointers<Result>(order m: Int, _ body: (LegendreOrderPointers) -> Result) -> Result {
        cosColatitude.withUnsafeBufferPointer { cosines in
        sinColatitude.withUnsafeBufferPointer { sines in
        recurrenceFactor.withUnsafeBufferPointer { factor in
        startIndex.withUnsafeBufferPointer { index in
        startCurrent.withUnsafeBufferPointer { current in
        startNext.withUnsafeBufferPointer { next in
        startLevel.withUnsafeBufferPointer { level in
            body(LegendreOrderPointers(
                cosColatitude: cosines.baseAddress!,
                sinColatitude: sines.baseAddress!,
                recurrenceFactor: factor.baseAddress! + orderOffset[m],
                startIndex: index.baseAddress! + m * blockCount,
                startCurrent: current.baseAddress! + m * paddedPairCount,
                startNext: next.baseAddress! + m * paddedPairCount,
                startLevel: level.baseAddress! + m * paddedPairCount))
        }
        }
        }
        }
        }
        }
        }
    }
}

extension SphericalHarmonicTransform {
    /// Value of Y_lm at one point (colatitude θ ∈ [0, π] and longitude φ in
    /// radians), by the same recurrence as the transforms, run on one point
    /// with a separate binary exponent so that P̄_mm does not underflow.
    /// Order m < 0 selects the sin |m|φ harmonic.
    public static func harmonic(degree l: Int, order m: Int, colatitude: Double, longitude: Double) -> Double {
        precondition(l >= 0 && abs(m) <= l, "(l, m) = (\(l), \(m)) needs l ≥ 0 and |m| ≤ l")
        let order = abs(m)
        let x = cos(colatitude), s = sin(colatitude)

        // P̄_mm = value · 2^exponent, renormalized as the product shrinks.
        var value = 1 / (4 * Double.pi).squareRoot()
        var exponent = 0
        if order > 0 {
            for k in 1...order {
                let kd = Double(k)
                value *= s * ((2 * kd + 1) / (2 * kd)).squareRoot()
                if value != 0 && abs(value) < 0x1p-256 {
                    value *= 0x1p256
                    exponent -= 256
                }
            }
        }

        // Recurrence in l on the scaled values; rescale while the true value is below 2^exponent.
        var previous = 0.0
        var current = value
        let mm = Double(order * order)
        if l > order {
            for degree in (order + 1)...l {
                let ld = Double(degree)
                let alpha = ((4 * ld * ld - 1) / (ld * ld - mm)).squareRoot()
                let beta = degree == order + 1 ? 0
                    : -((2 * ld + 1) / (2 * ld - 3) * ((ld - 1) * (ld - 1) - mm) / (ld * ld - mm)).squareRoot()
                let next = alpha * x * current + beta * previous
                previous = current
                current = next
                if exponent < 0 && abs(current) > 0x1p256 {
                    current *= 0x1p-256
                    previous *= 0x1p-256
                    exponent += 256
                }
            }
        }
        let legendre = Double(sign: .plus, exponent: exponent, significand: 1) * current
        switch m {
        case 0: return legendre
        case 1...: return 2.0.squareRoot() * legendre * cos(Double(m) * longitude)
        default: return 2.0.squareRoot() * legendre * sin(Double(order) * longitude)
        }
    }
}
