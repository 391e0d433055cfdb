import { describe, expect, it } from "vitest";
import { buildCertificateDocument, CERTIFICATE_SCHEMA_V1, withholdPersonalData } from "../../../core/metadata/certificate.ts";
import { commitmentDigest } from "../../../core/metadata/personal-data.ts";
import { isHallmarkDocument, summarize } from "../../../core/verification/certificate-document.ts";
import { verifyCertificate } from "../../../core/verification/index.ts";

const ctx = {
  issuanceId: "0b6d7f3e-6a36-4a3f-9d0e-6c1a5d2b9e11",
  requestId: "0x" + "ab".repeat(32),
  issuedAt: new Date("2026-01-01T00:00:00Z"),
  recipient: "0x000000000000000000000000000000000000dEaD",
  institution: { id: "did:web:example.edu", name: "Demo University" },
  collection: { id: "c1", name: "Degrees", chainId: 31337, contractAddress: "0x00000000000000000000000000000000000000C0" },
};
const fields = { title: "BSc", recipientName: "Ada Lovelace", attributes: [{ name: "Grade", value: "First" }, { name: "Student number", value: "S-1815" }] };

describe("salted commitments to personal data", () => {
  it("keep every personal value out of the document's bytes, with a fresh 128-bit salt per field", () => {
    const a = withholdPersonalData(fields, new Set(["Student number"]));
    const b = withholdPersonalData(fields, new Set(["Student number"]));
    const doc = buildCertificateDocument(a.fields, ctx);
    const text = new TextDecoder().decode(doc.bytes);
    expect(text).not.toContain("Ada Lovelace");
    expect(text).not.toContain("S-1815");
    expect(text).toContain("First");
    expect(doc.document.$schema).toBe("https://hallmark.dev/schemas/certificate/v2");
    expect(a.disclosures.map((d) => d.path)).toEqual(["recipientName", "attributes/Student number"]);
    for (const d of a.disclosures) expect(Buffer.from(d.salt, "base64url").length).toBeGreaterThanOrEqual(16);
    // The same name twice gives unrelated digests: a digest says nothing about who it is.
    expect(a.fields.recipientName).not.toEqual(b.fields.recipientName);
    expect(a.fields.recipientName).toEqual({ digest: commitmentDigest(a.disclosures[0]!.salt, "Ada Lovelace") });
  });

  it("are opened only by the right salt and value", () => {
    const { fields: committed, disclosures } = withholdPersonalData(fields, new Set(["Student number"]));
    const doc = buildCertificateDocument(committed, ctx).document;
    if (!isHallmarkDocument(doc)) throw new Error("not a Hallmark document");
    expect(summarize(doc)).toMatchObject({ recipientName: undefined, recipientNameStatus: "NOT_DISCLOSED", attributes: [{ name: "Grade", value: "First" }] });
    expect(summarize(doc, disclosures)).toMatchObject({
      recipientName: "Ada Lovelace",
      recipientNameStatus: "MATCHES",
      attributes: [{ name: "Grade", value: "First" }, { name: "Student number", value: "S-1815" }],
    });
    const forged = disclosures.map((d) => ({ ...d, value: "Eve" }));
    expect(summarize(doc, forged)).toMatchObject({ recipientName: undefined, recipientNameStatus: "DOES_NOT_MATCH", personal: [{ name: "Student number", status: "DOES_NOT_MATCH" }] });
  });

  it("leave v1 documents (names in clear) readable and verifiable", async () => {
    const v1 = { ...buildCertificateDocument(fields, ctx).document, $schema: CERTIFICATE_SCHEMA_V1 };
    expect(isHallmarkDocument(v1)).toBe(true);
    if (!isHallmarkDocument(v1)) return;
    expect(summarize(v1)).toMatchObject({ recipientName: "Ada Lovelace", recipientNameStatus: "PUBLIC" });
    const result = await verifyCertificate({ document: new TextEncoder().encode(JSON.stringify(v1)) }, { chains: () => undefined, offline: true });
    expect(result.verdict).toBe("UNKNOWN");
    expect(result.certificate.recipientName).toBe("Ada Lovelace");
  });
});
