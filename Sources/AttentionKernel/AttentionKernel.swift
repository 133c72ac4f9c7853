import Foundation
import LinearAlgebra
import SphereGrid

/// Method that computes the attention integrals on the grid.
public enum KernelPath: String, Sendable {
    /// Spectral when the interaction matrix is A = a·I, direct otherwise.
    case automatic
    /// Funk–Hecke in spherical harmonics, which needs A = a·I.
    case spectral
    /// Log-sum-exp over all pairs of cells, for any A.
    case direct
}

/// The attention integrals D, N, the velocity X[ρ] and the energy E_β of a
/// density given per cell of a Gauss–Legendre sphere grid.
///
/// Continuous model, with ρ the density with respect to surface area:
///     D(x) = ∫ exp(β ⟨x, A y⟩) ρ(y) dσ(y),   N(x) = ∫ exp(β ⟨x, A y⟩) V y ρ(y) dσ(y),
///     X = P⊥(x) N / D (softmax) or P⊥(x) N (unnormalized), P⊥(x) = I − x xᵀ.
/// Discretely the integrals are sums over cells j with mass m_j = ρ_j area_j.
/// The direct path evaluates D_i = Σ_j exp(β ⟨x_i, A x_j⟩) m_j with a
/// log-sum-exp; the spectral path (A = a·I) evaluates the same sum by
/// Funk–Hecke, D = Σ_lm 4π i_l(aβ) ρ_lm Y_lm with ρ_lm from the quadrature
/// with cell areas, which equals the direct sum when the kernel and ρ are
/// resolved by degree L = nlat − 1.
///
/// `evaluate` may be called from several threads at once: it keeps no
/// state between calls, and the harmonic transform allocates its own scratch.
public final class AttentionKernel: @unchecked Sendable {
    public let grid: SphereGrid
    public let model: AttentionModel
    /// Notes about the configuration, such as a kernel that the grid does
    /// not resolve. The kernel never prints them.
    public let warnings: [String]
    /// The path `evaluate` uses: `.spectral` or `.direct`.
    public let resolvedPath: KernelPath

    private let centres: [SIMD3<Double>]
    private let areas: [Double]
    /// β Aᵀ, which maps a target x to w with ⟨w, y⟩ = β ⟨x, A y⟩.
    private let scoreMatrix: Matrix3
    /// c with V = c·A when A is symmetric.
    private let potentialFactor: Double?
    private let spectral: SpectralEvaluator?

    /// Relative size below which a spectrally computed D is recomputed by the
    /// direct sum: the spectral D has an absolute error of about
    /// 1e−16 · max D, so 1e−8 · max D keeps about 8 correct digits.
    static let fallbackThreshold = 1e-8

    /// Funk–Hecke coefficient ratio |k_L / k_0| up to which a kernel counts
    /// as resolved at degree L.
    static let resolutionTolerance = 1e-10

    /// Throws `KernelError` when `.spectral` is requested for an interaction
    /// matrix that is not a multiple of the identity.
    public init(grid: SphereGrid, model: AttentionModel, path: KernelPath = .automatic) throws {
        self.grid = grid
        self.model = model
        self.centres = grid.cellCentres()
        self.areas = grid.cellAreas()
        let interaction = model.interaction
        self.scoreMatrix = Matrix3(entries: interaction.transposed.entries.map { $0 * model.beta })
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
            spectral = try SpectralEvaluator(grid: grid, interactionScale: a, beta: model.beta)
        } else {
            spectral = nil
        }

