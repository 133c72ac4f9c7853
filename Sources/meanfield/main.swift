import Experiment
import Foundation
import LinearAlgebra

keepLargeAllocationsInHeap()
// Only runs poll for interrupts; other commands keep the default action.
if CommandLine.arguments.dropFirst().first == "run" { installInterruptHandlers() }
exit(MeanFieldCommand.main(arguments: Array(CommandLine.arguments.dropFirst())))
