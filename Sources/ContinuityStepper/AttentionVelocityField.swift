import Foundation
import SphereGrid

/// Attention quantities at the cell centres for one density, in the scaled
/// form an attention kernel returns: true values are e^{logScale} times the
/// scaled ones, so that USA velocities growing like e^{aβ} stay
/// representable until they are combined.
public struct AttentionSample: Sendable {
    public enum Normalization: Sendable {
        /// SA: X = P⊥N / D.
        case softmax
        /// USA: X = P⊥N.
        case none
    }

    public var normalization: Normalization
    /// log of the common scale factor of `scaledDenominator` and `scaledPotential`.
    public var logScale: Double
    /// e^{−logScale} D(x_i), D(x) = ∫ exp(β⟨x, A y⟩) dμ(y).
    public var scaledDenominator: [Double]
    /// e^{−logScale} ξ(x_i) when the velocity is a potential field: X = ∇_S ξ
    /// (USA) or X = ∇_S ξ / D (SA); present for A symmetric and V = c·A.
    public var scaledPotential: [Double]?
    /// Velocity X(x_i) in true units, tangent to the sphere.
    public var velocity: [SIMD3<Double>]
    /// Interaction energy E_β of the density.
    public var energy: Double?

    public init(normalization: Normalization, logScale: Double, scaledDenominator: [Double],
                scaledPotential: [Double]?, velocity: [SIMD3<Double>], energy: Double?) {
        self.normalization = normalization
        self.logScale = logScale
        self.scaledDenominator = scaledDenominator
        self.scaledPotential = scaledPotential
        self.velocity = velocity
        self.energy = energy
    }
}

/// Something that evaluates the attention field of a density on a grid
/// (an attention kernel, or a direct sum in tests).
public protocol AttentionSource {
    var grid: SphereGrid { get }
    func sample(density: [Double]) throws -> AttentionSample
}

/// Face fluxes of the self-attention velocity field X[ρ].
///
/// With a potential ξ the flux through a face between cells L and R is the
/// face length times the difference quotient of ξ along the line of
/// centres,
///
///     U = ℓ_f (ξ_R − ξ_L) / d_LR           (USA)
///     U = ℓ_f (ξ_R − ξ_L) / (d_LR D_f)     (SA, D_f = (D_L + D_R)/2 > 0),
///
/// with d_LR = sin θ_j Δφ between zonal neighbours and θ_{j+1} − θ_j
/// between ring neighbours (θ the colatitude of the Gauss nodes, radians).
/// For SA the common scale e^{logScale} cancels; for USA it multiplies the
/// scaled differences, and an overflow shows up as a non-finite flux.
/// Because U has the sign of ξ_R − ξ_L, every upwind flux F_f moves mass
/// up the potential, and with ξ_i = ∂E/∂m_i the semi-discrete energy obeys
/// dE/dt = Σ_f F_f (ξ_R − ξ_L) ≥ 0.
///
/// Without a potential, the cell-centre velocities are averaged to the face
/// and the normal component times the face length is the flux (e_φ at
/// (θ_j, φ_k + Δφ/2) for longitude faces, e_θ at (θ_{j+1/2}, φ_k) for ring
/// faces).
public struct AttentionVelocityField<Source: AttentionSource>: VelocityField {
    public let source: Source
    public var grid: SphereGrid { source.grid }
    public var isDensityDependent: Bool { true }
    private let geometry: FaceGeometry

    public init(source: Source) {
        self.source = source
        self.geometry = FaceGeometry(grid: source.grid)
    }

    public func faceFluxes(density: [Double]) throws -> FaceFluxes {
        let sample = try source.sample(density: density)
        var fluxes: FaceFluxes
        if let potential = sample.scaledPotential {
            fluxes = potentialFluxes(sample, potential: potential)
        } else {
            fluxes = averagedVelocityFluxes(sample.velocity)
        }
        fluxes.energy = sample.energy
        return fluxes
    }

    private func potentialFluxes(_ sample: AttentionSample, potential xi: [Double]) -> FaceFluxes {
        let nlat = geometry.nlat, nlon = geometry.nlon
        var fluxes = FaceFluxes.zero(on: grid)
        let softmax = sample.normalization == .softmax
        let scale = softmax ? 1 : exp(sample.logScale)
        let d = sample.scaledDenominator
        func faceFactor(_ left: Int, _ right: Int) -> Double {
            // A non-positive D average gives a non-finite flux, which the stepper reports.
            guard softmax else { return scale }
            let average = 0.5 * (d[left] + d[right])
            return average > 0 ? 1 / average : .nan
        }
        for j in 0..<nlat {
            let coefficient = geometry.zonalFaceLength[j] / (grid.nodes.sinColatitude[j] * geometry.dphi)
            for k in 0..<nlon {
                let left = j * nlon + k, right = j * nlon + (k + 1) % nlon
                fluxes.zonal[left] = coefficient * (xi[right] - xi[left]) * faceFactor(left, right)
            }
        }
        for j in 0..<(nlat - 1) {
            let coefficient = geometry.meridionalFaceLength[j]
                / (grid.nodes.colatitude[j + 1] - grid.nodes.colatitude[j])
            for k in 0..<nlon {
                let north = j * nlon + k, south = north + nlon
                fluxes.meridional[north] = coefficient * (xi[south] - xi[north]) * faceFactor(north, south)
            }
        }
        return fluxes
    }

    private func averagedVelocityFluxes(_ v: [SIMD3<Double>]) -> FaceFluxes {
        let nlat = geometry.nlat, nlon = geometry.nlon
        var fluxes = FaceFluxes.zero(on: grid)
        for j in 0..<nlat {
            for k in 0..<nlon {
                let phi = (Double(k) + 0.5) * geometry.dphi
                let eastward = SIMD3(-sin(phi), cos(phi), 0)
                let left = j * nlon + k, right = j * nlon + (k + 1) % nlon
                let face = 0.5 * (v[left] + v[right])
                fluxes.zonal[left] = geometry.zonalFaceLength[j] * (face * eastward).sum()
            }
        }
        for j in 0..<(nlat - 1) {
            let s = grid.faceSinColatitude[j + 1], c = grid.faceCosColatitude[j + 1]
            for k in 0..<nlon {
                let phi = Double(k) * geometry.dphi
                let southward = SIMD3(c * cos(phi), c * sin(phi), -s)
                let north = j * nlon + k, south = north + nlon
                let face = 0.5 * (v[north] + v[south])
                fluxes.meridional[north] = geometry.meridionalFaceLength[j] * (face * southward).sum()
            }
        }
        return fluxes
    }
}
