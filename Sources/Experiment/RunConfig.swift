import Foundation
import LinearAlgebra
import Particles
import SphereGrid

/// A matrix of the model as a config gives it.
public enum MatrixSpecification: Equatable {
    case identity
    /// c·I.
    case scaled(Double)
    /// Row-major d×d entries.
    case explicit([Double])
    /// Entries i.i.d. normal with mean 0 and variance 1/d, from a seeded generator.
    case random(seed: UInt64)

    static let accepted = "\"identity\", a number c (for c·I), a d×d list of rows, \"random\" or { \"kind\": \"random\", \"seed\": s }"

    /// Reads a matrix for dimension d. `defaultSeed` serves the plain "random" form.
    static func parse(_ value: Any, key: String, in object: ConfigObject, dimension d: Int,
                      defaultSeed: UInt64) throws -> MatrixSpecification {
        if let name = value as? String {
            switch name {
            case "identity": return .identity
            case "random": return .random(seed: defaultSeed)
            default:
                throw ConfigError("\(object.keyPath(key)) = \"\(name)\" is not supported: use \(accepted)")
            }
        }
        if !isJSONBoolean(value), value is NSNumber {
            return .scaled(try object.number(key, value: value))
        }
        if let dictionary = value as? [String: Any] {
            let inner = ConfigObject(dictionary, path: object.keyPath(key))
            _ = try inner.string("kind", allowed: ["random"])
            let seed = try inner.optionalInteger("seed", in: 0...Int(Int32.max)) ?? Int(defaultSeed)
            try inner.rejectUnknownKeys()
            return .random(seed: UInt64(seed))
        }
        guard let rows = value as? [Any], rows.count == d else {
            throw ConfigError("\(object.keyPath(key)) = \(ConfigObject.describe(value)) is not a \(d)×\(d) matrix: use \(accepted)")
        }
        var entries: [Double] = []
        for (index, row) in rows.enumerated() {
            entries += try object.doubleArray("\(key)[\(index)]", value: row, count: d)
        }
        return .explicit(entries)
    }

    /// Row-major d×d entries.
    func entries(dimension d: Int) throws -> [Double] {
        switch self {
        case .identity: return try MatrixSource.identity.matrix(dimension: d, name: "identity")
        case .scaled(let c):
            return (0..<(d * d)).map { $0 % (d + 1) == 0 ? c : 0 }
        case .explicit(let entries): return entries
        case .random(let seed): return try MatrixSource.random(seed: seed).matrix(dimension: d, name: "random")
        }
    }

    /// Builds the 3×3 matrix of a model on S^2.
    func matrix3() throws -> Matrix3 {
        Matrix3(entries: try entries(dimension: 3))
    }
}

/// The attention model of a run.
public struct ModelConfig: Equatable {
    /// Tokens live on S^{d−1} in R^d.
    public var dimension: Int
    public var beta: Double
    public var normalization: String
    public var query: MatrixSpecification
    public var key: MatrixSpecification
    public var value: MatrixSpecification

    static let normalizations = ["softmax", "none"]

    static func parse(_ object: ConfigObject) throws -> ModelConfig {
        let dimension = try object.optionalInteger("dimension", in: 2...1024,
            rangeText: "an integer from 2 to 1024 (tokens on S^{d−1})") ?? 3
        let beta = try object.double("beta", in: 0...1e4, rangeText: "a number in (0, 10000]", excludingLower: true)
        let normalization = try object.string("normalization", allowed: normalizations)
        func matrix(_ key: String, seed: UInt64) throws -> MatrixSpecification {
            guard let value = object.anyValue(key) else { return .identity }
            return try MatrixSpecification.parse(value, key: key, in: object, dimension: dimension, defaultSeed: seed)
        }
        let model = ModelConfig(dimension: dimension, beta: beta, normalization: normalization,
                                query: try matrix("query", seed: 1), key: try matrix("key", seed: 2),
                                value: try matrix("value", seed: 3))
        try object.rejectUnknownKeys()
        try model.checkScoreRange()
        return model
    }

