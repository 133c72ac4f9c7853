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
    /// Lines end at \n, \r\n or \r, and blank lines are skipped. The first
    /// non-blank line is a header when any of its fields is not a number.
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

        var lastContentLine = 1
        // "\r\n" is one Character in Swift, so it counts as one line break.
        for rawLine in text.split(omittingEmptySubsequences: false, whereSeparator: { $0.isNewline }) {
            lineNumber += 1
            let line = rawLine.trimmingCharacters(in: .whitespaces)
            if line.isEmpty { continue }
            lastContentLine = lineNumber
            let fields = line.split(separator: ",", omittingEmptySubsequences: false)
                .map { $0.trimmingCharacters(in: .whitespaces) }
            let numbers = fields.map { Double($0) }

            let isFirstLine = !sawFirstLine
            sawFirstLine = true
            if isFirstLine, numbers.contains(where: { $0 == nil }) {
                if let columns, fields.count != columns {
                    throw ParticleError.invalidCSV(
                        line: lineNumber,
                        reason: "header has \(fields.count) columns, expected \(columns)")
                }
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
            let row = numbers.map { $0! }
            let norm = row.reduce(0) { $0 + $1 * $1 }.squareRoot()
            guard norm > 0 else {
                throw ParticleError.invalidCSV(
                    line: lineNumber, reason: "the zero vector has no direction on the sphere")
            }
            guard norm.isFinite else {
                throw ParticleError.invalidCSV(
                    line: lineNumber, reason: "the row's length overflows; rescale the coordinates")
            }
            positions.append(contentsOf: row.map { $0 / norm })
        }

        guard let columns, !positions.isEmpty else {
            throw ParticleError.invalidCSV(line: lastContentLine, reason: "the file has no data rows")
        }
        return Tokens(unchecked: positions, dimension: columns)
    }
}
