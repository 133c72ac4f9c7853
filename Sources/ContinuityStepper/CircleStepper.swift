import Foundation
import SphereGrid

/// Density on the cells of a `CircleGrid` at a time.
public struct CircleDensityState: Sendable {
    /// Time t (model time units).
    public var time: Double
    /// Number of steps taken to reach `time`.
    public var step: Int
    /// Cell averages ρ_k per unit angle, cell k centred at θ_k = 2πk/n; the
    /// mass is Σ ρ_k h with h = 2π/n.
    public var density: [Double]

    public init(time: Double = 0, step: Int = 0, density: [Double]) {
        self.time = time
        self.step = step
        self.density = density
    }
}

/// Finite-volume solver of ∂_t ρ + ∂_θ(ρ X_θ) = 0 on the uniform cells of a
/// `CircleGrid` (the continuity equation on the unit circle).
///
/// Space. Mass m_k = ρ_k h changes only by the face transfers
/// Δt U_k ρ_f, and each one leaves one cell and enters its neighbour, so the
/// total mass is conserved up to round-off. The upwind face value ρ_f comes
/// from a linear reconstruction with the MC-limited half-slope
///
///     δ_k = minmod( (ρ_{k+1} − ρ_{k−1})/4,  ρ_{k+1} − ρ_k,  ρ_k − ρ_{k−1} ),
///
/// so the face values of cell k are ρ_k ± δ_k: second order for smooth
/// data, first order at extrema. Since |δ_k| ≤ ρ_k when the neighbours are
/// non-negative, both face values lie in [0, 2ρ_k].
///
/// Time. The three-stage third-order SSP Runge–Kutta method in increments:
/// u₁ = u + Δt L(u), u₂ = u + ¼((u₁ − u) + Δt L(u₁)),
/// u₃ = u + ⅔((u₂ − u) + Δt L(u₂)). Weights such as fl(1/3) + fl(2/3) ≠ 1
/// would bias the mass at every step; increments avoid that.
///
/// Positivity. In a forward-Euler stage cell k loses at most
/// (Δt/h)(|U_{k−1}| ρ_k^− + |U_k| ρ_k^+), with ρ_k^± = ρ_k ± δ_k ≥ 0 and
/// ρ_k^+ + ρ_k^− = 2ρ_k, so the loss is at most 2 Δt r_k ρ_k with
/// r_k = max(|U_{k−1}|, |U_k|)/h, and every inflow is ≥ 0. Hence
/// Δt r_k ≤ 1/2 keeps ρ_k ≥ 0. SSP-RK3 is a convex combination of
/// forward-Euler stages, so the bound holds for the step. The stepper takes
/// Δt = cfl / max_k r_k with 0 < cfl ≤ 1/2, capped by `maximumStep` and by
/// the optional `variationLimit`, the same accuracy bound as on the sphere. A
/// density-dependent field can speed up between stages: every stage checks
/// the bound with its own velocities and, if it fails, the step is retried
/// with half the Δt.
///
/// Steps end exactly on the requested end time; when less than two steps
/// remain, the rest is split evenly.
public final class CircleStepper {
    public let grid: CircleGrid
    public let velocity: CircleVelocityField
    /// Target Courant number Δt · max_k r_k, in (0, 1/2].
    public let cfl: Double
    /// Optional upper bound on Δt.
    public let maximumStep: Double?
    /// Optional accuracy bound: Δt · max_k |∂ρ_k/∂t| ≤ variationLimit ·
    /// (max ρ − min ρ), the tendency taken from the fluxes at the start of
    /// the step. A mode growing like e^{λt} then gets Δt ≤ 2 · variationLimit / λ.
    public let variationLimit: Double?

    /// Fraction of the CFL step that the next step aims at. A density-dependent
    /// velocity that grows within a step can break the positivity bound at a
    /// later stage when the step starts at the bound. The step is then retried
    /// with half the Δt. Lowering the fraction after such a step, and raising
    /// it slowly after steps without one, keeps those retries rare. Without it
    /// `examples/circle-sa.json` (cfl = 0.5) retried nearly every step and took
    /// 1704 steps, against 953 at cfl = 0.45.
    private var stepFraction = 1.0
    private var cached: (density: [Double], velocities: CircleFaceVelocities)?
    private var halfSlope: [Double]

