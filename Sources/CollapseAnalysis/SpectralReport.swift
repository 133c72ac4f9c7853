import AttentionKernel
import Foundation

/// Long-time behaviour suggested by the spectrum of V.
public enum CollapseRegime: String, Sendable {
    /// V = c·I with c > 0: attention attracts, tokens cluster.
    case clustering
    /// V = c·I with c < 0: the uniform state is stable, tokens spread.
    case spreading
    /// V = 0: the velocity vanishes and nothing moves.
    case stationary
    /// Simple real top eigenvalue: mass moves toward the line of its eigenvector.
    case line
    /// Real top eigenvalue with an eigenspace of dimension ≥ 2.
    case subspace
    /// Complex top pair: mass rotates within the plane of its eigenvector.
    case rotation
}

/// Whether the interaction energy E_β is monotone along the flow.
public enum EnergyMonotonicity: String, Sendable {
    case rising
    case falling
    case constant
    /// No monotonicity law applies; E_β is only a diagnostic.
    case diagnosticOnly = "diagnostic-only"
}

/// Spectra of V and A = QᵀK for one model, with the regime and energy law
/// they imply.
///
/// The regime is read from V, because the linear part of the velocity,
/// dx/dt = P⊥(x) V x, is solved exactly by x(t) = e^{tV} x₀ / |e^{tV} x₀|:
/// directions converge to the eigenspace of the eigenvalues of V with the
/// largest real part, at the rate of the gap to the next real part. The
/// attention term then acts within that eigenspace, attracting where V is
/// positive there and repelling where it is negative. Only the linear part
/// and the case V = −I, A = I (energy minimized by the uniform state, whose
/// kernel is positive definite) are theorems; the statement marks the rest
/// as indications.
public struct SpectralReport: Sendable {
    public let dimension: Int
    public let beta: Double
    public let normalization: Normalization
    public let value: MatrixSpectrum
    /// Spectrum of A = QᵀK.
    public let interaction: MatrixSpectrum

    public let regime: CollapseRegime
    /// Effective rank the state is expected to fall toward. It is 1 for
    /// clustering and for a simple real top eigenvalue, and the eigenspace
    /// dimension for a repeated one. A complex top group gives the number of
    /// its eigenvalues, spreading gives d, and nil means nothing moves.
    public let expectedRank: Int?
    public let regimeStatement: String

    public let energyMonotonicity: EnergyMonotonicity
    /// The c with V = c·A when A is symmetric, else nil.
    public let valueToInteractionRatio: Double?
    public let lyapunovStatement: String

    /// Relative tolerance of the tests A = Aᵀ, V = c·A, V = c·I and A = a·I:
    /// entries must agree within this fraction of the largest absolute entry.
    public static let matrixRelativeTolerance = 1e-9
    /// Real parts within this fraction of the largest |eigenvalue| of V count
    /// as equal when grouping the top eigenvalues.
    public static let eigenvalueRelativeTolerance = 1e-8

    /// Analyses the model with query, key and value matrices given row-major,
    /// each d×d. Throws `AnalysisError` for malformed input and
    /// `LinearAlgebraError` when LAPACK fails.
    public init(query: [Double], key: [Double], value: [Double], dimension d: Int,
                beta: Double, normalization: Normalization) throws {
        guard d >= 2 else {
            throw AnalysisError("dimension d = \(d) is invalid: particles live on S^{d-1}, use d >= 2")
        }
        guard beta.isFinite, beta > 0 else {
            throw AnalysisError("inverse temperature beta = \(beta) is invalid: use a finite number > 0")
        }
        try checkSquareMatrix(query, order: d, name: "query")
        try checkSquareMatrix(key, order: d, name: "key")

        // A = QᵀK: A_ij = Σ_k Q_ki K_kj.
        var interactionMatrix = [Double](repeating: 0, count: d * d)
        for row in 0..<d {
            for column in 0..<d {
                var sum = 0.0
                for k in 0..<d { sum += query[k * d + row] * key[k * d + column] }
                interactionMatrix[row * d + column] = sum
            }
        }

        dimension = d
        self.beta = beta
        self.normalization = normalization
        self.value = try MatrixSpectrum(matrix: value, order: d, name: "value")
        interaction = try MatrixSpectrum(matrix: interactionMatrix, order: d, name: "interaction")

        let regimeResult = try Self.classifyRegime(value: self.value, interaction: interaction)
        regime = regimeResult.regime
        expectedRank = regimeResult.rank
        regimeStatement = regimeResult.statement

        let ratio = Self.valueToInteractionRatio(value: self.value, interaction: interaction)
        valueToInteractionRatio = ratio
        (energyMonotonicity, lyapunovStatement) = Self.energyLaw(
            ratio: ratio, interactionIsSymmetric: interaction.isSymmetric(relativeTolerance: Self.matrixRelativeTolerance))
    }

