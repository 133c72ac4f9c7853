import Foundation

/// Progress lines on standard error: a start banner, periodic step lines
/// with elapsed and estimated remaining wall time, and a closing block.
/// Data never goes to this stream.
public final class ProgressLog {
    private let start = Date()
    private var lastReport = Date.distantPast
    /// Minimum wall time between two periodic lines, in seconds.
    public var interval: Double
    public let quiet: Bool

    public init(interval: Double = 2, quiet: Bool = false) {
        self.interval = interval
        self.quiet = quiet
    }

    public var elapsed: Double { Date().timeIntervalSince(start) }

    public func line(_ text: String) {
        guard !quiet else { return }
        FileHandle.standardError.write(Data((text + "\n").utf8))
    }

    /// Prints a step line if `interval` seconds passed since the last one
    /// (or when `force` is set). `fraction` is the simulated-time fraction done.
    public func step(_ text: String, fraction: Double, force: Bool = false) {
        let now = Date()
        guard force || now.timeIntervalSince(lastReport) >= interval else { return }
        lastReport = now
        let elapsed = now.timeIntervalSince(start)
        var remaining = "?"
        if fraction > 1e-9 && fraction <= 1 {
            remaining = ProgressLog.format(seconds: elapsed * (1 - fraction) / fraction)
        }
        line("  \(text)  elapsed \(ProgressLog.format(seconds: elapsed))  remaining \(remaining)")
    }

    public static func format(seconds: Double) -> String {
        if seconds < 60 { return String(format: "%.1fs", seconds) }
        let minutes = Int(seconds / 60)
        if minutes < 60 { return String(format: "%dm%02ds", minutes, Int(seconds) % 60) }
        return String(format: "%dh%02dm", minutes / 60, minutes % 60)
    }
}
