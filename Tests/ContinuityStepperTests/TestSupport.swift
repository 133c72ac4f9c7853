import Foundation
import SphereGrid
@testable import ContinuityStepper

/// Whether the long validations run (set MEANFIELD_SLOW_TESTS=1).
let slowTestsEnabled = ProcessInfo.processInfo.environment["MEANFIELD_SLOW_TESTS"] == "1"

/// Cell averages of `f` by 4×4 Gauss–Legendre points in (θ, φ) with the
/// area element sin θ dθ dφ, divided by the exact cell area.
func cellAverages(_ grid: SphereGrid, _ f: (SIMD3<Double>) -> Double) -> [Double] {
    let nodes = [-0.8611363115940526, -0.3399810435848563, 0.3399810435848563, 0.8611363115940526]
    let weights = [0.3478548451374538, 0.6521451548625461, 0.6521451548625461, 0.3478548451374538]
    var result = [Double](repeating: 0, count: grid.cellCount)
    let dphi = grid.longitudeSpacing
    for j in 0..<grid.nlat {
        let north = grid.faceColatitude[j], south = grid.faceColatitude[j + 1]
        let height = grid.faceCosColatitude[j] - grid.faceCosColatitude[j + 1]
        for k in 0..<grid.nlon {
            var sum = 0.0
            for a in 0..<4 {
                let theta = 0.5 * (north + south) + 0.5 * (south - north) * nodes[a]
                let s = sin(theta), z = cos(theta)
                for b in 0..<4 {
                    let phi = Double(k) * dphi + 0.5 * dphi * nodes[b]
                    sum += weights[a] * weights[b] * s * f(SIMD3(s * cos(phi), s * sin(phi), z))
                }
            }
            // The quadrature's (Δθ/2)(Δφ/2) over the cell area (z_N − z_S) Δφ.
            result[j * grid.nlon + k] = sum * 0.25 * (south - north) / height
        }
    }
    return result
}

/// Williamson et al. (1992) normalized errors with cell-area weights:
/// l1 = I(|h − h_T|)/I(|h_T|), l2 = √I((h − h_T)²)/√I(h_T²),
/// linf = max|h − h_T| / max|h_T|, with I(f) = Σ f_i area_i.
struct NormalizedErrors {
    let l1: Double
    let l2: Double
    let linf: Double

    init(_ grid: SphereGrid, computed: [Double], exact: [Double]) {
        let difference = zip(computed, exact).map { $0 - $1 }
        l1 = grid.integrate(difference.map(abs)) / grid.integrate(exact.map(abs))
        l2 = (grid.integrate(difference.map { $0 * $0 }) / grid.integrate(exact.map { $0 * $0 })).squareRoot()
        linf = (difference.map(abs).max() ?? 0) / (exact.map(abs).max() ?? 1)
    }
}

/// Unit vector at longitude λ and latitude (both radians).
func pointAt(longitude: Double, latitude: Double) -> SIMD3<Double> {
    SIMD3(cos(latitude) * cos(longitude), cos(latitude) * sin(longitude), sin(latitude))
}

/// Williamson test case 1 initial data, centred at (λ, latitude) = (3π/2, 0).
enum RotationProfile: String {
    /// h = (h0/2)(1 + cos(π r/R)) for r < R = 1/3, h0 = 1000, r the great-circle distance.
    case cosineBell = "cosine bell"
    /// h = exp(−5 |x − x_c|²).
    case gaussianHill = "Gaussian hill"

    func value(at x: SIMD3<Double>) -> Double {
        let centre = pointAt(longitude: 1.5 * Double.pi, latitude: 0)
        switch self {
        case .cosineBell:
            let r = acos(max(-1, min(1, (x * centre).sum())))
            let radius = 1.0 / 3.0
            return r < radius ? 500 * (1 + cos(Double.pi * r / radius)) : 0
        case .gaussianHill:
            let d = x - centre
            return exp(-5 * (d * d).sum())
        }
    }
}

/// Angular velocity of Williamson's solid-body rotation with u0 = 2π (one
/// revolution per unit time) about an axis tilted by α from the pole.
func williamsonAngularVelocity(alpha: Double) -> SIMD3<Double> {
    2 * Double.pi * SIMD3(-sin(alpha), 0, cos(alpha))
}

struct RotationResult {
    let errors: NormalizedErrors
    let steps: Int
    let minimumDensity: Double
    let massDrift: Double
}

/// Runs one revolution of solid-body rotation and compares with the start.
func runRotation(nlat: Int, profile: RotationProfile, alpha: Double, cfl: Double = 0.5,
                 endTime: Double = 1, scheme: TimeScheme = .fluxFormSemiLagrangian) throws -> RotationResult {
    let grid = try SphereGrid(nlat: nlat)
    let field = try LinearVelocityField.rotation(grid: grid, angularVelocity: williamsonAngularVelocity(alpha: alpha))
    let stepper = try ContinuityStepper(velocity: field, cfl: cfl, scheme: scheme)
    let initial = cellAverages(grid, profile.value)
    var state = DensityState(density: initial)
    let mass0 = grid.integrate(initial)
    var minimum = Double.infinity
    var drift = 0.0
    try stepper.advance(&state, to: endTime) { report, _ in
        minimum = min(minimum, report.minimumDensity)
        drift = max(drift, abs(report.mass - mass0) / mass0)
    }
    return RotationResult(errors: NormalizedErrors(grid, computed: state.density, exact: initial),
                          steps: state.step, minimumDensity: minimum,
                          massDrift: drift)
}

/// Steps one revolution needs at the equatorial CFL limit: Δt_eq = cfl·Δx/u0,
/// with Δx the smaller side of an equatorial cell and u0 = 2π.
func equatorialStepCount(nlat: Int, cfl: Double, endTime: Double = 1) throws -> Int {
    let grid = try SphereGrid(nlat: nlat)
    let j = nlat / 2
    let dtheta = grid.faceColatitude[j + 1] - grid.faceColatitude[j]
    let dx = min(dtheta, grid.nodes.sinColatitude[j] * grid.longitudeSpacing)
    return Int((endTime * 2 * Double.pi / (cfl * dx)).rounded(.up))
}
