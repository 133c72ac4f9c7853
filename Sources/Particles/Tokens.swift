/// Positions of n tokens on the unit sphere S^{d−1} ⊂ R^d, stored row-major:
/// token i occupies `positions[i * dimension ..< (i + 1) * dimension]`.
public struct Tokens: Sendable, Equatable {
    public let dimension: Int
    public internal(set) var positions: [Double]

    public var count: Int { positions.count / dimension }

    /// Builds tokens from row-major coordinates and scales every row to unit
    /// length. Throws for d < 2, a length that is not a multiple of d, no
    /// rows, non-finite entries or zero rows.
    public init(dimension: Int, positions: [Double]) throws {
        guard dimension >= 2 else {
            throw ParticleError.invalidParameter(
                name: "dimension", value: "\(dimension)", expected: "an integer d ≥ 2")
        }
        guard !positions.isEmpty, positions.count % dimension == 0 else {
            throw ParticleError.invalidParameter(
                name: "positions.count", value: "\(positions.count)",
                expected: "a positive multiple of the dimension \(dimension)")
        }
        var normalized = positions
        for row in 0..<(positions.count / dimension) {
            let range = row * dimension ..< (row + 1) * dimension
            guard positions[range].allSatisfy({ $0.isFinite }) else {
                throw ParticleError.invalidParameter(
                    name: "token \(row)", value: "\(Array(positions[range]))",
                    expected: "finite coordinates")
            }
            let norm = positions[range].reduce(0) { $0 + $1 * $1 }.squareRoot()
            guard norm > 0 else {
                throw ParticleError.invalidParameter(
                    name: "token \(row)", value: "the zero vector",
                    expected: "a nonzero vector (it is scaled to unit length)")
            }
            for index in range { normalized[index] = positions[index] / norm }
        }
        self.dimension = dimension
        self.positions = normalized
    }

    /// Wraps rows that the caller has already normalized, without checks.
    init(unchecked positions: [Double], dimension: Int) {
        self.dimension = dimension
        self.positions = positions
    }

    /// Coordinates of token `index`.
    public subscript(index: Int) -> [Double] {
        Array(positions[index * dimension ..< (index + 1) * dimension])
    }

    public var isFinite: Bool { positions.allSatisfy { $0.isFinite } }
}

/// Scales each d-dimensional row of `values` to unit length in place. A zero
/// row stays zero, and non-finite rows stay non-finite.
func normalizeRows(_ values: inout [Double], dimension: Int) {
    let rows = values.count / dimension
    values.withUnsafeMutableBufferPointer { buffer in
        for row in 0..<rows {
            let base = row * dimension
            var squared = 0.0
            for k in 0..<dimension { squared += buffer[base + k] * buffer[base + k] }
            guard squared > 0 else { continue }
            let scale = 1 / squared.squareRoot()
            for k in 0..<dimension { buffer[base + k] *= scale }
        }
    }
}
