import AttentionKernel
import Foundation

/// The sphere S^{d−1} on which the uniform state is perturbed.
public enum UniformStateManifold: String, Sendable {
    /// S^1 (d = 2): perturbations are Fourier modes cos(kθ), sin(kθ).
    case circle = "S1"
    /// S^2 (d = 3): perturbations are spherical harmonics of degree l.
    case sphere = "S2"

    /// The manifold for particles in R^d, or nil when d is not 2 or 3.
    public init?(dimension: Int) {
        switch dimension {
        case 2: self = .circle
        case 3: self = .sphere
        default: return nil
        }
    }
}

/// Growth rate λ of one mode of a perturbation of the uniform state,
/// f(t) ∝ e^{λt}.
///
/// With z = |a|β, λ can reach e^{z}, which overflows a double near z ≈ 709,
/// so the rate is stored three ways: `growthRate` (nil where it overflows),
/// `scaledGrowthRate` = e^{−z}λ (finite for z up to 1000 and beyond; it can
/// underflow to 0) and log|λ| with the sign kept separately.
public struct ModeGrowthRate: Sendable, Equatable {
    /// Degree l on S^2, or mode number k on S^1.
    public let degree: Int
    /// −1, 0 or +1; 0 for the mass mode (degree 0), for v = 0, and where
    /// the rate underflows to 0 (high degree at small z).
    public let sign: Int
    /// log|λ|, nil when λ is 0 or underflows.
    public let logMagnitude: Double?
    /// e^{−|a|β} λ.
    public let scaledGrowthRate: Double

    /// λ itself, nil when |λ| exceeds the largest double.
    public var growthRate: Double? {
        guard let logMagnitude else { return 0 }
        guard logMagnitude < log(Double.greatestFiniteMagnitude) else { return nil }
        return Double(sign) * exp(logMagnitude)
    }
}

/// Linear growth rates of the uniform density for A = a·I, V = v·I:
///
///     S^2, USA:  λ_l = (v/(aβ)) l(l+1) i_l(aβ)
///     S^2, SA:   λ_l = v l(l+1) i_l(aβ) / sinh(aβ)
///     S^1, USA:  λ_k = (v/(aβ)) k² I_k(aβ)
///     S^1, SA:   λ_k = (v/(aβ)) k² I_k(aβ) / I_0(aβ)
///
/// with i_l the modified spherical Bessel function and I_k the modified
/// Bessel function of integer order. They follow from Funk–Hecke: the
/// velocity of a mode-l perturbation is (v/(aβ)) ∇_S of its potential, and
/// the divergence of a gradient of a degree-l harmonic multiplies it by
/// −l(l+1) (−k² on the circle).
///
/// Everything is computed from the scaled functions e^{−z} i_l(z) and
/// e^{−z} I_k(z), z = |a|β, so nothing overflows for β up to 1000 and
/// beyond. The quotient i_l(z)/z is taken as (i_{l−1} − i_{l+1})/(2l+1)
/// for z < 1 (and I_k(z)/z = (I_{k−1} − I_{k+1})/(2k)), which keeps the
/// limits as a → 0: λ_1 → 2v/3 on S^2 and v/2 on S^1 (SA and USA alike),
/// and every higher mode → 0. For a < 0 the parities
/// i_l(−z) = (−1)^l i_l(z) and I_k(−z) = (−1)^k I_k(z) give
/// λ = v·(mode factor)·(−1)^{l+1}·i_l(z)/z, so modes of alternating parity
/// grow and decay.
public struct GrowthRateTable: Sendable {
    public let manifold: UniformStateManifold
    public let normalization: Normalization
    public let a: Double
    public let v: Double
    public let beta: Double
    /// Rates for degrees (or modes) 0…maximumDegree; degree 0 is the total
    /// mass and never grows.
    public let rates: [ModeGrowthRate]

    /// Smallest accepted table length: degrees 0…20 at least.
    public static let minimumMaximumDegree = 20

