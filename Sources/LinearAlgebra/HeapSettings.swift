#if canImport(Glibc)
import Glibc

@_silgen_name("mallopt")
private func mallocOption(_ parameter: Int32, _ value: Int32) -> Int32

/// Keeps large allocations in the glibc heap instead of fresh memory maps.
///
/// Solvers allocate several arrays of a few MB per velocity evaluation. By
/// default glibc maps each one anew and every page faults on first touch,
/// which cost about 2 ms of a 3.7 ms evaluation at nlat = 128 (measured with
/// `make bench`). Raising the mmap threshold (M_MMAP_THRESHOLD, −3) to
/// 512 MB and the trim threshold (M_TRIM_THRESHOLD, −1) to 1 GB lets freed
/// blocks be reused. Call once at program start; it is a no-op elsewhere.
public func keepLargeAllocationsInHeap() {
    _ = mallocOption(-3, 512 << 20)
    _ = mallocOption(-1, 1 << 30)
}
#else
public func keepLargeAllocationsInHeap() {}
#endif
