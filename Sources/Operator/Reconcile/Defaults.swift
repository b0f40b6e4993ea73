/// Values used where an LLMService leaves a field out (docs/operator.md lists them).
public enum Defaults {
    public static let image = "ghcr.io/scalellm/scalellm:0.1.0"
    public static let enginePort = 8000
    public static let gatewayPort = 8080
    public static let gatewayServicePort = 8080
    public static let gatewayReplicas = 1
    /// The ClusterRole (in manifests/) that lets gateways watch pods; bound per LLMService.
    public static let gatewayClusterRole = "scalellm-gateway"
    public static let configFile = "gateway.yaml"
    public static let configDirectory = "/etc/scalellm"
    public static let modelDirectory = "/models"
    public static let drainSeconds = 60
}
