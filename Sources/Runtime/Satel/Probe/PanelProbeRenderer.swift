#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Prints a probe report for a person (text) or a program (JSON).
public enum PanelProbeRenderer {
    public static func text(_ report: PanelProbeReport) -> String {
        func list(_ objects: [PanelProbeReport.Object]) -> String {
            guard !objects.isEmpty else { return "none" }
            return objects.map { object in
                object.name.map { "\(object.number) (\($0))" } ?? "\(object.number)"
            }.joined(separator: ", ")
        }
        var lines: [String] = []
        lines.append("Panel \(report.host):\(report.port)\(report.encrypted ? " (encrypted)" : "")")
        lines.append("  model:            \(report.model) (type \(report.typeCode)), firmware \(report.panelFirmware)")
        if let module = report.moduleFirmware {
            lines.append("  module:           ETHM firmware \(module), capabilities 0x\(SatelHex.string(UInt8(report.moduleCapabilities ?? 0)))")
        } else {
            lines.append("  module:           version not reported")
        }
        lines.append(
            "  capacities:       \(report.capacities.partitions) partitions, \(report.capacities.zones) zones, "
                + "\(report.capacities.outputs) outputs, \(report.capacities.users) users"
                + (report.uses32ByteLists ? " (32-byte lists)" : ""))
        if let clock = report.panelClock { lines.append("  panel clock:      \(clock)") }
        lines.append("  violated zones:   \(list(report.violatedZones))")
        lines.append("  bypassed zones:   \(list(report.bypassedZones))")
        lines.append("  zones in alarm:   \(list(report.zonesInAlarm))")
        lines.append("  tampered zones:   \(list(report.tamperedZones))")
        let armed = report.armedPartitions.map { partition in
            "\(partition.number)\(partition.name.map { " (\($0))" } ?? "") \(partition.modeName)"
        }
        lines.append("  armed partitions: \(armed.isEmpty ? "none" : armed.joined(separator: ", "))")
        lines.append("  partitions alarm: \(list(report.partitionsInAlarm))")
        lines.append("  outputs on:       \(list(report.outputsOn))")
        var troubles: [String] = report.troubles.systemTroubles
        if !report.troubles.technicalZones.isEmpty {
            troubles.append("technical zones \(report.troubles.technicalZones.map(String.init).joined(separator: ", "))")
        }
        for (part, count) in report.troubles.otherTroubleBits.sorted(by: { $0.key < $1.key }) {
            troubles.append("\(part): \(count) set")
        }
        lines.append("  troubles:         \(troubles.isEmpty ? "none" : troubles.joined(separator: "; "))")
        let missing = report.notServed.map { "\($0.command) (0x\(SatelHex.string(UInt8($0.code))), \($0.reason))" }
        lines.append("  not served:       \(missing.isEmpty ? "none" : missing.joined(separator: ", "))")
        if let delivery = report.stateDelivery {
            let text = switch delivery.reason {
            case nil: "push (the module accepted monitoring mode)"
            case "unanswered": "poll (no answer to the monitoring request)"
            case let reason?: "poll (monitoring mode \(reason))"
            }
            lines.append("  state delivery:   \(text)")
        }
        lines.append("  newest events (\(report.events.count)):")
        for event in report.events {
            lines.append(
                "    \(event.index)  \(event.time)  \(event.description) [code \(event.code)\(event.restore ? " R" : "")]"
                    + "  partition \(event.partition), source \(event.source)  (\(event.eventClass))")
        }
        return lines.joined(separator: "\n") + "\n"
    }

    public static func json(_ report: PanelProbeReport) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        return String(decoding: try encoder.encode(report), as: UTF8.self) + "\n"
    }

    /// The failure line for standard error.
    public static func text(_ failure: PanelProbeFailure) -> String {
        "probe failed: \(failure.plainReason)\n"
    }

    public static func json(_ failure: PanelProbeFailure) throws -> String {
        struct Body: Codable {
            var error: String
            var reason: String
            var detail: String
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        let body = Body(error: failure.plainReason, reason: failure.reason.rawValue, detail: failure.detail)
        return String(decoding: try encoder.encode(body), as: UTF8.self) + "\n"
    }
}
