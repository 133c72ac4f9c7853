import Foundation

// Modified Bessel functions of the first kind, scaled by e^{−z} so that they
// stay finite for large arguments.
//
// Both families satisfy a three-term recurrence in the order ν,
//     F_{ν−1}(z) − F_{ν+1}(z) = (2ν/z) F_ν(z),
// with ν = l + 1/2 for the spherical functions i_l(z) = √(π/(2z)) I_{l+1/2}(z)
// and ν = k for the integer-order functions I_k. Forward recurrence in the
// order is unstable, so the ratios r_ν = F_ν / F_{ν−1} are computed backward
// from a high starting order as the continued fraction
//     r_ν = 1 / (2ν/z + r_{ν+1}),   r_{start+1} = 0,
// and the values follow as products of ratios times a normalization. Every
// ratio lies in (0, 1), so the products underflow gracefully and never
// overflow (Miller's algorithm in ratio form).

/// Ratios r_n = F_n / F_{n−1} for n = 1…count (entry 0 unused), with
/// ν = n + orderOffset.
///
/// The starting order is chosen so that the neglected tail damps the error
/// at n = count below e^{−45}: the error in r_n is multiplied by about r_n²
/// per step, and r_n ≈ exp(−asinh(ν/z)) by the uniform asymptotic expansion.
/// With `convergeSumFromZero` the start also lies beyond the order where
/// Π_{1 ≤ n ≤ N} r_n falls below e^{−42}, and all ratios up to the start are
/// returned, which the normalization sum of the integer-order functions needs.
private func besselRatios(count: Int, orderOffset: Double, argument z: Double,
                          convergeSumFromZero: Bool) -> [Double] {
    var start = count
    var tailDamping = 0.0
    while tailDamping < 45 {
        start += 1
        tailDamping += 2 * asinh((Double(start) + orderOffset) / z)
    }
    if convergeSumFromZero {
        var sumDamping = 0.0
        var order = 0
        while sumDamping < 42 || order < start {
            order += 1
            sumDamping += asinh((Double(order) + orderOffset) / z)
        }
        start = order
    }
    start += 8

    var ratios = [Double](repeating: 0, count: start + 1)
    var next = 0.0
    for n in stride(from: start, through: 1, by: -1) {
        let ratio = 1 / (2 * (Double(n) + orderOffset) / z + next)
        ratios[n] = ratio
        next = ratio
    }
    if convergeSumFromZero { return ratios }
    return Array(ratios[0...count])
}

private func checkArgument(_ z: Double, _ function: String) {
    precondition(z >= 0 && z.isFinite, "\(function): argument z = \(z) is invalid: use a finite z >= 0")
}

/// e^{−z} i_l(z) for l = 0…maximumDegree, where i_l is the modified spherical
/// Bessel function of the first kind, i_l(z) = √(π/(2z)) I_{l+1/2}(z)
/// (i_0(z) = sinh z / z, i_1(z) = (z cosh z − sinh z)/z²).
///
/// Uses the backward (Miller) recurrence in ratio form, normalized by the
/// closed form e^{−z} i_0(z) = (1 − e^{−2z})/(2z). The argument z = 0 gives
/// (1, 0, 0, …). The tests find a relative error below 1e−13 for z from 1e−3
/// to 1000 wherever the value does not underflow. For a negative argument
/// use i_l(−z) = (−1)^l i_l(z).
public func scaledModifiedSphericalBessel(maximumDegree: Int, argument z: Double) -> [Double] {
    precondition(maximumDegree >= 0, "maximumDegree = \(maximumDegree) is invalid: use an integer >= 0")
    checkArgument(z, "scaledModifiedSphericalBessel")
    var values = [Double](repeating: 0, count: maximumDegree + 1)
    if z == 0 {
        values[0] = 1
        return values
    }
    values[0] = -expm1(-2 * z) / (2 * z)
    guard maximumDegree > 0 else { return values }
    let ratios = besselRatios(count: maximumDegree, orderOffset: 0.5, argument: z,
                              convergeSumFromZero: false)
    for l in 1...maximumDegree {
        values[l] = values[l - 1] * ratios[l]
    }
    return values
}

