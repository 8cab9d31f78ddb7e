/// One logged point of a learning curve.
public struct MetricsRow: Equatable, Sendable {
    public var iteration: Int
    /// Loss on the held-out trials.
    public var loss: Double
    /// Loss of the training batch of this iteration (nil at the final evaluation).
    public var trainLoss: Double?
    /// Held-out accuracy (xent tasks).
    public var accuracy: Double?
    public var lambdaMax: Double?

    public init(iteration: Int, loss: Double, trainLoss: Double? = nil, accuracy: Double? = nil, lambdaMax: Double? = nil) {
        (self.iteration, self.loss, self.trainLoss, self.accuracy, self.lambdaMax) = (iteration, loss, trainLoss, accuracy, lambdaMax)
    }
}

public enum RunStatus: String, Sendable { case completed, diverged }

public struct TrainingResult: Sendable {
    public var initialModel: RNN
    public var model: RNN
    public var metrics: [MetricsRow]
    /// Training-batch loss of every iteration.
    public var trainLosses: [Double]
    public var status: RunStatus
    /// Why a run diverged.
    public var reason: String?
    /// First logged iteration at which the task's criterion held (nil: never).
    public var iterationsToCriterion: Int?
    /// Area under the learning curve, normalised to [0, 1] over the logged points: mean held-out
    /// accuracy (xent), or mean of loss/initial loss (mse; smaller is faster).
    public var learningCurveArea: Double?
    /// λ_max of the initial and the final network, driven by the task and autonomous.
    public var lambdaBefore: LambdaMax
    public var lambdaAfter: LambdaMax
    /// λ_max after pre-flossing, before task training (nil without pre-flossing).
    public var lambdaAfterPreflossing: LambdaMax?
    /// Flossing steps taken (pre-training and interleaved).
    public var flossingSteps = 0
    /// Cosine of the rule's W_rec gradient with BPTT's on the initial network and the first
    /// training batch (nil for BPTT itself).
    public var initialAlignment: Double?
    /// The first few exponents (k = min(3, N), QR method, driven by the first held-out trial)
    /// of the initial and the final network.
    public var spectrumBefore: [Double] = []
    public var spectrumAfter: [Double] = []
}

/// λ_max (per step) of a network driven by the first held-out trial (repeated) and with zero input.
public struct LambdaMax: Sendable, Equatable {
    public var driven: Double
    public var autonomous: Double
}
