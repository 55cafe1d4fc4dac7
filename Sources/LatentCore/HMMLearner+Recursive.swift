/// Placeholder until the recursive estimator lands.
extension HMMLearner {
    static func flatten(_ s: HMMStatistics<E.Statistics>) -> [Double] { [] }
    static func correctionCount(_ settings: HMMLearnerSettings) -> Int { 0 }
    mutating func recursiveUpdate(_ x: UnsafePointer<Double>, _ model: Model, sequence s: inout HMMSequence) {}
    mutating func recursiveMStep() -> Bool { pendingCount = 0; return false }
}
