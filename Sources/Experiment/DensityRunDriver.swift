import CollapseAnalysis
import ContinuityStepper
import Foundation

/// A density state that a stepper advances: cell values at a time and step.
protocol EvolvingDensity {
    var time: Double { get }
    var step: Int { get }
    var density: [Double] { get }
}

extension DensityState: EvolvingDensity {}
extension CircleDensityState: EvolvingDensity {}

/// The part of a density run that does not depend on the manifold: the
/// banner, the step loop through the snapshot times with progress lines,
/// snapshots, diagnostics, run.json and the final state. A failed run keeps
/// every snapshot written before the failure.
final class DensityRunDriver {
    let config: RunConfig
    let outputDirectory: URL
    let log: ProgressLog
    /// Diagnostics of every step, row 0 the initial state.
    let table: DiagnosticsTable
    /// Densities at the snapshot times, in order, kept for comparisons.
    private(set) var snapshots: [(time: Double, density: [Double])] = []
    /// Contents of run.json, set by the caller before `run`.
    var record: RunRecord?

    /// Manifold-specific steps of a run.
    struct Hooks<State: EvolvingDensity> {
        /// Diagnostics of the state itself (dt = 0).
        var initialReport: (State) throws -> StepReport
        /// Advances the state to a time, calling the observer after every step.
        var advance: (inout State, Double, (StepReport, State) throws -> Void) throws -> Void
        /// Moments of the density given per cell.
        var moments: ([Double]) throws -> MomentSummary
        /// Mass Σ ρ_i · cell size of the density given per cell.
        var mass: ([Double]) -> Double
        /// Text of the snapshot file of the state.
        var snapshotText: (State) throws -> String
        /// Classification of the density at a time.
        var classify: ([Double], Double) throws -> FinalState
    }

    init(config: RunConfig, outputDirectory: URL, log: ProgressLog, dimension: Int) {
        self.config = config
        self.outputDirectory = outputDirectory
        self.log = log
        self.table = DiagnosticsTable(dimension: dimension)
    }

    /// Creates the output folder, or throws a `RunFailure` that names it.
    func openOutput() throws -> OutputFiles {
        do { return try OutputFiles(directory: outputDirectory) } catch let error as OutputError {
            throw RunFailure(name: config.name, reason: error.message, step: 0, time: 0, lastSnapshot: nil,
                             directory: outputDirectory, isOutputFailure: true)
        }
    }

    /// Prints the banner: program, grid line, model, time and output.
    func banner(gridLine: String, velocity: VelocityDescribing, scheme: String?) {
        let settings = config.density!
        log.line("meanfield \(MeanFieldCommand.version): run \(config.name)")
        log.line("  \(gridLine)")
        log.line("  model: β = \(config.model.beta), normalization \(config.model.normalization), velocity \(velocity.description)")
        log.line("  time: end \(config.time.end), \(config.time.snapshots.count) snapshots, cfl \(settings.cfl)\(scheme.map { ", scheme \($0)" } ?? "")\(settings.maximumStep.map { ", max_dt \($0)" } ?? "")")
        log.line("  output: \(outputDirectory.path)")
        for warning in velocity.warnings { log.line("  warning: \(warning)") }
    }

