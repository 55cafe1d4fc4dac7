import CZeroMQ

/// The libzmq socket patterns this wrapper supports.
public enum SocketType: Sendable, Hashable, CaseIterable, CustomStringConvertible {
    case pub, sub, req, rep, pair, push, pull, dealer, router, xpub, xsub

    /// The `ZMQ_*` constant passed to `zmq_socket`.
    public var zmqValue: Int32 {
        switch self {
        case .pub: ZMQ_PUB
        case .sub: ZMQ_SUB
        case .req: ZMQ_REQ
        case .rep: ZMQ_REP
        case .pair: ZMQ_PAIR
        case .push: ZMQ_PUSH
        case .pull: ZMQ_PULL
        case .dealer: ZMQ_DEALER
        case .router: ZMQ_ROUTER
        case .xpub: ZMQ_XPUB
        case .xsub: ZMQ_XSUB
        }
    }

    /// The type for a `ZMQ_*` constant, or nil for types not listed here.
    public init?(zmqValue: Int32) {
        guard let type = Self.allCases.first(where: { $0.zmqValue == zmqValue }) else {
            return nil
        }
        self = type
    }

    public var description: String {
        switch self {
        case .pub: "PUB"
        case .sub: "SUB"
        case .req: "REQ"
        case .rep: "REP"
        case .pair: "PAIR"
        case .push: "PUSH"
        case .pull: "PULL"
        case .dealer: "DEALER"
        case .router: "ROUTER"
        case .xpub: "XPUB"
        case .xsub: "XSUB"
        }
    }
}
