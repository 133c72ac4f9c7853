import Foundation
import XCTest
@testable import SphereGrid

final class PointHarmonicsTests: XCTestCase {
    func testPointMassesMatchSingleHarmonics() {
        let points: [SIMD3<Double>] = [
            SIMD3(0.48, -0.6, 0.64), SIMD3(0, 0, 1), SIMD3(-0.8, 0, -0.6), SIMD3(0.6, 0.8, 0),
        ]
        let weights = [0.5, 0.25, 0.125, 0.125]
        let degree = 12
        let coefficients = HarmonicCoefficients.pointMasses(at: points, weights: weights, maximumDegree: degree)
        for l in 0...degree {
            for m in -l...l {
                var expected = 0.0
                for (point, weight) in zip(points, weights) {
                    let theta = acos(point.z)
                    let phi = atan2(point.y, point.x)
                    expected += weight * SphericalHarmonicTransform.harmonic(degree: l, order: m, colatitude: theta, longitude: phi)
                }
                XCTAssertEqual(coefficients[degree: l, order: m], expected, accuracy: 1e-13, "(\(l), \(m))")
            }
        }
    }

    func testEmpiricalMeasureOfGridMatchesAnalysis() throws {
        // Point masses ρ_i area_i at the cell centres have the coefficients
        // of the quadrature analysis of ρ.
        let grid = try SphereGrid(nlat: 16)
        let transform = try SphericalHarmonicTransform(grid: grid)
        let density = grid.cellCentres().map { 1 + 0.3 * $0.x * $0.z - 0.2 * $0.y }
        let masses = zip(density, grid.cellAreas()).map { $0 * $1 }
        let fromPoints = HarmonicCoefficients.pointMasses(at: grid.cellCentres(), weights: masses, maximumDegree: 15)
        let fromAnalysis = transform.analyze(density)
        for index in fromPoints.values.indices {
            XCTAssertEqual(fromPoints.values[index], fromAnalysis.values[index], accuracy: 1e-13, "index \(index)")
        }
    }
}
