import Dispatch
import Foundation
import LinearAlgebra
import SphereGrid

/// The attention integrals D, N, the velocity X_θ and the energy E_β of a
/// density given per cell of a `CircleGrid` (cell k centred at θ_k = 2πk/n,
/// x_k = (cos θ_k, sin θ_k), length h = 2π/n).
///
/// Discretely the integrals are midpoint sums over cells with mass
/// m_j = ρ_j h: D_i = Σ_j exp(β ⟨x_i, A x_j⟩) m_j and
/// N_i = Σ_j exp(β ⟨x_i, A x_j⟩) V x_j m_j. The direct path evaluates these
/// sums for any A with a log-sum-exp per row, shifted by
/// max_j [β ⟨x_i, A x_j⟩ + log m_j]. The spectral path (A = a·I) evaluates
/// the same sums by FFT (`CircleSpectralEvaluator`), exactly up to the
/// aliased kernel modes |k| ≥ n/2, and recomputes by the direct sum every
/// cell whose spectral D is below 1e−8 of the largest.
///
/// `evaluate` keeps no state between calls and may run on several threads.
public final class CircleAttentionKernel: @unchecked Sendable {
    public let grid: CircleGrid
    public let model: CircleAttentionModel
    /// Notes about the configuration, such as a kernel that the grid does
    /// not resolve. The kernel never prints them.
    public let warnings: [String]
    /// The path `evaluate` uses: `.spectral` or `.direct`.
    public let resolvedPath: KernelPath

    private let centres: [SIMD2<Double>]
    /// Unit tangents e_θ = (−sin θ_k, cos θ_k).
    private let tangents: [SIMD2<Double>]
    /// β Aᵀ, which maps a target x to w with ⟨w, y⟩ = β ⟨x, A y⟩.
    private let scoreMatrix: Matrix2
    private let potentialFactor: Double?
    private let spectral: CircleSpectralEvaluator?

    /// Relative size below which a spectral D is recomputed by the direct
    /// sum: the FFT gives D with an absolute error of about 1e−16 · max D,
    /// so 1e−8 · max D keeps about 8 correct digits.
    static let fallbackThreshold = 1e-8

    /// Ratio I_k(|z|)/I_0(|z|) at k = n/2 up to which the kernel counts as
    /// resolved on n cells.
    static let resolutionTolerance = 1e-10

    /// Throws `KernelError` when `.spectral` is requested for an interaction
    /// matrix that is not a multiple of the identity.
    public init(grid: CircleGrid, model: CircleAttentionModel, path: KernelPath = .automatic) throws {
        self.grid = grid
        self.model = model
        self.centres = grid.cellCentres()
        self.tangents = grid.angles().map { SIMD2(-sin($0), cos($0)) }
        let interaction = model.interaction
        self.scoreMatrix = Matrix2(entries: interaction.transposed.entries.map { $0 * model.beta })
        self.potentialFactor = model.potentialFactor

        let isotropicScale = interaction.scalarMultipleOfIdentity
        switch path {
        case .direct:
            resolvedPath = .direct
        case .spectral:
            guard isotropicScale != nil else {
                throw KernelError("kernel path spectral needs an interaction matrix A = Q^T K that is a multiple of the identity, but A = [\(interaction)]: use path automatic or direct")
            }
            resolvedPath = .spectral
        case .automatic:
            resolvedPath = isotropicScale == nil ? .direct : .spectral
        }
        if resolvedPath == .spectral, let a = isotropicScale {
            spectral = CircleSpectralEvaluator(grid: grid, interactionScale: a, beta: model.beta)
        } else {
            spectral = nil
        }

        // The kernel width is set by the largest singular value of A.
        let scale = isotropicScale.map { abs($0) } ?? interaction.spectralNorm
        let recommended = CircleAttentionKernel.recommendedCellCount(beta: model.beta, interactionScale: scale)
        if recommended > grid.cells {
            let top = grid.cells / 2
            let values = scaledModifiedBessel(maximumOrder: top, argument: scale * model.beta)
            let ratio = values[top] / values[0]
            warnings = ["kernel exp(beta <x, A y>) with beta = \(model.beta) and interaction scale a = \(scale) is not resolved on \(grid.cells) cells: its Fourier coefficient at k = \(top) is \(String(format: "%.2e", ratio)) of the k = 0 one (resolved means at most \(CircleAttentionKernel.resolutionTolerance)); use cells >= \(recommended)"]
        } else {
            warnings = []
        }
    }

