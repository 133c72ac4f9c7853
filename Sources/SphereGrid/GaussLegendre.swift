import Foundation

/// Gauss–Legendre quadrature nodes on [−1, 1], returned in the ordering of
/// the sphere grid: node j is cos θ_j with colatitude θ_j increasing from
/// the north pole, so the nodes decrease from near +1 to near −1.
public struct GaussLegendreNodes: Sendable {
    /// cos θ_j, decreasing.
    public let cosColatitude: [Double]
    /// sin θ_j, computed as √(u (2 − u)) with u = 1 − cos θ_j in
    /// double-double, so that it is accurate to round-off next to the poles.
    public let sinColatitude: [Double]
    /// θ_j in radians, increasing in (0, π).
    public let colatitude: [Double]
    /// Quadrature weights w_j, summing to 2.
    public let weights: [Double]

    /// Computes the nodes by Newton's method in θ on P_n(cos θ), started
    /// from Tricomi's asymptotic guess, and the weights as
    /// w = 2 sin²θ / (n P_{n−1}(cos θ))², which avoids the cancellation in
    /// 1 − x² that spoils library weights near the poles. The last Newton
    /// steps and P_{n−1} use double-double arithmetic in u = 1 − x: in plain
    /// double the polar weights at n = 1024 were off by about 5e−13.
    public init(count n: Int) {
        precondition(n >= 1, "Gauss–Legendre needs at least one node")
        var theta = [Double](repeating: 0, count: n)
        var weights = [Double](repeating: 0, count: n)
        var cosines = [Double](repeating: 0, count: n)
        var sines = [Double](repeating: 0, count: n)
        let half = (n + 1) / 2
        for k in 0..<half {
            // Tricomi: θ_k ≈ π (4k + 3) / (4n + 2) for the (k+1)-th root from the north pole.
            var t = Double.pi * Double(4 * k + 3) / Double(4 * n + 2)
            for _ in 0..<100 {
                let u = 2 * sin(t / 2) * sin(t / 2)
                let (pn, pnm1) = GaussLegendreNodes.legendrePair(n: n, oneMinusX: u)
                // dP_n/dθ = −n (P_{n−1} − x P_n) / sin θ, with x = 1 − u.
                let derivative = -Double(n) * (pnm1 - pn + u * pn) / sin(t)
                let step = pn / derivative
                t -= step
                if abs(step) <= 1e-17 * t { break }
            }
            // Polish the root in u = 1 − x with double-double P_n: the weight
            // formula is sensitive to the node (d ln w/dθ ~ n² at the polar
            // ring), so w must be evaluated at the root itself, not at a
            // rounded θ or a rounded 1 − cos θ.
            var u = DoubleDouble(sin(t / 2)) * DoubleDouble(sin(t / 2)) * 2
            for _ in 0..<2 {
                let (value, below) = GaussLegendreNodes.extendedLegendrePair(degree: n, oneMinusX: u)
                let uValue = u.value
                // dP_n/du = −dP_n/dx = −n (P_{n−1} − x P_n) / (u (2 − u)).
                let derivative = -Double(n) * (below.value - (1 - uValue) * value.value) / (uValue * (2 - uValue))
                u = u - DoubleDouble(value.value / derivative)
            }
            let below = GaussLegendreNodes.extendedLegendrePair(degree: n, oneMinusX: u).1
            // w = 2 (1 − x²) / (n P_{n−1})², with 1 − x² = u (2 − u).
            let sineSquared = u * (DoubleDouble(2) - u)
            let scaled = below * Double(n)
            let w = (sineSquared * 2).value / (scaled * scaled).value
            t = 2 * asin((u.value / 2).squareRoot())

            // Store the northern node and mirror it into the southern hemisphere.
            theta[k] = t
            weights[k] = w
            cosines[k] = (DoubleDouble(1) - u).value
            sines[k] = sineSquared.value.squareRoot()
            theta[n - 1 - k] = Double.pi - t
            weights[n - 1 - k] = w
            cosines[n - 1 - k] = -cosines[k]
            sines[n - 1 - k] = sines[k]
        }
        if n % 2 == 1 {
            theta[n / 2] = Double.pi / 2
            cosines[n / 2] = 0
            sines[n / 2] = 1
        }
        self.colatitude = theta
        self.weights = weights
        self.cosColatitude = cosines
        self.sinColatitude = sines
    }