    /// Largest β‖A‖_F of a density run, A = QᵀK. At this scale the kernel
    /// exp(β⟨x, A y⟩) needs about 7√(β‖A‖) = 7000 rings or cells, beyond
    /// the largest grid. The Bessel series of the spectral path take about
    /// √(45 β‖A‖) terms, so far larger scales would run for hours.
    static let maximumDensityKernelScale = 1e6

    /// Throws when β times the Frobenius norm of A = QᵀK is beyond what the
    /// density solvers can resolve.
    func checkDensityKernelScale() throws {
        let d = dimension
        let q = try query.entries(dimension: d)
        let k = try key.entries(dimension: d)
        var sumOfSquares = 0.0
        for row in 0..<d {
            for column in 0..<d {
                // (QᵀK)_{row, column} = Σ_i Q_{i, row} K_{i, column}.
                var entry = 0.0
                for i in 0..<d { entry += q[i * d + row] * k[i * d + column] }
                sumOfSquares += entry * entry
            }
        }
        let scale = beta * sumOfSquares.squareRoot()
        guard scale <= ModelConfig.maximumDensityKernelScale else {
            throw ConfigError(String(format: "model: beta·|A| = %.3g with A = QᵀK (Frobenius norm) exceeds %g, beyond what a density grid can resolve (the kernel exp(beta·<x, Ay>) needs about 7·sqrt(beta·|A|) rings): scale the query or key matrix down, or run particles only", scale, ModelConfig.maximumDensityKernelScale))
        }
    }

    /// Throws when β⟨Q x, K y⟩ for unit x, y could leave the double range.
    /// The bound is β · d·max|Q_ij| · d·max|K_ij|, compared in logarithms,
    /// against 1e300 so that the solvers' internal rescaling by about 92
    /// (scores in units of 1/64 binary exponent) stays finite too.
    func checkScoreRange() throws {
        let d = Double(dimension)
        let largestQuery = try query.entries(dimension: dimension).map(abs).max() ?? 0
        let largestKey = try key.entries(dimension: dimension).map(abs).max() ?? 0
        guard largestQuery > 0, largestKey > 0 else { return }
        let logBound = log(beta) + 2 * log(d) + log(largestQuery) + log(largestKey)
        guard logBound <= log(1e300) else {
            throw ConfigError(String(format: "model: with beta = %g, query entries up to %g and key entries up to %g, attention scores beta·<Qx, Ky> can reach about 10^%.0f, beyond the double range: scale the query or key matrix down", beta, largestQuery, largestKey, logBound / log(10)))
        }
    }

    /// Q, K, V as 3×3 matrices, for models on S^2.
    func matrices3() throws -> (query: Matrix3, key: Matrix3, value: Matrix3) {
        (try query.matrix3(), try key.matrix3(), try value.matrix3())
    }
}

