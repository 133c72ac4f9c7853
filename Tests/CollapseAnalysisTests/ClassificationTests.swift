import Foundation
import SphereGrid
import XCTest
@testable import CollapseAnalysis

/// Deterministic generator (SplitMix64) so the synthetic samples are fixed.
struct SeededGenerator: RandomNumberGenerator {
    private var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    mutating func gaussian() -> Double {
        let u = Double.random(in: Double.ulpOfOne..<1, using: &self)
        let w = Double.random(in: 0..<1, using: &self)
        return (-2 * log(u)).squareRoot() * cos(2 * Double.pi * w)
    }
}

private func normalized(_ v: [Double]) -> [Double] {
    let norm = v.reduce(0) { $0 + $1 * $1 }.squareRoot()
    return v.map { $0 / norm }
}

private func angle(_ x: [Double], _ y: [Double]) -> Double {
    acos(max(-1, min(1, zip(x, y).reduce(0) { $0 + $1.0 * $1.1 })))
}

final class DensityClassificationTests: XCTestCase {
    private let grid = try! SphereGrid(nlat: 32)

    /// von Mises–Fisher density κ/(4π sinh κ)·exp(κ⟨μ, x⟩), written as
    /// κ/(2π(1 − e^{−2κ}))·exp(κ(⟨μ, x⟩ − 1)) to avoid overflow.
    private func vonMisesFisher(mean: [Double], concentration kappa: Double) -> [Double] {
        let mu = normalized(mean)
        let normalization = kappa / (2 * Double.pi * -expm1(-2 * kappa))
        return grid.cellCentres().map { x in
            normalization * exp(kappa * (mu[0] * x.x + mu[1] * x.y + mu[2] * x.z - 1))
        }
    }

    private func mixture(_ components: [[Double]], weights: [Double]) -> [Double] {
        (0..<grid.cellCount).map { cell in
            zip(components, weights).reduce(0) { $0 + $1.1 * $1.0[cell] }
        }
    }

    func testOneBumpIsSingleCluster() throws {
        let mean = normalized([0.3, 0.4, 0.8])
        let state = try classifyDensity(vonMisesFisher(mean: mean, concentration: 50), on: grid, time: 2.5)
        XCTAssertEqual(state.classification, .singleCluster)
        XCTAssertEqual(state.clusterCount, 1)
        XCTAssertEqual(state.time, 2.5)
        XCTAssertLessThan(angle(state.clusters[0].centre, mean), 0.02)
        XCTAssertEqual(state.clusters[0].mass, 1, accuracy: 0.02)
        XCTAssertGreaterThan(state.clusters[0].coreMass, 0.85)
        XCTAssertEqual(state.moments.firstMomentNorm, 1 - 1 / 50.0, accuracy: 2e-3)
        XCTAssertLessThan(state.moments.effectiveRank, 1.3)
    }

    func testBumpOnPoleIsOneCluster() throws {
        let state = try classifyDensity(vonMisesFisher(mean: [0, 0, 1], concentration: 50), on: grid, time: 0)
        XCTAssertEqual(state.classification, .singleCluster)
        XCTAssertLessThan(angle(state.clusters[0].centre, [0, 0, 1]), 1e-10)
    }

    func testAntipodalBumpsArePair() throws {
        let axis = normalized([1, -0.5, 0.3])
        let density = mixture([vonMisesFisher(mean: axis, concentration: 50),
                               vonMisesFisher(mean: axis.map { -$0 }, concentration: 50)],
                              weights: [0.5, 0.5])
        let state = try classifyDensity(density, on: grid, time: 0)
        XCTAssertEqual(state.classification, .antipodalPair)
        XCTAssertEqual(state.clusterCount, 2)
        XCTAssertEqual(state.clusters[0].mass, 0.5, accuracy: 0.02)
        XCTAssertEqual(state.clusters[1].mass, 0.5, accuracy: 0.02)
        XCTAssertGreaterThan(try XCTUnwrap(state.pairAngle), 3.1)
        XCTAssertLessThan(state.moments.firstMomentNorm, 0.01)
        XCTAssertLessThan(state.moments.effectiveRank, 1.3)
    }

