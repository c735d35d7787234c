import APISupport
import Foundation
import Generated
import StamCore
import Testing

/// The generated `writeJSON` writes what the API's `JSONEncoder` would (sorted keys, the same dates, secrets
/// null), except that absent optionals are an explicit `null` (the OpenAPI document lists every field as
/// required and nullable; synthesized `Codable` leaves them out); and the hand-written date formatter agrees
/// with Foundation's ISO 8601.
@Suite struct JSONWriterTests {
    func both(_ value: some Encodable & JSONWritable) throws -> (fast: String, foundation: String) {
        var writer = JSONWriter()
        value.writeJSON(to: &writer)
        return (String(decoding: writer.bytes, as: UTF8.self), String(decoding: try APICoding.encoder.encode(value), as: UTF8.self))
    }

    @Test func generatedWritersMatchJSONEncoder() throws {
        let site = Site(code: "Ś-1 \"q\"", name: "Tab\there\nnew \\ line / slash \u{1}", address: nil, notes: "żółw €")
        let panel = Panel(siteId: site.id, name: "P", host: "10.0.0.1", firmware: "1.21", integrationKey: Secret("k"), userCode: Secret("1234"),
                          eventLogCursor: -1, fencingToken: 9_007_199_254_740_000, lastSeenAt: Date(timeIntervalSince1970: 1_790_000_000.987654))
        let command = Command(panelId: panel.id, kind: .outputsOn, targets: .object(["outputs": .array([.number(1), .number(2.5)]), "a": .null, "z": .bool(true)]),
                              requestedBy: UUID(), expiresAt: Date(timeIntervalSince1970: -86_400.5))
        let alarm = Alarm(siteId: site.id, panelId: panel.id, kind: .fire, priority: .fire, title: "Smoke", zoneNumber: 3)
        for (fast, foundation) in [try both(site), try both(panel), try both(command), try both(alarm),
                                   try both(PageBody(items: [alarm, alarm], nextCursor: "abc")), try both(PageBody<Site>(items: [], nextCursor: nil))] {
            let fastObject = try #require(try JSONSerialization.jsonObject(with: Data(fast.utf8)) as? [String: Any])
            let foundationObject = try #require(try JSONSerialization.jsonObject(with: Data(foundation.utf8)) as? [String: Any])
            func canonical(_ object: [String: Any]) throws -> String {
                String(decoding: try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]), as: UTF8.self)
            }
            #expect(try canonical(withNulls(foundationObject, like: fastObject)) == canonical(fastObject), "\(fast)\n\(foundation)")
            // Keys come out sorted, as `.sortedKeys` writes them.
            #expect(fast.hasPrefix("{\"") == true)
        }
        #expect(!(try both(panel).fast.contains("1234")))
    }

    /// `reference` with `null` for every key `shape` has and `reference` lacks, recursively through `items`.
    func withNulls(_ reference: [String: Any], like shape: [String: Any]) -> [String: Any] {
        var result = reference
        for key in shape.keys where result[key] == nil { result[key] = NSNull() }
        if let items = reference["items"] as? [[String: Any]], let shapes = shape["items"] as? [[String: Any]] {
            result["items"] = zip(items, shapes).map { withNulls($0, like: $1) }
        }
        return result
    }

    @Test func datesFormatLikeFoundationISO8601() {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        formatter.timeZone = TimeZone(identifier: "UTC")
        for seconds in [0.0, 1.5, -1.25, 951_782_400.001, 1_790_000_000.999, 4_102_444_799.123, -2_208_988_800.5, 68_256_000] {
            let date = Date(timeIntervalSince1970: seconds)
            #expect(JSONWriter.formatDate(date) == formatter.string(from: date), "\(seconds)")
        }
    }
}
