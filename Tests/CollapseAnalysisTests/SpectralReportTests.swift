import AttentionKernel
import Foundation
import XCTest
@testable import CollapseAnalysis

final class SpectralReportTests: XCTestCase {
    private func identity(_ d: Int) -> [Double] {
        (0..<(d * d)).map { $0 / d == $0 % d ? 1 : 0 }
    }

    private func diagonal(_ entries: [Double]) -> [Double] {
        let d = entries.count
        return (0..<(d * d)).map { $0 / d == $0 % d ? entries[$0 / d] : 0 }
    }

    private func report(value: [Double], key: [Double]? = nil, dimension d: Int = 3,
                        normalization: Normalization = .softmax) throws -> SpectralReport {
        try SpectralReport(query: identity(d), key: key ?? identity(d), value: value,
                           dimension: d, beta: 4, normalization: normalization)
    }

    func testSimpleTopEigenvalueGivesLine() throws {
        let result = try report(value: diagonal([1, 0.5, 0.2]))
        XCTAssertEqual(result.regime, .line)
        XCTAssertEqual(result.expectedRank, 1)
        XCTAssertTrue(result.regimeStatement.contains("toward 1"), result.regimeStatement)
        XCTAssertTrue(result.regimeStatement.contains("e^{−0.5 t}"), result.regimeStatement)
        XCTAssertEqual(result.value.eigenpairs.map { $0.real }, [1, 0.5, 0.2])
        let topVector = result.value.eigenpairs[0].realVector
        XCTAssertEqual(abs(topVector[0]), 1, accuracy: 1e-14)
        XCTAssertEqual(result.value.symmetricPartEigenvalues, [1, 0.5, 0.2])
    }

    func testRepeatedTopEigenvalueGivesGreatCircle() throws {
        let result = try report(value: diagonal([1, 1, -0.5]))
        XCTAssertEqual(result.regime, .subspace)
        XCTAssertEqual(result.expectedRank, 2)
        XCTAssertTrue(result.regimeStatement.contains("toward 2"), result.regimeStatement)
        XCTAssertTrue(result.regimeStatement.contains("great circle"), result.regimeStatement)
    }

    func testRepeatedTopEigenvalueInFourDimensions() throws {
        let result = try report(value: diagonal([2, 2, 2, -1]), dimension: 4)
        XCTAssertEqual(result.regime, .subspace)
        XCTAssertEqual(result.expectedRank, 3)
        XCTAssertTrue(result.regimeStatement.contains("S^2 of S^3"), result.regimeStatement)
    }

    func testJordanBlockCountsOneEigenvector() throws {
        let jordan: [Double] = [1, 1, 0,
                                0, 1, 0,
                                0, 0, 0]
        let result = try report(value: jordan)
        XCTAssertEqual(result.regime, .line)
        XCTAssertEqual(result.expectedRank, 1)
        XCTAssertTrue(result.regimeStatement.contains("Jordan"), result.regimeStatement)
    }

    func testNegativeIdentityIsStable() throws {
        let result = try report(value: diagonal([-1, -1, -1]))
        XCTAssertEqual(result.regime, .spreading)
        XCTAssertEqual(result.expectedRank, 3)
        XCTAssertTrue(result.regimeStatement.contains("uniform state is stable"), result.regimeStatement)
        XCTAssertTrue(result.regimeStatement.contains("theorem"), result.regimeStatement)
        XCTAssertEqual(result.energyMonotonicity, .falling)
    }

    func testPositiveIdentityClusters() throws {
        let result = try report(value: diagonal([0.5, 0.5, 0.5]))
        XCTAssertEqual(result.regime, .clustering)
        XCTAssertEqual(result.expectedRank, 1)
        XCTAssertTrue(result.regimeStatement.contains("cluster"), result.regimeStatement)
        XCTAssertEqual(result.energyMonotonicity, .rising)
        XCTAssertEqual(result.isotropicParameters?.a, 1)
        XCTAssertEqual(result.isotropicParameters?.v, 0.5)
    }

    func testComplexTopPairGivesRotation() throws {
        // 0.5·(rotation generator) + scaling in the xy-plane, weaker z.
        let value: [Double] = [0.5, -2, 0,
                               2, 0.5, 0,
                               0, 0, 0.1]
        let result = try report(value: value)
        XCTAssertEqual(result.regime, .rotation)
        XCTAssertEqual(result.expectedRank, 2)
        let top = result.value.eigenpairs[0]
        XCTAssertEqual(top.real, 0.5, accuracy: 1e-14)
        XCTAssertEqual(top.imaginary, 2, accuracy: 1e-14)
        XCTAssertEqual(result.value.eigenpairs[1].imaginary, -2, accuracy: 1e-14)
        XCTAssertNotNil(top.imaginaryVector)
        XCTAssertEqual(top.realVector[2], 0, accuracy: 1e-14)
        XCTAssertTrue(result.regimeStatement.contains("complex pair"), result.regimeStatement)
        XCTAssertTrue(result.regimeStatement.contains("toward 2"), result.regimeStatement)
        XCTAssertEqual(result.energyMonotonicity, .diagnosticOnly)
    }

