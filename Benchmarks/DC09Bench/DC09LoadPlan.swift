import DC09
import Foundation

/// What the communicators send during one pass, computed before it starts so both passes send the same frames at the
/// same instants: every account a NULL link test every `linkTestPeriod` seconds (account i first at
/// i * period / accounts, so the link tests are spread evenly, not in one burst every period), and `eventRate`
/// Contact ID events per second spread round-robin over the accounts in a shuffled (seeded) order, half burglaries
/// (`1130`, a new event: it raises an alarm) and half openings or closings (`1401`/`3401`, history only) in every
/// second, and alternating for each account. Each account's frames carry sequence numbers 1, 2, ... 9999, 1, ... in
/// the order they are sent. The first `warmup` seconds carry the same load and are not measured: the receiver's pool
/// opens its PostgreSQL connections then, and their backends read their catalogs.
struct DC09LoadPlan: Sendable {
    enum Kind: Sendable, Hashable {
        case linkTest
        /// Zone 1, 2, ... per account: a burglary on a zone of the same panel within 10 minutes would join the open
        /// alarm of the first (`AlarmCorrelation`), and the check counts one alarm per burglary.
        case burglary(zone: Int)
        /// `1401` (opening by a user, new) or `3401` (closing, its restore).
        case openClose(opening: Bool, user: Int)

        var isEvent: Bool { self != .linkTest }
    }

    struct Frame: Sendable {
        /// From the start of the window.
        var offset: Double
        /// Index of the account, 0 ..< accounts.
        var account: Int
        var kind: Kind
        var sequence: Int

        /// The message as a communicator of `account` sends it, with the sender's time (what most communicators
        /// put in a plain message too; the receiver checks it against its +20 s / -40 s window).
        func message(account number: String, at time: Date) -> DC09Message {
            let token: DC09Header.Token = kind == .linkTest ? .null : .contactID
            let data: String = switch kind {
            case .linkTest: ""
            case .burglary(let zone): "#\(number)|1130 01 \(Self.threeDigits(zone))"
            case .openClose(let opening, let user): "#\(number)|\(opening ? "1401" : "3401") 01 \(Self.threeDigits(user))"
            }
            return DC09Message(header: DC09Header(token: token, encrypted: false, sequence: sequence, receiver: nil, linePrefix: "0", account: number),
                               data: data, timestamp: time)
        }

        static func threeDigits(_ value: Int) -> String {
            let text = String(value)
            return String(repeating: "0", count: max(0, 3 - text.count)) + text
        }
    }

    let accounts: Int
    /// Unmeasured seconds before the measured window.
    let warmup: Double
    /// The measured window.
    let seconds: Double
    let eventRate: Double
    let linkTestPeriod: Double
    /// In the order they are sent.
    let frames: [Frame]

    init(accounts: Int, warmup: Double, seconds: Double, eventRate: Double, linkTestPeriod: Double = 10) {
        self.accounts = accounts
        self.warmup = warmup
        self.seconds = seconds
        let end = warmup + seconds
        self.eventRate = eventRate
        self.linkTestPeriod = linkTestPeriod
        var frames: [Frame] = []
        for account in 0..<accounts {
            var offset = Double(account) * linkTestPeriod / Double(accounts)
            while offset < end {
                frames.append(Frame(offset: offset, account: account, kind: .linkTest, sequence: 0))
                offset += linkTestPeriod
            }
        }
        var generator = SplitMix64(seed: 22)
        var order = Array(0..<accounts)
        order.shuffle(using: &generator)
        var burglariesOf = [Int](repeating: 0, count: accounts), openClosesOf = [Int](repeating: 0, count: accounts)
        let events = Int((end * eventRate).rounded(.down))
        for index in 0..<events {
            let account = order[index % accounts]
            // Neighbours in the order differ, and each account's kind flips every round: half and half in any second.
            let kind: Kind
            if (index + index / accounts) % 2 == 0 {
                // Zones from 1 up to 999 (three digits); past 999 burglaries on one panel, zones repeat.
                kind = .burglary(zone: burglariesOf[account] % 999 + 1)
                burglariesOf[account] += 1
            } else {
                kind = .openClose(opening: openClosesOf[account] % 2 == 0, user: account % 99 + 1)
                openClosesOf[account] += 1
            }
            frames.append(Frame(offset: Double(index) / eventRate, account: account, kind: kind, sequence: 0))
        }
        // Stable: a link test and an event at the same instant keep the order above.
        frames = frames.enumerated().sorted { ($0.element.offset, $0.offset) < ($1.element.offset, $1.offset) }.map(\.element)
        var sequences = [Int](repeating: 0, count: accounts)
        for index in frames.indices {
            let account = frames[index].account
            sequences[account] = sequences[account] % 9999 + 1
            frames[index].sequence = sequences[account]
        }
        self.frames = frames
    }

    /// The account number of account `index`: the station's own (in `dc09_accounts`) start with 1, the unknown ones
    /// of the baseline with 9; 7 decimal digits (DC-09 accounts are 3 to 16 hex digits).
    static func account(_ index: Int, known: Bool) -> String {
        let digits = String(index + 1)
        return (known ? "1" : "9") + String(repeating: "0", count: max(0, 6 - digits.count)) + digits
    }

    /// Index of the first measured frame (the frames are in time order).
    var firstMeasured: Int { frames.firstIndex { $0.offset >= warmup } ?? frames.count }
    var measuredFrames: ArraySlice<Frame> { frames[firstMeasured...] }
    var linkTests: Int { measuredFrames.count { $0.kind == .linkTest } }
    var events: Int { measuredFrames.count - linkTests }

    /// A small seeded generator: the same accounts get the same events in every run.
    private struct SplitMix64: RandomNumberGenerator {
        var state: UInt64

        init(seed: UInt64) { state = seed }

        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
    }
}
