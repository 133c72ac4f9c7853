/// Failure of a particle computation: invalid input, an unreadable token
/// file, or a state that left the finite doubles.
public enum ParticleError: Error, Equatable, CustomStringConvertible {
    /// A parameter outside its accepted range. `expected` states the range.
    case invalidParameter(name: String, value: String, expected: String)
    /// A token file that could not be read.
    case unreadableFile(path: String, reason: String)
    /// A malformed row of a token CSV file, with its 1-based line number.
    case invalidCSV(line: Int, reason: String)
    /// A velocity or energy that overflowed to ±inf or became NaN.
    case overflow(quantity: String, detail: String)
    /// Positions that became non-finite during a simulation step.
    case nonFinitePositions(step: Int, time: Double)

    public var description: String {
        switch self {
        case let .invalidParameter(name, value, expected):
            return "invalid \(name) = \(value): expected \(expected)"
        case let .unreadableFile(path, reason):
            return "cannot read token file \(path): \(reason)"
        case let .invalidCSV(line, reason):
            return "invalid token file at line \(line): \(reason)"
        case let .overflow(quantity, detail):
            return "\(quantity) overflowed double precision: \(detail)"
        case let .nonFinitePositions(step, time):
            return "token positions became non-finite at step \(step) (t = \(time)); "
                + "reduce the step size or β, or keep the last finite snapshot"
        }
    }
}
