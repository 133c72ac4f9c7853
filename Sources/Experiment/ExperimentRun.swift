import Foundation
import Particles
import SphereGrid

/// Runs everything one config requests: the density, the particles for
/// every (count, seed) pair, and their comparison when both are present.
public final class ExperimentRun {
    public let config: RunConfig
    public let outputDirectory: URL
    let log: ProgressLog

    public init(config: RunConfig, outputDirectory: URL, log: ProgressLog) {
        self.config = config
        self.outputDirectory = outputDirectory
        self.log = log
    }

    /// Folder of one particle run: `particles/` for a single (count, seed)
    /// pair, `particles/n=<count>-seed=<seed>/` when there are several.
    static func particleFolder(settings: ParticleSettings, count: Int, seed: UInt64) -> String {
        settings.counts.count == 1 && settings.seeds.count == 1 ? "particles" : "particles/n=\(count)-seed=\(seed)"
    }

    public func execute() throws -> RunSummary {
        let start = Date()
        do {
            try OutputFiles(directory: outputDirectory).removePreviousRunFiles()
        } catch let error as OutputError {
            throw RunFailure(name: config.name, reason: error.message, step: 0, time: 0, lastSnapshot: nil,
                             directory: outputDirectory, isOutputFailure: true)
        }
        var densityRun: ComparableDensityRun?
        var densitySummary: RunSummary?
        if let density = config.density {
            switch density.grid {
            case .sphere:
                let run = DensityRun(config: config, outputDirectory: outputDirectory, log: log)
                densitySummary = try run.execute()
                densityRun = run
            case .circle:
                let run = CircleDensityRun(config: config, outputDirectory: outputDirectory, log: log)
                densitySummary = try run.execute()
                densityRun = run
            }
        }
        guard let settings = config.particles else {
            return densitySummary!
        }

        let output: OutputFiles
        do { output = try OutputFiles(directory: outputDirectory) } catch let error as OutputError {
            throw RunFailure(name: config.name, reason: error.message, step: 0, time: 0, lastSnapshot: nil,
                             directory: outputDirectory, isOutputFailure: true)
        }
        var record = densityRun?.record ?? RunRecord(config: config, grid: nil, source: nil, startDate: start)
        if densityRun == nil {
            log.line("meanfield \(MeanFieldCommand.version): run \(config.name)")
            log.line("  model: d = \(config.model.dimension), β = \(config.model.beta), normalization \(config.model.normalization)")
            log.line("  output: \(outputDirectory.path)")
        }
        // The density phase recorded "completed"; the run as a whole is
        // running until the particles and the comparison are done.
        record.status = "running"
        try output.write(record.json(), to: "run.json")
        let initialDensity = try densityRun?.initialSampler()

        // Steps and time of run.json on failure: those of the density when
        // there is one, else those of the failed particle run.
        func stop(_ failure: RunFailure) -> RunFailure {
            record.finish(status: failure.status, steps: densityRun?.record?.steps ?? failure.step,
                          time: densityRun?.record?.time ?? failure.time, failure: failure)
            _ = try? output.write(record.json(), to: "run.json")
            return failure
        }

        var particleRuns: [ParticleRun] = []
        var runEntries: [[String: Any]] = []
        for count in settings.counts {
            for seed in settings.seeds {
                let folder = ExperimentRun.particleFolder(settings: settings, count: count, seed: seed)
                log.line("  particles: n = \(count), seed \(seed), \(settings.integrator) step \(settings.step) → \(folder)/")
                let run = ParticleRun(config: config, count: count, seed: seed, runDirectory: outputDirectory,
                                      folder: folder, log: log, initialDensity: initialDensity)
                do {
                    try run.execute()
                } catch let failure as RunFailure {
                    throw stop(failure)
                }
                particleRuns.append(run)
                runEntries.append(["count": count, "seed": Int(seed), "folder": folder, "steps": run.steps,
                                   "final_state": run.finalState?.jsonObject ?? NSNull()])
            }
        }
        record.extra["particles"] = [
            "integrator": settings.integrator, "step": settings.step, "runs": runEntries,
        ] as [String: Any]

        if let densityRun {
            do {
                try ComparisonWriter.write(densityRun: densityRun, particleRuns: particleRuns, output: output,
                                           dimension: config.model.dimension, progress: log)
            } catch let interrupted as RunInterrupted {
                var failure = RunFailure(name: config.name, reason: interrupted.reason + " during the comparison",
                                         step: densityRun.record?.steps ?? 0, time: config.time.end,
                                         lastSnapshot: densityRun.snapshots.last.map {
                                             "density/" + OutputFiles.snapshotFileName(time: $0.time)
                                         },
                                         directory: outputDirectory, isOutputFailure: false)
                failure.interruptSignal = interrupted.signal
                throw stop(failure)
            }
            record.extra["comparison"] = [
                "file": "comparison.csv",
                "distance": densityRun.distanceDescription,
                "slopes_file": settings.counts.count >= 2 ? "comparison_slopes.csv" : NSNull(),
            ] as [String: Any]
        }
        record.finish(status: "completed", steps: densityRun?.record?.steps ?? particleRuns.last?.steps ?? 0,
                      time: config.time.end, failure: nil)
        try output.write(record.json(), to: "run.json")

        let wall = Date().timeIntervalSince(start)
        var line = "\(config.name): "
        if let densitySummary { line += "density \(densitySummary.steps) steps, " }
        line += "particles \(particleRuns.count) run\(particleRuns.count == 1 ? "" : "s") (n = \(settings.counts.map(String.init).joined(separator: ", "))), to t = \(String(format: "%g", config.time.end)), \(ProgressLog.format(seconds: wall)) — \(outputDirectory.path)"
        return RunSummary(name: config.name, directory: outputDirectory, steps: densitySummary?.steps ?? 0, line: line)
    }
}
