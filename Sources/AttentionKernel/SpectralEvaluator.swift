import Foundation
import SphereGrid

/// The spectral path for A = a·I, with z = aβ.
///
/// Funk–Hecke gives, for ρ = Σ_lm ρ_lm Y_lm,
///     D(x) = Σ_lm 4π i_l(z) ρ_lm Y_lm(x),
///     N(x) = (1/z) V ∇_R3 D(x) = V [ ∇_S D / z + x ∂_r D / z ],
///     ∂_r D / z = Σ_lm 4π i_l'(z) ρ_lm Y_lm(x),
/// where D is extended to R^3 by the same integral. The coefficients i_l(z)/z
/// and i_l'(z) stay finite as z → 0, so a = 0 (a constant kernel) needs no
/// special case. Every coefficient is scaled by e^{−|z|}, and a negative z
/// uses i_l(−z) = (−1)^l i_l(z), i_l'(−z) = (−1)^{l+1} i_l'(z).
final class SpectralEvaluator: @unchecked Sendable {
    let logScale: Double
    private let transform: SphericalHarmonicTransform
    private let maximumDegree: Int
    /// e^{−|z|} 4π i_l(z) per degree.
    private let kernelCoefficients: [Double]
    /// e^{−|z|} 4π i_l(z)/z per degree.
    private let gradientCoefficients: [Double]
    /// e^{−|z|} 4π i_l'(z) per degree.
    private let radialCoefficients: [Double]
    /// Cell-centre unit vectors and the local frames e_θ, e_φ.
    private let centres: [SIMD3<Double>]
    private let colatitudeVectors: [SIMD3<Double>]
    private let longitudeVectors: [SIMD3<Double>]

    init(grid: SphereGrid, interactionScale a: Double, beta: Double) throws {
        transform = try SphericalHarmonicTransform(grid: grid)
        maximumDegree = grid.maximumDegree
        let z = a * beta
        let magnitude = abs(z)
        logScale = magnitude

        let values = scaledModifiedSphericalBessel(maximumDegree: maximumDegree, argument: magnitude)
        let quotients = scaledModifiedSphericalBesselOverArgument(maximumDegree: maximumDegree, argument: magnitude)
        let derivatives = scaledModifiedSphericalBesselDerivative(maximumDegree: maximumDegree, argument: magnitude)
        var kernel = [Double](repeating: 0, count: maximumDegree + 1)
        var gradient = kernel
        var radial = kernel
        for l in 0...maximumDegree {
            // (−1)^l for i_l and (−1)^{l+1} for i_l/z and i_l' when z < 0.
            let evenSign: Double = (z < 0 && l % 2 == 1) ? -1 : 1
            let oddSign: Double = z < 0 ? -evenSign : 1
            kernel[l] = 4 * Double.pi * evenSign * values[l]
            gradient[l] = 4 * Double.pi * oddSign * quotients[l]
            radial[l] = 4 * Double.pi * oddSign * derivatives[l]
        }
        kernelCoefficients = kernel
        gradientCoefficients = gradient
        radialCoefficients = radial

        var centres = [SIMD3<Double>]()
        var colatitudeVectors = [SIMD3<Double>]()
        var longitudeVectors = [SIMD3<Double>]()
        for j in 0..<grid.nlat {
            let cosTheta = grid.nodes.cosColatitude[j]
            let sinTheta = grid.nodes.sinColatitude[j]
            for k in 0..<grid.nlon {
                let phi = grid.longitude(column: k)
                let cosPhi = cos(phi), sinPhi = sin(phi)
                centres.append(SIMD3(sinTheta * cosPhi, sinTheta * sinPhi, cosTheta))
                colatitudeVectors.append(SIMD3(cosTheta * cosPhi, cosTheta * sinPhi, -sinTheta))
                longitudeVectors.append(SIMD3(-sinPhi, cosPhi, 0))
            }
        }
        self.centres = centres
        self.colatitudeVectors = colatitudeVectors
        self.longitudeVectors = longitudeVectors
    }

    /// Scaled fields at the cell centres: e^{−|z|} D, e^{−|z|} ∇_S D / z and
    /// e^{−|z|} ∇_R3 D / z (so that e^{−|z|} N = V · scaledGradient).
    struct Fields {
        var scaledDenominator: [Double]
        var scaledSurfaceGradient: [SIMD3<Double>]
        var scaledGradient: [SIMD3<Double>]
    }

    /// `radialPart` false skips ∂_r D; `scaledGradient` then equals
    /// `scaledSurfaceGradient`.
    func evaluate(density: [Double], radialPart: Bool = true) -> Fields {
        let coefficients = transform.analyze(density)
        let denominator = transform.synthesize(weighted(coefficients, by: kernelCoefficients))
        let gradient = transform.synthesizeGradient(weighted(coefficients, by: gradientCoefficients))
        let radial = radialPart ? transform.synthesize(weighted(coefficients, by: radialCoefficients)) : nil

        var surface = [SIMD3<Double>](repeating: .zero, count: density.count)
        for index in density.indices {
            surface[index] = gradient.colatitude[index] * colatitudeVectors[index]
                + gradient.longitude[index] * longitudeVectors[index]
        }
        guard let radial else {
            return Fields(scaledDenominator: denominator, scaledSurfaceGradient: surface, scaledGradient: surface)
        }
        var full = surface
        for index in density.indices {
            full[index] += radial[index] * centres[index]
        }
        return Fields(scaledDenominator: denominator, scaledSurfaceGradient: surface, scaledGradient: full)
    }

    /// c_lm · w_l.
    private func weighted(_ coefficients: HarmonicCoefficients, by weights: [Double]) -> HarmonicCoefficients {
        var result = HarmonicCoefficients(maximumDegree: maximumDegree)
        for l in 0...maximumDegree {
            for m in -l...l {
                let index = HarmonicCoefficients.index(degree: l, order: m)
                result.values[index] = coefficients.values[index] * weights[l]
            }
        }
        return result
    }
}
