import AttentionKernel
import SphereGrid

/// The attention kernel as the velocity source of `AttentionVelocityField`:
/// one kernel evaluation per requested density.
extension AttentionKernel: AttentionSource {
    public func sample(density: [Double]) throws -> AttentionSample {
        // The face fluxes need D, the potential and the velocity, not N.
        let evaluation = try evaluate(density: density, includeNumerator: false)
        return AttentionSample(normalization: model.normalization == .softmax ? .softmax : .none,
                               logScale: evaluation.logScale,
                               scaledDenominator: evaluation.scaledDenominator,
                               scaledPotential: evaluation.scaledPotential,
                               velocity: evaluation.velocity, energy: evaluation.energy)
    }
}
