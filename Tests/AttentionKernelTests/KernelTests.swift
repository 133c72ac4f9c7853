import Foundation
import LinearAlgebra
import SphereGrid
import XCTest
@testable import AttentionKernel

final class KernelTests: XCTestCase {
    private func density(on grid: SphereGrid, _ f: (SIMD3<Double>) -> Double) -> [Double] {
        let values = grid.cellCentres().map(f)
        let mass = grid.integrate(values)
        return values.map { $0 / mass }
    }

    /// log C(κ) for the von Mises–Fisher normalization C(κ) = κ / (4π sinh κ) = 1/(4π i_0(κ)).
    private func logVonMisesFisherNormalization(_ kappa: Double) -> Double {
        -log(4 * Double.pi) - logModifiedSphericalBesselOrderZero(argument: kappa)
    }

    /// Returns a smooth density with structure in many degrees: a
    /// von Mises–Fisher bump plus a quadratic background.
    private func smoothDensity(on grid: SphereGrid) -> [Double] {
        let mu = SIMD3<Double>(0.3, -0.5, 0.812403840463596)
        return density(on: grid) { x in
            exp(2 * (x * mu).sum()) + 0.5 * (1 + x.z * x.z) + 0.3 * x.x * x.y
        }
    }

    private func maxAbs(_ values: [Double]) -> Double { values.map { abs($0) }.max() ?? 0 }
    private func maxNorm(_ values: [SIMD3<Double>]) -> Double {
        values.map { ($0 * $0).sum().squareRoot() }.max() ?? 0
    }

    private let nonDiagonalValue = Matrix3(rows: [[1, 0, 0], [0, 0.5, 0], [0, 0, 0.2]])

    // MARK: Uniform density

    func testUniformDensityBothPaths() throws {
        let grid = try SphereGrid(nlat: 24)
        let uniform = [Double](repeating: 1 / (4 * Double.pi), count: grid.cellCount)
        let centres = grid.cellCentres()
        for a in [1.0, -0.5] {
            for path in [KernelPath.spectral, .direct] {
                let beta = 3.0
                let model = try AttentionModel(beta: beta, query: .scaledIdentity(a), normalization: .softmax)
                let kernel = try AttentionKernel(grid: grid, model: model, path: path)
                let result = try kernel.evaluate(density: uniform)
                XCTAssertEqual(result.path, path)
                let z = a * beta
                let i0 = sinh(z) / z
                let i1 = (z * cosh(z) - sinh(z)) / (z * z)
                for index in stride(from: 0, to: grid.cellCount, by: 7) {
                    let d = exp(result.logScale) * result.scaledDenominator[index]
                    XCTAssertEqual(d, i0, accuracy: 1e-13 * i0, "D, a = \(a), \(path)")
                    let n = exp(result.logScale) * result.scaledNumerator[index]
                    let expected = i1 * centres[index]
                    XCTAssertLessThan(maxNorm([n - expected]), 1e-13 * i0, "N, a = \(a), \(path)")
                }
                XCTAssertLessThan(maxNorm(result.velocity), 1e-14, "velocity, a = \(a), \(path)")
            }
        }
    }

    func testUniformDensityNonScalarValue() throws {
        let grid = try SphereGrid(nlat: 16)
        let uniform = [Double](repeating: 1 / (4 * Double.pi), count: grid.cellCount)
        let centres = grid.cellCentres()
        let beta = 2.5
        let i0 = sinh(beta) / beta
        let i1 = (beta * cosh(beta) - sinh(beta)) / (beta * beta)
        for path in [KernelPath.spectral, .direct] {
            let model = try AttentionModel(beta: beta, value: nonDiagonalValue, normalization: .softmax)
            let result = try AttentionKernel(grid: grid, model: model, path: path).evaluate(density: uniform)
            XCTAssertGreaterThan(maxNorm(result.velocity), 0.1)
            for index in centres.indices {
                let x = centres[index]
                let expected = project(i1 * nonDiagonalValue.apply(x), onto: x) / i0
                XCTAssertLessThan(maxNorm([result.velocity[index] - expected]), 1e-13, "\(path) cell \(index)")
                XCTAssertLessThan(abs((result.velocity[index] * x).sum()), 1e-14, "tangency, \(path)")
            }
        }
    }

