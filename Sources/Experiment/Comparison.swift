import Foundation
import LinearAlgebra
import Particles
import SphereGrid

/// Distance between an empirical measure and a density on S^2, as the
/// negative Sobolev norm
///
///     ‖μ − ρ‖_{H^{−s}} = ( Σ_{l=1}^{L} w_l Σ_m (μ_lm − ρ_lm)² )^{1/2},   w_l = (1 + l(l+1))^{−s},
///
/// with s = 2, harmonic coefficients in the orthonormal real basis,
/// μ_lm = (1/n) Σ_i Y_lm(x_i) and ρ_lm the quadrature analysis of the grid
/// density, L = nlat − 1. The weights satisfy Σ (2l+1) w_l < ∞ (any s > 1
/// does), so for n independent samples of ρ the expected squared distance
/// is Σ_l w_l Σ_m Var Y_lm / n: the distance shrinks like n^{−1/2}.
/// The l = 0 term vanishes because both measures have mass 1.
/// NOTE: ρ_lm comes from point values at the cell centres, while the tokens
/// are sampled from the piecewise-constant density. The two differ by
/// O((l h)²) relative at degree l (h the cell size), an estimated floor far
/// below the sampling error for smooth densities and n up to about 10^5 on gl32.
enum SobolevDistance {
    static let order = 2.0

    static func weight(degree l: Int) -> Double {
        pow(1 + Double(l * (l + 1)), -order)
    }

    static func distance(tokens: Tokens, density: HarmonicCoefficients) -> Double {
        precondition(tokens.dimension == 3, "the harmonic distance is defined on S^2")
        let points = (0..<tokens.count).map {
            SIMD3(tokens.positions[3 * $0], tokens.positions[3 * $0 + 1], tokens.positions[3 * $0 + 2])
        }
        let empirical = HarmonicCoefficients.pointMasses(at: points, maximumDegree: density.maximumDegree)
        var total = 0.0
        for l in 1...max(1, density.maximumDegree) where l <= density.maximumDegree {
            var sum = 0.0
            for m in -l...l {
                let difference = empirical[degree: l, order: m] - density[degree: l, order: m]
                sum += difference * difference
            }
            total += weight(degree: l) * sum
        }
        return total.squareRoot()
    }
}

/// Distance between an empirical measure and a density on S^1, as the
/// negative Sobolev norm
///
///     ‖μ − ρ‖_{H^{−1}} = ( Σ_{k=1}^{K} (1 + k²)^{−1} |μ̂_k − ρ̂_k|² )^{1/2},
///
/// with μ̂_k = (1/n) Σ_i e^{−ikθ_i} and ρ̂_k = ∫ e^{−ikθ} ρ dθ, both
/// Fourier coefficients of a probability measure (no 1/(2π) factor), and
/// K = cells/2. The sum runs over k ≥ 1 only. The terms of −k are the
/// complex conjugates of those of k, so the two-sided norm is √2 times this
/// one. ρ̂_k is the exact coefficient of the piecewise-constant density the
/// tokens are sampled from, sinc(kh/2) Σ_j ρ_j h e^{−ikθ_j} with
/// sinc x = sin x / x, so for n independent samples
/// E|μ̂_k − ρ̂_k|² = (1 − |ρ̂_k|²)/n, and since Σ (1 + k²)^{−1} converges
/// (s = 1 > 1/2) the distance shrinks like n^{−1/2}.
enum CircleFourierDistance {
    static func weight(mode k: Int) -> Double {
        1 / (1 + Double(k * k))
    }

    /// ρ̂_k for k = 0…maximumMode of the piecewise-constant density on `grid`.
    static func coefficients(density: [Double], grid: CircleGrid, maximumMode: Int) -> [(re: Double, im: Double)] {
        let h = grid.cellLength
        return (0...maximumMode).map { k in
            var re = 0.0, im = 0.0
            for j in density.indices {
                let phase = Double(k) * grid.angle(cell: j)
                re += density[j] * cos(phase)
                im -= density[j] * sin(phase)
            }
            let x = 0.5 * Double(k) * h
            let sinc = k == 0 ? 1 : sin(x) / x
            return (re * h * sinc, im * h * sinc)
        }
    }