    /// Positivity bound of one forward-Euler stage.
    static let positivityCourant = 0.5
    /// Largest number of Δt halvings for a density-dependent field before
    /// the step fails.
    static let maximumRejections = 30
    /// Changes of `stepFraction`: times 0.9 after a step with a rejected
    /// attempt, times 1.01 (up to 1) after a step without one, never below 0.5.
    static let stepFractionDecrease = 0.9
    static let stepFractionIncrease = 1.01
    static let minimumStepFraction = 0.5
    /// Round-off allowance below zero, relative to the largest density.
    static let negativeTolerance = 1e-12

    /// Creates a stepper for `velocity` with Δt = cfl / max_k r_k, capped by
    /// `maximumStep` (model time units) and by `variationLimit`.
    ///
    /// - Throws: `StepperError.Kind.invalidInput` when cfl is outside (0, 1/2]
    ///   or `maximumStep` or `variationLimit` is not positive and finite.
    public init(velocity: CircleVelocityField, cfl: Double = 0.5, maximumStep: Double? = nil,
                variationLimit: Double? = nil) throws {
        guard cfl > 0, cfl <= CircleStepper.positivityCourant else {
            throw StepperError(.invalidInput, step: 0, time: 0,
                               detail: "cfl = \(cfl) is out of range: positivity needs 0 < cfl <= 0.5")
        }
        if let maximumStep, !(maximumStep > 0 && maximumStep.isFinite) {
            throw StepperError(.invalidInput, step: 0, time: 0,
                               detail: "maximum step = \(maximumStep) must be positive and finite")
        }
        if let variationLimit, !(variationLimit > 0 && variationLimit.isFinite) {
            throw StepperError(.invalidInput, step: 0, time: 0,
                               detail: "variation limit = \(variationLimit) must be positive and finite")
        }
        self.grid = velocity.grid
        self.velocity = velocity
        self.cfl = cfl
        self.maximumStep = maximumStep
        self.variationLimit = variationLimit
        self.halfSlope = [Double](repeating: 0, count: velocity.grid.cells)
    }

    /// Diagnostics of `state` itself (step and time of the state, dt = 0),
    /// including the energy for sources that define one.
    public func report(for state: CircleDensityState) throws -> StepReport {
        try validate(state)
        let velocities = try evaluate(state.density, step: state.step, time: state.time)
        return makeReport(state, dt: 0, energy: velocities.energy, rejected: 0)
    }

    /// Advances `state` to `endTime`, calling `observer` after every accepted
    /// step with its diagnostics and the new state.
    ///
    /// - Throws: `StepperError` on NaN or negative density, a non-finite
    ///   velocity, a failed velocity evaluation or a step too small to change
    ///   the time. `state` then contains the last accepted step. Errors thrown by
    ///   `observer` propagate unchanged, after `state` has been updated.
    public func advance(_ state: inout CircleDensityState, to endTime: Double,
                        observer: (StepReport, CircleDensityState) throws -> Void = { _, _ in }) throws {
        try validate(state)
        guard endTime.isFinite, endTime >= state.time else {
            throw StepperError(.invalidInput, step: state.step, time: state.time,
                               detail: "end time \(endTime) is before the current time or not finite")
        }
        while state.time < endTime {
            let (next, report) = try takeStep(from: state, endTime: endTime)
            state = next
            try observer(report, state)
        }
    }

    // MARK: - One step

    private struct CourantExceeded: Error {}

    private func adjustStepFraction(rejected: Int) {
        if rejected > 0 {
            stepFraction = max(CircleStepper.minimumStepFraction, stepFraction * CircleStepper.stepFractionDecrease)
        } else {
            stepFraction = min(1, stepFraction * CircleStepper.stepFractionIncrease)
        }
    }

