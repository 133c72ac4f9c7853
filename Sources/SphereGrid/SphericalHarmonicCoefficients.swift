/// Real orthonormal spherical-harmonic coefficients up to degree
/// `maximumDegree`, stored at index l·l + l + m for m in −l...l.
///
/// Convention for the basis (colatitude θ, longitude φ):
///
///     Y_l0   = P̄_l0(cos θ)
///     Y_lm   = √2 P̄_lm(cos θ) cos mφ      (m > 0)
///     Y_l,−m = √2 P̄_lm(cos θ) sin mφ      (m > 0)
///
/// where P̄_lm = √((2l+1)/(4π) · (l−m)!/(l+m)!) P_lm and P_lm is the
/// associated Legendre function without the Condon–Shortley phase
/// (P_11(cos θ) = sin θ > 0). Then ∫ Y_lm Y_l'm' dσ = δ_ll' δ_mm' over the
/// unit sphere, Y_00 = 1/√(4π), Y_10 = √(3/(4π)) z, Y_11 = √(3/(4π)) x and
/// Y_1,−1 = √(3/(4π)) y. A band-limited field is f = Σ_lm f_lm Y_lm.
public struct HarmonicCoefficients: Equatable, Sendable {
    public let maximumDegree: Int
    /// (maximumDegree + 1)² coefficients in the order of `index(degree:order:)`.
    public var values: [Double]

    /// Zero coefficients up to degree `maximumDegree` (at least 0).
    public init(maximumDegree: Int) {
        precondition(maximumDegree >= 0, "maximumDegree = \(maximumDegree) is negative")
        self.maximumDegree = maximumDegree
        self.values = [Double](repeating: 0, count: (maximumDegree + 1) * (maximumDegree + 1))
    }

    /// Wraps `values`, which must hold (maximumDegree + 1)² coefficients.
    public init(maximumDegree: Int, values: [Double]) {
        precondition(maximumDegree >= 0, "maximumDegree = \(maximumDegree) is negative")
        precondition(values.count == (maximumDegree + 1) * (maximumDegree + 1),
                     "\(values.count) values given for maximumDegree = \(maximumDegree): expected \((maximumDegree + 1) * (maximumDegree + 1))")
        self.maximumDegree = maximumDegree
        self.values = values
    }

    /// Position of (l, m) in `values`: l·l + l + m.
    @inlinable
    public static func index(degree l: Int, order m: Int) -> Int {
        l * l + l + m
    }

    public subscript(degree l: Int, order m: Int) -> Double {
        get {
            precondition(l >= 0 && l <= maximumDegree && abs(m) <= l,
                         "(l, m) = (\(l), \(m)) is outside 0 ≤ l ≤ \(maximumDegree), |m| ≤ l")
            return values[HarmonicCoefficients.index(degree: l, order: m)]
        }
        set {
            precondition(l >= 0 && l <= maximumDegree && abs(m) <= l,
                         "(l, m) = (\(l), \(m)) is outside 0 ≤ l ≤ \(maximumDegree), |m| ≤ l")
            values[HarmonicCoefficients.index(degree: l, order: m)] = newValue
        }
    }
}
