import Foundation
import XCTest
@testable import SphereGrid

final class CircleGridTests: XCTestCase {
    func testLengthsSumToCircumference() throws {
        for cells in [8, 9, 720, 1 << 20] {
            let grid = try CircleGrid(cells: cells)
            XCTAssertEqual(grid.cellLengths().reduce(0, +), 2 * Double.pi, accuracy: 1e-9 * 2 * Double.pi, "cells = \(cells)")
            XCTAssertEqual(grid.integrate([Double](repeating: 1, count: cells)), 2 * Double.pi,
                           accuracy: 1e-12, "cells = \(cells)")
        }
    }

    func testCentresAndFaces() throws {
        let grid = try CircleGrid(cells: 12)
        XCTAssertEqual(grid.angle(cell: 0), 0)
        XCTAssertEqual(grid.angle(cell: 3), Double.pi / 2, accuracy: 1e-15)
        XCTAssertEqual(grid.faceAngle(face: 0), Double.pi / 12, accuracy: 1e-15)
        XCTAssertEqual(grid.point(cell: 3).y, 1, accuracy: 1e-15)
    }

    func testCellCountRange() {
        XCTAssertThrowsError(try CircleGrid(cells: 7)) { error in
            XCTAssertTrue("\(error)".contains("cells = 7"), "\(error)")
        }
        XCTAssertThrowsError(try CircleGrid(cells: (1 << 20) + 1))
        XCTAssertNoThrow(try CircleGrid(cells: 8))
    }

    func testSpecificationParsing() throws {
        let spec = try CircleGridSpecification.parse(object: ["kind": "circle", "cells": 720], context: "density.grid")
        XCTAssertEqual(spec, CircleGridSpecification(cells: 720))
        XCTAssertEqual(try spec.makeGrid().cells, 720)

        let cases: [([String: Any], String)] = [
            (["cells": 720], "density.grid.kind is missing"),
            (["kind": "gauss-legendre", "cells": 720], "is not a circle grid"),
            (["kind": "circle"], "density.grid.cells is missing"),
            (["kind": "circle", "cells": 7.5], "is not an integer"),
            (["kind": "circle", "cells": true], "is not an integer"),
            (["kind": "circle", "cells": 4], "cells = 4 is out of range"),
            (["kind": "circle", "cells": 1e9], "is out of range"),
            (["kind": "circle", "cells": 64, "nlat": 3], "density.grid.nlat is not a known grid key"),
        ]
        for (object, fragment) in cases {
            XCTAssertThrowsError(try CircleGridSpecification.parse(object: object, context: "density.grid")) { error in
                XCTAssertTrue("\(error)".contains(fragment), "\(object): \(error)")
            }
        }
    }

    func testFourierRoundTripOddAndEven() {
        for length in [9, 16] {
            let transform = CircleFourierTransform(length: length)
            let samples = (0..<length).map { sin(Double($0) * 1.3) + 0.2 * Double($0) }
            let spectrum = transform.forward(samples)
            XCTAssertEqual(spectrum.count, length / 2 + 1)
            XCTAssertEqual(spectrum[0].x, samples.reduce(0, +), accuracy: 1e-12)
            let back = transform.backward(spectrum).map { $0 / Double(length) }
            for k in 0..<length {
                XCTAssertEqual(back[k], samples[k], accuracy: 1e-13, "length \(length), sample \(k)")
            }
        }
    }
}
