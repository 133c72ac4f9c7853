import LinearAlgebra

/// Normalization of the attention weights.
public enum Normalization: String, Sendable {
    /// Softmax attention (SA): X = P⊥ N / D, as in a Transformer.
    case softmax
    /// Unnormalized attention (USA): X = P⊥ N.
    case none
}

/// Parameters of one self-attention layer on S^2: the inverse temperature β,
/// the query, key and value matrices and the normalization.
///
/// The continuous model is
///     D(x) = ∫ exp(β ⟨x, A y⟩) ρ(y) dσ(y),
///     N(x) = ∫ exp(β ⟨x, A y⟩) V y ρ(y) dσ(y),
/// with A = Qᵀ K, since ⟨Q x, K y⟩ = ⟨x, A y⟩.
public struct AttentionModel: Sendable {
    public var beta: Double
    public var query: Matrix3
    public var key: Matrix3
    public var value: Matrix3
    public var normalization: Normalization

    /// Throws `KernelError` when β is not a finite positive number or a
    /// matrix has a non-finite entry.
    public init(beta: Double, query: Matrix3 = .identity, key: Matrix3 = .identity,
                value: Matrix3 = .identity, normalization: Normalization) throws {
        try validateAttentionParameters(beta: beta, matrices: [
            ("query", query.isFinite, query.description),
            ("key", key.isFinite, key.description),
            ("value", value.isFinite, value.description),
        ])
        self.beta = beta
        self.query = query
        self.key = key
        self.value = value
        self.normalization = normalization
    }

    /// Interaction matrix A = Qᵀ K.
    public var interaction: Matrix3 { query.transposed * key }

    /// The factor c with V = c·A when A is symmetric, or nil otherwise. Then
    /// ξ = (c/β) D is a potential of the velocity. Entries are compared with
    /// a relative tolerance of 1e−12 of the largest entry of A; for A = 0 the
    /// value matrix must be 0 as well, and c = 0.
    var potentialFactor: Double? {
        let a = interaction
        let v = value
        let scale = a.entries.map { abs($0) }.max() ?? 0
        let tolerance = 1e-12 * scale
        for row in 0..<3 {
            for column in (row + 1)..<3 where abs(a[row, column] - a[column, row]) > tolerance {
                return nil
            }
        }
        if scale == 0 {
            return v.entries.allSatisfy { $0 == 0 } ? 0 : nil
        }
        let largest = a.entries.indices.max { abs(a.entries[$0]) < abs(a.entries[$1]) }!
        let c = v.entries[largest] / a.entries[largest]
        let valueScale = v.entries.map { abs($0) }.max() ?? 0
        for index in 0..<9 where abs(v.entries[index] - c * a.entries[index]) > 1e-12 * valueScale {
            return nil
        }
        return c
    }
}

/// Throws `KernelError` unless β is finite and positive and every matrix,
/// given by name, finiteness and printed entries, is finite.
func validateAttentionParameters(beta: Double, matrices: [(name: String, isFinite: Bool, entries: String)]) throws {
    guard beta.isFinite, beta > 0 else {
        throw KernelError("inverse temperature beta = \(beta) is invalid: use a finite number > 0")
    }
    for matrix in matrices where !matrix.isFinite {
        throw KernelError("\(matrix.name) matrix [\(matrix.entries)] has a non-finite entry: use finite entries")
    }
}
