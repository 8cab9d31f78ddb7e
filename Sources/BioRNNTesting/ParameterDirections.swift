import BioRNN

/// Directions in parameter space, for finite differences along them.
extension Parameters {
    /// Σ over tensors of ⟨self, other⟩.
    public func dot(_ other: Parameters) -> Double {
        Parameters.tensors.reduce(0) { $0 + BioRNN.dot(self[keyPath: $1.path], other[keyPath: $1.path]) }
    }

    /// self + ε·direction.
    public func moved(by epsilon: Double, along direction: Parameters) -> Parameters {
        var p = self
        for (_, path) in Parameters.tensors {
            let d = direction[keyPath: path]
            p[keyPath: path] = zip(p[keyPath: path], d).map { $0 + epsilon * $1 }
        }
        return p
    }

    /// A direction that is random N(0, 1) in one tensor and zero elsewhere.
    public static func randomDirection(like p: Parameters, tensor name: String, using rng: inout RandomStream) -> Parameters {
        var d = Parameters(zerosLike: p)
        let path = Parameters.tensors.first { $0.name == name }!.path
        d[keyPath: path] = d[keyPath: path].map { _ in rng.normal() }
        return d
    }
}
