import CollapseAnalysis
import Foundation
import LinearAlgebra
import Particles
import SphereGrid

/// State of a particle run at one snapshot time, kept for comparisons.
struct ParticleSnapshotSummary {
    let time: Double
    let tokens: Tokens
    let observation: StepObservation
}

/// Runs the token system of a config for one (count, seed) pair and writes
/// `t=<time>.csv` snapshots and `diagnostics.csv` into its folder.
final class ParticleRun {
    let config: RunConfig
    let settings: ParticleSettings
    let count: Int
    let seed: UInt64
    /// Folder of the whole run, which contains run.json.
    let runDirectory: URL
    /// Folder of this particle run relative to `runDirectory`.
    let folder: String
    var directory: URL { runDirectory.appendingPathComponent(folder) }
    let log: ProgressLog
    /// Sampler of the cell-wise initial density of the density run
    /// (comparison runs), nil to sample the config's initial condition.
    let initialDensity: CellSampler?
    private(set) var snapshots: [ParticleSnapshotSummary] = []
    private(set) var steps = 0
    /// Classification of the tokens at the end time.
    private(set) var finalState: FinalState?

    init(config: RunConfig, count: Int, seed: UInt64, runDirectory: URL, folder: String, log: ProgressLog,
         initialDensity: CellSampler?) {
        precondition(config.particles != nil, "ParticleRun needs a particles section")
        self.config = config
        self.settings = config.particles!
        self.count = count
        self.seed = seed
        self.runDirectory = runDirectory
        self.folder = folder
        self.log = log
        self.initialDensity = initialDensity
    }

    static let diagnosticsColumns = ["step", "time", "energy", "self_interaction", "energy_without_self_interaction",
                                     "first_moment_norm"]

    func execute() throws {
        let d = config.model.dimension
        let tokens = try initialTokens()
        let model = try makeModel()
        let simulation = try ParticleSimulation(model: model, tokens: tokens,
                                                integrator: settings.integrator == "layer" ? .layer : .rk4,
                                                stepSize: settings.step)
        let output = try OutputFiles(directory: directory)
        var text = (ParticleRun.diagnosticsColumns + (1...d).map { "second_moment_eigenvalue_\($0)" }
                    + ["effective_rank"]).joined(separator: ",") + "\n"
        var latest: StepObservation?
        let end = config.time.end

        func record(_ observation: StepObservation) throws {
            latest = observation
            var fields = [String(observation.step), csvNumber(observation.time),
                          csvNumber(observation.energy.energy), csvNumber(observation.energy.selfInteraction),
                          csvNumber(observation.energy.energyWithoutSelfInteraction),
                          csvNumber(observation.firstMomentNorm)]
            fields += observation.secondMomentEigenvalues.map(csvNumber)
            fields.append(csvNumber(observation.effectiveRank))
            text += fields.joined(separator: ",") + "\n"
            log.step(String(format: "n %d seed %d  step %d  t %.6g  energy %.10g  rank %.4f", count, Int(seed),
                            observation.step, observation.time, observation.energy.energy,
                            observation.effectiveRank),
                     fraction: end > 0 ? observation.time / end : 1)
            try checkForInterrupt()
        }

        do {
            for target in config.time.snapshots {
                try simulation.run(until: target, snapshotTimes: [target], observer: record)
                guard let observation = latest else { continue }
                try output.write(tokenText(simulation.tokens), to: OutputFiles.snapshotFileName(time: target))
                try output.write(text, to: "diagnostics.csv")
                snapshots.append(ParticleSnapshotSummary(time: target, tokens: simulation.tokens, observation: observation))
            }
        } catch let error as ParticleError {
            steps = simulation.step
            _ = try? output.write(text, to: "diagnostics.csv")
            throw failure(reason: "\(error)", step: simulation.step, time: simulation.time)
        } catch let interrupted as RunInterrupted {
            steps = simulation.step
            _ = try? output.write(text, to: "diagnostics.csv")
            throw failure(interrupted, step: simulation.step, time: simulation.time)
        }
        steps = simulation.step
        // Classifying many tokens takes seconds, so a signal that came during
        // the last step stops the run here.
        if let interrupted = pendingInterrupt.map(RunInterrupted.init) {
            throw failure(interrupted, step: simulation.step, time: simulation.time)
        }
        let state = try classifyParticles(positions: simulation.tokens.positions, count: count, dimension: d,
                                          time: simulation.time)
        try output.write(try jsonText(state.jsonObject), to: "final_state.json")
        finalState = state
        log.line("  final state of n = \(count), seed \(seed) at t = \(simulation.time): \(state.classification.rawValue), \(state.clusterCount) cluster\(state.clusterCount == 1 ? "" : "s"), |m| = \(String(format: "%.4f", state.moments.firstMomentNorm)), effective rank \(String(format: "%.4f", state.moments.effectiveRank))")
    }

    /// Builds the `RunFailure` of this particle run at a step, naming its
    /// last snapshot relative to the run folder.
    private func failure(reason: String, step: Int, time: Double) -> RunFailure {
        RunFailure(name: "\(config.name) (particles n = \(count), seed \(seed))", reason: reason,
                   step: step, time: time,
                   lastSnapshot: snapshots.last.map { folder + "/" + OutputFiles.snapshotFileName(time: $0.time) },
                   directory: runDirectory, isOutputFailure: false)
    }

    /// Builds the `RunFailure` of an interruption at a step.
    private func failure(_ interrupted: RunInterrupted, step: Int, time: Double) -> RunFailure {
        var stopped = failure(reason: interrupted.reason, step: step, time: time)
        stopped.interruptSignal = interrupted.signal
        return stopped
    }

