import Foundation
import Particles
import SphereGrid

/// Contents of `run.json`: what was run, on what, by which program, and how
/// it ended.
struct RunRecord {
    let config: RunConfig
    /// The `grid` entry: kind, size and resolution of the density grid.
    let grid: [String: Any]?
    let source: VelocityDescribing?
    let startDate: Date
    /// Entries added by later stages (particle runs, comparisons).
    var extra: [String: Any] = [:]
    var status = "running"
    var steps = 0
    var time = 0.0
    var failure: RunFailure?
    var wallTime = 0.0

    init(config: RunConfig, grid: [String: Any]?, source: VelocityDescribing?, startDate: Date) {
        self.config = config
        self.grid = grid
        self.source = source
        self.startDate = startDate
    }

    mutating func finish(status: String, steps: Int, time: Double, failure: RunFailure?) {
        self.status = status
        self.steps = steps
        self.time = time
        self.failure = failure
        wallTime = Date().timeIntervalSince(startDate)
    }

    /// Builds the `grid` entry of a sphere grid.
    static func gridEntry(_ grid: SphereGrid, name: String) -> [String: Any] {
        [
            "kind": "gauss-legendre",
            "name": name,
            "nlat": grid.nlat,
            "nlon": grid.nlon,
            "cells": grid.cellCount,
            "maximum_degree": grid.maximumDegree,
        ]
    }

    /// Builds the `grid` entry of a circle grid, whose maximum Fourier mode is cells/2.
    static func gridEntry(_ grid: CircleGrid, name: String) -> [String: Any] {
        [
            "kind": "circle",
            "name": name,
            "cells": grid.cells,
            "cell_length": grid.cellLength,
            "maximum_mode": grid.cells / 2,
        ]
    }

    func json() throws -> String {
        let formatter = ISO8601DateFormatter()
        var object: [String: Any] = [
            "name": config.name,
            "program": ["name": "meanfield", "version": MeanFieldCommand.version,
                        "vector_kernels": vectorKernelInstructionSet],
            "config": config.document,
            "snapshot_times": config.time.snapshots,
            "started_at": formatter.string(from: startDate),
            "wall_time_seconds": wallTime,
            "status": status,
            "steps": steps,
            "time": time,
        ]
        if let grid { object["grid"] = grid }
        if let source {
            object["velocity"] = source.description
            object["kernel_warnings"] = source.warnings
            if let path = source.kernelPath { object["kernel_path"] = path }
        }
        object.merge(extra) { _, new in new }
        if let source = config.source { object["config_file"] = source.path }
        if let failure {
            object["failure"] = [
                "reason": failure.reason,
                "step": failure.step,
                "time": failure.time,
                "last_snapshot": failure.lastSnapshot ?? NSNull(),
            ] as [String: Any]
        }
        return try jsonText(object)
    }
}
