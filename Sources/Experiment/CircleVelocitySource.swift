import AttentionKernel
import ContinuityStepper
import Foundation
import LinearAlgebra
import SphereGrid

/// The velocity field of a run on S^1, chosen by the config's `velocity`
/// section, with the angular velocity X_θ at the cell centres for snapshots.
struct CircleVelocitySource: VelocityDescribing {
    let field: CircleVelocityField
    let description: String
    let warnings: [String]
    let kernelPath: String?
    private let cellVelocity: ([Double]) throws -> [Double]

    init(config: RunConfig, grid: CircleGrid) throws {
        switch config.velocity {
        case .attention:
            let model = config.model
            let kernel: CircleAttentionKernel
            do {
                let attention = try CircleAttentionModel(
                    beta: model.beta,
                    query: Matrix2(entries: try model.query.entries(dimension: 2)),
                    key: Matrix2(entries: try model.key.entries(dimension: 2)),
                    value: Matrix2(entries: try model.value.entries(dimension: 2)),
                    normalization: model.normalization == "softmax" ? .softmax : .none)
                let path = KernelPath(rawValue: config.density?.kernelPath ?? "automatic") ?? .automatic
                kernel = try CircleAttentionKernel(grid: grid, model: attention, path: path)
            } catch let error as KernelError {
                throw ConfigError("model: \(error)")
            }
            field = CircleAttentionVelocityField(kernel: kernel)
            kernelPath = kernel.resolvedPath.rawValue
            warnings = kernel.warnings
            description = "attention (\(kernel.resolvedPath.rawValue) kernel)"
            cellVelocity = { try kernel.evaluate(density: $0.map { max($0, 0) }).angularVelocity }
        case .circleLinear(let matrix):
            let linear: CircleLinearVelocityField
            do {
                linear = try CircleLinearVelocityField(grid: grid, matrix: matrix)
            } catch let error as StepperError {
                throw ConfigError("velocity: \(error.detail)")
            }
            field = linear
            kernelPath = nil
            warnings = []
            description = "linear X_θ = ⟨e_θ, Bx⟩, B = [\(matrix)]"
            let angles = grid.angles()
            cellVelocity = { _ in angles.map { CircleLinearVelocityField.angularVelocity(matrix, at: $0) } }
        case .linear:
            throw ConfigError("velocity: a 3×3 linear field moves densities on S^2, but this density lives on S^1: give a 2×2 matrix")
        }
    }

    /// Creates a source from a field given directly, without cell-centre velocities (tests).
    init(field: CircleVelocityField, description: String) {
        self.field = field
        self.description = description
        warnings = []
        kernelPath = nil
        cellVelocity = { _ in throw ConfigError("output.fields \"velocity\" is not available for this velocity field") }
    }

    /// Angular velocity X_θ = dθ/dt at every cell centre for `density`.
    func cellVelocities(density: [Double]) throws -> [Double] {
        try cellVelocity(density)
    }
}
