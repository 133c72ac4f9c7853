import AttentionKernel
import ContinuityStepper
import Foundation
import LinearAlgebra
import SphereGrid

/// Description and kernel warnings of a run's velocity, for run.json and the banner.
protocol VelocityDescribing {
    var description: String { get }
    var warnings: [String] { get }
    /// "spectral" or "direct" for attention, nil for a prescribed field.
    var kernelPath: String? { get }
}

/// The velocity field of a run, chosen by the config's `velocity` section,
/// with what the runner needs besides face fluxes: cell-centre velocities
/// for snapshots, kernel warnings and a description for logs.
struct VelocitySource: VelocityDescribing {
    let field: VelocityField
    let description: String
    let warnings: [String]
    /// "spectral" or "direct" for attention, nil for a prescribed field.
    let kernelPath: String?
    private let cellVelocity: ([Double]) throws -> [SIMD3<Double>]

    init(config: RunConfig, grid: SphereGrid) throws {
        switch config.velocity {
        case .attention:
            let model = config.model
            let attention: AttentionModel
            let kernel: AttentionKernel
            do {
                let matrices = try model.matrices3()
                attention = try AttentionModel(beta: model.beta, query: matrices.query, key: matrices.key,
                                               value: matrices.value,
                                               normalization: model.normalization == "softmax" ? .softmax : .none)
                let path = KernelPath(rawValue: config.density?.kernelPath ?? "automatic") ?? .automatic
                kernel = try AttentionKernel(grid: grid, model: attention, path: path)
            } catch let error as KernelError {
                throw ConfigError("model: \(error)")
            }
            field = AttentionVelocityField(source: kernel)
            kernelPath = kernel.resolvedPath.rawValue
            warnings = kernel.warnings
            description = "attention (\(kernel.resolvedPath.rawValue) kernel)"
            cellVelocity = { try kernel.evaluate(density: $0).velocity }
        case .circleLinear:
            throw ConfigError("velocity: a 2×2 linear field moves densities on S^1, but this density lives on S^2: set model.dimension to 3 and give a 3×3 matrix")
        case .linear(let matrix, let vector):
            let linear: LinearVelocityField
            do {
                linear = try LinearVelocityField(grid: grid, matrix: matrix, offset: vector)
            } catch let error as StepperError {
                throw ConfigError("velocity: \(error.detail)")
            }
            field = linear
            kernelPath = nil
            warnings = []
            description = "linear X = P⊥(Bx + c), B = [\(matrix)], c = [\(vector.x), \(vector.y), \(vector.z)]"
            let centres = grid.cellCentres()
            cellVelocity = { _ in centres.map { linear.velocity(at: $0) } }
        }
    }

    /// Wraps a field given directly, without cell-centre velocities (tests inject failures this way).
    init(field: VelocityField, description: String) {
        self.field = field
        self.description = description
        warnings = []
        kernelPath = nil
        cellVelocity = { _ in throw ConfigError("output.fields \"velocity\" is not available for this velocity field") }
    }

    /// X at every cell centre for `density`, in Cartesian components.
    func cellVelocities(density: [Double]) throws -> [SIMD3<Double>] {
        try cellVelocity(density)
    }
}
