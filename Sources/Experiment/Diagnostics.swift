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

    public static let header = [
        "step", "time", "dt", "mass", "min_density", "max_density", "energy",
        "first_moment_x", "first_moment_y", "first_moment_z", "first_moment_norm",
        "second_moment_eigenvalue_1", "second_moment_eigenvalue_2", "second_moment_eigenvalue_3",
        "effective_rank",
    ].joined(separator: ",")

    public var csvLine: String {
        var fields = [String(step), csvNumber(time), csvNumber(dt), csvNumber(mass),
                      csvNumber(minimumDensity), csvNumber(maximumDensity), csvNumber(energy)]
        fields += [moments.firstMoment.x, moments.firstMoment.y, moments.firstMoment.z,
                   moments.firstMomentNorm].map(csvNumber)
        fields += moments.secondMomentEigenvalues.map(csvNumber)
        fields.append(csvNumber(moments.effectiveRank))
        return fields.joined(separator: ",")
    }
}

/// Accumulates diagnostics rows and writes the whole file on request.
final class DiagnosticsTable {
    private(set) var rows: [DiagnosticsRow] = []
    private var text = DiagnosticsRow.header + "\n"

    func append(_ row: DiagnosticsRow) {
        rows.append(row)
        text += row.csvLine + "\n"
    }

    func write(to output: OutputFiles) throws {
        try output.write(text, to: "diagnostics.csv")
    }
}
