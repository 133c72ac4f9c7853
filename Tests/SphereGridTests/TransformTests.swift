import Foundation
import XCTest
@testable import SphereGrid

/// Deterministic 64-bit generator (SplitMix64), so random fields are the
/// same on every run and platform.
struct SplitMix64 {
    private var state: UInt64
    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// Uniform in [−1, 1).
    mutating func nextSigned() -> Double {
        Double(next() >> 11) * 0x1p-52 - 1
    }
}

/// Runs slow checks in release builds, or in any build when MEANFIELD_SLOW_TESTS=1.
private var slowTestsEnabled: Bool {
    #if DEBUG
    return ProcessInfo.processInfo.environment["MEANFIELD_SLOW_TESTS"] == "1"
    #else
    return true
    #endif
}

final class TransformTests: XCTestCase {
    private func randomCoefficients(maximumDegree: Int, seed: UInt64) -> HarmonicCoefficients {
        var generator = SplitMix64(seed: seed)
        var coefficients = HarmonicCoefficients(maximumDegree: maximumDegree)
        for i in coefficients.values.indices { coefficients.values[i] = generator.nextSigned() }
        return coefficients
    }

    private func maximumAbsoluteDifference(_ a: [Double], _ b: [Double]) -> Double {
        precondition(a.count == b.count)
        return zip(a, b).reduce(0) { max($0, abs($1.0 - $1.1)) }
    }

    private func maximumAbsolute(_ a: [Double]) -> Double {
        a.reduce(0) { max($0, abs($1)) }
    }

    /// Samples `function(θ, φ)` at every cell centre.
    private func sample(_ grid: SphereGrid, _ function: (Double, Double) -> Double) -> [Double] {
        var field = [Double]()
        field.reserveCapacity(grid.cellCount)
        for j in 0..<grid.nlat {
            for k in 0..<grid.nlon {
                field.append(function(grid.colatitude(ring: j), grid.longitude(column: k)))
            }
        }
        return field
    }

    // MARK: - Coefficient layout

    func testCoefficientIndexLayout() {
        XCTAssertEqual(HarmonicCoefficients.index(degree: 0, order: 0), 0)
        XCTAssertEqual(HarmonicCoefficients.index(degree: 1, order: -1), 1)
        XCTAssertEqual(HarmonicCoefficients.index(degree: 1, order: 1), 3)
        XCTAssertEqual(HarmonicCoefficients.index(degree: 3, order: -3), 9)
        XCTAssertEqual(HarmonicCoefficients.index(degree: 3, order: 3), 15)

        var coefficients = HarmonicCoefficients(maximumDegree: 3)
        XCTAssertEqual(coefficients.values.count, 16)
        coefficients[degree: 2, order: -1] = 5
        XCTAssertEqual(coefficients.values[5], 5)
        XCTAssertEqual(coefficients[degree: 2, order: -1], 5)
    }

    func testInvalidDegreeThrows() throws {
        let grid = try SphereGrid(nlat: 8)
        XCTAssertThrowsError(try SphericalHarmonicTransform(grid: grid, maximumDegree: 8)) { error in
            XCTAssertTrue(error is GridError)
        }
        XCTAssertThrowsError(try SphericalHarmonicTransform(grid: grid, maximumDegree: -1))
        XCTAssertEqual(try SphericalHarmonicTransform(grid: grid).maximumDegree, 7)
        XCTAssertEqual(try SphericalHarmonicTransform(grid: grid, maximumDegree: 0).maximumDegree, 0)
    }

    // MARK: - Point values

