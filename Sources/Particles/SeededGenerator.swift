import Foundation

/// Seeded pseudo-random generator: SplitMix64 (Steele, Lea and Flood, 2014)
/// for 64-bit words, and Box–Muller for standard normal deviates.
///
/// The integer stream is identical on every platform. Normal deviates go
/// through `log`, `cos` and `sin` of the C library, so they match bit for bit
/// across machines that share that library and agree to round-off elsewhere.
public struct SeededGenerator: RandomNumberGenerator, Sendable {
    private var state: UInt64
    private var spareNormal: Double?

    public init(seed: UInt64) {
        state = seed
        spareNormal = nil
    }

    /// Next SplitMix64 word.
    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// Uniform deviate in the open interval (0, 1): (k + 0.5) · 2^-53 with k
    /// the top 53 bits of the next word, so `log` of it is always finite.
    public mutating func nextUniform() -> Double {
        (Double(next() >> 11) + 0.5) * 0x1p-53
    }

    /// Standard normal deviate by the Box–Muller transform: each pair of
    /// uniforms (u1, u2) gives √(−2 log u1) · (cos 2πu2, sin 2πu2), and the
    /// sine half is kept for the next call.
    public mutating func nextNormal() -> Double {
        if let spare = spareNormal {
            spareNormal = nil
            return spare
        }
        let u1 = nextUniform()
        let u2 = nextUniform()
        let radius = (-2 * log(u1)).squareRoot()
        let angle = 2 * Double.pi * u2
        spareNormal = radius * sin(angle)
        return radius * cos(angle)
    }

    /// Gamma(shape, 1) deviate by Marsaglia and Tsang (2000). Shapes below 1
    /// use Gamma(shape + 1) · U^(1/shape).
    public mutating func nextGamma(shape: Double) -> Double {
        precondition(shape > 0, "gamma shape must be positive")
        if shape < 1 {
            let boosted = nextGamma(shape: shape + 1)
            return boosted * pow(nextUniform(), 1 / shape)
        }
        let d = shape - 1.0 / 3.0
        let c = 1 / (9 * d).squareRoot()
        while true {
            var x: Double
            var v: Double
            repeat {
                x = nextNormal()
                v = 1 + c * x
            } while v <= 0
            v = v * v * v
            let u = nextUniform()
            if log(u) < 0.5 * x * x + d - d * v + d * log(v) {
                return d * v
            }
        }
    }

    /// Beta(a, b) deviate as G_a / (G_a + G_b) from two gamma deviates.
    public mutating func nextBeta(_ a: Double, _ b: Double) -> Double {
        let ga = nextGamma(shape: a)
        let gb = nextGamma(shape: b)
        return ga / (ga + gb)
    }
}
