import Foundation
import LinearAlgebra

// Benchmarks of MeanField beside peer libraries, printed as Markdown.
// Usage: meanfield-bench [--python PATH]
//
// Our transforms use every core, so the peers get the same thread count.
// Our process keeps large arrays in the heap, as meanfield does, and the
// ducc0 peer runs both with the same settings and with glibc's defaults.
keepLargeAllocationsInHeap()
var python = ".venv/bench/bin/python"
let threads = ProcessInfo.processInfo.activeProcessorCount
var arguments = Array(CommandLine.arguments.dropFirst())
while let argument = arguments.first {
    arguments.removeFirst()
    switch argument {
    case "--python" where !arguments.isEmpty: python = arguments.removeFirst()
    default:
        FileHandle.standardError.write(Data("usage: meanfield-bench [--python PATH]\n".utf8))
        exit(64)
    }
}

let processor = (try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8))?
    .split(separator: "\n").first { $0.hasPrefix("model name") }?
    .split(separator: ":").last?.trimmingCharacters(in: .whitespaces) ?? "unknown processor"
print("""
# Benchmarks

Written by `make bench` on \(ISO8601DateFormatter().string(from: Date())), \(processor), \
\(ProcessInfo.processInfo.activeProcessorCount) cores, release build. Every peer ran in the same \
invocation, on the same machine and thread count.

""")
do {
    print(try runTransformBenchmark(python: python, threads: threads))
    print(runParticleBenchmark())
} catch {
    FileHandle.standardError.write(Data("meanfield-bench: \(error)\n".utf8))
    exit(70)
}
