import Foundation
import SphereGrid
import XCTest
@testable import CollapseAnalysis

final class IdealStateEnergyTests: XCTestCase {
    func testUniformSphereMatchesGridQuadrature() throws {
        let grid = try SphereGrid(nlat: 32)
        let centres = grid.cellCentres()
        let areas = grid.cellAreas()
        let density = 1 / (4 * Double.pi)
        for beta in [0.5, 3.0, 10.0] {
            var sum = 0.0
            for i in centres.indices {
                var row = 0.0
                for j in centres.indices {
                    let dot = (centres[i] * centres[j]).sum()
                    row += exp(beta * dot) * areas[j]
                }
                sum += row * areas[i]
            }
            let quadrature = sum * density * density / (2 * beta)
            XCTAssertEqual(IdealStateEnergy.uniformSphere(beta: beta), quadrature,
                           accuracy: 1e-11 * quadrature, "β = \(beta)")
            XCTAssertEqual(IdealStateEnergy.logUniformSphere(beta: beta), log(quadrature), accuracy: 1e-11)
        }
    }

    func testUniformCircleMatchesTrapezoidRule() {
        let count = 512
        for beta in [0.5, 3.0, 40.0] {
            // The double integral reduces to one: the inner integral is the same for every x.
            var sum = 0.0
            for index in 0..<count {
                sum += exp(beta * cos(2 * Double.pi * Double(index) / Double(count)))
            }
            let trapezoid = sum / Double(count) / (2 * beta)
            XCTAssertEqual(IdealStateEnergy.uniformCircle(beta: beta), trapezoid,
                           accuracy: 1e-13 * trapezoid, "β = \(beta)")
        }
    }

    /// (1/(2β n²)) Σ_ij exp(β⟨x_i, x_j⟩), the particle energy with i = j included.
    private func particleEnergy(_ points: [SIMD3<Double>], beta: Double) -> Double {
        var sum = 0.0
        for x in points {
            for y in points { sum += exp(beta * (x * y).sum()) }
        }
        return sum / (2 * beta * Double(points.count * points.count))
    }

    func testPointAndPairMatchParticleSums() {
        let axis = SIMD3<Double>(0.6, 0, 0.8)
        for beta in [0.5, 4.0, 20.0] {
            let point = particleEnergy(Array(repeating: axis, count: 5), beta: beta)
            XCTAssertEqual(IdealStateEnergy.singlePoint(beta: beta), point, accuracy: 1e-14 * point)
            let pair = particleEnergy([axis, -axis, axis, -axis], beta: beta)
            XCTAssertEqual(IdealStateEnergy.antipodalPair(beta: beta), pair, accuracy: 1e-14 * pair)
            XCTAssertEqual(IdealStateEnergy.logSinglePoint(beta: beta), log(point), accuracy: 1e-13)
            XCTAssertEqual(IdealStateEnergy.logAntipodalPair(beta: beta), log(pair), accuracy: 1e-13)
        }
    }

    func testEnergiesOrderPointPairUniform() {
        for beta in [0.1, 2.0, 30.0] {
            XCTAssertGreaterThan(IdealStateEnergy.singlePoint(beta: beta), IdealStateEnergy.antipodalPair(beta: beta))
            XCTAssertGreaterThan(IdealStateEnergy.antipodalPair(beta: beta), IdealStateEnergy.uniformSphere(beta: beta))
            XCTAssertGreaterThan(IdealStateEnergy.antipodalPair(beta: beta), IdealStateEnergy.uniformCircle(beta: beta))
        }
    }

    func testLogEnergiesStayFiniteAtLargeBeta() {
        let beta = 1000.0
        XCTAssertEqual(IdealStateEnergy.logUniformSphere(beta: beta), beta - log(4 * beta * beta), accuracy: 1e-12)
        XCTAssertEqual(IdealStateEnergy.logSinglePoint(beta: beta), beta - log(2 * beta), accuracy: 1e-12)
        XCTAssertEqual(IdealStateEnergy.logAntipodalPair(beta: beta), beta - log(4 * beta), accuracy: 1e-12)
        // I_0(β) ≈ e^β/√(2πβ)·(1 + 1/(8β)).
        let circle = beta - 0.5 * log(2 * Double.pi * beta) + log1p(1 / (8 * beta)) - log(2 * beta)
        XCTAssertEqual(IdealStateEnergy.logUniformCircle(beta: beta), circle, accuracy: 1e-6)
        XCTAssertTrue(IdealStateEnergy.uniformSphere(beta: beta).isInfinite)
    }
}
