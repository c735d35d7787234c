import NIOConcurrencyHelpers

/// What became of each frame of a pass, written by the connections' handlers on their event loop and read by the pass.
/// The first outcome of a frame is kept: a connection closing after an answer does not undo it.
final class DC09BenchRecorder: Sendable {
    enum Outcome: Sendable, Hashable {
        /// The expected answer, this long after the frame was written.
        case answered(milliseconds: Double)
        /// Another answer (or an unreadable one).
        case wrong(milliseconds: Double, detail: String)
        /// The connection closed before the answer (the receiver closes it when a store fails).
        case connectionClosed
        /// No connection could be opened for it.
        case notSent
    }

    private struct State {
        var outcomes: [Outcome?]
        var settled = 0
        /// Answers with no frame waiting for them, and bytes outside answer frames.
        var unexpectedAnswers = 0
        var noiseBytes = 0
    }

    private let state: NIOLockedValueBox<State>

    init(frames: Int) {
        state = NIOLockedValueBox(State(outcomes: Array(repeating: nil, count: frames)))
    }

    func record(_ id: Int, _ outcome: Outcome) {
        state.withLockedValue { state in
            guard state.outcomes[id] == nil else { return }
            state.outcomes[id] = outcome
            state.settled += 1
        }
    }

    func unexpectedAnswer() { state.withLockedValue { $0.unexpectedAnswers += 1 } }

    func noise(_ bytes: Int) { state.withLockedValue { $0.noiseBytes += bytes } }

    /// Frames with an outcome so far.
    var settled: Int { state.withLockedValue { $0.settled } }

    var snapshot: (outcomes: [Outcome?], unexpectedAnswers: Int, noiseBytes: Int) {
        state.withLockedValue { ($0.outcomes, $0.unexpectedAnswers, $0.noiseBytes) }
    }
}