    static func distance(tokens: Tokens, density: [(re: Double, im: Double)]) -> Double {
        precondition(tokens.dimension == 2, "the Fourier distance is defined on S^1")
        let maximumMode = density.count - 1
        guard maximumMode >= 1 else { return 0 }
        var sumRe = [Double](repeating: 0, count: maximumMode + 1)
        var sumIm = [Double](repeating: 0, count: maximumMode + 1)
        for i in 0..<tokens.count {
            let x = tokens.positions[2 * i]
            let y = tokens.positions[2 * i + 1]
            let norm = (x * x + y * y).squareRoot()
            // e^{−ikθ} by repeated multiplication with e^{−iθ} = (x − iy)/|x|.
            let stepRe = x / norm, stepIm = -y / norm
            var re = 1.0, im = 0.0
            for k in 1...maximumMode {
                (re, im) = (re * stepRe - im * stepIm, re * stepIm + im * stepRe)
                sumRe[k] += re
                sumIm[k] += im
            }
        }
        let n = Double(tokens.count)
        var total = 0.0
        for k in 1...maximumMode {
            let dRe = sumRe[k] / n - density[k].re
            let dIm = sumIm[k] / n - density[k].im
            total += weight(mode: k) * (dRe * dRe + dIm * dIm)
        }
        return total.squareRoot()
    }
}

/// A finished density run that particle runs start from and are compared with.
protocol ComparableDensityRun: AnyObject {
    var snapshots: [(time: Double, density: [Double])] { get }
    var table: DiagnosticsTable { get }
    var record: RunRecord? { get }
    /// Description of the distance column of `comparison.csv`, for run.json.
    var distanceDescription: String { get }
    /// Sampler of the initial density, the start of every particle run.
    func initialSampler() throws -> CellSampler?
    /// A function from a density snapshot to the distance of tokens from it.
    func makeDistance() throws -> ([Double]) -> (Tokens) -> Double
}

extension DensityRun: ComparableDensityRun {
    var distanceDescription: String { "negative Sobolev norm H^-2 over harmonic degrees 1...L" }

    func initialSampler() throws -> CellSampler? {
        guard let grid, let first = snapshots.first else { return nil }
        return try CellSampler(grid: grid, density: first.density)
    }

    func makeDistance() throws -> ([Double]) -> (Tokens) -> Double {
        guard let grid else { return { _ in { _ in .nan } } }
        let transform = try SphericalHarmonicTransform(grid: grid)
        return { density in
            let coefficients = transform.analyze(density)
            return { SobolevDistance.distance(tokens: $0, density: coefficients) }
        }
    }
}

extension CircleDensityRun: ComparableDensityRun {
    var distanceDescription: String { "negative Sobolev norm H^-1 over Fourier modes 1...cells/2" }

    func initialSampler() throws -> CellSampler? {
        guard let grid, let first = snapshots.first else { return nil }
        return try CellSampler(grid: grid, density: first.density)
    }

    func makeDistance() throws -> ([Double]) -> (Tokens) -> Double {
        guard let grid else { return { _ in { _ in .nan } } }
        return { density in
            let coefficients = CircleFourierDistance.coefficients(density: density, grid: grid, maximumMode: grid.cells / 2)
            return { CircleFourierDistance.distance(tokens: $0, density: coefficients) }
        }
    }
}

/// One row of `comparison.csv`.
struct ComparisonRow {
    let time: Double
    let count: Int
    let seed: UInt64
    let density: DiagnosticsRow
    let particles: StepObservation
    let distance: Double

    static let header = header(dimension: 3)

    /// Header for S^{d−1}: d second-moment eigenvalue columns per side, so
    /// three on S^2 and two on S^1.
    static func header(dimension d: Int) -> String {
        (["time", "count", "seed", "density_energy", "particle_energy", "particle_energy_without_self_interaction",
          "energy_difference", "density_first_moment_norm", "particle_first_moment_norm"]
         + (1...d).map { "density_second_moment_eigenvalue_\($0)" }
         + (1...d).map { "particle_second_moment_eigenvalue_\($0)" }
         + ["density_effective_rank", "particle_effective_rank", "distance"]).joined(separator: ",")
    }

