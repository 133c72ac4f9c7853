import Foundation
import LinearAlgebra
import SphereGrid
import XCTest
@testable import AttentionKernel

final class CircleKernelTests: XCTestCase {
    /// log I_0(z) for z ≥ 0 from the scaled Bessel function.
    private func logBesselZero(_ z: Double) -> Double {
        z + log(scaledModifiedBessel(maximumOrder: 0, argument: z)[0])
    }

    private func trueDenominator(_ evaluation: CircleAttentionEvaluation) -> [Double] {
        evaluation.scaledDenominator.map { $0 * exp(evaluation.logScale) }
    }

    /// Returns a smooth density with several modes: a von Mises bump plus cos 3θ.
    private func smoothDensity(on grid: CircleGrid) -> [Double] {
        let values = grid.angles().map { theta in
            exp(2 * cos(theta - 0.7)) + 0.5 + 0.3 * cos(3 * theta)
        }
        let mass = grid.integrate(values)
        return values.map { $0 / mass }
    }

    func testUniformDensityIntegrals() throws {
        let grid = try CircleGrid(cells: 64)
        let uniform = [Double](repeating: 1 / (2 * Double.pi), count: grid.cells)
        let beta = 3.0, a = 1.5
        let z = a * beta
        let bessel = scaledModifiedBessel(maximumOrder: 1, argument: z).map { $0 * exp(z) }
        let value = Matrix2(rows: [[0.5, -1.0], [2.0, 0.25]])
        let model = try CircleAttentionModel(beta: beta, key: .scaledIdentity(a), value: value,
                                             normalization: .none)
        let evaluation = try CircleAttentionKernel(grid: grid, model: model).evaluate(density: uniform)
        XCTAssertEqual(evaluation.path, .spectral)
        let d = trueDenominator(evaluation)
        for k in 0..<grid.cells {
            XCTAssertEqual(d[k], bessel[0], accuracy: 1e-13 * bessel[0], "D at cell \(k)")
            let expected = bessel[1] * value.apply(grid.point(cell: k))
            let numerator = evaluation.scaledNumerator[k] * exp(evaluation.logScale)
            XCTAssertEqual(numerator.x, expected.x, accuracy: 1e-12 * bessel[0], "N.x at cell \(k)")
            XCTAssertEqual(numerator.y, expected.y, accuracy: 1e-12 * bessel[0], "N.y at cell \(k)")
        }
    }

    func testUniformDensityHasNoVelocityForScalarValue() throws {
        let grid = try CircleGrid(cells: 48)
        let uniform = [Double](repeating: 1 / (2 * Double.pi), count: grid.cells)
        for normalization in [Normalization.none, .softmax] {
            let model = try CircleAttentionModel(beta: 5, value: .scaledIdentity(-2), normalization: normalization)
            for path in [KernelPath.spectral, .direct] {
                let evaluation = try CircleAttentionKernel(grid: grid, model: model, path: path)
                    .evaluate(density: uniform)
                let largest = evaluation.angularVelocity.map { abs($0) }.max()!
                XCTAssertLessThan(largest, 1e-12, "\(normalization) \(path)")
            }
        }
    }

    func testVonMisesDenominatorClosedForm() throws {
        let grid = try CircleGrid(cells: 128)
        let kappa = 3.0, mu = 1.1
        let logNormalization = log(2 * Double.pi) + logBesselZero(kappa)
        let density = grid.angles().map { exp(kappa * cos($0 - mu) - logNormalization) }
        for (a, beta) in [(1.0, 4.0), (-1.0, 4.0), (2.0, 8.0)] {
            let model = try CircleAttentionModel(beta: beta, key: .scaledIdentity(a), normalization: .softmax)
            let evaluation = try CircleAttentionKernel(grid: grid, model: model).evaluate(density: density)
            for k in 0..<grid.cells {
                let x = grid.point(cell: k)
                let combined = a * beta * x + kappa * SIMD2(cos(mu), sin(mu))
                let expected = logBesselZero((combined * combined).sum().squareRoot()) - logBesselZero(kappa)
                let computed = evaluation.logScale + log(evaluation.scaledDenominator[k])
                XCTAssertEqual(computed, expected, accuracy: 1e-12, "log D at cell \(k), a = \(a), beta = \(beta)")
            }
        }
    }