        // The kernel width is set by the largest singular value of A, which
        // equals |a| when A = a·I.
        let scale = isotropicScale.map { abs($0) } ?? interaction.spectralNorm
        let recommended = AttentionKernel.recommendedRingCount(beta: model.beta, interactionScale: scale)
        if recommended > grid.nlat {
            let ratio = AttentionKernel.coefficientRatio(beta: model.beta, interactionScale: scale,
                                                         degree: grid.maximumDegree)
            warnings = ["kernel exp(beta <x, A y>) with beta = \(model.beta) and interaction scale a = \(scale) is not resolved on nlat = \(grid.nlat): its Funk-Hecke coefficient at degree \(grid.maximumDegree) is \(String(format: "%.2e", ratio)) of the degree-0 one (resolved means at most \(AttentionKernel.resolutionTolerance)); use nlat >= \(recommended)"]
        } else {
            warnings = []
        }
    }

    /// Smallest nlat whose maximum degree L = nlat − 1 resolves the kernel
    /// exp(aβ ⟨x, y⟩), that is |k_L / k_0| = i_L(|a|β) / i_0(|a|β) ≤ 1e−10.
    /// This is near 7·√(|a|β) for large |a|β, and the result is at least 2.
    public static func recommendedRingCount(beta: Double, interactionScale a: Double) -> Int {
        let z = abs(a * beta)
        precondition(z.isFinite, "recommendedRingCount: beta * a = \(a * beta) is not finite")
        var maximumDegree = Int(8 * z.squareRoot()) + 16
        while true {
            let values = scaledModifiedSphericalBessel(maximumDegree: maximumDegree, argument: z)
            if let degree = values.firstIndex(where: { $0 <= resolutionTolerance * values[0] }) {
                return max(2, degree + 1)
            }
            maximumDegree *= 2
        }
    }

    /// i_L(|a|β) / i_0(|a|β).
    private static func coefficientRatio(beta: Double, interactionScale a: Double, degree: Int) -> Double {
        let values = scaledModifiedSphericalBessel(maximumDegree: degree, argument: abs(a * beta))
        return values[degree] / values[0]
    }

    /// Computes D, N, X[ρ], the potential and E_β for the density ρ given per
    /// cell (with respect to area, so Σ ρ_i area_i is the total mass).
    ///
    /// Throws `KernelError` when the density has the wrong size, a negative or
    /// non-finite value, or no positive cell.
    public func evaluate(density: [Double]) throws -> AttentionEvaluation {
        try evaluate(density: density, includeNumerator: true)
    }

    /// Evaluates as `evaluate(density:)`. With `includeNumerator` false and
    /// V = v·I on the spectral path, the radial derivative of D is skipped
    /// (the velocity P⊥N/D or P⊥N does not need it) and `scaledNumerator`
    /// holds only the tangential part of N, which saves one synthesis.
    public func evaluate(density: [Double], includeNumerator: Bool) throws -> AttentionEvaluation {
        try validate(density: density)
        var masses = [Double](repeating: 0, count: density.count)
        for index in density.indices {
            masses[index] = density[index] * areas[index]
        }
        var assembly = Assembly(cellCount: density.count)

        let path: KernelPath
        var fallbackCount = 0
        if let spectral {
            path = .spectral
            let valueScale = model.value.scalarMultipleOfIdentity
            let fields = spectral.evaluate(density: density,
                                           radialPart: includeNumerator || valueScale == nil)
            assembly.logScale = spectral.logScale
            let largest = fields.scaledDenominator.filter { $0.isFinite }.max() ?? 0
            let threshold = AttentionKernel.fallbackThreshold * max(largest, 0)
            var fallbackCells = [Int]()
            for index in density.indices {
                let d = fields.scaledDenominator[index]
                if !(d.isFinite && d > threshold) {
                    fallbackCells.append(index)
                    continue
                }
                // For V = v·I the velocity is v times the surface gradient,
                // which is tangential without a projection.
                let numerator: SIMD3<Double>
                let tangential: SIMD3<Double>
                if let v = valueScale {
                    numerator = v * fields.scaledGradient[index]
                    tangential = v * fields.scaledSurfaceGradient[index]
                } else {
                    numerator = model.value.apply(fields.scaledGradient[index])
                    tangential = project(numerator, onto: centres[index])
                }
                assembly.setScaled(cell: index, denominator: d, numerator: numerator, tangential: tangential,
                                   mass: masses[index], normalization: model.normalization)
            }
            fallbackCount = fallbackCells.count
            if !fallbackCells.isEmpty {
                // The energy of the spectral cells then joins the log-form sum of the rows.
                assembly.moveLinearEnergyToLogTerms()
                let sources = PackedSources(points: centres, masses: masses)
                let rows = computeDirectRows(targets: fallbackCells.map { centres[$0] }, sources: sources,
                                             scoreMatrix: scoreMatrix)
                assembleRows(rows, cells: fallbackCells, masses: masses, into: &assembly)
            }
        } else {
            path = .direct
            let sources = PackedSources(points: centres, masses: masses)
            let rows = computeDirectRows(targets: centres, sources: sources, scoreMatrix: scoreMatrix)
            assembly.logScale = rows.shift.max()!
            assembleRows(rows, cells: Array(density.indices), masses: masses, into: &assembly)
        }

        let potential = potentialFactor.map { c in
            assembly.scaledDenominator.map { c / model.beta * $0 }
        }
        let logEnergy = assembly.logEnergySum() - log(2 * model.beta)
        return AttentionEvaluation(logScale: assembly.logScale,
                                   scaledDenominator: assembly.scaledDenominator,
                                   scaledNumerator: assembly.scaledNumerator,
                                   velocity: assembly.velocity,
                                   scaledPotential: potential,
                                   logEnergy: logEnergy,
                                   path: path,
                                   fallbackCellCount: fallbackCount)
    }

    private func validate(density: [Double]) throws {
        guard density.count == grid.cellCount else {
            throw KernelError("density has \(density.count) values but the grid with nlat = \(grid.nlat) has \(grid.cellCount) cells: give one value per cell")
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

    /// Stores direct row sums for `cells` on the common scale of `assembly`.
    private func assembleRows(_ rows: DirectRows, cells: [Int], masses: [Double], into assembly: inout Assembly) {
        for (row, index) in cells.enumerated() {
            let shift = rows.shift[row]
            let denominator = rows.denominator[row]
            let numerator = model.value.apply(rows.firstMoment[row])
            let tangential = project(numerator, onto: centres[index])
            let factor = exp(shift - assembly.logScale)
            assembly.scaledDenominator[index] = denominator * factor
            assembly.scaledNumerator[index] = numerator * factor
            switch model.normalization {
            case .softmax:
                assembly.velocity[index] = tangential / denominator
            case .none:
                assembly.velocity[index] = multiplyByExponential(tangential, shift)
            }
            if masses[index] > 0 {
                assembly.logEnergyTerms.append(log(masses[index]) + shift + log(denominator))
            }
        }
    }
}

/// Per-cell outputs collected by `evaluate`.
private struct Assembly {
    var logScale = 0.0 {
        didSet { halfScaleFactor = exp(logScale / 2) }
    }
    /// e^{logScale/2}: USA velocities are multiplied by it twice, so that a
    /// large scale with a small velocity does not overflow early.
    private var halfScaleFactor = 1.0
    var scaledDenominator: [Double]
    var scaledNumerator: [SIMD3<Double>]
    var velocity: [SIMD3<Double>]
    /// log(m_i D_i) for cells stored in log form (direct rows).
    var logEnergyTerms: [Double] = []
    /// Σ m_i e^{−logScale} D_i over cells stored by `setScaled`, with the
    /// terms themselves kept until `logEnergySum` in case the sum underflows.
    private var linearEnergy = 0.0
    private var linearTerms: [(mass: Double, denominator: Double)] = []

    init(cellCount: Int) {
        scaledDenominator = [Double](repeating: 0, count: cellCount)
        scaledNumerator = [SIMD3<Double>](repeating: .zero, count: cellCount)
        velocity = [SIMD3<Double>](repeating: .zero, count: cellCount)
    }

    /// Stores values already on the common scale e^{logScale}.
    mutating func setScaled(cell: Int, denominator: Double, numerator: SIMD3<Double>, tangential: SIMD3<Double>,
                            mass: Double, normalization: Normalization) {
        scaledDenominator[cell] = denominator
        scaledNumerator[cell] = numerator
        switch normalization {
        case .softmax:
            velocity[cell] = tangential / denominator
        case .none:
            var scaled = SIMD3<Double>.zero
            for component in 0..<3 where tangential[component] != 0 {
                scaled[component] = tangential[component] * halfScaleFactor * halfScaleFactor
            }
            velocity[cell] = scaled
        }
        if mass > 0 {
            linearEnergy += mass * denominator
            linearTerms.append((mass, denominator))
        }
    }

    /// Turns the linear energy terms into log-form terms.
    mutating func moveLinearEnergyToLogTerms() {
        for term in linearTerms {
            logEnergyTerms.append(log(term.mass) + logScale + log(term.denominator))
        }
        linearTerms = []
        linearEnergy = 0
    }

    /// log Σ_i m_i D_i: from the linear sum when it is a normal positive
    /// number and no log-form terms exist, else by log-sum-exp.
    mutating func logEnergySum() -> Double {
        if logEnergyTerms.isEmpty, linearEnergy.isFinite, linearEnergy >= Double.leastNormalMagnitude {
            return log(linearEnergy) + logScale
        }
        moveLinearEnergyToLogTerms()
        return logSumExp(logEnergyTerms)
    }
}

/// P⊥(x) v = v − ⟨x, v⟩ x.
@inline(__always)
func project(_ v: SIMD3<Double>, onto x: SIMD3<Double>) -> SIMD3<Double> {
    v - (x * v).sum() * x
}

/// v · e^{exponent}, in two factors so that a large exponent with a small v
/// does not overflow early; zero components stay zero.
func multiplyByExponential(_ v: SIMD3<Double>, _ exponent: Double) -> SIMD3<Double> {
    let half = exp(exponent / 2)
    var result = SIMD3<Double>.zero
    for component in 0..<3 where v[component] != 0 {
        result[component] = v[component] * half * half
    }
    return result
}

/// log Σ e^{t_k}, or −inf for no terms.
func logSumExp(_ terms: [Double]) -> Double {
    guard let largest = terms.max(), largest > -.infinity else { return -.infinity }
    var sum = 0.0
    for term in terms { sum += exp(term - largest) }
    return largest + log(sum)
}
