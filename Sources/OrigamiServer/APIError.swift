public import HTTPTypes
public import OrigamiFormats

/// An error in OpenAI's shape, `{"error": {"message", "type", "param", "code"}}`, with its HTTP status. The
/// `openai` client turns the status into its exception types (400 BadRequestError, 401 AuthenticationError,
/// 404 NotFoundError, 413, 429 RateLimitError, 5xx InternalServerError).
public struct APIError: Error, Sendable, CustomStringConvertible {
    public var status: HTTPResponse.Status
    public var message: String
    public var type: String
    public var param: String?
    public var code: String?

    public init(status: HTTPResponse.Status, message: String, type: String, param: String? = nil, code: String? = nil) {
        self.status = status
        self.message = message
        self.type = type
        self.param = param
        self.code = code
    }

    public var description: String { "\(status.code) \(type)\(code.map { " (\($0))" } ?? ""): \(message)" }

    /// 400: the request is malformed, or a field is missing, mistyped or out of range.
    public static func invalid(_ message: String, param: String? = nil, code: String? = nil) -> APIError {
        APIError(status: .badRequest, message: message, type: "invalid_request_error", param: param, code: code)
    }

    public static func unauthorized(_ message: String) -> APIError {
        APIError(status: .unauthorized, message: message, type: "invalid_request_error", code: "invalid_api_key")
    }

    public static func modelNotFound(_ model: String, served: String) -> APIError {
        APIError(status: .notFound, message: "The model '\(model)' does not exist; this server serves '\(served)'.",
                 type: "invalid_request_error", param: "model", code: "model_not_found")
    }

    public static func tooLarge(limit: Int) -> APIError {
        APIError(status: .contentTooLarge, message: "The request body is larger than this server accepts (\(limit) bytes).",
                 type: "invalid_request_error", code: "request_too_large")
    }

    public static func busy(_ message: String) -> APIError {
        APIError(status: .tooManyRequests, message: message, type: "rate_limit_error", code: "rate_limit_exceeded")
    }

    public static func unavailable(_ message: String) -> APIError {
        APIError(status: .serviceUnavailable, message: message, type: "server_error", code: "server_shutting_down")
    }

    public static func notFound(path: String) -> APIError {
        APIError(status: .notFound, message: "No route for \(path).", type: "invalid_request_error", code: "unknown_url")
    }

    public static func `internal`(_ message: String) -> APIError {
        APIError(status: .internalServerError, message: message, type: "server_error")
    }

    /// The error's JSON body.
    public var json: JSONValue {
        .object([("error", .object([
            ("message", .string(message)), ("type", .string(type)),
            ("param", param.map { .string($0) } ?? .null), ("code", code.map { .string($0) } ?? .null),
        ]))])
    }
}
