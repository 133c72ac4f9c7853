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

/// Stores the signal and prints a notice on standard error, or restores the
/// default action and raises the signal again when one was already stored.
/// Only async-signal-safe calls are made (an atomic, write, signal, raise).
private func handleInterrupt(_ signalNumber: Int32) {
    let (exchanged, _) = receivedSignal.compareExchange(expected: 0, desired: signalNumber, ordering: .relaxed)
    if exchanged {
        let message: StaticString = "\nmeanfield: stopping after the current step; a second signal stops at once\n"
        message.withUTF8Buffer { _ = write(STDERR_FILENO, $0.baseAddress, $0.count) }
    } else {
        signal(signalNumber, SIG_DFL)
        raise(signalNumber)
    }
}

/// Polls left before a simulated signal arrives, or −1 when none is pending.
private let pollsBeforeSimulatedSignal = Atomic<Int>(-1)
/// The signal that `simulateInterrupt(_:afterPolls:)` delivers.
private let simulatedSignal = Atomic<Int32>(0)

/// Throws `RunInterrupted` when a signal has been received.
func checkForInterrupt() throws {
    if pollsBeforeSimulatedSignal.load(ordering: .relaxed) >= 0,
       pollsBeforeSimulatedSignal.wrappingSubtract(1, ordering: .relaxed).newValue == -1 {
        receivedSignal.store(simulatedSignal.load(ordering: .relaxed), ordering: .relaxed)
    }
    let signalNumber = receivedSignal.load(ordering: .relaxed)
    if signalNumber != 0 { throw RunInterrupted(signal: signalNumber) }
}

/// The received signal number, or nil.
var pendingInterrupt: Int32? {
    let signalNumber = receivedSignal.load(ordering: .relaxed)
    return signalNumber == 0 ? nil : signalNumber
}

/// Sets or clears the received signal as a handler would, at once or after
/// `polls` further calls of `checkForInterrupt`; tests use it.
func simulateInterrupt(_ signalNumber: Int32, afterPolls polls: Int = 0) {
    if polls == 0 || signalNumber == 0 {
        pollsBeforeSimulatedSignal.store(-1, ordering: .relaxed)
        receivedSignal.store(signalNumber, ordering: .relaxed)
    } else {
        simulatedSignal.store(signalNumber, ordering: .relaxed)
        pollsBeforeSimulatedSignal.store(polls, ordering: .relaxed)
    }
}