    func testUniformDensityEnergy() throws {
        let grid = try SphereGrid(nlat: 24)
        let uniform = [Double](repeating: 1 / (4 * Double.pi), count: grid.cellCount)
        for (a, beta) in [(1.0, 3.0), (0.5, 8.0), (-1.0, 2.0)] {
            let z = a * beta
            let expected = sinh(z) / (2 * a * beta * beta)
            for path in [KernelPath.spectral, .direct] {
                let model = try AttentionModel(beta: beta, key: .scaledIdentity(a), normalization: .none)
                let result = try AttentionKernel(grid: grid, model: model, path: path).evaluate(density: uniform)
                XCTAssertEqual(result.energy, expected, accuracy: 1e-13 * expected, "a = \(a), beta = \(beta), \(path)")
            }
        }
    }

    // MARK: von Mises–Fisher density

    func testVonMisesFisherDenominator() throws {
        let mu = SIMD3<Double>(0.48, 0.6, 0.64)
        for nlat in [32, 64] {
            let grid = try SphereGrid(nlat: nlat)
            for (beta, kappa) in [(4.0, 5.0), (10.0, 3.0)] {
                let logC = logVonMisesFisherNormalization(kappa)
                let rho = grid.cellCentres().map { exp(logC + kappa * ($0 * mu).sum()) }
                for path in [KernelPath.spectral, .direct] {
                    let model = try AttentionModel(beta: beta, normalization: .softmax)
                    let result = try AttentionKernel(grid: grid, model: model, path: path).evaluate(density: rho)
                    var worst = 0.0
                    for (index, x) in grid.cellCentres().enumerated() {
                        // D(x) = C(κ) / C(|βx + κμ|).
                        let w = beta * x + kappa * mu
                        let norm = (w * w).sum().squareRoot()
                        let logD = logC - logVonMisesFisherNormalization(norm)
                        let logComputed = result.logScale + log(result.scaledDenominator[index])
                        worst = max(worst, abs(logComputed - logD))
                    }
                    XCTAssertLessThan(worst, 1e-11, "nlat \(nlat), beta \(beta), kappa \(kappa), \(path)")
                }
            }
        }
    }

    // MARK: Spectral against direct

    func testSpectralMatchesDirect() throws {
        for nlat in [32, 64] {
            let grid = try SphereGrid(nlat: nlat)
            let rho = smoothDensity(on: grid)
            for beta in [4.0, 16.0] {
                for value in [Matrix3.identity, nonDiagonalValue] {
                    for normalization in [Normalization.softmax, .none] {
                        let model = try AttentionModel(beta: beta, value: value, normalization: normalization)
                        let spectral = try AttentionKernel(grid: grid, model: model, path: .spectral).evaluate(density: rho)
                        let direct = try AttentionKernel(grid: grid, model: model, path: .direct).evaluate(density: rho)
                        let label = "nlat \(nlat), beta \(beta), V \(value), \(normalization)"
                        XCTAssertEqual(spectral.fallbackCellCount, 0, label)
                        let shift = direct.logScale - spectral.logScale
                        let dSpectral = spectral.scaledDenominator
                        let dDirect = direct.scaledDenominator.map { $0 * exp(shift) }
                        let dError = maxAbs(zip(dSpectral, dDirect).map { $0 - $1 })
                        XCTAssertLessThan(dError, 1e-9 * maxAbs(dDirect), "D, \(label)")
                        let nDirect = direct.scaledNumerator.map { $0 * exp(shift) }
                        let nError = maxNorm(zip(spectral.scaledNumerator, nDirect).map { $0 - $1 })
                        XCTAssertLessThan(nError, 1e-9 * maxNorm(nDirect), "N, \(label)")
                        let xError = maxNorm(zip(spectral.velocity, direct.velocity).map { $0 - $1 })
                        XCTAssertLessThan(xError, 1e-9 * maxNorm(direct.velocity), "X, \(label)")
                        XCTAssertEqual(spectral.logEnergy, direct.logEnergy, accuracy: 1e-10, "E, \(label)")
                    }
                }
            }
        }
    }

