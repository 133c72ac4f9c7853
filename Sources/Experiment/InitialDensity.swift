import Foundation
import Particles
import SphereGrid

/// Builds the initial density on the grid from its config description.
///
/// Analytic densities are sampled at the cell centres (second-order accurate
/// as cell averages) and then scaled so that Σ ρ_i area_i = 1 exactly; the
/// scale differs from 1 only by the quadrature error of the grid.
enum InitialDensity {
    static func build(_ condition: InitialCondition, grid: SphereGrid) throws -> [Double] {
        var density = try sample(condition, grid: grid)
        let mass = grid.integrate(density)
        guard mass.isFinite, mass > 0 else {
            throw ConfigError("initial density has total mass \(mass) on this grid: give a density with positive, finite mass")
        }
        if case .csv = condition { return density }
        for i in density.indices { density[i] /= mass }
        return density
    }

    static func sample(_ condition: InitialCondition, grid: SphereGrid) throws -> [Double] {
        switch condition {
        case .uniform(let perturbation):
            var density = [Double](repeating: 1 / (4 * Double.pi), count: grid.cellCount)
            if let perturbation {
                let shape = randomHarmonic(degree: perturbation.degree, seed: perturbation.seed, grid: grid)
                for i in density.indices { density[i] *= 1 + perturbation.amplitude * shape[i] }
            }
            return density
        case .vonMisesFisher(let mean, let kappa):
            let direction = SIMD3(mean[0], mean[1], mean[2])
            return grid.cellCentres().map { vonMisesFisherDensity(at: $0, mean: direction, kappa: kappa) }
        case .mixture(let components):
            var density = [Double](repeating: 0, count: grid.cellCount)
            for component in components {
                let part = try build(component.condition, grid: grid)
                for i in density.indices { density[i] += component.weight * part[i] }
            }
            return density
        case .csv(let path):
            return try DensitySnapshotReader.read(path: path, grid: grid)
        }
    }

    /// ρ(x) = κ / (4π sinh κ) · exp(κ⟨μ, x⟩), evaluated as
    /// κ / (2π (1 − e^{−2κ})) · exp(κ(⟨μ, x⟩ − 1)) so that nothing overflows;
    /// κ = 0 gives the uniform density 1/(4π).
    static func vonMisesFisherDensity(at x: SIMD3<Double>, mean: SIMD3<Double>, kappa: Double) -> Double {
        guard kappa > 0 else { return 1 / (4 * Double.pi) }
        let normalization = kappa / (2 * Double.pi * -expm1(-2 * kappa))
        return normalization * exp(kappa * ((mean * x).sum() - 1))
    }

    /// f = Σ_m g_m Y_lm with g_m standard normal (seeded), scaled so that
    /// max |f| over the cell centres is 1.
    static func randomHarmonic(degree: Int, seed: UInt64, grid: SphereGrid) -> [Double] {
        var generator = SeededGenerator(seed: seed)
        let weights = (0..<(2 * degree + 1)).map { _ in generator.nextNormal() }
        var field = [Double](repeating: 0, count: grid.cellCount)
        for j in 0..<grid.nlat {
            let theta = grid.colatitude(ring: j)
            for k in 0..<grid.nlon {
                let phi = grid.longitude(column: k)
                var value = 0.0
                for m in -degree...degree {
                    value += weights[m + degree] * SphericalHarmonicTransform.harmonic(
                        degree: degree, order: m, colatitude: theta, longitude: phi)
                }
                field[j * grid.nlon + k] = value
            }
        }
        let largest = field.map(abs).max() ?? 0
        guard largest > 0 else { return field }
        return field.map { $0 / largest }
    }
}

/// Reads a density snapshot written by a run (`density/t=….csv`) and checks
/// that it belongs to the same grid.
enum DensitySnapshotReader {
    static func read(path: String, grid: SphereGrid) throws -> [Double] {
        let rows = try readColumns(["colatitude", "longitude", "density"], path: path, cellCount: grid.cellCount,
                                   gridDescription: "the grid (nlat = \(grid.nlat))")
        var density = [Double](repeating: 0, count: grid.cellCount)
        for (index, row) in rows.enumerated() {
            let (theta, phi) = (row[0], row[1])
            let j = index / grid.nlon
            let k = index % grid.nlon
            guard abs(theta - grid.colatitude(ring: j)) <= 1e-9, abs(phi - grid.longitude(column: k)) <= 1e-9 else {
                throw ConfigError("\(path):\(index + 2) is at (colatitude \(theta), longitude \(phi)), but cell \(index) of this grid is at (\(grid.colatitude(ring: j)), \(grid.longitude(column: k))): the snapshot was written on another grid, or its positions were rounded (they must match to 1e-9)")
            }
            density[index] = row[2]
        }
        return density
    }

    /// Values of the named columns, one row per cell, from a snapshot whose
    /// last requested column is the density (checked finite and ≥ 0).
    static func readColumns(_ names: [String], path: String, cellCount: Int,
                            gridDescription: String) throws -> [[Double]] {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ConfigError("initial.path = \"\(path)\" was not found or is unreadable: give a density snapshot written by meanfield run")
        }
        var text = String(decoding: data, as: UTF8.self)
        // Spreadsheet programs may save a UTF-8 byte order mark first.
        if text.hasPrefix("\u{FEFF}") { text.removeFirst() }
        var lines = text.split(omittingEmptySubsequences: true, whereSeparator: \.isNewline)
        guard let header = lines.first else {
            throw ConfigError("initial.path = \"\(path)\" is empty: give a density snapshot written by meanfield run")
        }
        let columns = header.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
        let indices = names.compactMap { columns.firstIndex(of: $0) }
        guard indices.count == names.count else {
            throw ConfigError("\(path): header must contain \(names.dropLast().joined(separator: ", ")) and \(names.last!) (found: \(columns.joined(separator: ",")))")
        }
        lines.removeFirst()
        guard lines.count == cellCount else {
            throw ConfigError("\(path) has \(lines.count) cells but \(gridDescription) has \(cellCount): run with the grid the snapshot was written on")
        }
        var rows: [[Double]] = []
        rows.reserveCapacity(cellCount)
        for (index, line) in lines.enumerated() {
            let fields = line.split(separator: ",", omittingEmptySubsequences: false)
            let lineNumber = index + 2
            guard fields.count == columns.count else {
                throw ConfigError("\(path):\(lineNumber) has \(fields.count) fields, the header has \(columns.count)")
            }
            let values = indices.compactMap { Double(fields[$0]) }
            guard values.count == indices.count else {
                throw ConfigError("\(path):\(lineNumber) has a field that is not a number")
            }
            guard let value = values.last, value.isFinite, value >= 0 else {
                throw ConfigError("\(path):\(lineNumber) density = \(values.last!) is invalid: densities must be finite and ≥ 0")
            }
            rows.append(values)
        }
        return rows
    }
}
