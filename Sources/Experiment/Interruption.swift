import Foundation
import Synchronization

/// The signal number of the first SIGINT or SIGTERM received after
/// `installInterruptHandlers()`, or 0. Runs poll it once per step.
private let receivedSignal = Atomic<Int32>(0)

/// A run stopped by SIGINT or SIGTERM between two steps.
struct RunInterrupted: Error {
    let signal: Int32

    var reason: String {
        "interrupted by \(signal == SIGTERM ? "SIGTERM" : "SIGINT (Ctrl-C)")"
    }
}

/// Makes SIGINT and SIGTERM stop the current run after its current step, so
/// that run.json records status "interrupted" and the snapshots written so far
/// stay in place. A second signal ends the process at once with the default
/// action.
public func installInterruptHandlers() {
    signal(SIGINT, handleInterrupt)
    signal(SIGTERM, handleInterrupt)
}

/// Stores the signal, or restores the default action and raises the signal
/// again when one was already stored. Only async-signal-safe calls are made.
private func handleInterrupt(_ signalNumber: Int32) {
    let (exchanged, _) = receivedSignal.compareExchange(expected: 0, desired: signalNumber, ordering: .relaxed)
    if !exchanged {
        signal(signalNumber, SIG_DFL)
        raise(signalNumber)
    }
}

/// Throws `RunInterrupted` when a signal has been received.
func checkForInterrupt() throws {
    let signalNumber = receivedSignal.load(ordering: .relaxed)
    if signalNumber != 0 { throw RunInterrupted(signal: signalNumber) }
}

/// The received signal number, or nil.
var pendingInterrupt: Int32? {
    let signalNumber = receivedSignal.load(ordering: .relaxed)
    return signalNumber == 0 ? nil : signalNumber
}

/// Sets or clears the received signal as a handler would; tests use it.
func simulateInterrupt(_ signalNumber: Int32) {
    receivedSignal.store(signalNumber, ordering: .relaxed)
}
