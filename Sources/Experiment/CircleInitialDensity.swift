import AttentionKernel
import Foundation
import Particles
import SphereGrid

/// Builds the initial density on a circle grid from its config description.
///
/// Analytic densities are sampled at the cell centres and then scaled so
/// that Σ ρ_k length_k = 1 exactly. A snapshot read from a file keeps the
/// mass it was written with.
enum CircleInitialDensity {
    static func build(_ condition: InitialCondition, grid: CircleGrid) throws -> [Double] {
        var density = try sample(condition, grid: grid)
        let mass = grid.integrate(density)
        guard mass.isFinite, mass > 0 else {
            throw ConfigError("initial density has total mass \(mass) on this grid: give a density with positive, finite mass")
        }
        if case .csv = condition { return density }
        for k in density.indices { density[k] /= mass }
        return density
    }

    static func sample(_ condition: InitialCondition, grid: CircleGrid) throws -> [Double] {
        switch condition {
        case .uniform(let perturbation):
            var density = [Double](repeating: 1 / (2 * Double.pi), count: grid.cells)
            if let perturbation {
                guard 2 * perturbation.degree < grid.cells else {
                    throw ConfigError("initial.perturbation.degree = \(perturbation.degree) is above the highest Fourier mode \(grid.cells / 2 - 1) that \(grid.cells) cells resolve: use a smaller mode or more cells")
                }
                let shape = randomMode(perturbation.degree, seed: perturbation.seed, grid: grid)
                for k in density.indices { density[k] *= 1 + perturbation.amplitude * shape[k] }
            }
            return density
        case .vonMisesFisher(let mean, let kappa):
            let mu = atan2(mean[1], mean[0])
            return grid.angles().map { vonMisesDensity(at: $0, meanAngle: mu, kappa: kappa) }
        case .mixture(let components):
            var density = [Double](repeating: 0, count: grid.cells)
            for component in components {
                let part = try build(component.condition, grid: grid)
                for k in density.indices { density[k] += component.weight * part[k] }
            }
            return density
        case .csv(let path):
            return try CircleSnapshotReader.read(path: path, grid: grid)
        }
    }

    /// ρ(θ) = exp(κ cos(θ − μ)) / (2π I_0(κ)), evaluated as
    /// exp(κ(cos(θ − μ) − 1)) / (2π e^{−κ} I_0(κ)) with the scaled Bessel
    /// function, so that nothing overflows for large κ; κ = 0 gives 1/(2π).
    static func vonMisesDensity(at theta: Double, meanAngle mu: Double, kappa: Double) -> Double {
        let scaledI0 = scaledModifiedBessel(maximumOrder: 0, argument: kappa)[0]
        return exp(kappa * (cos(theta - mu) - 1)) / (2 * Double.pi * scaledI0)
    }

    /// f = a cos kθ + b sin kθ with (a, b) standard normal (seeded), scaled so
    /// that max |f| over the cell centres is 1.
    static func randomMode(_ mode: Int, seed: UInt64, grid: CircleGrid) -> [Double] {
        var generator = SeededGenerator(seed: seed)
        let a = generator.nextNormal()
        let b = generator.nextNormal()
        let field = grid.angles().map { a * cos(Double(mode) * $0) + b * sin(Double(mode) * $0) }
        let largest = field.map(abs).max() ?? 0
        guard largest > 0 else { return field }
        return field.map { $0 / largest }
    }
}

/// Reads a circle density snapshot written by a run (`density/t=….csv` with
/// columns angle,…,density) and checks that it belongs to the same grid.
enum CircleSnapshotReader {
    static func read(path: String, grid: CircleGrid) throws -> [Double] {
        let rows = try DensitySnapshotReader.readColumns(["angle", "density"], path: path, cellCount: grid.cells,
                                                         gridDescription: "the circle grid")
        var density = [Double](repeating: 0, count: grid.cells)
        for (index, row) in rows.enumerated() {
            guard abs(row[0] - grid.angle(cell: index)) <= 1e-9 else {
                throw ConfigError("\(path):\(index + 2) is at angle \(row[0]), but cell \(index) of this grid is at \(grid.angle(cell: index)): the snapshot was written on another grid")
            }
            density[index] = row[1]
        }
        return density
    }
}
