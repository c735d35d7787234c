import ArgumentParser

/// `stam`: the one service binary. Each service subcommand is one process of the topology; the others
/// administer a deployment or run the station on a developer's or installer's machine.
@main
struct Stam: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "stam",
        abstract: "stam: SATEL alarm monitoring station.",
        groupedSubcommands: [
            CommandGroup(name: "Service", subcommands: [  // one process of the deployment each
                WorkerCommand.self, RelayCommand.self, BackendCommand.self, SmsAgentCommand.self, SmsConsumerCommand.self,
                ReceiverCommand.self,
            ]),
            CommandGroup(name: "Administration", subcommands: [
                MigrateCommand.self, SecretsCommand.self, UserCommand.self, StopCommand.self, StartCommand.self, SnapshotCommand.self,
            ]),
            CommandGroup(name: "Development and installation", subcommands: [
                UpCommand.self, DownCommand.self, SimulatorCLI.self, ModemSimCommand.self, PanelCLI.self, Dc09SendCommand.self,
            ]),
        ])
}
