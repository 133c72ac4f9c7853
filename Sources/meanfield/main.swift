import Experiment
import Foundation
import LinearAlgebra

keepLargeAllocationsInHeap()
exit(MeanFieldCommand.main(arguments: Array(CommandLine.arguments.dropFirst())))
