import Foundation
import Particles

/// Exit codes, following the BSD sysexits convention.
public enum ExitCode: Int32 {
    case success = 0
    /// Invalid command line or config (EX_USAGE).
    case usage = 64
    /// A run stopped on a numerical failure (EX_SOFTWARE).
    case numericalFailure = 70
    /// Output could not be written (EX_IOERR).
    case outputFailure = 74
}

/// The `meanfield` command line.
public enum MeanFieldCommand {
    public static let version = "0.1.0"

    static let usage = """
    Usage:
      meanfield run CONFIG.json [CONFIG.json …] [--output DIR] [--quiet]
      meanfield analyze CONFIG.json [CONFIG.json …] [--output DIR]
      meanfield --version
      meanfield --help

    Commands:
      run      Evolve the token density of each config in turn and write its
               snapshots and diagnostics. With --output DIR, run NAME writes
               to DIR/NAME; otherwise to the config's output.directory
               (default out/NAME), relative to the current folder.
      analyze  Print the spectra of V and A = QᵀK, the regime they put the
               model in, whether the energy is a Lyapunov function and the
               growth rates of the uniform state; write analysis.json and
               growth_rates.csv to DIR (default: the config's
               output.directory).

    Options:
      --output DIR   run: parent folder for all runs of this call;
                     analyze: the folder for analysis.json and growth_rates.csv.
      --quiet        No progress lines on standard error.

    Exit codes: 0 success, 64 invalid command line or config,
    70 a run stopped on a numerical failure, 74 output could not be written,
    130 (SIGINT, Ctrl-C) or 143 (SIGTERM) interrupted: the current run stops
    after its current step with status "interrupted" in run.json, and later
    configs are not started. A second signal ends the process at once.
    Documentation: docs/ in the source tree (config keys: docs/config.md).
    """

    /// Runs the command line and returns the process exit code.
    public static func main(arguments: [String]) -> Int32 {
        guard let command = arguments.first else {
            printError(usage)
            return ExitCode.usage.rawValue
        }
        switch command {
        case "--help", "-h", "help":
            print(usage)
            return ExitCode.success.rawValue
        case "--version":
            print("meanfield \(version) (vector kernels: \(vectorKernelInstructionSet))")
            return ExitCode.success.rawValue
        case "run":
            return runCommand(Array(arguments.dropFirst()))
        case "analyze":
            return AnalyzeCommand.run(Array(arguments.dropFirst()))
        default:
            printError("meanfield: unknown command \"\(command)\"; use \"run\" or \"analyze\" (see meanfield --help)")
            return ExitCode.usage.rawValue
        }
    }

    static func printError(_ text: String) {
        FileHandle.standardError.write(Data((text + "\n").utf8))
    }

    struct RunArguments {
        var configPaths: [String] = []
        var output: String?
        var quiet = false
    }

    /// Thrown by the argument parser for --help.
    struct HelpRequested: Error {}

    static func parseRunArguments(_ arguments: [String], command: String = "run") throws -> RunArguments {
        var result = RunArguments()
        var index = 0
        while index < arguments.count {
            let argument = arguments[index]
            switch argument {
            case "--output", "-o":
                guard index + 1 < arguments.count, !arguments[index + 1].hasPrefix("--") else {
                    throw ConfigError("--output needs a folder: meanfield \(command) CONFIG.json --output DIR")
                }
                result.output = arguments[index + 1]
                index += 1
            case "--quiet", "-q":
                result.quiet = true
            case "--help", "-h":
                throw HelpRequested()
            default:
                if argument.hasPrefix("--output=") {
                    result.output = String(argument.dropFirst("--output=".count))
                } else if argument.hasPrefix("-") {
                    throw ConfigError("unknown option \(argument): meanfield \(command) accepts --output DIR and --quiet")
                } else {
                    result.configPaths.append(argument)
                }
            }
            index += 1
        }
        guard !result.configPaths.isEmpty else {
            throw ConfigError("meanfield \(command) needs at least one config file: meanfield \(command) CONFIG.json [--output DIR]")
        }
        return result
    }

    static func runCommand(_ arguments: [String]) -> Int32 {
        let parsed: RunArguments
        do {
            parsed = try parseRunArguments(arguments)
        } catch is HelpRequested {
            print(usage)
            return ExitCode.success.rawValue
        } catch {
            printError("meanfield: \(error)")
            return ExitCode.usage.rawValue
        }

        // Validate every config before running any, so a typo in the last
        // file does not surface after hours of work on the first.
        var configs: [RunConfig] = []
        for path in parsed.configPaths {
            do {
                configs.append(try RunConfig.load(path: path))
            } catch {
                printError("meanfield: \(error)")
                return ExitCode.usage.rawValue
            }
        }
        var names = Set<String>()
        for config in configs where !names.insert(outputFolder(for: config, parent: parsed.output).path).inserted {
            printError("meanfield: two configs write to \(outputFolder(for: config, parent: parsed.output).path): give them different names or output directories")
            return ExitCode.usage.rawValue
        }

        var exitCode = ExitCode.success
        for (index, config) in configs.enumerated() {
            if let signalNumber = pendingInterrupt {
                let skipped = configs[index...].map(\.name).joined(separator: ", ")
                printError("meanfield: interrupted; not started: \(skipped)")
                return 128 + signalNumber
            }
            let folder = outputFolder(for: config, parent: parsed.output)
            let log = ProgressLog(quiet: parsed.quiet)
            do {
                let summary = try ExperimentRun(config: config, outputDirectory: folder, log: log).execute()
                print(summary.line)
            } catch let failure as RunFailure {
                print(failure.summaryLine)
                printError("meanfield: \(failure)")
                if let signalNumber = failure.interruptSignal {
                    let skipped = configs[(index + 1)...].map(\.name)
                    if !skipped.isEmpty {
                        printError("meanfield: not started: \(skipped.joined(separator: ", "))")
                    }
                    return 128 + signalNumber
                }
                exitCode = failure.isOutputFailure ? .outputFailure : .numericalFailure
            } catch let error as ConfigError {
                print("\(config.name): failed (invalid input) — \(error.message)")
                printError("meanfield: \(error)")
                if exitCode == .success { exitCode = .usage }
            } catch {
                print("\(config.name): failed — \(error)")
                printError("meanfield: \(error)")
                exitCode = .outputFailure
            }
        }
        if let signalNumber = pendingInterrupt {
            printError("meanfield: interrupted after the last run had finished its steps; its files are complete")
            return 128 + signalNumber
        }
        return exitCode.rawValue
    }

    static func outputFolder(for config: RunConfig, parent: String?) -> URL {
        if let parent {
            return URL(fileURLWithPath: parent).appendingPathComponent(config.name)
        }
        return URL(fileURLWithPath: config.output.directory)
    }
}