    func testThreeEquatorialBumpsAreThreeClusters() throws {
        let components = (0..<3).map { index -> [Double] in
            let phi = 2 * Double.pi * Double(index) / 3 + 0.2
            return vonMisesFisher(mean: [cos(phi), sin(phi), 0], concentration: 50)
        }
        let state = try classifyDensity(mixture(components, weights: [1.0 / 3, 1.0 / 3, 1.0 / 3]),
                                        on: grid, time: 0)
        XCTAssertEqual(state.classification, .kClusters)
        XCTAssertEqual(state.clusterCount, 3)
        for cluster in state.clusters {
            XCTAssertEqual(cluster.mass, 1.0 / 3, accuracy: 0.02)
            XCTAssertLessThan(cluster.coreMass, cluster.mass)
            XCTAssertEqual(cluster.centre[2], 0, accuracy: 1e-10)
        }
        // The moments alone would call this a great circle.
        XCTAssertEqual(state.moments.effectiveRank, 2.1, accuracy: 0.15)
    }

    func testOrthogonalBumpsAreTwoClusters() throws {
        let density = mixture([vonMisesFisher(mean: [1, 0, 0], concentration: 50),
                               vonMisesFisher(mean: [0, 1, 0], concentration: 50)], weights: [0.6, 0.4])
        let state = try classifyDensity(density, on: grid, time: 0)
        XCTAssertEqual(state.classification, .kClusters)
        XCTAssertEqual(state.clusterCount, 2)
        XCTAssertEqual(try XCTUnwrap(state.pairAngle), Double.pi / 2, accuracy: 0.02)
        XCTAssertEqual(state.clusters[0].mass, 0.6, accuracy: 0.02)
        XCTAssertEqual(state.clusters[1].mass, 0.4, accuracy: 0.02)
    }

    func testBumpOnUniformBackgroundIsSingleCluster() throws {
        let uniform = [Double](repeating: 1 / (4 * Double.pi), count: grid.cellCount)
        let density = mixture([vonMisesFisher(mean: [0, -1, 0.2], concentration: 50), uniform],
                              weights: [0.5, 0.5])
        let state = try classifyDensity(density, on: grid, time: 0)
        XCTAssertEqual(state.classification, .singleCluster)
        XCTAssertEqual(state.clusters[0].mass, 0.52, accuracy: 0.03)
    }

    func testUniformIsSpread() throws {
        let density = [Double](repeating: 1 / (4 * Double.pi), count: grid.cellCount)
        let state = try classifyDensity(density, on: grid, time: 0)
        XCTAssertEqual(state.classification, .spread)
        XCTAssertEqual(state.clusterCount, 0)
        XCTAssertEqual(state.moments.effectiveRank, 3, accuracy: 1e-3)
        XCTAssertLessThan(state.moments.firstMomentNorm, 1e-12)
    }

    func testTiltedBandIsGreatCircle() throws {
        let normal = normalized([1, 1, 1])
        let width = 0.1
        let raw = grid.cellCentres().map { x -> Double in
            let height = normal[0] * x.x + normal[1] * x.y + normal[2] * x.z
            return exp(-height * height / (2 * width * width))
        }
        let mass = grid.integrate(raw)
        let state = try classifyDensity(raw.map { $0 / mass }, on: grid, time: 0)
        XCTAssertEqual(state.classification, .greatCircle)
        XCTAssertEqual(state.clusterCount, 0)
        XCTAssertEqual(state.moments.effectiveRank, 2, accuracy: 0.2)
    }