    /// (a, v) when A = a·I and V = v·I, the case with closed-form growth
    /// rates of the uniform state; nil otherwise.
    public var isotropicParameters: (a: Double, v: Double)? {
        guard let a = interaction.scalarMultipleOfIdentity(relativeTolerance: Self.matrixRelativeTolerance),
              let v = value.scalarMultipleOfIdentity(relativeTolerance: Self.matrixRelativeTolerance)
        else { return nil }
        return (a, v)
    }

    /// JSON-compatible dictionary of the spectra and the two statements.
    public var jsonObject: [String: Any] {
        var object: [String: Any] = [
            "dimension": dimension,
            "beta": beta,
            "normalization": normalization.rawValue,
            "value_spectrum": value.jsonObject,
            "interaction_spectrum": interaction.jsonObject,
            "regime": regime.rawValue,
            "regime_statement": regimeStatement,
            "expected_rank": expectedRank.map { $0 as Any } ?? NSNull(),
            "energy_monotonicity": energyMonotonicity.rawValue,
            "lyapunov_statement": lyapunovStatement,
        ]
        object["value_to_interaction_ratio"] = valueToInteractionRatio.map { $0 as Any } ?? NSNull()
        return object
    }
}

// MARK: - Regime and energy law

extension SpectralReport {
    private static func format(_ x: Double) -> String {
        String(format: "%.6g", x)
    }

    static func classifyRegime(value: MatrixSpectrum, interaction: MatrixSpectrum) throws
        -> (regime: CollapseRegime, rank: Int?, statement: String)
    {
        let d = value.order
        let tolerance = matrixRelativeTolerance

        if let c = value.scalarMultipleOfIdentity(relativeTolerance: tolerance) {
            if c == 0 || value.entryScale == 0 {
                return (.stationary, nil, "V = 0: the velocity vanishes and the state does not move.")
            }
            let isotropicA = interaction.scalarMultipleOfIdentity(relativeTolerance: tolerance)
            if c > 0 {
                var text = "V = \(format(c))·I with c > 0: attention attracts tokens to each other, so they cluster and the effective rank falls toward 1. "
                if let a = isotropicA, a > 0 {
                    text += "With A = \(format(a))·I every mode of the uniform state grows (linear growth rates, a theorem). "
                }
                text += "Indication: whether the end is one cluster or an antipodal pair depends on β and on the initial mass in each hemisphere, an antipodally symmetric start cannot end in one cluster, and large β keeps several clusters alive for very long times."
                return (.clustering, 1, text)
            }
            var text = "V = \(format(c))·I with c < 0: attention repels, so the uniform state is stable and tokens spread over S^\(d - 1) (effective rank toward \(d)). "
            if let a = isotropicA, a > 0 {
                text += "With A = \(format(a))·I this is a theorem: the energy E_β falls and is minimized by the uniform state, whose kernel exp(aβ⟨x, y⟩) is positive definite, and every linear growth rate is negative."
            } else {
                text += "A is not a positive multiple of I, so this is an indication: the energy argument needs a positive definite kernel."
            }
            return (.spreading, d, text)
        }

        let pairs = value.eigenpairs
        let top = pairs[0]
        let magnitudeScale = pairs.map { ($0.real * $0.real + $0.imaginary * $0.imaginary).squareRoot() }.max() ?? 0
        let groupTolerance = eigenvalueRelativeTolerance * max(magnitudeScale, value.entryScale)
        let group = pairs.filter { $0.real >= top.real - groupTolerance }
        let gap = group.count < pairs.count ? top.real - pairs[group.count].real : nil

        var regime: CollapseRegime
        var rank: Int
        var text: String
        if group.contains(where: { !$0.isReal }) {
            regime = .rotation
            rank = group.count
            let frequency = group.map { abs($0.imaginary) }.max() ?? 0
            text = "The top eigenvalues of V form a complex pair \(format(top.real)) ± \(format(frequency))i"
            if group.count > 2 {
                text += " with \(group.count) eigenvalues of equal real part"
            }
            if rank >= d {
                text += ": every direction has the same growth rate, so the linear part rotates mass at angular frequency \(format(frequency)) without concentrating it, and the effective rank need not fall. "
            } else {
                text += ": the linear part draws mass into the \(rank)-dimensional invariant subspace of their eigenvectors and rotates it there at angular frequency \(format(frequency)), so the effective rank falls toward \(rank)"
                text += rank == 2 && d == 3 ? " (a rotating great circle of S^2). " : ". "
            }
        } else {
            let geometric = try value.eigenspaceDimension(of: top.real)
            rank = max(1, min(geometric, group.count))
            if group.count == 1 {
                regime = .line
                text = "The top eigenvalue \(format(top.real)) of V is real and simple: the linear part draws mass toward the line of its eigenvector ±\(formatVector(top.realVector)), so the effective rank falls toward 1. "
            } else {
                regime = rank == 1 ? .line : .subspace
                text = "The top eigenvalue \(format(top.real)) of V is real with algebraic multiplicity \(group.count) and an eigenspace of dimension \(rank): the linear part draws mass into that eigenspace, so the effective rank falls toward \(rank)"
                if rank == 2 && d == 3 {
                    text += " (a great circle of S^2)"
                } else if rank >= 2 && rank < d {
                    text += " (a great sphere S^\(rank - 1) of S^\(d - 1))"
                }
                text += ". "
                if rank < group.count {
                    text += "V has a Jordan block there, so this convergence is only polynomial in t, not exponential. "
                }
            }
        }
        if let gap {
            text += "Other directions decay relative to it like e^{−\(format(gap)) t}. "
        }
        text += "This holds exactly for the linear part x(t) = e^{tV}x₀/|e^{tV}x₀|; with attention it is an indication. "
        if top.real > groupTolerance {
            text += "The top real part is positive, so attention should then cluster tokens within that subspace (indication)."
        } else if top.real < -groupTolerance {
            text += "All real parts are negative. Only differences of real parts move directions on the sphere, so the linear part still concentrates mass as stated, but attention is repulsive within that subspace, which suggests tokens stay spread inside it"
            text += rank == 1 ? ", for example as an antipodal pair on the line (indication)." : " (indication)."
        } else {
            text += "The top real part is 0, so within that subspace attention neither attracts nor repels at leading order, and the outcome there is not predicted."
        }
        return (regime, rank, text)
    }