/// e^{−z} i_l'(z) for l = 0…maximumDegree, the scaled derivative of the
/// modified spherical Bessel function, from
/// (2l + 1) i_l' = l i_{l−1} + (l + 1) i_{l+1} and i_0' = i_1. The sum has no
/// cancellation, and z = 0 gives i_1'(0) = 1/3 and 0 for every other degree.
public func scaledModifiedSphericalBesselDerivative(maximumDegree: Int, argument z: Double) -> [Double] {
    precondition(maximumDegree >= 0, "maximumDegree = \(maximumDegree) is invalid: use an integer >= 0")
    checkArgument(z, "scaledModifiedSphericalBesselDerivative")
    let values = scaledModifiedSphericalBessel(maximumDegree: maximumDegree + 1, argument: z)
    var derivatives = [Double](repeating: 0, count: maximumDegree + 1)
    derivatives[0] = values[1]
    if maximumDegree >= 1 {
        for l in 1...maximumDegree {
            derivatives[l] = (Double(l) * values[l - 1] + Double(l + 1) * values[l + 1]) / Double(2 * l + 1)
        }
    }
    return derivatives
}

/// e^{−z} i_l(z)/z for l = 0…maximumDegree, with entry 0 set to 0 because
/// the degree-0 term has no surface gradient. These are the scaled
/// Funk–Hecke coefficients of the surface gradient in N = (1/(aβ)) V ∇D.
///
/// For z < 1 it uses i_l(z)/z = (i_{l−1}(z) − i_{l+1}(z))/(2l + 1), which
/// keeps the limit 1/3 at l = 1 as z → 0; for z ≥ 1 it divides directly,
/// because the difference loses about log10(z) digits at large z.
func scaledModifiedSphericalBesselOverArgument(maximumDegree: Int, argument z: Double) -> [Double] {
    let values = scaledModifiedSphericalBessel(maximumDegree: maximumDegree + 1, argument: z)
    var quotients = [Double](repeating: 0, count: maximumDegree + 1)
    guard maximumDegree >= 1 else { return quotients }
    for l in 1...maximumDegree {
        if z >= 1 {
            quotients[l] = values[l] / z
        } else {
            quotients[l] = (values[l - 1] - values[l + 1]) / Double(2 * l + 1)
        }
    }
    return quotients
}

/// log i_0(z) = |z| + log((1 − e^{−2|z|})/(2|z|)), finite for every finite z
/// (i_0 is even and i_0(0) = 1).
public func logModifiedSphericalBesselOrderZero(argument z: Double) -> Double {
    let magnitude = abs(z)
    if magnitude == 0 { return 0 }
    return magnitude + log(-expm1(-2 * magnitude) / (2 * magnitude))
}

/// e^{−z} I_k(z) for k = 0…maximumOrder, where I_k is the modified Bessel
/// function of the first kind of integer order, which gives the Fourier
/// coefficients of the circle kernel:
/// ∫ exp(z cos(θ − φ)) e^{ikφ} dφ = 2π I_k(z) e^{ikθ}.
///
/// Uses the backward (Miller) recurrence in ratio form, normalized by the
/// generating-function identity e^{−z} (I_0(z) + 2 Σ_{k≥1} I_k(z)) = 1, whose
/// terms are all positive. The argument z = 0 gives (1, 0, 0, …). For a
/// negative argument use I_k(−z) = (−1)^k I_k(z).
public func scaledModifiedBessel(maximumOrder: Int, argument z: Double) -> [Double] {
    precondition(maximumOrder >= 0, "maximumOrder = \(maximumOrder) is invalid: use an integer >= 0")
    checkArgument(z, "scaledModifiedBessel")
    var values = [Double](repeating: 0, count: maximumOrder + 1)
    if z == 0 {
        values[0] = 1
        return values
    }
    let ratios = besselRatios(count: maximumOrder, orderOffset: 0, argument: z,
                              convergeSumFromZero: true)
    // Values relative to I_0, then the normalization sum from the smallest
    // terms up.
    var relative = [Double](repeating: 0, count: ratios.count)
    relative[0] = 1
    for k in 1..<ratios.count {
        relative[k] = relative[k - 1] * ratios[k]
    }
    var tailSum = 0.0
    for k in stride(from: ratios.count - 1, through: 1, by: -1) {
        tailSum += relative[k]
    }
    let scaledOrderZero = 1 / (1 + 2 * tailSum)
    for k in 0...maximumOrder {
        values[k] = relative[k] * scaledOrderZero
    }
    return values
}