/// An initial density on the sphere.
public indirect enum InitialCondition: Equatable {
    /// ρ = (1 + amplitude · f)/(4π), f a random degree-`degree` harmonic with max |f| = 1 on the grid.
    case uniform(perturbation: Perturbation?)
    /// ρ ∝ exp(κ⟨μ, x⟩), μ a unit vector of the model's dimension.
    case vonMisesFisher(mean: [Double], kappa: Double)
    /// Σ weight_k ρ_k with weights summing to 1.
    case mixture([MixtureComponent])
    /// A density snapshot written earlier (`density/t=….csv`) on the same
    /// grid, or, for a particles-only run, a file of tokens (one row each).
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

    static func parse(_ object: ConfigObject, configDirectory: URL?, dimension: Int,
                      allowMixture: Bool = true) throws -> InitialCondition {
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
                throw ConfigError("\(object.keyPath("mean")) is missing: give the mean direction as a list of \(dimension) numbers")
            }
            let mean = try object.doubleArray("mean", value: meanValue, count: dimension)
            let norm = mean.reduce(0) { $0 + $1 * $1 }.squareRoot()
            guard norm > 0 else {
                throw ConfigError("\(object.keyPath("mean")) is the zero vector: give a nonzero direction (it is normalized)")
            }
            let kappa = try object.double("kappa", in: 0...1e4, rangeText: "a concentration in [0, 10000]")
            condition = .vonMisesFisher(mean: mean.map { $0 / norm }, kappa: kappa)
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
                let inner = try InitialCondition.parse(component, configDirectory: configDirectory,
                                                       dimension: dimension, allowMixture: false)
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
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: resolved, isDirectory: &isDirectory), !isDirectory.boolValue else {
                throw ConfigError("\(object.keyPath("path")) = \"\(path)\" was not found (looked for \(resolved)): give a snapshot or token file, relative to the config file's folder")
            }
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
    /// X(x) = P⊥(x)(B x + c), independent of ρ, on S^2.
    case linear(matrix: Matrix3, vector: SIMD3<Double>)
    /// X_θ = ⟨e_θ, B x⟩ with a 2×2 matrix B, independent of ρ, on S^1.
    case circleLinear(matrix: Matrix2)

    static func parse(_ object: ConfigObject, dimension: Int) throws -> VelocitySpecification {
        let kind = try object.string("kind", allowed: ["attention", "linear"])
        let result: VelocitySpecification
        if kind == "linear" {
            let size = dimension == 2 ? 2 : 3
            guard let matrixValue = object.anyValue("matrix") else {
                throw ConfigError("\(object.keyPath("matrix")) is missing: give B as a \(size)×\(size) list of rows")
            }
            let specification = try MatrixSpecification.parse(matrixValue, key: "matrix", in: object, dimension: size,
                                                              defaultSeed: 1)
            if dimension == 2 {
                if let vector = object.anyValue("vector") {
                    throw ConfigError("\(object.keyPath("vector")) = \(ConfigObject.describe(vector)) is not supported on S^1 (model.dimension = 2): the tangential part of a constant vector c is ⟨e_θ, c⟩, which the matrix cannot express, so remove \"vector\" and use \"matrix\" only")
                }
                result = .circleLinear(matrix: Matrix2(entries: try specification.entries(dimension: 2)))
            } else {
                let vector = try object.optionalDoubleArray("vector", count: 3) ?? [0, 0, 0]
                result = .linear(matrix: try specification.matrix3(), vector: SIMD3(vector[0], vector[1], vector[2]))
            }
        } else {
            result = .attention
        }
        try object.rejectUnknownKeys()
        return result
    }
}

/// The grid of a density run: cells on S^2 or on S^1.
public enum DensityGrid: Equatable {
    case sphere(GridSpecification)
    case circle(CircleGridSpecification)

    /// Model dimension d of the grid's manifold S^{d−1}.
    var dimension: Int {
        switch self {
        case .sphere: return 3
        case .circle: return 2
        }
    }
}

/// Grid and time-step controls of a density run.
public struct DensitySettings: Equatable {
    public var grid: DensityGrid
    public var gridName: String
    public var cfl: Double
    public var maximumStep: Double?
    public var kernelPath: String
    /// "automatic" (default), "semi-lagrangian" or "method-of-lines".
    public var scheme: String
    /// Largest change of any cell per step as a fraction of the density's range.
    public var variationLimit: Double

