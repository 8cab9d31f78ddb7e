// swift-tools-version: 6.1
import PackageDescription

let argumentParser = Target.Dependency.product(name: "ArgumentParser", package: "swift-argument-parser")
let propertyBased = Target.Dependency.product(name: "PropertyBased", package: "swift-property-based")

let package = Package(
    name: "BioRNN",
    products: [
        .library(name: "BioRNN", targets: ["BioRNN"]),
        .library(name: "BioRNNConformance", targets: ["BioRNNConformance"]),
        .library(name: "BioRNNTesting", targets: ["BioRNNTesting"]),
        .executable(name: "biornn", targets: ["biornn"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/x-sheep/swift-property-based", from: "2.0.0"),
        // `swift package generate-documentation` (ci/docs.sh): builds BioRNN.docc; a plugin, never linked.
        .package(url: "https://github.com/swiftlang/swift-docc-plugin", from: "1.5.0"),
    ],
    targets: [
        // OpenBLAS through its Fortran-ABI symbols (dgemm_, dgeqrf_, ...): production path.
        .systemLibrary(name: "COpenBLAS", providers: [.apt(["libopenblas-dev"])]),
        // GSL: the independent oracle, imported by BioRNNTesting only.
        .systemLibrary(name: "CGSL", pkgConfig: "gsl", providers: [.apt(["libgsl-dev"])]),
        // Elementwise kernels compiled for every instruction set, picked at load time.
        .target(name: "CKernels"),
        .target(name: "BioRNN", dependencies: ["COpenBLAS", "CKernels"]),
        // The conformance kit for learning rules and the plain-loop references it checks against:
        // no GSL, so the `biornn conform` command can link it.
        .target(name: "BioRNNConformance", dependencies: ["BioRNN"]),
        .target(name: "BioRNNTesting", dependencies: ["BioRNN", "BioRNNConformance", "CGSL", propertyBased]),
        .executableTarget(name: "biornn", dependencies: ["BioRNN", "BioRNNConformance", argumentParser]),
        .testTarget(name: "NumericsTests", dependencies: ["BioRNN", "BioRNNTesting", "CKernels", propertyBased]),
        .testTarget(name: "ModelTests", dependencies: ["BioRNN", "BioRNNTesting", "BioRNNConformance", propertyBased]),
        .testTarget(name: "TaskTests", dependencies: ["BioRNN", "BioRNNTesting"]),
        .testTarget(name: "LearningTests", dependencies: ["BioRNN", "BioRNNTesting", "BioRNNConformance", propertyBased]),
        .testTarget(name: "DynamicsTests", dependencies: ["BioRNN", "BioRNNTesting", propertyBased]),
        .testTarget(name: "FlossingTests", dependencies: ["BioRNN", "BioRNNTesting"]),
        .testTarget(name: "StudyTests", dependencies: ["BioRNN", "BioRNNTesting", propertyBased]),
        .testTarget(name: "GoldenTests", dependencies: ["BioRNN"]),
        // The package itself: documentation citations and the one-way folder dependencies.
        .testTarget(name: "PackageTests"),
        // Runs the biornn executable end to end; depending on it makes `swift test` build it.
        .testTarget(name: "CLITests", dependencies: ["BioRNN", "BioRNNTesting", "BioRNNConformance", "biornn"], exclude: ["HelpTexts"]),
    ]
)
