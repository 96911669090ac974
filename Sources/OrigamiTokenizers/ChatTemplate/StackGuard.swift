#if canImport(Glibc)
internal import Glibc
#elseif canImport(Darwin)
internal import Darwin
#endif

extension Jinja {
    /// Knows how much of the current thread's stack is left, so that parsing and rendering a hostile template
    /// (deep nesting, runaway macro recursion) end in an error instead of a crash. The depth limits in the
    /// parser and renderer keep real templates far from it; this catches what they cannot predict, such as a
    /// caller on a thread with a small stack.
    struct StackGuard {
        /// Stop while this much stack is still free, which leaves room for the error path itself.
        static let reserve: UInt = 128 * 1024

        /// The lowest address the stack may grow to, or nil when the platform does not tell.
        private let floor: UInt?

        init() {
            floor = Self.stackFloor().map { $0 + Self.reserve }
        }

        /// Whether the caller's frame is still above the reserve.
        func hasRoom() -> Bool {
            guard let floor else { return true }
            var marker: UInt8 = 0
            let address = withUnsafeMutablePointer(to: &marker) { UInt(bitPattern: $0) }
            return address > floor
        }

        private static func stackFloor() -> UInt? {
            #if os(Linux)
            // glibc's pthread_getattr_np is a GNU extension the Glibc module does not export; look it up.
            typealias GetAttributes = @convention(c) (pthread_t, UnsafeMutablePointer<pthread_attr_t>) -> Int32
            guard let process = dlopen(nil, RTLD_NOW) else { return nil }
            defer { dlclose(process) }
            guard let symbol = dlsym(process, "pthread_getattr_np") else { return nil }
            let getAttributes = unsafeBitCast(symbol, to: GetAttributes.self)
            var attributes = pthread_attr_t()
            guard getAttributes(pthread_self(), &attributes) == 0 else { return nil }
            defer { pthread_attr_destroy(&attributes) }
            var base: UnsafeMutableRawPointer?
            var size = 0
            guard pthread_attr_getstack(&attributes, &base, &size) == 0, let base else { return nil }
            return UInt(bitPattern: base)
            #elseif canImport(Darwin)
            let top = UInt(bitPattern: pthread_get_stackaddr_np(pthread_self()))
            return top - UInt(pthread_get_stacksize_np(pthread_self()))
            #else
            return nil
            #endif
        }
    }
}