    private static func formatVector(_ vector: [Double]) -> String {
        "(" + vector.map { format($0) }.joined(separator: ", ") + ")"
    }

    /// Returns the c with V = c·A when A is symmetric, else nil. c is read from the
    /// largest entry of A and every entry of V − c·A must be within
    /// `matrixRelativeTolerance` × max(largest |V|, |c|·largest |A|). A = 0
    /// accepts only V = 0, with c = 0.
    static func valueToInteractionRatio(value: MatrixSpectrum, interaction: MatrixSpectrum) -> Double? {
        guard interaction.isSymmetric(relativeTolerance: matrixRelativeTolerance) else { return nil }
        let a = interaction.matrix
        let v = value.matrix
        let interactionScale = interaction.entryScale
        if interactionScale == 0 {
            return value.entryScale == 0 ? 0 : nil
        }
        let largest = a.indices.max { abs(a[$0]) < abs(a[$1]) }!
        let c = v[largest] / a[largest]
        let tolerance = matrixRelativeTolerance * max(value.entryScale, abs(c) * interactionScale)
        for index in a.indices where abs(v[index] - c * a[index]) > tolerance {
            return nil
        }
        return c
    }

    static func energyLaw(ratio: Double?, interactionIsSymmetric: Bool)
        -> (EnergyMonotonicity, String)
    {
        guard let c = ratio else {
            let reason = interactionIsSymmetric
                ? "V is not a multiple of A"
                : "A = QᵀK is not symmetric"
            return (.diagnosticOnly,
                    "\(reason), so the velocity has no potential and E_β is only a diagnostic: it may rise or fall.")
        }
        let prefix = "A is symmetric and V = \(format(c))·A, so ξ = (c/β)∫exp(β⟨x, Ay⟩)dμ(y) is a potential of the velocity (X = ∇ξ for USA, ∇ξ/D for SA)"
        if c > 0 {
            return (.rising,
                    "\(prefix) and E_β is a Lyapunov function that rises along the flow: dE/dt = (1/c)∫|∇ξ|² dμ ≥ 0 for USA, and the same integrand divided by D for SA. A scheme whose E_β falls beyond round-off is wrong.")
        }
        if c < 0 {
            return (.falling,
                    "\(prefix) and E_β is a Lyapunov function that falls along the flow: dE/dt = (1/c)∫|∇ξ|² dμ ≤ 0 for USA, and the same integrand divided by D for SA. A scheme whose E_β rises beyond round-off is wrong.")
        }
        return (.constant, "V = 0, so nothing moves and E_β stays constant.")
    }
}
