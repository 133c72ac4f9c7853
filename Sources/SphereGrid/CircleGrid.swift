import Foundation

/// Uniform cells of the unit circle S^1, read both as a quadrature (the
/// midpoint rule) and as a finite-volume mesh.
///
/// Conventions, used by every module that works on the circle:
/// - the angle θ ∈ [0, 2π) is measured from +x toward +y, in radians, and
///   the point of angle θ is x(θ) = (cos θ, sin θ), with unit tangent
///   e_θ = (−sin θ, cos θ);
/// - cell k (k = 0…cells−1) is centred at θ_k = 2πk/cells, the same
///   convention as the longitudes of `SphereGrid`;
/// - its faces sit at θ_k ± π/cells: face k is the one between cell k and
///   cell k + 1 (mod cells), at angle θ_k + π/cells = 2π(k + 1/2)/cells;
/// - every cell has length h = 2π/cells, so the lengths sum to 2π and the
///   mass of a density is Σ ρ_k h.
public struct CircleGrid: Sendable, Equatable {
    public let cells: Int

    /// Smallest number of cells accepted.
    public static let minimumCellCount = 8
    /// Largest number of cells accepted: 2^20.
    public static let maximumCellCount = 1 << 20

    /// Throws `GridError` when `cells` is outside 8…2^20.
    public init(cells: Int) throws {
        guard cells >= CircleGrid.minimumCellCount, cells <= CircleGrid.maximumCellCount else {
            throw GridError("circle grid cells = \(cells) is out of range: use an integer from \(CircleGrid.minimumCellCount) to \(CircleGrid.maximumCellCount)")
        }
        self.cells = cells
    }

    /// Length of every cell, h = 2π/cells.
    public var cellLength: Double { 2 * Double.pi / Double(cells) }

    /// Angle θ_k = 2πk/cells of the centre of cell k.
    public func angle(cell k: Int) -> Double { Double(k) * cellLength }

    /// Angle 2π(k + 1/2)/cells of face k, between cell k and cell k + 1 (mod cells).
    public func faceAngle(face k: Int) -> Double { (Double(k) + 0.5) * cellLength }

    /// Point (cos θ_k, sin θ_k) of the centre of cell k.
    public func point(cell k: Int) -> SIMD2<Double> {
        let theta = angle(cell: k)
        return SIMD2(cos(theta), sin(theta))
    }

    /// Angles of all cell centres.
    public func angles() -> [Double] { (0..<cells).map { angle(cell: $0) } }

    /// Points of all cell centres.
    public func cellCentres() -> [SIMD2<Double>] { (0..<cells).map { point(cell: $0) } }

    /// Lengths of all cells (all equal to `cellLength`).
    public func cellLengths() -> [Double] { [Double](repeating: cellLength, count: cells) }

    /// ∫ f dθ ≈ Σ f_k h, the midpoint rule, which equals the finite-volume
    /// mass and is exact for trigonometric polynomials of degree below `cells`.
    public func integrate(_ field: [Double]) -> Double {
        precondition(field.count == cells, "field has \(field.count) values, the circle grid has \(cells) cells")
        var total = 0.0
        for value in field { total += value }
        return total * cellLength
    }
}

/// Circle grid named by a config: `{ "kind": "circle", "cells": 720 }`.
public struct CircleGridSpecification: Equatable, Sendable {
    public let cells: Int

    public init(cells: Int) { self.cells = cells }

    /// Reads an inline grid object. `context` names the config key in errors.
    public static func parse(object: [String: Any], context: String) throws -> CircleGridSpecification {
        let range = "from \(CircleGrid.minimumCellCount) to \(CircleGrid.maximumCellCount)"
        guard let kind = object["kind"] as? String else {
            throw GridError("\(context).kind is missing: set it to \"circle\"")
        }
        guard kind == "circle" else {
            throw GridError("\(context).kind = \"\(kind)\" is not a circle grid: use \"circle\"")
        }
        guard let raw = object["cells"] else {
            throw GridError("\(context).cells is missing: give the number of cells, an integer \(range)")
        }
        guard !isJSONBoolean(raw), let number = raw as? NSNumber,
              number.doubleValue.isFinite,
              number.doubleValue.rounded() == number.doubleValue else {
            throw GridError("\(context).cells = \(raw) is not an integer: give the number of cells, \(range)")
        }
        let value = number.doubleValue
        guard value >= Double(CircleGrid.minimumCellCount), value <= Double(CircleGrid.maximumCellCount) else {
            throw GridError("\(context).cells = \(number) is out of range: use an integer \(range)")
        }
        let unknown = Set(object.keys).subtracting(["kind", "cells", "description"])
        if let key = unknown.sorted().first {
            throw GridError("\(context).\(key) is not a known grid key: a circle grid takes \"kind\" and \"cells\"")
        }
        return CircleGridSpecification(cells: number.intValue)
    }

    public func makeGrid() throws -> CircleGrid { try CircleGrid(cells: cells) }
}
