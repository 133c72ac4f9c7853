import Foundation
import SphereGrid

/// Classifies a density on S^2 given per cell of `grid` (flat index
/// j·nlon + k) at time `time`.
///
/// Dense cells have ρ > `densityThresholdFactor` × M/(4π), with M = ∫ρ dσ,
/// i.e. that multiple of the uniform density of the same mass. Dense cells
/// that share an edge or a corner are connected (8 neighbours), longitude
/// is periodic, and the cells of the first (last) ring all touch at the
/// north (south) pole, so dense cells there are connected across it. A
/// connected region is a cluster core when it contains at least
/// `minimumMassFraction` of M and its resultant length reaches
/// `minimumResultantLength`. A band around a great circle fails the second
/// test and counts as an extended region instead. A cluster's mass is that
/// of the cells with ρ > `clusterSupportFactor` × M/(4π) whose nearest core
/// centre is its own, so nearby clusters split their shared flanks by
/// direction. Negative values, which a
/// spectral scheme can leave near the round-off level, are treated as 0.
///
/// Throws `AnalysisError` when the density has the wrong size, a
/// non-finite value or no positive mass.
public func classifyDensity(_ density: [Double], on grid: SphereGrid, time: Double,
                            criteria: ClusterCriteria = ClusterCriteria()) throws -> FinalState {
    guard density.count == grid.cellCount else {
        throw AnalysisError("density has \(density.count) values but the grid with nlat = \(grid.nlat) has \(grid.cellCount) cells")
    }
    guard density.allSatisfy({ $0.isFinite }) else {
        throw AnalysisError("density has a non-finite value: pass a finite density")
    }
    let centres = grid.cellCentres()
    let areas = grid.cellAreas()
    let masses = zip(density, areas).map { max($0.0, 0) * $0.1 }
    let totalMass = masses.reduce(0, +)
    guard totalMass > 0 else {
        throw AnalysisError("density has no positive mass: pass a density with ∫ρ dσ > 0")
    }

    let moments = try MomentSummary(points: centres.map { [$0.x, $0.y, $0.z] }, masses: masses, totalWeight: totalMass)

    // Dense cells and their connected regions.
    let threshold = criteria.densityThresholdFactor * totalMass / (4 * Double.pi)
    let isDense = density.map { $0 > threshold }
    let nlat = grid.nlat
    let nlon = grid.nlon
    var sets = UnionFind(count: grid.cellCount)
    for j in 0..<nlat {
        for k in 0..<nlon where isDense[j * nlon + k] {
            let cell = j * nlon + k
            // Right neighbour in the same ring, then the three below; the
            // other four neighbours link to this cell from their side.
            let right = j * nlon + (k + 1) % nlon
            if isDense[right] { sets.union(cell, right) }
            guard j + 1 < nlat else { continue }
            for offset in -1...1 {
                let below = (j + 1) * nlon + (k + offset + nlon) % nlon
                if isDense[below] { sets.union(cell, below) }
            }
        }
    }
    for ring in Set([0, nlat - 1]) {
        let denseCells = (0..<nlon).map { ring * nlon + $0 }.filter { isDense[$0] }
        for cell in denseCells.dropFirst() { sets.union(denseCells[0], cell) }
    }

    var groups = [Int: GroupAccumulator]()
    for cell in 0..<grid.cellCount where isDense[cell] {
        let root = sets.find(cell)
        var group = groups[root] ?? GroupAccumulator(dimension: 3)
        let x = centres[cell]
        group.mass += masses[cell]
        group.directionSum[0] += masses[cell] * x.x
        group.directionSum[1] += masses[cell] * x.y
        group.directionSum[2] += masses[cell] * x.z
        groups[root] = group
    }

    let supportThreshold = criteria.clusterSupportFactor * totalMass / (4 * Double.pi)
    let support = (0..<grid.cellCount).filter { density[$0] > supportThreshold }.map { cell in
        (point: [centres[cell].x, centres[cell].y, centres[cell].z], mass: masses[cell])
    }
    let (clusters, extendedRegionCount) = assembleClusters(groups: Array(groups.values), support: support,
                                                           totalMass: totalMass, criteria: criteria)
    return FinalState(time: time, clusters: clusters, moments: moments,
                      extendedRegionCount: extendedRegionCount, criteria: criteria)
}

/// Splits the dense groups of a density into cluster cores and extended
/// regions, then gives each cluster the mass of the `support` cells (those
/// above the support level) whose nearest core centre is its own.
func assembleClusters(groups: [GroupAccumulator], support: [(point: [Double], mass: Double)],
                      totalMass: Double, criteria: ClusterCriteria) -> (clusters: [Cluster], extendedRegionCount: Int) {
    var cores = [GroupAccumulator]()
    var extendedRegionCount = 0
    for group in groups where group.mass >= criteria.minimumMassFraction * totalMass {
        if group.resultantLength >= criteria.minimumResultantLength {
            cores.append(group)
        } else {
            extendedRegionCount += 1
        }
    }

    // A core above the threshold misses the flanks of its bump (70% of a
    // κ = 50 bump of mass 1/3 lies above 10× uniform), so each cluster's mass
    // also counts the cells above the uniform density whose nearest core
    // centre is its own.
    let coreCentres = cores.map { $0.centre }
    var clusterMasses = [Double](repeating: 0, count: cores.count)
    if !cores.isEmpty {
        for cell in support {
            var nearest = 0
            var largestDot = -Double.infinity
            for (index, centre) in coreCentres.enumerated() {
                let dot = zip(centre, cell.point).reduce(0) { $0 + $1.0 * $1.1 }
                if dot > largestDot {
                    largestDot = dot
                    nearest = index
                }
            }
            clusterMasses[nearest] += cell.mass
        }
    }
    let clusters = cores.indices.map { index in
        Cluster(mass: clusterMasses[index] / totalMass, centre: cores[index].centre,
                resultantLength: cores[index].resultantLength,
                coreMass: cores[index].mass / totalMass)
    }
    return (clusters, extendedRegionCount)
}