    func testUnnormalizedDensityUsesItsOwnMass() throws {
        let density = vonMisesFisher(mean: [0, 1, 0], concentration: 50).map { 7 * $0 }
        let state = try classifyDensity(density, on: grid, time: 0)
        XCTAssertEqual(state.classification, .singleCluster)
        XCTAssertLessThanOrEqual(state.clusters[0].mass, 1)
    }

    func testInvalidDensityThrows() {
        XCTAssertThrowsError(try classifyDensity([1, 2, 3], on: grid, time: 0))
        XCTAssertThrowsError(try classifyDensity([Double](repeating: 0, count: grid.cellCount), on: grid, time: 0))
        var withNaN = [Double](repeating: 1, count: grid.cellCount)
        withNaN[5] = .nan
        XCTAssertThrowsError(try classifyDensity(withNaN, on: grid, time: 0))
    }

    func testFinalStateObjectIsValidJSON() throws {
        let state = try classifyDensity(vonMisesFisher(mean: [0, 0, -1], concentration: 50), on: grid, time: 1)
        let object = state.jsonObject
        XCTAssertTrue(JSONSerialization.isValidJSONObject(object))
        XCTAssertEqual(object["class"] as? String, "single-cluster")
        XCTAssertEqual(object["cluster_count"] as? Int, 1)
        XCTAssertEqual((object["second_moment_eigenvalues"] as? [Double])?.count, 3)
    }
}

final class ParticleClassificationTests: XCTestCase {
    private var generator = SeededGenerator(seed: 20_261_204)

    /// Points scattered around `centre` by Gaussian noise of standard
    /// deviation `spread` per coordinate, then normalized.
    private func group(around centre: [Double], count: Int, spread: Double) -> [Double] {
        let mu = normalized(centre)
        var points = [Double]()
        for _ in 0..<count {
            points += normalized(mu.map { $0 + spread * generator.gaussian() })
        }
        return points
    }

    private func uniformSample(count: Int, dimension d: Int) -> [Double] {
        var points = [Double]()
        for _ in 0..<count {
            points += normalized((0..<d).map { _ in generator.gaussian() })
        }
        return points
    }

    func testTightGroupIsSingleCluster() throws {
        let centre = normalized([1, 2, -1])
        let state = try classifyParticles(positions: group(around: centre, count: 500, spread: 0.01),
                                          count: 500, dimension: 3, time: 10)
        XCTAssertEqual(state.classification, .singleCluster)
        XCTAssertEqual(state.clusters[0].mass, 1)
        XCTAssertLessThan(angle(state.clusters[0].centre, centre), 0.005)
        XCTAssertGreaterThan(state.moments.firstMomentNorm, 0.999)
    }

    func testAntipodalGroupsArePair() throws {
        let axis = normalized([0.2, -1, 0.4])
        let positions = group(around: axis, count: 300, spread: 0.01)
            + group(around: axis.map { -$0 }, count: 200, spread: 0.01)
        let state = try classifyParticles(positions: positions, count: 500, dimension: 3, time: 0)
        XCTAssertEqual(state.classification, .antipodalPair)
        XCTAssertEqual(state.clusters.map { $0.mass }, [0.6, 0.4])
        XCTAssertLessThan(state.moments.effectiveRank, 1.01)
    }

    func testThreeGroupsAreThreeClusters() throws {
        let positions = group(around: [1, 0, 0], count: 200, spread: 0.02)
            + group(around: [0, 1, 0], count: 200, spread: 0.02)
            + group(around: [0, 0, 1], count: 100, spread: 0.02)
        let state = try classifyParticles(positions: positions, count: 500, dimension: 3, time: 0)
        XCTAssertEqual(state.classification, .kClusters)
        XCTAssertEqual(state.clusters.map { $0.mass }, [0.4, 0.4, 0.2])
    }

