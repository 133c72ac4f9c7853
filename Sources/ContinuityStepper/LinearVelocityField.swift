import Foundation
import LinearAlgebra
import SphereGrid

/// The linear velocity field X(x) = P⊥(x)(B x + c) on the unit sphere,
/// with P⊥(x) = I − x xᵀ, B a 3×3 matrix and c a vector (units 1/time).
///
/// B splits into an antisymmetric part W = (B − Bᵀ)/2, with W x = ω × x and
/// ω = (W₃₂, W₁₃, W₂₁), and a symmetric part S = (B + Bᵀ)/2. The rotation
/// ω × x is already tangent and divergence-free, and its flux through any
/// arc from P to Q with normal n = t × x (t the unit tangent along the
/// arc) is
///
///     ∫ (ω × x)·(t × x) dl = ∫ ω·t dl = ω·(Q − P),
///
/// so the stream function is ψ(x) = ⟨ω, x⟩ and each face flux is the
/// difference of ψ at the face's two corners. The fluxes around a cell then
/// cancel: the discrete divergence of the rotation part is zero up to the
/// rounding of four subtractions, so a constant density stays constant.
/// For B antisymmetric and c = 0 this is solid-body rotation with angular
/// velocity ω (rad per unit time).
///
/// The remaining part P⊥(x)(S x + c) = ∇_S(½ xᵀS x + ⟨c, x⟩) is a
/// gradient; its normal component is integrated along each face with
/// 4-point Gauss–Legendre quadrature in the arc parameter (θ on longitude
/// faces, φ on ring faces), whose error is far below the scheme's.
public struct LinearVelocityField: VelocityField {
    public let grid: SphereGrid
    public let matrix: Matrix3
    public let offset: SIMD3<Double>
    /// Angular velocity ω of the antisymmetric part of `matrix`.
    public let angularVelocity: SIMD3<Double>
    public var isDensityDependent: Bool { false }

    private let fluxes: FaceFluxes

    public init(grid: SphereGrid, matrix: Matrix3, offset: SIMD3<Double> = .zero) throws {
        guard matrix.isFinite, offset.x.isFinite, offset.y.isFinite, offset.z.isFinite else {
            throw StepperError(.invalidInput, step: 0, time: 0,
                               detail: "linear velocity field needs finite B and c, got B = \(matrix), c = \(offset)")
        }
        self.grid = grid
        self.matrix = matrix
        self.offset = offset
        let omega = SIMD3(0.5 * (matrix[2, 1] - matrix[1, 2]),
                          0.5 * (matrix[0, 2] - matrix[2, 0]),
                          0.5 * (matrix[1, 0] - matrix[0, 1]))
        self.angularVelocity = omega
        var symmetric = Matrix3.zero
        for row in 0..<3 {
            for column in 0..<3 {
                symmetric[row, column] = 0.5 * (matrix[row, column] + matrix[column, row])
            }
        }
        var result = LinearVelocityField.rotationFluxes(grid: grid, omega: omega)
        let hasGradientPart = symmetric != Matrix3.zero || offset != .zero
        if hasGradientPart {
            LinearVelocityField.addGradientFluxes(grid: grid, symmetric: symmetric, offset: offset, to: &result)
        }
        self.fluxes = result
    }

    /// Solid-body rotation x ↦ ω × x.
    public static func rotation(grid: SphereGrid, angularVelocity omega: SIMD3<Double>) throws -> LinearVelocityField {
        let matrix = Matrix3(rows: [[0, -omega.z, omega.y],
                                    [omega.z, 0, -omega.x],
                                    [-omega.y, omega.x, 0]])
        return try LinearVelocityField(grid: grid, matrix: matrix)
    }

    public func faceFluxes(density: [Double]) throws -> FaceFluxes { fluxes }

    /// Velocity X(x) at a point of the sphere.
    public func velocity(at x: SIMD3<Double>) -> SIMD3<Double> {
        let ambient = matrix.apply(x) + offset
        return ambient - (ambient * x).sum() * x
    }

