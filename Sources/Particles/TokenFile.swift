import Foundation

extension Tokens {
    /// Reads tokens from a CSV file, as `parseCSV(_:dimension:)` describes.
    public static func readCSV(atPath path: String, dimension: Int? = nil) throws -> Tokens {
        let data: Data
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: path))
        } catch {
            throw ParticleError.unreadableFile(path: path, reason: error.localizedDescription)
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw ParticleError.unreadableFile(path: path, reason: "the file is not valid UTF-8")
        }
        return try parseCSV(text, dimension: dimension)
    }

    /// Parses CSV text with one token per row and d comma-separated numbers.
    ///
    /// Lines end at \n, \r\n or \r, blank lines are skipped, and a leading
    /// UTF-8 byte order mark is ignored. The first non-blank line is a header
    /// when any of its fields is not a number. A header whose first field is
    /// `particle`, as in the `t=<time>.csv` snapshots of a particle run,
    /// marks a first column of token numbers, which is dropped.
    /// d is `dimension` when given, otherwise
    /// the column count of the first data row, and must be at least 2. Each
    /// row is scaled to unit length. Throws `ParticleError.invalidCSV` with the
    /// 1-based line number for a wrong column count, a field that is not a
    /// number, a non-finite value or a zero row, and when no data rows exist.
    public static func parseCSV(_ text: String, dimension: Int? = nil) throws -> Tokens {
        if let dimension, dimension < 2 {
            throw ParticleError.invalidParameter(name: "dimension", value: "\(dimension)",
                                                 expected: "an integer d ≥ 2")
        }
        var columns = dimension
        var positions: [Double] = []
        var sawFirstLine = false
        var lineNumber = 0
        var dropsFirstColumn = false
        let text = text.hasPrefix("\u{FEFF}") ? String(text.dropFirst()) : text

        var lastContentLine = 1
        // "\r\n" is one Character in Swift, so it counts as one line break.
        for rawLine in text.split(omittingEmptySubsequences: false, whereSeparator: { $0.isNewline }) {
            lineNumber += 1
            let line = rawLine.trimmingCharacters(in: .whitespaces)
            if line.isEmpty { continue }
            lastContentLine = lineNumber
            var fields = line.split(separator: ",", omittingEmptySubsequences: false)
                .map { $0.trimmingCharacters(in: .whitespaces) }
            let isFirstLine = !sawFirstLine
            sawFirstLine = true
            if isFirstLine, fields.first?.lowercased() == "particle" {
                dropsFirstColumn = true
            }
            if dropsFirstColumn, !fields.isEmpty { fields.removeFirst() }
            let numbers = fields.map { Double($0) }

            if isFirstLine, numbers.contains(where: { $0 == nil }) || dropsFirstColumn {
                if let columns, fields.count != columns {
                    throw ParticleError.invalidCSV(
                        line: lineNumber,
                        reason: "header has \(fields.count) columns, expected \(columns)")
                }
                // A snapshot header names the coordinates, so it fixes d.
                if dropsFirstColumn { columns = fields.count }
                continue
            }

            let expected = columns ?? fields.count
            guard expected >= 2 else {
                throw ParticleError.invalidCSV(
                    line: lineNumber, reason: "row has \(fields.count) column, expected at least 2")
            }
            columns = expected
            guard fields.count == expected else {
                throw ParticleError.invalidCSV(
                    line: lineNumber, reason: "row has \(fields.count) columns, expected \(expected)")
            }
            for (index, number) in numbers.enumerated() {
                guard let number else {
                    throw ParticleError.invalidCSV(
                        line: lineNumber, reason: "column \(index + 1) \"\(fields[index])\" is not a number")
                }
                guard number.isFinite else {
                    throw ParticleError.invalidCSV(
                        line: lineNumber, reason: "column \(index + 1) is \(fields[index]), expected a finite number")
                }
            }
            // Dividing by the largest entry first keeps the length from
            // underflowing (1e-200 entries) or overflowing (1e200 entries).
            let largest = numbers.map { abs($0!) }.max() ?? 0
            guard largest > 0 else {
                throw ParticleError.invalidCSV(
                    line: lineNumber, reason: "the zero vector has no direction on the sphere")
            }
            let row = numbers.map { $0! / largest }
            let norm = row.reduce(0) { $0 + $1 * $1 }.squareRoot()
            positions.append(contentsOf: row.map { $0 / norm })
        }

        guard let columns, !positions.isEmpty else {
            throw ParticleError.invalidCSV(line: lastContentLine, reason: "the file has no data rows")
        }
        return Tokens(unchecked: positions, dimension: columns)
    }
}
