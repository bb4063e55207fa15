import CrawlAndStore
import Testing

@Suite struct LinkExtractorTests {
    @Test func readsQuotedSingleQuotedAndBareHrefs() {
        let html = #"<a href="one">1</a><a href='two'>2</a><a href=three>3</a><a class="x" href = "four" >4</a>"#
        #expect(LinkExtractor.hrefs(in: html) == ["one", "two", "three", "four"])
    }

    @Test func matchesTagsAndAttributesInAnyCase() {
        #expect(LinkExtractor.hrefs(in: #"<A HREF="up">x</A><a\#nhref="nl">y</a>"#) == ["up", "nl"])
    }

    @Test func ignoresOtherTagsAndAnchorsWithoutHref() {
        let html = #"<abbr href="no"></abbr><link href="style.css"><a name="top"></a><area href="map">"#
        #expect(LinkExtractor.hrefs(in: html).isEmpty)
    }

    @Test func skipsCommentsScriptsAndStyles() {
        let html = """
            <!-- <a href="commented"> --><script>document.write('<a href="scripted">')</script>
            <STYLE>a[href="styled"] {}</STYLE><a href="real">real</a>
            """
        #expect(LinkExtractor.hrefs(in: html) == ["real"])
    }

    @Test func decodesCharacterReferences() {
        #expect(LinkExtractor.hrefs(in: #"<a href="?a=1&amp;b=2&amp;c=&lt;3&gt;">q</a>"#) == ["?a=1&b=2&c=<3>"])
    }

    @Test func survivesTruncatedMarkup() {
        #expect(LinkExtractor.hrefs(in: #"<a href="unterminated"#) == ["unterminated"])
        #expect(LinkExtractor.hrefs(in: "<a href=") == [""])  // an empty href: the page itself
        #expect(LinkExtractor.hrefs(in: "<").isEmpty)
        #expect(LinkExtractor.hrefs(in: "<!--").isEmpty)
    }

    @Test func keepsNonASCIIHrefs() {
        #expect(LinkExtractor.hrefs(in: #"<a href="/café">é</a>"#) == ["/café"])
    }
}