    /// Throws `AnalysisError` for a non-finite or non-positive β, non-finite
    /// a or v, or a maximum degree below 20. On S^2 pass L = nlat − 1 of the
    /// grid; on S^1 pass half the number of cells.
    public init(manifold: UniformStateManifold, normalization: Normalization,
                a: Double, v: Double, beta: Double, maximumDegree: Int) throws {
        guard beta.isFinite, beta > 0 else {
            throw AnalysisError("inverse temperature beta = \(beta) is invalid: use a finite number > 0")
        }
        guard a.isFinite, v.isFinite else {
            throw AnalysisError("A = \(a)·I, V = \(v)·I is invalid: use finite scalars")
        }
        guard maximumDegree >= Self.minimumMaximumDegree else {
            throw AnalysisError("maximum degree \(maximumDegree) is invalid: use at least \(Self.minimumMaximumDegree)")
        }
        self.manifold = manifold
        self.normalization = normalization
        self.a = a
        self.v = v
        self.beta = beta
        rates = Self.computeRates(manifold: manifold, normalization: normalization,
                                  a: a, v: v, beta: beta, maximumDegree: maximumDegree)
    }

    public var maximumDegree: Int { rates.count - 1 }

    /// Whether no mode grows: every λ ≤ 0, so the uniform state is linearly
    /// stable (or neutral where λ = 0).
    public var isStable: Bool { !rates.contains { $0.sign > 0 } }

    /// The mode with the largest positive λ, or nil when none grows. Ties
    /// go to the lower degree.
    public var fastestMode: ModeGrowthRate? {
        var best: ModeGrowthRate?
        for rate in rates where rate.sign > 0 {
            guard let magnitude = rate.logMagnitude else { continue }
            if let current = best?.logMagnitude, current >= magnitude { continue }
            best = rate
        }
        return best
    }

    /// Plain-English reading of the fastest mode.
    public var suggestion: String {
        guard let fastest = fastestMode else {
            if v == 0 {
                return "v = 0: every rate is 0 and the uniform state does not move."
            }
            return "Every mode decays or stays neutral, so the uniform state is linearly stable and tokens stay spread."
        }
        let estimate = String(format: "%.3g", (2 * abs(a) * beta).squareRoot())
        var text: String
        switch manifold {
        case .circle:
            text = "The fastest mode is k = \(fastest.degree), so about \(fastest.degree) clusters, equally spaced on the circle, should appear first"
        case .sphere:
            let spacing = String(format: "%.0f", 180 / Double(fastest.degree))
            text = "The fastest mode is degree l = \(fastest.degree), so the first pattern to appear should have the angular scale of degree-\(fastest.degree) harmonics, with bumps about π/\(fastest.degree) (\(spacing) degrees) apart"
        }
        text += " (large-aβ estimate √(2|a|β) = \(estimate)). "
        if fastestMode?.degree == maximumDegree {
            text += "It is the highest degree in the table, so the true fastest mode may lie beyond it. "
        }
        text += "This is indicative: nonlinear growth and merging decide the later cluster count."
        return text
    }

