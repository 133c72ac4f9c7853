import SphereGrid

/// One time step of the flux-form semi-Lagrangian (FFSL) scheme of Lin and
/// Rood ("Multidimensional flux-form semi-Lagrangian transport schemes",
/// Mon. Wea. Rev. 124, 1996) on the Gauss–Legendre cells.
///
/// Face masses. Over a step Δt a face with volume flux U (area per unit
/// time) passes the volume V = U·Δt. The mass crossing it is the integral of
/// the upwind reconstruction over the departure region of area |V| next to
/// the face. Along a ring the cells have equal area A_j, so the departure
/// region is c = |V|/A_j cells long: n = ⌊c⌋ whole upwind cells plus the
/// fraction f = c − n of the next one,
///
///     M = sign(V)·A_j·( Σ_{i<n} q_{up,i} + f·(q_{up,n} ± δ_{up,n}(1 − f)) ),
///
/// with q the cell averages and δ the limited half-slope of `FluxOperators`
/// (face value q ± δ, the sign picking the face next to the departure
/// fraction). The construction is valid for any zonal Courant number
/// below nlon, the ring length in cells. Across rings the departure region stays inside the
/// upwind cell (the time step keeps |V| ≤ area there), and the fraction is
/// taken in z = 1 − cos θ, in which the area is linear.
/// Integrating the linear reconstruction over the departure region is the
/// one-step second-order update in time (MUSCL–Hancock) for each direction.
///
/// Cross terms. With M_x(q), M_y(q) the zonal and meridional face masses of
/// a field q, δ the difference across a cell (east minus west, south minus
/// north) and A the cell area, the advective inner operators
///
///     f_x(q) = q − (1/A)(δ_x M_x(q) − q δ_x V_x),
///     g_y(q) = q − (1/A)(δ_y M_y(q) − q δ_y V_y)
///
/// leave a constant unchanged whatever the divergence of each direction
/// alone. The outer step is in flux form,
///
///     ρⁿ⁺¹ = ρⁿ − (1/A)( δ_x M_x(ρⁿ + ½(g_y(ρⁿ) − ρⁿ)) + δ_y M_y(ρⁿ + ½(f_x(ρⁿ) − ρⁿ)) ),
///
/// so each face mass leaves one cell and enters its neighbour (mass is
/// conserved to round-off), and a constant density stays constant when the
/// volume fluxes have zero discrete divergence. The inner values are
/// clipped at zero before the outer face masses are formed.
///
/// Positivity. The outer face masses are then limited so that no cell sends
/// out more than it contains (see `limitOutflow`), which keeps ρⁿ⁺¹ ≥ 0.
struct SemiLagrangianOperators {
    let grid: SphereGrid
    let nlat: Int
    let nlon: Int
    let operators: FluxOperators
    let area: [Double]
    /// Largest zonal Courant number |V|/A_j, nlon/2, so that departure
    /// regions stay shorter than half a ring. The step size keeps the Courant
    /// number below it, and `zonalMasses` cuts longer volumes to it.
    let maximumZonalCourant: Double

    /// Largest number of Gauss–Seidel sweeps of the outflow limiter before it
    /// falls back to bounding each cell's outflow by its own mass.
    static let maximumLimiterSweeps = 100

    init(grid: SphereGrid) {
        self.grid = grid
        nlat = grid.nlat
        nlon = grid.nlon
        operators = FluxOperators(grid: grid)
        area = grid.cellArea
        maximumZonalCourant = 0.5 * Double(grid.nlon)
    }

    /// Courant rate r = max_i max(r_M,i, r_D,i, r_Z,i) of the fluxes
    /// (1/time), so that Δt·r ≤ 1 keeps every meridional departure region
    /// inside its upwind cell.
    ///
    /// r_M,i = max |U_f|/A_i over the ring faces of cell i (meridional
    /// Courant rate) and r_D,i = |U_e − U_w|/A_i (zonal compression or
    /// expansion of the cell). The zonal term r_Z,i = sin θ_j · max |U_f|/A_i
    /// over the longitude faces is the Courant rate the same zonal speed
    /// would have in a cell of width Δφ, the equatorial width. It bounds the
    /// zonal Courant number like an equatorial CFL condition at low
    /// latitudes, but not near the poles: there Δt·|U_f|/A_i grows like
    /// 1/sin θ_j and the departure regions span many cells (20 in the polar
    /// ring at nlat = 128 for a rotation across the poles with cfl = 1/2).
    func courantRate(_ fluxes: FaceFluxes) -> Double {
        let meridional = operators.meridionalRates(fluxes.meridional)
        var rate = 0.0
        for j in 0..<nlat {
            // `meridionalRates` halves the polar rings for the Runge–Kutta bound.
            // A departure region must fit the whole polar cell, so this undoes the halving.
            let polar = j == 0 || j == nlat - 1
            rate = max(rate, meridional[j] * (polar ? 2 : 1))
            let inverseArea = 1 / area[j]
            let sinColatitude = grid.nodes.sinColatitude[j]
            let base = j * nlon
            for k in 0..<nlon {
                let east = fluxes.zonal[base + k]
                let west = fluxes.zonal[base + (k == 0 ? nlon - 1 : k - 1)]
                rate = max(rate, abs(east - west) * inverseArea,
                           abs(east) * inverseArea * max(sinColatitude, 1 / maximumZonalCourant))
            }
        }
        return rate
    }

