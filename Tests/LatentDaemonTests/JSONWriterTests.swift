import Foundation
import Testing
@testable import LatentDaemon

@Suite struct JSONWriterTests {
    func text(_ w: JSONWriter) -> String { String(decoding: w.bytes, as: UTF8.self) }

    @Test func structureAndCommas() throws {
        var w = JSONWriter()
        let id = Array(#"{"req":[1,"a"]}"#.utf8)
        w.beginObject()
        w.key("model"); w.string("room1")
        w.key("n"); w.int(42)
        w.key("id"); id.withUnsafeBytes { w.raw($0) }
        w.key("resp"); w.doubles([0.25, 0.75])
        w.key("labels"); w.ints([0, -3, Int.max, Int.min])
        w.key("ok"); w.bool(true)
        w.key("no"); w.bool(false)
        w.key("none"); w.null()
        w.key("nested"); w.beginArray(); w.beginObject(); w.endObject(); w.beginArray(); w.endArray(); w.int(1); w.endArray()
        w.key(String("dyn\"key")); w.double(.nan)
        w.endObject()
        #expect(text(w) == #"{"model":"room1","n":42,"id":{"req":[1,"a"]},"resp":[0.25,0.75],"#
            + #""labels":[0,-3,9223372036854775807,-9223372036854775808],"ok":true,"no":false,"none":null,"#
            + #""nested":[{},[],1],"dyn\"key":null}"#)
        #expect(try JSONSerialization.jsonObject(with: Data(w.bytes)) is [String: Any])
    }

    /// Integers of every length, at and around each power of ten, both signs, the
    /// extremes: as `description` writes them.
    @Test func integersOfEveryLength() {
        var values = [0, 1, -1, 9, 10, 11, 99, 100, 101, Int.max, Int.min, Int.max - 1, Int.min + 1]
        var power = 1
        for _ in 0..<18 {
            power *= 10
            for v in [power - 1, power, power + 1, 2 * power - 1, 9 * power + 7] { values += [v, -v] }
        }
        var rng = SeededGenerator(seed: 11)
        for _ in 0..<2_000 { values.append(Int(bitPattern: UInt(rng.next() >> (rng.next() % 64)))) }
        var w = JSONWriter(capacity: 0)
        w.ints(values)
        let written = text(w).dropFirst().dropLast().split(separator: ",").map(String.init)
        #expect(written.count == values.count)
        let wrong = zip(written, values).filter { $0 != String($1) }.prefix(5).map { "\($1) as \($0)" }
        #expect(wrong.isEmpty, "\(wrong)")
    }

    @Test func nonFiniteBecomesNull() {
        var w = JSONWriter()
        w.doubles([.infinity, -.infinity, .nan, 1])
        #expect(text(w) == "[null,null,null,1.0]")
    }

    @Test func stringsAreEscaped() throws {
        let tricky = "q\"b\\s/\n\r\t\u{8}\u{C}\u{1}\u{1F}\u{7F} é 😀"
        var w = JSONWriter()
        w.beginArray()
        w.string(tricky)
        var utf8 = Array(tricky.utf8)
        utf8.withUnsafeMutableBytes { w.string(utf8: UnsafeRawBufferPointer($0)) }
        w.endArray()
        #expect(text(w).contains(#"\u0001\u001f"#))
        let parsed = try JSONSerialization.jsonObject(with: Data(w.bytes)) as? [String]
        #expect(parsed == [tricky, tricky])
    }

    /// A string that needs no escaping is written in one piece; one character that
    /// does, anywhere in it, must still send it through the escaping path.
    @Test func oneEscapeAnywhereIsFound() throws {
        var strings: [String] = []
        for n in 0..<40 {
            let plain = String(repeating: "a", count: n)
            strings.append(plain)
            for i in 0..<n {
                for special in ["\"", "\\", "\n", "\u{1}"] {
                    var chars = Array(plain)
                    chars[i] = Character(special)
                    strings.append(String(chars))
                }
            }
        }
        var w = JSONWriter(capacity: 0)
        w.beginArray()
        for s in strings { w.string(s) }
        w.endArray()
        let parsed = try JSONSerialization.jsonObject(with: Data(w.bytes)) as? [String]
        #expect(parsed == strings)
    }

    /// Every finite double must come back bit for bit. Foundation checks that the output
    /// is JSON; exactness is checked with correctly rounded parsers (the standard
    /// library's and our own), because swift-corelibs-foundation's is not: it reads
    /// 0.30000000000000004 as 0.3000000000000001.
    @Test func doublesRoundTripExactly() throws {
        var rng = SeededGenerator(seed: 11)
        var values: [Double] = [0, -0.0, 0.1, 1e-5, 1e16, .leastNonzeroMagnitude, .greatestFiniteMagnitude, -.leastNormalMagnitude]
        while values.count < 20_000 {
            let v = Double(bitPattern: rng.next())
            if v.isFinite { values.append(v) }
        }
        var w = JSONWriter()
        w.doubles(values)
        let parsed = try #require(try JSONSerialization.jsonObject(with: Data(w.bytes)) as? [NSNumber])
        #expect(parsed.count == values.count)

        let texts = text(w).dropFirst().dropLast().split(separator: ",")
        #expect(zip(texts, values).allSatisfy { Double(String($0))?.bitPattern == $1.bitPattern })
        let ours = texts.map { t in
            Array(t.utf8).withUnsafeBytes { b in var s = JSONScanner(b); return try? s.number() }
        }
        #expect(zip(ours, values).allSatisfy { $0?.bitPattern == $1.bitPattern })
        // Shortest form, not %.17g.
        #expect(texts[2] == "0.1")
    }

    /// A writer that starts empty (the hosts swap one in) grows as it writes, and
    /// writes what a roomy one writes.
    @Test func growsFromEmpty() {
        var small = JSONWriter(capacity: 0), roomy = JSONWriter(capacity: 1 << 16)
        let values = (0..<1000).map { Double($0) / 7 - 50 }
        for w in [0, 1] {
            var writer = w == 0 ? small : roomy
            writer.beginObject()
            for i in 0..<200 { writer.key("k"); writer.int(i); writer.key("name"); writer.string("n\(i)\"q") }
            writer.key("values"); writer.doubles(values)
            writer.endObject()
            if w == 0 { small = writer } else { roomy = writer }
        }
        #expect(small.capacity > 0 && small.capacity < roomy.capacity)
        #expect(small.bytes == roomy.bytes)
        #expect(small.bytes.count > 20_000 && small.bytes.last == UInt8(ascii: "}"))
    }

    /// After the first message the buffer never has to grow again.
    @Test func reuseKeepsCapacity() {
        var w = JSONWriter(capacity: 256)
        let capacity = w.capacity
        let values = [0.30000000000000004, -1.2345678901234567e-300, 42]
        for i in 0..<10_000 {
            w.reset()
            w.beginObject()
            w.key("model"); w.string("room1")
            w.key("n"); w.int(i)
            w.key("resp"); values.withUnsafeBufferPointer { w.doubles($0) }
            w.key("loglik"); w.double(-Double(i) / 7)
            w.endObject()
        }
        #expect(w.capacity == capacity)
        #expect(w.bytes.first == UInt8(ascii: "{") && w.bytes.last == UInt8(ascii: "}"))
    }
}
