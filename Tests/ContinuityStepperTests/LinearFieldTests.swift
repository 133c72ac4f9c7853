import Foundation
import LinearAlgebra
import SphereGrid
import XCTest
@testable import ContinuityStepper

final class LinearFieldTests: XCTestCase {
    /// Σ of outward face fluxes of cell (j, k).
    private func netOutflow(_ f: FaceFluxes, grid: SphereGrid, ring j: Int, column k: Int) -> Double {
        let nlon = grid.nlon
        let west = (k + nlon - 1) % nlon
        var out = f.zonal[j * nlon + k] - f.zonal[j * nlon + west]
        if j < grid.nlat - 1 { out += f.meridional[j * nlon + k] }
        if j > 0 { out -= f.meridional[(j - 1) * nlon + k] }
        return out
    }

    func testRotationFluxAboutPoleMatchesClosedForm() throws {
        let grid = try SphereGrid(nlat: 12)
        let field = try LinearVelocityField.rotation(grid: grid, angularVelocity: SIMD3(0, 0, 1.5))
        let f = try field.faceFluxes(density: [])
        for j in 0..<grid.nlat {
            // ∫ sin θ dθ over the face, times the angular speed.
            let expected = 1.5 * (grid.faceCosColatitude[j] - grid.faceCosColatitude[j + 1])
            XCTAssertEqual(f.zonal[j * grid.nlon + 3], expected, accuracy: 1e-15)
        }
        XCTAssertEqual(f.meridional.map(abs).max() ?? 1, 0, accuracy: 1e-15)
    }

    func testRotationHasZeroDiscreteDivergence() throws {
        let grid = try SphereGrid(nlat: 16)
        let field = try LinearVelocityField.rotation(grid: grid, angularVelocity: SIMD3(0.3, -2, 0.7))
        let f = try field.faceFluxes(density: [])
        var worst = 0.0
        for j in 0..<grid.nlat {
            for k in 0..<grid.nlon {
                worst = max(worst, abs(netOutflow(f, grid: grid, ring: j, column: k)))
            }
        }
        XCTAssertLessThan(worst, 1e-15)
    }

    /// By the divergence theorem the net outflow of a cell equals ∫_cell div_S X,
    /// and div_S P⊥(Bx + c) = tr B − 3 xᵀBx − 2⟨c, x⟩ on the unit sphere.
    func testGeneralFieldFluxesMatchDivergence() throws {
        let grid = try SphereGrid(nlat: 10)
        let matrix = Matrix3(rows: [[0.4, -1.0, 0.3], [0.2, -0.7, 0.5], [0.1, 0.9, 0.25]])
        let offset = SIMD3(0.3, -0.2, 0.6)
        let field = try LinearVelocityField(grid: grid, matrix: matrix, offset: offset)
        let f = try field.faceFluxes(density: [])
        let trace = matrix[0, 0] + matrix[1, 1] + matrix[2, 2]
        let divergence = cellAverages(grid) { x in
            trace - 3 * (x * matrix.apply(x)).sum() - 2 * (offset * x).sum()
        }
        var worst = 0.0
        for j in 0..<grid.nlat {
            for k in 0..<grid.nlon {
                let exact = divergence[j * grid.nlon + k] * grid.cellArea[j]
                let error = abs(netOutflow(f, grid: grid, ring: j, column: k) - exact) / grid.cellArea[j]
                worst = max(worst, error)
            }
        }
        // The 4×4-point cell quadrature of the divergence limits this check.
        XCTAssertLessThan(worst, 1e-7)
    }

    func testConstantDensityStaysConstantUnderRotation() throws {
        for scheme in [TimeScheme.fluxFormSemiLagrangian, .methodOfLines] {
            let grid = try SphereGrid(nlat: 12)
            let field = try LinearVelocityField.rotation(grid: grid, angularVelocity: williamsonAngularVelocity(alpha: 0.7))
            let stepper = try ContinuityStepper(velocity: field, cfl: 0.5, scheme: scheme)
            var state = DensityState(density: [Double](repeating: 1 / (4 * Double.pi), count: grid.cellCount))
            try stepper.advance(&state, to: 1)
            let deviation = state.density.map { abs($0 * 4 * Double.pi - 1) }.max() ?? 1
            XCTAssertLessThan(deviation, 1e-13, "\(scheme)")
            XCTAssertGreaterThan(state.step, 10, "\(scheme)")
        }
    }

    func testMassDriftOverTenThousandSteps() throws {
        try checkMassDrift(scheme: .fluxFormSemiLagrangian)
        try checkMassDrift(scheme: .methodOfLines)
    }

