import CZeroMQ
/// A thin wrapper over libzmq.
public enum ZeroMQ {}
