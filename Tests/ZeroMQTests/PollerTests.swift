import Testing
import ZeroMQ

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

@Suite struct PollerTests {
    @Test func pollsAPipeNextToSockets() throws {
        var fds: [Int32] = [-1, -1]
        #expect(pipe(&fds) == 0)
        defer {
            close(fds[0])
            close(fds[1])
        }
        let directory = try TemporaryDirectory()
        let context = try Context()
        let pull = try context.socket(.pull)
        try pull.bind(directory.ipc("pull"))
        let push = try context.socket(.push)
        try push.connect(directory.ipc("pull"))

        let poller = Poller()
        let pipeToken = poller.add(fileDescriptor: fds[0])
        let pullToken = try poller.add(pull)
        #expect(poller.count == 2)

        // Nothing ready: a zero timeout returns at once, a short one times out.
        #expect(try poller.poll(timeout: 0) == 0)
        #expect(try poller.poll(timeout: 20) == 0)
        #expect(!poller.isReadable(pipeToken) && !poller.isReadable(pullToken))

        // A byte in the pipe (what a signal handler writes) wakes the poll.
        var byte: UInt8 = 1
        #expect(write(fds[1], &byte, 1) == 1)
        #expect(try poller.poll(timeout: 5_000) == 1)
        #expect(poller.isReadable(pipeToken))
        #expect(!poller.isReadable(pullToken))
        #expect(read(fds[0], &byte, 1) == 1)

        // A message on the socket wakes it the same way.
        try push.send("work")
        #expect(try poller.poll(timeout: 5_000) == 1)
        #expect(poller.isReadable(pullToken))
        #expect(!poller.isReadable(pipeToken))
        #expect(poller.events(for: pullToken) == .readable)
        #expect(try pull.receiveMultipart(dontWait: true)?.strings == ["work"])

        // Both at once, polled again with the same poller.
        try push.send("more")
        #expect(write(fds[1], &byte, 1) == 1)
        var readyBoth = false
        let deadline = Deadline()
        while !readyBoth && !deadline.hasPassed {
            _ = try poller.poll(timeout: 100)
            readyBoth = poller.isReadable(pipeToken) && poller.isReadable(pullToken)
        }
        #expect(readyBoth)
    }

    @Test func writableInterestCanBeToggled() throws {
        let directory = try TemporaryDirectory()
        let context = try Context()
        let pull = try context.socket(.pull)
        try pull.bind(directory.ipc("pull"))
        let push = try context.socket(.push)
        try push.connect(directory.ipc("pull"))

        let poller = Poller()
        let token = try poller.add(push, events: [])
        #expect(try poller.poll(timeout: 0) == 0)
        poller.setEvents(.writable, for: token)
        #expect(try poller.poll(timeout: 5_000) == 1)
        #expect(poller.isWritable(token))
        poller.removeAll()
        #expect(poller.count == 0)
    }
}
