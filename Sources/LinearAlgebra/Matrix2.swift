/// A 2×2 real matrix stored row-major, used for the query, key and value
/// matrices of the model on the circle S^1 and for linear velocity fields
/// there.
public struct Matrix2: Equatable, Sendable, CustomStringConvertible {
    /// Entries in row-major order: `entries[2 * row + column]`.
    public var entries: [Double]

    public init(rows: [[Double]]) {
        precondition(rows.count == 2 && rows.allSatisfy { $0.count == 2 },
                     "Matrix2 needs 2 rows of 2 entries")
        entries = rows.flatMap { $0 }
    }

    public init(entries: [Double]) {
        precondition(entries.count == 4, "Matrix2 needs 4 entries")
        self.entries = entries
    }

    public static let identity = Matrix2(entries: [1, 0, 0, 1])
    public static let zero = Matrix2(entries: [0, 0, 0, 0])

    public static func scaledIdentity(_ value: Double) -> Matrix2 {
        Matrix2(entries: [value, 0, 0, value])
    }

    /// The rotation generator ω J with J = [[0, −1], [1, 0]]: the field
    /// J x = (−y, x) is the unit-speed rotation of the circle.
    public static func rotationGenerator(_ omega: Double) -> Matrix2 {
        Matrix2(entries: [0, -omega, omega, 0])
    }

    public subscript(row: Int, column: Int) -> Double {
        get { entries[2 * row + column] }
        set { entries[2 * row + column] = newValue }
    }

    public var transposed: Matrix2 {
        Matrix2(entries: [entries[0], entries[2], entries[1], entries[3]])
    }

    public static func * (lhs: Matrix2, rhs: Matrix2) -> Matrix2 {
        var result = Matrix2.zero
        for row in 0..<2 {
            for column in 0..<2 {
                result[row, column] = lhs[row, 0] * rhs[0, column] + lhs[row, 1] * rhs[1, column]
            }
        }
        return result
    }

    /// Matrix-vector product M v.
    public func apply(_ v: SIMD2<Double>) -> SIMD2<Double> {
        SIMD2(entries[0] * v.x + entries[1] * v.y, entries[2] * v.x + entries[3] * v.y)
    }

    /// Returns c when the matrix equals c·I exactly, nil otherwise.
    public var scalarMultipleOfIdentity: Double? {
        entries[1] == 0 && entries[2] == 0 && entries[0] == entries[3] ? entries[0] : nil
    }

    /// Spectral norm ‖M‖₂ (largest singular value). With s = ‖M‖_F² and
    /// d = det M, the squared singular values are (s ± √(s² − 4d²))/2.
    public var spectralNorm: Double {
        let s = entries.reduce(0) { $0 + $1 * $1 }
        let d = entries[0] * entries[3] - entries[1] * entries[2]
        let root = max(s * s - 4 * d * d, 0).squareRoot()
        return ((s + root) / 2).squareRoot()
    }

    public var isFinite: Bool { entries.allSatisfy { $0.isFinite } }

    public var description: String {
        "[\(entries[0]), \(entries[1])], [\(entries[2]), \(entries[3])]"
    }
}