    /// Advances `rho` by one FFSL step of length `dt` with the volume fluxes
    /// `fluxes` held fixed over the step.
    func advance(_ rho: [Double], fluxes: FaceFluxes, dt: Double) -> [Double] {
        let count = nlat * nlon
        precondition(rho.count == count)
        let zonalVolume = fluxes.zonal.map { $0 * dt }
        let meridionalVolume = fluxes.meridional.map { $0 * dt }

        // Inner advective half increments.
        let zonalFirst = zonalMasses(rho, volumes: zonalVolume)
        let meridionalFirst = meridionalMasses(rho, volumes: meridionalVolume)
        var forMeridional = [Double](repeating: 0, count: count)
        var forZonal = [Double](repeating: 0, count: count)
        for j in 0..<nlat {
            let inverseArea = 1 / area[j]
            let base = j * nlon
            for k in 0..<nlon {
                let i = base + k
                let west = base + (k == 0 ? nlon - 1 : k - 1)
                let zonal = (zonalFirst[i] - zonalFirst[west]) - rho[i] * (zonalVolume[i] - zonalVolume[west])
                forMeridional[i] = max(0, rho[i] - 0.5 * inverseArea * zonal)
                let south = j < nlat - 1 ? meridionalFirst[i] : 0
                let north = j > 0 ? meridionalFirst[i - nlon] : 0
                let southVolume = j < nlat - 1 ? meridionalVolume[i] : 0
                let northVolume = j > 0 ? meridionalVolume[i - nlon] : 0
                let meridional = (south - north) - rho[i] * (southVolume - northVolume)
                forZonal[i] = max(0, rho[i] - 0.5 * inverseArea * meridional)
            }
        }

        // Outer flux-form step.
        var zonal = zonalMasses(forZonal, volumes: zonalVolume)
        var meridional = meridionalMasses(forMeridional, volumes: meridionalVolume)
        limitOutflow(density: rho, zonal: &zonal, meridional: &meridional)
        var next = rho
        for j in 0..<nlat {
            let inverseArea = 1 / area[j]
            let base = j * nlon
            for k in 0..<nlon {
                let i = base + k
                let west = base + (k == 0 ? nlon - 1 : k - 1)
                var outflow = zonal[i] - zonal[west]
                if j < nlat - 1 { outflow += meridional[i] }
                if j > 0 { outflow -= meridional[i - nlon] }
                // The limiter leaves m_i + inflow − outflow ≥ 0, so a negative
                // value here is the rounding of that sum, of order ε·outflow.
                next[i] = max(0, rho[i] - outflow * inverseArea)
            }
        }
        return next
    }

