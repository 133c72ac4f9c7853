import Foundation
import SphereGrid
import XCTest
@testable import ContinuityStepper

/// Attention with A = a·I and V = v·I by a direct sum over cells:
/// D_i = Σ_j exp(aβ⟨x_i, x_j⟩) m_j, ξ_i = (v/(aβ)) D_i, E = (1/(2β)) Σ_ij K_ij m_i m_j.
/// Then ξ_i = (v/a) ∂E/∂m_i, the exact derivative of the discrete energy.
struct DirectSumAttention: AttentionSource {
    let grid: SphereGrid
    let beta: Double
    let a: Double
    let v: Double
    let normalization: AttentionSample.Normalization
    private let kernel: [Double]
    private let areas: [Double]

    init(grid: SphereGrid, beta: Double, a: Double = 1, v: Double = 1,
         normalization: AttentionSample.Normalization) {
        self.grid = grid
        self.beta = beta
        self.a = a
        self.v = v
        self.normalization = normalization
        let points = grid.cellCentres()
        let n = points.count
        var kernel = [Double](repeating: 0, count: n * n)
        for i in 0..<n {
            for j in 0..<n { kernel[i * n + j] = exp(a * beta * (points[i] * points[j]).sum()) }
        }
        self.kernel = kernel
        self.areas = grid.cellAreas()
    }

    func sample(density: [Double]) throws -> AttentionSample {
        let n = density.count
        let mass = zip(density, areas).map { $0 * $1 }
        var d = [Double](repeating: 0, count: n)
        for i in 0..<n {
            var sum = 0.0
            for j in 0..<n { sum += kernel[i * n + j] * mass[j] }
            d[i] = sum
        }
        let xi = d.map { v / (a * beta) * $0 }
        let energy = 0.5 / beta * zip(d, mass).map { $0 * $1 }.reduce(0, +)
        return AttentionSample(normalization: normalization, logScale: 0, scaledDenominator: d,
                               scaledPotential: xi, velocity: [], energy: energy)
    }
}

/// Modified spherical Bessel function i_l(x) by its power series.
func sphericalBesselI(_ l: Int, _ x: Double) -> Double {
    var doubleFactorial = 1.0
    for m in stride(from: 1, through: 2 * l + 1, by: 2) { doubleFactorial *= Double(m) }
    var term = pow(x, Double(l)) / doubleFactorial
    var sum = term
    for k in 1..<80 {
        term *= (x * x / 2) / (Double(k) * Double(2 * l + 2 * k + 1))
        sum += term
    }
    return sum
}

final class AttentionFieldTests: XCTestCase {
    private func perturbedUniform(_ grid: SphereGrid) -> [Double] {
        cellAverages(grid) { x in (1 + 0.3 * x.x * x.y + 0.2 * x.z * x.z * x.z - 0.1 * x.y) / (4 * Double.pi) }
    }

    private func checkEnergyLaw(_ normalization: AttentionSample.Normalization,
                                scheme: TimeScheme = .fluxFormSemiLagrangian) throws {
        let grid = try SphereGrid(nlat: 12)
        let source = DirectSumAttention(grid: grid, beta: 2, normalization: normalization)
        let stepper = try ContinuityStepper(velocity: AttentionVelocityField(source: source), cfl: 0.5,
                                            maximumStep: 0.02, scheme: scheme)
        var state = DensityState(density: perturbedUniform(grid))
        let initial = try stepper.report(for: state)
        var previous = try XCTUnwrap(initial.energy)
        var worstDrop = 0.0, worstDrift = 0.0, minimum = Double.infinity
        try stepper.advance(&state, to: 2) { report, _ in
            let energy = report.energy ?? .nan
            worstDrop = max(worstDrop, (previous - energy) / previous)
            previous = energy
            worstDrift = max(worstDrift, abs(report.mass - initial.mass) / initial.mass)
            minimum = min(minimum, report.minimumDensity)
        }
        XCTAssertLessThan(worstDrop, 1e-13, "\(normalization), \(scheme)")
        XCTAssertGreaterThan(previous, initial.energy! * (1 + 1e-6), "\(normalization), \(scheme): energy should rise")
        XCTAssertLessThan(worstDrift, 1e-13, "\(normalization), \(scheme)")
        XCTAssertGreaterThanOrEqual(minimum, 0, "\(normalization), \(scheme)")
    }

    func testUnnormalizedEnergyNeverDecreases() throws { try checkEnergyLaw(.none) }

    func testSoftmaxEnergyNeverDecreases() throws { try checkEnergyLaw(.softmax) }

    func testRungeKuttaEnergyNeverDecreases() throws {
        try checkEnergyLaw(.none, scheme: .methodOfLines)
        try checkEnergyLaw(.softmax, scheme: .methodOfLines)
    }

