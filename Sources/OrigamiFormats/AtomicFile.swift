#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Writes a file so that readers only ever see the old file or the complete new one: the data goes to a temporary
/// file in the same directory, is flushed to disk, and is renamed over the target. A failure removes the temporary.
public enum AtomicFile {
    public struct Handle {
        let fd: Int32
        let path: String

        public func write(_ bytes: [UInt8]) throws(SafeTensorsError) {
            let copy = bytes
            var failure: SafeTensorsError?
            copy.withUnsafeBytes { b in
                do throws(SafeTensorsError) { try write(b) } catch { failure = error }
            }
            if let failure { throw failure }
        }

        public func write(_ bytes: UnsafeRawBufferPointer) throws(SafeTensorsError) {
            var done = 0
            while done < bytes.count {
                let n = Glibc.write(fd, bytes.baseAddress! + done, min(bytes.count - done, 1 << 30))
                if n < 0 {
                    if errno == EINTR { continue }
                    throw .writeFailed(file: path, reason: String(cString: strerror(errno)))
                }
                done += n
            }
        }
    }

    public static func write(to path: String, _ body: (Handle) throws(SafeTensorsError) -> Void) throws(SafeTensorsError) {
        let temporary = path + ".tmp-\(getpid())"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        guard fd >= 0 else { throw .writeFailed(file: path, reason: String(cString: strerror(errno))) }
        do throws(SafeTensorsError) {
            try body(Handle(fd: fd, path: temporary))
            guard fsync(fd) == 0 else { throw SafeTensorsError.writeFailed(file: path, reason: String(cString: strerror(errno))) }
            close(fd)
            guard rename(temporary, path) == 0 else {
                throw SafeTensorsError.writeFailed(file: path, reason: String(cString: strerror(errno)))
            }
        } catch {
            close(fd)
            unlink(temporary)
            throw error
        }
    }
}
