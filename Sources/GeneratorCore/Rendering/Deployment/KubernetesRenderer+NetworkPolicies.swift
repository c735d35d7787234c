extension KubernetesRenderer {
    /// The compose networks as NetworkPolicies: nothing in or out by default (but DNS), and pods on one network
    /// reach each other, as containers on one compose network do. A network compose does not make internal in this
    /// environment (`edge`, `alarm_ingress`) also lets its pods be reached from, and reach, addresses outside the
    /// cluster; a macvlan network (the panels' VLAN) lets its pods reach its subnet.
    func networkPolicies(for services: [ServiceDeclaration], in environment: EnvironmentDeclaration) -> [YAMLTree] {
        let env = environment.name
        let used = Set(services.flatMap { $0.networks.map(\.value) })
        let networks = deployment.networks.filter { used.contains($0.name) }
        guard !networks.isEmpty else { return [] }
        func policy(_ name: String, selector: YAMLTree, ingress: [YAMLTree]?, egress: [YAMLTree]?) -> YAMLTree {
            .object([
                "apiVersion": .string("networking.k8s.io/v1"), "kind": .string("NetworkPolicy"),
                "metadata": .object(["name": .string(name), "labels": .object(["app.kubernetes.io/part-of": .string("stam")])]),
                "spec": .object([
                    "podSelector": selector,
                    "policyTypes": .list([.string("Ingress"), .string("Egress")]),
                    "ingress": ingress.map(YAMLTree.list), "egress": egress.map(YAMLTree.list),
                ]),
            ])
        }
        let everyPod = YAMLTree.object([:])
        let dns = YAMLTree.object([
            "to": .list([.object([
                "namespaceSelector": .object(["matchLabels": .object(["kubernetes.io/metadata.name": .string("kube-system")])]),
                "podSelector": .object(["matchLabels": .object(["k8s-app": .string("kube-dns")])]),
            ])]),
            "ports": .list([.object(["protocol": .string("UDP"), "port": .int(53)]), .object(["protocol": .string("TCP"), "port": .int(53)])]),
        ])
        var policies = [
            policy("default-deny", selector: everyPod, ingress: [], egress: []),
            policy("dns", selector: everyPod, ingress: nil, egress: [dns]),
        ]
        for network in networks {
            let label = "stam.io/network-\(Self.dnsName(network.name))"
            let members = YAMLTree.object(["matchLabels": .object([label: .string("true")])])
            var ingress: [YAMLTree] = [.object(["from": .list([.object(["podSelector": members])])])]
            var egress: [YAMLTree] = [.object(["to": .list([.object(["podSelector": members])])])]
            let outside = YAMLTree.object(["ipBlock": .object(["cidr": .string("0.0.0.0/0")])])
            if network.driver.value(in: env) == .macvlan {
                if let subnet = network.subnet { egress.append(.object(["to": .list([.object(["ipBlock": .object(["cidr": .string(subnet)])])])])) }
            } else if network.isInternal?.value(in: env) != true {
                ingress.append(.object(["from": .list([outside])]))
                egress.append(.object(["to": .list([outside])]))
            }
            policies.append(policy("network-\(Self.dnsName(network.name))", selector: members, ingress: ingress, egress: egress))
        }
        if services.contains(where: { wiring.service($0.name).serviceAccount != nil }) {
            // The API server's address depends on the cluster (often outside the pod network): its ports, anywhere.
            // An overlay may narrow the block to the cluster's API server.
            let api = YAMLTree.object([
                "to": .list([.object(["ipBlock": .object(["cidr": .string("0.0.0.0/0")])])]),
                "ports": .list([.object(["protocol": .string("TCP"), "port": .int(443)]), .object(["protocol": .string("TCP"), "port": .int(6443)])]),
            ])
            policies.append(policy("kubernetes-api", selector: .object(["matchLabels": .object([Self.apiClientLabel: .string("true")])]), ingress: nil, egress: [api]))
        }
        return policies
    }
}
