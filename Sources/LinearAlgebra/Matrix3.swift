/// A 3×3 real matrix stored row-major, used for the query, key and value
/// matrices of the model on S^2 and for the linear velocity field.
public struct Matrix3: Equatable, Sendable, CustomStringConvertible {
    /// Entries in row-major order: `entries[3 * row + column]`.
    public var entries: [Double]

    public init(rows: [[Double]]) {
        precondition(rows.count == 3 && rows.allSatisfy { $0.count == 3 },
                     "Matrix3 needs 3 rows of 3 entries")
        entries = rows.flatMap { $0 }
    }

    public init(entries: [Double]) {
        precondition(entries.count == 9, "Matrix3 needs 9 entries")
        self.entries = entries
    }

    public static let identity = Matrix3(entries: [1, 0, 0, 0, 1, 0, 0, 0, 1])
    public static let zero = Matrix3(entries: [Double](repeating: 0, count: 9))

    public static func scaledIdentity(_ value: Double) -> Matrix3 {
        Matrix3(entries: [value, 0, 0, 0, value, 0, 0, 0, value])
    }

    public subscript(row: Int, column: Int) -> Double {
        get { entries[3 * row + column] }
        set { entries[3 * row + column] = newValue }
    }

    public var transposed: Matrix3 {
        var result = Matrix3.zero
        for row in 0..<3 {
            for column in 0..<3 {
                result[column, row] = self[row, column]
            }
        }
        return result
    }

    public static func * (lhs: Matrix3, rhs: Matrix3) -> Matrix3 {
        var result = Matrix3.zero
        for row in 0..<3 {
            for column in 0..<3 {
                var sum = 0.0
                for k in 0..<3 { sum += lhs[row, k] * rhs[k, column] }
                result[row, column] = sum
            }
        }
        return result
    }

    /// Matrix-vector product M v.
    public func apply(_ v: SIMD3<Double>) -> SIMD3<Double> {
        SIMD3(entries[0] * v.x + entries[1] * v.y + entries[2] * v.z,
              entries[3] * v.x + entries[4] * v.y + entries[5] * v.z,
              entries[6] * v.x + entries[7] * v.y + entries[8] * v.z)
    }

    /// Returns c when the matrix equals c·I exactly, nil otherwise.
    public var scalarMultipleOfIdentity: Double? {
        let c = entries[0]
        for row in 0..<3 {
            for column in 0..<3 where self[row, column] != (row == column ? c : 0) {
                return nil
            }
        }
        return c
    }

    /// Spectral norm ‖M‖₂ (largest singular value), from the eigenvalues of MᵀM.
    public var spectralNorm: Double {
        let gram = transposed * self
        let eigenvalues = (try? symmetricEigenvalues(of: gram.entries, order: 3)) ?? [0, 0, 0]
        return (eigenvalues.max() ?? 0).squareRoot()
    }

    public var isFinite: Bool { entries.allSatisfy { $0.isFinite } }

    public var description: String {
        (0..<3).map { row in
            "[" + (0..<3).map { String(self[row, $0]) }.joined(separator: ", ") + "]"
        }.joined(separator: ", ")
    }
}
