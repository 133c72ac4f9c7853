import Foundation
import SphereGrid

/// Fourier evaluation of the circle integrals for A = a·I, where the kernel
/// exp(β⟨x(θ), A x(φ)⟩) = exp(z cos(θ − φ)) with z = aβ is a convolution.
///
/// With e^{z cos t} = Σ_k I_k(z) e^{ikt} and F_k = Σ_j ρ_j e^{−ikθ_j} the
/// DFT of the cell values (θ_j = 2πj/n, h = 2π/n), the discrete sums
/// D_i = Σ_j e^{z cos(θ_i − θ_j)} ρ_j h are, up to aliasing of the modes
/// |k| ≥ n/2,
///
///     D_i         = h Σ_k I_k(z) F_k e^{ikθ_i},
///     (1/z) ∂_θ D = h Σ_k ik (I_k(z)/z) F_k e^{ikθ_i},
///     (1/z) ∂_r D = h Σ_k I_k'(z) F_k e^{ikθ_i},
///
/// where ∂_r differentiates D(r x) = ∫ e^{z r cos(θ − φ)} ρ dφ at r = 1.
/// Then (1/z) ∇_{R²} D = (1/z)(e_θ ∂_θ D + x ∂_r D) and N = V (1/z) ∇_{R²} D,
/// because ∇_x e^{z⟨x, y⟩} = z y e^{z⟨x, y⟩}. The identities
/// I_k(z)/z = (I_{k−1} − I_{k+1})/(2k) and I_k' = (I_{k−1} + I_{k+1})/2
/// keep both finite as z → 0, and I_k(−z) = (−1)^k I_k(z) handles a < 0.
/// All three fields are returned scaled by e^{−|z|}. The derivative of the
/// Nyquist mode of an even n is set to zero.
final class CircleSpectralEvaluator: @unchecked Sendable {
    let cells: Int
    /// |z| = |a|β, the common log scale of the returned fields.
    let logScale: Double
    private let transform: CircleFourierTransform
    /// h e^{−|z|} I_k(z), h e^{−|z|} k I_k(z)/z and h e^{−|z|} I_k'(z) for k = 0…n/2.
    private let valueCoefficients: [Double]
    private let angularCoefficients: [Double]
    private let radialCoefficients: [Double]

    init(grid: CircleGrid, interactionScale a: Double, beta: Double) {
        cells = grid.cells
        let z = a * beta
        let magnitude = abs(z)
        logScale = magnitude
        transform = CircleFourierTransform(length: grid.cells)

        let top = grid.cells / 2
        let scaled = scaledModifiedBessel(maximumOrder: top + 1, argument: magnitude)
        let h = grid.cellLength
        var values = [Double](repeating: 0, count: top + 1)
        var angular = [Double](repeating: 0, count: top + 1)
        var radial = [Double](repeating: 0, count: top + 1)

        for k in 0...top {
            // (−1)^k for a < 0: I_k(z) = s^k I_k(|z|), and both I_k(z)/z and I_k'(z)
            // carry s^{k+1}.
            let evenSign: Double = z < 0 && k % 2 == 1 ? -1 : 1
            let oddSign: Double = z < 0 ? -evenSign : evenSign
            values[k] = h * evenSign * scaled[k]
            let below = k == 0 ? scaled[1] : scaled[k - 1]
            radial[k] = h * oddSign * 0.5 * (below + scaled[k + 1])
            if k > 0 {
                let quotient = magnitude >= 1
                    ? scaled[k] / magnitude
                    : (scaled[k - 1] - scaled[k + 1]) / Double(2 * k)
                angular[k] = h * oddSign * Double(k) * quotient
            }
        }

        if grid.cells % 2 == 0 { angular[top] = 0 }
        valueCoefficients = values
        angularCoefficients = angular
        radialCoefficients = radial
    }

    /// e^{−|z|} D, e^{−|z|} (1/z) ∂_θ D and e^{−|z|} (1/z) ∂_r D at the cell centres.
    func evaluate(density: [Double]) -> (denominator: [Double], angular: [Double], radial: [Double]) {
        let spectrum = transform.forward(density)
        var value = spectrum, angular = spectrum, radial = spectrum
        for k in spectrum.indices {
            let f = spectrum[k]
            value[k] = valueCoefficients[k] * f
            // i·(x + iy) = (−y, x).
            angular[k] = angularCoefficients[k] * SIMD2(-f.y, f.x)
            radial[k] = radialCoefficients[k] * f
        }
        return (transform.backward(value), transform.backward(angular), transform.backward(radial))
    }
}
