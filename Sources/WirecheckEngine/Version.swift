public enum WirecheckVersion {
    public static let current = "0.1.0"
}
