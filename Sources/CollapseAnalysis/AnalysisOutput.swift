import Foundation

/// JSON-compatible dictionary for the run's analysis file: the spectral
/// report (spectra, regime and Lyapunov statements) and, when the model is
/// A = a·I, V = v·I on S^1 or S^2, the growth rates with the fastest mode
/// and its suggestion; `growth_rates` is null otherwise. A classified state
/// goes under `final_state` when given.
public func analysisJSONObject(report: SpectralReport, growthRates: GrowthRateTable?,
                               finalState: FinalState? = nil) -> [String: Any] {
    var object = report.jsonObject
    if let growthRates {
        object["growth_rates"] = growthRates.jsonObject
        object["uniform_state_stable"] = growthRates.isStable
        object["fastest_mode"] = growthRates.fastestMode.map { $0.degree as Any } ?? NSNull()
        object["suggestion"] = growthRates.suggestion
    } else {
        object["growth_rates"] = NSNull()
    }
    if let finalState {
        object["final_state"] = finalState.jsonObject
    }
    return object
}

extension GrowthRateTable {
    /// The table for a report whose model has A = a·I and V = v·I in d = 2
    /// or 3, or nil for any other model. Pass L = nlat − 1 on S^2 and half
    /// the cell count on S^1; values below 20 are raised to 20.
    public init?(report: SpectralReport, maximumDegree: Int) throws {
        guard let parameters = report.isotropicParameters,
              let manifold = UniformStateManifold(dimension: report.dimension)
        else { return nil }
        try self.init(manifold: manifold, normalization: report.normalization,
                      a: parameters.a, v: parameters.v, beta: report.beta,
                      maximumDegree: max(maximumDegree, Self.minimumMaximumDegree))
    }
}
