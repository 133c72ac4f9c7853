import Foundation
import SphereGrid
import XCTest
@testable import ContinuityStepper

/// Solid-body rotation of Williamson et al. (1992), test case 1.
final class RotationTests: XCTestCase {
    private let tilt = Double.pi / 2 - 0.05

    func testGaussianHillConvergesAtSecondOrder() throws {
        // Rotation about the polar axis; the tilted runs are in the slow table.
        let coarse = try runRotation(nlat: 64, profile: .gaussianHill, alpha: 0)
        let fine = try runRotation(nlat: 128, profile: .gaussianHill, alpha: 0)
        let order = log2(coarse.errors.l1 / fine.errors.l1)
        XCTAssertGreaterThan(order, 1.6, "l1 \(coarse.errors.l1) -> \(fine.errors.l1)")
        XCTAssertLessThan(fine.errors.l2, 0.02)
        XCTAssertLessThan(fine.massDrift, 1e-13)
    }

    func testCosineBellStaysNonNegative() throws {
        let result = try runRotation(nlat: 32, profile: .cosineBell, alpha: tilt)
        XCTAssertGreaterThanOrEqual(result.minimumDensity, -1e-12 * 1000)
        XCTAssertLessThan(result.errors.l1, 0.9)
        XCTAssertLessThan(result.massDrift, 1e-13)
    }

    /// Full error table for both schemes (run with MEANFIELD_SLOW_TESTS=1).
    func testRotationErrorTable() throws {
        try XCTSkipUnless(slowTestsEnabled, "set MEANFIELD_SLOW_TESTS=1 to run")
        for scheme in [TimeScheme.fluxFormSemiLagrangian, .methodOfLines] {
            try printErrorTable(scheme: scheme)
        }
    }

    private func printErrorTable(scheme: TimeScheme) throws {
        var lines = ["\(scheme):",
                     "| profile | alpha | nlat | l1 | l2 | linf | steps | equatorial CFL steps | min rho |",
                     "|---|---|---|---|---|---|---|---|---|"]
        for profile in [RotationProfile.cosineBell, .gaussianHill] {
            for (alphaName, alpha) in [("0", 0.0), ("pi/2-0.05", tilt)] {
                var previous: RotationResult?
                for nlat in [32, 64, 128] {
                    let result = try runRotation(nlat: nlat, profile: profile, alpha: alpha, scheme: scheme)
                    let equatorial = try equatorialStepCount(nlat: nlat, cfl: 0.5)
                    let e = result.errors
                    lines.append(String(format: "| %@ | %@ | %d | %.3e | %.3e | %.3e | %d | %d | %.1e |",
                                        profile.rawValue, alphaName, nlat, e.l1, e.l2, e.linf, result.steps,
                                        equatorial, result.minimumDensity))
                    if let previous {
                        let orderL1 = log2(previous.errors.l1 / e.l1)
                        let orderL2 = log2(previous.errors.l2 / e.l2)
                        lines.append(String(format: "|  | order l1 %.2f, l2 %.2f, linf %.2f | | | | | | | |",
                                            orderL1, orderL2, log2(previous.errors.linf / e.linf)))
                        if profile == .gaussianHill && nlat == 128 {
                            let bound = scheme == .fluxFormSemiLagrangian ? 1.7 : 1.6
                            XCTAssertGreaterThan(orderL1, bound, "\(scheme), alpha \(alphaName)")
                            XCTAssertGreaterThan(orderL2, bound, "\(scheme), alpha \(alphaName)")
                        }
                    }
                    if scheme == .fluxFormSemiLagrangian {
                        XCTAssertLessThanOrEqual(result.steps, 2 * equatorial, "\(profile), alpha \(alphaName)")
                    }
                    previous = result
                }
            }
        }
        print(lines.joined(separator: "\n"))
    }
}