    private func makeModel() throws -> ParticleModel {
        let model = config.model
        let d = model.dimension
        do {
            return try ParticleModel(dimension: d, beta: model.beta,
                                     query: .explicit(try model.query.entries(dimension: d)),
                                     key: .explicit(try model.key.entries(dimension: d)),
                                     value: .explicit(try model.value.entries(dimension: d)),
                                     normalization: model.normalization == "softmax" ? .softmax : .unnormalized)
        } catch let error as ParticleError {
            throw ConfigError("model: \(error)")
        }
    }

    /// Samples the initial tokens from the density grid when the run has one,
    /// so that both sides start from the same measure. Otherwise it samples
    /// the analytic distribution or reads a token file.
    private func initialTokens() throws -> Tokens {
        let d = config.model.dimension
        if let initialDensity {
            return try initialDensity.sample(count: count, seed: seed)
        }
        do {
            switch config.initial {
            case .csv(let path):
                let tokens = try Tokens.readCSV(atPath: path, dimension: d)
                guard tokens.count == count else {
                    throw ConfigError("initial.path = \"\(path)\" contains \(tokens.count) tokens but particles.count is \(count): make them equal")
                }
                return tokens
            default:
                return try Tokens.sample(try distribution(config.initial), count: count, dimension: d, seed: seed)
            }
        } catch let error as ParticleError {
            throw ConfigError("initial: \(error)")
        }
    }

    private func distribution(_ condition: InitialCondition) throws -> TokenDistribution {
        switch condition {
        case .uniform(nil):
            return .uniform
        case .vonMisesFisher(let mean, let kappa):
            return .vonMisesFisher(meanDirection: mean, concentration: kappa)
        case .mixture(let components):
            return .mixture(try components.map {
                MixtureComponent(weight: $0.weight, distribution: try distribution($0.condition))
            })
        case .uniform(.some), .csv:
            throw ConfigError("initial: this initial condition needs a density section to sample particles from")
        }
    }

    private func tokenText(_ tokens: Tokens) -> String {
        let d = tokens.dimension
        var text = "particle," + (1...d).map { "x\($0)" }.joined(separator: ",") + "\n"
        text.reserveCapacity(tokens.count * d * 22)
        for i in 0..<tokens.count {
            text += String(i)
            for k in 0..<d {
                text += ","
                text += csvNumber(tokens.positions[i * d + k])
            }
            text += "\n"
        }
        return text
    }
}

/// Draws tokens from the piecewise-constant density of a grid exactly: a
/// cell with probability ρ_i area_i (ρ_k length_k on a circle grid), then a
/// point uniform inside it. On S^2 that means cos θ uniform between the ring
/// faces and φ uniform between the longitude faces. On S^1 the angle is
/// uniform between the cell faces θ_k ± h/2.
struct CellSampler {
    enum Cells {
        case sphere(SphereGrid)
        case circle(CircleGrid)
    }

    let cells: Cells
    let cumulative: [Double]

    init(grid: SphereGrid, density: [Double]) throws {
        cells = .sphere(grid)
        cumulative = try CellSampler.cumulativeDistribution(density: density, measures: grid.cellAreas())
    }

    init(grid: CircleGrid, density: [Double]) throws {
        cells = .circle(grid)
        cumulative = try CellSampler.cumulativeDistribution(density: density, measures: grid.cellLengths())
    }

    /// Normalized running sums of max(ρ_i, 0) · measure_i.
    private static func cumulativeDistribution(density: [Double], measures: [Double]) throws -> [Double] {
        var running = 0.0
        var cumulative = [Double](repeating: 0, count: density.count)
        for i in density.indices {
            running += max(density[i], 0) * measures[i]
            cumulative[i] = running
        }
        guard running > 0, running.isFinite else {
            throw ConfigError("initial density has mass \(running): cannot sample particles from it")
        }
        return cumulative.map { $0 / running }
    }

    /// Index of the first cell whose cumulative probability reaches u.
    private func cell(for u: Double) -> Int {
        var low = 0, high = cumulative.count - 1
        while low < high {
            let middle = (low + high) / 2
            if cumulative[middle] < u { low = middle + 1 } else { high = middle }
        }
        return low
    }

    func sample(count: Int, seed: UInt64) throws -> Tokens {
        var generator = SeededGenerator(seed: seed)
        switch cells {
        case .sphere(let grid):
            var positions = [Double](repeating: 0, count: 3 * count)
            for i in 0..<count {
                let index = cell(for: generator.nextUniform())
                let j = index / grid.nlon
                let k = index % grid.nlon
                let zTop = grid.faceCosColatitude[j]
                let zBottom = grid.faceCosColatitude[j + 1]
                let z = zBottom + (zTop - zBottom) * generator.nextUniform()
                let phi = grid.longitude(column: k) + (generator.nextUniform() - 0.5) * grid.longitudeSpacing
                let s = max(0, 1 - z * z).squareRoot()
                positions[3 * i] = s * cos(phi)
                positions[3 * i + 1] = s * sin(phi)
                positions[3 * i + 2] = z
            }
            return try Tokens(dimension: 3, positions: positions)
        case .circle(let grid):
            var positions = [Double](repeating: 0, count: 2 * count)
            for i in 0..<count {
                let k = cell(for: generator.nextUniform())
                let theta = grid.angle(cell: k) + (generator.nextUniform() - 0.5) * grid.cellLength
                positions[2 * i] = cos(theta)
                positions[2 * i + 1] = sin(theta)
            }
            return try Tokens(dimension: 2, positions: positions)
        }
    }
}