    func testPureRotationDoesNotConcentrate() throws {
        let generator: [Double] = [0, -1, 0,
                                   1, 0, 0,
                                   0, 0, 0]
        let result = try report(value: generator)
        XCTAssertEqual(result.regime, .rotation)
        XCTAssertEqual(result.expectedRank, 3)
        XCTAssertTrue(result.regimeStatement.contains("without concentrating"), result.regimeStatement)
        XCTAssertTrue(result.regimeStatement.contains("top real part is 0"), result.regimeStatement)
    }

    func testNegativeSpectrumStillConcentrates() throws {
        let result = try report(value: diagonal([-0.2, -1, -1]))
        XCTAssertEqual(result.regime, .line)
        XCTAssertTrue(result.regimeStatement.contains("All real parts are negative"), result.regimeStatement)
        XCTAssertTrue(result.regimeStatement.contains("antipodal"), result.regimeStatement)
    }

    func testValueProportionalToSymmetricInteractionRises() throws {
        let key: [Double] = [2, 0.3, 0,
                             0.3, 1, -0.2,
                             0, -0.2, 0.5]
        let result = try report(value: key.map { 2 * $0 }, key: key)
        XCTAssertEqual(result.energyMonotonicity, .rising)
        XCTAssertEqual(result.valueToInteractionRatio ?? .nan, 2, accuracy: 1e-15)
        XCTAssertTrue(result.lyapunovStatement.contains("rises"), result.lyapunovStatement)
    }

    func testNegativeMultipleOfInteractionFalls() throws {
        let key: [Double] = [2, 0.3, 0,
                             0.3, 1, -0.2,
                             0, -0.2, 0.5]
        let result = try report(value: key.map { -$0 }, key: key)
        XCTAssertEqual(result.energyMonotonicity, .falling)
        XCTAssertEqual(result.valueToInteractionRatio ?? .nan, -1, accuracy: 1e-15)
        XCTAssertTrue(result.lyapunovStatement.contains("falls"), result.lyapunovStatement)
    }

    func testUnrelatedValueIsDiagnosticOnly() throws {
        let key: [Double] = [2, 0.3, 0,
                             0.3, 1, -0.2,
                             0, -0.2, 0.5]
        let result = try report(value: diagonal([1, 2, 3]), key: key)
        XCTAssertEqual(result.energyMonotonicity, .diagnosticOnly)
        XCTAssertNil(result.valueToInteractionRatio)
        XCTAssertTrue(result.lyapunovStatement.contains("not a multiple of A"), result.lyapunovStatement)
    }

    func testProportionalButAsymmetricInteractionIsDiagnosticOnly() throws {
        let key: [Double] = [1, 0.5, 0,
                             0, 1, 0,
                             0, 0, 1]
        let result = try report(value: key.map { 2 * $0 }, key: key)
        XCTAssertEqual(result.energyMonotonicity, .diagnosticOnly)
        XCTAssertTrue(result.lyapunovStatement.contains("not symmetric"), result.lyapunovStatement)
    }

    func testProportionalityToleranceIsRelative() throws {
        let key = diagonal([1e6, 2e6, 3e6])
        let perturbed = key.enumerated().map { $0.offset == 0 ? 2 * $0.element * (1 + 1e-12) : 2 * $0.element }
        XCTAssertEqual(try report(value: perturbed, key: key).energyMonotonicity, .rising)
        let farther = key.enumerated().map { $0.offset == 0 ? 2 * $0.element * (1 + 1e-6) : 2 * $0.element }
        XCTAssertEqual(try report(value: farther, key: key).energyMonotonicity, .diagnosticOnly)
    }

    func testInvalidInputThrows() {
        XCTAssertThrowsError(try report(value: [1, 0, 0, 1]))
        XCTAssertThrowsError(try report(value: diagonal([1, .nan, 1])))
        XCTAssertThrowsError(try SpectralReport(query: [1], key: [1], value: [1], dimension: 1,
                                                beta: 1, normalization: .none))
        XCTAssertThrowsError(try SpectralReport(query: identity(3), key: identity(3), value: identity(3),
                                                dimension: 3, beta: 0, normalization: .none))
    }

    func testAnalysisObjectIsValidJSON() throws {
        let result = try report(value: diagonal([1, 1, 1]), normalization: .none)
        let table = try XCTUnwrap(try GrowthRateTable(report: result, maximumDegree: 31))
        let object = analysisJSONObject(report: result, growthRates: table)
        XCTAssertTrue(JSONSerialization.isValidJSONObject(object))
        XCTAssertNoThrow(try JSONSerialization.data(withJSONObject: object))
        XCTAssertEqual(object["fastest_mode"] as? Int, table.fastestMode?.degree)
        XCTAssertNotNil(object["regime_statement"] as? String)
        XCTAssertNotNil(object["lyapunov_statement"] as? String)

        let rotation = try report(value: [0, -1, 0, 1, 0, 0, 0, 0, 0])
        XCTAssertNil(try GrowthRateTable(report: rotation, maximumDegree: 31))
        let rotationObject = analysisJSONObject(report: rotation, growthRates: nil)
        XCTAssertTrue(JSONSerialization.isValidJSONObject(rotationObject))
        XCTAssertTrue(rotationObject["growth_rates"] is NSNull)
    }
}
