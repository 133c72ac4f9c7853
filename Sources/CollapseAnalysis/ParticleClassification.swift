import Foundation
import LinearAlgebra

/// Classifies n particles on S^{d−1} (positions row-major, n×d, each of
/// equal mass 1/n) at time `time`.
///
/// Particles whose directions lie within `linkAngle` of each other are
/// linked, and linked particles form one group (single linkage, merged with
/// union–find). Dot products are formed a block of 256 rows at a time by
/// BLAS, so memory is O(256·n) while time is O(n²·d). A group is a cluster
/// when it contains at least `minimumMassFraction` of the particles, its
/// resultant length reaches `minimumResultantLength`, and its mass fraction
/// is at least `particleDensityContrast` times the area fraction of the cap
/// around its centre that contains it. The last test rejects chance chains in
/// a uniform sample, which single linkage otherwise joins into large groups
/// as n grows. Rows are normalized before use.
///
/// Throws `AnalysisError` for a wrong size, a non-finite or zero row, and
/// `LinearAlgebraError` when LAPACK fails.
public func classifyParticles(positions: [Double], count n: Int, dimension d: Int, time: Double,
                              criteria: ClusterCriteria = ClusterCriteria()) throws -> FinalState {
    guard n >= 1, d >= 2 else {
        throw AnalysisError("particle set with n = \(n), d = \(d) is invalid: use n >= 1 and d >= 2")
    }
    guard positions.count == n * d else {
        throw AnalysisError("positions have \(positions.count) values but n·d = \(n * d): pass n×d values row-major")
    }
    var unit = positions
    for row in 0..<n {
        let slice = unit[(row * d)..<((row + 1) * d)]
        let norm = slice.reduce(0) { $0 + $1 * $1 }.squareRoot()
        guard norm.isFinite, norm > 0 else {
            throw AnalysisError("particle \(row) has position of norm \(norm): pass finite non-zero positions")
        }
        for column in 0..<d { unit[row * d + column] /= norm }
    }

    // Moments: Σ x and Xᵀ X.
    var weightedSum = [Double](repeating: 0, count: d)
    for row in 0..<n {
        for column in 0..<d { weightedSum[column] += unit[row * d + column] }
    }
    var outer = [Double](repeating: 0, count: d * d)
    unit.withUnsafeBufferPointer { x in
        outer.withUnsafeMutableBufferPointer { c in
            matrixMultiply(x.baseAddress!, transposeA: true, leadingA: d,
                           x.baseAddress!, leadingB: d,
                           into: c.baseAddress!, leadingC: d, m: d, n: d, k: n)
        }
    }
    let moments = try MomentSummary(weightedSum: weightedSum, weightedOuterSum: outer,
                                    totalWeight: Double(n))

    let sets = linkParticles(unit, count: n, dimension: d, linkAngle: criteria.linkAngle)
    var groups = [Int: GroupAccumulator]()
    var mutableSets = sets
    for row in 0..<n {
        let root = mutableSets.find(row)
        var group = groups[root] ?? GroupAccumulator(dimension: d)
        group.mass += 1
        for column in 0..<d { group.directionSum[column] += unit[row * d + column] }
        group.members.append(row)
        groups[root] = group
    }

    var clusters = [Cluster]()
    var extendedRegionCount = 0
    for group in groups.values where group.mass >= criteria.minimumMassFraction * Double(n) {
        let centre = group.centre
        var smallestCosine = 1.0
        for row in group.members {
            var dot = 0.0
            for column in 0..<d { dot += unit[row * d + column] * centre[column] }
            smallestCosine = min(smallestCosine, dot)
        }
        let radius = max(acos(max(-1, min(1, smallestCosine))), criteria.linkAngle)
        let massFraction = group.mass / Double(n)
        let isCompact = group.resultantLength >= criteria.minimumResultantLength
        let isDense = massFraction >= criteria.particleDensityContrast * capAreaFraction(radius: radius, dimension: d)
        if isCompact && isDense {
            clusters.append(Cluster(mass: massFraction, centre: centre,
                                    resultantLength: group.resultantLength, coreMass: massFraction))
        } else {
            extendedRegionCount += 1
        }
    }
    return FinalState(time: time, clusters: clusters, moments: moments,
                      extendedRegionCount: extendedRegionCount, criteria: criteria)
}

/// Single-linkage sets: i and j are joined when ⟨x_i, x_j⟩ ≥ cos(linkAngle).
private func linkParticles(_ unit: [Double], count n: Int, dimension d: Int, linkAngle: Double) -> UnionFind {
    var sets = UnionFind(count: n)
    let cosine = cos(linkAngle)
    let blockSize = 256
    var products = [Double](repeating: 0, count: blockSize * n)
    unit.withUnsafeBufferPointer { x in
        var blockStart = 0
        while blockStart < n {
            let rows = min(blockSize, n - blockStart)
            // Only columns j ≥ blockStart are needed: earlier pairs were seen.
            let columns = n - blockStart
            products.withUnsafeMutableBufferPointer { c in
                matrixMultiply(x.baseAddress! + blockStart * d, leadingA: d,
                               x.baseAddress! + blockStart * d, transposeB: true, leadingB: d,
                               into: c.baseAddress!, leadingC: columns,
                               m: rows, n: columns, k: d)
            }
            for row in 0..<rows {
                let base = row * columns
                for column in (row + 1)..<columns where products[base + column] >= cosine {
                    sets.union(blockStart + row, blockStart + column)
                }
            }
            blockStart += rows
        }
    }
    return sets
}

/// Fraction of the area of S^{d−1} inside a cap of angular radius r:
/// ∫_0^r sin^{d−2}θ dθ / ∫_0^π sin^{d−2}θ dθ, by Simpson's rule with 2048
/// intervals on each integral (closed forms r/π for d = 2 and
/// (1 − cos r)/2 for d = 3).
func capAreaFraction(radius r: Double, dimension d: Int) -> Double {
    if r >= Double.pi { return 1 }
    if r <= 0 { return 0 }
    switch d {
    case 2: return r / Double.pi
    case 3: return (1 - cos(r)) / 2
    default: break
    }
    func simpson(_ upper: Double) -> Double {
        let intervals = 2048
        let h = upper / Double(intervals)
        var sum = 0.0
        for index in 0...intervals {
            let weight: Double = index == 0 || index == intervals ? 1 : (index % 2 == 1 ? 4 : 2)
            sum += weight * pow(sin(Double(index) * h), Double(d - 2))
        }
        return sum * h / 3
    }
    return simpson(r) / simpson(Double.pi)
}