    func testNegativeAndZeroInteractionScale() throws {
        let grid = try SphereGrid(nlat: 32)
        let rho = smoothDensity(on: grid)
        let centres = grid.cellCentres()
        var firstMoment = SIMD3<Double>.zero
        let areas = grid.cellAreas()
        for index in rho.indices { firstMoment += rho[index] * areas[index] * centres[index] }
        for a in [-2.0, 0.0, 1e-9] {
            let model = try AttentionModel(beta: 3, key: .scaledIdentity(a), value: nonDiagonalValue,
                                           normalization: .softmax)
            let spectral = try AttentionKernel(grid: grid, model: model).evaluate(density: rho)
            let direct = try AttentionKernel(grid: grid, model: model, path: .direct).evaluate(density: rho)
            XCTAssertEqual(spectral.path, .spectral)
            let xError = maxNorm(zip(spectral.velocity, direct.velocity).map { $0 - $1 })
            XCTAssertLessThan(xError, 1e-11 * maxNorm(direct.velocity), "a = \(a)")
            if a == 0 {
                // A constant kernel: D = total mass and N = V m with m the first moment.
                for index in stride(from: 0, to: rho.count, by: 11) {
                    XCTAssertEqual(spectral.scaledDenominator[index], 1, accuracy: 1e-13)
                    let expected = nonDiagonalValue.apply(firstMoment)
                    XCTAssertLessThan(maxNorm([spectral.scaledNumerator[index] - expected]), 1e-13)
                }
            }
        }
    }

    // MARK: Large beta

    func testLargeBetaWarnsAndStaysFinite() throws {
        let grid = try SphereGrid(nlat: 64)
        let rho = smoothDensity(on: grid)
        for normalization in [Normalization.softmax, .none] {
            let model = try AttentionModel(beta: 500, normalization: normalization)
            let kernel = try AttentionKernel(grid: grid, model: model)
            XCTAssertEqual(kernel.warnings.count, 1)
            let recommended = AttentionKernel.recommendedRingCount(beta: 500, interactionScale: 1)
            XCTAssertGreaterThan(recommended, 64)
            XCTAssertTrue(kernel.warnings[0].contains("beta = 500"), kernel.warnings[0])
            XCTAssertTrue(kernel.warnings[0].contains("nlat >= \(recommended)"), kernel.warnings[0])
            let result = try kernel.evaluate(density: rho)
            XCTAssertTrue(result.logScale.isFinite)
            XCTAssertTrue(result.logEnergy.isFinite)
            XCTAssertTrue(result.scaledDenominator.allSatisfy { $0.isFinite })
            XCTAssertTrue(result.scaledDenominator.allSatisfy { $0 >= 0 })
            XCTAssertTrue(result.scaledNumerator.allSatisfy { ($0 * $0).sum().isFinite })
            // e^500 still fits a double (its square does not, so no norms here).
            XCTAssertTrue(result.velocity.allSatisfy { $0.x.isFinite })
            XCTAssertTrue(result.velocity.allSatisfy { $0.y.isFinite })
            XCTAssertTrue(result.velocity.allSatisfy { $0.z.isFinite })
            XCTAssertTrue(result.scaledPotential?.allSatisfy { $0.isFinite } ?? false)
            if normalization == .softmax {
                // The softmax speed is bounded by ‖V‖₂ = 1.
                XCTAssertTrue(result.velocity.allSatisfy { ($0 * $0).sum().squareRoot() <= 1 + 1e-9 })
            }
        }
    }

    func testRecommendedRingCount() {
        XCTAssertEqual(AttentionKernel.recommendedRingCount(beta: 1e-12, interactionScale: 1), 2)
        var previous = 0
        for beta in [1.0, 4, 16, 100, 500, 1000] {
            let count = AttentionKernel.recommendedRingCount(beta: beta, interactionScale: 1)
            XCTAssertGreaterThanOrEqual(count, previous)
            // Near 7·√β for large β.
            if beta >= 100 {
                XCTAssertEqual(Double(count), 7 * beta.squareRoot(), accuracy: 1.5 * beta.squareRoot())
            }
            let values = scaledModifiedSphericalBessel(maximumDegree: count, argument: beta)
            XCTAssertLessThanOrEqual(values[count - 1], 1e-10 * values[0])
            XCTAssertGreaterThan(values[count - 2], 1e-10 * values[0])
            previous = count
        }
        XCTAssertEqual(AttentionKernel.recommendedRingCount(beta: 4, interactionScale: -2),
                       AttentionKernel.recommendedRingCount(beta: 8, interactionScale: 1))
    }

