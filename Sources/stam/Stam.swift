import ArgumentParser

/// `stam`: the one service binary. Each subcommand is one process of the topology.
@main
struct Stam: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "stam",
        abstract: "stam: SATEL alarm monitoring station.",
        subcommands: [
            MigrateCommand.self, RelayCommand.self, SimulatorCLI.self, PanelCLI.self, UpCommand.self, DownCommand.self,
            SecretsCommand.self, BackendCommand.self, UserCommand.self, WorkerCommand.self,
            SmsAgentCommand.self, SmsConsumerCommand.self, ModemSimCommand.self, StopCommand.self, StartCommand.self,
        ])
}