    /// CSV text with the header `degree,growth_rate,scaled_growth_rate,log_growth_rate`
    /// and one row per degree. `growth_rate` is empty where λ overflows a
    /// double and `log_growth_rate` (= log|λ|, natural log) is empty where
    /// λ = 0 or underflows. The sign of λ is that of `scaled_growth_rate`
    /// unless that underflows to 0.
    public func csv() -> String {
        var lines = ["degree,growth_rate,scaled_growth_rate,log_growth_rate"]
        lines.reserveCapacity(rates.count + 1)
        for rate in rates {
            let growth = rate.growthRate.map { "\($0)" } ?? ""
            let logText = rate.logMagnitude.map { "\($0)" } ?? ""
            lines.append("\(rate.degree),\(growth),\(rate.scaledGrowthRate),\(logText)")
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// JSON-compatible dictionary: parameters, per-mode rates (null where a
    /// value overflows or is 0 in log form), stability, fastest mode and
    /// suggestion.
    public var jsonObject: [String: Any] {
        let modes: [[String: Any]] = rates.map { rate in
            [
                "degree": rate.degree,
                "sign": rate.sign,
                "growth_rate": rate.growthRate.map { $0 as Any } ?? NSNull(),
                "scaled_growth_rate": rate.scaledGrowthRate,
                "log_growth_rate": rate.logMagnitude.map { $0 as Any } ?? NSNull(),
            ]
        }
        var object: [String: Any] = [
            "manifold": manifold.rawValue,
            "normalization": normalization.rawValue,
            "a": a,
            "v": v,
            "beta": beta,
            "stable": isStable,
            "suggestion": suggestion,
            "modes": modes,
        ]
        if let fastest = fastestMode {
            object["fastest_mode"] = fastest.degree
            object["fastest_log_growth_rate"] = fastest.logMagnitude.map { $0 as Any } ?? NSNull()
        } else {
            object["fastest_mode"] = NSNull()
        }
        return object
    }
}

// MARK: - Computation

extension GrowthRateTable {
    /// For each degree: the sign and log of |λ| = |v| · factor · q / denominator,
    /// where q = e^{−z} F(z)/z is the scaled Bessel quotient (F = i_l or I_k),
    /// factor = l(l+1) or k², and the denominator is 1 for USA (then λ
    /// carries a further e^{z}) and e^{−z} sinh(z)/z = e^{−z} i_0(z) or
    /// e^{−z} I_0(z) for SA.
    static func computeRates(manifold: UniformStateManifold, normalization: Normalization,
                             a: Double, v: Double, beta: Double, maximumDegree: Int) -> [ModeGrowthRate] {
        let z = abs(a) * beta
        let scaled: [Double]
        switch manifold {
        case .sphere: scaled = scaledModifiedSphericalBessel(maximumDegree: maximumDegree + 1, argument: z)
        case .circle: scaled = scaledModifiedBessel(maximumOrder: maximumDegree + 1, argument: z)
        }

        var rates = [ModeGrowthRate]()
        rates.reserveCapacity(maximumDegree + 1)
        rates.append(ModeGrowthRate(degree: 0, sign: 0, logMagnitude: nil, scaledGrowthRate: 0))
        for degree in 1...maximumDegree {
            let l = Double(degree)
            let factor: Double
            let quotient: Double
            switch manifold {
            case .sphere:
                factor = l * (l + 1)
                quotient = z < 1
                    ? (scaled[degree - 1] - scaled[degree + 1]) / (2 * l + 1)
                    : scaled[degree] / z
            case .circle:
                factor = l * l
                quotient = z < 1
                    ? (scaled[degree - 1] - scaled[degree + 1]) / (2 * l)
                    : scaled[degree] / z
            }
            // Parity for a < 0: the mode carries (−1)^l from F(−z) and −1
            // from 1/(aβ) (USA) or from sinh(−z), I_0 being even (SA).
            var sign = v > 0 ? 1 : (v < 0 ? -1 : 0)
            if a < 0 && degree % 2 == 0 { sign = -sign }
            guard sign != 0, quotient > 0 else {
                rates.append(ModeGrowthRate(degree: degree, sign: 0, logMagnitude: nil, scaledGrowthRate: 0))
                continue
            }
            var logMagnitude = log(abs(v)) + log(factor) + log(quotient)
            switch normalization {
            case .none:
                logMagnitude += z
            case .softmax:
                logMagnitude -= log(scaled[0])
            }
            let scaledRate = Double(sign) * exp(logMagnitude - z)
            rates.append(ModeGrowthRate(degree: degree, sign: sign, logMagnitude: logMagnitude,
                                        scaledGrowthRate: scaledRate))
        }
        return rates
    }
}
