import Testing
@testable import LatentDaemon

@Suite struct TopicRoutesTests {
    func matches(_ routes: TopicRoutes, _ topic: String) -> [Int] {
        var found: [Int] = []
        let any = Array(topic.utf8).withUnsafeBytes { t in routes.forEachMatch(t) { found.append($0) } }
        #expect(any == !found.isEmpty)
        return found
    }

    @Test func everyPrefixIsMatchedInOrder() {
        let routes = TopicRoutes(["sensors/", "sensors/room1", "other", ""].map { Array($0.utf8) })
        #expect(matches(routes, "sensors/room1/t") == [0, 1, 3])
        #expect(matches(routes, "sensors/hall") == [0, 3])
        #expect(matches(routes, "oth") == [3], "a topic shorter than a prefix does not match it")
        #expect(matches(routes, "") == [3])
        let none = TopicRoutes(["a", "bc"].map { Array($0.utf8) })
        #expect(matches(none, "b").isEmpty && matches(none, "xa").isEmpty)
        #expect(Array("bcd".utf8).withUnsafeBytes { none.firstMatch($0) } == 1)
        #expect(Array("zz".utf8).withUnsafeBytes { none.firstMatch($0) } == nil)
    }
}
