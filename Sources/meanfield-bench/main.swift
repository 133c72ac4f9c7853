import Foundation
import LinearAlgebra

// Benchmarks of MeanField beside peer libraries, printed as Markdown.
// Usage: meanfield-bench [--python PATH] [--only transforms|particles]
//
// Our transforms use every core, so the peers get the same thread count.
// Our process keeps large arrays in the heap, as meanfield does, and the
// ducc0 peer runs both with the same settings and with glibc's defaults.
keepLargeAllocationsInHeap()
var python = ".venv/bench/bin/python"
var sections: Set<String> = ["transforms", "particles"]
let usage = "usage: meanfield-bench [--python PATH] [--only transforms|particles]\n"
let threads = ProcessInfo.processInfo.activeProcessorCount
var arguments = Array(CommandLine.arguments.dropFirst())
while let argument = arguments.first {
    arguments.removeFirst()
    switch argument {
    case "--python" where !arguments.isEmpty: python = arguments.removeFirst()
    case "--only" where !arguments.isEmpty && sections.contains(arguments[0]):
        sections = [arguments.removeFirst()]
    default:
        FileHandle.standardError.write(Data(usage.utf8))
        exit(64)
    }
}

let processor = (try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8))?
    .split(separator: "\n").first { $0.hasPrefix("model name") }?
    .split(separator: ":").last?.trimmingCharacters(in: .whitespaces) ?? "unknown processor"
print("""
# Benchmarks

Measured by `meanfield-bench` (which `make bench` runs to write this file) on \(ISO8601DateFormatter().string(from: Date())), \(processor), \
\(ProcessInfo.processInfo.activeProcessorCount) cores, release build. Every peer ran in the same \
invocation, on the same machine and thread count.

""")
do {
    if sections.contains("transforms") { print(try runTransformBenchmark(python: python, threads: threads)) }
    if sections.contains("particles") { print(runParticleBenchmark()) }
} catch {
    FileHandle.standardError.write(Data("meanfield-bench: \(error)\n".utf8))
    exit(70)
}