    func testResolvedKernelHasNoWarning() throws {
        let model = try AttentionModel(beta: 4, normalization: .softmax)
        XCTAssertEqual(try AttentionKernel(grid: SphereGrid(nlat: 32), model: model).warnings, [])
    }

    // MARK: Energy and potential

    func testPotentialIsEnergyDerivative() throws {
        let grid = try SphereGrid(nlat: 8)
        let areas = grid.cellAreas()
        let rho = smoothDensity(on: grid)
        let symmetric = Matrix3(rows: [[1, 0.2, 0], [0.2, 2, 0.1], [0, 0.1, 0.5]])
        let cases: [(String, Matrix3, Matrix3, Double)] = [
            ("spectral, V = A", .scaledIdentity(1.5), .scaledIdentity(1.5), 1),
            ("spectral, V = 2A", .scaledIdentity(1.5), .scaledIdentity(3), 2),
            ("direct, V = A", symmetric, symmetric, 1),
        ]
        for (label, key, value, c) in cases {
            let model = try AttentionModel(beta: 2, key: key, value: value, normalization: .none)
            let kernel = try AttentionKernel(grid: grid, model: model)
            let result = try kernel.evaluate(density: rho)
            let potential = try XCTUnwrap(result.scaledPotential, label)
            for index in stride(from: 0, to: rho.count, by: 9) {
                // ∂E/∂m_i with m_i = ρ_i area_i, by central differences.
                let step = 1e-4 * rho[index]
                var plus = rho, minus = rho
                plus[index] += step / areas[index]
                minus[index] -= step / areas[index]
                let derivative = (try kernel.evaluate(density: plus).energy
                    - kernel.evaluate(density: minus).energy) / (2 * step)
                let xi = exp(result.logScale) * potential[index]
                XCTAssertEqual(derivative, xi / c, accuracy: 1e-8 * abs(xi), "\(label), cell \(index)")
            }
        }
    }

    func testPotentialAbsentWithoutStructure() throws {
        let grid = try SphereGrid(nlat: 8)
        let rho = smoothDensity(on: grid)
        let model = try AttentionModel(beta: 2, value: nonDiagonalValue, normalization: .softmax)
        XCTAssertNil(try AttentionKernel(grid: grid, model: model).evaluate(density: rho).scaledPotential)
        let nonSymmetric = try AttentionModel(beta: 2, query: Matrix3(rows: [[1, 0.3, 0], [0, 1, 0], [0, 0, 1]]),
                                              normalization: .softmax)
        XCTAssertNil(try AttentionKernel(grid: grid, model: nonSymmetric).evaluate(density: rho).scaledPotential)
    }

    // MARK: Direct path with a general interaction

    func testGeneralInteractionMatchesBruteForce() throws {
        let grid = try SphereGrid(nlat: 6)
        let rho = smoothDensity(on: grid)
        let centres = grid.cellCentres()
        let areas = grid.cellAreas()
        let query = Matrix3(rows: [[1, 0, 0], [0, 2, 0], [0, 0, 0.5]])
        let beta = 3.0
        for normalization in [Normalization.softmax, .none] {
            let model = try AttentionModel(beta: beta, query: query, value: nonDiagonalValue,
                                           normalization: normalization)
            let kernel = try AttentionKernel(grid: grid, model: model)
            XCTAssertEqual(kernel.resolvedPath, .direct)
            let result = try kernel.evaluate(density: rho)
            XCTAssertEqual(result.path, .direct)
            var energy = 0.0
            for i in centres.indices {
                var d = 0.0
                var n = SIMD3<Double>.zero
                for j in centres.indices {
                    let weight = exp(beta * (query.apply(centres[i]) * centres[j]).sum()) * rho[j] * areas[j]
                    d += weight
                    n += weight * nonDiagonalValue.apply(centres[j])
                }
                energy += rho[i] * areas[i] * d / (2 * beta)
                XCTAssertEqual(exp(result.logScale) * result.scaledDenominator[i], d, accuracy: 1e-13 * d)
                XCTAssertLessThan(maxNorm([exp(result.logScale) * result.scaledNumerator[i] - n]), 1e-13 * d)
                let tangential = project(n, onto: centres[i])
                let expected = normalization == .softmax ? tangential / d : tangential
                XCTAssertLessThan(maxNorm([result.velocity[i] - expected]), 1e-13 * max(1, d), "\(normalization) cell \(i)")
            }
            XCTAssertEqual(result.energy, energy, accuracy: 1e-13 * energy)
        }
    }

