import Foundation
import LinearAlgebra
import SphereGrid

/// A matrix of the model as a config gives it: `"identity"`, a number c
/// (meaning c·I) or a 3×3 list of rows.
func parseMatrix3(_ value: Any, key: String, in object: ConfigObject) throws -> Matrix3 {
    if let name = value as? String {
        guard name == "identity" else {
            throw ConfigError("\(object.keyPath(key)) = \"\(name)\" is not supported: use \"identity\", a number c (for c·I) or a 3×3 list of rows")
        }
        return .identity
    }
    if !isJSONBoolean(value), value is NSNumber {
        return .scaledIdentity(try object.number(key, value: value))
    }
    guard let rows = value as? [Any], rows.count == 3 else {
        throw ConfigError("\(object.keyPath(key)) = \(ConfigObject.describe(value)) is not a 3×3 matrix: use \"identity\", a number c (for c·I) or [[a, b, c], [d, e, f], [g, h, i]]")
    }
    var entries: [Double] = []
    for (index, row) in rows.enumerated() {
        entries += try object.doubleArray("\(key)[\(index)]", value: row, count: 3)
    }
    return Matrix3(entries: entries)
}

/// The attention model of a run on S^2.
public struct ModelConfig: Equatable {
    public var dimension: Int
    public var beta: Double
    public var normalization: String
    public var query: Matrix3
    public var key: Matrix3
    public var value: Matrix3

    static let normalizations = ["softmax", "none"]

    static func parse(_ object: ConfigObject) throws -> ModelConfig {
        let dimension = try object.optionalInteger("dimension", in: 3...3,
            rangeText: "3 (tokens on S^2; other dimensions are not supported yet)") ?? 3
        let beta = try object.double("beta", in: 0...1e4, rangeText: "a number in (0, 10000]", excludingLower: true)
        let normalization = try object.string("normalization", allowed: normalizations)
        func matrix(_ key: String) throws -> Matrix3 {
            guard let value = object.anyValue(key) else { return .identity }
            return try parseMatrix3(value, key: key, in: object)
        }
        let model = ModelConfig(dimension: dimension, beta: beta, normalization: normalization,
                                query: try matrix("query"), key: try matrix("key"), value: try matrix("value"))
        try object.rejectUnknownKeys()
        return model
    }
}

/// An initial density on the sphere.
public indirect enum InitialCondition: Equatable {
    /// ρ = (1 + amplitude · f)/(4π), f a random degree-`degree` harmonic with max |f| = 1 on the grid.
    case uniform(perturbation: Perturbation?)
    /// ρ ∝ exp(κ⟨μ, x⟩).
    case vonMisesFisher(mean: SIMD3<Double>, kappa: Double)
    /// Σ weight_k ρ_k with weights summing to 1.
    case mixture([MixtureComponent])
    /// A density snapshot written earlier (`density/t=….csv`) on the same grid.
    case csv(path: String)

    public struct Perturbation: Equatable {
        public var degree: Int
        public var amplitude: Double
        public var seed: UInt64
    }

    public struct MixtureComponent: Equatable {
        public var weight: Double
        public var condition: InitialCondition
    }

    static let kinds = ["uniform", "von-mises-fisher", "mixture", "csv"]

    static func parse(_ object: ConfigObject, configDirectory: URL?, allowMixture: Bool = true) throws -> InitialCondition {
        let kind = try object.string("kind", allowed: allowMixture ? kinds : kinds.filter { $0 != "mixture" })
        let condition: InitialCondition
        switch kind {
        case "uniform":
            var perturbation: Perturbation?
            if let p = try object.optionalObject("perturbation") {
                let degree = try p.integer("degree", in: 1...1000, rangeText: "an integer degree from 1 to 1000")
                let amplitude = try p.double("amplitude", in: 0...1, rangeText: "a number in [0, 1) so that the density stays positive")
                if amplitude >= 1 {
                    throw ConfigError("\(p.keyPath("amplitude")) = \(amplitude) is out of range: use a number in [0, 1) so that the density stays positive")
                }
                let seed = try p.optionalInteger("seed", in: 0...Int(Int32.max)) ?? 1
                try p.rejectUnknownKeys()
                perturbation = Perturbation(degree: degree, amplitude: amplitude, seed: UInt64(seed))
            }
            condition = .uniform(perturbation: perturbation)
        case "von-mises-fisher":
            guard let meanValue = object.anyValue("mean") else {
                throw ConfigError("\(object.keyPath("mean")) is missing: give the mean direction as [x, y, z]")
            }
            let mean = try object.doubleArray("mean", value: meanValue, count: 3)
            let norm = (mean[0] * mean[0] + mean[1] * mean[1] + mean[2] * mean[2]).squareRoot()
            guard norm > 0 else {
                throw ConfigError("\(object.keyPath("mean")) = [0, 0, 0] has no direction: give a nonzero vector (it is normalized)")
            }
            let kappa = try object.double("kappa", in: 0...1e4, rangeText: "a concentration in [0, 10000]")
            condition = .vonMisesFisher(mean: SIMD3(mean[0], mean[1], mean[2]) / norm, kappa: kappa)
        case "mixture":
            guard let list = try object.optionalArray("components"), !list.isEmpty else {
                throw ConfigError("\(object.keyPath("components")) is missing or empty: give a list of { \"weight\": w, \"kind\": … } objects")
            }
            var components: [MixtureComponent] = []
            for (index, element) in list.enumerated() {
                let path = object.keyPath("components[\(index)]")
                guard let dictionary = element as? [String: Any] else {
                    throw ConfigError("\(path) is not an object: give { \"weight\": w, \"kind\": … }")
                }
                let component = ConfigObject(dictionary, path: path)
                let weight = try component.double("weight", in: 0...1, rangeText: "a weight in (0, 1]", excludingLower: true)
                let inner = try InitialCondition.parse(component, configDirectory: configDirectory, allowMixture: false)
                components.append(MixtureComponent(weight: weight, condition: inner))
            }
            let total = components.map(\.weight).reduce(0, +)
            guard abs(total - 1) <= 1e-9 else {
                throw ConfigError("\(object.keyPath("components")) weights sum to \(total): make them sum to 1")
            }
            condition = .mixture(components)
        default:
            let path = try object.string("path")
            let resolved = URL(fileURLWithPath: path, relativeTo: configDirectory).path
            condition = .csv(path: resolved)
        }
        if allowMixture { try object.rejectUnknownKeys() } else {
            object.accept("weight")
            try object.rejectUnknownKeys()
        }
        return condition
    }
}

