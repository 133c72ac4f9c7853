import Foundation

/// One row of `diagnostics.csv`: the state after a step (step 0 is the
/// initial state, with dt = 0).
public struct DiagnosticsRow {
    public var step: Int
    public var time: Double
    public var dt: Double
    public var mass: Double
    public var minimumDensity: Double
    public var maximumDensity: Double
    /// Interaction energy E_β; nil when the velocity does not come from attention.
    public var energy: Double?
    public var moments: MomentSummary

    public static let header = header(dimension: 3)

    /// Header for densities on S^{d−1}, d = 3 (the sphere) or 2 (the circle,
    /// without the z components and the third eigenvalue).
    public static func header(dimension d: Int) -> String {
        let axes = ["x", "y", "z"].prefix(d)
        return (["step", "time", "dt", "mass", "min_density", "max_density", "energy"]
                + axes.map { "first_moment_\($0)" } + ["first_moment_norm"]
                + (1...d).map { "second_moment_eigenvalue_\($0)" } + ["effective_rank"]).joined(separator: ",")
    }

    public var csvLine: String { csvLine(dimension: 3) }

    /// Formats the row for densities on S^{d−1}. On S^1 (d = 2) the moments come
    /// from points (x, y, 0), so the dropped z component and third eigenvalue are 0.
    public func csvLine(dimension d: Int) -> String {
        var fields = [String(step), csvNumber(time), csvNumber(dt), csvNumber(mass),
                      csvNumber(minimumDensity), csvNumber(maximumDensity), csvNumber(energy)]
        fields += ([moments.firstMoment.x, moments.firstMoment.y, moments.firstMoment.z].prefix(d)
                   + [moments.firstMomentNorm]).map(csvNumber)
        fields += moments.secondMomentEigenvalues.prefix(d).map(csvNumber)
        fields.append(csvNumber(moments.effectiveRank))
        return fields.joined(separator: ",")
    }
}

/// Accumulates diagnostics rows and writes the whole file on request.
final class DiagnosticsTable {
    private(set) var rows: [DiagnosticsRow] = []
    /// Model dimension d of the density's manifold S^{d−1}.
    let dimension: Int
    private var text: String

    init(dimension: Int = 3) {
        self.dimension = dimension
        text = DiagnosticsRow.header(dimension: dimension) + "\n"
    }

    func append(_ row: DiagnosticsRow) {
        rows.append(row)
        text += row.csvLine(dimension: dimension) + "\n"
    }

    func write(to output: OutputFiles) throws {
        try output.write(text, to: "diagnostics.csv")
    }
}
