import SphereGrid

/// Volume fluxes U_f = ∫_f X·n dl of a tangent velocity field X through the
/// faces of a `SphereGrid`, in units of area per unit time (the sphere has
/// unit radius). A cell with density ρ_i loses ρ_f·U_f per unit time through
/// face f, where ρ_f is the upwind face value.
public struct FaceFluxes: Sendable {
    /// Southward (+θ, increasing colatitude) flux through the ring face
    /// between cell (j, k) and cell (j + 1, k), stored at `j * nlon + k` for
    /// j in 0..<nlat−1. The ring faces at the poles carry no flux and are not
    /// stored.
    public var meridional: [Double]
    /// Eastward (+φ) flux through the longitude face between cell (j, k) and
    /// cell (j, k + 1 mod nlon), at longitude φ_k + π/nlon, stored at
    /// `j * nlon + k`.
    public var zonal: [Double]
    /// Interaction energy E_β of the density the fluxes were computed from,
    /// when the source defines one.
    public var energy: Double?

    public init(meridional: [Double], zonal: [Double], energy: Double? = nil) {
        self.meridional = meridional
        self.zonal = zonal
        self.energy = energy
    }

    /// Zero fluxes on `grid`.
    public static func zero(on grid: SphereGrid) -> FaceFluxes {
        FaceFluxes(meridional: [Double](repeating: 0, count: (grid.nlat - 1) * grid.nlon),
                   zonal: [Double](repeating: 0, count: grid.nlat * grid.nlon))
    }
}

/// A source of face fluxes for the continuity equation ∂_t ρ + div_S(ρ X) = 0.
///
/// A field that does not depend on the density (`isDensityDependent ==
/// false`) is evaluated once, and the stepper reuses its fluxes. A
/// density-dependent field is evaluated again at every Runge–Kutta stage
/// (`TimeScheme.methodOfLines`) or at the midpoint predictor and the end of
/// each step (`TimeScheme.fluxFormSemiLagrangian`). The evaluation at the
/// end of a step is reused at the start of the next.
public protocol VelocityField {
    /// Grid whose faces the fluxes refer to.
    var grid: SphereGrid { get }
    /// Whether the velocity depends on the density.
    var isDensityDependent: Bool { get }
    /// Computes the face fluxes for `density` (cell averages in flat-index
    /// order, per unit area).
    func faceFluxes(density: [Double]) throws -> FaceFluxes
}

/// Geometry of the finite-volume faces shared by the velocity sources.
struct FaceGeometry {
    let nlat: Int
    let nlon: Int
    let dphi: Double
    /// Length of a longitude face of ring j: θ_{j+1/2} − θ_{j−1/2}.
    let zonalFaceLength: [Double]
    /// Length of a ring face below ring j: sin θ_{j+1/2} · Δφ.
    let meridionalFaceLength: [Double]

    init(grid: SphereGrid) {
        nlat = grid.nlat
        nlon = grid.nlon
        dphi = grid.longitudeSpacing
        zonalFaceLength = (0..<grid.nlat).map {
            grid.faceColatitude[$0 + 1] - grid.faceColatitude[$0]
        }
        meridionalFaceLength = (0..<(grid.nlat - 1)).map {
            grid.faceSinColatitude[$0 + 1] * grid.longitudeSpacing
        }
    }
}