    /// Smallest even cell count n whose Nyquist order k = n/2 resolves the
    /// kernel exp(aβ cos t), that is I_{n/2}(|a|β) / I_0(|a|β) ≤ 1e−10
    /// (about 7·√(|a|β) modes for large |a|β); at least 8.
    public static func recommendedCellCount(beta: Double, interactionScale a: Double) -> Int {
        let z = abs(a * beta)
        precondition(z.isFinite, "recommendedCellCount: beta * a = \(a * beta) is not finite")
        var maximumOrder = Int(8 * z.squareRoot()) + 16
        while true {
            let values = scaledModifiedBessel(maximumOrder: maximumOrder, argument: z)
            if let order = values.firstIndex(where: { $0 <= resolutionTolerance * values[0] }) {
                return max(CircleGrid.minimumCellCount, 2 * order)
            }
            maximumOrder *= 2
        }
    }

    /// Computes D, N, X_θ, the potential and E_β for the density ρ given per
    /// cell (with respect to dθ, so Σ ρ_k h is the total mass).
    ///
    /// Throws `KernelError` when the density has the wrong size, a negative or
    /// non-finite value, or no positive cell.
    public func evaluate(density: [Double]) throws -> CircleAttentionEvaluation {
        try validate(density: density)
        let h = grid.cellLength
        let masses = density.map { $0 * h }
        var assembly = CircleAssembly(cellCount: density.count)
        let path: KernelPath
        var fallbackCount = 0

        if let spectral {
            path = .spectral
            assembly.logScale = spectral.logScale
            let fields = spectral.evaluate(density: density)
            let largest = fields.denominator.max() ?? 0
            let threshold = CircleAttentionKernel.fallbackThreshold * max(largest, 0)
            let valueScale = model.value.scalarMultipleOfIdentity
            var fallbackCells = [Int]()
            for index in density.indices {
                let d = fields.denominator[index]
                guard d.isFinite, d > threshold else {
                    fallbackCells.append(index)
                    continue
                }
                let gradient = fields.angular[index] * tangents[index] + fields.radial[index] * centres[index]
                let numerator = model.value.apply(gradient)
                // For V = v·I the tangential part is v (1/z) ∂_θ D, with no
                // cancellation against the radial part.
                let tangential = valueScale.map { $0 * fields.angular[index] }
                    ?? (numerator * tangents[index]).sum()
                assembly.store(cell: index, shift: assembly.logScale, denominator: d, numerator: numerator,
                               tangential: tangential, mass: masses[index], normalization: model.normalization)
            }
            fallbackCount = fallbackCells.count
            // NOTE: each fallback cell costs a sum over all cells, so a very peaked
            // density at large β on a fine grid can make this O(cells²).
            if !fallbackCells.isEmpty {
                let rows = directRows(targets: fallbackCells, masses: masses)
                store(rows, cells: fallbackCells, masses: masses, into: &assembly)
            }
        } else {
            path = .direct
            let cells = Array(density.indices)
            let rows = directRows(targets: cells, masses: masses)
            assembly.logScale = rows.shift.max()!
            store(rows, cells: cells, masses: masses, into: &assembly)
        }

        let potential = potentialFactor.map { c in
            assembly.scaledDenominator.map { c / model.beta * $0 }
        }
        let logEnergy = logSumExp(assembly.logEnergyTerms) - log(2 * model.beta)
        return CircleAttentionEvaluation(logScale: assembly.logScale,
                                         scaledDenominator: assembly.scaledDenominator,
                                         scaledNumerator: assembly.scaledNumerator,
                                         angularVelocity: assembly.angularVelocity,
                                         scaledPotential: potential,
                                         logEnergy: logEnergy,
                                         path: path,
                                         fallbackCellCount: fallbackCount)
    }

    private func validate(density: [Double]) throws {
        guard density.count == grid.cells else {
            throw KernelError("density has \(density.count) values but the circle grid has \(grid.cells) cells: give one value per cell")
        }
        var hasPositive = false
        for (index, value) in density.enumerated() {
            guard value.isFinite, value >= 0 else {
                throw KernelError("density value \(value) at cell \(index) is invalid: use finite values >= 0")
            }
            if value > 0 { hasPositive = true }
        }
        guard hasPositive else {
            throw KernelError("density is zero in every cell: give a density with positive total mass")
        }
    }