    func testUnnormalizedScaledValuesAtLargeBeta() throws {
        // Concentrated density, β = 1000: e^{β} overflows, the scaled values must not.
        let grid = try SphereGrid(nlat: 16)
        let rho = density(on: grid) { x in exp(20 * x.z) }
        let model = try AttentionModel(beta: 1000, normalization: .none)
        let result = try AttentionKernel(grid: grid, model: model, path: .direct).evaluate(density: rho)
        XCTAssertGreaterThan(result.logScale, 700)
        XCTAssertTrue(result.scaledDenominator.allSatisfy { $0.isFinite })
        // The row with the largest shift sets the scale, and its sum contains
        // its largest term e^0 = 1 plus at most cellCount − 1 smaller ones.
        XCTAssertGreaterThanOrEqual(maxAbs(result.scaledDenominator), 1)
        XCTAssertLessThanOrEqual(maxAbs(result.scaledDenominator), Double(grid.cellCount))
        XCTAssertTrue(result.logEnergy.isFinite)
        XCTAssertFalse(result.velocity.allSatisfy { ($0 * $0).sum().isFinite }, "true-unit velocity overflows")
    }

    // MARK: Input errors

    func testRejectsInvalidModel() {
        XCTAssertThrowsError(try AttentionModel(beta: 0, normalization: .softmax))
        XCTAssertThrowsError(try AttentionModel(beta: -1, normalization: .softmax))
        XCTAssertThrowsError(try AttentionModel(beta: .infinity, normalization: .softmax))
        XCTAssertThrowsError(try AttentionModel(beta: 1, value: Matrix3(entries: [.nan, 0, 0, 0, 1, 0, 0, 0, 1]),
                                                normalization: .softmax)) { error in
            XCTAssertTrue("\(error)".contains("value matrix"), "\(error)")
        }
    }

    func testRejectsInvalidDensity() throws {
        let grid = try SphereGrid(nlat: 4)
        let kernel = try AttentionKernel(grid: grid, model: AttentionModel(beta: 1, normalization: .softmax))
        var negative = [Double](repeating: 1, count: grid.cellCount)
        negative[3] = -1e-20
        XCTAssertThrowsError(try kernel.evaluate(density: negative)) { error in
            XCTAssertTrue("\(error)".contains("cell 3"), "\(error)")
        }
        var notFinite = [Double](repeating: 1, count: grid.cellCount)
        notFinite[0] = .nan
        XCTAssertThrowsError(try kernel.evaluate(density: notFinite))
        XCTAssertThrowsError(try kernel.evaluate(density: [1, 2, 3]))
        XCTAssertThrowsError(try kernel.evaluate(density: [Double](repeating: 0, count: grid.cellCount)))
    }

    func testSpectralPathNeedsIsotropicInteraction() throws {
        let grid = try SphereGrid(nlat: 4)
        let model = try AttentionModel(beta: 1, query: Matrix3(rows: [[1, 0, 0], [0, 2, 0], [0, 0, 1]]),
                                       normalization: .softmax)
        XCTAssertThrowsError(try AttentionKernel(grid: grid, model: model, path: .spectral))
        XCTAssertEqual(try AttentionKernel(grid: grid, model: model).resolvedPath, .direct)
    }

    // MARK: Fallback

    func testPeakedDensityFallsBackToDirect() throws {
        // A narrow bump at β = 60 on nlat = 48: far from the bump D is tiny
        // and the spectral value cannot be trusted.
        let grid = try SphereGrid(nlat: 48)
        let rho = density(on: grid) { x in exp(40 * (x.z - 1)) }
        let model = try AttentionModel(beta: 60, normalization: .softmax)
        let spectral = try AttentionKernel(grid: grid, model: model).evaluate(density: rho)
        let direct = try AttentionKernel(grid: grid, model: model, path: .direct).evaluate(density: rho)
        XCTAssertGreaterThan(spectral.fallbackCellCount, 0)
        XCTAssertTrue(spectral.scaledDenominator.allSatisfy { $0 > 0 })
        let xError = maxNorm(zip(spectral.velocity, direct.velocity).map { $0 - $1 })
        XCTAssertLessThan(xError, 1e-6 * maxNorm(direct.velocity))
    }
}
