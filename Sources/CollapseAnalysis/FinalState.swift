import Foundation
import LinearAlgebra

/// Shape of a state at a stated time.
public enum FinalStateClass: String, Sendable {
    /// Exactly one cluster was detected.
    case singleCluster = "single-cluster"
    /// Two clusters whose centres are nearly antipodal.
    case antipodalPair = "antipodal-pair"
    /// Two clusters that are not antipodal, or three or more.
    case kClusters = "k-clusters"
    /// No clusters, and the second moment is concentrated on a plane.
    case greatCircle = "great-circle"
    /// No clusters and no plane.
    case spread
}

/// One detected cluster: its share of the total mass and its centre, the
/// normalized mass-weighted mean direction of its core.
public struct Cluster: Sendable, Equatable {
    /// Fraction of the total mass. For particles, the linked group; for a
    /// density, the cells above the support level nearest to this centre.
    public let mass: Double
    public let centre: [Double]
    /// |Σ m_i x_i| / Σ m_i over the core, in [0, 1]: 1 for a point, about
    /// 1 − 1/κ for a whole von Mises–Fisher bump on S^2 with concentration κ.
    public let resultantLength: Double
    /// Fraction of the total mass in the core: the dense cells of a density,
    /// or the whole linked group of particles.
    public let coreMass: Double
}

/// First and second moments of a probability measure μ on S^{d−1}.
///
/// m = ∫ x dμ, with |m| ≈ 1 for one cluster. Σ = ∫ x xᵀ dμ has trace 1;
/// with p_k its eigenvalues, the effective rank exp(−Σ p_k log p_k) is 1
/// when all mass lies on one line (one cluster or an antipodal pair), 2 on a
/// great circle and d when spread. A rank-2 Σ fits a great circle, three
/// clusters on one, and two orthogonal clusters alike, which is why the
/// classifier counts clusters first.
public struct MomentSummary: Sendable, Equatable {
    public let firstMoment: [Double]
    /// Eigenvalues of Σ, descending (LAPACKE_dsyev).
    public let secondMomentEigenvalues: [Double]

    public var firstMomentNorm: Double {
        firstMoment.reduce(0) { $0 + $1 * $1 }.squareRoot()
    }

    /// exp(−Σ p_k log p_k) with p_k = λ_k / Σλ, terms with p_k ≤ 0 skipped.
    public var effectiveRank: Double {
        LinearAlgebra.effectiveRank(eigenvalues: secondMomentEigenvalues)
    }

    /// Builds the summary from the mass-weighted sums Σ w x and Σ w x xᵀ
    /// (row-major d×d) and the total weight.
    init(weightedSum: [Double], weightedOuterSum: [Double], totalWeight: Double) throws {
        let d = weightedSum.count
        firstMoment = weightedSum.map { $0 / totalWeight }
        var second = weightedOuterSum.map { $0 / totalWeight }
        // Symmetrize against round-off before dsyev, which reads one triangle.
        for row in 0..<d {
            for column in (row + 1)..<d {
                let mean = 0.5 * (second[row * d + column] + second[column * d + row])
                second[row * d + column] = mean
                second[column * d + row] = mean
            }
        }
        secondMomentEigenvalues = try symmetricEigenvalues(of: second, order: d).reversed()
    }
}

extension MomentSummary {
    /// Builds the summary of the masses `masses[i]` at the points `points[i]`
    /// (each of the same dimension d), skipping points without positive mass.
    init(points: [[Double]], masses: [Double], totalWeight: Double) throws {
        let d = points.first?.count ?? 0
        var weightedSum = [Double](repeating: 0, count: d)
        var weightedOuterSum = [Double](repeating: 0, count: d * d)
        for (index, mass) in masses.enumerated() where mass > 0 {
            let components = points[index]
            for row in 0..<d {
                weightedSum[row] += mass * components[row]
                for column in 0..<d {
                    weightedOuterSum[row * d + column] += mass * components[row] * components[column]
                }
            }
        }
        try self.init(weightedSum: weightedSum, weightedOuterSum: weightedOuterSum, totalWeight: totalWeight)
    }
}

/// Thresholds of the cluster detector, shared by densities and particles.
public struct ClusterCriteria: Sendable, Equatable {
    /// A grid cell belongs to a dense region when ρ exceeds this multiple of
    /// the uniform density 1/(4π). A factor of 10 sits well below the peaks
    /// of clusters (a von Mises–Fisher bump with κ = 50 peaks near 100× the
    /// uniform value, three such bumps of mass 1/3 near 33×) and well above
    /// the fluctuations of a nearly uniform state. Relative to the maximum
    /// of ρ it would miss small clusters next to a large one.
    public var densityThresholdFactor: Double = 10
    /// Groups with less than this fraction of the total mass are dropped.
    public var minimumMassFraction: Double = 0.01
    /// Groups whose resultant length |Σ m x|/Σ m is below this are extended
    /// (a band around a great circle, a giant component of a uniform sample)
    /// and are not clusters. 0.8 admits uniformly filled caps of angular
    /// radius up to 53 degrees, whose resultant length is (1 + cos r)/2.
    public var minimumResultantLength: Double = 0.8
    /// A density's cluster mass counts the cells where ρ exceeds this
    /// multiple of the uniform density, assigned to the nearest core centre.
    public var clusterSupportFactor: Double = 1
    /// Particles closer than this angle (radians) are linked, and linked
    /// particles form one group (single linkage).
    public var linkAngle: Double = 0.05
    /// A particle group is a cluster only if its mass fraction exceeds this
    /// multiple of the area fraction of the smallest cap, around its centre,
    /// that contains it (at least `linkAngle` wide). It rejects the chance
    /// chains of a uniform sample, which have a contrast near 1.
    public var particleDensityContrast: Double = 10
    /// Two clusters form an antipodal pair when the angle between their
    /// centres is at least this (radians): 170 degrees.
    public var antipodalAngle: Double = 170 * Double.pi / 180
    /// Without clusters, the state is a great circle when the top two
    /// normalized second-moment eigenvalues hold at least 1 − this fraction
    /// and the second of them at least `greatCircleMinimumSecondEigenvalue`.
    public var greatCircleResidualFraction: Double = 0.1
    /// See `greatCircleResidualFraction`: it keeps a diffuse line (rank near
    /// 1) out of the great-circle class.
    public var greatCircleMinimumSecondEigenvalue: Double = 0.25

