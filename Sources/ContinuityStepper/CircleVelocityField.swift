import AttentionKernel
import Foundation
import LinearAlgebra
import SphereGrid

/// Face velocities of a field on the circle: entry k is X_θ = ⟨e_θ, X⟩ (the
/// angular velocity dθ/dt, positive toward increasing θ) at face k, the
/// face between cell k and cell k + 1 (mod n) at angle 2π(k + 1/2)/n.
/// On the circle a face is a point, so this is also the volume flux per
/// unit density through it.
public struct CircleFaceVelocities: Sendable {
    public var velocities: [Double]
    /// Interaction energy E_β of the density the velocities were computed
    /// from, when the source defines one.
    public var energy: Double?

    public init(velocities: [Double], energy: Double? = nil) {
        self.velocities = velocities
        self.energy = energy
    }
}

/// A source of face velocities for ∂_t ρ + ∂_θ(ρ X_θ) = 0 on a `CircleGrid`.
///
/// A field that does not depend on the density is evaluated once, and the
/// stepper reuses its velocities. A density-dependent field is evaluated at
/// every Runge–Kutta stage, and the evaluation at the end of a step is
/// reused at the start of the next.
public protocol CircleVelocityField {
    var grid: CircleGrid { get }
    var isDensityDependent: Bool { get }
    /// Computes the face velocities for `density` (cell averages per unit angle).
    func faceVelocities(density: [Double]) throws -> CircleFaceVelocities
}

/// The linear field X(x) = P⊥(x) B x on the circle, so X_θ(θ) = ⟨e_θ, B x(θ)⟩
/// with x = (cos θ, sin θ) and e_θ = (−sin θ, cos θ). Face velocities are the
/// exact values at the face angles. B = ω J with J = [[0, −1], [1, 0]]
/// gives the rotation X_θ = ω.
public struct CircleLinearVelocityField: CircleVelocityField {
    public let grid: CircleGrid
    public let matrix: Matrix2
    public var isDensityDependent: Bool { false }
    private let velocities: [Double]

    /// Throws `StepperError.Kind.invalidInput` when B has a non-finite entry.
    public init(grid: CircleGrid, matrix: Matrix2) throws {
        guard matrix.isFinite else {
            throw StepperError(.invalidInput, step: 0, time: 0,
                               detail: "linear field matrix [\(matrix)] has a non-finite entry: use finite entries")
        }
        self.grid = grid
        self.matrix = matrix
        self.velocities = (0..<grid.cells).map { k in
            CircleLinearVelocityField.angularVelocity(matrix, at: grid.faceAngle(face: k))
        }
    }

    /// Creates the rotation X_θ = ω (radians per unit time).
    public static func rotation(grid: CircleGrid, angularVelocity omega: Double) throws -> CircleLinearVelocityField {
        try CircleLinearVelocityField(grid: grid, matrix: .rotationGenerator(omega))
    }

    /// X_θ = ⟨e_θ, B x(θ)⟩ at the angle θ.
    public static func angularVelocity(_ matrix: Matrix2, at theta: Double) -> Double {
        let x = SIMD2(cos(theta), sin(theta))
        let tangent = SIMD2(-sin(theta), cos(theta))
        return (matrix.apply(x) * tangent).sum()
    }

    public func faceVelocities(density: [Double]) throws -> CircleFaceVelocities {
        CircleFaceVelocities(velocities: velocities)
    }
}

/// Face velocities of the self-attention field X[ρ] on the circle.
///
/// With a potential ξ = (c/β) D (A symmetric, V = c·A) the velocity at
/// face k is the difference quotient
///
///     U_k = (ξ_{k+1} − ξ_k) / h                 (USA)
///     U_k = (ξ_{k+1} − ξ_k) / (h D_f)           (SA, D_f = (D_k + D_{k+1})/2),
///
/// with h = 2π/n. Because ξ_k = c ∂E/∂m_k for the discrete energy
/// E = (1/(2β)) Σ_ij K_ij m_i m_j, every upwind flux ρ_f U_k moves mass up
/// the potential, and the semi-discrete energy obeys
/// dE/dt = (1/c) Σ_k ρ_f U_k (ξ_{k+1} − ξ_k), which is ≥ 0 for c > 0 and
/// ≤ 0 for c < 0. The common scale e^{logScale} cancels in SA and
/// multiplies the scaled differences in USA, where an overflow shows up as
/// a non-finite velocity. Without a potential the face velocity is the
/// average (X_k + X_{k+1})/2 of the centre velocities.
public struct CircleAttentionVelocityField: CircleVelocityField {
    public let kernel: CircleAttentionKernel
    public var grid: CircleGrid { kernel.grid }
    public var isDensityDependent: Bool { true }

    public init(kernel: CircleAttentionKernel) {
        self.kernel = kernel
    }

    public func faceVelocities(density: [Double]) throws -> CircleFaceVelocities {
        // The stepper accepts round-off negatives down to −1e−12 · max ρ, which
        // the kernel rejects, so they enter the integrals as 0.
        let evaluation = try kernel.evaluate(density: density.map { max($0, 0) })
        let n = grid.cells
        var velocities = [Double](repeating: 0, count: n)
        if let xi = evaluation.scaledPotential {
            let d = evaluation.scaledDenominator
            let inverseLength = 1 / grid.cellLength
            let softmax = kernel.model.normalization == .softmax
            let half = exp(0.5 * evaluation.logScale)
            for k in 0..<n {
                let next = k == n - 1 ? 0 : k + 1
                let difference = (xi[next] - xi[k]) * inverseLength
                if softmax {
                    // A non-positive D average gives a non-finite velocity, which the stepper reports.
                    let average = 0.5 * (d[k] + d[next])
                    velocities[k] = average > 0 ? difference / average : .nan
                } else {
                    velocities[k] = difference == 0 ? 0 : difference * half * half
                }
            }
        } else {
            let x = evaluation.angularVelocity
            for k in 0..<n {
                velocities[k] = 0.5 * (x[k] + x[k == n - 1 ? 0 : k + 1])
            }
        }
        return CircleFaceVelocities(velocities: velocities, energy: evaluation.energy)
    }
}
