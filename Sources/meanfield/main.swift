import Experiment
import Foundation

exit(MeanFieldCommand.main(arguments: Array(CommandLine.arguments.dropFirst())))
