import Foundation

/// Failure to write output. The message names the file and the reason.
public struct OutputError: Error, CustomStringConvertible {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// Writes run output. Every file is written whole: to a temporary file in
/// the same folder, then renamed, so a reader never sees half a file and a
/// failed run keeps the files it finished.
public struct OutputFiles {
    public let directory: URL

    public init(directory: URL) throws {
        self.directory = directory
        try OutputFiles.makeDirectory(directory)
    }

    static func makeDirectory(_ url: URL) throws {
        do {
            try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        } catch {
            throw OutputError("output folder \(url.path) could not be created: \(error.localizedDescription); choose a writable folder with --output or output.directory")
        }
    }

    /// Writes `text` to `relativePath` below the output folder, atomically.
    @discardableResult
    public func write(_ text: String, to relativePath: String) throws -> URL {
        let url = directory.appendingPathComponent(relativePath)
        try OutputFiles.makeDirectory(url.deletingLastPathComponent())
        do {
            try Data(text.utf8).write(to: url, options: .atomic)
        } catch {
            throw OutputError("\(url.path) could not be written: \(error.localizedDescription)")
        }
        return url
    }

    /// Removes the files an earlier run left in this folder (snapshots,
    /// diagnostics, records, comparisons, particle folders), so that the
    /// folder describes only the new run. Other files are left alone.
    public func removePreviousRunFiles() throws {
        let manager = FileManager.default
        func remove(_ url: URL) throws {
            guard manager.fileExists(atPath: url.path) else { return }
            do { try manager.removeItem(at: url) } catch {
                throw OutputError("\(url.path) from an earlier run could not be removed: \(error.localizedDescription)")
            }
        }
        for name in ["diagnostics.csv", "run.json", "final_state.json", "comparison.csv",
                     "comparison_slopes.csv"] {
            try remove(directory.appendingPathComponent(name))
        }
        for folder in ["density", "particles"] {
            let url = directory.appendingPathComponent(folder)
            try removeSnapshots(in: url)
            let entries = (try? manager.contentsOfDirectory(atPath: url.path)) ?? []
            for entry in entries where entry.hasPrefix("n=") {
                try removeSnapshots(in: url.appendingPathComponent(entry))
                try? manager.removeItem(at: url.appendingPathComponent(entry))
            }
            if (try? manager.contentsOfDirectory(atPath: url.path))?.isEmpty == true {
                try? manager.removeItem(at: url)
            }
        }
    }

    private func removeSnapshots(in folder: URL) throws {
        let manager = FileManager.default
        let entries = (try? manager.contentsOfDirectory(atPath: folder.path)) ?? []
        for entry in entries where (entry.hasPrefix("t=") && entry.hasSuffix(".csv"))
            || entry == "diagnostics.csv" || entry == "final_state.json" {
            do { try manager.removeItem(at: folder.appendingPathComponent(entry)) } catch {
                throw OutputError("\(folder.path)/\(entry) from an earlier run could not be removed: \(error.localizedDescription)")
            }
        }
    }

    /// Snapshot file name for time t: `t=2.500000.csv` (six decimals).
    public static func snapshotFileName(time: Double) -> String {
        "t=" + String(format: "%.6f", time) + ".csv"
    }
}

/// Formats a double for CSV: the shortest text that reads back to the same
/// value, empty for nil.
@inline(__always)
func csvNumber(_ value: Double?) -> String {
    guard let value else { return "" }
    return value.description
}

/// Serializes a JSON-compatible value with sorted keys, for run.json.
func jsonText(_ object: Any) throws -> String {
    let data = try JSONSerialization.data(withJSONObject: object, options: [.prettyPrinted, .sortedKeys])
    return String(decoding: data, as: UTF8.self) + "\n"
}