    func testHarmonicMatchesClosedForms() {
        let pi = Double.pi
        let closedForms: [(Int, Int, (Double, Double) -> Double)] = [
            (0, 0, { _, _ in 1 / (4 * pi).squareRoot() }),
            (1, 0, { t, _ in (3 / (4 * pi)).squareRoot() * cos(t) }),
            (1, 1, { t, p in (3 / (4 * pi)).squareRoot() * sin(t) * cos(p) }),
            (1, -1, { t, p in (3 / (4 * pi)).squareRoot() * sin(t) * sin(p) }),
            (2, 0, { t, _ in (5 / (16 * pi)).squareRoot() * (3 * cos(t) * cos(t) - 1) }),
            (2, 1, { t, p in (15 / (4 * pi)).squareRoot() * sin(t) * cos(t) * cos(p) }),
            (2, -1, { t, p in (15 / (4 * pi)).squareRoot() * sin(t) * cos(t) * sin(p) }),
            (2, 2, { t, p in (15 / (16 * pi)).squareRoot() * sin(t) * sin(t) * cos(2 * p) }),
            (2, -2, { t, p in (15 / (16 * pi)).squareRoot() * sin(t) * sin(t) * sin(2 * p) }),
            (3, 0, { t, _ in (7 / (16 * pi)).squareRoot() * (5 * pow(cos(t), 3) - 3 * cos(t)) }),
            (3, 3, { t, p in (35 / (32 * pi)).squareRoot() * pow(sin(t), 3) * cos(3 * p) }),
            (3, -2, { t, p in (105 / (16 * pi)).squareRoot() * sin(t) * sin(t) * cos(t) * sin(2 * p) }),
        ]
        let points: [(Double, Double)] = [(0.3, 0.7), (1.2, 2.9), (2.8, 5.1), (Double.pi / 2, 1.0), (0.01, 4.0)]
        for (l, m, closedForm) in closedForms {
            for (theta, phi) in points {
                let value = SphericalHarmonicTransform.harmonic(degree: l, order: m, colatitude: theta, longitude: phi)
                XCTAssertEqual(value, closedForm(theta, phi), accuracy: 1e-15, "Y_\(l),\(m) at θ = \(theta), φ = \(phi)")
            }
        }
    }

    func testHarmonicUnderflowsOnlyNearPole() {
        // Y_mm ∝ sin^m θ: at θ = 0.01 and m = 300 it is about 10^−460, below
        // the double range, while P̄_{1000,300} at the equator is of order one.
        let tiny = SphericalHarmonicTransform.harmonic(degree: 300, order: 300, colatitude: 0.01, longitude: 0)
        XCTAssertEqual(tiny, 0)
        let equatorial = SphericalHarmonicTransform.harmonic(degree: 1000, order: 300, colatitude: 1.4, longitude: 0)
        XCTAssertGreaterThan(abs(equatorial), 1e-3)
        XCTAssertLessThan(abs(equatorial), 20)
    }

    func testSynthesisMatchesPointValues() throws {
        // The transform (extended-precision P̄_mm, rescaled recurrence) and the
        // point evaluation (plain recurrence) must agree at every cell centre.
        // Against an extended-precision recurrence each was off by about 5e−14
        // for Y_50,0, so the bound allows both errors.
        let grid = try SphereGrid(nlat: 64)
        let transform = try SphericalHarmonicTransform(grid: grid)
        for (l, m) in [(63, 40), (63, -63), (50, 0), (20, -7)] {
            var coefficients = HarmonicCoefficients(maximumDegree: transform.maximumDegree)
            coefficients[degree: l, order: m] = 1
            let field = transform.synthesize(coefficients)
            let expected = sample(grid) {
                SphericalHarmonicTransform.harmonic(degree: l, order: m, colatitude: $0, longitude: $1)
            }
            XCTAssertLessThan(maximumAbsoluteDifference(field, expected) / maximumAbsolute(expected), 2e-13, "Y_\(l),\(m)")
        }
    }

    // MARK: - Round trips

