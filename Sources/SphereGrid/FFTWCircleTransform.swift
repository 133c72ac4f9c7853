/// Real FFTs of `length` equally spaced samples on the circle, with the
/// FFTW plans made once:
///
///     forward:  F_m = Σ_k f_k e^{−2πi mk/length},   m = 0…length/2 (integer division)
///     backward: f_k = Σ_{m=0}^{length−1} F_m e^{+2πi mk/length}   (Hermitian F, no 1/length)
///
/// Complex values are stored as SIMD2 (real, imaginary). Both calls may run
/// from several threads at once: each uses its own scratch, and executing
/// an existing plan on new arrays is thread-safe in FFTW.
public final class CircleFourierTransform: @unchecked Sendable {
    public let length: Int
    /// Number of complex values of the forward transform: length/2 + 1.
    public var spectrumLength: Int { transform.spectrumLength }
    private let transform: FFTWRingTransform

    public init(length: Int) {
        precondition(length >= 1, "circle FFT length \(length) is invalid: use length >= 1")
        self.length = length
        self.transform = FFTWRingTransform(length: length)
    }

    /// F_m for m = 0…length/2.
    public func forward(_ samples: [Double]) -> [SIMD2<Double>] {
        precondition(samples.count == length, "circle FFT of \(samples.count) samples, the plan has \(length)")
        return transform.withBuffers(rings: 1, zeroSpectra: false) { buffers in
            for k in 0..<length { buffers.samples[k] = samples[k] }
            transform.forward(ring: 0, in: buffers)
            return (0..<spectrumLength).map { m in
                SIMD2(buffers.spectra[2 * m], buffers.spectra[2 * m + 1])
            }
        }
    }

    /// f_k from the non-negative half of a Hermitian spectrum. For an even
    /// length the imaginary part of the Nyquist value m = length/2 is ignored.
    public func backward(_ spectrum: [SIMD2<Double>]) -> [Double] {
        precondition(spectrum.count == spectrumLength,
                     "circle inverse FFT of \(spectrum.count) values, the plan takes \(spectrumLength)")
        return transform.withBuffers(rings: 1, zeroSpectra: false) { buffers in
            for m in 0..<spectrumLength {
                buffers.spectra[2 * m] = spectrum[m].x
                buffers.spectra[2 * m + 1] = spectrum[m].y
            }
            transform.backward(ring: 0, in: buffers)
            return (0..<length).map { buffers.samples[$0] }
        }
    }
}
