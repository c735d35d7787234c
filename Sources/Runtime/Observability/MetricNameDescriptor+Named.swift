import Prometheus

extension MetricNameDescriptor {
    /// A metric's whole name in one piece (no namespace or unit parts), so it can be found with grep next to the
    /// alert rules that use it.
    public static func named(_ name: String, _ help: String) -> MetricNameDescriptor {
        MetricNameDescriptor(metricName: name, unitName: "", helpText: help)
    }
}
