/// Surviving the loss of a host: budgets for voluntary disruptions and pods spread over hosts.
extension KubernetesRenderer {
    /// A workload with several pods anywhere (`instances` above 1) may lose one at a time to a voluntary disruption
    /// (a node drained): RabbitMQ and Patroni keep their quorum, the backends and relays keep serving. With one pod
    /// (dev) the budget lets a drain through rather than blocking it.
    func disruptionBudget(of service: ServiceDeclaration) -> YAMLTree? {
        guard hasSeveralPods(service) else { return nil }
        return .object([
            "apiVersion": .string("policy/v1"), "kind": .string("PodDisruptionBudget"),
            "metadata": .object(["name": .string(service.name), "labels": Self.labels(service)]),
            "spec": .object(["maxUnavailable": .int(1), "selector": .object(["matchLabels": Self.labels(service)])]),
        ])
    }

    /// More than one pod in some environment (a Job's one-shot pod never counts).
    func hasSeveralPods(_ service: ServiceDeclaration) -> Bool {
        workload(of: service) != .job && service.instances.writtenValues.contains(where: { $0 > 1 })
    }

    /// The pods of one workload on different hosts, so the loss of one host takes one of them. ScheduleAnyway: a
    /// cluster with fewer hosts than pods (a developer's) still runs them all.
    func spread(_ service: ServiceDeclaration) -> YAMLTree {
        .object([
            "maxSkew": .int(1), "topologyKey": .string("kubernetes.io/hostname"), "whenUnsatisfiable": .string("ScheduleAnyway"),
            "labelSelector": .object(["matchLabels": Self.labels(service)]),
        ])
    }
}
