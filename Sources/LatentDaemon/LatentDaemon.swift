import LatentCore
import ZeroMQ
/// The latentd daemon.
public enum LatentDaemon {}