    /// Eastward masses through the longitude faces (east face of (j, k) at
    /// `j * nlon + k`) for the eastward volumes `volumes`.
    func zonalMasses(_ q: [Double], volumes: [Double]) -> [Double] {
        var masses = [Double](repeating: 0, count: nlat * nlon)
        var delta = [Double](repeating: 0, count: nlon)
        let n = nlon
        for j in 0..<nlat {
            let base = j * n
            let cellArea = area[j], inverseArea = 1 / area[j]
            for k in 0..<n {
                let west = q[base + (k == 0 ? n - 1 : k - 1)]
                let east = q[base + (k == n - 1 ? 0 : k + 1)]
                let centre = q[base + k]
                delta[k] = FluxOperators.minmod(0.25 * (east - west), east - centre, centre - west)
            }
            for k in 0..<n {
                let volume = volumes[base + k]
                let courant = min(abs(volume) * inverseArea, maximumZonalCourant)
                let whole = Int(courant)
                let fraction = courant - Double(whole)
                var sum = 0.0
                if volume >= 0 {
                    // Departure region: whole cells k, k − 1, … then the east part of the next one.
                    var cell = k
                    for _ in 0..<whole {
                        sum += q[base + cell]
                        cell = cell == 0 ? n - 1 : cell - 1
                    }
                    sum += fraction * (q[base + cell] + delta[cell] * (1 - fraction))
                    masses[base + k] = cellArea * sum
                } else {
                    // Departure region: whole cells k + 1, k + 2, … then the west part of the next one.
                    var cell = k == n - 1 ? 0 : k + 1
                    for _ in 0..<whole {
                        sum += q[base + cell]
                        cell = cell == n - 1 ? 0 : cell + 1
                    }
                    sum += fraction * (q[base + cell] - delta[cell] * (1 - fraction))
                    masses[base + k] = -cellArea * sum
                }
            }
        }
        return masses
    }

    /// Southward masses through the interior ring faces (south face of
    /// (j, k) at `j * nlon + k`) for the southward volumes `volumes`.
    func meridionalMasses(_ q: [Double], volumes: [Double]) -> [Double] {
        var delta = [Double](repeating: 0, count: nlat * nlon)
        operators.meridionalHalfSlopes(q, into: &delta)
        var masses = [Double](repeating: 0, count: (nlat - 1) * nlon)
        for j in 0..<(nlat - 1) {
            let northInverse = 1 / area[j], southInverse = 1 / area[j + 1]
            let base = j * nlon
            for k in 0..<nlon {
                let i = base + k
                let volume = volumes[i]
                if volume >= 0 {
                    // The south part of cell (j, k), a fraction c of its area (linear in z).
                    let courant = min(volume * northInverse, 1)
                    masses[i] = volume * (q[i] + delta[i] * (1 - courant))
                } else {
                    let courant = min(-volume * southInverse, 1)
                    masses[i] = volume * (q[i + nlon] - delta[i + nlon] * (1 - courant))
                }
            }
        }
        return masses
    }

    /// Scales down outgoing face masses so that no cell ends the step
    /// below zero, keeping each face mass's sign.
    ///
    /// For cell i with mass m_i = ρ_i A_i at the start of the step, outgoing
    /// face masses O_i and incoming I_i, the new mass is m_i + I_i − O_i.
    /// Each face is outgoing for exactly one cell, so scaling a face changes
    /// two cells by opposite amounts and the total mass is unchanged. Sweeps
    /// visit every cell and, where O_i > m_i + I_i, multiply its outgoing
    /// faces by (m_i + I_i)/O_i (less a few ulps). Scaling only lowers
    /// inflows elsewhere, so the sweeps repeat until none applies. The
    /// inflow counts, because near the poles a zonal face can carry many
    /// cells' worth of mass in one step. If `maximumLimiterSweeps` sweeps
    /// do not settle, a last pass bounds O_i by m_i alone, which keeps every
    /// cell non-negative whatever its inflow.
    func limitOutflow(density rho: [Double], zonal: inout [Double], meridional: inout [Double]) {
        let shrink = 1 - 4 * Double.ulpOfOne
        func sweep(countInflow: Bool) -> Bool {
            var changed = false
            for j in 0..<nlat {
                let base = j * nlon
                for k in 0..<nlon {
                    let i = base + k
                    let west = base + (k == 0 ? nlon - 1 : k - 1)
                    let east = zonal[i], westMass = zonal[west]
                    let south = j < nlat - 1 ? meridional[i] : 0
                    let north = j > 0 ? meridional[i - nlon] : 0
                    let outgoing = max(east, 0) + max(-westMass, 0) + max(south, 0) + max(-north, 0)
                    let incoming = max(-east, 0) + max(westMass, 0) + max(-south, 0) + max(north, 0)
                    let budget = rho[i] * area[j] + (countInflow ? incoming : 0)
                    guard outgoing > budget else { continue }
                    let scale = budget / outgoing * shrink
                    changed = true
                    if east > 0 { zonal[i] *= scale }
                    if westMass < 0 { zonal[west] *= scale }
                    if south > 0 { meridional[i] *= scale }
                    if north < 0 { meridional[i - nlon] *= scale }
                }
            }
            return changed
        }
        for _ in 0..<SemiLagrangianOperators.maximumLimiterSweeps {
            if !sweep(countInflow: true) { return }
        }
        _ = sweep(countInflow: false)
    }
}
