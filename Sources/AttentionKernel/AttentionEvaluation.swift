import Foundation

/// The attention integrals of one density on the cells of a grid.
///
/// The integrals can exceed the range of a double for large β, so D, N and
/// the potential are stored scaled by a common factor e^{−logScale}:
///     D_i = exp(logScale) · scaledDenominator[i],
/// with D_i ≈ D(x_i) = ∫ exp(β ⟨x_i, A y⟩) ρ(y) dσ(y) at the cell centre x_i.
/// Where D_i is below about e^{logScale} · 1e−308 the scaled value
/// underflows to 0; the softmax velocity is still exact there, because each
/// cell's ratio N/D is formed before scaling.
public struct AttentionEvaluation: Sendable {
    /// Common log scale of D, N and the potential.
    public let logScale: Double
    /// e^{−logScale} D_i per cell.
    public let scaledDenominator: [Double]
    /// e^{−logScale} N_i per cell, N(x) = ∫ exp(β ⟨x, A y⟩) V y ρ(y) dσ(y).
    public let scaledNumerator: [SIMD3<Double>]
    /// X[ρ] at the cell centres in true units, tangent to the sphere:
    /// P⊥(x) N / D for softmax and P⊥(x) N for unnormalized attention. The
    /// unnormalized velocity grows like e^{β‖A‖} and overflows to ±inf when
    /// that exceeds the range of a double (β‖A‖ beyond about 700); use
    /// `scaledNumerator` and `logScale` there.
    public let velocity: [SIMD3<Double>]
    /// e^{−logScale} ξ_i with ξ = (c/β) D, present when A is symmetric and
    /// V = c·A. Then X = ∇_S ξ (unnormalized) or X = ∇_S ξ / D (softmax), and
    /// ∂E_β/∂m_i = ξ_i / c for the cell masses m_i = ρ_i · area_i.
    public let scaledPotential: [Double]?
    /// log E_β[ρ], E_β = (1/(2β)) ∫∫ exp(β ⟨x, A y⟩) ρ(x) ρ(y) dσ dσ,
    /// computed as (1/(2β)) Σ_i ρ_i area_i D_i.
    public let logEnergy: Double
    /// E_β[ρ]; overflows to +inf where logEnergy exceeds about 709.
    public var energy: Double { exp(logEnergy) }
    /// The path that computed the integrals: `.spectral` or `.direct`.
    public let path: KernelPath
    /// Number of cells whose spectrally computed D was too small to trust
    /// and was recomputed by the direct sum (always 0 on the direct path).
    public let fallbackCellCount: Int
}
