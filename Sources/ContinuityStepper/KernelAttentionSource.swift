import AttentionKernel
import SphereGrid

/// The attention kernel as the velocity source of `AttentionVelocityField`:
/// one kernel evaluation per requested density.
extension AttentionKernel: AttentionSource {
    public func sample(density: [Double]) throws -> AttentionSample {
        let evaluation = try evaluate(density: density)
        return AttentionSample(normalization: model.normalization == .softmax ? .softmax : .none,
                               logScale: evaluation.logScale,
                               scaledDenominator: evaluation.scaledDenominator,
                               scaledPotential: evaluation.scaledPotential,
                               velocity: evaluation.velocity, energy: evaluation.energy)
    }
}