    /// Synthesizes each single harmonic and checks that analysis returns
    /// exactly that coefficient and zeros elsewhere.
    private func checkSingleHarmonics(nlat: Int, degreesAndOrders: [(Int, Int)], tolerance: Double) throws {
        let transform = try SphericalHarmonicTransform(grid: SphereGrid(nlat: nlat))
        for (l, m) in degreesAndOrders {
            var coefficients = HarmonicCoefficients(maximumDegree: transform.maximumDegree)
            coefficients[degree: l, order: m] = 1
            let field = transform.synthesize(coefficients)
            var analysed = transform.analyze(field)
            XCTAssertEqual(analysed[degree: l, order: m], 1, accuracy: tolerance, "nlat = \(nlat), (l, m) = (\(l), \(m))")
            analysed[degree: l, order: m] = 0
            XCTAssertLessThan(maximumAbsolute(analysed.values), tolerance, "nlat = \(nlat), leakage of (l, m) = (\(l), \(m))")
        }
    }

    private func selectedHarmonics(maximumDegree L: Int) -> [(Int, Int)] {
        [(0, 0), (1, 0), (1, 1), (1, -1), (L / 2, L / 3), (L / 2, -(L / 3)),
         (L - 1, L - 1), (L, 0), (L, 1), (L, -1), (L, L / 2), (L, L), (L, -L)]
    }

    func testSingleHarmonicRoundTripSmallGrids() throws {
        for nlat in [2, 3, 4, 7, 32] {
            try checkSingleHarmonics(nlat: nlat, degreesAndOrders: selectedHarmonics(maximumDegree: nlat - 1), tolerance: 1e-14)
        }
    }

    func testSingleHarmonicRoundTripNlat128() throws {
        try checkSingleHarmonics(nlat: 128, degreesAndOrders: selectedHarmonics(maximumDegree: 127), tolerance: 1e-13)
    }

    func testSingleHarmonicRoundTripNlat256() throws {
        // A shorter list than on the smaller grids: each transform at this size takes about a second in a debug build.
        let harmonics = [(0, 0), (1, 1), (127, 85), (127, -85), (255, 0), (255, 1), (255, 255), (255, -255)]
        try checkSingleHarmonics(nlat: 256, degreesAndOrders: harmonics, tolerance: 1e-13)
    }

    func testSingleHarmonicRoundTripNlat1024() throws {
        try XCTSkipUnless(slowTestsEnabled, "runs in release builds or with MEANFIELD_SLOW_TESTS=1")
        // High orders at this size exercise the exponent scaling: P̄_mm at the
        // polar ring is about 10^−2900 for m = 1023.
        try checkSingleHarmonics(nlat: 1024, degreesAndOrders: [(1023, 1023), (1023, -1000), (1023, 1), (700, 650), (512, -3)],
                                 tolerance: 1e-12)
    }

    func testRandomFieldRoundTrip() throws {
        for (index, nlat) in [5, 16, 33, 64, 256].enumerated() {
            let transform = try SphericalHarmonicTransform(grid: SphereGrid(nlat: nlat))
            let coefficients = randomCoefficients(maximumDegree: transform.maximumDegree, seed: UInt64(100 + index))
            let field = transform.synthesize(coefficients)
            let analysed = transform.analyze(field)
            let coefficientError = maximumAbsoluteDifference(analysed.values, coefficients.values)
            XCTAssertLessThan(coefficientError / maximumAbsolute(coefficients.values), 1e-12, "coefficients, nlat = \(nlat)")
            let fieldError = maximumAbsoluteDifference(transform.synthesize(analysed), field)
            XCTAssertLessThan(fieldError / maximumAbsolute(field), 1e-12, "field, nlat = \(nlat)")
        }
    }

