import { describe, expect, it } from "vitest";
import { buildEditionMetadata, EditionMetadataError, parseEditionMetadata } from "../../../core/editions/metadata.ts";
import { statesContent, toLanguageValues } from "../../../core/i18n/language-map.ts";
import { buildCertificateDocument } from "../../../core/metadata/certificate.ts";
import { OperationError } from "../../../core/operations/errors.ts";
import { localizedText, parseCertificateFields } from "../../../core/operations/validate.ts";
import { summarize } from "../../../core/verification/certificate-document.ts";

const CID = "bafkreigh2akiscaildcqabsyg3dfr6chu3fgpregiymsck7e7aqa4s52zy";

function refusal(run: () => unknown): { code: string; message: string; field?: string } {
  try {
    run();
  } catch (err) {
    if (err instanceof OperationError) return { code: err.code, message: err.message, field: err.field };
    throw err;
  }
  throw new Error("not refused");
}

describe("content in several languages", () => {
  it("accepts a string or a language map, canonicalising tags, and refuses bad maps naming the field and tag", () => {
    expect(localizedText("  BSc ", "title", 200)).toBe("BSc");
    expect(localizedText({ "zh-cn": "学士", EN: "BSc" }, "title", 200)).toEqual({ "zh-CN": "学士", en: "BSc" });
    expect(localizedText(undefined, "title", 200)).toBeUndefined();
    expect(refusal(() => localizedText({ "zh CN": "学士" }, "title", 200))).toMatchObject({ code: "BAD_USER_INPUT", field: "title.zh CN" });
    expect(refusal(() => localizedText({ en: " " }, "title", 200))).toMatchObject({ field: "title.en", message: "title.en is required" });
    expect(refusal(() => localizedText({ en: "x".repeat(201) }, "title", 200))).toMatchObject({ field: "title.en" });
    expect(refusal(() => localizedText({ en: 1 }, "title", 200))).toMatchObject({ field: "title.en", message: "title.en must be a string" });
    expect(refusal(() => localizedText({ en: "a", "EN": "b" }, "title", 200))).toMatchObject({ message: "title gives the language en twice" });
    expect(refusal(() => localizedText([], "title", 200))).toMatchObject({ field: "title" });
    expect(refusal(() => localizedText({}, "title", 200, true))).toMatchObject({ message: "title is an empty language map" });
    const eleven = Object.fromEntries(["en", "fr", "de", "es", "it", "pt", "nl", "sv", "da", "fi", "pl"].map((t) => [t, "x"]));
    expect(refusal(() => localizedText(eleven, "title", 200))).toMatchObject({ message: "title has more than 10 languages" });
  });

  it("writes a plain-string certificate exactly as before, and a map whole beside string ERC-721 fields", () => {
    const ctx = {
      issuanceId: "00000000-0000-4000-8000-000000000001",
      requestId: "0x01",
      issuedAt: new Date("2026-01-01T00:00:00Z"),
      recipient: "0x0000000000000000000000000000000000000001",
      institution: { id: "i", name: "Demo University" },
      collection: { id: "c", name: "Diplomas", chainId: 31337, contractAddress: "0x0000000000000000000000000000000000000002" },
    };
    const plain = buildCertificateDocument(parseCertificateFields({ title: "BSc", description: "Distinction" }, "Diplomas"), ctx);
    expect(plain.document).toMatchObject({ name: "BSc", description: "Distinction", certificate: { title: "BSc" } });
    expect(Object.keys(plain.document.certificate as object)).not.toContain("description");

    const title = { "zh-CN": "学士", en: "BSc" };
    const fields = parseCertificateFields({ title, description: { "zh-CN": "优秀", fr: "Mention" } }, "Diplomas");
    const doc = buildCertificateDocument(fields, ctx);
    expect(doc.document).toMatchObject({ name: "BSc", description: "优秀", certificate: { title, description: { "zh-CN": "优秀", fr: "Mention" } } });
    // What a page or credential reads back is the map.
    expect(summarize(doc.document as never)).toMatchObject({ title, description: { "zh-CN": "优秀", fr: "Mention" } });
  });

  it("carries a map as JSON-LD language-tagged strings, supported languages first, and recognises exactly them", () => {
    const values = toLanguageValues({ fr: "Licence", "zh-CN": "学士", en: "Bachelor" });
    expect(values).toEqual([
      { "@value": "Bachelor", "@language": "en" },
      { "@value": "学士", "@language": "zh-CN" },
      { "@value": "Licence", "@language": "fr" },
    ]);
    expect(toLanguageValues("Bachelor")).toBe("Bachelor");
    const map = { en: "Bachelor", "zh-CN": "学士" };
    expect(statesContent(toLanguageValues(map), map)).toBe(true);
    expect(statesContent([{ "@value": "Bachelor", "@language": "en" }], map)).toBe(false);
    expect(statesContent([{ "@value": "Bachelor", "@language": "en" }, { "@value": "硕士", "@language": "zh-CN" }], map)).toBe(false);
    expect(statesContent("Bachelor", "Bachelor")).toBe(true);
  });

  it("reads edition metadata written in several languages, and says at which tag a map is wrong", () => {
    const { document } = buildEditionMetadata({
      name: { "zh-CN": "港湾灯火", en: "Harbour Lights" },
      description: { en: "Lamps", "zh-CN": "灯" },
      images: [{ cid: CID, label: { en: "A lamp", "zh-CN": "一盏灯" } }],
    });
    expect(document.name).toEqual({ "zh-CN": "港湾灯火", en: "Harbour Lights" });
    // Dublin Core repeats an element for each language.
    expect(document.dublinCore.title).toEqual(["Harbour Lights", "港湾灯火"]);
    let error: EditionMetadataError | undefined;
    try {
      parseEditionMetadata({ ...document, name: { en: "", "not a tag": "x" }, description: 7 });
    } catch (err) {
      error = err as EditionMetadataError;
    }
    expect(error?.problems).toEqual(["name.en: must not be empty", "name.not a tag: is not a BCP 47 language tag", "description: must be a string or a language map of strings"]);
  });
});
