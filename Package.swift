// swift-tools-version:5.9
import PackageDescription

let package = Package(
    name: "MeanField",
    products: [
        .executable(name: "meanfield", targets: ["meanfield"]),
    ],
    targets: [
        // System C libraries (Debian: libfftw3-dev, libopenblas-dev, liblapacke-dev).
        .systemLibrary(name: "CFFTW", pkgConfig: "fftw3",
                       providers: [.apt(["libfftw3-dev"])]),
        .systemLibrary(name: "CBLAS", pkgConfig: "openblas",
                       providers: [.apt(["libopenblas-dev"])]),
        .systemLibrary(name: "CLAPACKE", pkgConfig: "lapacke",
                       providers: [.apt(["liblapacke-dev"])]),

        // Vectorized C kernels (softmax rows, Legendre recurrences),
        // dispatched at run time to AVX-512, AVX2 or portable code.
        .target(name: "CVectorKernels", exclude: ["README.md"]),

        .target(name: "LinearAlgebra", dependencies: ["CBLAS", "CLAPACKE"], exclude: ["README.md"]),
        .target(name: "SphereGrid", dependencies: ["CFFTW", "LinearAlgebra", "CVectorKernels"], exclude: ["README.md"]),
        .target(name: "AttentionKernel", dependencies: ["SphereGrid", "LinearAlgebra", "CVectorKernels"],
                exclude: ["README.md"]),
        .target(name: "ContinuityStepper",
                dependencies: ["SphereGrid", "AttentionKernel", "LinearAlgebra"],
                exclude: ["README.md"]),
        .target(name: "Particles", dependencies: ["LinearAlgebra", "CVectorKernels"], exclude: ["README.md"]),
        .target(name: "CollapseAnalysis",
                dependencies: ["LinearAlgebra", "AttentionKernel", "SphereGrid"],
                exclude: ["README.md"]),
        .target(name: "Experiment",
                dependencies: ["SphereGrid", "AttentionKernel", "ContinuityStepper", "Particles",
                               "CollapseAnalysis", "LinearAlgebra"],
                exclude: ["README.md"]),
        .executableTarget(name: "meanfield", dependencies: ["Experiment", "LinearAlgebra"]),
        .executableTarget(name: "meanfield-bench",
                          dependencies: ["SphereGrid", "AttentionKernel", "Particles", "LinearAlgebra"],
                          exclude: ["ducc0_bench.py", "numpy_particles_bench.py", "run-bench.sh"]),

        .testTarget(name: "SphereGridTests", dependencies: ["SphereGrid", "CVectorKernels"]),
        .testTarget(name: "AttentionKernelTests", dependencies: ["AttentionKernel", "SphereGrid"]),
        .testTarget(name: "ContinuityStepperTests",
                    dependencies: ["ContinuityStepper", "AttentionKernel", "SphereGrid"]),
        .testTarget(name: "ParticlesTests", dependencies: ["Particles", "CVectorKernels"]),
        .testTarget(name: "ExperimentTests", dependencies: ["Experiment"]),
        .testTarget(name: "CollapseAnalysisTests",
                    dependencies: ["CollapseAnalysis", "AttentionKernel", "SphereGrid"]),
    ]
)
