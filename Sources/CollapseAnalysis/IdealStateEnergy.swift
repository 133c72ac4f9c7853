import AttentionKernel
import Foundation

/// Interaction energy E_β = (1/(2β)) ∫∫ exp(β⟨x, y⟩) dμ(x) dμ(y) of ideal
/// states for A = I, in closed form and as logarithms that stay finite for
/// large β. With A = a·I replace β by aβ inside the exponentials only.
///
/// They order the states for A = I: a single point has the largest energy,
/// and the uniform state the smallest, so along an ascent (V = A) the energy
/// moves from the second toward the first.
public enum IdealStateEnergy {
    /// Uniform on S^2: ∫ exp(β⟨x, y⟩) dσ(y)/(4π) = sinh β / β, so E = sinh β/(2β²).
    public static func uniformSphere(beta: Double) -> Double {
        sinh(beta) / (2 * beta * beta)
    }

    /// log of `uniformSphere(beta:)` = log i_0(β) − log(2β).
    public static func logUniformSphere(beta: Double) -> Double {
        logModifiedSphericalBesselOrderZero(argument: beta) - log(2 * beta)
    }

    /// Uniform on S^1: ∫ exp(β cos θ) dθ/(2π) = I_0(β), so E = I_0(β)/(2β).
    public static func uniformCircle(beta: Double) -> Double {
        exp(logUniformCircle(beta: beta))
    }

    /// log of `uniformCircle(beta:)`, from the scaled e^{−β} I_0(β).
    public static func logUniformCircle(beta: Double) -> Double {
        let scaled = scaledModifiedBessel(maximumOrder: 0, argument: beta)[0]
        return beta + log(scaled) - log(2 * beta)
    }

    /// Energy of all mass at one point, e^β/(2β), the maximum over all measures.
    public static func singlePoint(beta: Double) -> Double {
        exp(beta) / (2 * beta)
    }

    public static func logSinglePoint(beta: Double) -> Double {
        beta - log(2 * beta)
    }

    /// Mass 1/2 at each of two antipodal points: the pairs give
    /// (1/4)(2e^β + 2e^{−β}), so E = cosh β/(2β).
    public static func antipodalPair(beta: Double) -> Double {
        cosh(beta) / (2 * beta)
    }

    public static func logAntipodalPair(beta: Double) -> Double {
        beta + log1p(exp(-2 * beta)) - log(4 * beta)
    }
}
