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

    public var description: String {
        let kept = lastSnapshot.map { "last good snapshot: \(directory.path)/\($0)" } ?? "no snapshot was written"
        return "run \(name) stopped at step \(step), t = \(time): \(reason); \(kept)"
    }

    public var summaryLine: String {
        "\(name): failed at step \(step), t = \(String(format: "%.6g", time)) — \(directory.path)"
    }
}

/// Evolves one config's density and writes its output folder.
public final class DensityRun {
    public let config: RunConfig
    public let outputDirectory: URL
    let log: ProgressLog

    let settings: DensitySettings
    /// Replaces the velocity of the config; tests use it to inject failures.
    var velocityOverride: VelocityField?
    /// Densities at the snapshot times, in order, kept for comparisons.
    private(set) var snapshots: [(time: Double, density: [Double])] = []
    /// The grid of the run, once `execute` has built it.
    private(set) var grid: SphereGrid?
    /// Diagnostics of every step, row 0 the initial state.
    let table = DiagnosticsTable()
    /// What run.json records; set once `execute` has built the solver.
    private(set) var record: RunRecord?

    /// - Precondition: the config has a density section.
    public init(config: RunConfig, outputDirectory: URL, log: ProgressLog) {
        precondition(config.density != nil, "DensityRun needs a density section")
        self.config = config
        self.settings = config.density!
        self.outputDirectory = outputDirectory
        self.log = log
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

        let output: OutputFiles
        do { output = try OutputFiles(directory: outputDirectory) } catch let error as OutputError {
            throw RunFailure(name: config.name, reason: error.message, step: 0, time: 0, lastSnapshot: nil,
                             directory: outputDirectory, isOutputFailure: true)
        }
        let centres = grid.cellCentres()
        let areas = grid.cellAreas()
        let diagnostics = table
        record = RunRecord(config: config, grid: grid, source: source, startDate: startDate)
        var lastSnapshot: String?
        var state = DensityState(density: density)

        log.line("meanfield \(MeanFieldCommand.version): run \(config.name)")
        log.line("  grid \(settings.gridName): \(grid.nlat) rings × \(grid.nlon) longitudes, \(grid.cellCount) cells, degree ≤ \(grid.maximumDegree)")
        log.line("  model: β = \(config.model.beta), normalization \(config.model.normalization), velocity \(source.description)")
        log.line("  time: end \(config.time.end), \(config.time.snapshots.count) snapshots, cfl \(settings.cfl), scheme \(settings.scheme)\(settings.maximumStep.map { ", max_dt \($0)" } ?? "")")
        log.line("  output: \(outputDirectory.path)")
        for warning in source.warnings { log.line("  warning: \(warning)") }

        func fail(_ reason: String, output isOutputFailure: Bool = false) -> RunFailure {
            let failure = RunFailure(name: config.name, reason: reason, step: state.step, time: state.time,
                                     lastSnapshot: lastSnapshot, directory: outputDirectory,
                                     isOutputFailure: isOutputFailure)
            record?.finish(status: "failed", steps: state.step, time: state.time, failure: failure)
            _ = try? diagnostics.write(to: output)
            _ = try? output.write(record!.json(), to: "run.json")
            return failure
        }

        func observe(_ report: StepReport, _ density: [Double]) throws {
            let moments = try MomentSummary(points: centres, masses: zip(density, areas).map { $0 * $1 })
            diagnostics.append(DiagnosticsRow(step: report.step, time: report.time, dt: report.dt,
                                              mass: report.mass, minimumDensity: report.minimumDensity,
                                              maximumDensity: report.maximumDensity, energy: report.energy,
                                              moments: moments))
        }

        func writeSnapshot() throws {
            let name = "density/" + OutputFiles.snapshotFileName(time: state.time)
            let velocity = config.output.fields.contains("velocity") ? try source.cellVelocities(density: state.density) : nil
            try output.write(snapshotText(grid: grid, centres: centres, areas: areas,
                                          density: state.density, velocity: velocity), to: name)
            try diagnostics.write(to: output)
            lastSnapshot = name
            snapshots.append((state.time, state.density))
        }

        do {
            try output.write(record!.json(), to: "run.json")
            try writeSnapshot()
            try observe(try stepper.report(for: state), state.density)
            try diagnostics.write(to: output)
            let end = config.time.end
            for target in config.time.snapshots where target > state.time {
                try stepper.advance(&state, to: target) { report, newState in
                    try observe(report, newState.density)
                    let remainingSteps = (end - report.time) / report.dt
                    if report.dt > 0, remainingSteps > DensityRun.maximumRemainingSteps {
                        throw RunFailure(name: config.name,
                                         reason: String(format: "the time step fell to %.3g, so reaching t = %g would take about %.2g more steps; velocities this large (USA velocities grow like e^{aβ}) need softmax normalization, a smaller beta or a shorter end time", report.dt, end, remainingSteps),
                                         step: report.step, time: report.time, lastSnapshot: lastSnapshot,
                                         directory: outputDirectory, isOutputFailure: false)
                    }
                    let energyText = report.energy.map { String(format: "%.10g", $0) } ?? "-"
                    log.step(String(format: "step %d  t %.6g  dt %.3g  mass %.15g  energy %@",
                                    report.step, report.time, report.dt, report.mass, energyText),
                             fraction: end > 0 ? report.time / end : 1)
                }
                try writeSnapshot()
            }
        } catch let error as StepperError {
            throw fail(error.description)
        } catch let error as OutputError {
            throw fail(error.message, output: true)
        } catch let failure as RunFailure {
            throw fail(failure.reason)
        } catch {
            throw fail("\(error)")
        }

        do {
            let finalState = try classifyDensity(state.density, on: grid, time: state.time)
            try output.write(try jsonText(finalState.jsonObject), to: "final_state.json")
            record?.extra["final_state"] = finalState.jsonObject
            log.line("  final state at t = \(state.time): \(finalState.classification.rawValue), \(finalState.clusterCount) cluster\(finalState.clusterCount == 1 ? "" : "s"), |m| = \(String(format: "%.4f", finalState.moments.firstMomentNorm)), effective rank \(String(format: "%.4f", finalState.moments.effectiveRank))")
        } catch let error as OutputError {
            throw fail(error.message, output: true)
        }
        record?.finish(status: "completed", steps: state.step, time: state.time, failure: nil)
        do { try output.write(record!.json(), to: "run.json") } catch let error as OutputError {
            throw fail(error.message, output: true)
        }
        let rows = diagnostics.rows
        let mass0 = rows.first?.mass ?? 1
        let massDrift = rows.map { abs($0.mass - mass0) / mass0 }.max() ?? 0
        let wall = Date().timeIntervalSince(startDate)
        log.line("  done: \(state.step) steps to t = \(state.time) in \(ProgressLog.format(seconds: wall)); max relative mass drift \(String(format: "%.2e", massDrift)); min density \(String(format: "%.3e", rows.map(\.minimumDensity).min() ?? 0))")
        if let first = rows.first?.energy, let last = rows.last?.energy {
            log.line("  energy \(String(format: "%.10g", first)) → \(String(format: "%.10g", last)); effective rank \(String(format: "%.4f", rows.first!.moments.effectiveRank)) → \(String(format: "%.4f", rows.last!.moments.effectiveRank))")
        }
        let line = "\(config.name): \(state.step) steps to t = \(String(format: "%g", state.time)), \(config.time.snapshots.count) snapshots, \(ProgressLog.format(seconds: wall)) — \(outputDirectory.path)"
        return RunSummary(name: config.name, directory: outputDirectory, steps: state.step, line: line)
    }

    /// A run whose step would need more steps than this to reach its end
    /// time stops with a diagnostic instead of running for days.
    static let maximumRemainingSteps = 1e7

    static func timeScheme(named name: String) -> TimeScheme {
        switch name {
        case "method-of-lines": return .methodOfLines
        case "semi-lagrangian": return .fluxFormSemiLagrangian
        default: return .automatic
        }
    }

    private func makeGrid() throws -> SphereGrid {
        do { return try settings.grid.makeGrid() } catch let error as GridError {
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
