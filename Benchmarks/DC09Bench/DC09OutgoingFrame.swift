import DC09

/// One frame a communicator sends, with the answer it must get back.
struct DC09OutgoingFrame: Sendable {
    enum Expectation: Sendable {
        /// A station account's frame: ACK echoing its sequence, sent only after the commit.
        case ack(sequence: Int)
        /// An unknown account's frame: NAK (which carries sequence 0000).
        case nak

        /// Nil when `body` (the answer between its LF and CR) is the expected answer, else what it was instead.
        func mismatch(in body: [UInt8]) -> String? {
            let answer: DC09ReceivedAnswer
            do {
                answer = try DC09ReceivedAnswer.read(body, key: nil)
            } catch {
                return "unreadable answer (\(error)): \(String(decoding: body.prefix(80), as: UTF8.self))"
            }
            switch self {
            case .ack(let sequence):
                return answer.kind == .ack && answer.sequence == sequence ? nil : "\(answer.kind) \(answer.sequence) to sequence \(sequence)"
            case .nak:
                return answer.kind == .nak ? nil : "\(answer.kind) \(answer.sequence) where NAK was expected"
            }
        }
    }

    /// Index of the frame in the pass's plan.
    var id: Int
    /// LF ... CR.
    var bytes: [UInt8]
    var expected: Expectation
}
