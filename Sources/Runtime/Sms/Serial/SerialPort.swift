#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Opens a serial device (or a pseudo-terminal) the way a modem needs it: raw 8N1, no echo, no line
/// editing, no flow-control characters, the given speed, modem control lines ignored; exclusive (`flock`)
/// so two agents can never share one modem; stale input discarded.
public enum SerialPort {
    public struct OpenError: Error, Hashable, Sendable, CustomStringConvertible {
        public var path: String
        public var operation: String
        public var errno: Int32
        public var description: String {
            "\(operation) \(path): \(String(cString: strerror(errno)))"
        }
    }

    public static func speed(forBaud baud: Int) -> speed_t? {
        switch baud {
        case 9600: speed_t(B9600)
        case 19200: speed_t(B19200)
        case 38400: speed_t(B38400)
        case 57600: speed_t(B57600)
        case 115_200: speed_t(B115200)
        case 230_400: speed_t(B230400)
        case 460_800: speed_t(B460800)
        case 921_600: speed_t(B921600)
        default: nil
        }
    }

    /// Returns the open descriptor; the caller owns it (NIO takes it over).
    public static func open(path: String, baud: Int, hardwareFlowControl: Bool = false) throws(OpenError) -> Int32 {
        let descriptor = Glibc.open(path, O_RDWR | O_NOCTTY | O_NONBLOCK | O_CLOEXEC)
        guard descriptor >= 0 else { throw OpenError(path: path, operation: "open", errno: errno) }
        do throws(OpenError) {
            if flock(descriptor, LOCK_EX | LOCK_NB) != 0 {
                throw OpenError(path: path, operation: "lock (another process owns the modem)", errno: errno)
            }
            try configureRaw(descriptor, path: path, baud: baud, hardwareFlowControl: hardwareFlowControl)
            tcflush(descriptor, TCIOFLUSH)
            return descriptor
        } catch {
            close(descriptor)
            throw error
        }
    }

    public static func configureRaw(_ descriptor: Int32, path: String, baud: Int?, hardwareFlowControl: Bool = false) throws(OpenError) {
        var settings = termios()
        guard tcgetattr(descriptor, &settings) == 0 else { throw OpenError(path: path, operation: "tcgetattr", errno: errno) }
        cfmakeraw(&settings)
        settings.c_cflag |= tcflag_t(CLOCAL | CREAD)
        if hardwareFlowControl {
            settings.c_cflag |= tcflag_t(CRTSCTS)
        } else {
            settings.c_cflag &= ~tcflag_t(CRTSCTS)
        }
        // VMIN 1 / VTIME 0: a read returns as soon as a byte is there (NIO reads non-blocking anyway).
        withUnsafeMutableBytes(of: &settings.c_cc) { cc in
            cc[Int(VMIN)] = 1
            cc[Int(VTIME)] = 0
        }
        if let baud {
            guard let speed = speed(forBaud: baud) else {
                throw OpenError(path: path, operation: "speed \(baud) baud for", errno: EINVAL)
            }
            cfsetispeed(&settings, speed)
            cfsetospeed(&settings, speed)
        }
        guard tcsetattr(descriptor, TCSANOW, &settings) == 0 else {
            throw OpenError(path: path, operation: "tcsetattr", errno: errno)
        }
    }
}
