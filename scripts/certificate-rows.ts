import { parse } from "csv-parse/sync";

/** One certificate as a bulk file states it, with the line a person would look for it on. */
export interface CertificateRow {
  line: number;
  item: {
    recipient: string;
    title?: string;
    recipientName?: string;
    description?: string;
    validUntil?: string;
    attributes?: { name: string; value: string }[];
    idempotencyKey?: string;
  };
}

/**
 * Reads a bulk file: CSV with a header row (recipient, title, recipientName, description, validUntil (ISO-8601),
 * idempotencyKey, and `attr:<Name>` per named field shown on the certificate), or a JSON array of such objects.
 */
export function readCertificateRows(raw: Buffer, format: "csv" | "json"): CertificateRow[] {
  const records: Record<string, string>[] = format === "json" ? JSON.parse(raw.toString("utf8")) : parse(raw, { columns: true, bom: true, skip_empty_lines: true, trim: true });
  return records.map((r, i) => {
    const attributes = Object.entries(r)
      .filter(([k, v]) => k.startsWith("attr:") && v !== "")
      .map(([k, v]) => ({ name: k.slice(5), value: String(v) }));
    const text = (k: string) => (r[k] === undefined || r[k] === "" ? undefined : String(r[k]));
    return {
      // Line in the file as a person counts it: the header is line 1.
      line: format === "json" ? i + 1 : i + 2,
      item: {
        recipient: text("recipient") ?? "",
        title: text("title"),
        recipientName: text("recipientName"),
        description: text("description"),
        validUntil: text("validUntil"),
        attributes: attributes.length ? attributes : undefined,
        idempotencyKey: text("idempotencyKey"),
      },
    };
  });
}
