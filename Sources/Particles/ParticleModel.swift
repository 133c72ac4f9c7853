import Foundation
import LinearAlgebra

/// Normalization of the attention weights of one token.
public enum Normalization: String, Sendable, CaseIterable {
    /// SA: Z_i = Σ_j exp(β⟨x_i, A x_j⟩), as in a Transformer.
    case softmax
    /// USA: Z_i = n.
    case unnormalized
}

/// Recipe for one of the d×d matrices Q, K, V.
public enum MatrixSource: Sendable, Equatable {
    case identity
    /// Row-major entries, d² of them.
    case explicit([Double])
    /// Entries i.i.d. N(0, 1/d), drawn row by row from `SeededGenerator(seed:)`
    /// (SplitMix64 and Box–Muller), so a seed gives the same matrix everywhere.
    case random(seed: UInt64)

    /// Builds the row-major d×d matrix, or throws for a wrong entry count or
    /// non-finite entries.
    public func matrix(dimension d: Int, name: String) throws -> [Double] {
        switch self {
        case .identity:
            var result = [Double](repeating: 0, count: d * d)
            for k in 0..<d { result[k * d + k] = 1 }
            return result
        case let .explicit(entries):
            guard entries.count == d * d else {
                throw ParticleError.invalidParameter(
                    name: "\(name) entry count", value: "\(entries.count)",
                    expected: "\(d * d) row-major entries for a \(d)×\(d) matrix")
            }
            guard entries.allSatisfy({ $0.isFinite }) else {
                throw ParticleError.invalidParameter(
                    name: name, value: "\(entries)", expected: "finite entries")
            }
            return entries
        case let .random(seed):
            var generator = SeededGenerator(seed: seed)
            let scale = 1 / Double(d).squareRoot()
            return (0..<(d * d)).map { _ in generator.nextNormal() * scale }
        }
    }
}

/// Evaluation method of the attention row sums.
public enum AttentionMethod: String, Sendable, Equatable, CaseIterable {
    /// Fused rows for d ≤ `fusedDimensionLimit`, BLAS blocks above.
    case automatic
    /// Scores, exponentials and weighted sums in one vectorized C kernel per
    /// group of four rows, holding four rows of weights per worker.
    case fusedRows
    /// Score blocks and weighted sums by dgemm, exponentials in between.
    case blasBlocks

    /// Largest dimension d for which `automatic` picks `fusedRows`. On a
    /// 2-core AVX-512 machine (`meanfield-bench --only particles`, two runs)
    /// the fused kernel was 0.95–1.5× as fast as dgemm blocks from d = 16 to
    /// 128 at n = 4000, but 4% slower at n = 16000, d = 64, where the
    /// component rows of K X and V X (8 MB each) no longer fit the cache, and
    /// dgemm was 1.5 to 3 times as fast at d = 256.
    public static let fusedDimensionLimit = 64
}

/// Tuning of the attention evaluation. Results do not depend on it beyond
/// round-off.
public struct EvaluationOptions: Sendable, Equatable {
    /// Maximum number of target rows per block, the unit of work of one
    /// worker. With `blasBlocks` each worker holds one block of
    /// `blockRows × n` scores; `fusedRows` holds four rows of n.
    public var blockRows: Int
    /// Upper bound on doubles in one worker's score block of `blasBlocks`.
    /// Large n shrinks the block below `blockRows` to respect it.
    public var maximumBlockEntries: Int
    /// Number of blocks processed concurrently, each with single-threaded
    /// BLAS. With 1, blocks run in turn and BLAS keeps its own thread count.
    public var workerCount: Int
    /// Evaluation method.
    public var method: AttentionMethod

    /// Defaults: 64 rows, 2^18 doubles (2 MiB) per score block, one worker
    /// per active processor, automatic method.
    public init(blockRows: Int = 64, maximumBlockEntries: Int = 1 << 18,
                workerCount: Int = ProcessInfo.processInfo.activeProcessorCount,
                method: AttentionMethod = .automatic) {
        self.blockRows = blockRows
        self.maximumBlockEntries = maximumBlockEntries
        self.workerCount = workerCount
        self.method = method
    }
}

/// Self-attention on S^{d−1} as an interacting particle system: dimension d,
/// inverse temperature β, query, key and value matrices Q, K, V (row-major
/// d×d) and the normalization of the attention weights.
///
/// Scores are ⟨Q x_i, K x_j⟩ = ⟨x_i, A x_j⟩ with A = Qᵀ K. The velocity of
/// token i is X_i = P⊥(x_i) (1/Z_i) Σ_j exp(β⟨x_i, A x_j⟩) V x_j with
/// P⊥(x) = I − x xᵀ, and Z_i is the row sum (softmax) or n (unnormalized).
public struct ParticleModel: Sendable {
    public let dimension: Int
    public let beta: Double
    public let query: [Double]
    public let key: [Double]
    public let value: [Double]
    public let normalization: Normalization
    public var evaluation: EvaluationOptions

    /// Throws `ParticleError.invalidParameter` for d < 2, β not finite and
    /// positive, or a matrix with the wrong size or non-finite entries.
    public init(dimension: Int, beta: Double,
                query: MatrixSource = .identity, key: MatrixSource = .identity,
                value: MatrixSource = .identity,
                normalization: Normalization = .softmax,
                evaluation: EvaluationOptions = EvaluationOptions()) throws {
        guard dimension >= 2 else {
            throw ParticleError.invalidParameter(
                name: "dimension", value: "\(dimension)", expected: "an integer d ≥ 2")
        }
        guard beta.isFinite, beta > 0 else {
            throw ParticleError.invalidParameter(
                name: "beta", value: "\(beta)", expected: "a finite number > 0")
        }
        guard evaluation.blockRows >= 1, evaluation.maximumBlockEntries >= 1,
              evaluation.workerCount >= 1 else {
            throw ParticleError.invalidParameter(
                name: "evaluation options", value: "\(evaluation)",
                expected: "blockRows, maximumBlockEntries and workerCount ≥ 1")
        }
        self.dimension = dimension
        self.beta = beta
        self.query = try query.matrix(dimension: dimension, name: "query matrix Q")
        self.key = try key.matrix(dimension: dimension, name: "key matrix K")
        self.value = try value.matrix(dimension: dimension, name: "value matrix V")
        self.normalization = normalization
        self.evaluation = evaluation
    }

    /// A = Qᵀ K, row-major.
    public var interaction: [Double] {
        let d = dimension
        var result = [Double](repeating: 0, count: d * d)
        query.withUnsafeBufferPointer { q in
            key.withUnsafeBufferPointer { k in
                result.withUnsafeMutableBufferPointer { a in
                    matrixMultiply(q.baseAddress!, transposeA: true, leadingA: d,
                                   k.baseAddress!, leadingB: d,
                                   into: a.baseAddress!, leadingC: d, m: d, n: d, k: d)
                }
            }
        }
        return result
    }

    func checkDimension(of tokens: Tokens) throws {
        guard tokens.dimension == dimension else {
            throw ParticleError.invalidParameter(
                name: "token dimension", value: "\(tokens.dimension)",
                expected: "the model dimension \(dimension)")
        }
    }
}
