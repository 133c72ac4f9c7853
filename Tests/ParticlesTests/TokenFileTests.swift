import Foundation
import XCTest
@testable import Particles

final class TokenFileTests: XCTestCase {
    private func assertCSVError(_ text: String, dimension: Int? = nil, line: Int, mentions fragment: String,
                                file: StaticString = #filePath, lineNumber: UInt = #line) {
        XCTAssertThrowsError(try Tokens.parseCSV(text, dimension: dimension), file: file, line: lineNumber) { error in
            guard case let ParticleError.invalidCSV(errorLine, reason) = error else {
                return XCTFail("expected invalidCSV, got \(error)", file: file, line: lineNumber)
            }
            XCTAssertEqual(errorLine, line, reason, file: file, line: lineNumber)
            XCTAssertTrue(reason.contains(fragment), reason, file: file, line: lineNumber)
        }
    }

    func testParsesHeaderBlankLinesAndNormalizes() throws {
        let tokens = try Tokens.parseCSV("x,y,z\n\n3, 4, 0\r\n0,0,-2\n")
        XCTAssertEqual(tokens.dimension, 3)
        XCTAssertEqual(tokens.positions, [0.6, 0.8, 0, 0, 0, -1])
    }

    func testParsesWithoutHeader() throws {
        let tokens = try Tokens.parseCSV("1,0\n0,1e2\n", dimension: 2)
        XCTAssertEqual(tokens.positions, [1, 0, 0, 1])
    }

    func testWrongColumnCount() {
        assertCSVError("1,0,0\n0,1\n", line: 2, mentions: "2 columns, expected 3")
        assertCSVError("a,b\n1,0,0\n", dimension: 3, line: 1, mentions: "header has 2 columns")
        assertCSVError("1,0\n", dimension: 3, line: 1, mentions: "expected 3")
        assertCSVError("5\n", line: 1, mentions: "at least 2")
    }

    func testMalformedValues() {
        assertCSVError("x,y\n1,0\n1,abc\n", line: 3, mentions: "\"abc\" is not a number")
        assertCSVError("1,0\n1,\n", line: 2, mentions: "column 2")
        assertCSVError("1,0\nnan,1\n", line: 2, mentions: "finite")
        assertCSVError("1,0\n\n0,inf\n", line: 3, mentions: "finite")
    }

    func testZeroRowAndEmptyFile() {
        assertCSVError("1,0\n0,0\n", line: 2, mentions: "zero vector")
        assertCSVError("x,y\n", line: 1, mentions: "no data rows")
        assertCSVError("", line: 1, mentions: "no data rows")
    }

    func testParticleSnapshotByteOrderMarkAndTinyRows() throws {
        // A particle run's own snapshot: its first column numbers the tokens.
        let snapshot = try Tokens.parseCSV("particle,x1,x2,x3\n0,0.6,0.8,0\n1,0,0,1\n", dimension: 3)
        for (value, expected) in zip(snapshot.positions, [0.6, 0.8, 0, 0, 0, 1]) {
            XCTAssertEqual(value, expected, accuracy: 1e-15)
        }
        let marked = try Tokens.parseCSV("\u{FEFF}x,y\n0,2\n")
        XCTAssertEqual(marked.positions, [0, 1])
        // Entries whose squares underflow or overflow still give unit rows.
        let tiny = try Tokens.parseCSV("3e-200,4e-200\n3e200,4e200\n")
        XCTAssertEqual(tiny.positions[0], 0.6, accuracy: 1e-15)
        XCTAssertEqual(tiny.positions[1], 0.8, accuracy: 1e-15)
        XCTAssertEqual(tiny.positions[2], 0.6, accuracy: 1e-15)
        XCTAssertEqual(tiny.positions[3], 0.8, accuracy: 1e-15)
        assertCSVError("particle,x1,x2\n0,1,0,0\n", line: 2, mentions: "3 columns, expected 2")
    }

    func testReadsFileAndReportsMissingFile() throws {
        let url = FileManager.default.temporaryDirectory
            .appendingPathComponent("particles-tokens-\(ProcessInfo.processInfo.processIdentifier).csv")
        try "x,y,z\n0,0,5\n".write(to: url, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: url) }
        XCTAssertEqual(try Tokens.readCSV(atPath: url.path).positions, [0, 0, 1])
        XCTAssertThrowsError(try Tokens.readCSV(atPath: url.path + ".missing")) { error in
            guard case ParticleError.unreadableFile = error else {
                return XCTFail("expected unreadableFile, got \(error)")
            }
        }
    }
}
