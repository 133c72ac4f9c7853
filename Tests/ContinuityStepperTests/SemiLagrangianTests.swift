import Foundation
import SphereGrid
import XCTest
@testable import ContinuityStepper

/// The flux-form semi-Lagrangian scheme on flows across the poles, where the
/// zonal Courant number of the polar rings is far above one.
final class SemiLagrangianTests: XCTestCase {
    private let tilt = Double.pi / 2 - 0.05

    func testTiltedRotationStepsNearEquatorialLimit() throws {
        for scheme in [TimeScheme.fluxFormSemiLagrangian, .automatic] {
            try checkTiltedRotationSteps(scheme: scheme)
        }
    }

    private func checkTiltedRotationSteps(scheme: TimeScheme) throws {
        let nlat = 128, endTime = 0.05
        let grid = try SphereGrid(nlat: nlat)
        let field = try LinearVelocityField.rotation(grid: grid, angularVelocity: williamsonAngularVelocity(alpha: tilt))
        let stepper = try ContinuityStepper(velocity: field, cfl: 0.5, scheme: scheme)
        var state = DensityState(density: cellAverages(grid, RotationProfile.gaussianHill.value))
        var smallest = Double.infinity
        try stepper.advance(&state, to: endTime) { report, _ in
            // The last two steps share what is left before the end time.
            if report.time < endTime - 1e-3 { smallest = min(smallest, report.dt) }
        }
        let equatorial = try equatorialStepCount(nlat: nlat, cfl: 0.5)
        let steps = (1 / smallest).rounded(.up)
        XCTAssertLessThanOrEqual(steps, 2 * Double(equatorial), "\(scheme): Δt = \(smallest)")
        XCTAssertLessThanOrEqual(Double(state.step), 2 * Double(equatorial) * endTime + 2, "\(scheme)")

        // The polar rings really step past their zonal cells.
        let fluxes = try field.faceFluxes(density: [])
        let polarCourant = (0..<grid.nlon).map { abs(fluxes.zonal[$0]) * smallest / grid.cellArea[0] }.max() ?? 0
        XCTAssertGreaterThan(polarCourant, 10)
    }

    func testConstantDensityStaysConstantAcrossPoles() throws {
        for nlat in [12, 64] {
            let grid = try SphereGrid(nlat: nlat)
            let field = try LinearVelocityField.rotation(grid: grid, angularVelocity: williamsonAngularVelocity(alpha: tilt))
            let stepper = try ContinuityStepper(velocity: field, cfl: 0.5)
            var state = DensityState(density: [Double](repeating: 1 / (4 * Double.pi), count: grid.cellCount))
            try stepper.advance(&state, to: 1)
            let deviation = state.density.map { abs($0 * 4 * Double.pi - 1) }.max() ?? 1
            XCTAssertLessThan(deviation, 1e-12, "nlat = \(nlat)")
        }
    }

    func testMassDriftAcrossPolesOverTenThousandSteps() throws {
        let grid = try SphereGrid(nlat: 8)
        let field = try LinearVelocityField.rotation(grid: grid, angularVelocity: williamsonAngularVelocity(alpha: tilt))
        let stepper = try ContinuityStepper(velocity: field, cfl: 0.5, maximumStep: 1e-3)
        var state = DensityState(density: cellAverages(grid, RotationProfile.cosineBell.value))
        let mass0 = grid.integrate(state.density)
        var driftFirstThousand = 0.0, driftLastThousand = 0.0, minimum = Double.infinity
        try stepper.advance(&state, to: 10) { report, _ in
            let drift = abs(report.mass - mass0) / mass0
            if report.step <= 1000 { driftFirstThousand = max(driftFirstThousand, drift) }
            if report.step > 9000 { driftLastThousand = max(driftLastThousand, drift) }
            minimum = min(minimum, report.minimumDensity)
        }
        XCTAssertGreaterThanOrEqual(state.step, 10_000)
        XCTAssertLessThan(driftFirstThousand, 1e-12)
        XCTAssertLessThan(driftLastThousand, 1e-12)
        XCTAssertGreaterThanOrEqual(minimum, 0)
    }

    func testTiltedGaussianHillConvergesAtSecondOrder() throws {
        let coarse = try runRotation(nlat: 32, profile: .gaussianHill, alpha: tilt)
        let fine = try runRotation(nlat: 64, profile: .gaussianHill, alpha: tilt)
        XCTAssertGreaterThan(log2(coarse.errors.l1 / fine.errors.l1), 1.7,
                             "l1 \(coarse.errors.l1) -> \(fine.errors.l1)")
        XCTAssertGreaterThan(log2(coarse.errors.l2 / fine.errors.l2), 1.7,
                             "l2 \(coarse.errors.l2) -> \(fine.errors.l2)")
        XCTAssertLessThan(fine.massDrift, 1e-13)
    }

    /// A strongly converging flow empties cells faster than their content
    /// allows without the outflow limiter.
    func testOutflowLimiterKeepsDensityNonNegative() throws {
        let grid = try SphereGrid(nlat: 16)
        let operators = SemiLagrangianOperators(grid: grid)
        var rho = cellAverages(grid, RotationProfile.cosineBell.value)
        let mass0 = grid.integrate(rho)
        // Every face sends 0.9 cell areas of volume east and south.
        var fluxes = FaceFluxes.zero(on: grid)
        for j in 0..<grid.nlat {
            for k in 0..<grid.nlon {
                fluxes.zonal[j * grid.nlon + k] = 0.9 * grid.cellArea[j]
                if j < grid.nlat - 1 { fluxes.meridional[j * grid.nlon + k] = 0.9 * grid.cellArea[j] }
            }
        }
        for _ in 0..<5 { rho = operators.advance(rho, fluxes: fluxes, dt: 1) }
        XCTAssertGreaterThanOrEqual(rho.min() ?? -1, 0)
        XCTAssertEqual(grid.integrate(rho), mass0, accuracy: 1e-13 * mass0)
    }
}
