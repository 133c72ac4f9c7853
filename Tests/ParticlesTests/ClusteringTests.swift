import Foundation
import XCTest
@testable import Particles

final class ClusteringTests: XCTestCase {
    func testTwoTightGroups() throws {
        var positions: [Double] = []
        for k in 0..<30 { positions += [1, 0.001 * Double(k % 5), 0.001 * Double(k / 5)] }
        for k in 0..<10 { positions += [0, -1, 0.002 * Double(k)] }
        let clusters = try Tokens(dimension: 3, positions: positions).clusters()
        XCTAssertEqual(clusters.map(\.size), [30, 10])
        XCTAssertEqual(clusters[1].members, Array(30..<40))
        XCTAssertEqual(clusters[0].centre[0], 1, accuracy: 1e-4)
        XCTAssertEqual(clusters[1].centre[1], -1, accuracy: 1e-4)
    }

    func testSingleLinkageChainsAcrossBlocks() throws {
        // Consecutive points 0.04 rad apart form one chain 1.6 rad long.
        var positions: [Double] = []
        for k in 0..<41 {
            let angle = 0.04 * Double(k)
            positions += [cos(angle), sin(angle), 0]
        }
        let tokens = try Tokens(dimension: 3, positions: positions)
        XCTAssertEqual(try tokens.clusters(blockRows: 7).count, 1)
        XCTAssertEqual(try tokens.clusters(withinAngle: 0.039, blockRows: 7).count, 41)
    }

    func testTinyAnglesAreResolved() throws {
        let tokens = try Tokens(dimension: 2, positions: [1, 0, cos(1e-9), sin(1e-9), cos(3e-9), sin(3e-9)])
        XCTAssertEqual(try tokens.clusters(withinAngle: 1.5e-9).map(\.size), [2, 1])
    }

    func testInvalidAngleThrows() throws {
        let tokens = try Tokens(dimension: 2, positions: [1, 0])
        XCTAssertThrowsError(try tokens.clusters(withinAngle: 0))
        XCTAssertThrowsError(try tokens.clusters(withinAngle: 4))
        XCTAssertThrowsError(try tokens.clusters(blockRows: 0))
    }
}
