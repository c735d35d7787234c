import APISupport
import Backend
import Foundation
import Generated
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import HummingbirdWSClient
import Logging
import Messaging
import NIOCore
import StamCore
import Synchronization
import Testing
import TestSupport
import _CryptoExtras

/// `/ws` over a real socket: an event published to the events exchange of a real RabbitMQ reaches an
/// authenticated console through this backend's own live queue; unauthenticated consoles are closed; a
/// console that does not keep up is disconnected instead of growing memory.
@Suite(.rabbitmq, .serialized, .integration, .tags(.integration)) struct LiveSocketTests {
    let logger = Logger(label: "test.live")

    struct FixedState: LiveStateSource {
        func state(ofPanel id: UUID) async throws -> PanelLiveState? {
            PanelLiveState(connection: "connected", partitions: [], zones: [.init(number: 3, state: "alarm", bypassed: false)], outputs: [],
                           troubles: "{}", lastSeen: "", worker: "worker-1", fencingToken: 1, updatedAt: "2026-05-28T20:26:40Z")
        }
    }

    /// Collects the text messages a client received.
    final class Inbox: Sendable {
        let messages = Mutex<[String]>([])
        func append(_ text: String) { messages.withLock { $0.append(text) } }
        var all: [String] { messages.withLock { $0 } }
    }

    func withLiveServer(metrics: BackendMetrics = BackendMetrics(), _ body: @Sendable (Int, TokenService, Publisher) async throws -> Void) async throws {
        let rabbit = try #require(TestRabbitMQ.current)
        let key = try _RSA.Signing.PrivateKey(keySize: .bits2048)
        let tokens = try await TokenService(publicKeyPEM: key.publicKey.pemRepresentation, privateKeyPEM: key.pemRepresentation)
        let hub = LiveHub()
        let instance = "test-\(UUID().uuidString.prefix(6))"
        let feed = LiveEventFeed(
            consumer: QueueConsumer(configuration: rabbit.configuration, topology: StamTopology.messaging, queue: "backend.live",
                                    instance: instance, logger: logger),
            hub: hub, catalog: LiveEventCatalog(StamSchema.eventTypes), metrics: metrics, logger: logger)
        let publisher = Publisher(configuration: rabbit.configuration, topology: StamTopology.messaging, logger: logger)
        let application = BackendApplication.make(
            router: Router(context: StamRequestContext.self), live: LiveSocket(hub: hub, tokens: tokens, sessions: nil, state: FixedState(),
                                                                               authenticationTimeout: .seconds(2)),
            host: "127.0.0.1", port: 0, logger: logger)
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await feed.run() }
            defer { group.cancelAll() }
            // The live queue exists once the feed has consumed from it.
            let deadline = ContinuousClock.now + .seconds(30)
            while !feed.isConnected, ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(50)) }
            #expect(feed.isConnected)
            try await application.test(.live) { client in
                try await body(try #require(client.port), tokens, publisher)
            }
        }
        await publisher.close()
    }

    /// Connects a console, authenticates, subscribes, publishes `messages` (one queue, so in order) and returns the
    /// first message the console receives after `subscribed`.
    func firstMessage(port: Int, token: String, subscription: String, publishing messages: [OutgoingMessage],
                      with publisher: Publisher) async throws -> String? {
        let inbox = Inbox()
        try await WebSocketClient.connect(url: "ws://127.0.0.1:\(port)/ws", logger: logger) { inbound, outbound, _ in
            try await outbound.write(.text(#"{"type":"auth","token":"\#(token)"}"#))
            var received = inbound.messages(maxSize: 1 << 20).makeAsyncIterator()
            _ = try await received.next()  // ready
            try await outbound.write(.text(subscription))
            _ = try await received.next()  // subscribed
            _ = try await publisher.publish(messages)
            if case .text(let text)? = try await received.next() { inbox.append(text) }
            try await outbound.close(.normalClosure, reason: nil)
        }
        return inbox.all.first
    }

    static func alarmRaised(_ alarm: UUID, site: UUID) -> OutgoingMessage {
        let body = #"{"alarm_id":"\#(alarm.uuidString.lowercased())","site_id":"\#(site.uuidString.lowercased())","kind":"fire","priority":"fire","title":"Smoke","raised_at":"2026-11-29T06:00:00Z"}"#
        return OutgoingMessage(exchange: "events", routingKey: "alarm.raised", messageId: UUID().uuidString, type: "AlarmRaised",
                               timestamp: Date(), body: Array(body.utf8))
    }

    @Test func anEventPublishedToRabbitMQReachesASubscribedConsole() async throws {
        try await withLiveServer { port, tokens, publisher in
            let token = try await tokens.issue(for: Principal(operatorId: UUID(), login: "ola", role: "operator"))
            let alarm = UUID()
            let panel = UUID()
            let inbox = Inbox()
            let logger = logger
            try await WebSocketClient.connect(url: "ws://127.0.0.1:\(port)/ws", logger: logger) { inbound, outbound, _ in
                try await outbound.write(.text(#"{"type":"auth","token":"\#(token)"}"#))
                var messages = inbound.messages(maxSize: 1 << 20).makeAsyncIterator()
                guard case .text(let ready)? = try await messages.next() else { return }
                inbox.append(ready)
                try await outbound.write(.text(#"{"type":"subscribe","alarms":true,"panels":["\#(panel.uuidString)"]}"#))
                // subscribed, then the panel's snapshot
                for _ in 0..<2 { if case .text(let text)? = try await messages.next() { inbox.append(text) } }
                _ = try await publisher.publish([Self.alarmRaised(alarm, site: UUID())])
                if case .text(let text)? = try await messages.next() { inbox.append(text) }
                try await outbound.close(.normalClosure, reason: nil)
            }
            let received = inbox.all
            #expect(received.count == 4, "\(received)")
            #expect(received.first?.contains(#""type":"ready""#) == true)
            #expect(received.contains { $0.contains(#""type":"snapshot""#) && $0.contains(#""connection":"connected""#) && $0.contains(#"\"number\":3"#) })
            let event = try #require(received.last)
            #expect(event.contains(#""type":"event""#) && event.contains(#""name":"AlarmRaised""#))
            #expect(event.contains(alarm.uuidString.lowercased()))
        }
    }

    /// A console subscribed to a site receives the zone and partition events of that site's panels (they carry the
    /// site since event version 2; before, a `sites:` subscription silently missed them), and not another site's.
    @Test func aSiteSubscriptionReceivesItsPanelsZoneEvents() async throws {
        try await withLiveServer { port, tokens, publisher in
            let token = try await tokens.issue(for: Principal(operatorId: UUID(), login: "ola", role: "operator"))
            let (site, otherSite) = (UUID(), UUID())
            func zoneChanged(panel: UUID, site: UUID, zone: Int) throws -> OutgoingMessage {
                let event = ZoneStateChanged(panelId: panel, siteId: site, zoneNumber: zone, state: .violated, previous: .normal,
                                             at: Date(timeIntervalSince1970: 1_800_000_000))
                let encoder = JSONEncoder()
                encoder.dateEncodingStrategy = .iso8601
                return OutgoingMessage(exchange: ZoneStateChanged.exchange, routingKey: ZoneStateChanged.routingKey,
                                       messageId: UUID().uuidString, type: ZoneStateChanged.eventName, timestamp: Date(),
                                       body: Array(try encoder.encode(event)))
            }
            // The next message is the second event only if the first was filtered out.
            let received = try #require(try await firstMessage(
                port: port, token: token, subscription: #"{"type":"subscribe","sites":["\#(site.uuidString)"]}"#,
                publishing: [try zoneChanged(panel: UUID(), site: otherSite, zone: 7), try zoneChanged(panel: UUID(), site: site, zone: 3)],
                with: publisher))
            #expect(received.contains(#""name":"ZoneStateChanged""#) && received.contains(#""zone_number":3"#), "\(received)")
            // The payload as published (JSONEncoder writes UUIDs in upper case).
            #expect(received.lowercased().contains(site.uuidString.lowercased()) && !received.lowercased().contains(otherSite.uuidString.lowercased()))
        }
    }

    /// The live queue takes every routing key of the events exchange; only events the schema declares, on their
    /// own routing key and with a body of their type, reach a console. The others are counted by reason.
    @Test func onlyDeclaredEventsReachConsoles() async throws {
        let metrics = BackendMetrics()
        try await withLiveServer(metrics: metrics) { port, tokens, publisher in
            let token = try await tokens.issue(for: Principal(operatorId: UUID(), login: "ola", role: "operator"))
            let genuine = UUID()
            let forged = UUID()
            var forgeries: [OutgoingMessage] = []
            for (type, key) in [("AlarmRaised", "alarm.raised"), ("OperatorMessage", "alarm.raised"), ("AlarmRaised", "alarm.raised.extra")] {
                var message = Self.alarmRaised(forged, site: UUID())
                (message.type, message.routingKey) = (type, key)
                forgeries.append(message)
            }
            // Declared type and route, but not that event: no raised_at, then not JSON at all.
            forgeries[0].body = Array(#"{"alarm_id":"\#(forged.uuidString.lowercased())","site_id":"\#(UUID().uuidString.lowercased())","kind":"fire","priority":"critical","title":"Fake"}"#.utf8)
            var garbage = Self.alarmRaised(forged, site: UUID())
            garbage.body = Array("<script>alert(1)</script>".utf8)
            forgeries.append(garbage)
            // The genuine event after the forgeries is the next message only if they were dropped.
            let received = try #require(try await firstMessage(
                port: port, token: token, subscription: #"{"type":"subscribe","alarms":true}"#,
                publishing: forgeries + [Self.alarmRaised(genuine, site: UUID())], with: publisher))
            #expect(received.contains(genuine.uuidString.lowercased()) && !received.contains(forged.uuidString.lowercased()), "\(received)")
            let text = String(decoding: metrics.registry.emitToBuffer(), as: UTF8.self)
            #expect(text.contains(#"stam_live_events_refused_total{reason="malformed"} 2"#), "\(text)")
            #expect(text.contains(#"stam_live_events_refused_total{reason="unknown_type"} 1"#))
            #expect(text.contains(#"stam_live_events_refused_total{reason="wrong_route"} 1"#))
        }
    }

    /// Issue 18 point 3: a console is told to `resync` whenever the live feed may have missed events: a publisher's
    /// numbers skip (what a queue that overflowed or expired looks like) or the feed lost the broker and came back;
    /// while it is away the console is told the feed is interrupted. A redelivered message is not shown twice.
    @Test func consolesAreToldToResyncAfterAGapOrAReconnect() async throws {
        let metrics = BackendMetrics()
        let rabbit = try #require(TestRabbitMQ.current)
        try await withLiveServer(metrics: metrics) { port, tokens, publisher in
            let token = try await tokens.issue(for: Principal(operatorId: UUID(), login: "ola", role: "operator"))
            let stream = UUID().uuidString
            let alarms = (0..<4).map { _ in UUID() }
            @Sendable func numbered(_ sequence: Int) -> OutgoingMessage {
                var message = Self.alarmRaised(alarms[sequence], site: UUID())
                message.headers = [PublishStream.streamHeader: stream, PublishStream.sequenceHeader: String(sequence)]
                return message
            }
            let inbox = Inbox()
            let logger = logger
            try await WebSocketClient.connect(url: "ws://127.0.0.1:\(port)/ws", logger: logger) { inbound, outbound, _ in
                try await outbound.write(.text(#"{"type":"auth","token":"\#(token)"}"#))
                var messages = inbound.messages(maxSize: 1 << 20).makeAsyncIterator()
                func next() async throws -> String {
                    guard case .text(let text)? = try await messages.next() else { throw CancellationError() }
                    inbox.append(text)
                    return text
                }
                _ = try await next()  // ready
                try await outbound.write(.text(#"{"type":"subscribe","alarms":true}"#))
                _ = try await next()  // subscribed
                _ = try await publisher.publish([numbered(1)])
                _ = try await next()  // event 1
                // 1 again (a redelivery), then 3: 2 is missing.
                _ = try await publisher.publish([numbered(1), numbered(3)])
                _ = try await next()  // resync (gap)
                _ = try await next()  // event 3
                _ = try rabbit.server.ctl(["close_all_connections", "--global", "test: the live feed loses the broker"])
                _ = try await next()  // feed interrupted
                _ = try await next()  // resync (reconnected)
                _ = try await next()  // feed live
                try await outbound.close(.normalClosure, reason: nil)
            }
            let received = inbox.all
            #expect(received.count == 8, "\(received)")
            guard received.count == 8 else { return }
            #expect(received[0].contains(#""feed":"live""#))
            #expect(received[2].contains(alarms[1].uuidString.lowercased()))
            #expect(received[3].contains(#""type":"resync""#) && received[3].contains(#""reason":"gap""#), "\(received[3])")
            #expect(received[4].contains(alarms[3].uuidString.lowercased()))
            #expect(received[5].contains(#""type":"feed""#) && received[5].contains(#""state":"interrupted""#), "\(received[5])")
            #expect(received[6].contains(#""type":"resync""#) && received[6].contains(#""reason":"reconnected""#), "\(received[6])")
            #expect(received[7].contains(#""type":"feed""#) && received[7].contains(#""state":"live""#), "\(received[7])")
            let text = String(decoding: metrics.registry.emitToBuffer(), as: UTF8.self)
            #expect(text.contains(#"stam_live_resyncs_total{reason="gap"} 1"#), "\(text)")
            #expect(text.contains(#"stam_live_resyncs_total{reason="reconnected"} 1"#))
        }
    }

    @Test func aConsoleWithoutAValidTokenIsClosed() async throws {
        try await withLiveServer { port, _, _ in
            for first in [#"{"type":"auth","token":"forged.token.here"}"#, "hello", nil] as [String?] {
                let inbox = Inbox()
                let close = try await WebSocketClient.connect(url: "ws://127.0.0.1:\(port)/ws", logger: logger) { inbound, outbound, _ in
                    if let first { try await outbound.write(.text(first)) }
                    for try await message in inbound.messages(maxSize: 1 << 20) {
                        if case .text(let text) = message { inbox.append(text) }
                    }
                }
                #expect(close?.closeCode == .policyViolation, "\(first ?? "silence")")
                #expect(inbox.all.allSatisfy { !$0.contains(#""type":"ready""#) })
            }
        }
    }

    @Test func aConsoleThatDoesNotKeepUpIsDisconnected() async throws {
        let hub = LiveHub(queueLimit: 16)
        let (slow, messages) = hub.connect()
        let (fast, fastMessages) = hub.connect()
        hub.subscribe(slow, to: LiveSubscription(everything: true))
        hub.subscribe(fast, to: LiveSubscription(everything: true))
        let drained = Task {
            var count = 0
            for await _ in fastMessages { count += 1; if count == 40 { break } }
            return count
        }
        for index in 0..<40 {
            hub.broadcast(LiveEvent(name: "ZoneStateChanged", routingKey: "panel.zone.changed", scope: EventScope(siteId: nil, panelId: nil),
                                    payload: .object(["n": .number(Double(index))])))
            try await Task.sleep(for: .milliseconds(2))
        }
        #expect(await drained.value == 40)
        #expect(hub.slowDisconnects == 1)
        #expect(hub.clientCount == 1)  // the fast one stays
        let metrics = BackendMetrics(hub: hub)
        metrics.refreshLiveFigures()
        let exported = metrics.registry.emitToString()
        #expect(exported.contains("\nstam_websocket_clients 1"))
        #expect(exported.contains("\nstam_websocket_slow_disconnects_total 1"))
        var buffered = 0
        for await _ in messages { buffered += 1 }  // ends: the hub finished the slow client's stream
        #expect(buffered == 16)
        hub.disconnect(fast)
    }
}
