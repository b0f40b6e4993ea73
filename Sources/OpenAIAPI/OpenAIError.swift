/// OpenAI's error body: `{"error": {"message", "type", "param", "code"}}`, with the HTTP status it
/// goes out with. Shared by the engine server and the gateway.
public struct OpenAIError: Error, Codable, Sendable, Equatable, CustomStringConvertible {
    public struct Body: Codable, Sendable, Equatable {
        public var message: String
        public var type: String
        public var param: String?
        public var code: String?

        public func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(message, forKey: .message)
            try c.encode(type, forKey: .type)
            try c.encode(param, forKey: .param)  // explicit null, as OpenAI sends
            try c.encode(code, forKey: .code)
        }
    }

    public var error: Body
    /// HTTP status (not part of the JSON body).
    public var status: Int
    /// Seconds for a Retry-After header (429/503), when known (not part of the JSON body).
    public var retryAfter: Int?

    enum CodingKeys: String, CodingKey { case error }

    public init(status: Int, message: String, type: String, param: String? = nil, code: String? = nil) {
        self.status = status
        error = Body(message: message, type: type, param: param, code: code)
    }

    public init(from decoder: any Decoder) throws {
        error = try decoder.container(keyedBy: CodingKeys.self).decode(Body.self, forKey: .error)
        status = 0
    }

    public var description: String { "\(status) \(error.type): \(error.message)" }

    /// 400: a parameter or the JSON is wrong.
    public static func invalidRequest(_ message: String, param: String? = nil) -> OpenAIError {
        OpenAIError(status: 400, message: message, type: "invalid_request_error", param: param)
    }

    /// 404: the model does not exist here.
    public static func modelNotFound(_ model: String) -> OpenAIError {
        OpenAIError(status: 404, message: "The model '\(model)' does not exist", type: "invalid_request_error",
                    param: "model", code: "model_not_found")
    }

    public static func notFound(_ path: String) -> OpenAIError {
        OpenAIError(status: 404, message: "Unknown route: \(path)", type: "invalid_request_error", code: "not_found")
    }

    public static func methodNotAllowed(_ method: String, _ path: String, allowed: String) -> OpenAIError {
        OpenAIError(status: 405, message: "Method \(method) is not allowed on \(path) (use \(allowed))",
                    type: "invalid_request_error", code: "method_not_allowed")
    }

    public static func tooLarge(limit: Int) -> OpenAIError {
        OpenAIError(status: 413, message: "Request body exceeds the limit of \(limit) bytes", type: "invalid_request_error",
                    code: "request_too_large")
    }

    public static func notReady(_ why: String) -> OpenAIError {
        OpenAIError(status: 503, message: why, type: "service_unavailable", code: "not_ready")
    }

    public static func overloaded(_ why: String) -> OpenAIError {
        OpenAIError(status: 429, message: why, type: "rate_limit_exceeded", code: "overloaded")
    }

    public static func server(_ why: String) -> OpenAIError {
        OpenAIError(status: 500, message: why, type: "server_error")
    }
}
