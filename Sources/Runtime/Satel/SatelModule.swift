/// The SATEL INTEGRA integration protocol (ETHM-1 / ETHM-1 Plus): codec, commands, client and simulator.
public enum SatelModule {}
