import Testing
@testable import LatentDaemon

/// `ReflectiveHeapBytes.reachable(from:)` counts every array a value holds, however it is
/// held (directly, nested in arrays, behind optionals, in objects and their
/// superclasses), each object once even when it is shared or refers to itself, and
/// nothing for numbers and strings. The expected figures come from the arrays' own
/// capacities, not from the walker.
@Suite struct HeapBytesTests {
    class Base {
        var inherited: [UInt8] = Array(repeating: 1, count: 100)
    }

    final class Node: Base {
        var values: [Double]
        var next: Node?
        init(_ n: Int) {
            values = [Double](repeating: 0, count: n)
            super.init()
        }
    }

    struct Inner {
        var codes: [Int32] = [1, 2, 3, 4, 5]
        var rows: [[Double]] = [[1, 2, 3], [4, 5]]
        var blocks: [SIMD4<Double>] = [.zero, .one]
    }

    struct Outer {
        var a = [Double](repeating: 1, count: 40)
        var inner: Inner? = Inner()
        var none: Inner? = nil
        var node = Node(16)
        var names = ["alpha", "beta"]
        var count = 7
        var label = "not an array"
    }

    @Test func countsEveryArrayOnceWhereverItIsHeld() {
        let value = Outer()
        value.node.next = value.node  // a cycle
        let shared = value.node
        let inner = value.inner!
        let expected = value.a.capacity * 8
            + inner.codes.capacity * 4
            + inner.rows.capacity * MemoryLayout<[Double]>.stride + inner.rows.reduce(0) { $0 + $1.capacity * 8 }
            + inner.blocks.capacity * 32
            + shared.values.capacity * 8 + shared.inherited.capacity
            + value.names.capacity * MemoryLayout<String>.stride
        #expect(ReflectiveHeapBytes.reachable(from: value) == expected)
        // The same object held twice is counted once.
        struct Twice { var first: Node; var second: Node }
        #expect(ReflectiveHeapBytes.reachable(from: Twice(first: shared, second: shared))
            == shared.values.capacity * 8 + shared.inherited.capacity)
    }

    @Test func aTypeThatReportsItsOwnBytesIsNotWalked() {
        struct Reported: ReportsHeapBytes {
            var huge = [Double](repeating: 0, count: 1000)
            var heapBytes: Int { 12 }
        }
        struct Holder { var reported = Reported(); var own: [Double] = [1, 2] }
        let holder = Holder()
        #expect(ReflectiveHeapBytes.reachable(from: holder) == 12 + holder.own.capacity * 8)
    }
}