    func testUniformSampleInThreeDimensionsIsSpread() throws {
        // 5000 points put single linkage at 0.05 rad near its percolation
        // threshold (about 3 neighbours each), where chance chains are largest.
        for count in [2000, 5000] {
            let state = try classifyParticles(positions: uniformSample(count: count, dimension: 3),
                                              count: count, dimension: 3, time: 0)
            XCTAssertEqual(state.classification, .spread, "n = \(count)")
            XCTAssertEqual(state.clusterCount, 0, "n = \(count)")
            XCTAssertEqual(state.moments.effectiveRank, 3, accuracy: 0.05)
        }
    }

    func testGroupOnUniformBackgroundIsSingleCluster() throws {
        let centre = normalized([-1, 0.5, 0.5])
        let positions = group(around: centre, count: 1400, spread: 0.02)
            + uniformSample(count: 600, dimension: 3)
        let state = try classifyParticles(positions: positions, count: 2000, dimension: 3, time: 0)
        XCTAssertEqual(state.classification, .singleCluster)
        XCTAssertEqual(state.clusters[0].mass, 0.7, accuracy: 0.01)
        XCTAssertLessThan(angle(state.clusters[0].centre, centre), 0.01)
    }

    func testUniformSampleInSixteenDimensionsIsSpread() throws {
        let state = try classifyParticles(positions: uniformSample(count: 2000, dimension: 16),
                                          count: 2000, dimension: 16, time: 0)
        XCTAssertEqual(state.classification, .spread)
        XCTAssertEqual(state.clusterCount, 0)
        XCTAssertEqual(state.moments.secondMomentEigenvalues.count, 16)
        XCTAssertGreaterThan(state.moments.effectiveRank, 15)
    }

    func testGroupInSixteenDimensionsIsSingleCluster() throws {
        var centre = [Double](repeating: 0, count: 16)
        centre[7] = 1
        centre[3] = -1
        let state = try classifyParticles(positions: group(around: centre, count: 400, spread: 0.005),
                                          count: 400, dimension: 16, time: 0)
        XCTAssertEqual(state.classification, .singleCluster)
        XCTAssertLessThan(angle(state.clusters[0].centre, normalized(centre)), 0.005)
    }

    func testEvenlySpacedCircleIsGreatCircle() throws {
        let n = 600
        var positions = [Double]()
        for index in 0..<n {
            let phi = 2 * Double.pi * Double(index) / Double(n)
            positions += normalized([cos(phi), sin(phi), 0.5 * cos(phi)])
        }
        // Neighbours sit 0.6 degrees apart, so single linkage joins the whole
        // circle, which fails the compactness test and leaves the moments.
        let state = try classifyParticles(positions: positions, count: n, dimension: 3, time: 0)
        XCTAssertEqual(state.classification, .greatCircle)
        XCTAssertEqual(state.extendedRegionCount, 1)
    }

    func testCapAreaFractionMatchesClosedForms() {
        XCTAssertEqual(capAreaFraction(radius: 0.3, dimension: 3), (1 - cos(0.3)) / 2, accuracy: 1e-15)
        // S^3: (r − sin r cos r)/π.
        let r = 0.7
        XCTAssertEqual(capAreaFraction(radius: r, dimension: 4), (r - sin(r) * cos(r)) / Double.pi,
                       accuracy: 1e-12)
        XCTAssertEqual(capAreaFraction(radius: Double.pi / 2, dimension: 16), 0.5, accuracy: 1e-12)
    }

    func testInvalidParticlesThrow() {
        XCTAssertThrowsError(try classifyParticles(positions: [1, 0, 0], count: 2, dimension: 3, time: 0))
        XCTAssertThrowsError(try classifyParticles(positions: [0, 0, 0], count: 1, dimension: 3, time: 0))
        XCTAssertThrowsError(try classifyParticles(positions: [1], count: 1, dimension: 1, time: 0))
    }
}

final class CircleDensityClassificationTests: XCTestCase {
    private let grid = try! CircleGrid(cells: 720)

