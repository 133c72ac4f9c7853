import SphereGrid

/// Upwind flux increments of one forward-Euler stage, with limited linear
/// reconstruction, in each direction of the Gauss–Legendre cells.
///
/// Reconstruction. In each direction the density of a cell is linear in a
/// coordinate in which the cell area is linear: z = 1 − cos θ between ring
/// faces (dA = dz dφ, so ring j has width w_j, its Gauss weight) and φ
/// along a ring. The reconstruction passes through the cell average at the
/// area centroid, so the two face values of a cell average to ρ_i exactly.
/// The half-slope δ = s·h/2 (h the cell width) is limited as a
/// monotonized-central (MC) slope on the non-uniform spacing:
///
///     δ_i = minmod( (ρ_{i+1} − ρ_{i−1}) h_i / (2 (d_{i−1/2} + d_{i+1/2})),
///                   ρ_{i+1} − ρ_i,  ρ_i − ρ_{i−1} ),
///
/// with d_{i±1/2} the distance between neighbouring centroids. On a uniform
/// spacing this is the MC limiter. The bound |δ_i| ≤ |ρ_{i±1} − ρ_i| keeps
/// each face value between the cell mean and its neighbour's, so both face
/// values lie in [0, 2ρ_i] when the means are non-negative.
///
/// The polar rings (j = 0 and j = nlat − 1) use δ = 0 in the meridional
/// direction: linear-in-z data is not smooth at the pole, and the polar ring
/// has a single flux face, which a constant value makes cheaper to bound.
struct FluxOperators {
    let grid: SphereGrid
    let nlat: Int
    let nlon: Int
    /// 1/area of one cell of ring j.
    let inverseArea: [Double]
    /// Central-difference coefficient h_j / (2 (d_{j−1/2} + d_{j+1/2})) of ring j in z.
    let centralCoefficient: [Double]

    init(grid: SphereGrid) {
        self.grid = grid
        nlat = grid.nlat
        nlon = grid.nlon
        inverseArea = grid.cellArea.map { 1 / $0 }
        let widths = grid.nodes.weights
        var coefficients = [Double](repeating: 0, count: grid.nlat)
        if grid.nlat > 2 {
            for j in 1..<(grid.nlat - 1) {
                let below = 0.5 * (widths[j] + widths[j + 1])
                let above = 0.5 * (widths[j] + widths[j - 1])
                coefficients[j] = widths[j] / (2 * (above + below))
            }
        }
        centralCoefficient = coefficients
    }

    @inline(__always)
    static func minmod(_ a: Double, _ b: Double, _ c: Double) -> Double {
        if a > 0 && b > 0 && c > 0 { return min(a, min(b, c)) }
        if a < 0 && b < 0 && c < 0 { return max(a, max(b, c)) }
        return 0
    }

    /// Writes the limited meridional half-slopes of `rho` into `delta`
    /// (zero in the polar rings).
    func meridionalHalfSlopes(_ rho: [Double], into delta: inout [Double]) {
        rho.withUnsafeBufferPointer { r in
            delta.withUnsafeMutableBufferPointer { d in
                for k in 0..<nlon {
                    d[k] = 0
                    d[(nlat - 1) * nlon + k] = 0
                }
                if nlat > 2 {
                    for j in 1..<(nlat - 1) {
                        let a = centralCoefficient[j]
                        let base = j * nlon
                        for k in 0..<nlon {
                            let i = base + k
                            let north = r[i - nlon], centre = r[i], south = r[i + nlon]
                            d[i] = FluxOperators.minmod(a * (south - north), south - centre, centre - north)
                        }
                    }
                }
            }
        }
    }

    /// Adds to `increment` the meridional flux increments Δt·(inflow − outflow)/area
    /// of `density` through the interior ring faces.
    func addMeridional(density rho: [Double], fluxes: [Double], dt: Double,
                       halfSlope delta: inout [Double], increment: inout [Double]) {
        precondition(rho.count == nlat * nlon && increment.count == rho.count && delta.count == rho.count)
        meridionalHalfSlopes(rho, into: &delta)
        rho.withUnsafeBufferPointer { r in
            delta.withUnsafeBufferPointer { d in
                fluxes.withUnsafeBufferPointer { u in
                    increment.withUnsafeMutableBufferPointer { out in
                        for j in 0..<(nlat - 1) {
                            let northScale = inverseArea[j], southScale = inverseArea[j + 1]
                            let base = j * nlon
                            for k in 0..<nlon {
                                let i = base + k
                                let flux = u[i]
                                // Upwind face value: south face of (j, k) or north face of (j + 1, k).
                                let value = flux > 0 ? r[i] + d[i] : r[i + nlon] - d[i + nlon]
                                let transfer = dt * flux * value
                                out[i] -= transfer * northScale
                                out[i + nlon] += transfer * southScale
                            }
                        }
                    }
                }
            }
        }
    }

    /// Adds to `increment[offset..<offset + nlon]` the zonal flux increments of
    /// ring j, reading the ring's density from `rho[offset..<offset + nlon]`.
    func addZonal(ring j: Int, density rho: UnsafeBufferPointer<Double>, offset: Int,
                  fluxes u: UnsafeBufferPointer<Double>, dt: Double,
                  halfSlope d: UnsafeMutableBufferPointer<Double>,
                  increment out: UnsafeMutableBufferPointer<Double>) {
        let n = nlon
        for k in 0..<n {
            let west = rho[offset + (k == 0 ? n - 1 : k - 1)]
            let east = rho[offset + (k == n - 1 ? 0 : k + 1)]
            let centre = rho[offset + k]
            d[k] = FluxOperators.minmod(0.25 * (east - west), east - centre, centre - west)
        }
        let scale = inverseArea[j]
        for k in 0..<n {
            let next = k == n - 1 ? 0 : k + 1
            let flux = u[offset + k]
            // Upwind face value: east face of (j, k) or west face of (j, k + 1).
            let value = flux > 0 ? rho[offset + k] + d[k] : rho[offset + next] - d[next]
            let transfer = dt * flux * value * scale
            out[offset + k] -= transfer
            out[offset + next] += transfer
        }
    }

    /// Meridional Courant rate of each ring, max |U_f| / area_j over its ring
    /// faces, halved in the polar rings (see `ContinuityStepper`).
    func meridionalRates(_ fluxes: [Double]) -> [Double] {
        (0..<nlat).map { j in
            var largest = 0.0
            let base = j * nlon
            if j > 0 {
                for k in 0..<nlon { largest = max(largest, abs(fluxes[base - nlon + k])) }
            }
            if j < nlat - 1 {
                for k in 0..<nlon { largest = max(largest, abs(fluxes[base + k])) }
            }
            let polar = j == 0 || j == nlat - 1
            return largest * inverseArea[j] * (polar ? 0.5 : 1)
        }
    }

    /// Zonal Courant rate of each ring: max_k |U_k| / area_j.
    func zonalRates(_ fluxes: [Double]) -> [Double] {
        (0..<nlat).map { j in
            var largest = 0.0
            let base = j * nlon
            for k in 0..<nlon { largest = max(largest, abs(fluxes[base + k])) }
            return largest * inverseArea[j]
        }
    }
}
