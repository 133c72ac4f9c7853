import AttentionKernel
import Foundation
import XCTest
@testable import CollapseAnalysis

final class GrowthRateTests: XCTestCase {
    /// i_l(z) = Σ_k z^{l+2k} / (2^k k! (2l+2k+1)!!) in extended precision;
    /// valid for negative z as well, where it carries the sign (−1)^l.
    private func sphericalBesselSeries(_ l: Int, _ z: Double) -> Float80 {
        let x = Float80(z)
        var term: Float80 = 1
        if l > 0 {
            for n in 1...l { term *= x / Float80(2 * n + 1) }
        }
        var sum: Float80 = 0
        var k = 0
        while true {
            sum += term
            k += 1
            term *= x * x / (2 * Float80(k) * Float80(2 * l + 2 * k + 1))
            if abs(term) < abs(sum) * 1e-22 && Float80(k) > abs(x) { break }
        }
        return sum
    }

    /// I_k(z) = Σ_m (z/2)^{2m+k} / (m! (m+k)!) in extended precision.
    private func besselSeries(_ order: Int, _ z: Double) -> Float80 {
        let half = Float80(z) / 2
        var term: Float80 = 1
        if order > 0 {
            for n in 1...order { term *= half / Float80(n) }
        }
        var sum: Float80 = 0
        var m = 0
        while true {
            sum += term
            m += 1
            term *= half * half / (Float80(m) * Float80(m + order))
            if abs(term) < abs(sum) * 1e-22 && Float80(m) > abs(half) { break }
        }
        return sum
    }

    /// λ from the formulas written out directly with the series.
    private func directRate(_ manifold: UniformStateManifold, _ normalization: Normalization,
                            a: Double, v: Double, beta: Double, degree: Int) -> Double {
        let z = a * beta
        let n = Float80(degree)
        let value: Float80
        switch (manifold, normalization) {
        case (.sphere, .none):
            value = Float80(v) / Float80(z) * n * (n + 1) * sphericalBesselSeries(degree, z)
        case (.sphere, .softmax):
            value = Float80(v) * n * (n + 1) * sphericalBesselSeries(degree, z) / Float80(sinh(z))
        case (.circle, .none):
            value = Float80(v) / Float80(z) * n * n * besselSeries(degree, z)
        case (.circle, .softmax):
            value = Float80(v) / Float80(z) * n * n * besselSeries(degree, z) / besselSeries(0, z)
        }
        return Double(value)
    }

    func testRatesMatchSeriesAtModerateBeta() throws {
        let cases: [(a: Double, v: Double, beta: Double)] = [(1, 1, 5), (0.5, -2, 8), (2, 0.3, 3), (-1, 1, 6)]
        for manifold in [UniformStateManifold.sphere, .circle] {
            for normalization in [Normalization.none, .softmax] {
                for (a, v, beta) in cases {
                    let table = try GrowthRateTable(manifold: manifold, normalization: normalization,
                                                    a: a, v: v, beta: beta, maximumDegree: 20)
                    XCTAssertEqual(table.rates[0].growthRate, 0)
                    for degree in 1...20 {
                        let expected = directRate(manifold, normalization, a: a, v: v, beta: beta, degree: degree)
                        let computed = try XCTUnwrap(table.rates[degree].growthRate)
                        XCTAssertEqual(computed, expected, accuracy: 1e-12 * abs(expected),
                                       "\(manifold) \(normalization) a=\(a) v=\(v) β=\(beta) degree \(degree)")
                        XCTAssertEqual(table.rates[degree].scaledGrowthRate,
                                       expected * exp(-abs(a) * beta), accuracy: 1e-12 * abs(expected))
                    }
                }
            }
        }
    }

    func testNegativeInteractionAlternatesSigns() throws {
        let table = try GrowthRateTable(manifold: .sphere, normalization: .none,
                                        a: -1, v: 1, beta: 4, maximumDegree: 20)
        XCTAssertEqual(table.rates[1].sign, 1)
        XCTAssertEqual(table.rates[2].sign, -1)
        XCTAssertEqual(table.rates[3].sign, 1)
        XCTAssertEqual(table.fastestMode.map { $0.degree % 2 }, 1)
        XCTAssertFalse(table.isStable)
    }

    func testLargeBetaStaysFinite() throws {
        for manifold in [UniformStateManifold.sphere, .circle] {
            let table = try GrowthRateTable(manifold: manifold, normalization: .none,
                                            a: 1, v: 1, beta: 1000, maximumDegree: 60)
            for rate in table.rates.dropFirst() {
                XCTAssertNil(rate.growthRate, "degree \(rate.degree) should overflow")
                XCTAssertTrue(rate.scaledGrowthRate.isFinite, "degree \(rate.degree)")
                XCTAssertGreaterThan(rate.scaledGrowthRate, 0, "degree \(rate.degree)")
                let logRate = try XCTUnwrap(rate.logMagnitude)
                XCTAssertTrue(logRate.isFinite)
                XCTAssertEqual(logRate - 1000, log(rate.scaledGrowthRate), accuracy: 1e-10)
            }
            // λ_1 ≈ (v/z)·m·e^{z}/(2z) for S^2 and (v/z)·e^{z}/√(2πz) for S^1, to O(1/z).
            let leading = manifold == .sphere ? log(2.0 / (2 * 1000 * 1000)) : log(1 / (1000 * (2 * Double.pi * 1000).squareRoot()))
            XCTAssertEqual(table.rates[1].logMagnitude! - 1000, leading, accuracy: 3e-3)
            XCTAssertTrue(table.csv().contains("\n1,,"))

            let softmax = try GrowthRateTable(manifold: manifold, normalization: .softmax,
                                              a: 1, v: 1, beta: 1000, maximumDegree: 60)
            XCTAssertTrue(softmax.rates.allSatisfy { $0.growthRate?.isFinite == true })
        }
    }

