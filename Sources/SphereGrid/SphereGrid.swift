import Foundation

/// A Gauss–Legendre grid of the unit sphere S^2, read both as a quadrature
/// and as a finite-volume mesh.
///
/// Conventions, used by every module:
/// - colatitude θ ∈ (0, π) from the north pole (+z), longitude φ ∈ [0, 2π)
///   measured from +x toward +y, both in radians;
///   x = sin θ cos φ, y = sin θ sin φ, z = cos θ;
/// - `nlat` rings at the Gauss nodes cos θ_j (north to south) and
///   `nlon = 2·nlat` equally spaced longitudes φ_k = 2πk/nlon;
/// - cell (j, k) has flat index `j * nlon + k`; its centre is the node
///   (θ_j, φ_k); its longitude faces sit at φ_k ± π/nlon and its ring faces
///   at the colatitudes where the cumulative Gauss weights fall, so that
///   area_j = w_j · 2π/nlon exactly and the areas sum to 4π.
public struct SphereGrid: Sendable, Equatable {
    public let nlat: Int
    public let nlon: Int
    /// Gauss nodes and weights, north to south.
    public let nodes: GaussLegendreNodes
    /// Colatitude of ring faces, `nlat + 1` values from 0 to π.
    public let faceColatitude: [Double]
    /// sin of `faceColatitude`, exactly 0 at the poles.
    public let faceSinColatitude: [Double]
    /// cos of `faceColatitude`, ±1 at the poles.
    public let faceCosColatitude: [Double]
    /// Area of one cell of ring j: w_j · 2π/nlon.
    public let cellArea: [Double]

    public static func == (lhs: SphereGrid, rhs: SphereGrid) -> Bool {
        lhs.nlat == rhs.nlat && lhs.nlon == rhs.nlon
    }

    /// Largest number of rings accepted.
    public static let maximumRingCount = 4096

    public init(nlat: Int) throws {
        guard nlat >= 2, nlat <= SphereGrid.maximumRingCount else {
            throw GridError("grid nlat = \(nlat) is out of range: use an integer from 2 to \(SphereGrid.maximumRingCount)")
        }
        self.nlat = nlat
        self.nlon = 2 * nlat
        let nodes = GaussLegendreNodes(count: nlat)
        self.nodes = nodes

        // Ring faces: 1 − cos θ_{j+1/2} = Σ_{i≤j} w_i, so θ = 2 asin(√(S/2)).
        // Each hemisphere is measured from its own pole to avoid cancellation.
        var faces = [Double](repeating: 0, count: nlat + 1)
        var cumulative = 0.0
        let half = nlat / 2
        for j in 0..<half {
            cumulative += nodes.weights[j]
            let theta = 2 * asin((cumulative / 2).squareRoot())
            faces[j + 1] = theta
            faces[nlat - 1 - j] = Double.pi - theta
        }
        faces[0] = 0
        faces[nlat] = Double.pi
        if nlat % 2 == 0 { faces[half] = Double.pi / 2 }
        self.faceColatitude = faces
        var faceSin = faces.map { sin($0) }
        var faceCos = faces.map { cos($0) }
        faceSin[0] = 0; faceSin[nlat] = 0
        faceCos[0] = 1; faceCos[nlat] = -1
        self.faceSinColatitude = faceSin
        self.faceCosColatitude = faceCos
        let dphi = 2 * Double.pi / Double(2 * nlat)
        self.cellArea = nodes.weights.map { $0 * dphi }
    }

    public var cellCount: Int { nlat * nlon }
    /// Highest spherical-harmonic degree the grid transforms exactly: L = nlat − 1.
    public var maximumDegree: Int { nlat - 1 }
    public var longitudeSpacing: Double { 2 * Double.pi / Double(nlon) }

    public func colatitude(ring j: Int) -> Double { nodes.colatitude[j] }
    public func longitude(column k: Int) -> Double { Double(k) * longitudeSpacing }

    /// Unit vector of the centre of cell (j, k).
    public func point(ring j: Int, column k: Int) -> SIMD3<Double> {
        let s = nodes.sinColatitude[j]
        let phi = longitude(column: k)
        return SIMD3(s * cos(phi), s * sin(phi), nodes.cosColatitude[j])
    }

    /// Unit vectors of all cell centres in flat-index order.
    public func cellCentres() -> [SIMD3<Double>] {
        var points = [SIMD3<Double>]()
        points.reserveCapacity(cellCount)
        for j in 0..<nlat {
            for k in 0..<nlon { points.append(point(ring: j, column: k)) }
        }
        return points
    }

    /// Areas of all cells in flat-index order.
    public func cellAreas() -> [Double] {
        var areas = [Double]()
        areas.reserveCapacity(cellCount)
        for j in 0..<nlat {
            areas.append(contentsOf: repeatElement(cellArea[j], count: nlon))
        }
        return areas
    }

    /// ∫ f dσ ≈ Σ f_i area_i, the quadrature that is exact for harmonics of
    /// degree below 2·nlat and that equals the finite-volume mass.
    public func integrate(_ field: [Double]) -> Double {
        precondition(field.count == cellCount, "field size does not match the grid")
        var total = 0.0
        for j in 0..<nlat {
            var ringSum = 0.0
            let base = j * nlon
            for k in 0..<nlon { ringSum += field[base + k] }
            total += ringSum * cellArea[j]
        }
        return total
    }
}