    static func parse(_ object: ConfigObject, configDirectory: URL?) throws -> DensitySettings {
        guard let gridValue = object.anyValue("grid") else {
            throw ConfigError("\(object.keyPath("grid")) is missing: name a preset such as \"gl64\" or give { \"kind\": \"gauss-legendre\", \"nlat\": 48 }")
        }
        let grid: DensityGrid
        let gridName: String
        do {
            if let name = gridValue as? String {
                grid = .sphere(try GridSpecification.preset(named: name, searchPaths: GridSpecification.defaultSearchPaths(configDirectory: configDirectory)))
                gridName = name
            } else if let dictionary = gridValue as? [String: Any] {
                if dictionary["kind"] as? String == "circle" {
                    let circle = try CircleGridSpecification.parse(object: dictionary, context: object.keyPath("grid"))
                    grid = .circle(circle)
                    gridName = "circle cells=\(circle.cells)"
                } else {
                    let sphere = try GridSpecification.parse(object: dictionary, context: object.keyPath("grid"))
                    grid = .sphere(sphere)
                    if case .gaussLegendre(let nlat) = sphere { gridName = "gauss-legendre nlat=\(nlat)" } else { gridName = "inline" }
                }
            } else {
                throw ConfigError("\(object.keyPath("grid")) = \(ConfigObject.describe(gridValue)) is not a grid: name a preset such as \"gl64\", give { \"kind\": \"gauss-legendre\", \"nlat\": 48 } on S^2 or { \"kind\": \"circle\", \"cells\": 720 } on S^1")
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
        let scheme = try object.optionalString("scheme", allowed: ["automatic", "semi-lagrangian", "method-of-lines"]) ?? "automatic"
        let variationLimit = try object.optionalDouble("variation_limit", in: 0...1,
                                                       rangeText: "a fraction in (0, 1]", excludingLower: true) ?? 0.1
        try object.rejectUnknownKeys()
        return DensitySettings(grid: grid, gridName: gridName, cfl: cfl, maximumStep: maximumStep,
                               kernelPath: kernelPath, scheme: scheme, variationLimit: variationLimit)
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

        // Snapshot files are named by the time with six decimals.
        for (earlier, later) in zip(merged, merged.dropFirst())
        where String(format: "%.6f", earlier) == String(format: "%.6f", later) {
            throw ConfigError("time: snapshots at t = \(earlier) and t = \(later) would both be written to t=\(String(format: "%.6f", later)).csv: space snapshot times at least 1e-6 apart (or rescale time)")
        }
        try object.rejectUnknownKeys()
        return TimeSettings(end: end, snapshots: merged)
    }
}

/// Output folder and extra snapshot fields of a run.
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

/// The finite token system of a run.
public struct ParticleSettings: Equatable {
    /// Token counts n; several counts repeat the particle side for each.
    public var counts: [Int]
    /// Seeds of the initial sample; each count runs once per seed.
    public var seeds: [UInt64]
    /// "layer" (explicit Euler then normalize: one Transformer layer per
    /// step) or "rk4" (classical Runge–Kutta, normalized after each step).
    public var integrator: String
    /// Step size h: the layer step, or the RK4 step.
    public var step: Double

    static let maximumCount = 10_000_000

    static func parse(_ object: ConfigObject, time: TimeSettings) throws -> ParticleSettings {
        func integerList(single: String, list: String, range: ClosedRange<Int>, text: String) throws -> [Int]? {
            let one = try object.optionalInteger(single, in: range, rangeText: text)
            let many = try object.optionalArray(list)
            if one != nil && many != nil {
                throw ConfigError("\(object.keyPath(single)) and \(object.keyPath(list)) are both set: give one of them")
            }
            if let one { return [one] }
            guard let many else { return nil }
            guard !many.isEmpty else {
                throw ConfigError("\(object.keyPath(list)) is empty: give at least one value, \(text)")
            }
            var values: [Int] = []
            for (index, element) in many.enumerated() {
                let number = try object.number("\(list)[\(index)]", value: element)
                guard number.rounded() == number, range.contains(Int(exactly: number) ?? range.lowerBound - 1) else {
                    throw ConfigError("\(object.keyPath(list))[\(index)] = \(ConfigObject.describe(element)) is invalid: use \(text)")
                }
                if !values.contains(Int(number)) { values.append(Int(number)) }
            }
            return values
        }
        guard let counts = try integerList(single: "count", list: "counts", range: 2...maximumCount,
                                           text: "an integer from 2 to \(maximumCount)") else {
            throw ConfigError("\(object.keyPath("count")) is missing: give the number of tokens (\"count\": 1000) or a list (\"counts\": [250, 1000])")
        }
        let seeds = try integerList(single: "seed", list: "seeds", range: 0...Int(Int32.max),
                                    text: "an integer from 0 to \(Int32.max)") ?? [1]
        let integrator = try object.optionalString("integrator", allowed: ["layer", "rk4"]) ?? "rk4"
        let step = try object.double("step", in: 0...1e6, rangeText: "a positive step size h", excludingLower: true)
        try object.rejectUnknownKeys()
        if integrator == "layer" {
            for t in time.snapshots {
                let layers = t / step
                guard abs(layers - layers.rounded()) <= 1e-9 * max(1, layers) else {
                    throw ConfigError("time: snapshot at t = \(t) is not a whole number of layers of particles.step = \(step): the layer integrator takes whole layers, so use snapshot times and an end time that are multiples of the step")
                }
            }
        }
        return ParticleSettings(counts: counts, seeds: seeds.map(UInt64.init), integrator: integrator, step: step)
    }
}

/// One run, as read from a JSON config file.
public struct RunConfig {
    public var name: String
    public var model: ModelConfig
    public var initial: InitialCondition
    /// The density solver; nil for a particles-only run.
    public var density: DensitySettings?
    /// The token system; nil for a density-only run.
    public var particles: ParticleSettings?
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
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory) else {
            throw ConfigError("config file \(path) was not found: check the path")
        }
        guard !isDirectory.boolValue else {
            throw ConfigError("config file \(path) is a folder: give the path of a JSON config file")
        }
        let data: Data
        do { data = try Data(contentsOf: url) } catch {
            throw ConfigError("config file \(path) could not be read: \(error.localizedDescription)")
        }
        return try parse(data: data, source: url)
    }