    /// Direct row sums at the centres of `targets`, each with its own shift
    /// s_i = max_j [β ⟨x_i, A x_j⟩ + log m_j] over cells with m_j > 0:
    /// D_i = e^{s_i} denominator[i] and Σ_j exp(β ⟨x_i, A x_j⟩) m_j x_j = e^{s_i} firstMoment[i].
    private func directRows(targets: [Int], masses: [Double])
        -> (shift: [Double], denominator: [Double], firstMoment: [SIMD2<Double>]) {
        var sources: [(point: SIMD2<Double>, logMass: Double)] = []
        for (index, mass) in masses.enumerated() where mass > 0 {
            sources.append((centres[index], log(mass)))
        }
        let count = targets.count
        var shift = [Double](repeating: 0, count: count)
        var denominator = [Double](repeating: 0, count: count)
        var moment = [SIMD2<Double>](repeating: .zero, count: count)
        let chunkSize = 64
        let chunkCount = (count + chunkSize - 1) / chunkSize
        shift.withUnsafeMutableBufferPointer { shiftOut in
            denominator.withUnsafeMutableBufferPointer { denominatorOut in
                moment.withUnsafeMutableBufferPointer { momentOut in
                    let outputs = CircleRowOutputs(shift: shiftOut, denominator: denominatorOut, moment: momentOut)
                    DispatchQueue.concurrentPerform(iterations: chunkCount) { chunk in
                        var scores = [Double](repeating: 0, count: sources.count)
                        for row in (chunk * chunkSize)..<min(count, (chunk + 1) * chunkSize) {
                            let w = scoreMatrix.apply(centres[targets[row]])
                            var largest = -Double.infinity
                            for (j, source) in sources.enumerated() {
                                let score = (w * source.point).sum() + source.logMass
                                scores[j] = score
                                largest = max(largest, score)
                            }
                            var sum = 0.0
                            var first = SIMD2<Double>.zero
                            for (j, source) in sources.enumerated() {
                                let term = exp(scores[j] - largest)
                                sum += term
                                first += term * source.point
                            }
                            outputs.shift[row] = largest
                            outputs.denominator[row] = sum
                            outputs.moment[row] = first
                        }
                    }
                }
            }
        }
        return (shift, denominator, moment)
    }

    /// Stores direct row sums for `cells` on the common scale of `assembly`.
    private func store(_ rows: (shift: [Double], denominator: [Double], firstMoment: [SIMD2<Double>]),
                       cells: [Int], masses: [Double], into assembly: inout CircleAssembly) {
        for (row, index) in cells.enumerated() {
            let numerator = model.value.apply(rows.firstMoment[row])
            let tangential = (numerator * tangents[index]).sum()
            assembly.store(cell: index, shift: rows.shift[row], denominator: rows.denominator[row],
                           numerator: numerator, tangential: tangential, mass: masses[index],
                           normalization: model.normalization)
        }
    }
}

/// Output buffers of the direct rows; each thread writes a disjoint range.
private struct CircleRowOutputs: @unchecked Sendable {
    let shift: UnsafeMutableBufferPointer<Double>
    let denominator: UnsafeMutableBufferPointer<Double>
    let moment: UnsafeMutableBufferPointer<SIMD2<Double>>
}

/// Per-cell outputs collected by `CircleAttentionKernel.evaluate`.
private struct CircleAssembly {
    var logScale = 0.0
    var scaledDenominator: [Double]
    var scaledNumerator: [SIMD2<Double>]
    var angularVelocity: [Double]
    /// log(m_i D_i) for the cells with positive mass.
    var logEnergyTerms: [Double] = []

    init(cellCount: Int) {
        scaledDenominator = [Double](repeating: 0, count: cellCount)
        scaledNumerator = [SIMD2<Double>](repeating: .zero, count: cellCount)
        angularVelocity = [Double](repeating: 0, count: cellCount)
    }

    /// Stores one cell whose D, N and tangential N are given on the scale
    /// e^{shift}, rescaling them to the common scale e^{logScale}.
    mutating func store(cell: Int, shift: Double, denominator: Double, numerator: SIMD2<Double>,
                        tangential: Double, mass: Double, normalization: Normalization) {
        let factor = shift == logScale ? 1 : exp(shift - logScale)
        scaledDenominator[cell] = denominator * factor
        scaledNumerator[cell] = numerator * factor
        switch normalization {
        case .softmax:
            angularVelocity[cell] = tangential / denominator
        case .none:
            // Two factors, so that a large shift with a small value does not overflow early.
            let half = exp(shift / 2)
            angularVelocity[cell] = tangential == 0 ? 0 : tangential * half * half
        }
        if mass > 0 {
            logEnergyTerms.append(log(mass) + shift + log(denominator))
        }
    }
}