    func testTruncatedTransformRoundTrip() throws {
        let grid = try SphereGrid(nlat: 32)
        let transform = try SphericalHarmonicTransform(grid: grid, maximumDegree: 10)
        let coefficients = randomCoefficients(maximumDegree: 10, seed: 7)
        let analysed = transform.analyze(transform.synthesize(coefficients))
        XCTAssertEqual(analysed.maximumDegree, 10)
        XCTAssertLessThan(maximumAbsoluteDifference(analysed.values, coefficients.values), 1e-14)

        // A degree-L transform drops coefficients above L on synthesis.
        let full = try SphericalHarmonicTransform(grid: grid)
        var extended = HarmonicCoefficients(maximumDegree: 31)
        for l in 0...10 { for m in -l...l { extended[degree: l, order: m] = coefficients[degree: l, order: m] } }
        let truncatedField = transform.synthesize(extended)
        extended[degree: 20, order: 5] = 1
        XCTAssertLessThan(maximumAbsoluteDifference(transform.synthesize(extended), truncatedField), 1e-15)
        XCTAssertGreaterThan(maximumAbsoluteDifference(full.synthesize(extended), truncatedField), 0.1)
    }

    // MARK: - Analysis of sampled functions

    func testAnalysisOfClosedFormFunctions() throws {
        let grid = try SphereGrid(nlat: 16)
        let transform = try SphericalHarmonicTransform(grid: grid)
        let pi = Double.pi
        // (function, expected nonzero coefficients)
        let cases: [(String, (Double, Double) -> Double, [((Int, Int), Double)])] = [
            ("1", { _, _ in 1 }, [((0, 0), (4 * pi).squareRoot())]),
            ("z", { t, _ in cos(t) }, [((1, 0), (4 * pi / 3).squareRoot())]),
            ("x", { t, p in sin(t) * cos(p) }, [((1, 1), (4 * pi / 3).squareRoot())]),
            ("y", { t, p in sin(t) * sin(p) }, [((1, -1), (4 * pi / 3).squareRoot())]),
            ("x y", { t, p in sin(t) * sin(t) * cos(p) * sin(p) }, [((2, -2), (4 * pi / 15).squareRoot())]),
            ("z²", { t, _ in cos(t) * cos(t) },
             [((0, 0), (4 * pi).squareRoot() / 3), ((2, 0), 4 / 3 * (pi / 5).squareRoot())]),
        ]
        for (name, function, expected) in cases {
            var analysed = transform.analyze(sample(grid, function))
            for ((l, m), value) in expected {
                XCTAssertEqual(analysed[degree: l, order: m], value, accuracy: 1e-14, "f = \(name), (l, m) = (\(l), \(m))")
                analysed[degree: l, order: m] = 0
            }
            XCTAssertLessThan(maximumAbsolute(analysed.values), 1e-14, "f = \(name), other coefficients")
        }
    }

    func testAnalysisIsAreaWeightedSum() throws {
        // For any field, not only band-limited ones, analysis is Σ_i f_i Y_lm(x_i) area_i.
        let grid = try SphereGrid(nlat: 6)
        let transform = try SphericalHarmonicTransform(grid: grid)
        var generator = SplitMix64(seed: 11)
        let field = (0..<grid.cellCount).map { _ in generator.nextSigned() }
        let analysed = transform.analyze(field)
        for l in 0...transform.maximumDegree {
            for m in -l...l {
                var sum = 0.0
                for j in 0..<grid.nlat {
                    for k in 0..<grid.nlon {
                        let y = SphericalHarmonicTransform.harmonic(degree: l, order: m, colatitude: grid.colatitude(ring: j),
                                                                    longitude: grid.longitude(column: k))
                        sum += field[j * grid.nlon + k] * y * grid.cellArea[j]
                    }
                }
                XCTAssertEqual(analysed[degree: l, order: m], sum, accuracy: 1e-14, "(l, m) = (\(l), \(m))")
            }
        }
    }

    // MARK: - Gradient