    var csvLine: String {
        let particleEnergy = particles.energy.energyWithoutSelfInteraction
        var fields = [csvNumber(time), String(count), String(seed), csvNumber(density.energy),
                      csvNumber(particles.energy.energy), csvNumber(particleEnergy),
                      csvNumber(density.energy.map { particleEnergy - $0 }),
                      csvNumber(density.moments.firstMomentNorm), csvNumber(particles.firstMomentNorm)]
        fields += density.moments.secondMomentEigenvalues.prefix(particles.secondMomentEigenvalues.count).map(csvNumber)
        fields += particles.secondMomentEigenvalues.map(csvNumber)
        fields += [csvNumber(density.moments.effectiveRank), csvNumber(particles.effectiveRank), csvNumber(distance)]
        return fields.joined(separator: ",")
    }
}

/// Least-squares slope and intercept of y against x, and R².
func linearFit(x: [Double], y: [Double]) -> (slope: Double, intercept: Double, rSquared: Double) {
    let n = Double(x.count)
    let meanX = x.reduce(0, +) / n
    let meanY = y.reduce(0, +) / n
    var sxx = 0.0, sxy = 0.0, syy = 0.0
    for (a, b) in zip(x, y) {
        sxx += (a - meanX) * (a - meanX)
        sxy += (a - meanX) * (b - meanY)
        syy += (b - meanY) * (b - meanY)
    }
    let slope = sxy / sxx
    let rSquared = syy > 0 ? sxy * sxy / (sxx * syy) : 1
    return (slope, meanY - slope * meanX, rSquared)
}

/// Builds `comparison.csv` and, for several counts, `comparison_slopes.csv`.
enum ComparisonWriter {
    static func write(densityRun: ComparableDensityRun, particleRuns: [ParticleRun], output: OutputFiles,
                      dimension: Int, progress: ProgressLog) throws {
        let distanceTo = try densityRun.makeDistance()
        var text = ComparisonRow.header(dimension: dimension) + "\n"
        var slopeText = "time,slope,intercept,r_squared,counts,mean_log_distances\n"
        let counts = Array(Set(particleRuns.map(\.count))).sorted()

        for (time, density) in densityRun.snapshots {
            guard let densityRow = densityRun.table.rows.last(where: { $0.time == time }) else { continue }
            let distance = distanceTo(density)
            var logDistances: [Int: [Double]] = [:]
            for run in particleRuns {
                try checkForInterrupt()
                guard let snapshot = run.snapshots.first(where: { $0.time == time }) else { continue }
                let row = ComparisonRow(time: time, count: run.count, seed: run.seed, density: densityRow,
                                        particles: snapshot.observation, distance: distance(snapshot.tokens))
                text += row.csvLine + "\n"
                logDistances[run.count, default: []].append(Foundation.log(row.distance))
            }
            if counts.count >= 2, counts.allSatisfy({ logDistances[$0] != nil }) {
                let means = counts.map { count in logDistances[count]!.reduce(0, +) / Double(logDistances[count]!.count) }
                let fit = linearFit(x: counts.map { log(Double($0)) }, y: means)
                // Two counts fit any line exactly, so R² carries no information there.
                let rSquared: Double? = counts.count > 2 ? fit.rSquared : nil
                slopeText += [csvNumber(time), csvNumber(fit.slope), csvNumber(fit.intercept), csvNumber(rSquared),
                              counts.map(String.init).joined(separator: ";"),
                              means.map(csvNumber).joined(separator: ";")].joined(separator: ",") + "\n"
                let fitQuality = rSquared.map { String(format: "R² %.3f, ", $0) } ?? ""
                progress.line(String(format: "  t = %g: distance ~ n^%.3f (%@n = %@)", time, fit.slope,
                                fitQuality, counts.map(String.init).joined(separator: ", ")))
            }
        }
        try output.write(text, to: "comparison.csv")
        if counts.count >= 2 { try output.write(slopeText, to: "comparison_slopes.csv") }
    }
}
