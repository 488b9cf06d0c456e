import Testing
@testable import WirecheckCore

@Suite struct TimestampTests {
    @Test func iso8601WithMicroseconds() {
        let stamp = Timestamp(seconds: 1_709_294_400, nanoseconds: 123_456_789)
        #expect(stamp.iso8601 == "2024-03-01T12:00:00.123456+0000")
    }

    @Test func iso8601BeforeEpoch() {
        #expect(Timestamp(seconds: -1, nanoseconds: 0).iso8601 == "1969-12-31T23:59:59.000000+0000")
    }
}

@Suite struct IPAddressTests {
    @Test func v6Compression() {
        #expect(IPAddress("2001:db8::1")?.description == "2001:db8::1")
        #expect(IPAddress("::")?.description == "::")
        #expect(IPAddress("fe80:0:0:0:1:0:0:1")?.description == "fe80::1:0:0:1")
        #expect(IPAddress("::ffff:10.0.0.1")?.description == "::ffff:10.0.0.1")
    }

    @Test func v4RoundTrip() {
        #expect(IPAddress("10.20.1.5") == .v4(0x0A14_0105))
        #expect(IPAddress("256.1.1.1") == nil)
    }
}

@Suite struct JSONWriterTests {
    @Test func escapesControlAndSeparators() {
        let text = JSONWriter.serialize(.string("a\"b\\c\n\u{1}\u{2028}"))
        #expect(text == "\"a\\\"b\\\\c\\n\\u0001\\u2028\"")
    }

    @Test func wireBytesKeepInvalidUTF8AsEscapes() {
        let text = JSONWriter.serialize(.wire([0x41, 0xff, 0xc3, 0xa9, 0x0a, 0xc3]))
        #expect(text == "\"A\\\\xffé\\n\\\\xc3\"")
    }

    @Test func objectKeepsOrder() {
        let object: JSONObject = ["b": 1, "a": .array([true, .null])]
        #expect(JSONWriter.serialize(object) == "{\"b\":1,\"a\":[true,null]}")
    }
}
