/// A configuration file rendered for each environment that runs its service, written once for every group of
/// environments whose files are the same: a STAGE `like: prod` mounts prod's Patroni and Prometheus files,
/// and gets a file of its own only where something in it differs (nginx's server name).
struct EnvironmentFiles {
    struct Output {
        /// The environments that mount this file, in declaration order.
        var environments: [String]
        var path: String
        var contents: String
    }

    /// - Parameters:
    ///   - path: the file's path, given the environment it is named after; nil when every environment shares it.
    ///   - render: the file for an environment, its header naming `label` (the environments that share it).
    ///     Files are compared with an empty label, so the header alone never splits a group.
    static func group(_ environments: [String], path: (String?) -> String,
                      render: (_ environment: String, _ label: String) -> String?) -> [Output] {
        var groups: [(environments: [String], key: String)] = []
        for environment in environments {
            guard let key = render(environment, "") else { continue }
            if let index = groups.firstIndex(where: { $0.key == key }) {
                groups[index].environments.append(environment)
            } else {
                groups.append(([environment], key))
            }
        }
        return groups.compactMap { group in
            let first = group.environments[0]
            guard let contents = render(first, group.environments.joined(separator: ", ")) else { return nil }
            return Output(environments: group.environments, path: path(groups.count == 1 ? nil : first), contents: contents)
        }
    }
}
