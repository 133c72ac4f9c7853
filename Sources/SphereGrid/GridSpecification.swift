import Foundation

/// Grid named by a config: a preset such as `"gl64"` (a JSON file in a
/// `grids/` folder) or an inline object `{ "kind": "gauss-legendre", "nlat": 48 }`.
public enum GridSpecification: Equatable, Sendable {
    case gaussLegendre(nlat: Int)

    /// Reads an inline grid object. `context` names the config key in errors.
    public static func parse(object: [String: Any], context: String) throws -> GridSpecification {
        guard let kind = object["kind"] as? String else {
            throw GridError("\(context).kind is missing: set it to \"gauss-legendre\"")
        }
        switch kind {
        case "gauss-legendre":
            guard let raw = object["nlat"] else {
                throw GridError("\(context).nlat is missing: give the number of rings, an integer from 2 to \(SphereGrid.maximumRingCount)")
            }
            guard !isJSONBoolean(raw), let number = raw as? NSNumber,
                  number.doubleValue.isFinite,
                  number.doubleValue.rounded() == number.doubleValue else {
                throw GridError("\(context).nlat = \(raw) is not an integer: give the number of rings, from 2 to \(SphereGrid.maximumRingCount)")
            }
            let nlat = number.intValue
            guard nlat >= 2, nlat <= SphereGrid.maximumRingCount else {
                throw GridError("\(context).nlat = \(nlat) is out of range: use an integer from 2 to \(SphereGrid.maximumRingCount)")
            }
            let unknown = Set(object.keys).subtracting(["kind", "nlat", "description"])
            if let key = unknown.sorted().first {
                throw GridError("\(context).\(key) is not a known grid key: a gauss-legendre grid takes \"kind\" and \"nlat\"")
            }
            return .gaussLegendre(nlat: nlat)
        default:
            throw GridError("\(context).kind = \"\(kind)\" is not supported: use \"gauss-legendre\"")
        }
    }

    /// Resolves a preset name by reading `<name>.json` from the first folder
    /// in `searchPaths` that has it.
    public static func preset(named name: String, searchPaths: [URL]) throws -> GridSpecification {
        guard !name.isEmpty, name.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" }) else {
            throw GridError("grid preset \"\(name)\" is not a valid preset name: use letters, digits, '-' or '_' (for example \"gl64\")")
        }
        for folder in searchPaths {
            let file = folder.appendingPathComponent(name + ".json")
            guard FileManager.default.fileExists(atPath: file.path) else { continue }
            let data: Data
            do { data = try Data(contentsOf: file) } catch {
                throw GridError("grid preset file \(file.path) could not be read: \(error.localizedDescription)")
            }
            guard let object = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] else {
                throw GridError("grid preset file \(file.path) is not a JSON object")
            }
            return try parse(object: object, context: "grid preset \(file.lastPathComponent)")
        }
        let available = availablePresets(searchPaths: searchPaths)
        let list = available.isEmpty ? "none found" : available.joined(separator: ", ")
        let folders = searchPaths.map(\.path).joined(separator: ", ")
        throw GridError("grid preset \"\(name)\" was not found in \(folders) (available: \(list)); name a preset or give { \"kind\": \"gauss-legendre\", \"nlat\": N }")
    }

    /// Names of the presets found in the search folders, sorted.
    public static func availablePresets(searchPaths: [URL]) -> [String] {
        var names = Set<String>()
        for folder in searchPaths {
            let files = (try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []
            for file in files where file.hasSuffix(".json") { names.insert(String(file.dropLast(5))) }
        }
        return names.sorted { $0.count == $1.count ? $0 < $1 : $0.count < $1.count }
    }

    /// Folders searched for presets, in order: `$MEANFIELD_GRIDS`, `grids/`
    /// beside `configDirectory` and in its parents, `grids/` in the current
    /// directory, and the `grids/` folder of this source tree.
    public static func defaultSearchPaths(configDirectory: URL?) -> [URL] {
        var paths: [URL] = []
        if let env = ProcessInfo.processInfo.environment["MEANFIELD_GRIDS"], !env.isEmpty {
            paths.append(URL(fileURLWithPath: env))
        }
        if var folder = configDirectory?.standardizedFileURL {
            for _ in 0..<6 {
                paths.append(folder.appendingPathComponent("grids"))
                let parent = folder.deletingLastPathComponent()
                if parent.path == folder.path { break }
                folder = parent
            }
        }
        paths.append(URL(fileURLWithPath: FileManager.default.currentDirectoryPath).appendingPathComponent("grids"))
        // Sources/SphereGrid/GridSpecification.swift → repository root.
        let sourceRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .deletingLastPathComponent().deletingLastPathComponent()
        paths.append(sourceRoot.appendingPathComponent("grids"))
        var seen = Set<String>()
        return paths.filter { seen.insert($0.standardizedFileURL.path).inserted }
    }

    public func makeGrid() throws -> SphereGrid {
        switch self {
        case .gaussLegendre(let nlat): return try SphereGrid(nlat: nlat)
        }
    }
}

/// Whether a value from JSONSerialization is `true` or `false`. On Linux a
/// JSON number such as 1.0 also passes `is Bool`, so the check looks at the
/// stored C type instead ("c" is how Foundation stores booleans).
public func isJSONBoolean(_ value: Any) -> Bool {
    guard let number = value as? NSNumber else { return false }
    return String(cString: number.objCType) == "c"
}
