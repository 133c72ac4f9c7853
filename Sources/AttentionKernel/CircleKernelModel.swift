import Foundation
import LinearAlgebra

/// Parameters of one self-attention layer on the circle S^1: the inverse
/// temperature β, the 2×2 query, key and value matrices and the
/// normalization.
///
/// With x(θ) = (cos θ, sin θ) and A = Qᵀ K the continuous model is
///     D(θ) = ∫ exp(β ⟨x(θ), A x(φ)⟩) ρ(φ) dφ,
///     N(θ) = ∫ exp(β ⟨x(θ), A x(φ)⟩) V x(φ) ρ(φ) dφ,
///     X_θ = ⟨e_θ, N⟩ / D (softmax) or ⟨e_θ, N⟩ (unnormalized),
/// with e_θ = (−sin θ, cos θ) and ρ a density with respect to dθ.
public struct CircleAttentionModel: Sendable {
    public var beta: Double
    public var query: Matrix2
    public var key: Matrix2
    public var value: Matrix2
    public var normalization: Normalization

    /// Throws `KernelError` when β is not a finite positive number or a
    /// matrix has a non-finite entry.
    public init(beta: Double, query: Matrix2 = .identity, key: Matrix2 = .identity,
                value: Matrix2 = .identity, normalization: Normalization) throws {
        try validateAttentionParameters(beta: beta, matrices: [
            ("query", query.isFinite, query.description),
            ("key", key.isFinite, key.description),
            ("value", value.isFinite, value.description),
        ])
        self.beta = beta
        self.query = query
        self.key = key
        self.value = value
        self.normalization = normalization
    }

    /// Interaction matrix A = Qᵀ K.
    public var interaction: Matrix2 { query.transposed * key }

    /// The factor c with V = c·A when A is symmetric, or nil otherwise. Then
    /// ξ = (c/β) D is a potential of the velocity. Entries are compared with
    /// a relative tolerance of 1e−12 of the largest entry; for A = 0 the
    /// value matrix must be 0 as well, and c = 0.
    var potentialFactor: Double? {
        let a = interaction.entries
        let v = value.entries
        let scale = a.map { abs($0) }.max() ?? 0
        guard abs(a[1] - a[2]) <= 1e-12 * scale else { return nil }
        if scale == 0 {
            return v.allSatisfy { $0 == 0 } ? 0 : nil
        }
        let largest = a.indices.max { abs(a[$0]) < abs(a[$1]) }!
        let c = v[largest] / a[largest]
        let valueScale = v.map { abs($0) }.max() ?? 0
        for index in 0..<4 where abs(v[index] - c * a[index]) > 1e-12 * valueScale {
            return nil
        }
        return c
    }
}

/// The attention integrals of one density on the cells of a `CircleGrid`.
///
/// D, N and the potential are stored scaled by a common factor e^{−logScale},
/// because they exceed the range of a double for large β:
///     D_k = exp(logScale) · scaledDenominator[k],
/// with D_k ≈ D(θ_k) = Σ_j exp(β ⟨x(θ_k), A x(θ_j)⟩) ρ_j h at the cell centre θ_k.
public struct CircleAttentionEvaluation: Sendable {
    /// Common log scale of D, N and the potential.
    public let logScale: Double
    /// e^{−logScale} D_k per cell.
    public let scaledDenominator: [Double]
    /// e^{−logScale} N_k per cell, a vector in R^2.
    public let scaledNumerator: [SIMD2<Double>]
    /// X_θ = ⟨e_θ, X⟩ = dθ/dt at the cell centres in true units: ⟨e_θ, N⟩ / D
    /// for softmax and ⟨e_θ, N⟩ for unnormalized attention. The unnormalized
    /// value grows like e^{β‖A‖} and overflows to ±inf beyond β‖A‖ ≈ 700;
    /// use `scaledNumerator` and `logScale` there.
    public let angularVelocity: [Double]
    /// e^{−logScale} ξ_k with ξ = (c/β) D, present when A is symmetric and
    /// V = c·A. Then X_θ = ∂_θ ξ (unnormalized) or ∂_θ ξ / D (softmax), and
    /// ∂E_β/∂m_k = ξ_k / c for the cell masses m_k = ρ_k h.
    public let scaledPotential: [Double]?
    /// log E_β[ρ], E_β = (1/(2β)) ∫∫ exp(β ⟨x, A y⟩) ρ ρ dθ dφ, computed as
    /// (1/(2β)) Σ_k ρ_k h D_k.
    public let logEnergy: Double
    /// E_β[ρ]; overflows to +inf where logEnergy exceeds about 709.
    public var energy: Double { exp(logEnergy) }
    /// The path that computed the integrals: `.spectral` or `.direct`.
    public let path: KernelPath
    /// Number of cells whose spectrally computed D was too small to trust
    /// and was recomputed by the direct sum (always 0 on the direct path).
    public let fallbackCellCount: Int
}