    private func checkMassDrift(scheme: TimeScheme) throws {
        let grid = try SphereGrid(nlat: 8)
        let field = try LinearVelocityField.rotation(grid: grid, angularVelocity: williamsonAngularVelocity(alpha: 1.2))
        let stepper = try ContinuityStepper(velocity: field, cfl: 0.5, maximumStep: 1e-3, scheme: scheme)
        var state = DensityState(density: cellAverages(grid, RotationProfile.gaussianHill.value))
        let mass0 = grid.integrate(state.density)
        var driftFirstThousand = 0.0, driftLastThousand = 0.0
        try stepper.advance(&state, to: 10) { report, _ in
            let drift = abs(report.mass - mass0) / mass0
            if report.step <= 1000 { driftFirstThousand = max(driftFirstThousand, drift) }
            if report.step > 9000 { driftLastThousand = max(driftLastThousand, drift) }
        }
        XCTAssertGreaterThanOrEqual(state.step, 10_000, "\(scheme)")
        XCTAssertEqual(state.time, 10, "\(scheme)")
        XCTAssertLessThan(driftLastThousand, 1e-13, "\(scheme)")
        XCTAssertLessThan(driftFirstThousand, 1e-13, "\(scheme)")
    }

    func testDivergentFieldKeepsDensityNonNegative() throws {
        try checkDivergentField(scheme: .fluxFormSemiLagrangian, lowestDensity: 0)
        // The Runge–Kutta scheme accepts round-off negatives down to −1e-12 · max ρ.
        try checkDivergentField(scheme: .methodOfLines, lowestDensity: -1e-12 * 1000)
    }

    private func checkDivergentField(scheme: TimeScheme, lowestDensity: Double) throws {
        // Mass flows toward +z and piles up there; the cosine bell has zeros everywhere else.
        let grid = try SphereGrid(nlat: 16)
        let matrix = Matrix3(rows: [[0, -3, 0], [3, 0, 0], [0, 0, 4]])
        let field = try LinearVelocityField(grid: grid, matrix: matrix, offset: SIMD3(1, 0, 0))
        let stepper = try ContinuityStepper(velocity: field, cfl: 0.5, scheme: scheme)
        var state = DensityState(density: cellAverages(grid, RotationProfile.cosineBell.value))
        let mass0 = grid.integrate(state.density)
        var minimum = Double.infinity
        try stepper.advance(&state, to: 2) { report, _ in minimum = min(minimum, report.minimumDensity) }
        XCTAssertGreaterThanOrEqual(minimum, lowestDensity, "\(scheme)")
        XCTAssertEqual(grid.integrate(state.density), mass0, accuracy: 1e-12 * mass0, "\(scheme)")
        // The bell started on the equator; a large share of its mass has moved into the cap z > 0.5.
        let centres = grid.cellCentres()
        let capMass = grid.integrate(zip(state.density, centres).map { $1.z > 0.5 ? $0 : 0 })
        XCTAssertGreaterThan(capMass, 0.4 * mass0, "\(scheme)")
    }

    func testEndsExactlyOnRequestedTimes() throws {
        let grid = try SphereGrid(nlat: 8)
        let field = try LinearVelocityField.rotation(grid: grid, angularVelocity: SIMD3(0, 0, 2 * Double.pi))
        let stepper = try ContinuityStepper(velocity: field, cfl: 0.4, maximumStep: 0.03)
        var state = DensityState(density: cellAverages(grid, RotationProfile.gaussianHill.value))
        var largest = 0.0
        for snapshot in [0.1, 0.37, 1.0 / 3.0 + 0.2] {
            try stepper.advance(&state, to: snapshot) { report, _ in largest = max(largest, report.dt) }
            XCTAssertEqual(state.time, snapshot)
        }
        XCTAssertLessThanOrEqual(largest, 0.03)
    }

    func testInvalidInputsThrow() throws {
        let grid = try SphereGrid(nlat: 4)
        let field = try LinearVelocityField.rotation(grid: grid, angularVelocity: SIMD3(0, 0, 1))
        XCTAssertThrowsError(try ContinuityStepper(velocity: field, cfl: 0.8))
        XCTAssertThrowsError(try ContinuityStepper(velocity: field, cfl: 0.8, scheme: .methodOfLines))
        XCTAssertThrowsError(try ContinuityStepper(velocity: field, cfl: 0.5, maximumStep: 0))
        let stepper = try ContinuityStepper(velocity: field)
        var short = DensityState(density: [1, 2, 3])
        XCTAssertThrowsError(try stepper.advance(&short, to: 1))
        var negative = DensityState(density: [Double](repeating: 1, count: grid.cellCount))
        negative.density[5] = -1
        XCTAssertThrowsError(try stepper.advance(&negative, to: 1)) { error in
            XCTAssertEqual((error as? StepperError)?.kind, .negativeDensity)
        }
        var state = DensityState(time: 2, density: [Double](repeating: 1, count: grid.cellCount))
        XCTAssertThrowsError(try stepper.advance(&state, to: 1))
    }
}
