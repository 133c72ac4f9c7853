import CFFTW
import Foundation

/// FFTW's planner and plan destruction share global state and are not
/// thread-safe, so every planner call in this module holds this lock.
/// Executing an existing plan on new arrays is thread-safe and needs no lock.
private let fftwPlannerLock = NSLock()

/// Real-to-complex and complex-to-real FFTs of one ring of `length` equally
/// spaced samples:
///
///     forward:  F_m = Σ_k f_k e^{−2πi mk/length},   m = 0...length/2
///     backward: f_k = Σ_{m=0}^{length−1} F_m e^{+2πi mk/length}   (Hermitian F, no 1/length)
///
/// Both plans are made once, with FFTW_ESTIMATE: it keeps results
/// bit-reproducible from run to run (FFTW_MEASURE may pick a different
/// algorithm each time) and costs no planning time, and the FFT is a small
/// part of a spherical-harmonic transform.
final class FFTWRingTransform: @unchecked Sendable {
    let length: Int
    /// Number of complex outputs of the forward transform: length/2 + 1.
    let spectrumLength: Int
    /// Doubles between consecutive rings in a `RingBuffers.samples` block:
    /// `length` rounded up to a multiple of 8, so every ring starts at the
    /// same 64-byte alignment as the buffer and new-array execution is valid.
    let sampleStride: Int
    /// Complex values between consecutive rings in `RingBuffers.spectra`:
    /// `spectrumLength` rounded up to a multiple of 4 (64 bytes).
    let spectrumStride: Int

    private let forwardPlan: fftw_plan
    private let backwardPlan: fftw_plan

    init(length: Int) {
        // Rings of the sphere grid have even length; the circle grid also uses odd lengths.
        precondition(length >= 1, "ring length \(length) must be at least 1")
        self.length = length
        self.spectrumLength = length / 2 + 1
        self.sampleStride = (length + 7) / 8 * 8
        self.spectrumStride = (length / 2 + 1 + 3) / 4 * 4

        let samples = fftw_alloc_real(length)!
        let spectrum = fftw_alloc_complex(length / 2 + 1)!
        defer {
            fftw_free(samples)
            fftw_free(spectrum)
        }
        fftwPlannerLock.lock()
        let flags = UInt32(FFTW_ESTIMATE)
        forwardPlan = fftw_plan_dft_r2c_1d(Int32(length), samples, spectrum, flags)
        backwardPlan = fftw_plan_dft_c2r_1d(Int32(length), spectrum, samples, flags)
        fftwPlannerLock.unlock()
    }

    deinit {
        fftwPlannerLock.lock()
        fftw_destroy_plan(forwardPlan)
        fftw_destroy_plan(backwardPlan)
        fftwPlannerLock.unlock()
    }

    /// Forward FFT of ring `ring` of `buffers.samples` into ring `ring` of `buffers.spectra`.
    func forward(ring: Int, in buffers: RingBuffers) {
        fftw_execute_dft_r2c(forwardPlan,
                             buffers.samples + ring * sampleStride,
                             buffers.spectraComplex + ring * spectrumStride)
    }

    /// Backward FFT of ring `ring` of `buffers.spectra` into `buffers.samples`.
    /// FFTW's complex-to-real transform overwrites its input spectrum.
    func backward(ring: Int, in buffers: RingBuffers) {
        fftw_execute_dft_c2r(backwardPlan,
                             buffers.spectraComplex + ring * spectrumStride,
                             buffers.samples + ring * sampleStride)
    }

    private let poolLock = NSLock()
    /// Idle scratch buffers, guarded by `poolLock`. Reusing them saves the
    /// page faults of mapping fresh megabytes on every transform.
    private var pool: [RingBuffers] = []
    /// Idle buffers kept for reuse; more concurrent calls allocate and free their own.
    private let poolLimit = 2

    /// Runs `body` with scratch for `rings` rings that no other call uses at
    /// the same time. The spectra are zeroed when `zeroSpectra` is set;
    /// otherwise both arrays hold whatever the previous user left.
    func withBuffers<Result>(rings: Int, zeroSpectra: Bool, _ body: (RingBuffers) -> Result) -> Result {
        poolLock.lock()
        var buffers = pool.popLast()
        poolLock.unlock()
        if buffers == nil || buffers!.rings != rings {
            buffers = RingBuffers(rings: rings, sampleStride: sampleStride, spectrumStride: spectrumStride)
        } else if zeroSpectra {
            buffers!.spectra.update(repeating: 0, count: 2 * buffers!.spectrumCount)
        }
        let result = body(buffers!)
        poolLock.lock()
        if pool.count < poolLimit { pool.append(buffers!) }
        poolLock.unlock()
        return result
    }
}

/// FFTW-aligned scratch of one transform call: ring samples and their
/// spectra, both zeroed on allocation.
final class RingBuffers {
    let rings: Int
    /// Complex values in `spectra`.
    let spectrumCount: Int
    let samples: UnsafeMutablePointer<Double>
    let spectraComplex: UnsafeMutablePointer<fftw_complex>
    /// The spectra viewed as interleaved (real, imaginary) doubles.
    let spectra: UnsafeMutablePointer<Double>

    init(rings: Int, sampleStride: Int, spectrumStride: Int) {
        self.rings = rings
        let sampleCount = max(rings, 1) * sampleStride
        let spectrumCount = max(rings, 1) * spectrumStride
        self.spectrumCount = spectrumCount
        samples = fftw_alloc_real(sampleCount)!
        samples.initialize(repeating: 0, count: sampleCount)
        spectraComplex = fftw_alloc_complex(spectrumCount)!
        spectra = UnsafeMutableRawPointer(spectraComplex).bindMemory(to: Double.self, capacity: 2 * spectrumCount)
        spectra.initialize(repeating: 0, count: 2 * spectrumCount)
    }

    deinit {
        fftw_free(samples)
        fftw_free(spectraComplex)
    }
}