    func testSpectralAndDirectAgree() throws {
        let grid = try CircleGrid(cells: 256)
        let density = smoothDensity(on: grid)
        let value = Matrix2(rows: [[1.0, 0.4], [-0.3, 0.8]])
        for beta in [4.0, 16.0] {
            for normalization in [Normalization.none, .softmax] {
                for v in [Matrix2.identity, value] {
                    let model = try CircleAttentionModel(beta: beta, value: v, normalization: normalization)
                    let spectral = try CircleAttentionKernel(grid: grid, model: model, path: .spectral)
                        .evaluate(density: density)
                    let direct = try CircleAttentionKernel(grid: grid, model: model, path: .direct)
                        .evaluate(density: density)
                    let ds = trueDenominator(spectral), dd = trueDenominator(direct)
                    let largest = dd.max()!
                    let velocityScale = direct.angularVelocity.map { abs($0) }.max()!
                    for k in 0..<grid.cells {
                        XCTAssertEqual(ds[k], dd[k], accuracy: 1e-10 * largest, "D, beta = \(beta), cell \(k)")
                        XCTAssertEqual(spectral.angularVelocity[k], direct.angularVelocity[k],
                                       accuracy: 1e-10 * velocityScale,
                                       "X, beta = \(beta), \(normalization), V = \(v), cell \(k)")
                    }
                    XCTAssertEqual(spectral.logEnergy, direct.logEnergy, accuracy: 1e-11, "log E, beta = \(beta)")
                }
            }
        }
    }

    func testUniformEnergy() throws {
        for beta in [1.0, 9.0, 800.0] {
            let model = try CircleAttentionModel(beta: beta, normalization: .none)
            let kernelGrid = try CircleGrid(cells: max(64, CircleAttentionKernel.recommendedCellCount(beta: beta, interactionScale: 1)))
            let density = [Double](repeating: 1 / (2 * Double.pi), count: kernelGrid.cells)
            let evaluation = try CircleAttentionKernel(grid: kernelGrid, model: model).evaluate(density: density)
            // E = (1/(2β)) ∫∫ e^{β cos(θ−φ)} (1/2π)² dθ dφ = I_0(β)/(2β).
            let expected = logBesselZero(beta) - log(2 * beta)
            XCTAssertEqual(evaluation.logEnergy, expected, accuracy: 1e-12, "beta = \(beta)")
        }
    }

    func testGeneralInteractionUsesDirectPath() throws {
        let grid = try CircleGrid(cells: 32)
        let key = Matrix2(rows: [[1.0, 0.5], [0.0, 2.0]])
        let model = try CircleAttentionModel(beta: 2, key: key, normalization: .softmax)
        let kernel = try CircleAttentionKernel(grid: grid, model: model)
        XCTAssertEqual(kernel.resolvedPath, .direct)
        XCTAssertThrowsError(try CircleAttentionKernel(grid: grid, model: model, path: .spectral))
        // A non-symmetric A has no potential.
        let evaluation = try kernel.evaluate(density: [Double](repeating: 1, count: 32))
        XCTAssertNil(evaluation.scaledPotential)
    }

    func testDirectPathMatchesNaiveSum() throws {
        let grid = try CircleGrid(cells: 90)
        let density = smoothDensity(on: grid)
        let query = Matrix2(rows: [[1.2, -0.3], [0.4, 0.9]])
        let key = Matrix2(rows: [[0.7, 0.5], [-0.2, 1.1]])
        let value = Matrix2(rows: [[0.3, 1.0], [-0.6, 0.2]])
        let beta = 6.0
        let a = query.transposed * key
        for normalization in [Normalization.none, .softmax] {
            let model = try CircleAttentionModel(beta: beta, query: query, key: key, value: value,
                                                 normalization: normalization)
            let evaluation = try CircleAttentionKernel(grid: grid, model: model).evaluate(density: density)
            XCTAssertEqual(evaluation.path, .direct)
            var energy = 0.0
            for i in 0..<grid.cells {
                let x = grid.point(cell: i)
                var d = 0.0
                var n = SIMD2<Double>.zero
                for j in 0..<grid.cells {
                    let y = grid.point(cell: j)
                    let weight = exp(beta * (x * a.apply(y)).sum()) * density[j] * grid.cellLength
                    d += weight
                    n += weight * value.apply(y)
                }
                energy += density[i] * grid.cellLength * d / (2 * beta)
                let tangent = SIMD2(-x.y, x.x)
                let tangential = (n * tangent).sum()
                let expected = normalization == .softmax ? tangential / d : tangential
                XCTAssertEqual(evaluation.scaledDenominator[i] * exp(evaluation.logScale), d, accuracy: 1e-12 * d,
                               "D at cell \(i)")
                XCTAssertEqual(evaluation.angularVelocity[i], expected, accuracy: 1e-12 * max(abs(expected), 1),
                               "\(normalization) X at cell \(i)")
            }
            XCTAssertEqual(evaluation.energy, energy, accuracy: 1e-12 * energy)
        }
    }

