import { describe, expect, it } from "vitest";
import { readImageHeader } from "../../../core/editions/image-size.ts";
import { buildEditionMetadata, EditionMetadataError, parseEditionMetadata } from "../../../core/editions/metadata.ts";
import { encodePng } from "../../../scripts/dev/demo-edition.ts";

const CID = "bafkreigh2akiscaildcqabsyg3dfr6chu3fgpregiymsck7e7aqa4s52zy";

describe("edition metadata", () => {
  it("builds a document the parser reads back, with Dublin Core values as lists", () => {
    const { bytes, document } = buildEditionMetadata({
      name: "Harbour Lights",
      description: "A keepsake.",
      images: [{ cid: CID, label: "The harbour", width: 10, height: 20, mediaType: "image/png" }],
      dublinCore: { creator: "Demo Museum", subject: ["Harbours", "Fishing"] },
    });
    expect(parseEditionMetadata(bytes)).toEqual(document);
    expect(document.image).toBe(`ipfs://${CID}`);
    expect(document.dublinCore).toEqual({ title: ["Harbour Lights"], creator: ["Demo Museum"], subject: ["Harbours", "Fishing"], description: ["A keepsake."] });
  });

  it("lists every problem of a malformed document at once, each with its path", () => {
    let error: EditionMetadataError | undefined;
    try {
      parseEditionMetadata({ $schema: "https://hallmark.dev/schemas/edition/v1", name: "", image: "https://example.org/a.png", images: [{ uri: `ipfs://${CID}`, label: "x", width: 5 }], dublinCore: { publisher: "x" } });
    } catch (err) {
      error = err as EditionMetadataError;
    }
    expect(error).toBeInstanceOf(EditionMetadataError);
    expect(error!.problems).toEqual([
      "name: must not be empty",
      "description: is required",
      "image: must be an ipfs://<cid> URI naming a valid CID",
      "images[0]: width and height go together: give both or neither",
      expect.stringMatching(/^dublinCore: unknown Dublin Core element publisher \(known: title, creator/),
    ]);
    expect(() => parseEditionMetadata(new TextEncoder().encode("{"))).toThrow(/not UTF-8 JSON/);
  });
});

describe("image headers", () => {
  it("reads a PNG's size from IHDR", () => {
    expect(readImageHeader(encodePng(37, 11, () => [1, 2, 3]))).toEqual({ mediaType: "image/png", width: 37, height: 11 });
  });

  it("reads a JPEG's size from its start-of-frame marker, past other segments", () => {
    const app0 = [0xff, 0xe0, 0x00, 0x10, ...new Array(14).fill(0)];
    const dht = [0xff, 0xc4, 0x00, 0x04, 0x00, 0x00]; // C4 is in the SOF range but is not a frame
    const sof2 = [0xff, 0xc2, 0x00, 0x11, 0x08, 0x01, 0x2c, 0x02, 0x58, 0x03, ...new Array(9).fill(0)]; // 600 × 300
    expect(readImageHeader(new Uint8Array([0xff, 0xd8, ...app0, ...dht, ...sof2]))).toEqual({ mediaType: "image/jpeg", width: 600, height: 300 });
    expect(readImageHeader(new Uint8Array([0xff, 0xd8, ...app0]))).toEqual({ mediaType: "image/jpeg" });
  });

  it("reads a GIF's logical screen size, and knows nothing of other bytes", () => {
    expect(readImageHeader(new Uint8Array([0x47, 0x49, 0x46, 0x38, 0x39, 0x61, 0x20, 0x01, 0x10, 0x00]))).toEqual({ mediaType: "image/gif", width: 288, height: 16 });
    expect(readImageHeader(new TextEncoder().encode("{}"))).toEqual({});
  });
});