    /// Near the collapsed state the energy rises by tiny amounts per step,
    /// where a midpoint velocity could make it dip.
    func testEnergyNeverDecreasesNearCollapse() throws {
        for normalization in [AttentionSample.Normalization.none, .softmax] {
            let grid = try SphereGrid(nlat: 12)
            let source = DirectSumAttention(grid: grid, beta: 2, normalization: normalization)
            let stepper = try ContinuityStepper(velocity: AttentionVelocityField(source: source), cfl: 0.5,
                                                maximumStep: 0.1)
            var state = DensityState(density: perturbedUniform(grid))
            var previous = try XCTUnwrap(try stepper.report(for: state).energy)
            var worstDrop = -Double.infinity
            try stepper.advance(&state, to: 40) { report, _ in
                let energy = report.energy ?? .nan
                worstDrop = max(worstDrop, (previous - energy) / previous)
                previous = energy
            }
            XCTAssertLessThan(worstDrop, 1e-13, "\(normalization)")
        }
    }

    /// Fits the growth rate of a zonal degree-l perturbation of the uniform density.
    private func measuredRate(_ normalization: AttentionSample.Normalization, l: Int, nlat: Int,
                              beta: Double, expected: Double, scheme: TimeScheme) throws -> Double {
        let grid = try SphereGrid(nlat: nlat)
        let source = DirectSumAttention(grid: grid, beta: beta, normalization: normalization)
        let stepper = try ContinuityStepper(velocity: AttentionVelocityField(source: source), cfl: 0.5,
                                            maximumStep: 0.2 / expected, scheme: scheme)
        func legendre(_ z: Double) -> Double {
            var p0 = 1.0, p1 = z
            if l == 0 { return p0 }
            for n in 1..<l {
                let p2 = (Double(2 * n + 1) * z * p1 - Double(n) * p0) / Double(n + 1)
                p0 = p1
                p1 = p2
            }
            return p1
        }
        let shape = cellAverages(grid) { legendre($0.z) }
        let norm = grid.integrate(shape.map { $0 * $0 })
        let epsilon = 1e-3
        var state = DensityState(density: cellAverages(grid) { (1 + epsilon * legendre($0.z)) / (4 * Double.pi) })
        func amplitude(_ rho: [Double]) -> Double {
            grid.integrate(zip(rho, shape).map { $0 * $1 }) / norm * 4 * Double.pi
        }
        var times = [0.0], logs = [log(amplitude(state.density))]
        let horizon = log(10.0) / expected
        try stepper.advance(&state, to: horizon) { report, current in
            times.append(report.time)
            logs.append(log(amplitude(current.density)))
        }
        // Least-squares slope of log amplitude against time.
        let n = Double(times.count)
        let meanT = times.reduce(0, +) / n, meanL = logs.reduce(0, +) / n
        let covariance = zip(times, logs).map { ($0 - meanT) * ($1 - meanL) }.reduce(0, +)
        let variance = times.map { ($0 - meanT) * ($0 - meanT) }.reduce(0, +)
        return covariance / variance
    }

    func testDegreeTwoGrowthRateMatchesLinearTheory() throws {
        let beta = 4.0, l = 2
        let unnormalized = Double(l * (l + 1)) * sphericalBesselI(l, beta) / beta
        let softmax = Double(l * (l + 1)) * sphericalBesselI(l, beta) / sinh(beta)
        for scheme in [TimeScheme.fluxFormSemiLagrangian, .methodOfLines] {
            let usa = try measuredRate(.none, l: l, nlat: 24, beta: beta, expected: unnormalized, scheme: scheme)
            XCTAssertEqual(usa / unnormalized, 1, accuracy: 0.02, "\(scheme): USA rate \(usa), theory \(unnormalized)")
            let sa = try measuredRate(.softmax, l: l, nlat: 24, beta: beta, expected: softmax, scheme: scheme)
            XCTAssertEqual(sa / softmax, 1, accuracy: 0.02, "\(scheme): SA rate \(sa), theory \(softmax)")
            print("growth l = 2, beta = 4, nlat = 24, \(scheme): USA \(usa) vs \(unnormalized); SA \(sa) vs \(softmax)")
        }
    }

    func testNonFiniteVelocityThrowsAndKeepsState() throws {
        let grid = try SphereGrid(nlat: 6)
        struct Overflowing: AttentionSource {
            let grid: SphereGrid
            func sample(density: [Double]) throws -> AttentionSample {
                let xi = (0..<density.count).map { Double($0 % 7) }
                return AttentionSample(normalization: .none, logScale: 800, scaledDenominator: xi,
                                       scaledPotential: xi, velocity: [], energy: 1)
            }
        }
        let stepper = try ContinuityStepper(velocity: AttentionVelocityField(source: Overflowing(grid: grid)))
        let start = [Double](repeating: 1, count: grid.cellCount)
        var state = DensityState(density: start)
        XCTAssertThrowsError(try stepper.advance(&state, to: 1)) { error in
            XCTAssertEqual((error as? StepperError)?.kind, .nonFiniteVelocity)
        }
        XCTAssertEqual(state.density, start)
        XCTAssertEqual(state.step, 0)
    }
}