    private func takeStep(from state: CircleDensityState, endTime: Double) throws -> (CircleDensityState, StepReport) {
        let stepNumber = state.step + 1
        let initial = try evaluate(state.density, step: stepNumber, time: state.time)
        let rate = courantRate(initial.velocities)
        var dt = rate > 0 ? cfl * stepFraction / rate : Double.infinity
        if let maximumStep { dt = min(dt, maximumStep) }
        if let variationLimit {
            dt = min(dt, variationStep(state.density, velocities: initial.velocities, limit: variationLimit))
        }
        let remaining = endTime - state.time
        var lands = false
        if dt >= remaining {
            dt = remaining
            lands = true
        } else if dt > 0.5 * remaining {
            dt = 0.5 * remaining
        }

        var rejected = 0
        while true {
            guard dt > 0, state.time + dt > state.time else {
                throw StepperError(.stepUnderflow, step: stepNumber, time: state.time,
                                   detail: "Δt = \(dt) no longer advances t; the velocity is too large for the grid")
            }
            do {
                let density = try rungeKutta3(state.density, first: initial, dt: dt,
                                              step: stepNumber, time: state.time)
                let time = lands ? endTime : state.time + dt
                let next = CircleDensityState(time: time, step: stepNumber, density: density)
                try checkDensity(density, step: stepNumber, time: state.time)
                var energy: Double? = nil
                if velocity.isDensityDependent {
                    // Evaluating at the new state gives the energy and the
                    // first stage of the next step.
                    energy = try evaluate(density, step: stepNumber, time: time).energy
                }
                adjustStepFraction(rejected: rejected)
                return (next, makeReport(next, dt: dt, energy: energy, rejected: rejected))
            } catch is CourantExceeded {
                rejected += 1
                if rejected > CircleStepper.maximumRejections {
                    throw StepperError(.stepUnderflow, step: stepNumber, time: state.time,
                                       detail: "Δt was halved \(rejected - 1) times and the velocity still breaks the positivity bound")
                }
                dt *= 0.5
                lands = false
            }
        }
    }

    /// Takes one SSP-RK3 step in increment form from `density`.
    private func rungeKutta3(_ u: [Double], first: CircleFaceVelocities, dt: Double,
                             step: Int, time: Double) throws -> [Double] {
        let n = u.count
        func increment(_ values: [Double], stage: Int) throws -> [Double] {
            let velocities: [Double]
            if stage == 0 || !velocity.isDensityDependent {
                velocities = first.velocities
            } else {
                velocities = try evaluate(values, step: step, time: time).velocities
            }
            if velocity.isDensityDependent, dt * courantRate(velocities) > CircleStepper.positivityCourant {
                throw CourantExceeded()
            }
            var out = [Double](repeating: 0, count: n)
            addFluxIncrement(density: values, velocities: velocities, dt: dt, into: &out)
            return out
        }
        let d0 = try increment(u, stage: 0)
        var u1 = u
        for k in 0..<n { u1[k] += d0[k] }
        try checkDensity(u1, step: step, time: time)
        let d1 = try increment(u1, stage: 1)
        var u2 = u
        for k in 0..<n { u2[k] = u[k] + 0.25 * ((u1[k] - u[k]) + d1[k]) }
        try checkDensity(u2, step: step, time: time)
        let d2 = try increment(u2, stage: 2)
        var result = u
        for k in 0..<n { result[k] += (2.0 / 3.0) * ((u2[k] - u[k]) + d2[k]) }
        return result
    }

    /// Adds Δt (F_{k−1} − F_k)/h to `out`, with F_k = U_k ρ_f the upwind flux
    /// of the MC-limited reconstruction through face k.
    private func addFluxIncrement(density rho: [Double], velocities: [Double], dt: Double,
                                  into out: inout [Double]) {
        let n = rho.count
        let scale = dt / grid.cellLength
        rho.withUnsafeBufferPointer { r in
            velocities.withUnsafeBufferPointer { u in
                halfSlope.withUnsafeMutableBufferPointer { d in
                    out.withUnsafeMutableBufferPointer { o in
                        for k in 0..<n {
                            let west = r[k == 0 ? n - 1 : k - 1]
                            let east = r[k == n - 1 ? 0 : k + 1]
                            let centre = r[k]
                            d[k] = FluxOperators.minmod(0.25 * (east - west), east - centre, centre - west)
                        }
                        for k in 0..<n {
                            let next = k == n - 1 ? 0 : k + 1
                            let speed = u[k]
                            // Upwind face value: east face of cell k or west face of cell k + 1.
                            let value = speed > 0 ? r[k] + d[k] : r[next] - d[next]
                            let transfer = scale * speed * value
                            o[k] -= transfer
                            o[next] += transfer
                        }
                    }
                }
            }
        }
    }

