import Foundation

/// Diagnostics of the token state after a step (or at the start, step 0).
public struct StepObservation: Sendable {
    public let step: Int
    public let time: Double
    public let energy: InteractionEnergy
    /// |m| with m = (1/n) Σ x_i.
    public let firstMomentNorm: Double
    /// Eigenvalues of Σ = (1/n) Σ x_i x_iᵀ, descending.
    public let secondMomentEigenvalues: [Double]
    /// exp(−Σ p_k log p_k) of the normalized eigenvalues.
    public let effectiveRank: Double
}

/// Token positions stored at a requested time.
public struct Snapshot: Sendable {
    public let step: Int
    public let time: Double
    public let tokens: Tokens
}

/// Fixed-step driver of the particle system with snapshots and per-step
/// diagnostics.
///
/// Steps have size h, and the step that would pass a snapshot time (or the
/// end time) is shortened to land on it exactly, so RK4 snapshots sit at the
/// requested times. The layer integrator is one Transformer layer per step
/// and is never shortened: every snapshot and end time must lie on the grid
/// t0 + k h (within 1e-9 relative), or `run` throws before stepping.
///
/// When a step produces non-finite positions, `run` throws
/// `ParticleError.nonFinitePositions` and the simulation keeps the last
/// finite state (`tokens`, `time`, `step`) and the snapshots taken so far.
public final class ParticleSimulation {
    public let model: ParticleModel
    public let integrator: Integrator
    public let stepSize: Double
    public let startTime: Double
    public private(set) var tokens: Tokens
    public private(set) var time: Double
    public private(set) var step: Int
    public private(set) var snapshots: [Snapshot] = []

    private var sums: AttentionSums
    private var observedStep: Int?

    public init(model: ParticleModel, tokens: Tokens, integrator: Integrator, stepSize: Double,
                startTime: Double = 0) throws {
        try model.checkDimension(of: tokens)
        guard stepSize.isFinite, stepSize > 0 else {
            throw ParticleError.invalidParameter(name: "step size", value: "\(stepSize)",
                                                 expected: "a finite number > 0")
        }
        guard startTime.isFinite else {
            throw ParticleError.invalidParameter(name: "start time", value: "\(startTime)",
                                                 expected: "a finite number")
        }
        self.model = model
        self.integrator = integrator
        self.stepSize = stepSize
        self.startTime = startTime
        self.tokens = tokens
        self.time = startTime
        self.step = 0
        self.sums = model.attentionSums(positions: tokens.positions, count: tokens.count,
                                        includeAverages: true)
    }

    /// Computes the diagnostics of the current state.
    public func observe() throws -> StepObservation {
        let moments = try tokens.moments()
        return StepObservation(
            step: step, time: time,
            energy: model.energy(from: sums, positions: tokens.positions),
            firstMomentNorm: moments.firstMomentNorm,
            secondMomentEigenvalues: moments.secondMomentEigenvalues,
            effectiveRank: moments.effectiveRank)
    }

    /// Advances to `endTime`, storing a snapshot at each of `snapshotTimes`
    /// (between the current time and `endTime`, in any order) and calling
    /// `observer` for the current state if it was not observed yet, then
    /// after every step. Throws for invalid times before taking any step.
    public func run(until endTime: Double, snapshotTimes: [Double] = [],
                    observer: ((StepObservation) throws -> Void)? = nil) throws {
        guard endTime.isFinite, endTime >= time else {
            throw ParticleError.invalidParameter(
                name: "end time", value: "\(endTime)", expected: "a finite time ≥ the current time \(time)")
        }
        for snapshotTime in snapshotTimes where !(snapshotTime >= time && snapshotTime <= endTime) {
            throw ParticleError.invalidParameter(
                name: "snapshot time", value: "\(snapshotTime)",
                expected: "a time between the current time \(time) and the end time \(endTime)")
        }
        let targets = Array(Set(snapshotTimes + [endTime])).sorted()
        let requested = Set(snapshotTimes)
        if integrator == .layer {
            for target in targets { _ = try layerIndex(of: target) }
        }

        if let observer, observedStep != step {
            try observer(try observe())
            observedStep = step
        }
        for target in targets {
            try advance(to: target, observer: observer)
            if requested.contains(target) {
                snapshots.append(Snapshot(step: step, time: time, tokens: tokens))
            }
        }
    }

    /// Returns the number of layers from `startTime` to `target`, or throws
    /// when the target is off the grid t0 + k h.
    private func layerIndex(of target: Double) throws -> Int {
        let exact = (target - startTime) / stepSize
        let rounded = exact.rounded()
        guard abs(exact - rounded) <= 1e-9 * max(1, abs(rounded)) else {
            throw ParticleError.invalidParameter(
                name: "time", value: "\(target)",
                expected: "a multiple of the layer step \(stepSize) after the start time \(startTime), "
                    + "because the layer integrator takes whole layers only")
        }
        return Int(rounded)
    }

    private func advance(to target: Double, observer: ((StepObservation) throws -> Void)?) throws {
        switch integrator {
        case .layer:
            let lastLayer = try layerIndex(of: target)
            while step < lastLayer {
                let nextTime = step + 1 == lastLayer ? target : startTime + Double(step + 1) * stepSize
                try takeStep(size: stepSize, endingAt: nextTime, observer: observer)
            }
        case .rk4:
            let segmentStart = time
            var stepsInSegment = 0
            while time < target {
                let remaining = target - time
                // A leftover below 1e-9 h is merged into the last step, not taken alone.
                if remaining <= stepSize * (1 + 1e-9) {
                    try takeStep(size: remaining, endingAt: target, observer: observer)
                } else {
                    stepsInSegment += 1
                    try takeStep(size: stepSize, endingAt: segmentStart + Double(stepsInSegment) * stepSize,
                                 observer: observer)
                }
            }
        }
    }

    private func takeStep(size h: Double, endingAt nextTime: Double,
                          observer: ((StepObservation) throws -> Void)?) throws {
        let next: [Double]
        do {
            next = try model.step(positions: tokens.positions, sumsAtStart: sums,
                                  integrator: integrator, stepSize: h)
        } catch let ParticleError.overflow(quantity, detail) {
            throw ParticleError.overflow(
                quantity: quantity, detail: "\(detail) (step \(step + 1), t = \(nextTime))")
        }
        guard next.allSatisfy({ $0.isFinite }) else {
            throw ParticleError.nonFinitePositions(step: step + 1, time: nextTime)
        }
        let nextSums = model.attentionSums(positions: next, count: tokens.count, includeAverages: true)
        tokens = Tokens(unchecked: next, dimension: model.dimension)
        sums = nextSums
        time = nextTime
        step += 1
        if let observer {
            try observer(try observe())
            observedStep = step
        }
    }
}