    func testResolutionWarning() throws {
        let coarse = try CircleGrid(cells: 16)
        let model = try CircleAttentionModel(beta: 100, normalization: .softmax)
        let kernel = try CircleAttentionKernel(grid: coarse, model: model)
        XCTAssertEqual(kernel.warnings.count, 1)
        let recommended = CircleAttentionKernel.recommendedCellCount(beta: 100, interactionScale: 1)
        XCTAssertTrue(kernel.warnings.first?.contains("cells >= \(recommended)") ?? false)
        // The recommended grid has I_{n/2}/I_0 ≤ 1e-10 and passes without a warning.
        let values = scaledModifiedBessel(maximumOrder: recommended / 2, argument: 100)
        XCTAssertLessThanOrEqual(values[recommended / 2] / values[0], 1e-10)
        let fine = try CircleAttentionKernel(grid: try CircleGrid(cells: recommended), model: model)
        XCTAssertTrue(fine.warnings.isEmpty)
    }

    func testInvalidDensityRejected() throws {
        let grid = try CircleGrid(cells: 8)
        let kernel = try CircleAttentionKernel(grid: grid, model: try CircleAttentionModel(beta: 1, normalization: .none))
        XCTAssertThrowsError(try kernel.evaluate(density: [Double](repeating: 1, count: 7)))
        XCTAssertThrowsError(try kernel.evaluate(density: [Double](repeating: 0, count: 8)))
        var negative = [Double](repeating: 1, count: 8)
        negative[3] = -1
        XCTAssertThrowsError(try kernel.evaluate(density: negative))
        XCTAssertThrowsError(try CircleAttentionModel(beta: 0, normalization: .none))
    }

    func testPeakedDensityFallsBackToDirectSum() throws {
        let grid = try CircleGrid(cells: 512)
        let beta = 200.0
        let density = grid.angles().map { exp(400 * (cos($0) - 1)) }
        let model = try CircleAttentionModel(beta: beta, normalization: .softmax)
        let spectral = try CircleAttentionKernel(grid: grid, model: model, path: .spectral).evaluate(density: density)
        let direct = try CircleAttentionKernel(grid: grid, model: model, path: .direct).evaluate(density: density)
        XCTAssertGreaterThan(spectral.fallbackCellCount, 0)
        for k in 0..<grid.cells {
            let logSpectral = spectral.logScale + log(spectral.scaledDenominator[k])
            let logDirect = direct.logScale + log(direct.scaledDenominator[k])
            XCTAssertEqual(logSpectral, logDirect, accuracy: 1e-7, "log D at cell \(k)")
        }
    }

    func testSlowLargestGridSpectralEvaluation() throws {
        try XCTSkipUnless(ProcessInfo.processInfo.environment["MEANFIELD_SLOW_TESTS"] == "1",
                          "set MEANFIELD_SLOW_TESTS=1 to run")
        let grid = try CircleGrid(cells: CircleGrid.maximumCellCount)
        // Mild enough that no cell falls back to the O(cells²) direct sum.
        let kappa = 2.0, beta = 10.0
        let logNormalization = log(2 * Double.pi) + logBesselZero(kappa)
        let density = grid.angles().map { exp(kappa * cos($0 - 2) - logNormalization) }
        let model = try CircleAttentionModel(beta: beta, normalization: .softmax)
        let kernel = try CircleAttentionKernel(grid: grid, model: model)
        let start = Date()
        let evaluation = try kernel.evaluate(density: density)
        XCTAssertEqual(evaluation.fallbackCellCount, 0)
        print("circle kernel: \(grid.cells) cells, beta = \(beta), \(Date().timeIntervalSince(start)) s, \(evaluation.fallbackCellCount) fallback cells")
        for k in stride(from: 0, to: grid.cells, by: 4099) {
            let x = grid.point(cell: k)
            let combined = beta * x + kappa * SIMD2(cos(2.0), sin(2.0))
            let expected = logBesselZero((combined * combined).sum().squareRoot()) - logBesselZero(kappa)
            let computed = evaluation.logScale + log(evaluation.scaledDenominator[k])
            XCTAssertEqual(computed, expected, accuracy: 1e-9, "log D at cell \(k)")
        }
    }
}