    public init() {}
}

/// Classified state at a stated time.
public struct FinalState: Sendable {
    public let time: Double
    public let classification: FinalStateClass
    /// Clusters sorted by mass, largest first.
    public let clusters: [Cluster]
    public let moments: MomentSummary
    /// Dense or linked groups of at least the minimum mass that were not
    /// compact or dense enough to count as clusters.
    public let extendedRegionCount: Int
    /// Angle (radians) between the two centres when there are two clusters.
    public let pairAngle: Double?

    public var clusterCount: Int { clusters.count }

    /// Decides the class from the cluster count first: 1 → single-cluster;
    /// 2 with centres at least `antipodalAngle` apart → antipodal-pair;
    /// 2 otherwise or ≥ 3 → k-clusters. Without clusters the moments decide:
    /// great-circle when two eigenvalues of Σ dominate, else spread.
    init(time: Double, clusters unsorted: [Cluster], moments: MomentSummary,
         extendedRegionCount: Int, criteria: ClusterCriteria) {
        self.time = time
        self.moments = moments
        self.extendedRegionCount = extendedRegionCount
        clusters = unsorted.sorted { $0.mass > $1.mass }

        if clusters.count == 2 {
            let dot = zip(clusters[0].centre, clusters[1].centre).reduce(0) { $0 + $1.0 * $1.1 }
            pairAngle = acos(max(-1, min(1, dot)))
        } else {
            pairAngle = nil
        }

        switch clusters.count {
        case 1:
            classification = .singleCluster
        case 2:
            classification = pairAngle! >= criteria.antipodalAngle ? .antipodalPair : .kClusters
        case 3...:
            classification = .kClusters
        default:
            let values = moments.secondMomentEigenvalues
            let total = values.filter { $0 > 0 }.reduce(0, +)
            let first = values.count > 0 && total > 0 ? values[0] / total : 0
            let second = values.count > 1 && total > 0 ? values[1] / total : 0
            let isPlanar = first + second >= 1 - criteria.greatCircleResidualFraction
                && second >= criteria.greatCircleMinimumSecondEigenvalue
            classification = isPlanar ? .greatCircle : .spread
        }
    }

    /// JSON-compatible dictionary for the run output.
    public var jsonObject: [String: Any] {
        [
            "time": time,
            "class": classification.rawValue,
            "cluster_count": clusterCount,
            "cluster_masses": clusters.map { $0.mass },
            "cluster_centres": clusters.map { $0.centre },
            "cluster_core_masses": clusters.map { $0.coreMass },
            "cluster_resultant_lengths": clusters.map { $0.resultantLength },
            "extended_region_count": extendedRegionCount,
            "pair_angle": pairAngle.map { $0 as Any } ?? NSNull(),
            "first_moment": moments.firstMoment,
            "first_moment_norm": moments.firstMomentNorm,
            "second_moment_eigenvalues": moments.secondMomentEigenvalues,
            "effective_rank": moments.effectiveRank,
        ]
    }
}

/// Disjoint sets with path halving and union by size.
struct UnionFind {
    private var parent: [Int]
    private var size: [Int]

    init(count: Int) {
        parent = Array(0..<count)
        size = [Int](repeating: 1, count: count)
    }

    mutating func find(_ element: Int) -> Int {
        var x = element
        while parent[x] != x {
            parent[x] = parent[parent[x]]
            x = parent[x]
        }
        return x
    }

    mutating func union(_ first: Int, _ second: Int) {
        var rootA = find(first)
        var rootB = find(second)
        guard rootA != rootB else { return }
        if size[rootA] < size[rootB] { swap(&rootA, &rootB) }
        parent[rootB] = rootA
        size[rootA] += size[rootB]
    }
}

/// Mass and weighted direction sum of one group, before the cluster tests.
struct GroupAccumulator {
    var mass = 0.0
    var directionSum: [Double]
    var members = [Int]()

    init(dimension: Int) { directionSum = [Double](repeating: 0, count: dimension) }

    var resultantLength: Double {
        guard mass > 0 else { return 0 }
        return directionSum.reduce(0) { $0 + $1 * $1 }.squareRoot() / mass
    }

    /// Unit mean direction, or the zero vector when the sum vanishes.
    var centre: [Double] {
        let norm = directionSum.reduce(0) { $0 + $1 * $1 }.squareRoot()
        guard norm > 0 else { return directionSum }
        return directionSum.map { $0 / norm }
    }
}
