import Foundation

extension HarmonicCoefficients {
    /// Coefficients Σ_i w_i Y_lm(x_i) of a weighted sum of point masses at
    /// unit vectors `points` (w_i = 1/n when `weights` is nil: the empirical
    /// measure), for l ≤ `maximumDegree`, in the convention of
    /// `HarmonicCoefficients`.
    ///
    /// Each point runs the normalized recurrences
    ///     P̄_mm = √((2m+1)/(2m)) sin θ P̄_{m−1,m−1},   P̄_00 = 1/√(4π),
    ///     P̄_lm = a_lm (cos θ P̄_{l−1,m} − P̄_{l−2,m}/a_{l−1,m}),   a_lm = √((4l²−1)/(l²−m²)),
    /// and cos mφ, sin mφ by angle addition. Cost O(L²) per point.
    /// NOTE: no exponent rescaling: P̄_mm underflows to 0 when sin^m θ is
    /// below about 1e−308 (for example m = 128 and θ < 4e−3), where the true
    /// values are negligible for any sum of point masses.
    public static func pointMasses(at points: [SIMD3<Double>], weights: [Double]? = nil,
                                   maximumDegree: Int) -> HarmonicCoefficients {
        precondition(maximumDegree >= 0, "maximumDegree must be non-negative")
        precondition(weights == nil || weights!.count == points.count, "one weight per point")
        let degree = maximumDegree
        var result = HarmonicCoefficients(maximumDegree: degree)

        // a_lm for l > m, stored per order.
        var recurrence = [[Double]](repeating: [], count: degree + 1)
        for m in 0...degree {
            recurrence[m] = (0...degree).map { l in
                l <= m ? 0 : ((4 * Double(l * l) - 1) / Double(l * l - m * m)).squareRoot()
            }
        }
        let defaultWeight = points.isEmpty ? 0 : 1 / Double(points.count)
        var legendre = [Double](repeating: 0, count: degree + 1)

        for (index, point) in points.enumerated() {
            let weight = weights?[index] ?? defaultWeight
            let cosTheta = max(-1, min(1, point.z))
            let sinTheta = (point.x * point.x + point.y * point.y).squareRoot()
            let cosPhi = sinTheta > 0 ? point.x / sinTheta : 1
            let sinPhi = sinTheta > 0 ? point.y / sinTheta : 0

            var diagonal = 1 / (4 * Double.pi).squareRoot()
            var cosM = 1.0, sinM = 0.0
            for m in 0...degree {
                if m > 0 {
                    diagonal *= ((2 * Double(m) + 1) / (2 * Double(m))).squareRoot() * sinTheta
                    let nextCos = cosM * cosPhi - sinM * sinPhi
                    sinM = sinM * cosPhi + cosM * sinPhi
                    cosM = nextCos
                }
                if diagonal == 0 { break }
                legendre[m] = diagonal
                if m < degree {
                    legendre[m + 1] = recurrence[m][m + 1] * cosTheta * diagonal
                }
                if m + 2 <= degree {
                    for l in (m + 2)...degree {
                        legendre[l] = recurrence[m][l] * (cosTheta * legendre[l - 1] - legendre[l - 2] / recurrence[m][l - 1])
                    }
                }
                if m == 0 {
                    for l in 0...degree {
                        result.values[l * l + l] += weight * legendre[l]
                    }
                } else {
                    let cosWeight = weight * 2.0.squareRoot() * cosM
                    let sinWeight = weight * 2.0.squareRoot() * sinM
                    for l in m...degree {
                        result.values[l * l + l + m] += cosWeight * legendre[l]
                        result.values[l * l + l - m] += sinWeight * legendre[l]
                    }
                }
            }
        }
        return result
    }
}