    /// Runs `state` through every snapshot time and writes the output folder.
    ///
    /// - Throws: `RunFailure` when the run stops; run.json and
    ///   diagnostics.csv then record the failure.
    func run<State: EvolvingDensity>(_ initialState: State, output: OutputFiles, startDate: Date,
                                     hooks: Hooks<State>) throws -> RunSummary {
        var state = initialState
        var lastSnapshot: String?
        let diagnostics = table

        func fail(_ reason: String, output isOutputFailure: Bool = false, interrupt: Int32? = nil) -> RunFailure {
            var failure = RunFailure(name: config.name, reason: reason, step: state.step, time: state.time,
                                     lastSnapshot: lastSnapshot, directory: outputDirectory,
                                     isOutputFailure: isOutputFailure)
            failure.interruptSignal = interrupt
            record?.finish(status: failure.status, steps: state.step, time: state.time, failure: failure)
            _ = try? diagnostics.write(to: output)
            if let record { _ = try? output.write(record.json(), to: "run.json") }
            return failure
        }

        func observe(_ report: StepReport, _ density: [Double]) throws {
            diagnostics.append(DiagnosticsRow(step: report.step, time: report.time, dt: report.dt,
                                              mass: report.mass, minimumDensity: report.minimumDensity,
                                              maximumDensity: report.maximumDensity, energy: report.energy,
                                              moments: try hooks.moments(density)))
        }

        func writeSnapshot() throws {
            let name = "density/" + OutputFiles.snapshotFileName(time: state.time)
            try output.write(try hooks.snapshotText(state), to: name)
            try diagnostics.write(to: output)
            lastSnapshot = name
            snapshots.append((state.time, state.density))
        }

        do {
            if let record { try output.write(record.json(), to: "run.json") }
            try writeSnapshot()
            let initialReport: StepReport
            do {
                initialReport = try hooks.initialReport(state)
            } catch let error as StepperError {
                // Row 0 without the energy, which needs the velocity that
                // failed, so diagnostics.csv still describes the initial state.
                diagnostics.append(DiagnosticsRow(step: state.step, time: state.time, dt: 0,
                                                  mass: hooks.mass(state.density),
                                                  minimumDensity: state.density.min() ?? 0,
                                                  maximumDensity: state.density.max() ?? 0, energy: nil,
                                                  moments: try hooks.moments(state.density)))
                throw error
            }
            try observe(initialReport, state.density)
            try diagnostics.write(to: output)
            let end = config.time.end
            for target in config.time.snapshots where target > state.time {
                try hooks.advance(&state, target) { report, newState in
                    try observe(report, newState.density)
                    let remainingSteps = (end - report.time) / report.dt
                    if report.dt > 0, remainingSteps > DensityRunDriver.maximumRemainingSteps {
                        throw StepTooSmall(reason: String(format: "the time step fell to %.3g, so reaching t = %g would take about %.2g more steps; velocities this large (USA velocities grow like e^{aβ}) need softmax normalization, a smaller beta or a shorter end time", report.dt, end, remainingSteps))
                    }
                    let energyText = report.energy.map { String(format: "%.10g", $0) } ?? "-"
                    self.log.step(String(format: "step %d  t %.6g  dt %.3g  mass %.15g  energy %@",
                                         report.step, report.time, report.dt, report.mass, energyText),
                                  fraction: end > 0 ? report.time / end : 1)
                    try checkForInterrupt()
                }
                try writeSnapshot()
            }
        } catch let error as StepperError {
            var reason = error.description
            if config.model.normalization == "none", error.kind == .nonFiniteVelocity {
                reason += "; unnormalized (USA) velocities grow like e^{beta·a} and exceed the doubles once beta·a passes about 709, so use softmax normalization or a smaller beta"
            }
            throw fail(reason)
        } catch let error as OutputError {
            throw fail(error.message, output: true)
        } catch let tooSmall as StepTooSmall {
            throw fail(tooSmall.reason)
        } catch let interrupted as RunInterrupted {
            throw fail(interrupted.reason, interrupt: interrupted.signal)
        } catch let failure as RunFailure {
            throw failure
        } catch {
            throw fail("\(error)")
        }

        do {
            let finalState = try hooks.classify(state.density, state.time)
            try output.write(try jsonText(finalState.jsonObject), to: "final_state.json")
            record?.extra["final_state"] = finalState.jsonObject
            log.line("  final state at t = \(state.time): \(finalState.classification.rawValue), \(finalState.clusterCount) cluster\(finalState.clusterCount == 1 ? "" : "s"), |m| = \(String(format: "%.4f", finalState.moments.firstMomentNorm)), effective rank \(String(format: "%.4f", finalState.moments.effectiveRank))")
        } catch let error as OutputError {
            throw fail(error.message, output: true)
        }
        record?.finish(status: "completed", steps: state.step, time: state.time, failure: nil)
        do {
            if let record { try output.write(record.json(), to: "run.json") }
        } catch let error as OutputError {
            throw fail(error.message, output: true)
        }
        return summarize(steps: state.step, time: state.time, startDate: startDate)
    }

    /// Prints the closing lines and returns the summary of a finished run.
    private func summarize(steps: Int, time: Double, startDate: Date) -> RunSummary {
        let rows = table.rows
        let mass0 = rows.first?.mass ?? 1
        let massDrift = rows.map { abs($0.mass - mass0) / mass0 }.max() ?? 0
        let wall = Date().timeIntervalSince(startDate)
        log.line("  done: \(steps) steps to t = \(time) in \(ProgressLog.format(seconds: wall)); max relative mass drift \(String(format: "%.2e", massDrift)); min density \(String(format: "%.3e", rows.map(\.minimumDensity).min() ?? 0))")
        if let first = rows.first?.energy, let last = rows.last?.energy {
            log.line("  energy \(String(format: "%.10g", first)) → \(String(format: "%.10g", last)); effective rank \(String(format: "%.4f", rows.first!.moments.effectiveRank)) → \(String(format: "%.4f", rows.last!.moments.effectiveRank))")
        }
        let line = "\(config.name): \(steps) steps to t = \(String(format: "%g", time)), \(config.time.snapshots.count) snapshots, \(ProgressLog.format(seconds: wall)) — \(outputDirectory.path)"
        return RunSummary(name: config.name, directory: outputDirectory, steps: steps, line: line)
    }
}

extension DensityRunDriver {
    /// A run whose step would need more steps than this to reach its end
    /// time stops with a diagnostic instead of running for days.
    static let maximumRemainingSteps = 1e7

    /// Raised inside the step observer when the step became too small.
    struct StepTooSmall: Error {
        let reason: String
    }
}
