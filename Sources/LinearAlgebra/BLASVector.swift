import CBLAS

/// Returns the number of threads OpenBLAS currently uses inside each call.
public func blasThreadCount() -> Int {
    Int(openblas_get_num_threads())
}
