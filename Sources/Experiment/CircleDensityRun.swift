import AttentionKernel
import CollapseAnalysis
import ContinuityStepper
import Foundation
import LinearAlgebra
import SphereGrid

/// Evolves one config's density on S^1 and writes its output folder: the
/// snapshots `density/t=<time>.csv`, `diagnostics.csv`, `final_state.json`
/// and `run.json`, as `DensityRun` does on S^2.
public final class CircleDensityRun {
    public let config: RunConfig
    public let outputDirectory: URL
    let log: ProgressLog

    let settings: DensitySettings
    /// Replaces the velocity of the config; tests use it to inject failures.
    var velocityOverride: CircleVelocityField?
    /// The grid of the run, once `execute` has built it.
    private(set) var grid: CircleGrid?
    let driver: DensityRunDriver

    /// Densities at the snapshot times, in order, kept for comparisons.
    var snapshots: [(time: Double, density: [Double])] { driver.snapshots }
    /// Diagnostics of every step, row 0 the initial state.
    var table: DiagnosticsTable { driver.table }
    /// Contents of run.json, set once `execute` has built the solver.
    var record: RunRecord? { driver.record }

    /// - Precondition: the config has a density section with a circle grid.
    public init(config: RunConfig, outputDirectory: URL, log: ProgressLog) {
        precondition(config.density != nil, "CircleDensityRun needs a density section")
        self.config = config
        self.settings = config.density!
        self.outputDirectory = outputDirectory
        self.log = log
        self.driver = DensityRunDriver(config: config, outputDirectory: outputDirectory, log: log, dimension: 2)
    }

    /// Builds the solver, runs it through every snapshot time and writes
    /// snapshots, diagnostics and run.json.
    ///
    /// - Throws: `ConfigError` for input that cannot be run (before anything
    ///   is written except the folder), `RunFailure` when the run stops.
    public func execute() throws -> RunSummary {
        let startDate = Date()
        let grid = try makeGrid()
        self.grid = grid
        let density = try CircleInitialDensity.build(config.initial, grid: grid)
        var source = try CircleVelocitySource(config: config, grid: grid)
        if let velocityOverride { source = CircleVelocitySource(field: velocityOverride, description: "injected") }
        if settings.scheme != "automatic" {
            throw ConfigError("density.scheme = \"\(settings.scheme)\" selects a time scheme on S^2, but the circle solver has one scheme (SSP-RK3 with MC-limited upwind fluxes): remove density.scheme or set it to \"automatic\"")
        }
        let stepper: CircleStepper
        do {
            stepper = try CircleStepper(velocity: source.field, cfl: settings.cfl, maximumStep: settings.maximumStep,
                                        variationLimit: settings.variationLimit)
        } catch let error as StepperError {
            throw ConfigError("density: \(error.detail)")
        }

        let output = try driver.openOutput()
        let angles = grid.angles()
        let centres = grid.cellCentres()
        let lengths = grid.cellLengths()
        let points = centres.map { SIMD3($0.x, $0.y, 0) }
        driver.record = RunRecord(config: config, grid: RunRecord.gridEntry(grid, name: settings.gridName),
                                  source: source, startDate: startDate)
        driver.banner(gridLine: "grid \(settings.gridName): \(grid.cells) cells of length \(String(format: "%.6g", grid.cellLength)), Fourier modes ≤ \(grid.cells / 2)",
                      velocity: source, scheme: nil)

        let writesVelocity = config.output.fields.contains("velocity")
        let hooks = DensityRunDriver.Hooks<CircleDensityState>(
            initialReport: { try stepper.report(for: $0) },
            advance: { state, target, observer in try stepper.advance(&state, to: target, observer: observer) },
            moments: { density in try MomentSummary(points: points, masses: zip(density, lengths).map { $0 * $1 }) },
            mass: { grid.integrate($0) },
            snapshotText: { state in
                let velocity = writesVelocity ? try source.cellVelocities(density: state.density) : nil
                return circleSnapshotText(angles: angles, centres: centres, lengths: lengths,
                                          density: state.density, angularVelocity: velocity)
            },
            classify: { density, time in try classifyCircleDensity(density, on: grid, time: time) })
        return try driver.run(CircleDensityState(density: density), output: output, startDate: startDate, hooks: hooks)
    }

    private func makeGrid() throws -> CircleGrid {
        guard case .circle(let specification) = settings.grid else {
            throw ConfigError("density.grid is a sphere grid: CircleDensityRun evolves densities on S^1, so give { \"kind\": \"circle\", \"cells\": 720 }")
        }
        do { return try specification.makeGrid() } catch let error as GridError {
            throw ConfigError("density.grid: \(error.message)")
        }
    }
}

/// Text of one circle density snapshot: angle,x,y,length,density, and with
/// velocities angular_velocity,velocity_x,velocity_y, where the Cartesian
/// velocity is X_θ e_θ with e_θ = (−sin θ, cos θ).
func circleSnapshotText(angles: [Double], centres: [SIMD2<Double>], lengths: [Double], density: [Double],
                        angularVelocity: [Double]?) -> String {
    var text = "angle,x,y,length,density"
    if angularVelocity != nil { text += ",angular_velocity,velocity_x,velocity_y" }
    text += "\n"
    text.reserveCapacity(angles.count * (angularVelocity == nil ? 110 : 180))
    for k in angles.indices {
        let x = centres[k]
        var line = "\(csvNumber(angles[k])),\(csvNumber(x.x)),\(csvNumber(x.y)),\(csvNumber(lengths[k])),\(csvNumber(density[k]))"
        if let angularVelocity {
            let speed = angularVelocity[k]
            line += ",\(csvNumber(speed)),\(csvNumber(-speed * x.y)),\(csvNumber(speed * x.x))"
        }
        text += line
        text += "\n"
    }
    return text
}
