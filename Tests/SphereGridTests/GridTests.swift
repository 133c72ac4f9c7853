import Foundation
import XCTest
@testable import SphereGrid

final class GridTests: XCTestCase {
    /// (P_n, P_{n−1}) at x = 1 − u in extended precision, by the recurrence
    /// on differences P_l − P_{l−1}, which keeps the precision of u near x = 1.
    private func legendrePair(_ n: Int, oneMinusX u: Float80) -> (Float80, Float80) {
        var previous: Float80 = 1
        var current: Float80 = 1 - u
        var difference: Float80 = -u
        for l in stride(from: 2, through: n, by: 1) {
            difference = (-Float80(2 * l - 1) * u * current + Float80(l - 1) * difference) / Float80(l)
            previous = current
            current += difference
        }
        return (current, previous)
    }

    private func legendre(_ n: Int, colatitude theta: Double) -> Float80 {
        let half = Foundation.sin(Float80(theta) / 2)
        return legendrePair(n, oneMinusX: 2 * half * half).0
    }

    /// Σ values with Kahan compensation, so that the test measures the values
    /// and not the summation.
    private func compensatedSum(_ values: [Double]) -> Double {
        var sum = 0.0, compensation = 0.0
        for value in values {
            let y = value - compensation
            let t = sum + y
            compensation = (t - sum) - y
            sum = t
        }
        return sum
    }

    func testWeightsSumToTwoAndAreSymmetric() {
        for n in [2, 3, 16, 33, 64, 256, 1024] {
            let nodes = GaussLegendreNodes(count: n)
            XCTAssertEqual(compensatedSum(nodes.weights), 2, accuracy: 4e-15, "n = \(n)")
            for j in 0..<n {
                XCTAssertEqual(nodes.weights[j], nodes.weights[n - 1 - j])
                XCTAssertEqual(nodes.cosColatitude[j], -nodes.cosColatitude[n - 1 - j])
            }
            XCTAssertTrue(zip(nodes.cosColatitude, nodes.cosColatitude.dropFirst()).allSatisfy { $0 > $1 })
        }
    }

    func testNodesAreRootsToRoundOff() {
        // One Newton step in θ from the computed node estimates its error:
        // δθ = P_n / (dP_n/dθ), with dP_n/dθ = −n (P_{n−1} − x P_n) / sin θ.
        for n in [8, 64, 512, 1024] {
            let nodes = GaussLegendreNodes(count: n)
            for j in [0, 1, n / 3, n / 2 - 1] {
                let theta = nodes.colatitude[j]
                let half = Foundation.sin(Float80(theta) / 2)
                let x = 1 - 2 * half * half
                let p = legendre(n, colatitude: theta)
                let pm1 = legendre(n - 1, colatitude: theta)
                let derivative = -Float80(n) * (pm1 - x * p) / Foundation.sin(Float80(theta))
                let nodeError = abs(Double(p / derivative))
                XCTAssertLessThan(nodeError, 4e-16 * theta, "n = \(n), j = \(j)")
            }
        }
    }

    func testPolarWeightsMatchExtendedPrecision() {
        // Reference: Newton in u = 1 − cos θ with Float80 arithmetic from the
        // computed node, then w = 2 u (2 − u) / (n P_{n−1})².
        for n in [128, 1024] {
            let nodes = GaussLegendreNodes(count: n)
            for j in 0..<3 {
                let half = Foundation.sin(Float80(nodes.colatitude[j]) / 2)
                var u = 2 * half * half
                for _ in 0..<3 {
                    let (p, below) = legendrePair(n, oneMinusX: u)
                    let derivative = -Float80(n) * (below - (1 - u) * p) / (u * (2 - u))
                    u -= p / derivative
                }
                let below = legendrePair(n, oneMinusX: u).1
                let reference = Double(2 * u * (2 - u) / (Float80(n) * below * Float80(n) * below))
                XCTAssertEqual(nodes.weights[j], reference, accuracy: 4e-16 * reference, "n = \(n), ring \(j)")
            }
        }
    }

    func testQuadratureIsExactForPolynomials() {
        let nodes = GaussLegendreNodes(count: 20)
        for degree in stride(from: 0, through: 38, by: 2) {
            let value = zip(nodes.cosColatitude, nodes.weights).reduce(0.0) { $0 + $1.1 * pow($1.0, Double(degree)) }
            XCTAssertEqual(value, 2 / Double(degree + 1), accuracy: 1e-14, "degree \(degree)")
        }
    }

    func testCellAreasSumToFourPi() throws {
        for nlat in [2, 7, 32, 64, 256, 1024] {
            let grid = try SphereGrid(nlat: nlat)
            let total = compensatedSum(grid.cellAreas())
            XCTAssertEqual(total, 4 * Double.pi, accuracy: 1e-13, "nlat = \(nlat)")
        }
    }

    func testCellAreaEqualsBandBetweenFaces() throws {
        let grid = try SphereGrid(nlat: 64)
        for j in 0..<grid.nlat {
            let band = (grid.faceCosColatitude[j] - grid.faceCosColatitude[j + 1]) * grid.longitudeSpacing
            XCTAssertEqual(grid.cellArea[j], band, accuracy: 1e-15, "ring \(j)")
            XCTAssertGreaterThan(grid.nodes.colatitude[j], grid.faceColatitude[j])
            XCTAssertLessThan(grid.nodes.colatitude[j], grid.faceColatitude[j + 1])
        }
    }

    func testInvalidRingCountIsRejected() {
        XCTAssertThrowsError(try SphereGrid(nlat: 1))
        XCTAssertThrowsError(try SphereGrid(nlat: 100_000))
    }

    func testInlineSpecificationParses() throws {
        let spec = try GridSpecification.parse(object: ["kind": "gauss-legendre", "nlat": 48], context: "density.grid")
        XCTAssertEqual(spec, .gaussLegendre(nlat: 48))
        XCTAssertThrowsError(try GridSpecification.parse(object: ["kind": "gauss-legendre", "nlat": 1.5], context: "density.grid")) { error in
            XCTAssertTrue("\(error)".contains("density.grid.nlat"), "\(error)")
        }
        XCTAssertThrowsError(try GridSpecification.parse(object: ["kind": "healpix", "nlat": 8], context: "density.grid"))
        XCTAssertThrowsError(try GridSpecification.parse(object: ["kind": "gauss-legendre"], context: "density.grid"))
        XCTAssertThrowsError(try GridSpecification.parse(object: ["kind": "gauss-legendre", "nlat": 0], context: "density.grid"))
    }

    func testPresetsResolveFromSourceTree() throws {
        let paths = GridSpecification.defaultSearchPaths(configDirectory: nil)
        XCTAssertEqual(try GridSpecification.preset(named: "gl64", searchPaths: paths), .gaussLegendre(nlat: 64))
        XCTAssertThrowsError(try GridSpecification.preset(named: "gl63", searchPaths: paths)) { error in
            XCTAssertTrue("\(error)".contains("gl64"), "error lists the available presets: \(error)")
        }
    }
}