    private static func corner(_ grid: SphereGrid, ring i: Int, longitude phi: Double) -> SIMD3<Double> {
        let s = grid.faceSinColatitude[i]
        return SIMD3(s * cos(phi), s * sin(phi), grid.faceCosColatitude[i])
    }

    /// Fluxes of ω × x as differences of ψ = ⟨ω, x⟩ at face corners.
    private static func rotationFluxes(grid: SphereGrid, omega: SIMD3<Double>) -> FaceFluxes {
        let nlat = grid.nlat, nlon = grid.nlon
        let dphi = grid.longitudeSpacing
        // psi[i * nlon + f]: ring face i (0...nlat), longitude face f at φ = (f + ½)Δφ.
        var psi = [Double](repeating: 0, count: (nlat + 1) * nlon)
        for i in 0...nlat {
            for f in 0..<nlon {
                let x = corner(grid, ring: i, longitude: (Double(f) + 0.5) * dphi)
                psi[i * nlon + f] = (omega * x).sum()
            }
        }
        var result = FaceFluxes.zero(on: grid)
        for j in 0..<nlat {
            for k in 0..<nlon {
                // Eastward through the meridian arc from the north corner P to the south corner Q:
                // the arc normal t × x is −e_φ, so the eastward flux is ψ(P) − ψ(Q).
                result.zonal[j * nlon + k] = psi[j * nlon + k] - psi[(j + 1) * nlon + k]
            }
        }
        for j in 0..<(nlat - 1) {
            for k in 0..<nlon {
                // Southward through the ring arc from the west corner P to the east corner Q:
                // the arc normal t × x is +e_θ, so the flux is ψ(Q) − ψ(P).
                let west = (k + nlon - 1) % nlon
                result.meridional[j * nlon + k] = psi[(j + 1) * nlon + k] - psi[(j + 1) * nlon + west]
            }
        }
        return result
    }

    private static let gaussNodes: [Double] = [-0.8611363115940526, -0.3399810435848563,
                                                0.3399810435848563, 0.8611363115940526]
    private static let gaussWeights: [Double] = [0.3478548451374538, 0.6521451548625461,
                                                  0.6521451548625461, 0.3478548451374538]

    /// Adds ∫ (S x + c)·n dl over every face (4-point Gauss–Legendre).
    private static func addGradientFluxes(grid: SphereGrid, symmetric: Matrix3, offset: SIMD3<Double>,
                                          to result: inout FaceFluxes) {
        let nlat = grid.nlat, nlon = grid.nlon
        let dphi = grid.longitudeSpacing
        func ambient(_ x: SIMD3<Double>) -> SIMD3<Double> { symmetric.apply(x) + offset }
        for j in 0..<nlat {
            let north = grid.faceColatitude[j], south = grid.faceColatitude[j + 1]
            let half = 0.5 * (south - north), middle = 0.5 * (south + north)
            for k in 0..<nlon {
                let phi = (Double(k) + 0.5) * dphi
                let eastward = SIMD3(-sin(phi), cos(phi), 0)
                var sum = 0.0
                for q in 0..<4 {
                    let theta = middle + half * gaussNodes[q]
                    let x = SIMD3(sin(theta) * cos(phi), sin(theta) * sin(phi), cos(theta))
                    sum += gaussWeights[q] * (ambient(x) * eastward).sum()
                }
                result.zonal[j * nlon + k] += half * sum
            }
        }
        for j in 0..<(nlat - 1) {
            let s = grid.faceSinColatitude[j + 1], c = grid.faceCosColatitude[j + 1]
            for k in 0..<nlon {
                let centre = Double(k) * dphi
                var sum = 0.0
                for q in 0..<4 {
                    let phi = centre + 0.5 * dphi * gaussNodes[q]
                    let x = SIMD3(s * cos(phi), s * sin(phi), c)
                    let southward = SIMD3(c * cos(phi), c * sin(phi), -s)
                    sum += gaussWeights[q] * (ambient(x) * southward).sum()
                }
                result.meridional[j * nlon + k] += s * 0.5 * dphi * sum
            }
        }
    }
}