    public static func parse(data: Data, source: URL?) throws -> RunConfig {
        let sourceName = source?.path ?? "config"
        if data.allSatisfy({ $0 == 0x20 || $0 == 0x0A || $0 == 0x0D || $0 == 0x09 }) {
            throw ConfigError("\(sourceName) is empty: a config is a JSON object, see docs/config.md")
        }
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
        guard !name.isEmpty, !name.contains("/"), name != ".", name != ".." else {
            throw ConfigError("name = \"\(name)\" is not a valid run name: use a non-empty name without '/' that is not \".\" or \"..\"")
        }
        let model = try ModelConfig.parse(try root.object("model"))
        let initial = try InitialCondition.parse(try root.object("initial"), configDirectory: configDirectory,
                                                 dimension: model.dimension)
        let time = try TimeSettings.parse(try root.object("time"))
        let density = try root.optionalObject("density").map {
            try DensitySettings.parse($0, configDirectory: configDirectory)
        }
        let particles = try root.optionalObject("particles").map { try ParticleSettings.parse($0, time: time) }
        let velocity = try root.optionalObject("velocity").map {
            try VelocitySpecification.parse($0, dimension: model.dimension)
        } ?? .attention
        let output = try OutputSettings.parse(try root.optionalObject("output"), name: name)
        try root.rejectUnknownKeys()

        guard density != nil || particles != nil else {
            throw ConfigError("density and particles are both missing: give a \"density\" section, a \"particles\" section, or both to compare them")
        }
        if let density {
            try checkGrid(density.grid, dimension: model.dimension)
            try model.checkDensityKernelScale()
        }
        try checkInitialFiles(initial, density: density, particles: particles, dimension: model.dimension)
        if let density, density.kernelPath == "spectral", model.dimension == 3 {
            let matrices = try model.matrices3()
            let interaction = matrices.query.transposed * matrices.key
            if interaction.scalarMultipleOfIdentity == nil {
                throw ConfigError("density.kernel = \"spectral\" needs A = QᵀK = a·I, but A = [\(interaction)]: use \"automatic\" or \"direct\"")
            }
        }
        if velocity != .attention, particles != nil {
            throw ConfigError("velocity.kind = \"linear\" applies to the density only: remove the particles section or use the attention velocity")
        }
        if case .uniform(let perturbation?) = initial, density == nil {
            throw ConfigError("initial.perturbation = degree \(perturbation.degree) needs a density section, whose grid the particles are sampled from: add \"density\" or remove the perturbation")
        }
        if case .mixture(let components) = initial, density == nil,
           components.contains(where: { if case .csv = $0.condition { return true } else { return false } }) {
            throw ConfigError("initial.components: a csv component needs a density section, whose grid the particles are sampled from: add \"density\" or remove the csv component (a token file works only as the whole initial condition)")
        }
        if case .mixture(let components) = initial, density == nil,
           components.contains(where: { if case .uniform(_?) = $0.condition { return true } else { return false } }) {
            throw ConfigError("initial.components: a perturbed uniform component needs a density section to sample particles from: add \"density\" or remove the perturbation")
        }
        return RunConfig(name: name, model: model, initial: initial, density: density, particles: particles,
                         velocity: velocity, time: time, output: output, source: source, document: root.values)
    }