    /// Longest Δt with Δt · max_k |∂ρ_k/∂t| ≤ limit · (max ρ − min ρ), the
    /// tendency ∂ρ/∂t taken from the limited upwind fluxes at `density`.
    /// Infinite when the density does not change or is constant.
    private func variationStep(_ density: [Double], velocities: [Double], limit: Double) -> Double {
        var tendency = [Double](repeating: 0, count: density.count)
        addFluxIncrement(density: density, velocities: velocities, dt: 1, into: &tendency)
        let largestChange = tendency.map(abs).max() ?? 0
        let range = (density.max() ?? 0) - (density.min() ?? 0)
        guard largestChange > 0, range > 0 else { return .infinity }
        return limit * range / largestChange
    }

    /// max_k r_k with r_k = max(|U_{k−1}|, |U_k|)/h, which equals max_k |U_k| / h.
    private func courantRate(_ velocities: [Double]) -> Double {
        var largest = 0.0
        for speed in velocities { largest = max(largest, abs(speed)) }
        return largest / grid.cellLength
    }

    // MARK: - Velocity evaluation and checks

    private func evaluate(_ density: [Double], step: Int, time: Double) throws -> CircleFaceVelocities {
        if let cached, !velocity.isDensityDependent || cached.density == density { return cached.velocities }
        let velocities: CircleFaceVelocities
        do {
            velocities = try velocity.faceVelocities(density: density)
        } catch let error as StepperError {
            throw error
        } catch {
            throw StepperError(.velocityEvaluationFailed, step: step, time: time, detail: "\(error)")
        }
        guard velocities.velocities.count == grid.cells else {
            throw StepperError(.invalidInput, step: step, time: time,
                               detail: "velocity field returned \(velocities.velocities.count) face velocities, the circle grid has \(grid.cells) faces")
        }
        if let k = velocities.velocities.firstIndex(where: { !$0.isFinite }) {
            throw StepperError(.nonFiniteVelocity, step: step, time: time,
                               detail: "velocity \(velocities.velocities[k]) at face \(k), between cells \(k) and \((k + 1) % grid.cells)")
        }
        cached = (density, velocities)
        return velocities
    }

    private func checkDensity(_ density: [Double], step: Int, time: Double) throws {
        if let k = density.firstIndex(where: { !$0.isFinite }) {
            throw StepperError(.nonFiniteDensity, step: step, time: time, detail: "ρ = \(density[k]) in cell \(k)")
        }
        let largest = density.max() ?? 0
        if let k = density.firstIndex(where: { $0 < -CircleStepper.negativeTolerance * largest }) {
            throw StepperError(.negativeDensity, step: step, time: time,
                               detail: "ρ = \(density[k]) in cell \(k) (max ρ = \(largest))")
        }
    }

    private func validate(_ state: CircleDensityState) throws {
        guard state.density.count == grid.cells else {
            throw StepperError(.invalidInput, step: state.step, time: state.time,
                               detail: "density has \(state.density.count) values, the circle grid has \(grid.cells) cells")
        }
        guard state.time.isFinite else {
            throw StepperError(.invalidInput, step: state.step, time: state.time, detail: "time is not finite")
        }
        try checkDensity(state.density, step: state.step, time: state.time)
    }

    private func makeReport(_ state: CircleDensityState, dt: Double, energy: Double?, rejected: Int) -> StepReport {
        StepReport(step: state.step, time: state.time, dt: dt, mass: grid.integrate(state.density),
                   minimumDensity: state.density.min() ?? 0, maximumDensity: state.density.max() ?? 0,
                   energy: energy, rejectedAttempts: rejected)
    }
}