/// The velocity that moves the density.
public enum VelocitySpecification: Equatable {
    /// X[ρ] from the attention model.
    case attention
    /// X(x) = P⊥(x)(B x + c), independent of ρ.
    case linear(matrix: Matrix3, vector: SIMD3<Double>)

    static func parse(_ object: ConfigObject) throws -> VelocitySpecification {
        let kind = try object.string("kind", allowed: ["attention", "linear"])
        let result: VelocitySpecification
        if kind == "linear" {
            guard let matrixValue = object.anyValue("matrix") else {
                throw ConfigError("\(object.keyPath("matrix")) is missing: give B as a 3×3 list of rows")
            }
            let matrix = try parseMatrix3(matrixValue, key: "matrix", in: object)
            let vector = try object.optionalDoubleArray("vector", count: 3) ?? [0, 0, 0]
            result = .linear(matrix: matrix, vector: SIMD3(vector[0], vector[1], vector[2]))
        } else {
            result = .attention
        }
        try object.rejectUnknownKeys()
        return result
    }
}

/// Grid and time-step controls of a density run.
public struct DensitySettings: Equatable {
    public var grid: GridSpecification
    public var gridName: String
    public var cfl: Double
    public var maximumStep: Double?
    public var kernelPath: String
    /// "semi-lagrangian" (default) or "method-of-lines".
    public var scheme: String

    static func parse(_ object: ConfigObject, configDirectory: URL?) throws -> DensitySettings {
        guard let gridValue = object.anyValue("grid") else {
            throw ConfigError("\(object.keyPath("grid")) is missing: name a preset such as \"gl64\" or give { \"kind\": \"gauss-legendre\", \"nlat\": 48 }")
        }
        let grid: GridSpecification
        let gridName: String
        do {
            if let name = gridValue as? String {
                grid = try GridSpecification.preset(named: name, searchPaths: GridSpecification.defaultSearchPaths(configDirectory: configDirectory))
                gridName = name
            } else if let dictionary = gridValue as? [String: Any] {
                grid = try GridSpecification.parse(object: dictionary, context: object.keyPath("grid"))
                if case .gaussLegendre(let nlat) = grid { gridName = "gauss-legendre nlat=\(nlat)" } else { gridName = "inline" }
            } else {
                throw ConfigError("\(object.keyPath("grid")) = \(ConfigObject.describe(gridValue)) is not a grid: name a preset such as \"gl64\" or give { \"kind\": \"gauss-legendre\", \"nlat\": 48 }")
            }
        } catch let error as GridError {
            throw ConfigError("\(object.keyPath("grid")): \(error.message)")
        }
        let cfl = try object.optionalDouble("cfl", in: 0...0.5,
                                           rangeText: "a Courant number in (0, 0.5] (the bound that keeps the density non-negative)",
                                           excludingLower: true) ?? 0.5
        let maximumStep = try object.optionalDouble("max_dt", in: 0...Double.greatestFiniteMagnitude,
                                                    rangeText: "a positive time step", excludingLower: true)
        let kernelPath = try object.optionalString("kernel", allowed: ["automatic", "spectral", "direct"]) ?? "automatic"
        let scheme = try object.optionalString("scheme", allowed: ["semi-lagrangian", "method-of-lines"]) ?? "semi-lagrangian"
        try object.rejectUnknownKeys()
        return DensitySettings(grid: grid, gridName: gridName, cfl: cfl, maximumStep: maximumStep,
                               kernelPath: kernelPath, scheme: scheme)
    }
}

/// End time and snapshot times.
public struct TimeSettings: Equatable {
    public var end: Double
    /// Sorted, distinct, within [0, end]; always contains 0 and `end`.
    public var snapshots: [Double]

