import Foundation

/// Timestamps in the API's formats: RFC 3339 in UTC, with seconds (`Time`) or microseconds (`MicroTime`).
public enum KubeTime {
    public static func seconds(_ date: Date) -> String {
        let f = ISO8601DateFormatter()
        f.timeZone = TimeZone(identifier: "UTC")
        f.formatOptions = [.withInternetDateTime]
        return f.string(from: date)
    }

    public static func micro(_ date: Date) -> String {
        let whole = floor(date.timeIntervalSince1970)
        let micros = Int(((date.timeIntervalSince1970 - whole) * 1_000_000).rounded(.down))
        let base = seconds(Date(timeIntervalSince1970: whole)).dropLast() // drop "Z"
        return base + "." + String(format: "%06d", micros) + "Z"
    }
}
