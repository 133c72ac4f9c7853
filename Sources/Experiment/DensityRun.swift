import AttentionKernel
import CollapseAnalysis
import ContinuityStepper
import Foundation
import LinearAlgebra
import SphereGrid

/// Result line of a finished run.
public struct RunSummary {
    public let name: String
    public let directory: URL
    public let steps: Int
    public let line: String
}

/// A run that stopped before its end time. The output folder keeps every
/// snapshot written before the failure.
public struct RunFailure: Error, CustomStringConvertible {
    public let name: String
    public let reason: String
    public let step: Int
    public let time: Double
    public let lastSnapshot: String?
    public let directory: URL
    public let isOutputFailure: Bool
    /// The signal that interrupted the run, or nil when it failed.
    public var interruptSignal: Int32? = nil

    /// The `status` of run.json: "interrupted" or "failed".
    public var status: String { interruptSignal == nil ? "failed" : "interrupted" }

    public var description: String {
        let kept = lastSnapshot.map { "last good snapshot: \(directory.path)/\($0)" } ?? "no snapshot was written"
        return "run \(name) stopped at step \(step), t = \(time): \(reason); \(kept)"
    }

    public var summaryLine: String {
        "\(name): \(status) at step \(step), t = \(String(format: "%.6g", time)) — \(directory.path)"
    }
}

/// Evolves one config's density on S^2 and writes its output folder.
public final class DensityRun {
    public let config: RunConfig
    public let outputDirectory: URL
    let log: ProgressLog

    let settings: DensitySettings
    /// Replaces the velocity of the config; tests use it to inject failures.
    var velocityOverride: VelocityField?
    /// The grid of the run, once `execute` has built it.
    private(set) var grid: SphereGrid?
    let driver: DensityRunDriver

    /// Densities at the snapshot times, in order, kept for comparisons.
    var snapshots: [(time: Double, density: [Double])] { driver.snapshots }
    /// Diagnostics of every step, row 0 the initial state.
    var table: DiagnosticsTable { driver.table }
    /// Contents of run.json, set once `execute` has built the solver.
    var record: RunRecord? { driver.record }

    /// - Precondition: the config has a density section.
    public init(config: RunConfig, outputDirectory: URL, log: ProgressLog) {
        precondition(config.density != nil, "DensityRun needs a density section")
        self.config = config
        self.settings = config.density!
        self.outputDirectory = outputDirectory
        self.log = log
        self.driver = DensityRunDriver(config: config, outputDirectory: outputDirectory, log: log, dimension: 3)
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
        let density = try InitialDensity.build(config.initial, grid: grid)
        var source = try VelocitySource(config: config, grid: grid)
        if let velocityOverride { source = VelocitySource(field: velocityOverride, description: "injected") }
        let stepper: ContinuityStepper
        do {
            stepper = try ContinuityStepper(velocity: source.field, cfl: settings.cfl,
                                            maximumStep: settings.maximumStep,
                                            scheme: DensityRun.timeScheme(named: settings.scheme),
                                            variationLimit: settings.variationLimit)
        } catch let error as StepperError {
            throw ConfigError("density: \(error.detail)")
        }

        let output = try driver.openOutput()
        let centres = grid.cellCentres()
        let areas = grid.cellAreas()
        driver.record = RunRecord(config: config, grid: RunRecord.gridEntry(grid, name: settings.gridName),
                                  source: source, startDate: startDate)
        driver.banner(gridLine: "grid \(settings.gridName): \(grid.nlat) rings × \(grid.nlon) longitudes, \(grid.cellCount) cells, degree ≤ \(grid.maximumDegree)",
                      velocity: source, scheme: settings.scheme)

        let writesVelocity = config.output.fields.contains("velocity")
        let hooks = DensityRunDriver.Hooks<DensityState>(
            initialReport: { try stepper.report(for: $0) },
            advance: { state, target, observer in try stepper.advance(&state, to: target, observer: observer) },
            moments: { density in try MomentSummary(points: centres, masses: zip(density, areas).map { $0 * $1 }) },
            mass: { grid.integrate($0) },
            snapshotText: { state in
                let velocity = writesVelocity ? try source.cellVelocities(density: state.density) : nil
                return snapshotText(grid: grid, centres: centres, areas: areas, density: state.density, velocity: velocity)
            },
            classify: { density, time in try classifyDensity(density, on: grid, time: time) })
        return try driver.run(DensityState(density: density), output: output, startDate: startDate, hooks: hooks)
    }

    static func timeScheme(named name: String) -> TimeScheme {
        switch name {
        case "method-of-lines": return .methodOfLines
        case "semi-lagrangian": return .fluxFormSemiLagrangian
        default: return .automatic
        }
    }

    private func makeGrid() throws -> SphereGrid {
        guard case .sphere(let specification) = settings.grid else {
            throw ConfigError("density.grid is a circle grid: DensityRun evolves densities on S^2, so run this config with CircleDensityRun")
        }
        do { return try specification.makeGrid() } catch let error as GridError {
            throw ConfigError("density.grid: \(error.message)")
        }
    }
}

/// Text of one density snapshot (see docs/output.md for the columns).
func snapshotText(grid: SphereGrid, centres: [SIMD3<Double>], areas: [Double], density: [Double],
                  velocity: [SIMD3<Double>]?) -> String {
    var text = "colatitude,longitude,x,y,z,area,density"
    if velocity != nil { text += ",velocity_x,velocity_y,velocity_z" }
    text += "\n"
    text.reserveCapacity(grid.cellCount * (velocity == nil ? 140 : 210))
    for j in 0..<grid.nlat {
        let theta = csvNumber(grid.colatitude(ring: j))
        for k in 0..<grid.nlon {
            let i = j * grid.nlon + k
            let x = centres[i]
            var line = "\(theta),\(csvNumber(grid.longitude(column: k))),\(csvNumber(x.x)),\(csvNumber(x.y)),\(csvNumber(x.z)),\(csvNumber(areas[i])),\(csvNumber(density[i]))"
            if let velocity {
                let v = velocity[i]
                line += ",\(csvNumber(v.x)),\(csvNumber(v.y)),\(csvNumber(v.z))"
            }
            text += line
            text += "\n"
        }
    }
    return text
}