    func testSmallInteractionLimits() throws {
        for a in [0.0, 1e-9] {
            for normalization in [Normalization.none, .softmax] {
                let sphere = try GrowthRateTable(manifold: .sphere, normalization: normalization,
                                                 a: a, v: 3, beta: 2, maximumDegree: 20)
                XCTAssertEqual(try XCTUnwrap(sphere.rates[1].growthRate), 2, accuracy: 1e-8)
                XCTAssertEqual(try XCTUnwrap(sphere.rates[2].growthRate), 0, accuracy: 1e-8)
                let circle = try GrowthRateTable(manifold: .circle, normalization: normalization,
                                                 a: a, v: 3, beta: 2, maximumDegree: 20)
                XCTAssertEqual(try XCTUnwrap(circle.rates[1].growthRate), 1.5, accuracy: 1e-8)
                XCTAssertEqual(try XCTUnwrap(circle.rates[2].growthRate), 0, accuracy: 1e-8)
                XCTAssertEqual(sphere.fastestMode?.degree, 1)
                XCTAssertEqual(circle.fastestMode?.degree, 1)
            }
        }
    }

    func testFastestModeNearAsymptote() throws {
        for beta in [50.0, 200.0] {
            let estimate = (2 * beta).squareRoot()
            for manifold in [UniformStateManifold.sphere, .circle] {
                for normalization in [Normalization.none, .softmax] {
                    let table = try GrowthRateTable(manifold: manifold, normalization: normalization,
                                                    a: 1, v: 1, beta: beta, maximumDegree: 60)
                    let fastest = try XCTUnwrap(table.fastestMode?.degree)
                    XCTAssertEqual(Double(fastest), estimate, accuracy: 1.5,
                                   "\(manifold) \(normalization) β = \(beta)")
                    XCTAssertTrue(table.suggestion.contains("\(fastest)"))
                }
            }
        }
    }

    func testCircleSuggestionCountsClusters() throws {
        let table = try GrowthRateTable(manifold: .circle, normalization: .softmax,
                                        a: 1, v: 1, beta: 50, maximumDegree: 20)
        let fastest = try XCTUnwrap(table.fastestMode?.degree)
        XCTAssertTrue(table.suggestion.contains("about \(fastest) clusters"), table.suggestion)
    }

    func testNegativeValueIsStable() throws {
        for manifold in [UniformStateManifold.sphere, .circle] {
            let table = try GrowthRateTable(manifold: manifold, normalization: .softmax,
                                            a: 1, v: -1, beta: 10, maximumDegree: 20)
            XCTAssertTrue(table.isStable)
            XCTAssertNil(table.fastestMode)
            XCTAssertTrue(table.rates.dropFirst().allSatisfy { $0.sign == -1 })
            XCTAssertTrue(table.suggestion.contains("stable"), table.suggestion)
        }
    }

    func testCSVHasExactColumns() throws {
        let table = try GrowthRateTable(manifold: .sphere, normalization: .none,
                                        a: 1, v: 1, beta: 800, maximumDegree: 31)
        let lines = table.csv().split(separator: "\n", omittingEmptySubsequences: false)
        XCTAssertEqual(lines.first, "degree,growth_rate,scaled_growth_rate,log_growth_rate")
        XCTAssertEqual(lines.count, 32 + 2)
        XCTAssertEqual(lines.last, "")
        XCTAssertEqual(lines[1], "0,0.0,0.0,")
        for line in lines.dropFirst(2).dropLast() {
            let fields = line.split(separator: ",", omittingEmptySubsequences: false)
            XCTAssertEqual(fields.count, 4, String(line))
            XCTAssertEqual(fields[1], "", "λ overflows at aβ = 800: \(line)")
            XCTAssertNotNil(Double(fields[2]))
            XCTAssertNotNil(Double(fields[3]))
        }
    }

    func testInvalidTableInputThrows() {
        XCTAssertThrowsError(try GrowthRateTable(manifold: .sphere, normalization: .none,
                                                 a: 1, v: 1, beta: 1, maximumDegree: 19))
        XCTAssertThrowsError(try GrowthRateTable(manifold: .sphere, normalization: .none,
                                                 a: .infinity, v: 1, beta: 1, maximumDegree: 20))
        XCTAssertThrowsError(try GrowthRateTable(manifold: .circle, normalization: .none,
                                                 a: 1, v: 1, beta: -1, maximumDegree: 20))
    }
}