    /// Gradient of Y_lm from the order-raising and order-lowering relation
    ///     ∂_θ P̄_lm = ½ (√((l+m)(l−m+1)) P̄_{l,m−1} − √((l−m)(l+m+1)) P̄_{l,m+1}),
    ///     ∂_θ P̄_l0 = −√(l(l+1)) P̄_l1,
    /// which is independent of the recurrence the transform uses.
    private func harmonicGradient(degree l: Int, order m: Int, colatitude theta: Double, longitude phi: Double)
        -> (colatitude: Double, longitude: Double) {
        let order = abs(m)
        func legendre(_ order: Int) -> Double {
            guard order <= l else { return 0 }
            let value = SphericalHarmonicTransform.harmonic(degree: l, order: order, colatitude: theta, longitude: 0)
            return order == 0 ? value : value / 2.0.squareRoot()
        }
        let ld = Double(l), md = Double(order)
        let derivative: Double
        if order == 0 {
            derivative = -(ld * (ld + 1)).squareRoot() * legendre(1)
        } else {
            derivative = 0.5 * (((ld + md) * (ld - md + 1)).squareRoot() * legendre(order - 1)
                - ((ld - md) * (ld + md + 1)).squareRoot() * legendre(order + 1))
        }
        let value = legendre(order)
        let scale = order == 0 ? 1.0 : 2.0.squareRoot()
        let s = sin(theta)
        switch m {
        case 0:
            return (derivative, 0)
        case 1...:
            return (scale * derivative * cos(md * phi), -md * scale * value * sin(md * phi) / s)
        default:
            return (scale * derivative * sin(md * phi), md * scale * value * cos(md * phi) / s)
        }
    }

    func testGradientOfLowHarmonicsMatchesClosedForms() throws {
        let grid = try SphereGrid(nlat: 8)
        let transform = try SphericalHarmonicTransform(grid: grid)
        let c1 = (3 / (4 * Double.pi)).squareRoot()
        let c22 = (15 / (16 * Double.pi)).squareRoot()
        let cases: [(Int, Int, (Double, Double) -> (Double, Double))] = [
            (0, 0, { _, _ in (0, 0) }),
            (1, 0, { t, _ in (-c1 * sin(t), 0) }),
            (1, 1, { t, p in (c1 * cos(t) * cos(p), -c1 * sin(p)) }),
            (1, -1, { t, p in (c1 * cos(t) * sin(p), c1 * cos(p)) }),
            (2, 2, { t, p in (2 * c22 * sin(t) * cos(t) * cos(2 * p), -2 * c22 * sin(t) * sin(2 * p)) }),
        ]
        for (l, m, gradient) in cases {
            var coefficients = HarmonicCoefficients(maximumDegree: transform.maximumDegree)
            coefficients[degree: l, order: m] = 1
            let (colatitude, longitude) = transform.synthesizeGradient(coefficients)
            let expected = sample(grid) { gradient($0, $1).0 }
            let expectedLongitude = sample(grid) { gradient($0, $1).1 }
            XCTAssertLessThan(maximumAbsoluteDifference(colatitude, expected), 1e-14, "∂_θ Y_\(l),\(m)")
            XCTAssertLessThan(maximumAbsoluteDifference(longitude, expectedLongitude), 1e-14, "(1/sin θ) ∂_φ Y_\(l),\(m)")
        }
    }

    func testGradientOfSingleHarmonicsOnLargerGrid() throws {
        let grid = try SphereGrid(nlat: 64)
        let transform = try SphericalHarmonicTransform(grid: grid)
        for (l, m) in [(40, 17), (63, 63), (63, -62), (50, 0), (33, -1)] {
            var coefficients = HarmonicCoefficients(maximumDegree: transform.maximumDegree)
            coefficients[degree: l, order: m] = 1
            let (colatitude, longitude) = transform.synthesizeGradient(coefficients)
            let expected = sample(grid) { harmonicGradient(degree: l, order: m, colatitude: $0, longitude: $1).colatitude }
            let expectedLongitude = sample(grid) { harmonicGradient(degree: l, order: m, colatitude: $0, longitude: $1).longitude }
            let scale = max(maximumAbsolute(expected), maximumAbsolute(expectedLongitude))
            XCTAssertLessThan(maximumAbsoluteDifference(colatitude, expected) / scale, 1e-12, "∂_θ Y_\(l),\(m)")
            XCTAssertLessThan(maximumAbsoluteDifference(longitude, expectedLongitude) / scale, 1e-12, "(1/sin θ) ∂_φ Y_\(l),\(m)")
        }
    }

