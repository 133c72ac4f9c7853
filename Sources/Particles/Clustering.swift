import Foundation
import LinearAlgebra

/// A group of tokens joined by chains of pairs closer than a given angle.
public struct TokenCluster: Sendable, Equatable {
    /// Token indices, ascending.
    public let members: [Int]
    /// Normalized mean of the members (the first member if the mean is 0).
    public let centre: [Double]

    public var size: Int { members.count }
}

extension Tokens {
    /// Default clustering angle in radians. It is far below the spacing of
    /// n tokens spread uniformly on S^2, about √(4π/n) (0.25 rad for
    /// n = 200), and far above the spread of a cluster that softmax attention
    /// with V = I has merged.
    public static let defaultClusterAngle = 0.05

    /// Groups the tokens by single linkage: i and j share a cluster when a
    /// chain of tokens joins them with each consecutive angle ≤ `angle`
    /// (radians, in (0, π]). Pairs are found from blocked Gram products
    /// X_block Xᵀ (dgemm, `blockRows` rows at a time, so memory is
    /// O(n · blockRows)), checked again from |x_i − x_j| so that small
    /// angles are resolved, and merged by union–find. Clusters are sorted by
    /// size, largest first, ties by smallest member.
    public func clusters(withinAngle angle: Double = Tokens.defaultClusterAngle,
                         blockRows: Int = 256) throws -> [TokenCluster] {
        guard angle.isFinite, angle > 0, angle <= .pi else {
            throw ParticleError.invalidParameter(name: "cluster angle", value: "\(angle)",
                                                 expected: "an angle in (0, π] radians")
        }
        guard blockRows >= 1 else {
            throw ParticleError.invalidParameter(name: "blockRows", value: "\(blockRows)",
                                                 expected: "an integer ≥ 1")
        }
        let n = count
        let d = dimension
        // Chord length 2 sin(θ/2) is the distance between unit vectors at angle θ.
        let chordLimit = 2 * sin(angle / 2)
        // Gram screen with a margin that covers the round-off of 1 − ⟨x, y⟩.
        let gramThreshold = cos(angle) - 1e-12
        var parent = Array(0..<n)

        func root(_ i: Int) -> Int {
            var node = i
            while parent[node] != node {
                parent[node] = parent[parent[node]]
                node = parent[node]
            }
            return node
        }

        let rows = min(blockRows, n)
        var gram = [Double](repeating: 0, count: rows * n)
        for firstRow in stride(from: 0, to: n, by: rows) {
            let blockCount = min(rows, n - firstRow)
            positions.withUnsafeBufferPointer { x in
                gram.withUnsafeMutableBufferPointer { g in
                    matrixMultiply(x.baseAddress! + firstRow * d, leadingA: d,
                                   x.baseAddress!, transposeB: true, leadingB: d,
                                   into: g.baseAddress!, leadingC: n, m: blockCount, n: n, k: d)
                }
            }
            for local in 0..<blockCount {
                let i = firstRow + local
                for j in (i + 1)..<max(i + 1, n) where gram[local * n + j] >= gramThreshold {
                    let rootI = root(i)
                    let rootJ = root(j)
                    if rootI == rootJ { continue }
                    var squared = 0.0
                    for k in 0..<d {
                        let difference = positions[i * d + k] - positions[j * d + k]
                        squared += difference * difference
                    }
                    if squared.squareRoot() <= chordLimit {
                        parent[max(rootI, rootJ)] = min(rootI, rootJ)
                    }
                }
            }
        }

        var membersByRoot: [Int: [Int]] = [:]
        for i in 0..<n { membersByRoot[root(i), default: []].append(i) }
        let clusters = membersByRoot.values.map { members -> TokenCluster in
            var mean = [Double](repeating: 0, count: d)
            for i in members {
                for k in 0..<d { mean[k] += positions[i * d + k] }
            }
            let norm = mean.reduce(0) { $0 + $1 * $1 }.squareRoot()
            let centre = norm > 0 ? mean.map { $0 / norm } : self[members[0]]
            return TokenCluster(members: members, centre: centre)
        }
        return clusters.sorted {
            $0.size != $1.size ? $0.size > $1.size : $0.members[0] < $1.members[0]
        }
    }
}