    static func parse(_ object: ConfigObject) throws -> TimeSettings {
        let end = try object.double("end", in: 0...1e12, rangeText: "a time ≥ 0")
        let every = try object.optionalDouble("snapshot_every", in: 0...Double.greatestFiniteMagnitude,
                                              rangeText: "a positive interval", excludingLower: true)
        let list = try object.optionalArray("snapshots")
        if every != nil && list != nil {
            throw ConfigError("\(object.keyPath("snapshot_every")) and \(object.keyPath("snapshots")) are both set: give one of them")
        }
        var times: [Double] = [0, end]
        if let every {
            let count = (end / every * (1 + 1e-12)).rounded(.down)
            guard count <= 1e5 else {
                throw ConfigError("\(object.keyPath("snapshot_every")) = \(every) gives \(Int(count)) snapshots: use at most 100000 (a larger interval)")
            }
            if count >= 1 { times += (1...Int(count)).map { Double($0) * every } }
        }
        if let list {
            let values = try object.doubleArray("snapshots", value: list)
            for (index, t) in values.enumerated() where t < 0 || t > end * (1 + 1e-12) {
                throw ConfigError("\(object.keyPath("snapshots"))[\(index)] = \(t) is outside the run: use times in [0, \(end)]")
            }
            times += values
        }
        // Merge times closer than round-off and clamp to end.
        var merged: [Double] = []
        for t in times.map({ min($0, end) }).sorted() {
            if let last = merged.last, abs(t - last) <= 1e-12 * max(1, end) { continue }
            merged.append(t)
        }
        try object.rejectUnknownKeys()
        return TimeSettings(end: end, snapshots: merged)
    }
}

/// Where and what to write.
public struct OutputSettings: Equatable {
    public var directory: String
    public var fields: [String]

    static func parse(_ object: ConfigObject?, name: String) throws -> OutputSettings {
        guard let object else { return OutputSettings(directory: "out/\(name)", fields: []) }
        let directory = try object.optionalString("directory") ?? "out/\(name)"
        guard !directory.isEmpty else {
            throw ConfigError("\(object.keyPath("directory")) is empty: give a folder path such as \"out/\(name)\"")
        }
        var fields: [String] = []
        if let list = try object.optionalArray("fields") {
            for (index, element) in list.enumerated() {
                guard let field = element as? String, field == "velocity" else {
                    throw ConfigError("\(object.keyPath("fields"))[\(index)] = \(ConfigObject.describe(element)) is not a known field: use \"velocity\"")
                }
                if !fields.contains(field) { fields.append(field) }
            }
        }
        try object.rejectUnknownKeys()
        return OutputSettings(directory: directory, fields: fields)
    }
}

/// One run, as read from a JSON config file.
public struct RunConfig {
    public var name: String
    public var model: ModelConfig
    public var initial: InitialCondition
    public var density: DensitySettings
    public var velocity: VelocitySpecification
    public var time: TimeSettings
    public var output: OutputSettings
    /// The file it came from, if any.
    public var source: URL?
    /// The parsed JSON, echoed into run.json.
    public var document: [String: Any]

    /// Reads and validates a config file.
    public static func load(path: String) throws -> RunConfig {
        let url = URL(fileURLWithPath: path)
        guard FileManager.default.fileExists(atPath: url.path) else {
            throw ConfigError("config file \(path) was not found: check the path")
        }
        let data: Data
        do { data = try Data(contentsOf: url) } catch {
            throw ConfigError("config file \(path) could not be read: \(error.localizedDescription)")
        }
        return try parse(data: data, source: url)
    }

    public static func parse(data: Data, source: URL?) throws -> RunConfig {
        let sourceName = source?.path ?? "config"
        let root = try ConfigObject.parse(data: data, source: sourceName)
        let directory = source?.deletingLastPathComponent()
        do {
            return try parse(root: root, source: source, configDirectory: directory)
        } catch let error as ConfigError {
            throw ConfigError("\(sourceName): \(error.message)")
        }
    }

    static func parse(root: ConfigObject, source: URL?, configDirectory: URL?) throws -> RunConfig {
        let defaultName = source.map { $0.deletingPathExtension().lastPathComponent } ?? "run"
        let name = try root.optionalString("name") ?? defaultName
        guard !name.isEmpty, !name.contains("/") else {
            throw ConfigError("name = \"\(name)\" is not a valid run name: use a non-empty name without '/'")
        }
        let model = try ModelConfig.parse(try root.object("model"))
        let initial = try InitialCondition.parse(try root.object("initial"), configDirectory: configDirectory)
        let density = try DensitySettings.parse(try root.object("density"), configDirectory: configDirectory)
        let velocity = try root.optionalObject("velocity").map(VelocitySpecification.parse) ?? .attention
        let time = try TimeSettings.parse(try root.object("time"))
        let output = try OutputSettings.parse(try root.optionalObject("output"), name: name)
        try root.rejectUnknownKeys()
        return RunConfig(name: name, model: model, initial: initial, density: density, velocity: velocity,
                         time: time, output: output, source: source, document: root.values)
    }
}
