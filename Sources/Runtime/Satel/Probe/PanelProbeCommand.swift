#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import NIOCore
import NIOPosix

/// `stam panel probe`: what an ArgumentParser subcommand calls, in one line.
public enum PanelProbeCommand {
    /// Probes the module, prints the report (text or JSON) on standard output or the reason on standard
    /// error, and returns the exit status: 0 on success, 1 with a plain reason (unreachable, busy with
    /// another client, wrong key, no answer).
    public static func run(
        host: String, port: Int = 7094, integrationKey: String? = nil, events: Int = 10, json: Bool = false
    ) async -> Int32 {
        let options = PanelProbeOptions(host: host, port: port, integrationKey: integrationKey, eventCount: events)
        do {
            let report = try await PanelProbe.run(options)
            let text = json ? ((try? PanelProbeRenderer.json(report)) ?? "{}\n") : PanelProbeRenderer.text(report)
            write(text, to: 1)
            return 0
        } catch {
            if json {
                write((try? PanelProbeRenderer.json(error)) ?? "{}\n", to: 1)
            } else {
                write(PanelProbeRenderer.text(error), to: 2)
            }
            return error.exitStatus
        }
    }

    /// Writes straight to a file descriptor (1 standard output, 2 standard error).
    private static func write(_ text: String, to descriptor: Int32) {
        var bytes = Array(text.utf8)[...]
        while !bytes.isEmpty {
            let written = bytes.withUnsafeBytes { buffer in
                #if canImport(Glibc)
                Glibc.write(descriptor, buffer.baseAddress, buffer.count)
                #else
                Darwin.write(descriptor, buffer.baseAddress, buffer.count)
                #endif
            }
            if written <= 0 { return }
            bytes = bytes.dropFirst(written)
        }
    }
}