    /// Rejects a density grid whose manifold does not match the model
    /// dimension: the density solver runs on S^2 (dimension 3, a sphere grid)
    /// and on S^1 (dimension 2, a circle grid).
    /// Reads every CSV file that `initial` names, as the run will, so that a
    /// snapshot from another grid or a token file with the wrong row count
    /// fails when the configs are validated rather than when its run starts.
    static func checkInitialFiles(_ initial: InitialCondition, density: DensitySettings?,
                                  particles: ParticleSettings?, dimension: Int) throws {
        var paths: [String] = []
        switch initial {
        case .csv(let path):
            paths = [path]
        case .mixture(let components):
            for component in components {
                if case .csv(let path) = component.condition { paths.append(path) }
            }
        default:
            break
        }
        guard !paths.isEmpty else { return }

        if let density {
            switch density.grid {
            case .sphere(let specification):
                let grid: SphereGrid
                do { grid = try specification.makeGrid() } catch let error as GridError {
                    throw ConfigError("density.grid: \(error.message)")
                }
                for path in paths {
                    try checkPositiveMass(try DensitySnapshotReader.read(path: path, grid: grid), path: path)
                }
            case .circle(let specification):
                let grid: CircleGrid
                do { grid = try specification.makeGrid() } catch let error as GridError {
                    throw ConfigError("density.grid: \(error.message)")
                }
                for path in paths {
                    try checkPositiveMass(try CircleSnapshotReader.read(path: path, grid: grid), path: path)
                }
            }
            return
        }
        // Particles only: a token file, one row per token.
        guard let particles, let path = paths.first else { return }
        let tokens: Tokens
        do { tokens = try Tokens.readCSV(atPath: path, dimension: dimension) } catch let error as ParticleError {
            throw ConfigError("initial: \(error)")
        }
        for count in particles.counts where count != tokens.count {
            let key = particles.counts.count > 1 ? "particles.counts contains" : "particles.count is"
            throw ConfigError("initial.path = \"\(path)\" contains \(tokens.count) tokens but \(key) \(count): make them equal")
        }
    }

    /// Throws unless a snapshot's densities have a positive sum; they are
    /// finite and ≥ 0 once read.
    private static func checkPositiveMass(_ density: [Double], path: String) throws {
        guard density.contains(where: { $0 > 0 }) else {
            throw ConfigError("initial.path = \"\(path)\" has density 0 in every cell: give a snapshot with positive mass")
        }
    }

    static func checkGrid(_ grid: DensityGrid, dimension: Int) throws {
        switch (grid, dimension) {
        case (.sphere, 3), (.circle, 2):
            return
        case (.circle, 3):
            throw ConfigError("density.grid.kind = \"circle\" does not fit model.dimension = 3: a circle grid carries a density on S^1, so set model.dimension to 2, or use a sphere grid such as \"gl64\" for S^2")
        case (.sphere, 2):
            throw ConfigError("density.grid is a sphere grid but model.dimension = 2 puts the tokens on S^1: use { \"kind\": \"circle\", \"cells\": 720 }, or set model.dimension to 3")
        default:
            throw ConfigError("model.dimension = \(dimension) does not fit the density section: the density solver works on S^1 (dimension 2, a circle grid) and S^2 (dimension 3, a sphere grid); remove \"density\" to run particles only, or use dimension 2 or 3")
        }
    }
}
