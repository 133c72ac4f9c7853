import AttentionKernel
import CollapseAnalysis
import Foundation

/// `meanfield analyze`: the spectra of V and A = QᵀK, the regime they put
/// the model in, whether the energy is a Lyapunov function, and the growth
/// rates of the uniform state, printed and written as `analysis.json` and
/// `growth_rates.csv`.
enum AnalyzeCommand {
    /// Highest degree of the growth-rate table: L = nlat − 1 of the density
    /// grid on S^2, the Nyquist mode cells/2 of a circle grid on S^1 (at
    /// least 20 in both cases), or 20 without a density section.
    static func maximumDegree(for config: RunConfig) throws -> Int {
        guard let density = config.density else { return GrowthRateTable.minimumMaximumDegree }
        switch density.grid {
        case .sphere(.gaussLegendre(let nlat)): return max(nlat - 1, GrowthRateTable.minimumMaximumDegree)
        case .circle(let circle): return max(circle.cells / 2, GrowthRateTable.minimumMaximumDegree)
        }
    }

    static func report(for config: RunConfig) throws -> (SpectralReport, GrowthRateTable?) {
        let model = config.model
        let d = model.dimension
        do {
            let report = try SpectralReport(query: try model.query.entries(dimension: d),
                                            key: try model.key.entries(dimension: d),
                                            value: try model.value.entries(dimension: d),
                                            dimension: d, beta: model.beta,
                                            normalization: model.normalization == "softmax" ? .softmax : .none)
            let table = try GrowthRateTable(report: report, maximumDegree: try maximumDegree(for: config))
            return (report, table)
        } catch let error as AnalysisError {
            throw ConfigError("model: \(error)")
        }
    }

    /// Text printed on standard output.
    static func summary(config: RunConfig, report: SpectralReport, table: GrowthRateTable?) -> String {
        func format(_ spectrum: MatrixSpectrum) -> String {
            spectrum.eigenpairs.map { value in
                value.imaginary == 0 ? String(format: "%.6g", value.real)
                    : String(format: "%.6g%+.6gi", value.real, value.imaginary)
            }.joined(separator: ", ")
        }
        var lines = [
            "\(config.name): d = \(report.dimension), β = \(report.beta), normalization \(config.model.normalization)",
            "  eigenvalues of V: \(format(report.value))",
            "  eigenvalues of A = QᵀK: \(format(report.interaction))",
            "  eigenvalues of the symmetric parts: V \(report.value.symmetricPartEigenvalues.map { String(format: "%.6g", $0) }.joined(separator: ", ")); A \(report.interaction.symmetricPartEigenvalues.map { String(format: "%.6g", $0) }.joined(separator: ", "))",
            "  regime: \(report.regimeStatement)",
            "  energy: \(report.lyapunovStatement)",
        ]
        if let table {
            if let fastest = table.fastestMode {
                lines.append("  fastest mode of the uniform state: \(table.manifold == .circle ? "k" : "l") = \(fastest.degree)")
            }
            lines.append("  \(table.suggestion)")
        } else {
            lines.append("  growth rates: closed forms exist only for A = a·I and V = v·I in dimension 2 or 3")
        }
        return lines.joined(separator: "\n")
    }

    static func run(_ arguments: [String]) -> Int32 {
        let parsed: MeanFieldCommand.RunArguments
        do {
            parsed = try MeanFieldCommand.parseRunArguments(arguments, command: "analyze")
        } catch is MeanFieldCommand.HelpRequested {
            print(MeanFieldCommand.usage)
            return ExitCode.success.rawValue
        } catch {
            MeanFieldCommand.printError("meanfield: \(error)")
            return ExitCode.usage.rawValue
        }
        var exitCode = ExitCode.success
        for path in parsed.configPaths {
            do {
                let config = try RunConfig.load(path: path)
                let (report, table) = try report(for: config)
                let folder = parsed.output.map { URL(fileURLWithPath: $0) }
                    ?? URL(fileURLWithPath: config.output.directory)
                let output = try OutputFiles(directory: folder)
                try output.write(try jsonText(analysisJSONObject(report: report, growthRates: table)), to: "analysis.json")
                let ratesFile = folder.appendingPathComponent("growth_rates.csv")
                if let table {
                    try output.write(table.csv(), to: "growth_rates.csv")
                } else if FileManager.default.fileExists(atPath: ratesFile.path) {
                    // A table from an earlier model would be mistaken for this one's.
                    try? FileManager.default.removeItem(at: ratesFile)
                }
                print(summary(config: config, report: report, table: table))
                print("  written: \(folder.path)/analysis.json" + (table == nil ? "" : ", growth_rates.csv"))
            } catch let error as ConfigError {
                MeanFieldCommand.printError("meanfield: \(error)")
                return ExitCode.usage.rawValue
            } catch {
                MeanFieldCommand.printError("meanfield: \(error)")
                exitCode = .outputFailure
            }
        }
        return exitCode.rawValue
    }
}
