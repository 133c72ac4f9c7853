import Foundation

/// Effective rank exp(−Σ_k p_k log p_k) of a positive semidefinite spectrum,
/// with p_k = λ_k / Σ λ. Negative round-off eigenvalues count as 0 and
/// 0 log 0 = 0. For a second-moment matrix of unit vectors it is 1 when all
/// points lie on one line, 2 on a great circle and d for a spread state.
/// An all-zero spectrum gives 0.
public func effectiveRank(eigenvalues: [Double]) -> Double {
    let clipped = eigenvalues.map { max($0, 0) }
    let total = clipped.reduce(0, +)
    guard total > 0 else { return 0 }
    var entropy = 0.0
    for value in clipped where value > 0 {
        let p = value / total
        entropy -= p * log(p)
    }
    return exp(entropy)
}