    func testGradientOfBandLimitedSum() throws {
        let grid = try SphereGrid(nlat: 9)
        let transform = try SphericalHarmonicTransform(grid: grid)
        let coefficients = randomCoefficients(maximumDegree: transform.maximumDegree, seed: 3)
        let (colatitude, longitude) = transform.synthesizeGradient(coefficients)
        var expected = [Double](repeating: 0, count: grid.cellCount)
        var expectedLongitude = [Double](repeating: 0, count: grid.cellCount)
        for j in 0..<grid.nlat {
            for k in 0..<grid.nlon {
                for l in 0...transform.maximumDegree {
                    for m in -l...l {
                        let g = harmonicGradient(degree: l, order: m, colatitude: grid.colatitude(ring: j),
                                                 longitude: grid.longitude(column: k))
                        expected[j * grid.nlon + k] += coefficients[degree: l, order: m] * g.colatitude
                        expectedLongitude[j * grid.nlon + k] += coefficients[degree: l, order: m] * g.longitude
                    }
                }
            }
        }
        let scale = max(maximumAbsolute(expected), maximumAbsolute(expectedLongitude))
        XCTAssertLessThan(maximumAbsoluteDifference(colatitude, expected) / scale, 1e-13)
        XCTAssertLessThan(maximumAbsoluteDifference(longitude, expectedLongitude) / scale, 1e-13)

        // The gradient of the field also matches a central difference of synthesized point values along θ.
        let j = 3, k = 5, h = 1e-5
        let theta = grid.colatitude(ring: j), phi = grid.longitude(column: k)
        func value(_ t: Double, _ p: Double) -> Double {
            var sum = 0.0
            for l in 0...transform.maximumDegree {
                for m in -l...l {
                    sum += coefficients[degree: l, order: m]
                        * SphericalHarmonicTransform.harmonic(degree: l, order: m, colatitude: t, longitude: p)
                }
            }
            return sum
        }
        let difference = (value(theta + h, phi) - value(theta - h, phi)) / (2 * h)
        XCTAssertEqual(colatitude[j * grid.nlon + k], difference, accuracy: 1e-8 * scale)
        let longitudeDifference = (value(theta, phi + h) - value(theta, phi - h)) / (2 * h) / sin(theta)
        XCTAssertEqual(longitude[j * grid.nlon + k], longitudeDifference, accuracy: 1e-8 * scale)
    }

    // MARK: - Concurrency

    func testConcurrentCallsGiveIdenticalResults() throws {
        let transform = try SphericalHarmonicTransform(grid: SphereGrid(nlat: 48))
        let coefficients = randomCoefficients(maximumDegree: transform.maximumDegree, seed: 21)
        let field = transform.synthesize(coefficients)
        let analysed = transform.analyze(field)
        let gradient = transform.synthesizeGradient(coefficients)

        let lock = NSLock()
        var mismatches = 0
        DispatchQueue.concurrentPerform(iterations: 8) { _ in
            for _ in 0..<5 {
                let sameField = transform.synthesize(coefficients)
                let sameAnalysis = transform.analyze(field)
                let sameGradient = transform.synthesizeGradient(coefficients)
                let equal = sameField == field && sameAnalysis == analysed
                    && sameGradient.colatitude == gradient.colatitude && sameGradient.longitude == gradient.longitude
                if !equal {
                    lock.lock()
                    mismatches += 1
                    lock.unlock()
                }
            }
        }
        XCTAssertEqual(mismatches, 0)
    }
}