    /// Σ weight · von Mises bump with concentration κ at each centre angle.
    private func bumps(_ centres: [(angle: Double, weight: Double)], kappa: Double) -> [Double] {
        grid.angles().map { theta in
            centres.reduce(0) { sum, bump in
                sum + bump.weight * exp(kappa * (cos(theta - bump.angle) - 1))
            }
        }
    }

    func testSingleBumpIsSingleCluster() throws {
        let state = try classifyCircleDensity(bumps([(1.0, 1)], kappa: 50), on: grid, time: 3)
        XCTAssertEqual(state.classification, .singleCluster)
        XCTAssertEqual(state.clusterCount, 1)
        // The core is a whole number of cells, so its centre is within half a cell of the bump's.
        XCTAssertEqual(atan2(state.clusters[0].centre[1], state.clusters[0].centre[0]), 1, accuracy: grid.cellLength / 2)
        XCTAssertGreaterThan(state.clusters[0].mass, 0.9)
        XCTAssertEqual(state.time, 3)
        XCTAssertEqual(state.moments.firstMoment.count, 2)
    }

    func testOppositeBumpsAreAntipodalPair() throws {
        let state = try classifyCircleDensity(bumps([(0.2, 1), (0.2 + Double.pi, 1)], kappa: 200), on: grid, time: 0)
        XCTAssertEqual(state.classification, .antipodalPair)
        XCTAssertEqual(state.pairAngle!, Double.pi, accuracy: 1e-9)
        // Each cluster counts its cells above the uniform density: all but the far tails.
        XCTAssertEqual(state.clusters[0].mass, 0.5, accuracy: 0.02)
        XCTAssertEqual(state.clusters[0].mass, state.clusters[1].mass, accuracy: 1e-12)
    }

    func testBumpsAtRightAngleAreKClusters() throws {
        let state = try classifyCircleDensity(bumps([(0, 1), (Double.pi / 2, 1)], kappa: 200), on: grid, time: 0)
        XCTAssertEqual(state.classification, .kClusters)
        XCTAssertEqual(state.pairAngle!, Double.pi / 2, accuracy: 1e-9)
    }

    func testClusterAcrossAngleZeroIsOneArc() throws {
        let state = try classifyCircleDensity(bumps([(0, 1)], kappa: 200), on: grid, time: 0)
        XCTAssertEqual(state.clusterCount, 1)
        XCTAssertEqual(state.clusters[0].centre[0], 1, accuracy: 1e-12)
    }

    func testUniformHasNoClusters() throws {
        let uniform = [Double](repeating: 1 / (2 * Double.pi), count: grid.cells)
        let state = try classifyCircleDensity(uniform, on: grid, time: 0)
        XCTAssertEqual(state.clusterCount, 0)
        XCTAssertEqual(state.classification, .greatCircle)
        XCTAssertEqual(state.moments.effectiveRank, 2, accuracy: 1e-12)
    }

    func testWideArcIsExtendedRegion() throws {
        // With the default factor 10 a dense arc covers at most a tenth of
        // the circle, so a wide one needs a lower factor. The plateau on half
        // the circle is about 2× uniform, and its resultant length 2/π ≈ 0.64
        // is below 0.8.
        var criteria = ClusterCriteria()
        criteria.densityThresholdFactor = 1.5
        let density = grid.angles().map { cos($0) > 0 ? 1.0 : 0.01 }
        let state = try classifyCircleDensity(density, on: grid, time: 0, criteria: criteria)
        XCTAssertEqual(state.clusterCount, 0)
        XCTAssertEqual(state.extendedRegionCount, 1)
    }

    func testWrongSizeThrows() {
        XCTAssertThrowsError(try classifyCircleDensity([1, 2, 3], on: grid, time: 0)) { error in
            XCTAssertTrue("\(error)".contains("has 3 values but the circle grid has 720 cells"), "\(error)")
        }
    }
}
