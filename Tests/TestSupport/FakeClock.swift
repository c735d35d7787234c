import Foundation

/// The wall clock of a child process under a test's control, for the clock rows of docs/RELIABILITY.md: a small
/// library preloaded in front of libc adds an offset, read from a file the test rewrites, to `CLOCK_REALTIME`
/// (`clock_gettime`, `gettimeofday`, `time`), so the clock jumps while the process runs, the way an NTP step or a
/// wrong RTC moves it. The monotonic clocks, and the timers built on them, are left alone, as a step leaves them.
///
/// Why not Debian's libfaketime: it also shifts absolute `timerfd` deadlines, so after a jump back libdispatch's
/// timers (every `Task.sleep`) wait the jump's length, and its constructor edits the environment, which moves
/// `environ` off the stack where Swift on Linux finds `argv`: the child sees no arguments.
public struct FakeClock: Sendable {
    public let offsetFile: String
    public let library: String

    /// Starts at the true time. Compiles the library (with the system's C compiler) the first time.
    public init(directory: String) throws {
        offsetFile = "\(directory)/clock-offset"
        library = try Self.compiledLibrary()
        try jump(by: .zero)
    }

    /// Sets the clock's offset from the true time; a running child sees it within a second.
    public func jump(by offset: Duration) throws {
        try String(offset.components.seconds).write(toFile: offsetFile, atomically: true, encoding: .utf8)
    }

    /// The environment a child needs to run on this clock.
    public var environment: [String: String] {
        ["LD_PRELOAD": library, "STAM_FAKE_CLOCK_FILE": offsetFile]
    }

    static func compiledLibrary() throws -> String {
        // Named after the source (FNV-1a), so a changed source is compiled again.
        let digest = String(source.utf8.reduce(UInt64(0xcbf2_9ce4_8422_2325)) { ($0 ^ UInt64($1)) &* 0x100_0000_01b3 }, radix: 16)
        let directory = "/tmp/stam-tests"
        let library = "\(directory)/fake-clock-\(digest).so"
        if FileManager.default.fileExists(atPath: library) { return library }
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let sourceFile = "\(directory)/fake-clock-\(digest)-\(getpid()).c"
        try source.write(toFile: sourceFile, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: sourceFile) }
        let compiler = Process()
        compiler.executableURL = URL(fileURLWithPath: "/usr/bin/cc")
        let partial = "\(library).\(getpid())"
        compiler.arguments = ["-shared", "-fPIC", "-O2", "-o", partial, sourceFile, "-ldl"]
        try compiler.run()
        compiler.waitUntilExit()
        guard compiler.terminationStatus == 0 else { throw CompileFailure(status: compiler.terminationStatus) }
        // Renamed into place: a concurrent test process never loads a half-written library.
        _ = rename(partial, library)
        return library
    }

    struct CompileFailure: Error, CustomStringConvertible {
        var status: Int32
        var description: String { "cc could not build the fake clock library (exit \(status))" }
    }

    static let source = #"""
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/time.h>
#include <time.h>

static int (*real_clock_gettime)(clockid_t, struct timespec *);
static const char *offset_file;
static long offset_seconds;
static long last_read = -1;

__attribute__((constructor)) static void fake_clock_init(void) {
    real_clock_gettime = dlsym(RTLD_NEXT, "clock_gettime");
    offset_file = getenv("STAM_FAKE_CLOCK_FILE");
}

static long current_offset(void) {
    struct timespec now;
    real_clock_gettime(CLOCK_MONOTONIC, &now);
    if (offset_file && __atomic_exchange_n(&last_read, (long)now.tv_sec, __ATOMIC_ACQ_REL) != (long)now.tv_sec) {
        FILE *file = fopen(offset_file, "r");
        long value;
        if (file) {
            if (fscanf(file, "%ld", &value) == 1) __atomic_store_n(&offset_seconds, value, __ATOMIC_RELEASE);
            fclose(file);
        }
    }
    return __atomic_load_n(&offset_seconds, __ATOMIC_ACQUIRE);
}

int clock_gettime(clockid_t clock, struct timespec *time) {
    if (!real_clock_gettime) fake_clock_init();
    int result = real_clock_gettime(clock, time);
    if (result == 0 && (clock == CLOCK_REALTIME || clock == CLOCK_REALTIME_COARSE)) time->tv_sec += current_offset();
    return result;
}

int gettimeofday(struct timeval *restrict value, void *restrict zone) {
    struct timespec now;
    (void)zone;
    if (clock_gettime(CLOCK_REALTIME, &now) != 0) return -1;
    if (value) { value->tv_sec = now.tv_sec; value->tv_usec = now.tv_nsec / 1000; }
    return 0;
}

time_t time(time_t *out) {
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    if (out) *out = now.tv_sec;
    return now.tv_sec;
}
"""#
}