    /// (P_n(x), P_{n−1}(x)) at x = 1 − u. The recurrence runs on the
    /// differences Δ_l = P_l − P_{l−1},
    ///     l Δ_l = −(2l − 1) u P_{l−1} + (l − 1) Δ_{l−1},
    /// so that P_n depends on u = 2 sin²(θ/2) rather than on a rounded
    /// cos θ: near the poles x carries only about 1e−16 / sin θ of relative
    /// precision in θ, which is too little for nodes and weights to round-off.
    static func legendrePair(n: Int, oneMinusX u: Double) -> (Double, Double) {
        if n == 0 { return (1, 0) }
        var previous = 1.0          // P_0
        var difference = -u         // Δ_1 = P_1 − P_0 = x − 1
        var current = 1.0 - u       // P_1
        if n == 1 { return (current, previous) }
        for l in 2...n {
            difference = (-Double(2 * l - 1) * u * current + Double(l - 1) * difference) / Double(l)
            previous = current
            current += difference
        }
        return (current, previous)
    }

    /// (P_n(x), P_{n−1}(x)) at x = 1 − u, by the difference recurrence of
    /// `legendrePair` carried in double-double arithmetic.
    static func extendedLegendrePair(degree n: Int, oneMinusX u: DoubleDouble) -> (DoubleDouble, DoubleDouble) {
        if n == 0 { return (DoubleDouble(1), DoubleDouble(0)) }
        var previous = DoubleDouble(1)
        var current = DoubleDouble(1) - u
        var difference = DoubleDouble(0) - u
        if n == 1 { return (current, previous) }
        for l in 2...n {
            difference = (u * current * Double(-(2 * l - 1)) + difference * Double(l - 1)) / Double(l)
            previous = current
            current = current + difference
        }
        return (current, previous)
    }
}

/// An unevaluated sum hi + lo of two doubles with |lo| ≤ ulp(hi)/2, giving
/// about 106 bits of precision for the few sums that need it.
struct DoubleDouble {
    var hi: Double
    var lo: Double

    init(_ value: Double) { hi = value; lo = 0 }
    init(hi: Double, lo: Double) { self.hi = hi; self.lo = lo }

    var value: Double { hi + lo }

    private static func normalized(_ a: Double, _ b: Double) -> DoubleDouble {
        let s = a + b
        return DoubleDouble(hi: s, lo: b - (s - a))
    }

    static func + (a: DoubleDouble, b: DoubleDouble) -> DoubleDouble {
        let s = a.hi + b.hi
        let bb = s - a.hi
        let error = (a.hi - (s - bb)) + (b.hi - bb)
        return normalized(s, error + a.lo + b.lo)
    }

    static func - (a: DoubleDouble, b: DoubleDouble) -> DoubleDouble {
        a + DoubleDouble(hi: -b.hi, lo: -b.lo)
    }

    static func * (a: DoubleDouble, b: Double) -> DoubleDouble {
        let p = a.hi * b
        let error = fma(a.hi, b, -p) + a.lo * b
        return normalized(p, error)
    }

    static func * (a: DoubleDouble, b: DoubleDouble) -> DoubleDouble {
        let p = a.hi * b.hi
        let error = fma(a.hi, b.hi, -p) + a.hi * b.lo + a.lo * b.hi
        return normalized(p, error)
    }

    static func / (a: DoubleDouble, b: Double) -> DoubleDouble {
        let q1 = a.hi / b
        let remainder = a - DoubleDouble(q1) * b
        return normalized(q1, remainder.hi / b)
    }
}
