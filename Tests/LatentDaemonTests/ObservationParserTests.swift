import Testing
@testable import LatentDaemon

@Suite struct ObservationParserValidTests {
    let parser = ObservationParser(dimensions: 2, maxObservationsPerMessage: 100)

    @Test func singleObservation() throws {
        let (m, values) = try parser.parse(#"{"x":[1.5,-2]}"#)
        #expect(values == [1.5, -2])
        #expect(m.count == 1 && !m.isBatch && m.learn && m.idRange == nil)
        #expect(m.seq == nil && !m.end && !m.reset)
    }

    @Test func whitespaceAnywhereAndAnyKeyOrder() throws {
        let text = " \n\t{ \"learn\" :\tfalse ,\r\n \"x\" : [ 1 , 2e1 ] , \"id\" : 7 } \n"
        let (m, values) = try parser.parse(text)
        #expect(values == [1, 20])
        #expect(!m.learn)
        #expect(m.idRange.map { Array(Array(text.utf8)[$0]) } == Array("7".utf8))
    }

    @Test func batchRowMajor() throws {
        let (m, values) = try parser.parse(#"{"xs":[[1,2],[3,4],[5,6]],"learn":true}"#)
        #expect(m.count == 3 && m.isBatch && m.learn)
        #expect(values == [1, 2, 3, 4, 5, 6])
    }

    @Test(arguments: [
        #""abc""#, #""quote \" and \\ and \u00e9 \ud83d\ude00""#, "-0.5e-3", "null", "true", "false",
        "[]", "{}", #"[1,"two",{"three":[3,null]},[]]"#, #"{"a":{"b":{"c":[1,2,{"d":"e"}]}}}"#,
        "\"h\u{E9}llo \u{1F600}\"",
    ])
    func idOfAnyTypeIsReturnedVerbatim(id: String) throws {
        let text = #"{"id":"# + id + #","x":[0,0]}"#
        let (m, _) = try parser.parse(text)
        let range = try #require(m.idRange)
        #expect(String(decoding: Array(text.utf8)[range], as: UTF8.self) == id)
    }

    @Test func idNestingUpToTheLimit() throws {
        let depth = ObservationParser.maxIDDepth
        let ok = String(repeating: "[", count: depth) + String(repeating: "]", count: depth)
        #expect(parseError(parser, #"{"id":"# + ok + #","x":[1,2]}"#) == nil)
        let deep = "[" + ok + "]"
        #expect(parseError(parser, #"{"id":"# + deep + #","x":[1,2]}"#)
            == .tooDeep(offset: 6 + depth, limit: depth))
        // Hostile nesting is cut off at the limit, not by the stack.
        let hostile = String(repeating: "[", count: 100_000)
        #expect(parseError(parser, #"{"id":"# + hostile) != nil)
    }

    @Test func scalarsWhenOneDimensional() throws {
        let p = ObservationParser(dimensions: 1, maxObservationsPerMessage: 10)
        #expect(try p.parse(#"{"x":2.5}"#).1 == [2.5])
        #expect(try p.parse(#"{"x":[2.5]}"#).1 == [2.5])
        #expect(try p.parse(#"{"xs":[1,[2],3]}"#).1 == [1, 2, 3])
        #expect(parseError(parser, #"{"x":2.5}"#)
            == .wrongType(path: "x", expected: "an array of 2 numbers", found: "a number"))
    }

