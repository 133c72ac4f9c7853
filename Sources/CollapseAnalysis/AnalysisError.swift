/// Invalid analysis input: the message names the value and the accepted range.
public struct AnalysisError: Error, CustomStringConvertible, Equatable {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// Throws unless `matrix` has order² finite entries.
func checkSquareMatrix(_ matrix: [Double], order: Int, name: String) throws {
    guard order >= 1 else {
        throw AnalysisError("dimension d = \(order) is invalid: use an integer >= 1")
    }
    guard matrix.count == order * order else {
        throw AnalysisError("\(name) matrix has \(matrix.count) entries but d = \(order) needs \(order * order): pass it row-major")
    }
    guard matrix.allSatisfy({ $0.isFinite }) else {
        throw AnalysisError("\(name) matrix has a non-finite entry: use finite entries")
    }
}
