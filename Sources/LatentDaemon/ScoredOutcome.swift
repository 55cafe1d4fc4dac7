import LatentCore

/// What a posterior reports of each observation, for both model kinds: whether it
/// was scored (no model exists during the warm-up), the most likely component or
/// state, and log p(x). One protocol so that both kinds write their batch arrays
/// with one piece of code, and so in the same shape.
protocol ScoredOutcome {
    var scored: Bool { get }
    var label: Int { get }
    var logLikelihood: Double { get }
}

extension MixtureObservation: ScoredOutcome {}
extension HMMObservation: ScoredOutcome {}

extension JSONWriter {
    /// A batch posterior's `"labels"` and `"logliks"` arrays (SPEC §4), null where an
    /// observation was not scored.
    mutating func labelsAndLogLikelihoods<Outcomes: Collection>(_ outcomes: Outcomes) where Outcomes.Element: ScoredOutcome {
        key("labels"); beginArray()
        for o in outcomes { if o.scored { int(o.label) } else { null() } }
        endArray()
        key("logliks"); beginArray()
        for o in outcomes { if o.scored { double(o.logLikelihood) } else { null() } }
        endArray()
    }
}