    @Test func sequenceKeys() throws {
        let p = ObservationParser(dimensions: 2, maxObservationsPerMessage: 10, acceptsSequenceKeys: true)
        let text = #"{"seq":"machine-7","x":[1,2],"end":true,"reset":false}"#
        let (m, _) = try p.parse(text)
        #expect(m.end && !m.reset)
        let seq = try #require(m.seq)
        #expect(Array(text.utf8).withUnsafeBytes { seq.string(in: $0) } == "machine-7")
        #expect(seq == JSONStringValue(content: 8..<17, escaped: false))

        let escapedText = #"{"seq":"a\"b\u00e9\n","x":[1,2],"reset":true}"#
        let (escaped, _) = try p.parse(escapedText)
        #expect(escaped.seq?.escaped == true && escaped.reset)
        #expect(Array(escapedText.utf8).withUnsafeBytes { escaped.seq?.string(in: $0) } == "a\"b\u{E9}\n")

        #expect(parseError(parser, #"{"seq":"s","x":[1,2]}"#) == .unknownKey("seq", offset: 1))
        #expect(parseError(p, #"{"seq":5,"x":[1,2]}"#)
            == .wrongType(path: "seq", expected: "a string", found: "a number"))
    }

    @Test func escapedKeysAreTheSameKeys() throws {
        #expect(try parser.parse(#"{"\u0078":[1,2]}"#).1 == [1, 2])
        #expect(parseError(parser, #"{"x":[1,2],"\u0078":[1,2]}"#) == .duplicateKey("x", offset: 11))
    }

    @Test func numberForms() throws {
        let (_, v) = try parser.parse(#"{"xs":[[0,-0],[1E2,1e-2],[123.456e+1,-0.0e0],[9007199254740993,1e22],[12e25,5e-324]]}"#)
        #expect(v == [0, 0, 100, 0.01, 1234.56, 0, 9007199254740992, 1e22, 1.2e26, Double.leastNonzeroMagnitude])
        #expect(v[1].sign == .minus && v[5].sign == .minus)
    }

    @Test func categoricalSymbolsAndIndices() throws {
        let p = ObservationParser(symbols: ["H", "T", "\u{E9}t\u{E9}"], maxObservationsPerMessage: 10)
        #expect(try p.parseSymbols(#"{"x":"T"}"#).1 == [1])
        #expect(try p.parseSymbols(#"{"x":2}"#).1 == [2])
        #expect(try p.parseSymbols(#"{"xs":["T",0,"H",1.0,"\u0048","été"],"seq":"s"}"#).1 == [1, 0, 0, 1, 0, 2])
        #expect(symbolError(p, #"{"x":"Z"}"#) == .unknownSymbol(path: "x", symbol: "Z"))
        #expect(symbolError(p, #"{"xs":["H",3]}"#) == .invalidSymbolIndex(path: "xs[1]", value: "3", count: 3))
        #expect(symbolError(p, #"{"x":1.5}"#)?.description == "x must be a symbol index in 0..<3, got 1.5")
        #expect(symbolError(p, #"{"x":-1}"#) != nil)
        #expect(symbolError(p, #"{"x":[0]}"#)
            == .wrongType(path: "x", expected: "a symbol index or name", found: "an array"))
    }

    @Test func largeAlphabetLookup() throws {
        let names = (0..<1000).map { "sym\($0)" }
        let p = ObservationParser(symbols: names, maxObservationsPerMessage: 1000)
        let text = #"{"xs":["# + (0..<1000).reversed().map { "\"sym\($0)\"" }.joined(separator: ",") + "]}"
        #expect(try p.parseSymbols(text).1 == (0..<1000).reversed().map { Int32($0) })
    }

    /// The buffer is reused: parsing many messages into it never grows its storage, and
    /// it holds exactly each message's values whatever the message before held (rows
    /// are written over the previous message's), errors included.
    @Test func reusesCallerBuffer() throws {
        var values: [Double] = []
        values.reserveCapacity(2 * 100)
        let capacity = values.capacity
        let cases: [(String, [Double]?)] = [
            (#"{"x":[1,2]}"#, [1, 2]),
            (#"{"xs":[[1,2],[3,4],[5,6]],"id":"r-1"}"#, [1, 2, 3, 4, 5, 6]),
            (#"{"x":[ 7 , 8 ]}"#, [7, 8]),  // the general array loop
            (#"{"xs":[[9,10],[11,12]]}"#, [9, 10, 11, 12]),
            (#"{"xs":[[1,2],[3]]}"#, nil),
            (#"{"x":[1e300,-2.5e-300],"learn":false}"#, [1e300, -2.5e-300]),
            (#"{"xs":[[1,2],[3,4],[5,"six"]]}"#, nil),
            (#"{"x":[5,6]}"#, [5, 6]),
        ]
        for i in 0..<10_000 {
            let (text, expected) = cases[i % cases.count]
            let result = Array(text.utf8).withUnsafeBytes { payload in
                Result { () throws(ObservationError) in try parser.parse(payload, into: &values) }
            }
            if let expected {
                let m = try result.get()
                #expect(values == expected && values.count == 2 * m.count, "\(text)")
            } else {
                #expect(throws: ObservationError.self) { try result.get() }
            }
        }
        #expect(values.capacity == capacity)
    }
}

@Suite struct ObservationParserErrorTests {
    let parser = ObservationParser(dimensions: 2, maxObservationsPerMessage: 3)

    @Test func messagesNameTheProblem() {
        let cases: [(String, String)] = [
            (#"{"x":[1,2,3]}"#, "x must have 2 values, got 3"),
            (#"{"x":[]}"#, "x must have 2 values, got 0"),
            (#"{"xs":[[1,2],[3,4],[5]]}"#, "xs[2] must have 2 values, got 1"),
            (#"{"x":[1,1e400]}"#, "x[1] is not a finite number"),
            (#"{"xs":[[1,2],[-1e999,0]]}"#, "xs[1][0] is not a finite number"),
            (#"{"x":[1,"2"]}"#, "x[1] must be a number, got a string"),
            (#"{"x":[null,2]}"#, "x[0] must be a number, got null"),
            (#"{"x":{"a":1}}"#, "x must be an array of 2 numbers, got an object"),
            (#"{"xs":[1,2]}"#, "xs[0] must be an array of 2 numbers, got a number"),
            (#"{"xs":{}}"#, "xs must be an array of observations, got an object"),
            (#"{"id":1}"#, #"missing "x" or "xs""#),
            ("{}", #"missing "x" or "xs""#),
            (#"{"x":[1,2],"xs":[[1,2]]}"#, #""x" and "xs" cannot both be given"#),
            (#"{"xs":[[1,2]],"x":[1,2]}"#, #""x" and "xs" cannot both be given"#),
            (#"{"xs":[ ]}"#, #""xs" is empty"#),
            (#"{"xs":[[1,2],[1,2],[1,2],[1,2]]}"#, "too many observations: more than 3 in one message"),
            (#"{"x":[1,2]} x"#, "unexpected data after the JSON object at byte 12"),
            (#"{"x":[1,2]}{}"#, "unexpected data after the JSON object at byte 11"),
            (#"{"x":[1,2],"foo":1}"#, #"unknown key "foo" at byte 11"#),
            (#"{"x":[1,2],"x":[1,2]}"#, #"duplicate key "x" at byte 11"#),
            (#"{"x":[1,2],"learn":1}"#, "learn must be true or false, got a number"),
            (#"{"x":[1,2],"learn":"no"}"#, "learn must be true or false, got a string"),
            (#"{"x":[1,2]"#, "malformed JSON at byte 10: unexpected end of input, expected ',' or '}'"),
            (#"{"x" [1,2]}"#, "malformed JSON at byte 5: expected ':'"),
            (#"[1,2]"#, "malformed JSON at byte 0: expected '{'"),
            ("", "empty payload"),
            ("  ", "empty payload"),
            (#"{"x":[1,2],}"#, "malformed JSON at byte 11: expected a key string"),
            (#"{"x":[1,2,]}"#, "malformed JSON at byte 10: expected a value"),
            (#"{"x":[1,2],"id":tru}"#, "malformed JSON at byte 16: invalid literal"),
            (#"{"x":[1,2],"id":[1e999]}"#, "malformed JSON at byte 17: number out of range"),
            (#"{"x":[1,2],"id":"a"#, "malformed JSON at byte 16: unterminated string"),
            ("{\"x\":[1,2],\"id\":\"a\u{1}\"}", "malformed JSON at byte 18: control character in string"),
            (#"{"x":[1,2],"id":"\ud800"}"#, "malformed JSON at byte 17: unpaired surrogate"),
            (#"{"x":[1,2],"id":"\udc00\ud800"}"#, "malformed JSON at byte 17: unpaired surrogate"),
            (#"{"x":[1,2],"id":"\x"}"#, "malformed JSON at byte 17: invalid escape"),
            (#"{"x":[1,2],"id":"\u12g4"}"#, #"malformed JSON at byte 17: invalid \u escape"#),
        ]
        for (text, message) in cases {
            #expect(parseError(parser, text)?.description == message, "\(text)")
        }
    }

    @Test(arguments: ["01", "-01", "+1", ".5", "1.", "-", "1e", "1e+", "-.5", "NaN", "nan", "Infinity",
                      "-Infinity", "inf", "0x10", "1.e5", "١"])
    func rejectsNonJSONNumbers(number: String) {
        let error = parseError(parser, #"{"x":["# + number + ",1]}")
        #expect(error != nil)
        guard case .malformed = error else { Issue.record("\(number): \(String(describing: error))"); return }
    }

    @Test func rejectsInvalidUTF8() {
        for bad: [UInt8] in [[0xC0, 0x80], [0xED, 0xA0, 0x80], [0xF4, 0x90, 0x80, 0x80], [0xE2, 0x82], [0xFF], [0x80]] {
            let payload = Array(#"{"x":[1,2],"id":""#.utf8) + bad + Array(#""}"#.utf8)
            var values: [Double] = []
            let error = payload.withUnsafeBytes { p in
                Result { () throws(ObservationError) in try parser.parse(p, into: &values) }
            }
            guard case .failure(.malformed(_, "invalid UTF-8")) = error else {
                Issue.record("\(bad): \(error)"); continue
            }
        }
    }

    @Test func binaryDecodeErrorsAreDescriptive() {
        #expect(ObservationError.partialObservation(byteCount: 20, multiple: 16).description
            == "payload of 20 bytes is not a whole number of observations (expected a multiple of 16 bytes)")
        #expect(ObservationError.nonFiniteValue(index: 5, dimensions: 2, kind: .nan).description
            == "value 5 (observation 2, component 1) is NaN")
    }
}
