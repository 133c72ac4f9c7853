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
/// NOTE: ρ_lm comes from point values at the cell centres while the tokens
/// are sampled from the piecewise-constant density; the two differ by
/// O((l h)²) relative at degree l (h the cell size), a floor far below the
/// sampling error for smooth densities and n up to about 10^5 on gl32.
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

/// One row of `comparison.csv`.
struct ComparisonRow {
    let time: Double
    let count: Int
    let seed: UInt64
    let density: DiagnosticsRow
    let particles: StepObservation
    let distance: Double

    static let header = [
        "time", "count", "seed", "density_energy", "particle_energy", "particle_energy_without_self_interaction",
        "energy_difference", "density_first_moment_norm", "particle_first_moment_norm",
        "density_second_moment_eigenvalue_1", "density_second_moment_eigenvalue_2", "density_second_moment_eigenvalue_3",
        "particle_second_moment_eigenvalue_1", "particle_second_moment_eigenvalue_2", "particle_second_moment_eigenvalue_3",
        "density_effective_rank", "particle_effective_rank", "distance",
    ].joined(separator: ",")

    var csvLine: String {
        let particleEnergy = particles.energy.energyWithoutSelfInteraction
        var fields = [csvNumber(time), String(count), String(seed), csvNumber(density.energy),
                      csvNumber(particles.energy.energy), csvNumber(particleEnergy),
                      csvNumber(density.energy.map { particleEnergy - $0 }),
                      csvNumber(density.moments.firstMomentNorm), csvNumber(particles.firstMomentNorm)]
        fields += density.moments.secondMomentEigenvalues.map(csvNumber)
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
    static func write(densityRun: DensityRun, particleRuns: [ParticleRun], output: OutputFiles,
                      progress: ProgressLog) throws {
        guard let grid = densityRun.grid else { return }
        let transform = try SphericalHarmonicTransform(grid: grid)
        var text = ComparisonRow.header + "\n"
        var slopeText = "time,slope,intercept,r_squared,counts,mean_log_distances\n"
        let counts = Array(Set(particleRuns.map(\.count))).sorted()

        for (time, density) in densityRun.snapshots {
            guard let densityRow = densityRun.table.rows.last(where: { $0.time == time }) else { continue }
            let coefficients = transform.analyze(density)
            var logDistances: [Int: [Double]] = [:]
            for run in particleRuns {
                guard let snapshot = run.snapshots.first(where: { $0.time == time }) else { continue }
                let distance = SobolevDistance.distance(tokens: snapshot.tokens, density: coefficients)
                let row = ComparisonRow(time: time, count: run.count, seed: run.seed, density: densityRow,
                                        particles: snapshot.observation, distance: distance)
                text += row.csvLine + "\n"
                logDistances[run.count, default: []].append(Foundation.log(distance))
            }
            if counts.count >= 2, counts.allSatisfy({ logDistances[$0] != nil }) {
                let means = counts.map { count in logDistances[count]!.reduce(0, +) / Double(logDistances[count]!.count) }
                let fit = linearFit(x: counts.map { log(Double($0)) }, y: means)
                // Two counts fit any line exactly, so R² says nothing there.
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
