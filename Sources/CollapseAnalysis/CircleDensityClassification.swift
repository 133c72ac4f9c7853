import Foundation
import SphereGrid

/// Classifies a density on S^1 given per cell of `grid` (cell k centred at
/// θ_k = 2πk/cells) at time `time`, with the thresholds of `classifyDensity`
/// on S^2.
///
/// Dense cells have ρ > `densityThresholdFactor` × M/(2π), with M = Σ ρ_k h,
/// that multiple of the uniform density of the same mass. Neighbouring dense
/// cells form one arc, and the cells k = cells − 1 and 0 are neighbours. An
/// arc is a cluster core when it contains at least `minimumMassFraction` of
/// M and its resultant length reaches `minimumResultantLength`, which rejects
/// uniform arcs longer than about 2.26 radians (sin(r)/r = 0.8 at half-width
/// r = 1.13). With the default factor 10 the dense cells cover at most a
/// tenth of the circle, so with the default criteria every dense arc passes
/// that test. A cluster's mass is that of the cells
/// with ρ > `clusterSupportFactor` × M/(2π) whose nearest core centre is its
/// own. Two clusters form an antipodal pair when their centre angles differ
/// by at least `antipodalAngle`. Without clusters the second moment decides:
/// on S^1 the whole circle is the great circle, so a density spread over it
/// is reported as great-circle, as the particle classifier does for d = 2.
/// Negative values are treated as 0.
///
/// Throws `AnalysisError` when the density has the wrong size, a
/// non-finite value or no positive mass.
public func classifyCircleDensity(_ density: [Double], on grid: CircleGrid, time: Double,
                                  criteria: ClusterCriteria = ClusterCriteria()) throws -> FinalState {
    guard density.count == grid.cells else {
        throw AnalysisError("density has \(density.count) values but the circle grid has \(grid.cells) cells")
    }
    guard density.allSatisfy({ $0.isFinite }) else {
        throw AnalysisError("density has a non-finite value: pass a finite density")
    }
    let n = grid.cells
    let centres = grid.cellCentres()
    let masses = density.map { max($0, 0) * grid.cellLength }
    let totalMass = masses.reduce(0, +)
    guard totalMass > 0 else {
        throw AnalysisError("density has no positive mass: pass a density with Σ ρ_k h > 0")
    }

    let moments = try MomentSummary(points: centres.map { [$0.x, $0.y] }, masses: masses, totalWeight: totalMass)

    let uniform = totalMass / (2 * Double.pi)
    let isDense = density.map { $0 > criteria.densityThresholdFactor * uniform }
    var sets = UnionFind(count: n)
    for k in 0..<n where isDense[k] && isDense[(k + 1) % n] {
        sets.union(k, (k + 1) % n)
    }
    var groups = [Int: GroupAccumulator]()
    for k in 0..<n where isDense[k] {
        let root = sets.find(k)
        var group = groups[root] ?? GroupAccumulator(dimension: 2)
        group.mass += masses[k]
        group.directionSum[0] += masses[k] * centres[k].x
        group.directionSum[1] += masses[k] * centres[k].y
        groups[root] = group
    }

    let support = (0..<n).filter { density[$0] > criteria.clusterSupportFactor * uniform }.map { k in
        (point: [centres[k].x, centres[k].y], mass: masses[k])
    }
    let (clusters, extendedRegionCount) = assembleClusters(groups: Array(groups.values), support: support,
                                                           totalMass: totalMass, criteria: criteria)
    return FinalState(time: time, clusters: clusters, moments: moments,
                      extendedRegionCount: extendedRegionCount, criteria: criteria)
}
