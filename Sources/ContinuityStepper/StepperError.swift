/// A numerical failure of the continuity stepper.
///
/// The stepper throws this before it writes the failed step into the
/// caller's state, so the state passed to `ContinuityStepper.advance`
/// still contains the last good step.
public struct StepperError: Error, CustomStringConvertible, Sendable {
    public enum Kind: String, Sendable {
        /// A density value is NaN or infinite.
        case nonFiniteDensity = "non-finite density"
        /// A density value fell below zero by more than round-off.
        case negativeDensity = "negative density"
        /// A face velocity (or face flux) is NaN or infinite.
        case nonFiniteVelocity = "non-finite velocity"
        /// The adaptive time step became too small to advance the time.
        case stepUnderflow = "time step underflow"
        /// The velocity source failed to evaluate the velocity.
        case velocityEvaluationFailed = "velocity evaluation failed"
        /// The grid, state or configuration passed in is invalid.
        case invalidInput = "invalid input"
    }

    public let kind: Kind
    /// Number of the step that failed (the first step is 1).
    public let step: Int
    /// Time at the start of the failed step.
    public let time: Double
    /// Description of the failure and its place (cell ring and column, face, value).
    public let detail: String

    public init(_ kind: Kind, step: Int, time: Double, detail: String) {
        self.kind = kind
        self.step = step
        self.time = time
        self.detail = detail
    }

    public var description: String {
        "\(kind.rawValue) at step \(step), t = \(time): \(detail)"
    }
}
